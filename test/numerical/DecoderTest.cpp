// The compiled decoder of models/bahdanau.attn against the double-precision
// reference of BahdanauReference.h: encode() + step() outputs, the row mapping of
// hypotheses to sentences, greedy and beam decoding (every hypothesis
// re-scored by the reference), and the errors of bad step inputs.
#include "BahdanauReference.h"

#include "bahdanau.h"
#include "dot_decoder.h"

#include <gtest/gtest.h>

namespace {

using namespace bahdanau_ref;

void expectNear(const ref::Vec &want, const float *got, const std::string &what) {
  for (size_t i = 0; i < want.size(); ++i)
    ASSERT_NEAR(got[i], want[i], 1e-4) << what << " [" << i << "]";
}

TEST(Decoder, EncodeAndStepMatchReferenceForAnyRowMapping) {
  bahdanau::Model model(1);
  randomize(model, 7);
  Batch batch;
  attnrt::DecoderMemory memory = model.encode(batch.src(), batch.lengths());
  ASSERT_EQ(memory.batch, 4);
  ASSERT_EQ(memory.sourceLength, batch.S);
  std::vector<Reference<bahdanau::Model>> refs;
  for (const auto &s : batch.sentences)
    refs.emplace_back(model, s);
  for (int64_t b = 0; b < 4; ++b)
    expectNear(refs[b].s0, memory.states[0].data<float>() + b * H,
               "initial state of sentence " + std::to_string(b));

  // Hypotheses in any order, several per sentence, each with its own state;
  // 20 of them: more than a row block of the step's kernels (16) and not a
  // multiple of one (a block running past the last hypothesis once read
  // lengths past their end).
  const int64_t N = 20;
  std::vector<int32_t> rows, tokens;
  for (int64_t n = 0; n < N; ++n) {
    rows.push_back(static_cast<int32_t>((n * 7 + 2) % 4));
    tokens.push_back(static_cast<int32_t>((n * 5 + 4) % V));
  }
  attnrt::Tensor state(attnrt::DType::F32, {N, H});
  std::mt19937 gen(3);
  std::uniform_real_distribution<float> dist(-1, 1);
  for (int64_t i = 0; i < state.numel(); ++i)
    state.data<float>()[i] = dist(gen);
  attnrt::StepOutputs out;
  model.step(memory, attnrt::Tensor::fromVector<int32_t>({N}, rows),
             attnrt::Tensor::fromVector<int32_t>({N}, tokens), {state}, out);
  ASSERT_EQ(out.logits.shape(), (std::vector<int64_t>{N, V}));
  ASSERT_EQ(out.attention.shape(), (std::vector<int64_t>{N, batch.S}));
  for (int64_t n = 0; n < N; ++n) {
    ref::Vec s(state.data<float>() + n * H, state.data<float>() + (n + 1) * H);
    StepResult r = refs[rows[n]].step(tokens[n], s);
    std::string what = "hypothesis " + std::to_string(n);
    expectNear(r.state, out.states[0].data<float>() + n * H, what + " state");
    expectNear(r.logits, out.logits.data<float>() + n * V, what + " logits");
    ref::Vec attention = r.attention;
    attention.resize(batch.S, 0.0); // zero past the sentence's length
    expectNear(attention, out.attention.data<float>() + n * batch.S, what + " attention");
  }
}

TEST(Decoder, GreedyAndBeamHypothesesAreScoredAsTheReferenceScoresThem) {
  bahdanau::Model model(1);
  randomize(model, 11);
  model.bo().at({2}) -= 1.5f; // EOS (2) a little less likely: longer outputs
  Batch batch;
  for (int beam : {1, 4}) {
    attnrt::DecodeOptions options;
    options.beamSize = beam;
    options.nBest = beam;
    options.maxLength = 9;
    options.bos = 1;
    options.eos = 2;
    auto result = model.decode(batch.src(), batch.lengths(), options);
    ASSERT_EQ(result.size(), batch.sentences.size());
    size_t generated = 0;
    for (const auto &hyps : result)
      for (const attnrt::Hypothesis &hyp : hyps)
        generated += hyp.tokens.size();
    EXPECT_GT(generated, 4 * result.size()) << "the checks below need tokens";
    for (size_t b = 0; b < result.size(); ++b) {
      Reference<bahdanau::Model> r(model, batch.sentences[b]);
      ASSERT_FALSE(result[b].empty());
      for (const attnrt::Hypothesis &hyp : result[b]) {
        ref::Mat attention;
        double logProb = r.score(hyp.tokens, options.bos, attention);
        EXPECT_NEAR(hyp.logProb, logProb, 1e-3) << "beam " << beam << " sentence " << b;
        ASSERT_EQ(hyp.attention.size(), hyp.tokens.size() * batch.S);
        for (size_t t = 0; t < hyp.tokens.size(); ++t) {
          ref::Vec row = attention[t];
          row.resize(batch.S, 0.0);
          expectNear(row, hyp.attention.data() + t * batch.S,
                     "attention of token " + std::to_string(t));
        }
      }
      if (beam == 1) {
        // Greedy: every token is the reference's argmax given the prefix.
        ref::Vec s = r.s0;
        int32_t y = options.bos;
        for (int32_t token : result[b][0].tokens) {
          StepResult step = r.step(y, s);
          EXPECT_EQ(token, std::max_element(step.logits.begin(), step.logits.end()) -
                               step.logits.begin());
          s = step.state;
          y = token;
        }
      }
    }
  }
}

TEST(Decoder, MemoryThatIsARecurrenceResultIsWrittenByEncode) {
  dot_decoder::Model model(1);
  randomize(model, 5);
  std::vector<std::vector<int32_t>> sentences{{3, 1, 4, 1, 5}, {9, 2}};
  attnrt::Tensor src(attnrt::DType::I32, {2, 5});
  for (int64_t b = 0; b < 2; ++b)
    for (size_t i = 0; i < sentences[b].size(); ++i)
      src.at<int32_t>({b, static_cast<int64_t>(i)}) = sentences[b][i];
  attnrt::DecoderMemory memory = model.encode(src, {5, 2});
  ref::Mat e = ref::matrix(model.E()), wo = ref::matrix(model.Wo());
  attnrt::StepOutputs out;
  model.step(memory, attnrt::Tensor::fromVector<int32_t>({2}, {0, 1}),
             attnrt::Tensor::fromVector<int32_t>({2}, {1, 1}), memory.states, out);
  for (int64_t b = 0; b < 2; ++b) {
    ref::Mat h;
    ref::Vec state(H, 0.0);
    for (int32_t id : sentences[b])
      h.push_back(state = gru(e[id], state, ref::matrix(model.W()), ref::matrix(model.U()),
                              ref::vector(model.bi()), ref::vector(model.bh())));
    expectNear(state, memory.states[0].data<float>() + b * H, "last(h)");
    ref::Vec scores;
    for (const ref::Vec &hi : h)
      scores.push_back(ref::dot(state, hi));
    ref::Vec a = ref::maskedSoftmax(scores, std::vector<bool>(h.size(), true));
    ref::Vec c(H, 0.0);
    for (size_t i = 0; i < h.size(); ++i)
      for (int64_t d = 0; d < H; ++d)
        c[d] += a[i] * h[i][d];
    expectNear(a, out.attention.data<float>() + b * 5, "attention");
    expectNear(ref::mul(c, wo), out.logits.data<float>() + b * 11, "logits");
  }
}

TEST(Decoder, BadStepInputsAreReportedWithTheirValues) {
  bahdanau::Model model(1);
  Batch batch;
  attnrt::DecoderMemory memory = model.encode(batch.src(), batch.lengths());
  attnrt::StepOutputs out;
  attnrt::Tensor state(attnrt::DType::F32, {2, H});
  auto ids = [](std::vector<int32_t> v) {
    return attnrt::Tensor::fromVector<int32_t>({static_cast<int64_t>(v.size())}, v);
  };
  try {
    model.step(memory, ids({0, 1}), ids({3, 23}), {state}, out);
    FAIL() << "a token outside the vocabulary was accepted";
  } catch (const std::invalid_argument &e) {
    EXPECT_NE(std::string(e.what()).find("token id 23 at flat index 1 is outside the "
                                         "vocabulary [0, 23)"),
              std::string::npos)
        << e.what();
  }
  // The source ids are checked by encode() the same way.
  attnrt::Tensor badSource = batch.src();
  badSource.at<int32_t>({1, 1}) = -4;
  EXPECT_THROW(model.encode(badSource, batch.lengths()), std::invalid_argument);
  try {
    model.step(memory, ids({0, 4}), ids({3, 3}), {state}, out);
    FAIL() << "a row outside the memory was accepted";
  } catch (const std::invalid_argument &e) {
    EXPECT_NE(std::string(e.what()).find("rows[1] = 4"), std::string::npos) << e.what();
  }
  attnrt::Tensor wide(attnrt::DType::F32, {2, H + 1});
  EXPECT_THROW(model.step(memory, ids({0, 1}), ids({3, 3}), {wide}, out),
               std::invalid_argument);
  EXPECT_THROW(model.step(memory, ids({0, 1}), ids({3, 3}), {}, out),
               std::invalid_argument);
  attnrt::DecodeOptions options;
  options.bos = static_cast<int>(V);
  EXPECT_THROW(model.decode(batch.src(), batch.lengths(), options), std::invalid_argument);
}

} // namespace
