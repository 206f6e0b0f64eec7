#include "attnrt/Clip.h"

#include "Text.h"
#include "attnrt/Error.h"

#include <cmath>
#include <stdexcept>

namespace attnrt {

namespace {

const float *f32Data(const ParamStore &grads, const std::string &name, const char *what) {
  const Tensor &t = grads.get(name);
  if (t.dtype() != DType::F32)
    throw std::invalid_argument(std::string(what) + ": gradient '" + name + "' is " +
                                dtypeName(t.dtype()) + " " + t.shapeString() +
                                ", expected F32");
  return t.data<float>();
}

double sumOfSquares(const float *g, int64_t n) {
  // Four double accumulators: vectorisable, and still the same order on every platform.
  double s[4] = {0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int k = 0; k < 4; ++k)
      s[k] += static_cast<double>(g[i + k]) * static_cast<double>(g[i + k]);
  for (; i < n; ++i)
    s[0] += static_cast<double>(g[i]) * static_cast<double>(g[i]);
  return (s[0] + s[1]) + (s[2] + s[3]);
}

} // namespace

double globalNorm(const ParamStore &grads) {
  double total = 0;
  for (const std::string &name : grads.names())
    total += sumOfSquares(f32Data(grads, name, "globalNorm"), grads.get(name).numel());
  return std::sqrt(total);
}

double clipGlobalNorm(ParamStore &grads, double maxNorm) {
  if (!std::isfinite(maxNorm) || maxNorm <= 0)
    throw std::invalid_argument("clipGlobalNorm: maxNorm = " + detail::formatDouble(maxNorm) +
                                ", expected a finite value > 0");
  const double norm = globalNorm(grads);
  if (!std::isfinite(norm)) {
    std::vector<std::string> bad;
    for (const std::string &name : grads.names()) {
      const Tensor &t = grads.get(name);
      const float *g = t.data<float>();
      for (int64_t i = 0; i < t.numel(); ++i)
        if (!std::isfinite(g[i])) {
          bad.push_back(name);
          break;
        }
    }
    throw Error("clipGlobalNorm: the gradient norm is " + detail::formatDouble(norm) +
                "; non-finite values in " + detail::quotedList(bad) +
                " (gradients left unchanged)");
  }
  const double scale = maxNorm / (norm + 1e-6);
  if (scale < 1) {
    const float s = static_cast<float>(scale);
    for (const std::string &name : grads.names()) {
      Tensor &t = grads.get(name);
      float *g = t.data<float>();
      for (int64_t i = 0; i < t.numel(); ++i)
        g[i] = g[i] * s;
    }
  }
  return norm;
}

int64_t clipValue(ParamStore &grads, double limit) {
  if (std::isnan(limit) || limit < 0)
    throw std::invalid_argument("clipValue: limit = " + detail::formatDouble(limit) +
                                ", expected a value >= 0");
  for (const std::string &name : grads.names())
    f32Data(grads, name, "clipValue");
  // A limit beyond float's range clips nothing; float(limit) would be inf, which is fine too.
  const float hi = static_cast<float>(limit), lo = -hi;
  int64_t changed = 0;
  for (const std::string &name : grads.names()) {
    Tensor &t = grads.get(name);
    float *g = t.data<float>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      float v = g[i];
      float c = v > hi ? hi : v < lo ? lo : v; // NaN compares false: stays NaN
      changed += c != v && !std::isnan(v);
      g[i] = c;
    }
  }
  return changed;
}

} // namespace attnrt
