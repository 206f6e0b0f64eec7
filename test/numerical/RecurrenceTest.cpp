// The Elman RNN of models/elman.mlir (forward and reversed) compiled by attnc,
// against a plain loop: h_t = tanh(x_t U + h_{t-1} W + b), a padded step
// keeps the row's state, outputs are zero at padded positions. Also: a short
// sequence in a padded batch gives the same states as alone.
#include "Reference.h"

#include "elman.h"

#include <gtest/gtest.h>

#include <random>

namespace {

attnrt::Tensor randomTensor(std::vector<int64_t> shape, unsigned seed) {
  attnrt::Tensor t(attnrt::DType::F32, shape);
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data<float>()[i] = dist(gen);
  return t;
}

/// States of one row, forward or reversed, as the reference loop computes.
ref::Mat elmanRow(const ref::Mat &xs, const ref::Vec &h0, const ref::Mat &u,
                  const ref::Mat &w, const ref::Vec &b, size_t length,
                  bool reverse) {
  ref::Mat states(xs.size());
  ref::Vec h = h0;
  for (size_t i = 0; i < xs.size(); ++i) {
    size_t t = reverse ? xs.size() - 1 - i : i;
    if (t < length) {
      h = ref::add(ref::add(ref::mul(xs[t], u), ref::mul(h, w)), b);
      for (double &v : h)
        v = std::tanh(v);
    }
    states[t] = h;
  }
  return states;
}

TEST(Recurrence, ElmanForwardAndReversedMatchReference) {
  elman::Model model(3);
  std::vector<int32_t> lengths{9, 1, 5, 0};
  const int64_t B = 4, S = 9;
  attnrt::Tensor x = randomTensor({B, S, 6}, 1), h0 = randomTensor({B, 8}, 2);
  auto out = model.forward(x, h0, lengths);
  ref::Mat u = ref::matrix(model.U()), w = ref::matrix(model.W());
  ref::Vec b = ref::vector(model.b());
  for (int64_t r = 0; r < B; ++r) {
    ref::Vec h0r(8);
    for (int d = 0; d < 8; ++d)
      h0r[d] = h0.at({r, d});
    for (bool reverse : {false, true}) {
      ref::Mat want = elmanRow(ref::rows(x, r, S), h0r, u, w, b, lengths[r],
                               reverse);
      const attnrt::Tensor &got = reverse ? out.hr : out.h;
      for (int64_t t = 0; t < S; ++t)
        for (int d = 0; d < 8; ++d)
          ASSERT_NEAR(got.at({r, t, d}), t < lengths[r] ? want[t][d] : 0.0,
                      1e-5)
              << (reverse ? "reversed" : "forward") << " at [" << r << ", "
              << t << ", " << d << "]";
    }
  }
}

TEST(Recurrence, PaddedRowEqualsTheSequenceAlone) {
  elman::Model model(3);
  attnrt::Tensor x = randomTensor({2, 7, 6}, 4), h0 = randomTensor({2, 8}, 5);
  auto batched = model.forward(x, h0, {7, 3});
  attnrt::Tensor alone(attnrt::DType::F32, {1, 3, 6}), h0alone(attnrt::DType::F32, {1, 8});
  for (int t = 0; t < 3; ++t)
    for (int d = 0; d < 6; ++d)
      alone.at({0, t, d}) = x.at({1, t, d});
  for (int d = 0; d < 8; ++d)
    h0alone.at({0, d}) = h0.at({1, d});
  auto single = model.forward(alone, h0alone, {3});
  for (int t = 0; t < 3; ++t)
    for (int d = 0; d < 8; ++d) {
      EXPECT_FLOAT_EQ(batched.h.at({1, t, d}), single.h.at({0, t, d}));
      EXPECT_FLOAT_EQ(batched.hr.at({1, t, d}), single.hr.at({0, t, d}));
    }
}

} // namespace
