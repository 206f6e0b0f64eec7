//===- GradientCheck.h - Finite-difference checks of compiled gradients -===//
//
// Central differences of a compiled loss against its compiled gradient
// (GradientTest.cpp, DropoutTest.cpp).
//
// Tolerance: the loss is float32, summed over a small batch (|L| ~ 10). With
// h = 1e-2 the central difference has truncation error ~h^2 |L'''| ~ 1e-4 and
// rounding error ~ 1e-6 |L| / h ~ 1e-3; a gradient element passes if
// |fd - g| <= 3e-3 + 2e-2 |g|. A wrong rule (a missing term, a transposed
// contraction, an unmasked padding position) is off by O(|g|), far outside.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "attnrt/ParamStore.h"
#include "attnrt/Tensor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace gradcheck {

constexpr double kStep = 1e-2;
constexpr double kAbs = 3e-3, kRel = 2e-2;

inline attnrt::Tensor randomFloats(std::vector<int64_t> shape, uint32_t seed, float scale = 1) {
  attnrt::Tensor t(attnrt::DType::F32, std::move(shape));
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data<float>()[i] = dist(gen);
  return t;
}

inline attnrt::Tensor randomIds(std::vector<int64_t> shape, int32_t vocab, uint32_t seed) {
  attnrt::Tensor t(attnrt::DType::I32, std::move(shape));
  std::mt19937 gen(seed);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data<int32_t>()[i] = static_cast<int32_t>(gen() % vocab);
  return t;
}

/// sum_b weights[b] * losses[b], in double.
inline double weighted(const attnrt::Tensor &losses, const std::vector<float> &weights) {
  double sum = 0;
  for (size_t b = 0; b < weights.size(); ++b)
    sum += weights[b] * static_cast<double>(losses.data<float>()[b]);
  return sum;
}

/// Checks every element of `value`'s gradient `grad` against central
/// differences of `objective` (which reads `value`). Near a kink (max, min,
/// abs, relu switching inside [x - h, x + h]) a difference quotient means
/// nothing: elements whose differences with h and h/2 disagree are skipped,
/// and at most a few may be.
inline void checkAgainstDifferences(attnrt::Tensor &value, const attnrt::Tensor &grad,
                             const std::function<double()> &objective,
                             const std::string &what) {
  ASSERT_EQ(value.shape(), grad.shape()) << what;
  float *v = value.data<float>();
  const float *g = grad.data<float>();
  auto difference = [&](int64_t i, double h) {
    float saved = v[i];
    v[i] = saved + static_cast<float>(h);
    double up = objective();
    v[i] = saved - static_cast<float>(h);
    double down = objective();
    v[i] = saved;
    return (up - down) / (2 * h);
  };
  double largest = 0;
  int64_t kinks = 0;
  for (int64_t i = 0; i < value.numel(); ++i) {
    double fd = difference(i, kStep);
    double tolerance = kAbs + kRel * std::abs(fd);
    if (std::abs(difference(i, kStep / 2) - fd) > tolerance) {
      ++kinks;
      continue;
    }
    largest = std::max(largest, std::abs(fd));
    EXPECT_NEAR(g[i], fd, tolerance) << what << " element " << i << " of " << value.numel();
  }
  EXPECT_LE(kinks, std::max<int64_t>(1, value.numel() / 20))
      << what << ": too many elements where the loss is not smooth";
  // A test that passes because every gradient is zero proves nothing.
  if (value.numel() > 2) {
    EXPECT_GT(largest, 1e-3) << what << ": the loss barely depends on it";
  }
}

/// Every parameter of `model` against differences of `objective`.
template <class Model>
void checkParameters(Model &model, const attnrt::ParamStore &grads,
                     const std::function<double()> &objective) {
  for (const std::string &name : model.params().names())
    checkAgainstDifferences(model.params().get(name), grads.get(name), objective,
                            "parameter '" + name + "'");
}

} // namespace gradcheck
