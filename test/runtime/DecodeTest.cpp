// attnrt::decode against hand-written step models.
//
// HistoryModel keeps each hypothesis's token history in its float state row, so the logits of a
// step are a fixed function of (sentence, tokens so far): if decode() gathered the state rows in
// the wrong order, the history a hypothesis's next step sees would not be its own tokens, and
// its log-probability would no longer equal the re-scored sum checked here. The state row also
// records which batch row it belongs to, which catches a wrong `rows` mapping.
#include "attnrt/Decode.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using attnrt::DecodeOptions;
using attnrt::DecoderMemory;
using attnrt::DType;
using attnrt::Hypothesis;
using attnrt::StepOutputs;
using attnrt::Tensor;
using testing::HasSubstr;

using History = std::vector<int32_t>;
/// Logits of the next token of `sentence` after `history` (the generated tokens, no BOS).
using LogitFn = std::function<std::vector<float>(int32_t sentence, const History &history)>;

/// A deterministic value in [0, 1) from a sentence, a history and a salt.
float hashUnit(int32_t sentence, const History &history, int64_t salt) {
  uint64_t h = 1469598103934665603ull ^ static_cast<uint64_t>(salt * 1000003 + sentence);
  for (int32_t t : history)
    h = (h ^ static_cast<uint64_t>(t + 7)) * 1099511628211ull;
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 32;
  return static_cast<float>(h >> 40) / static_cast<float>(1ull << 24);
}

/// The attention row the models write for (sentence, history): detectably different per history.
std::vector<float> attentionFor(int32_t sentence, const History &history, int64_t width) {
  std::vector<float> row(width);
  for (int64_t s = 0; s < width; ++s)
    row[s] = hashUnit(sentence, history, 100 + s);
  return row;
}

// State row layout: [sentence id, batch row, started, length, token 0, token 1, ...].
constexpr int kSentence = 0, kBatchRow = 1, kStarted = 2, kLength = 3, kTokens = 4;

class HistoryModel : public attnrt::StepModel {
public:
  HistoryModel(int64_t vocabulary, int maxLength, LogitFn logits, int64_t sourceLength = 0)
      : vocabulary_(vocabulary), width_(kTokens + maxLength + 1), logits_(std::move(logits)),
        sourceLength_(sourceLength) {}

  int64_t vocabularySize() const override { return vocabulary_; }

  /// A batch of the given sentence ids (their logits functions' first argument).
  DecoderMemory memory(const std::vector<int32_t> &sentences) const {
    DecoderMemory m;
    m.batch = static_cast<int64_t>(sentences.size());
    Tensor state(DType::F32, {m.batch, width_});
    for (int64_t b = 0; b < m.batch; ++b) {
      state.at({b, kSentence}) = static_cast<float>(sentences[b]);
      state.at({b, kBatchRow}) = static_cast<float>(b);
    }
    m.states.push_back(std::move(state));
    m.sourceLength = sourceLength_;
    return m;
  }

  void step(const DecoderMemory &memory, const Tensor &rows, const Tensor &tokens,
            const std::vector<Tensor> &states, StepOutputs &out) const override {
    const int64_t n = rows.dim(0);
    calls.push_back(n);
    if (out.states.size() != 1 || out.states[0].shape() != std::vector<int64_t>{n, width_})
      out.states = {Tensor(DType::F32, {n, width_})};
    if (out.logits.shape() != std::vector<int64_t>{n, vocabulary_})
      out.logits = Tensor(DType::F32, {n, vocabulary_});
    if (sourceLength_ > 0 && out.attention.shape() != std::vector<int64_t>{n, sourceLength_})
      out.attention = Tensor(DType::F32, {n, sourceLength_});
    for (int64_t i = 0; i < n; ++i) {
      const float *in = states[0].data<float>() + i * width_;
      float *s = out.states[0].data<float>() + i * width_;
      std::copy(in, in + width_, s);
      if (rows.data<int32_t>()[i] != static_cast<int32_t>(s[kBatchRow]) ||
          rows.data<int32_t>()[i] >= memory.batch)
        rowMismatch = true;
      if (s[kStarted] == 0) {
        s[kStarted] = 1; // the first step is fed BOS, which is not part of the history
      } else {
        int length = static_cast<int>(s[kLength]);
        s[kTokens + length] = static_cast<float>(tokens.data<int32_t>()[i]);
        s[kLength] = static_cast<float>(length + 1);
      }
      History history(s + kTokens, s + kTokens + static_cast<int>(s[kLength]));
      int32_t sentence = static_cast<int32_t>(s[kSentence]);
      std::vector<float> logits = logits_(sentence, history);
      std::copy(logits.begin(), logits.end(), out.logits.data<float>() + i * vocabulary_);
      if (sourceLength_ > 0) {
        std::vector<float> a = attentionFor(sentence, history, sourceLength_);
        std::copy(a.begin(), a.end(), out.attention.data<float>() + i * sourceLength_);
      }
    }
  }

  const LogitFn &logits() const { return logits_; }

  mutable std::vector<int64_t> calls; // N of each step
  mutable bool rowMismatch = false;

private:
  int64_t vocabulary_;
  int64_t width_;
  LogitFn logits_;
  int64_t sourceLength_;
};

/// Logits = log(p) for the given probabilities.
std::vector<float> logOf(const std::vector<double> &p) {
  std::vector<float> l;
  for (double x : p)
    l.push_back(static_cast<float>(std::log(x)));
  return l;
}

/// Log-softmax in double: the reference the search's float/fast-exp version must match.
std::vector<double> logSoftmax(const std::vector<float> &logits) {
  double max = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float x : logits)
    sum += std::exp(x - max);
  std::vector<double> out;
  for (float x : logits)
    out.push_back(x - max - std::log(sum));
  return out;
}

double lengthPenalty(double alpha, size_t n) {
  return alpha > 0 ? std::pow((5.0 + n) / 6.0, alpha) : 1.0;
}

/// Sum of the reference log-probabilities of `tokens`.
double rescore(const LogitFn &fn, int32_t sentence, const History &tokens) {
  double total = 0;
  History prefix;
  for (int32_t t : tokens) {
    total += logSoftmax(fn(sentence, prefix))[t];
    prefix.push_back(t);
  }
  return total;
}

/// Plain greedy decoding: the most likely allowed token (lowest id on ties) until EOS.
History greedyReference(const LogitFn &fn, int32_t sentence, const DecodeOptions &o) {
  History h;
  while (static_cast<int>(h.size()) < o.maxLength) {
    std::vector<float> logits = fn(sentence, h);
    bool eosAllowed = static_cast<int>(h.size()) + 1 >= o.minLength;
    int32_t best = -1;
    for (int32_t v = 0; v < static_cast<int32_t>(logits.size()); ++v)
      if ((v != o.eos || eosAllowed) && (best < 0 || logits[v] > logits[best]))
        best = v;
    h.push_back(best);
    if (best == o.eos)
      break;
  }
  return h;
}

struct Scored {
  History tokens;
  double logProb;
  double score;
  bool finished;
};

/// Every hypothesis the options allow (EOS only last and at position >= minLength; unfinished
/// ones have exactly maxLength tokens), best score first.
std::vector<Scored> exhaustive(const LogitFn &fn, int32_t sentence, int64_t vocabulary,
                               const DecodeOptions &o) {
  std::vector<Scored> all;
  std::function<void(History &, double)> grow = [&](History &h, double logProb) {
    std::vector<double> lp = logSoftmax(fn(sentence, h));
    for (int32_t v = 0; v < vocabulary; ++v) {
      size_t length = h.size() + 1;
      if (v == o.eos && static_cast<int>(length) < o.minLength)
        continue;
      h.push_back(v);
      double total = logProb + lp[v];
      if (v == o.eos || static_cast<int>(length) == o.maxLength)
        all.push_back({h, total, total / lengthPenalty(o.lengthPenalty, length), v == o.eos});
      else
        grow(h, total);
      h.pop_back();
    }
  };
  History h;
  grow(h, 0.0);
  std::stable_sort(all.begin(), all.end(),
                   [](const Scored &a, const Scored &b) { return a.score > b.score; });
  return all;
}

/// Random logits per (seed, sentence, history); EOS grows likelier with the length, at a rate
/// that differs per sentence, so sentences of one batch end at different steps.
LogitFn randomModel(uint64_t seed, int64_t vocabulary, int eos) {
  return [=](int32_t sentence, const History &history) {
    std::vector<float> l(vocabulary);
    for (int64_t v = 0; v < vocabulary; ++v)
      l[v] = 3.0f * (hashUnit(sentence, history, static_cast<int64_t>(seed) * 7919 + v) - 0.5f);
    int target = 2 + static_cast<int>(hashUnit(sentence, {}, static_cast<int64_t>(seed)) * 8);
    l[eos] += 1.5f * (static_cast<float>(history.size()) - static_cast<float>(target));
    return l;
  };
}

/// Checks what holds for every result: sorted by score, distinct, logProb and score equal to the
/// re-scored tokens, EOS exactly at the end of finished ones, lengths within the options.
void expectConsistent(const std::vector<Hypothesis> &hyps, const LogitFn &fn, int32_t sentence,
                      const DecodeOptions &o) {
  for (size_t i = 0; i < hyps.size(); ++i) {
    const Hypothesis &h = hyps[i];
    SCOPED_TRACE("sentence " + std::to_string(sentence) + ", hypothesis " + std::to_string(i));
    ASSERT_FALSE(h.tokens.empty());
    EXPECT_LE(static_cast<int>(h.tokens.size()), o.maxLength);
    EXPECT_NEAR(h.logProb, rescore(fn, sentence, h.tokens), 1e-5);
    EXPECT_NEAR(h.score, h.logProb / lengthPenalty(o.lengthPenalty, h.tokens.size()), 1e-12);
    EXPECT_EQ(h.finished, h.tokens.back() == o.eos);
    if (h.finished) {
      EXPECT_GE(static_cast<int>(h.tokens.size()), o.minLength);
    } else {
      EXPECT_EQ(static_cast<int>(h.tokens.size()), o.maxLength);
    }
    for (size_t t = 0; t + 1 < h.tokens.size(); ++t)
      EXPECT_NE(h.tokens[t], o.eos);
    if (i > 0) {
      EXPECT_GE(hyps[i - 1].score, h.score);
    }
    for (size_t j = 0; j < i; ++j)
      EXPECT_NE(hyps[j].tokens, h.tokens);
  }
}

// ---------------------------------------------------------------------------------------------
// 1. Greedy is not optimal; a beam finds the better path.

constexpr int32_t kEos = 0, kBos = 1, kA = 2, kB = 3, kC = 4;

// Greedy: A (.5) B (.4) A (.4) EOS (.6) = .048; best: A (.5) C (.3) B (.6) EOS (.6) = .054.
LogitFn classicModel() {
  return [](int32_t, const History &h) {
    // Probabilities of EOS, BOS, A, B, C.
    if (h.empty())
      return logOf({0.05, 0.05, 0.5, 0.25, 0.15});
    if (h == History{kA})
      return logOf({0.05, 0.05, 0.2, 0.4, 0.3});
    if (h == History{kA, kB})
      return logOf({0.05, 0.05, 0.4, 0.3, 0.2});
    if (h == History{kA, kC})
      return logOf({0.05, 0.05, 0.1, 0.6, 0.2});
    if (h == History{kA, kB, kA})
      return logOf({0.6, 0.05, 0.1, 0.15, 0.1});
    if (h == History{kA, kC, kB})
      return logOf({0.6, 0.05, 0.15, 0.1, 0.1});
    return logOf({0.05, 0.05, 0.3, 0.3, 0.3});
  };
}

DecodeOptions classicOptions(int beamSize) {
  DecodeOptions o;
  o.beamSize = beamSize;
  o.bos = kBos;
  o.eos = kEos;
  o.maxLength = 10;
  return o;
}

TEST(Decode, GreedyMissesTheBestPathThatABeamFinds) {
  HistoryModel model(5, 10, classicModel());
  auto greedy = attnrt::decode(model, model.memory({0}), classicOptions(1));
  ASSERT_EQ(greedy.size(), 1u);
  ASSERT_EQ(greedy[0].size(), 1u);
  EXPECT_EQ(greedy[0][0].tokens, (History{kA, kB, kA, kEos}));
  EXPECT_NEAR(greedy[0][0].logProb, std::log(0.048), 1e-6);
  EXPECT_TRUE(greedy[0][0].finished);
  EXPECT_EQ(model.calls, (std::vector<int64_t>{1, 1, 1, 1})); // stops at the EOS

  for (int beam : {2, 3}) {
    HistoryModel m(5, 10, classicModel());
    auto best = attnrt::decode(m, m.memory({0}), classicOptions(beam));
    ASSERT_EQ(best[0].size(), 1u);
    EXPECT_EQ(best[0][0].tokens, (History{kA, kC, kB, kEos})) << "beam " << beam;
    EXPECT_NEAR(best[0][0].logProb, std::log(0.054), 1e-6) << "beam " << beam;
    EXPECT_EQ(best[0][0].score, best[0][0].logProb);
    EXPECT_FALSE(m.rowMismatch);
  }
  DecodeOptions two = classicOptions(2);
  two.nBest = 2;
  HistoryModel m(5, 10, classicModel());
  auto both = attnrt::decode(m, m.memory({0}), two);
  ASSERT_EQ(both[0].size(), 2u);
  EXPECT_NEAR(both[0][0].logProb, std::log(0.054), 1e-6);
  EXPECT_EQ(both[0][1].tokens, (History{kA, kB, kA, kEos}));
  EXPECT_NEAR(both[0][1].logProb, std::log(0.048), 1e-6);
}

// ---------------------------------------------------------------------------------------------
// 2. beamSize 1 is greedy.

TEST(Decode, BeamOneIsGreedyOnRandomModels) {
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const int64_t vocabulary = 3 + static_cast<int64_t>(seed % 9);
    DecodeOptions o;
    o.bos = 1;
    o.eos = static_cast<int>(seed % vocabulary);
    o.maxLength = 14;
    o.minLength = static_cast<int>(seed % 4);
    LogitFn fn = randomModel(seed, vocabulary, o.eos);
    HistoryModel model(vocabulary, o.maxLength, fn);
    std::vector<int32_t> sentences = {0, 1, 2, 3, 4, 5, 6};
    auto result = attnrt::decode(model, model.memory(sentences), o);
    EXPECT_FALSE(model.rowMismatch);
    ASSERT_EQ(result.size(), sentences.size());
    for (int32_t s : sentences) {
      ASSERT_EQ(result[s].size(), 1u);
      const Hypothesis &h = result[s][0];
      EXPECT_EQ(h.tokens, greedyReference(fn, s, o)) << "sentence " << s;
      expectConsistent(result[s], fn, s, o);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// 3. n-best lists: sorted, distinct, consistent, and exact when the beam holds everything.

TEST(Decode, WideBeamFindsTheExhaustiveNBest) {
  const int64_t vocabulary = 4;
  for (double alpha : {0.0, 0.8}) {
    for (int minLength : {0, 3}) {
      for (uint64_t seed = 1; seed <= 4; ++seed) {
        SCOPED_TRACE("alpha " + std::to_string(alpha) + ", minLength " + std::to_string(minLength) +
                     ", seed " + std::to_string(seed));
        DecodeOptions o;
        o.bos = 1;
        o.eos = 0;
        o.maxLength = 4;
        o.minLength = minLength;
        o.lengthPenalty = alpha;
        // Every step has at most 3^3 * 4 = 108 candidates: a beam of 128 prunes nothing.
        o.beamSize = 128;
        o.nBest = 12;
        LogitFn fn = randomModel(seed, vocabulary, o.eos);
        HistoryModel model(vocabulary, o.maxLength, fn);
        auto result = attnrt::decode(model, model.memory({0, 1}), o);
        EXPECT_FALSE(model.rowMismatch);
        for (int32_t s : {0, 1}) {
          std::vector<Scored> all = exhaustive(fn, s, vocabulary, o);
          ASSERT_EQ(result[s].size(), 12u);
          expectConsistent(result[s], fn, s, o);
          for (size_t i = 0; i < result[s].size(); ++i) {
            EXPECT_EQ(result[s][i].tokens, all[i].tokens) << "rank " << i;
            EXPECT_NEAR(result[s][i].score, all[i].score, 1e-5) << "rank " << i;
            EXPECT_EQ(result[s][i].finished, all[i].finished) << "rank " << i;
          }
        }
      }
    }
  }
}

TEST(Decode, NarrowBeamNBestIsSortedDistinctAndConsistent) {
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const int64_t vocabulary = 9;
    DecodeOptions o;
    o.bos = 1;
    o.eos = 2;
    o.maxLength = 12;
    o.beamSize = 4;
    o.nBest = 4;
    o.lengthPenalty = seed % 2 ? 0.0 : 0.6;
    LogitFn fn = randomModel(seed, vocabulary, o.eos);
    HistoryModel model(vocabulary, o.maxLength, fn);
    auto result = attnrt::decode(model, model.memory({0, 1, 2, 3}), o);
    EXPECT_FALSE(model.rowMismatch);
    for (int32_t s = 0; s < 4; ++s) {
      EXPECT_EQ(result[s].size(), 4u);
      expectConsistent(result[s], fn, s, o);
    }
  }
}

// One step over large random rows: the hypotheses are each row's top tokens, and their
// log-probabilities match a log-softmax in double (the search uses a vectorised float exp).
TEST(Decode, OneStepIsTheExactTopKAndLogSoftmax) {
  for (int64_t vocabulary : {7, 100, 1000, 50000}) {
    SCOPED_TRACE("V = " + std::to_string(vocabulary));
    LogitFn fn = [vocabulary](int32_t sentence, const History &) {
      std::mt19937 rng(static_cast<uint32_t>(sentence * 7919 + vocabulary));
      std::normal_distribution<float> normal(0.f, 1.f + static_cast<float>(sentence));
      std::vector<float> l(vocabulary);
      for (float &x : l)
        x = normal(rng);
      if (sentence == 3)
        l[vocabulary - 1] = 50.f; // the best token last
      if (sentence == 4)
        std::fill(l.begin(), l.end(), -1.f); // all tied: the lowest ids
      return l;
    };
    DecodeOptions o;
    o.bos = 1;
    o.eos = 0;
    o.maxLength = 1;
    o.beamSize = 5;
    o.nBest = 5;
    HistoryModel model(vocabulary, o.maxLength, fn);
    std::vector<int32_t> sentences = {0, 1, 2, 3, 4, 5, 6, 7};
    auto r = attnrt::decode(model, model.memory(sentences), o);
    for (int32_t s : sentences) {
      std::vector<float> logits = fn(s, {});
      std::vector<double> reference = logSoftmax(logits);
      std::vector<int32_t> order(vocabulary);
      for (int32_t v = 0; v < vocabulary; ++v)
        order[v] = v;
      std::stable_sort(order.begin(), order.end(),
                       [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
      // EOS only counts among the best beamSize, like any candidate of the step.
      ASSERT_EQ(r[s].size(), 5u);
      for (size_t i = 0; i < 5; ++i) {
        EXPECT_EQ(r[s][i].tokens, History{order[i]}) << "sentence " << s << ", rank " << i;
        EXPECT_NEAR(r[s][i].logProb, reference[order[i]], 1e-6)
            << "sentence " << s << ", rank " << i;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// 4. EOS, minLength, maxLength, length penalty.

// EOS (id 0) gets likely at the third token; A (id 2) is likely before.
LogitFn eosAtThree() {
  return [](int32_t, const History &h) {
    return h.size() >= 2 ? logOf({0.9, 0.02, 0.04, 0.04}) : logOf({0.1, 0.02, 0.8, 0.08});
  };
}

TEST(Decode, EosEndsAHypothesisAndIsIncluded) {
  for (int beam : {1, 3}) {
    HistoryModel model(4, 10, eosAtThree());
    DecodeOptions o = classicOptions(beam);
    auto r = attnrt::decode(model, model.memory({0}), o);
    const Hypothesis &h = r[0][0];
    EXPECT_EQ(h.tokens, (History{kA, kA, kEos})) << "beam " << beam;
    EXPECT_TRUE(h.finished);
    EXPECT_NEAR(h.logProb, std::log(0.8 * 0.8 * 0.9), 1e-6);
  }
}

TEST(Decode, MinLengthSuppressesEosBeforeIt) {
  for (int beam : {1, 3}) {
    HistoryModel model(4, 10, eosAtThree());
    DecodeOptions o = classicOptions(beam);
    o.minLength = 5;
    auto r = attnrt::decode(model, model.memory({0}), o);
    const Hypothesis &h = r[0][0];
    ASSERT_EQ(h.tokens.size(), 5u) << "beam " << beam;
    EXPECT_EQ(h.tokens.back(), kEos);
    EXPECT_TRUE(h.finished);
    // The suppressed EOS still counts in the normalisation: tokens 3 and 4 are A or B at .04.
    EXPECT_NEAR(h.logProb, std::log(0.8 * 0.8 * 0.04 * 0.04 * 0.9), 1e-6);
    expectConsistent(r[0], eosAtThree(), 0, o);
  }
}

TEST(Decode, MaxLengthLeavesHypothesesUnfinished) {
  auto neverEos = [](int32_t, const History &) { return logOf({1e-9, 0.1, 0.6, 0.3}); };
  for (int beam : {1, 2}) {
    HistoryModel model(4, 6, neverEos);
    DecodeOptions o = classicOptions(beam);
    o.maxLength = 6;
    o.nBest = beam;
    auto r = attnrt::decode(model, model.memory({0}), o);
    ASSERT_EQ(r[0].size(), static_cast<size_t>(beam));
    EXPECT_EQ(r[0][0].tokens, History(6, kA));
    for (const Hypothesis &h : r[0]) {
      EXPECT_FALSE(h.finished);
      EXPECT_EQ(h.tokens.size(), 6u);
    }
    EXPECT_EQ(model.calls.size(), 6u);
    expectConsistent(r[0], neverEos, 0, o);
  }
}

TEST(Decode, MaxLengthOneAllowsEosOrOneToken) {
  HistoryModel model(4, 1, eosAtThree());
  DecodeOptions o = classicOptions(3);
  o.maxLength = 1;
  o.nBest = 3;
  auto r = attnrt::decode(model, model.memory({0}), o);
  ASSERT_EQ(r[0].size(), 3u);
  EXPECT_EQ(r[0][0].tokens, History{kA});
  EXPECT_FALSE(r[0][0].finished);
  EXPECT_EQ(r[0][1].tokens, History{kEos});
  EXPECT_TRUE(r[0][1].finished);
  EXPECT_EQ(r[0][2].tokens, History{kB});
}

// Raw log-probability prefers [EOS] (.45); per token, A A A EOS (.55 * .8 * .8 * .9 = .3168) is
// better, and with alpha = 2 it wins: -1.1495 / lp(4) = -0.511 > -0.799 / lp(1) = -0.799.
LogitFn shortOrLong() {
  return [](int32_t, const History &h) {
    if (h.empty())
      return logOf({0.45, 1e-4, 0.55, 1e-4});
    if (h.size() < 3)
      return logOf({1e-4, 0.1, 0.8, 0.1});
    return logOf({0.9, 0.05, 0.025, 0.025});
  };
}

TEST(Decode, LengthPenaltyLetsTheLongerHypothesisWin) {
  DecodeOptions o = classicOptions(2);
  HistoryModel plain(4, 10, shortOrLong());
  auto raw = attnrt::decode(plain, plain.memory({0}), o);
  EXPECT_EQ(raw[0][0].tokens, History{kEos});
  EXPECT_NEAR(raw[0][0].score, std::log(0.45), 1e-3); // the probabilities sum to 1.0002

  o.lengthPenalty = 2.0;
  HistoryModel penalised(4, 10, shortOrLong());
  auto normalised = attnrt::decode(penalised, penalised.memory({0}), o);
  EXPECT_EQ(normalised[0][0].tokens, (History{kA, kA, kA, kEos}));
  EXPECT_NEAR(normalised[0][0].score, normalised[0][0].logProb / 2.25, 1e-12);
  EXPECT_GT(normalised[0][0].score, std::log(0.45));
  expectConsistent(normalised[0], shortOrLong(), 0, o);
}

// An EOS ranked below the beam is pruned like any other candidate: greedy continues with A
// although [EOS] (.4) would beat the path it ends with, A EOS (.6 * .5 = .3).
TEST(Decode, EosBelowTheBeamIsPruned) {
  auto fn = [](int32_t, const History &h) {
    return h.empty() ? logOf({0.4, 0.0001, 0.5999}) : logOf({0.5, 0.0001, 0.4999});
  };
  HistoryModel model(3, 10, fn);
  auto r = attnrt::decode(model, model.memory({0}), classicOptions(1));
  EXPECT_EQ(r[0][0].tokens, (History{kA, kEos}));
}

// The same in a beam of 2 with two rows: at step 2 the candidates are [A EOS] .25, [A A] .225,
// [B EOS] .22, [B A] .12; [B EOS] ranks third and is pruned although it would be second best.
TEST(Decode, EosRankedBelowTheBeamIsPruned) {
  // Probabilities of EOS, BOS, A, B.
  auto fn = [](int32_t, const History &h) {
    if (h.empty())
      return logOf({0.1, 0.0001, 0.5, 0.3999});
    if (h == History{kA})
      return logOf({0.5, 0.0001, 0.45, 0.0499});
    if (h == History{kB})
      return logOf({0.55, 0.0001, 0.3, 0.1499});
    return logOf({0.9, 0.0001, 0.05, 0.0499});
  };
  HistoryModel model(4, 10, fn);
  DecodeOptions o = classicOptions(2);
  o.nBest = 2;
  auto r = attnrt::decode(model, model.memory({0}), o);
  ASSERT_EQ(r[0].size(), 2u);
  EXPECT_EQ(r[0][0].tokens, (History{kA, kEos}));
  EXPECT_EQ(r[0][1].tokens, (History{kA, kA, kEos}));
}

// A forbidden EOS still takes part in the max of the log-softmax: with its logit at 200, the
// other tokens' exponentials would overflow against any smaller max.
TEST(Decode, ForbiddenEosWithAHugeLogitStaysFinite) {
  auto fn = [](int32_t, const History &) { return std::vector<float>{200.f, -5.f, 0.f, -1.f}; };
  HistoryModel model(4, 10, fn);
  DecodeOptions o = classicOptions(2);
  o.minLength = 3;
  auto r = attnrt::decode(model, model.memory({0}), o);
  EXPECT_EQ(r[0][0].tokens, (History{kA, kA, kEos}));
  EXPECT_NEAR(r[0][0].logProb, rescore(fn, 0, r[0][0].tokens), 1e-4);
  EXPECT_NEAR(r[0][0].logProb, -400.0, 1e-3);
}

// Each row offers beamSize + 1 tokens, so an EOS among them does not cost the beam a live
// hypothesis: step 1 keeps A and B live beside the finished [EOS].
TEST(Decode, EosDoesNotCostALiveSlot) {
  // Probabilities of EOS, BOS, A, B.
  auto fn = [](int32_t, const History &h) {
    if (h.empty())
      return logOf({0.5, 0.0001, 0.3, 0.1999});
    return h == History{kB} ? logOf({0.9, 0.0001, 0.05, 0.0499})
                            : logOf({0.1, 0.0001, 0.45, 0.4499});
  };
  HistoryModel model(4, 10, fn);
  DecodeOptions o = classicOptions(2);
  o.nBest = 2;
  auto r = attnrt::decode(model, model.memory({0}), o);
  ASSERT_GE(model.calls.size(), 2u);
  EXPECT_EQ(model.calls[1], 2);
  ASSERT_EQ(r[0].size(), 2u);
  EXPECT_EQ(r[0][0].tokens, History{kEos});
  EXPECT_EQ(r[0][1].tokens, (History{kB, kEos}));
}

// Equal log-probabilities go to the lower token id, then to the better parent.
TEST(Decode, TiesAreBrokenByTokenId) {
  auto uniform = [](int32_t, const History &) { return std::vector<float>(4, 0.f); };
  DecodeOptions o;
  o.bos = 0;
  o.eos = 3;
  o.maxLength = 3;
  o.beamSize = 3;
  o.nBest = 3;
  HistoryModel model(4, 3, uniform);
  auto r = attnrt::decode(model, model.memory({0}), o);
  ASSERT_EQ(r[0].size(), 3u);
  // [EOS] ranks after tokens 0, 1, 2 at step 1 and is pruned; the three best are all 3 long.
  EXPECT_EQ(r[0][0].tokens, (History{0, 0, 0}));
  EXPECT_EQ(r[0][1].tokens, (History{0, 0, 1}));
  EXPECT_EQ(r[0][2].tokens, (History{0, 0, 2}));
  o.beamSize = o.nBest = 1;
  HistoryModel greedy(4, 3, uniform);
  EXPECT_EQ(attnrt::decode(greedy, greedy.memory({0}), o)[0][0].tokens, (History{0, 0, 0}));
}

// ---------------------------------------------------------------------------------------------
// 5. Batching.

TEST(Decode, BatchGivesTheSameResultsAsEachSentenceAlone) {
  for (int beam : {1, 3, 5}) {
    for (uint64_t seed : {3u, 11u}) {
      SCOPED_TRACE("beam " + std::to_string(beam) + ", seed " + std::to_string(seed));
      const int64_t vocabulary = 11;
      DecodeOptions o;
      o.bos = 1;
      o.eos = 3;
      o.maxLength = 16;
      o.beamSize = beam;
      o.nBest = beam;
      o.lengthPenalty = beam == 5 ? 0.7 : 0.0;
      LogitFn fn = randomModel(seed, vocabulary, o.eos);
      std::vector<int32_t> sentences = {4, 0, 9, 2, 7, 5};
      HistoryModel batchModel(vocabulary, o.maxLength, fn, 3);
      auto batch = attnrt::decode(batchModel, batchModel.memory(sentences), o);
      EXPECT_FALSE(batchModel.rowMismatch);
      ASSERT_EQ(batch.size(), sentences.size());
      size_t longest = 0;
      for (size_t b = 0; b < sentences.size(); ++b) {
        HistoryModel alone(vocabulary, o.maxLength, fn, 3);
        auto single = attnrt::decode(alone, alone.memory({sentences[b]}), o);
        EXPECT_FALSE(alone.rowMismatch);
        ASSERT_EQ(batch[b].size(), single[0].size()) << "sentence " << b;
        for (size_t i = 0; i < single[0].size(); ++i) {
          EXPECT_EQ(batch[b][i].tokens, single[0][i].tokens) << "sentence " << b << ", " << i;
          EXPECT_EQ(batch[b][i].logProb, single[0][i].logProb) << "sentence " << b << ", " << i;
          EXPECT_EQ(batch[b][i].attention, single[0][i].attention);
        }
        expectConsistent(batch[b], fn, sentences[b], o);
        longest = std::max(longest, alone.calls.size());
      }
      // The batch takes as many steps as its slowest sentence, and N never exceeds B * beam.
      EXPECT_EQ(batchModel.calls.size(), longest);
      for (int64_t n : batchModel.calls)
        EXPECT_LE(n, static_cast<int64_t>(sentences.size()) * beam);
    }
  }
}

TEST(Decode, FinishedSentencesLeaveTheBatch) {
  // Sentence s says EOS after s + 1 tokens; greedy, so N counts the unfinished sentences.
  auto fn = [](int32_t sentence, const History &h) {
    return static_cast<int32_t>(h.size()) == sentence + 1 ? logOf({0.9, 0.05, 0.05})
                                                          : logOf({0.05, 0.05, 0.9});
  };
  HistoryModel model(3, 10, fn);
  DecodeOptions o;
  o.bos = 1;
  o.eos = 0;
  o.maxLength = 10;
  auto r = attnrt::decode(model, model.memory({2, 0, 3, 1}), o);
  EXPECT_EQ(model.calls, (std::vector<int64_t>{4, 4, 3, 2, 1}));
  EXPECT_FALSE(model.rowMismatch);
  EXPECT_EQ(r[0][0].tokens.size(), 4u);
  EXPECT_EQ(r[1][0].tokens.size(), 2u);
  EXPECT_EQ(r[2][0].tokens.size(), 5u);
  EXPECT_EQ(r[3][0].tokens.size(), 3u);
}

// A large vocabulary: the rows of a step are split over threads, with the same results.
TEST(Decode, ThreadsDoNotChangeTheResult) {
  const int64_t vocabulary = 40000;
  std::vector<float> base(vocabulary);
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.f, 2.f);
  for (float &x : base)
    x = normal(rng);
  // A few tokens per (sentence, history) get a boost, so hypotheses diverge.
  LogitFn fn = [base](int32_t sentence, const History &h) {
    std::vector<float> l = base;
    for (int j = 0; j < 8; ++j)
      l[static_cast<int64_t>(hashUnit(sentence, h, j) * 39999) + 1] += 6.f;
    l[0] = 2.f * static_cast<float>(h.size()) - 6.f - static_cast<float>(sentence % 3);
    return l;
  };
  DecodeOptions o;
  o.bos = 1;
  o.eos = 0;
  o.maxLength = 8;
  o.beamSize = 4;
  o.nBest = 2;
  std::vector<std::vector<Hypothesis>> results[2];
  for (int threads : {1, 4}) {
    o.threads = threads;
    HistoryModel model(vocabulary, o.maxLength, fn);
    results[threads == 4] = attnrt::decode(model, model.memory({0, 1, 2, 3, 4, 5, 6, 7}), o);
    EXPECT_FALSE(model.rowMismatch);
  }
  for (int32_t s = 0; s < 8; ++s)
    for (size_t i = 0; i < results[0][s].size(); ++i) {
      EXPECT_EQ(results[0][s][i].tokens, results[1][s][i].tokens);
      EXPECT_EQ(results[0][s][i].logProb, results[1][s][i].logProb);
    }
  expectConsistent(results[1][3], fn, 3, o);
}

// ---------------------------------------------------------------------------------------------
// 6. Attention.

TEST(Decode, AttentionIsRecordedPerTokenAndFollowsTheBeams) {
  const int64_t vocabulary = 7, width = 5;
  DecodeOptions o;
  o.bos = 1;
  o.eos = 0;
  o.maxLength = 10;
  o.beamSize = 4;
  o.nBest = 3;
  LogitFn fn = randomModel(5, vocabulary, o.eos);
  HistoryModel model(vocabulary, o.maxLength, fn, width);
  auto r = attnrt::decode(model, model.memory({0, 1, 2}), o);
  for (int32_t s = 0; s < 3; ++s)
    for (const Hypothesis &h : r[s]) {
      ASSERT_EQ(h.attention.size(), h.tokens.size() * width);
      History prefix;
      for (size_t t = 0; t < h.tokens.size(); ++t) {
        std::vector<float> expected = attentionFor(s, prefix, width);
        std::vector<float> got(h.attention.begin() + t * width,
                               h.attention.begin() + (t + 1) * width);
        EXPECT_EQ(got, expected) << "sentence " << s << ", token " << t;
        prefix.push_back(h.tokens[t]);
      }
    }

  o.keepAttention = false;
  HistoryModel again(vocabulary, o.maxLength, fn, width);
  auto without = attnrt::decode(again, again.memory({0, 1, 2}), o);
  for (int32_t s = 0; s < 3; ++s)
    for (size_t i = 0; i < r[s].size(); ++i) {
      EXPECT_TRUE(without[s][i].attention.empty());
      EXPECT_EQ(without[s][i].tokens, r[s][i].tokens);
    }
}

TEST(Decode, NoAttentionLeavesItEmpty) {
  HistoryModel model(5, 10, classicModel());
  auto r = attnrt::decode(model, model.memory({0}), classicOptions(2));
  EXPECT_TRUE(r[0][0].attention.empty());
}

// ---------------------------------------------------------------------------------------------
// 7. Errors.

std::string decodeError(const attnrt::StepModel &model, const DecoderMemory &memory,
                        const DecodeOptions &o) {
  try {
    attnrt::decode(model, memory, o);
  } catch (const std::invalid_argument &e) {
    return e.what();
  }
  return "(no exception)";
}

TEST(Decode, RejectsBadOptions) {
  HistoryModel model(5, 10, classicModel());
  DecoderMemory memory = model.memory({0});
  auto with = [](std::function<void(DecodeOptions &)> change) {
    DecodeOptions o = classicOptions(3);
    change(o);
    return o;
  };
  EXPECT_THAT(decodeError(model, memory, with([](auto &o) { o.beamSize = 0; })),
              HasSubstr("options.beamSize = 0, expected >= 1"));
  EXPECT_THAT(decodeError(model, memory, with([](auto &o) { o.nBest = 0; })),
              HasSubstr("options.nBest = 0, expected 1..beamSize (beamSize = 3)"));
  EXPECT_THAT(decodeError(model, memory, with([](auto &o) { o.nBest = 4; })),
              HasSubstr("options.nBest = 4, expected 1..beamSize (beamSize = 3)"));
  EXPECT_THAT(decodeError(model, memory, with([](auto &o) { o.maxLength = 0; })),
              HasSubstr("options.maxLength = 0, expected >= 1"));
  EXPECT_THAT(decodeError(model, memory, with([](auto &o) { o.minLength = 11; })),
              HasSubstr("options.minLength = 11, expected 0..maxLength (maxLength = 10)"));
  EXPECT_THAT(decodeError(model, memory, with([](auto &o) { o.minLength = -1; })),
              HasSubstr("options.minLength = -1"));
  EXPECT_THAT(decodeError(model, memory, with([](auto &o) { o.bos = 5; })),
              HasSubstr("options.bos = 5 is outside the vocabulary [0, 5)"));
  EXPECT_THAT(decodeError(model, memory, with([](auto &o) { o.eos = -1; })),
              HasSubstr("options.eos = -1 is outside the vocabulary [0, 5)"));
  EXPECT_THAT(decodeError(model, memory, with([](auto &o) { o.lengthPenalty = -0.5; })),
              HasSubstr("options.lengthPenalty = -0.5"));
  EXPECT_THAT(decodeError(model, memory, with([](auto &o) {
                            o.lengthPenalty = std::numeric_limits<double>::quiet_NaN();
                          })),
              HasSubstr("options.lengthPenalty = nan"));
  EXPECT_THAT(decodeError(model, memory, with([](auto &o) { o.threads = -2; })),
              HasSubstr("options.threads = -2, expected >= 0"));

  HistoryModel onlyEos(1, 10, [](int32_t, const History &) { return std::vector<float>{0.f}; });
  DecodeOptions o;
  o.bos = o.eos = 0;
  o.minLength = 2;
  EXPECT_THAT(decodeError(onlyEos, onlyEos.memory({0}), o),
              HasSubstr("options.minLength = 2 cannot be met: the vocabulary holds only EOS"));
  o.minLength = 1;
  auto r = attnrt::decode(onlyEos, onlyEos.memory({0}), o);
  EXPECT_EQ(r[0][0].tokens, History{0});
  EXPECT_EQ(r[0][0].logProb, 0.0);
}

TEST(Decode, RejectsBadMemory) {
  HistoryModel model(5, 10, classicModel());
  DecodeOptions o = classicOptions(2);
  DecoderMemory empty;
  EXPECT_THAT(decodeError(model, empty, o), HasSubstr("memory.batch = 0, expected >= 1"));
  DecoderMemory memory = model.memory({0, 1});
  memory.batch = 3;
  EXPECT_THAT(decodeError(model, memory, o),
              HasSubstr("memory.states[0] has shape [2, 15], expected [B, ...] with B = "
                        "memory.batch = 3"));
  memory = model.memory({0, 1});
  memory.sourceLengths = {4, 5, 6};
  EXPECT_THAT(decodeError(model, memory, o),
              HasSubstr("memory.sourceLengths has 3 entries, expected memory.batch = 2"));
}

/// Wraps HistoryModel and breaks one output at step `when` (1-based).
class BrokenModel : public attnrt::StepModel {
public:
  enum Fault {
    LogitsWidth,
    LogitsRows,
    StateRows,
    StateCount,
    AttentionWidth,
    NaNLogit,
    InfLogit,
    AttentionDisappears
  };
  BrokenModel(Fault fault, int when, int64_t width = 0)
      : inner_(5, 10, classicModel(), width), fault_(fault), when_(when) {}
  int64_t vocabularySize() const override { return 5; }
  DecoderMemory memory() const { return inner_.memory({0, 1}); }
  void step(const DecoderMemory &memory, const Tensor &rows, const Tensor &tokens,
            const std::vector<Tensor> &states, StepOutputs &out) const override {
    inner_.step(memory, rows, tokens, states, out);
    if (static_cast<int>(inner_.calls.size()) != when_)
      return;
    int64_t n = rows.dim(0);
    switch (fault_) {
    case LogitsWidth:
      out.logits = Tensor(DType::F32, {n, 4});
      break;
    case LogitsRows:
      out.logits = Tensor(DType::F32, {n + 1, 5});
      break;
    case StateRows:
      out.states[0] = Tensor(DType::F32, {n - 1, 15});
      break;
    case StateCount:
      out.states.push_back(Tensor(DType::F32, {n, 2}));
      break;
    case AttentionWidth:
      out.attention = Tensor(DType::F32, {n, 2});
      break;
    case NaNLogit:
      out.logits.at({n - 1, 3}) = std::numeric_limits<float>::quiet_NaN();
      break;
    case InfLogit:
      out.logits.at({0, 2}) = std::numeric_limits<float>::infinity();
      break;
    case AttentionDisappears:
      out.attention = Tensor();
      break;
    }
  }

private:
  HistoryModel inner_;
  Fault fault_;
  int when_;
};

TEST(Decode, RejectsBadStepOutputs) {
  DecodeOptions o = classicOptions(2);
  auto error = [&](BrokenModel::Fault fault, int when, int64_t width = 0) {
    BrokenModel model(fault, when, width);
    return decodeError(model, model.memory(), o);
  };
  // Step 1 has N = B = 2 rows; later steps B * beam = 4.
  EXPECT_THAT(error(BrokenModel::LogitsWidth, 1),
              HasSubstr("step 1 (N = 2) returned logits of shape [2, 4] (F32), expected [N, V] "
                        "= [2, 5]"));
  EXPECT_THAT(error(BrokenModel::LogitsRows, 2),
              HasSubstr("step 2 (N = 4) returned logits of shape [5, 5] (F32), expected [N, V] "
                        "= [4, 5]"));
  EXPECT_THAT(error(BrokenModel::StateRows, 2),
              HasSubstr("step 2 (N = 4) returned state 0 of shape [3, 15] (F32), expected "
                        "[4, 15]"));
  EXPECT_THAT(error(BrokenModel::StateCount, 1),
              HasSubstr("step 1 (N = 2) returned 2 states, expected 1"));
  EXPECT_THAT(error(BrokenModel::AttentionWidth, 3, 6),
              HasSubstr("step 3 (N = 4) returned attention of shape [4, 2] (F32), expected "
                        "[N, S] = [4, 6]"));
  EXPECT_THAT(error(BrokenModel::AttentionWidth, 1, 0), HasSubstr("expected [N, S] = [2, 0]"));
  EXPECT_THAT(error(BrokenModel::AttentionDisappears, 2, 6),
              HasSubstr("step 2 (N = 4) returned no attention, but step 1 returned attention"));
  EXPECT_THAT(error(BrokenModel::NaNLogit, 3),
              HasSubstr("step 3 returned logits holding NaN at row 3 (sentence 1), token 3 "
                        "(V = 5)"));
  EXPECT_THAT(error(BrokenModel::InfLogit, 1),
              HasSubstr("step 1 returned logits holding +inf at row 0 (sentence 0), token 2"));
  // Without keepAttention a model may drop the attention.
  o.keepAttention = false;
  BrokenModel quiet(BrokenModel::AttentionDisappears, 2, 6);
  EXPECT_NO_THROW(attnrt::decode(quiet, quiet.memory(), o));
}

TEST(Decode, AllMinusInfinityLogitsStillEnd) {
  auto fn = [](int32_t, const History &h) {
    std::vector<float> l(4, -std::numeric_limits<float>::infinity());
    if (h.size() < 2)
      l[2] = 0.f;
    return l;
  };
  for (int beam : {1, 3}) {
    HistoryModel model(4, 5, fn);
    DecodeOptions o = classicOptions(beam);
    o.maxLength = 5;
    auto r = attnrt::decode(model, model.memory({0, 1}), o);
    ASSERT_EQ(r[0].size(), 1u);
    EXPECT_EQ(r[0][0].tokens.back(), kEos);
    EXPECT_EQ(r[0][0].logProb, -std::numeric_limits<double>::infinity());
    if (beam == 1) {
      EXPECT_EQ(r[0][0].tokens, (History{kA, kA, kEos}));
    }
    EXPECT_LE(model.calls.size(), 5u);
  }
}

} // namespace
