// Truncated backpropagation through time: models/grad/truncated.attn compiled
// with --truncate-bptt=3 (a forward and a reversed Elman recurrence).
//
// Truncated BPTT with chunks of K steps means: the sequence is cut into
// chunks [cK, (c+1)K), and the gradient of each chunk's losses flows only
// inside the chunk, its initial states (the state the previous chunk handed
// over, in each recurrence's direction) held constant. The reference builds
// exactly that: for every row and chunk it runs the compiled loss on the
// chunk alone, with the initial-state inputs set to the states of the full
// forward run at the chunk's edges, and takes central differences; the
// truncated gradient must equal their sum. Tolerances as in GradientTest.cpp.
#include "grad_tbptt.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>

namespace {

constexpr int64_t K = 3, I = 3, H = 4, S = 8;
constexpr double kStep = 1e-2, kAbs = 3e-3, kRel = 2e-2;

attnrt::Tensor randomFloats(std::vector<int64_t> shape, uint32_t seed) {
  attnrt::Tensor t(attnrt::DType::F32, std::move(shape));
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1, 1);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data<float>()[i] = dist(gen);
  return t;
}

/// Rows [first, first + count) of axis 1 of row `r` of a [B, S, N] tensor, as [1, count, N].
attnrt::Tensor steps(const attnrt::Tensor &t, int64_t r, int64_t first, int64_t count) {
  int64_t n = t.shape()[2], s = t.shape()[1];
  attnrt::Tensor out(attnrt::DType::F32, {1, count, n});
  for (int64_t i = 0; i < count * n; ++i)
    out.data<float>()[i] = t.data<float>()[(r * s + first) * n + i];
  return out;
}

/// The vector [1, N] at time `step` of row `r` of a [B, S, N] tensor (or row r of [B, N]).
attnrt::Tensor vectorAt(const attnrt::Tensor &t, int64_t r, int64_t step = -1) {
  int64_t n = t.shape().back();
  int64_t offset = step < 0 ? r * n : (r * t.shape()[1] + step) * n;
  attnrt::Tensor out(attnrt::DType::F32, {1, n});
  for (int64_t i = 0; i < n; ++i)
    out.data<float>()[i] = t.data<float>()[offset + i];
  return out;
}

struct Problem {
  grad_tbptt::Model model{5};
  std::vector<int32_t> lengths{8, 5};
  int64_t B = 2;
  attnrt::Tensor x = randomFloats({2, S, I}, 1), h0 = randomFloats({2, H}, 2),
                 g0 = randomFloats({2, H}, 3), w = randomFloats({2, S, H}, 4);

  /// The loss of every chunk of every row, each chunk on its own, its
  /// initial states taken from `states` (the full forward run).
  double chunkedLoss(const grad_tbptt::Model::Outputs &states) const {
    double total = 0;
    for (int64_t r = 0; r < B; ++r) {
      int64_t len = lengths[r];
      for (int64_t first = 0; first < len; first += K) {
        int64_t end = std::min(first + K, len);
        attnrt::Tensor hInit = first == 0 ? vectorAt(h0, r) : vectorAt(states.hs, r, first - 1);
        attnrt::Tensor gInit = end == len ? vectorAt(g0, r) : vectorAt(states.gs, r, end);
        attnrt::Tensor loss = model.loss(steps(x, r, first, end - first), hInit, gInit,
                                         steps(w, r, first, end - first),
                                         {static_cast<int32_t>(end - first)});
        total += loss.data<float>()[0];
      }
    }
    return total;
  }
  double fullLoss() const {
    attnrt::Tensor loss = model.loss(x, h0, g0, w, lengths);
    return loss.data<float>()[0] + loss.data<float>()[1];
  }
};

double centralDifference(float &v, const std::function<double()> &f) {
  float saved = v;
  v = saved + static_cast<float>(kStep);
  double up = f();
  v = saved - static_cast<float>(kStep);
  double down = f();
  v = saved;
  return (up - down) / (2 * kStep);
}

TEST(TruncatedBPTT, GradientsAreThoseOfChunksWithDetachedInitialStates) {
  Problem p;
  attnrt::ParamStore grads = p.model.gradients();
  grad_tbptt::Model::InputGradients inputGrads;
  p.model.gradient(p.x, p.h0, p.g0, p.w, p.lengths, {1.0f, 1.0f}, grads, &inputGrads);
  // The chunks' initial states: the forward run with the unperturbed weights.
  const grad_tbptt::Model::Outputs states = p.model.forward(p.x, p.h0, p.g0, p.lengths);

  int64_t differsFromFull = 0;
  auto check = [&](attnrt::Tensor &value, const attnrt::Tensor &grad, const std::string &what) {
    ASSERT_EQ(value.shape(), grad.shape()) << what;
    for (int64_t i = 0; i < value.numel(); ++i) {
      float &v = value.data<float>()[i];
      double want = centralDifference(v, [&] { return p.chunkedLoss(states); });
      double got = grad.data<float>()[i];
      EXPECT_NEAR(got, want, kAbs + kRel * std::abs(want)) << what << "[" << i << "]";
      double full = centralDifference(v, [&] { return p.fullLoss(); });
      differsFromFull += std::abs(full - got) > 10 * (kAbs + kRel * std::abs(full));
    }
  };
  for (const std::string &name : p.model.params().names())
    check(p.model.params().get(name), grads.get(name), "d_" + name);
  check(p.x, inputGrads.x, "d_x");
  // Only the first chunk reads h0 and only the last one reads g0.
  check(p.h0, inputGrads.h0, "d_h0");
  check(p.g0, inputGrads.g0, "d_g0");
  // The test can tell truncated from full gradients: the recurrent weights'
  // full gradients differ (the data are random and the chunks short).
  EXPECT_GT(differsFromFull, 10);
}

} // namespace
