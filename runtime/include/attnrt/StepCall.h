// Glue between a generated model's decoder step and attnrt::decode():
// checking a DecoderMemory against the model, mapping hypotheses to their
// sentences, and reusing output tensors across steps. Header-only, like
// KernelCall.h, because generated headers include it.
#ifndef ATTNRT_STEPCALL_H
#define ATTNRT_STEPCALL_H

#include "attnrt/Decode.h"
#include "attnrt/Tensor.h"

#include <stdexcept>
#include <string>
#include <vector>

namespace attnrt {

/// Throws unless `memory` has the layout `model`'s encode() makes.
inline void checkMemoryLayout(const char *model, const DecoderMemory &memory,
                              size_t values, size_t states) {
  if (memory.values.size() != values || memory.states.size() != states)
    throw std::invalid_argument(
        std::string(model) + "::step: the decoder memory has " +
        std::to_string(memory.values.size()) + " tensors and " +
        std::to_string(memory.states.size()) + " states, this model's encode() makes " +
        std::to_string(values) + " and " + std::to_string(states) +
        ": pass the memory returned by this model's encode()");
}

/// lengths[rows[n]] for each hypothesis n, after checking that every row is
/// a sentence of the memory.
inline Tensor hypothesisLengths(const char *model, const Tensor &lengths,
                                const Tensor &rows) {
  const int32_t *l = lengths.data<int32_t>();
  const int32_t *r = rows.data<int32_t>();
  int64_t sentences = lengths.numel(), n = rows.numel();
  Tensor out(DType::I32, {n});
  int32_t *o = out.data<int32_t>();
  for (int64_t i = 0; i < n; ++i) {
    if (r[i] < 0 || r[i] >= sentences)
      throw std::invalid_argument(std::string(model) + "::step: rows[" +
                                  std::to_string(i) + "] = " + std::to_string(r[i]) +
                                  " is not a sentence of the memory [0, " +
                                  std::to_string(sentences) + ")");
    o[i] = l[r[i]];
  }
  return out;
}

/// Makes `t` a tensor of `dtype` and `shape`, keeping its storage if it
/// already is one (outputs of consecutive steps).
inline void ensureTensor(Tensor &t, DType dtype, const std::vector<int64_t> &shape) {
  if (t.dtype() != dtype || t.shape() != shape || t.numel() != shapeNumel(shape))
    t = Tensor(dtype, shape);
}

} // namespace attnrt

#endif // ATTNRT_STEPCALL_H
