// Gradients from attn-differentiate (Model::gradient) against central finite
// differences of the compiled loss (Model::loss), for models covering the
// element-wise, layout and reduction ops (models/grad/ops.attn), recurrences
// with padding in both directions (recurrences.attn), masked multi-head
// attention and input gradients (mse.attn), and a teacher-forced attentional
// encoder-decoder (seq2seq.attn). The teacher-forced loss itself is checked
// against the decoder's own step entry run token by token.
//
// The checks and their tolerance: GradientCheck.h.
#include "grad_mse.h"
#include "grad_ops.h"
#include "grad_rnn.h"
#include "grad_seq2seq.h"

#include "GradientCheck.h"

#include <gtest/gtest.h>

#include <cmath>

namespace {

using namespace gradcheck;

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
