// Helpers of the generated training entries.
#include "attnrt/TrainCall.h"

#include <stdexcept>

namespace attnrt {

namespace {
std::string shapeStr(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}
} // namespace

Tensor teacherTokens(const Tensor &target, int32_t bos) {
  if (target.dtype() != DType::I32 || target.rank() != 2)
    throw std::invalid_argument("teacher forcing needs int32 target tokens [B, T], got " +
                                shapeStr(target.shape()));
  int64_t batch = target.dim(0), steps = target.dim(1);
  Tensor tokens(DType::I32, {batch, steps});
  const int32_t *in = target.data<int32_t>();
  int32_t *out = tokens.data<int32_t>();
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < steps; ++t)
      out[b * steps + t] = t == 0 ? bos : in[b * steps + t - 1];
  return tokens;
}

void checkGradientStore(const std::string &where, const ParamStore &params,
                        const ParamStore &grads) {
  for (const std::string &name : params.names()) {
    if (!grads.contains(name))
      throw std::invalid_argument(where + ": the gradient store has no '" + name +
                                  "' (make it with Model::gradients())");
    const Tensor &g = grads.get(name);
    const Tensor &p = params.get(name);
    if (g.dtype() != DType::F32 || g.shape() != p.shape())
      throw std::invalid_argument(where + ": gradient '" + name + "' has shape " +
                                  shapeStr(g.shape()) + ", the parameter " +
                                  shapeStr(p.shape()));
  }
  if (grads.size() != params.size())
    throw std::invalid_argument(where + ": the gradient store has " +
                                std::to_string(grads.size()) + " tensors, the model " +
                                std::to_string(params.size()) + " parameters");
}

} // namespace attnrt
