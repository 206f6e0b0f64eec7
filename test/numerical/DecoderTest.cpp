// The compiled decoder of models/bahdanau.attn (bidirectional GRU encoder,
// additive attention, GRU decoder) against a double-precision reference
// written from the formulas: encode() + step() outputs, the row mapping of
// hypotheses to sentences, greedy and beam decoding (every hypothesis
// re-scored by the reference), and the errors of bad step inputs.
#include "Reference.h"

#include "bahdanau.h"

#include <gtest/gtest.h>

#include <random>

namespace {

constexpr int64_t V = 23, H = 6;

double sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }

/// GRU step as in PyTorch: n = tanh(x Wn + bin + r * (h Un + bhn)).
ref::Vec gru(const ref::Vec &x, const ref::Vec &h, const ref::Mat &w,
             const ref::Mat &u, const ref::Vec &bi, const ref::Vec &bh) {
  ref::Vec xw = ref::add(ref::mul(x, w), bi), hu = ref::add(ref::mul(h, u), bh);
  ref::Vec next(H);
  for (int64_t k = 0; k < H; ++k) {
    double r = sigmoid(xw[k] + hu[k]);
    double z = sigmoid(xw[H + k] + hu[H + k]);
    double n = std::tanh(xw[2 * H + k] + r * hu[2 * H + k]);
    next[k] = (1 - z) * n + z * h[k];
  }
  return next;
}

ref::Vec tanhOf(ref::Vec v) {
  for (double &x : v)
    x = std::tanh(x);
  return v;
}

struct StepResult {
  ref::Vec state, logits, attention;
};

/// The model written out for one sentence.
struct Reference {
  bahdanau::Model &m;
  ref::Mat h; // encoder outputs [len, 2H]
  ref::Vec s0;

  Reference(bahdanau::Model &m, const std::vector<int32_t> &src) : m(m) {
    ref::Mat es = ref::matrix(m.Es());
    size_t len = src.size();
    ref::Mat f(len), b(len);
    ref::Vec state(H, 0.0);
    for (size_t t = 0; t < len; ++t)
      f[t] = state = gru(es[src[t]], state, ref::matrix(m.Wf()), ref::matrix(m.Uf()),
                         ref::vector(m.bif()), ref::vector(m.bhf()));
    state.assign(H, 0.0);
    for (size_t t = len; t-- > 0;)
      b[t] = state = gru(es[src[t]], state, ref::matrix(m.Wb()), ref::matrix(m.Ub()),
                         ref::vector(m.bib()), ref::vector(m.bhb()));
    for (size_t t = 0; t < len; ++t)
      h.push_back(ref::concat(f[t], b[t]));
    ref::Vec last = len ? f[len - 1] : ref::Vec(H, 0.0);
    ref::Vec first = len ? b[0] : ref::Vec(H, 0.0);
    s0 = tanhOf(ref::mul(ref::concat(last, first), ref::matrix(m.Wi())));
  }

  StepResult step(int32_t y, const ref::Vec &s) const {
    ref::Vec sw = ref::mul(s, ref::matrix(m.Wa()));
    ref::Vec e(h.size());
    for (size_t i = 0; i < h.size(); ++i)
      e[i] = ref::dot(ref::vector(m.va()),
                      tanhOf(ref::add(sw, ref::mul(h[i], ref::matrix(m.Ua())))));
    ref::Vec a = ref::maskedSoftmax(e, std::vector<bool>(e.size(), true));
    ref::Vec c(2 * H, 0.0);
    for (size_t i = 0; i < h.size(); ++i)
      for (int64_t d = 0; d < 2 * H; ++d)
        c[d] += a[i] * h[i][d];
    ref::Vec x = ref::concat(ref::matrix(m.Et())[y], c);
    ref::Vec s2 = gru(x, s, ref::matrix(m.Wd()), ref::matrix(m.Ud()),
                      ref::vector(m.bid()), ref::vector(m.bhd()));
    ref::Vec logits =
        ref::add(ref::mul(ref::concat(s2, c), ref::matrix(m.Wo())), ref::vector(m.bo()));
    return {s2, logits, a};
  }

  /// log P(tokens) with teacher forcing from BOS, and the attention rows.
  double score(const std::vector<int32_t> &tokens, int32_t bos, ref::Mat &attention) const {
    ref::Vec s = s0;
    int32_t y = bos;
    double total = 0;
    for (int32_t next : tokens) {
      StepResult r = step(y, s);
      double mx = *std::max_element(r.logits.begin(), r.logits.end()), z = 0;
      for (double l : r.logits)
        z += std::exp(l - mx);
      total += r.logits[next] - mx - std::log(z);
      attention.push_back(r.attention);
      s = r.state;
      y = next;
    }
    return total;
  }
};

void randomize(bahdanau::Model &m, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-0.6f, 0.6f);
  for (const std::string &name : m.params().names()) {
    attnrt::Tensor &t = m.params().get(name);
    for (int64_t i = 0; i < t.numel(); ++i)
      t.data<float>()[i] = dist(gen);
  }
}

struct Batch {
  std::vector<std::vector<int32_t>> sentences{
      {3, 7, 1, 22, 9, 4, 15}, {5, 8}, {12, 12, 6, 0, 19}, {}};
  int64_t S = 7;
  attnrt::Tensor src() const {
    attnrt::Tensor t(attnrt::DType::I32, {static_cast<int64_t>(sentences.size()), S});
    for (size_t b = 0; b < sentences.size(); ++b)
      for (size_t i = 0; i < sentences[b].size(); ++i)
        t.at<int32_t>({static_cast<int64_t>(b), static_cast<int64_t>(i)}) = sentences[b][i];
    return t;
  }
  std::vector<int32_t> lengths() const {
    std::vector<int32_t> l;
    for (const auto &s : sentences)
      l.push_back(static_cast<int32_t>(s.size()));
    return l;
  }
};

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
  std::vector<Reference> refs;
  for (const auto &s : batch.sentences)
    refs.emplace_back(model, s);
  for (int64_t b = 0; b < 4; ++b)
    expectNear(refs[b].s0, memory.states[0].data<float>() + b * H,
               "initial state of sentence " + std::to_string(b));

  // Hypotheses in any order, several per sentence, each with its own state.
  std::vector<int32_t> rows{2, 0, 2, 1, 3, 0};
  std::vector<int32_t> tokens{4, 0, 22, 9, 1, 17};
  attnrt::Tensor state(attnrt::DType::F32, {6, H});
  std::mt19937 gen(3);
  std::uniform_real_distribution<float> dist(-1, 1);
  for (int64_t i = 0; i < state.numel(); ++i)
    state.data<float>()[i] = dist(gen);
  attnrt::StepOutputs out;
  model.step(memory, attnrt::Tensor::fromVector<int32_t>({6}, rows),
             attnrt::Tensor::fromVector<int32_t>({6}, tokens), {state}, out);
  ASSERT_EQ(out.logits.shape(), (std::vector<int64_t>{6, V}));
  ASSERT_EQ(out.attention.shape(), (std::vector<int64_t>{6, batch.S}));
  for (int64_t n = 0; n < 6; ++n) {
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
      Reference r(model, batch.sentences[b]);
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
  } catch (const attnrt::Error &e) {
    EXPECT_NE(std::string(e.what()).find("23"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("vocabulary"), std::string::npos) << e.what();
  }
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
