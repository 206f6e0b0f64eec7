// The compiled models of test/numerical/models against the plain C++
// reference (Reference.h), over batch 1, odd lengths, heavy padding, an empty
// row and causal masks. Tolerance: max abs error <= 1e-4 (float32 kernels
// against float64 references, values of order 1-10).
#include "Reference.h"

#include "align.h"
#include "encoder.h"
#include "mha.h"
#include "mha_unfused.h"
#include "scores.h"

#include <gtest/gtest.h>

#include <random>

namespace {

constexpr double kTolerance = 1e-4;

/// A padded batch: each row's length and the padded extent.
struct Batch {
  std::vector<int32_t> lengths;
  int64_t padded() const {
    int64_t p = 1;
    for (int32_t l : lengths)
      p = std::max<int64_t>(p, l);
    return p;
  }
  int64_t size() const { return static_cast<int64_t>(lengths.size()); }
};

struct Shapes {
  const char *name;
  Batch queries; // T (or S for self-attention)
  Batch keys;    // S
};

const Shapes kShapes[] = {
    {"batch1_length1", {{1}}, {{1}}},
    {"odd_lengths", {{37, 37}}, {{29, 29}}},
    {"heavy_padding", {{1, 3, 100, 57}}, {{100, 2, 3, 64}}},
    {"empty_row", {{0, 5, 2}}, {{4, 0, 7}}},
};

attnrt::Tensor randomInput(std::vector<int64_t> shape, unsigned seed) {
  attnrt::Tensor t(attnrt::DType::F32, shape);
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  float *p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i)
    p[i] = dist(gen);
  return t;
}

/// Compares out[b, i, :] with `expected` for valid rows and checks that
/// padded rows are zero.
void expectRows(const attnrt::Tensor &out, int64_t b, const ref::Mat &expected,
                int32_t length, const std::string &what) {
  for (int64_t i = 0; i < out.dim(1); ++i) {
    for (int64_t d = 0; d < out.dim(2); ++d) {
      double want = i < length ? expected[i][d] : 0.0;
      ASSERT_NEAR(out.at({b, i, d}), want, kTolerance)
          << what << " at [" << b << ", " << i << ", " << d << "]";
    }
  }
}

class Models : public ::testing::TestWithParam<Shapes> {};

TEST_P(Models, ScoresMatchReference) {
  const Shapes &s = GetParam();
  scores::Model model(7);
  int64_t batch = s.queries.size();
  attnrt::Tensor q = randomInput({batch, s.queries.padded(), 24}, 1);
  attnrt::Tensor k = randomInput({batch, s.keys.padded(), 24}, 2);
  auto out = model.forward(q, k, s.queries.lengths, s.keys.lengths);

  ref::Mat w = ref::matrix(model.W()), wq = ref::matrix(model.Wq()),
           wk = ref::matrix(model.Wk()), wc = ref::matrix(model.Wc());
  ref::Vec v = ref::vector(model.v());
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t i = 0; i < s.queries.padded(); ++i) {
      for (int64_t j = 0; j < s.keys.padded(); ++j) {
        bool valid = i < s.queries.lengths[b] && j < s.keys.lengths[b];
        ref::Vec qi = ref::row(q, b, i), kj = ref::row(k, b, j);
        double d = ref::dot(qi, kj);
        double general = ref::dot(qi, ref::mul(kj, [&] {
                                    ref::Mat wt(24, ref::Vec(24));
                                    for (int r = 0; r < 24; ++r)
                                      for (int c = 0; c < 24; ++c)
                                        wt[c][r] = w[r][c];
                                    return wt;
                                  }()));
        ref::Vec additive = ref::add(ref::mul(qi, wq), ref::mul(kj, wk));
        ref::Vec concat = ref::mul(ref::concat(qi, kj), wc);
        for (double &x : additive)
          x = std::tanh(x);
        for (double &x : concat)
          x = std::tanh(x);
        auto check = [&](const attnrt::Tensor &t, double want, const char *n) {
          ASSERT_NEAR(t.at({b, i, j}), valid ? want : 0.0, kTolerance)
              << n << " at [" << b << ", " << i << ", " << j << "]";
        };
        check(out.dot, d, "dot");
        check(out.scaled, d / std::sqrt(24.0), "scaled");
        check(out.general, general, "general");
        check(out.additive, ref::dot(v, additive), "additive");
        check(out.concat_s, ref::dot(v, concat), "concat");
      }
    }
  }
}

TEST_P(Models, AlignmentMatchesReference) {
  const Shapes &s = GetParam();
  align::Model model;
  int64_t batch = s.queries.size();
  attnrt::Tensor q = randomInput({batch, s.queries.padded(), 16}, 3);
  attnrt::Tensor k = randomInput({batch, s.keys.padded(), 16}, 4);
  attnrt::Tensor v = randomInput({batch, s.keys.padded(), 16}, 5);
  auto out = model.forward(q, k, v, s.queries.lengths, s.keys.lengths);

  for (int64_t b = 0; b < batch; ++b) {
    ref::Mat ctx;
    for (int64_t i = 0; i < s.queries.padded(); ++i) {
      ref::Vec e(s.keys.padded());
      std::vector<bool> keep(e.size()), keepCausal(e.size());
      for (int64_t j = 0; j < s.keys.padded(); ++j) {
        e[j] = ref::dot(ref::row(q, b, i), ref::row(k, b, j));
        keep[j] = j < s.keys.lengths[b];
        keepCausal[j] = keep[j] && j <= i;
      }
      ref::Vec a = ref::maskedSoftmax(e, keep);
      ref::Vec c = ref::maskedSoftmax(e, keepCausal);
      bool rowValid = i < s.queries.lengths[b];
      double mx = -INFINITY, mn = INFINITY, mean = 0;
      int kept = 0;
      for (int64_t j = 0; j < s.keys.padded(); ++j) {
        ASSERT_NEAR(out.a.at({b, i, j}), rowValid ? a[j] : 0.0, kTolerance);
        ASSERT_NEAR(out.causal.at({b, i, j}), rowValid ? c[j] : 0.0, kTolerance);
        if (keep[j]) {
          mx = std::max(mx, e[j]);
          mn = std::min(mn, e[j]);
          mean += e[j];
          ++kept;
        }
      }
      double stats = kept ? mx - mn + mean / kept : 0.0;
      ASSERT_NEAR(out.stats.at({b, i}), rowValid ? stats : 0.0, kTolerance);
      ref::Vec weighted(16, 0.0);
      for (int64_t j = 0; j < s.keys.padded(); ++j)
        for (int d = 0; d < 16; ++d)
          weighted[d] += a[j] * v.at({b, j, d});
      ctx.push_back(weighted);
    }
    expectRows(out.ctx, b, ctx, s.queries.lengths[b], "ctx");
  }
}

template <class Model>
void checkMultihead(const Shapes &s, const char *variant) {
  Model model(11);
  int64_t batch = s.queries.size();
  attnrt::Tensor x = randomInput({batch, s.queries.padded(), 32}, 6);
  auto out = model.forward(x, s.queries.lengths);
  ref::Mat wo = ref::matrix(model.Wo()), wa = ref::matrix(model.Wa());
  for (int64_t b = 0; b < batch; ++b) {
    ref::Mat xs = ref::rows(x, b, s.queries.padded());
    size_t len = s.queries.lengths[b];
    std::string what = std::string(variant) + " ";
    expectRows(out.y, b,
               ref::multihead(xs, model.Wq(), model.Wk(), model.Wv(), wo, len,
                              false, false),
               len, what + "concat heads");
    expectRows(out.yc, b,
               ref::multihead(xs, model.Wq(), model.Wk(), model.Wv(), wo, len,
                              true, false),
               len, what + "causal");
    expectRows(out.ya, b,
               ref::multihead(xs, model.Wq(), model.Wk(), model.Wv(), wa, len,
                              false, true),
               len, what + "average heads");
  }
}

TEST_P(Models, MultiheadFusedMatchesReference) {
  checkMultihead<mha::Model>(GetParam(), "fused");
}

TEST_P(Models, MultiheadUnfusedMatchesReference) {
  checkMultihead<mha_unfused::Model>(GetParam(), "unfused");
}

TEST_P(Models, EncoderLayerMatchesReference) {
  const Shapes &s = GetParam();
  encoder::Model model(13);
  int64_t batch = s.queries.size();
  attnrt::Tensor x = randomInput({batch, s.queries.padded(), 32}, 8);
  auto out = model.forward(x, s.queries.lengths);
  ref::Mat wo = ref::matrix(model.Wo()), w1 = ref::matrix(model.W1()),
           w2 = ref::matrix(model.W2());
  ref::Vec g1 = ref::vector(model.g1()), b1 = ref::vector(model.b1()),
           g2 = ref::vector(model.g2()), b2 = ref::vector(model.b2()),
           c1 = ref::vector(model.c1()), c2 = ref::vector(model.c2());
  for (int64_t b = 0; b < batch; ++b) {
    ref::Mat xs = ref::rows(x, b, s.queries.padded());
    size_t len = s.queries.lengths[b];
    for (bool causal : {false, true}) {
      ref::Mat m = ref::multihead(xs, model.Wq(), model.Wk(), model.Wv(), wo,
                                  len, causal, false);
      ref::Mat y;
      for (size_t i = 0; i < xs.size(); ++i) {
        ref::Vec h = ref::layerNorm(ref::add(xs[i], m[i]), g1, b1);
        y.push_back(ref::layerNorm(
            ref::add(h, ref::feedForward(h, w1, c1, w2, c2)), g2, b2));
      }
      expectRows(causal ? out.yc : out.y, b, y, len,
                 causal ? "causal encoder" : "encoder");
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, Models, ::testing::ValuesIn(kShapes),
                         [](const auto &info) { return info.param.name; });

TEST(ModelErrors, WrongShapesAndLengthsAreReported) {
  mha::Model model;
  attnrt::Tensor x = randomInput({2, 5, 31}, 1);
  try {
    model.forward(x, {5, 5});
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument &e) {
    EXPECT_NE(std::string(e.what()).find("[2, 5, 31]"), std::string::npos)
        << e.what();
  }
  attnrt::Tensor good = randomInput({2, 5, 32}, 1);
  EXPECT_THROW(model.forward(good, {5}), std::invalid_argument);
  EXPECT_THROW(model.forward(good, {5, 6}), std::invalid_argument);
  EXPECT_THROW(model.forward(good, {-1, 2}), std::invalid_argument);
}

} // namespace
