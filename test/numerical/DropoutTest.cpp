// dropout(x, p): off in the forward entry and when the training entries get
// no seed; on, a deterministic mask per seed that drops a fraction p of the
// elements and scales the others by 1 / (1 - p); its gradients (the same mask
// in the backward pass, inside and outside a recurrence) against central
// differences of the loss with the same seed.
#include "dropout_rate.h"
#include "grad_dropout.h"

#include "GradientCheck.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace {

using namespace gradcheck;

struct Batch {
  std::vector<int32_t> lengths{6, 3, 5};
  attnrt::Tensor x = randomFloats({3, 6, 4}, 21);
  attnrt::Tensor y = randomIds({3, 6}, 7, 22);
};

/// Sum over valid positions of -log softmax(logits)[y], in double: the loss
/// without dropout, from the forward entry's logits.
double crossEntropy(const attnrt::Tensor &logits, const attnrt::Tensor &y, int64_t b,
                    int32_t length) {
  double sum = 0;
  for (int64_t t = 0; t < length; ++t) {
    double top = -1e30, total = 0;
    for (int64_t v = 0; v < logits.dim(2); ++v)
      top = std::max(top, static_cast<double>(logits.at({b, t, v})));
    for (int64_t v = 0; v < logits.dim(2); ++v)
      total += std::exp(logits.at({b, t, v}) - top);
    sum += top + std::log(total) - logits.at({b, t, y.at<int32_t>({b, t})});
  }
  return sum;
}

TEST(Dropout, OffWithoutASeedAndInTheForwardEntry) {
  grad_dropout::Model model(3);
  Batch batch;
  attnrt::Tensor off = model.loss(batch.x, batch.y, batch.lengths);
  auto out = model.forward(batch.x, batch.lengths);
  for (int64_t b = 0; b < 3; ++b)
    EXPECT_NEAR(off.data<float>()[b], crossEntropy(out.logits, batch.y, b, batch.lengths[b]),
                1e-4)
        << "example " << b;
}

TEST(Dropout, TheMaskFollowsTheSeed) {
  grad_dropout::Model model(3);
  Batch batch;
  auto loss = [&](std::optional<uint32_t> seed) {
    attnrt::Tensor l = model.loss(batch.x, batch.y, batch.lengths, seed);
    return std::vector<float>(l.data<float>(), l.data<float>() + 3);
  };
  EXPECT_EQ(loss(7), loss(7));
  EXPECT_NE(loss(7), loss(8));
  EXPECT_NE(loss(7), loss(std::nullopt));
}

TEST(Dropout, DropsTheRateAndScalesTheRest) {
  dropout_rate::Model model(1);
  std::vector<int32_t> lengths{50, 20, 64, 1};
  attnrt::Tensor x = randomFloats({4, 64, 16}, 3);
  std::vector<float> weights(4, 1.0f);
  attnrt::ParamStore grads = model.gradients();
  for (uint32_t seed : {0u, 1u, 12345u}) {
    dropout_rate::Model::InputGradients inputs;
    model.gradient(x, lengths, weights, grads, &inputs, seed);
    int64_t kept = 0, valid = 0;
    for (int64_t b = 0; b < 4; ++b)
      for (int64_t t = 0; t < 64; ++t)
        for (int64_t e = 0; e < 16; ++e) {
          float g = inputs.x.at({b, t, e});
          if (t >= lengths[b]) {
            EXPECT_EQ(g, 0.0f) << "padding";
            continue;
          }
          ++valid;
          if (g != 0.0f) {
            ++kept;
            EXPECT_NEAR(g, 1.0 / 0.7, 1e-6);
          }
        }
    // 2,160 elements: the kept fraction's standard deviation is ~0.01.
    double fraction = static_cast<double>(kept) / static_cast<double>(valid);
    EXPECT_NEAR(fraction, 0.7, 0.04) << "seed " << seed;
    // Without a seed nothing is dropped.
    dropout_rate::Model::InputGradients off;
    model.gradient(x, lengths, weights, grads, &off);
    EXPECT_EQ(off.x.at({0, 0, 0}), 1.0f);
  }
}

TEST(Dropout, GradientsUseTheForwardMask) {
  grad_dropout::Model model(5);
  Batch batch;
  std::vector<float> weights{1.0f, 0.5f, 2.0f};
  for (std::optional<uint32_t> seed : {std::optional<uint32_t>(11), std::optional<uint32_t>()}) {
    attnrt::ParamStore grads = model.gradients();
    grad_dropout::Model::InputGradients inputs;
    model.gradient(batch.x, batch.y, batch.lengths, weights, grads, &inputs, seed);
    auto objective = [&] {
      return weighted(model.loss(batch.x, batch.y, batch.lengths, seed), weights);
    };
    checkParameters(model, grads, objective);
    checkAgainstDifferences(batch.x, inputs.x, objective, "input 'x'");
  }
}

} // namespace
