// Gradients from attn-differentiate (Model::gradient) against central finite
// differences of the compiled loss (Model::loss), for models covering the
// element-wise, layout and reduction ops (models/grad/ops.attn), recurrences
// with padding in both directions (recurrences.attn), masked multi-head
// attention and input gradients (mse.attn), and a teacher-forced attentional
// encoder-decoder (seq2seq.attn). The teacher-forced loss itself is checked
// against the decoder's own step entry run token by token.
//
// Tolerance: the loss is float32, summed over a small batch (|L| ~ 10). With
// h = 1e-2 the central difference has truncation error ~h^2 |L'''| ~ 1e-4 and
// rounding error ~ 1e-6 |L| / h ~ 1e-3; a gradient element passes if
// |fd - g| <= 3e-3 + 2e-2 |g|. A wrong rule (a missing term, a transposed
// contraction, an unmasked padding position) is off by O(|g|), far outside.
#include "grad_mse.h"
#include "grad_ops.h"
#include "grad_rnn.h"
#include "grad_seq2seq.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>

namespace {

constexpr double kStep = 1e-2;
constexpr double kAbs = 3e-3, kRel = 2e-2;

attnrt::Tensor randomFloats(std::vector<int64_t> shape, uint32_t seed, float scale = 1) {
  attnrt::Tensor t(attnrt::DType::F32, std::move(shape));
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data<float>()[i] = dist(gen);
  return t;
}

attnrt::Tensor randomIds(std::vector<int64_t> shape, int32_t vocab, uint32_t seed) {
  attnrt::Tensor t(attnrt::DType::I32, std::move(shape));
  std::mt19937 gen(seed);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data<int32_t>()[i] = static_cast<int32_t>(gen() % vocab);
  return t;
}

/// sum_b weights[b] * losses[b], in double.
double weighted(const attnrt::Tensor &losses, const std::vector<float> &weights) {
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
void checkAgainstDifferences(attnrt::Tensor &value, const attnrt::Tensor &grad,
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
  if (value.numel() > 2)
    EXPECT_GT(largest, 1e-3) << what << ": the loss barely depends on it";
}

/// Every parameter of `model` against differences of `objective`.
template <class Model>
void checkParameters(Model &model, const attnrt::ParamStore &grads,
                     const std::function<double()> &objective) {
  for (const std::string &name : model.params().names())
    checkAgainstDifferences(model.params().get(name), grads.get(name), objective,
                            "parameter '" + name + "'");
}

TEST(Gradients, ElementwiseLayoutAndReductionOps) {
  grad_ops::Model model(3);
  std::vector<int32_t> lengths{5, 2, 4};
  attnrt::Tensor x = randomFloats({3, 5, 6}, 1);
  attnrt::Tensor y = randomIds({3, 5}, 5, 2);
  std::vector<float> weights{1.0f, 0.5f, -2.0f};
  attnrt::ParamStore grads = model.gradients();
  grad_ops::Model::InputGradients inputs;
  attnrt::Tensor losses = model.gradient(x, y, lengths, weights, grads, &inputs);
  attnrt::Tensor direct = model.loss(x, y, lengths);
  for (int b = 0; b < 3; ++b)
    EXPECT_NEAR(losses.data<float>()[b], direct.data<float>()[b], 1e-5);
  auto objective = [&] { return weighted(model.loss(x, y, lengths), weights); };
  checkParameters(model, grads, objective);
  checkAgainstDifferences(x, inputs.x, objective, "input 'x'");
  // Padded positions get no gradient.
  for (int64_t t = 2; t < 5; ++t)
    for (int64_t d = 0; d < 6; ++d)
      EXPECT_EQ(inputs.x.at({1, t, d}), 0.0f);
}

TEST(Gradients, RecurrencesBothWaysWithPadding) {
  grad_rnn::Model model(5);
  std::vector<int32_t> lengths{4, 1, 3};
  attnrt::Tensor x = randomFloats({3, 4, 3}, 3);
  attnrt::Tensor y = randomIds({3, 4}, 3, 4);
  std::vector<float> weights{1.0f, 1.0f, 0.5f};
  attnrt::ParamStore grads = model.gradients();
  grad_rnn::Model::InputGradients inputs;
  model.gradient(x, y, lengths, weights, grads, &inputs);
  auto objective = [&] { return weighted(model.loss(x, y, lengths), weights); };
  checkParameters(model, grads, objective);
  checkAgainstDifferences(x, inputs.x, objective, "input 'x'");
}

TEST(Gradients, MaskedAndCausalMultiHeadAttentionAndInputs) {
  // Both attentions are fused forward and backward (attn.attention_grad);
  // one row sees a single key.
  grad_mse::Model model(7);
  std::vector<int32_t> lengths{3, 5, 1};
  attnrt::Tensor x = randomFloats({3, 5, 8}, 5);
  attnrt::Tensor y = randomFloats({3, 5, 8}, 6);
  std::vector<float> weights{0.5f, 0.25f, 1.0f};
  attnrt::ParamStore grads = model.gradients();
  grad_mse::Model::InputGradients inputs;
  model.gradient(x, y, lengths, weights, grads, &inputs);
  auto objective = [&] { return weighted(model.loss(x, y, lengths), weights); };
  checkParameters(model, grads, objective);
  checkAgainstDifferences(x, inputs.x, objective, "input 'x'");
}

struct Seq2SeqBatch {
  std::vector<int32_t> srcLengths{4, 2, 3}, tgtLengths{3, 4, 1};
  attnrt::Tensor src = randomIds({3, 4}, 7, 8);
  attnrt::Tensor tgt = randomIds({3, 4}, 7, 9);
  static constexpr int32_t bos = 1;
};

TEST(Gradients, TeacherForcedEncoderDecoder) {
  grad_seq2seq::Model model(11);
  Seq2SeqBatch batch;
  std::vector<float> weights{1.0f, 0.5f, 2.0f};
  attnrt::ParamStore grads = model.gradients();
  model.gradient(batch.src, batch.tgt, batch.srcLengths, batch.tgtLengths, batch.bos,
                 weights, grads);
  auto objective = [&] {
    return weighted(model.loss(batch.src, batch.tgt, batch.srcLengths,
                               batch.tgtLengths, batch.bos),
                    weights);
  };
  checkParameters(model, grads, objective);
}

// The teacher-forced loss is the sum over the target of -log p(tgt[t] | BOS,
// tgt[<t]) with p from the decoder step that decoding uses.
TEST(Gradients, TeacherForcedLossMatchesTheDecoderStep) {
  grad_seq2seq::Model model(13);
  Seq2SeqBatch batch;
  attnrt::Tensor losses = model.loss(batch.src, batch.tgt, batch.srcLengths,
                                     batch.tgtLengths, batch.bos);
  attnrt::DecoderMemory memory = model.encode(batch.src, batch.srcLengths);
  for (int32_t b = 0; b < 3; ++b) {
    attnrt::Tensor rows = attnrt::Tensor::fromVector<int32_t>({1}, {b});
    const int64_t hidden = memory.states[0].dim(1);
    attnrt::Tensor state(attnrt::DType::F32, {1, hidden});
    for (int64_t k = 0; k < hidden; ++k)
      state.at({0, k}) = memory.states[0].at({b, k});
    int32_t previous = batch.bos;
    double want = 0;
    for (int32_t t = 0; t < batch.tgtLengths[b]; ++t) {
      attnrt::StepOutputs out;
      model.step(memory, rows, attnrt::Tensor::fromVector<int32_t>({1}, {previous}),
                 {state}, out);
      const float *logits = out.logits.data<float>();
      double top = *std::max_element(logits, logits + 7), sum = 0;
      for (int v = 0; v < 7; ++v)
        sum += std::exp(logits[v] - top);
      int32_t target = batch.tgt.at<int32_t>({b, t});
      want += top + std::log(sum) - logits[target];
      state = out.states[0];
      previous = target;
    }
    EXPECT_NEAR(losses.data<float>()[b], want, 1e-4 * (1 + std::abs(want)))
        << "sentence " << b;
  }
}

TEST(Gradients, BadTrainingInputsAreRejected) {
  grad_seq2seq::Model model(1);
  Seq2SeqBatch batch;
  attnrt::ParamStore grads = model.gradients();
  std::vector<float> weights{1, 1, 1};
  auto call = [&](const attnrt::Tensor &tgt, std::vector<int32_t> tgtLengths,
                  std::vector<float> w, int32_t bos) {
    model.gradient(batch.src, tgt, batch.srcLengths, tgtLengths, bos, w, grads);
  };
  // A target id outside the vocabulary, a BOS outside it, too few targets,
  // lengths for another batch, weights for another batch.
  attnrt::Tensor bad = batch.tgt;
  bad.at<int32_t>({1, 2}) = 7;
  EXPECT_THROW(call(bad, batch.tgtLengths, weights, 1), std::exception);
  EXPECT_THROW(call(batch.tgt, batch.tgtLengths, weights, 9), std::exception);
  EXPECT_THROW(call(randomIds({2, 4}, 7, 1), batch.tgtLengths, weights, 1),
               std::invalid_argument);
  EXPECT_THROW(call(batch.tgt, {3, 4}, weights, 1), std::invalid_argument);
  EXPECT_THROW(call(batch.tgt, batch.tgtLengths, {1, 1}, 1), std::invalid_argument);
  // An empty batch.
  attnrt::Tensor none(attnrt::DType::I32, {0, 4});
  EXPECT_THROW(model.gradient(none, none, {}, {}, 1, {}, grads), std::invalid_argument);
  // A gradient store of another model.
  grad_ops::Model other(1);
  attnrt::ParamStore wrong = other.gradients();
  EXPECT_THROW(model.gradient(batch.src, batch.tgt, batch.srcLengths,
                              batch.tgtLengths, 1, weights, wrong),
               std::invalid_argument);
}

} // namespace
