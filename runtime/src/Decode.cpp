// Greedy and beam-search decoding over a StepModel (see Decode.h and docs/runtime.md, "Decoding").
//
// One search drives all sentences at once: every model.step() call sees the live hypotheses of
// every unfinished sentence as the rows of one batch, grouped by sentence and, within a sentence,
// best first. Between steps the states are gathered into the order of the surviving hypotheses,
// and a sentence whose result can no longer change leaves the batch, so N shrinks as sentences
// finish. Greedy decoding is the same code with beamSize 1.
//
// Token histories are not copied per hypothesis: each generated token is a node (parent, token,
// attention row) in one arena, and a hypothesis is the node of its last token. Results are
// rebuilt by walking the parents once at the end.
#include "attnrt/Decode.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

namespace attnrt {
namespace {

std::string str(int64_t v) { return std::to_string(v); }

/// "[6, 8]" from extents.
std::string dims(std::initializer_list<int64_t> extents) {
  return shapeString(std::vector<int64_t>(extents));
}

// The per-row work between two steps, the log-softmax over V and the top-k selection, is the
// largest cost of the search after the step itself (N = 320 rows x V = 50000 per step), so it
// is written to vectorise: no branches or library calls in the inner loops, several float lanes
// instead of one accumulator (the file is built with -fno-trapping-math, which lets GCC turn
// the selects into vector blends and max instructions; no -ffast-math, so the rounding below is
// kept), and on x86-64 Linux a copy of scoreRow for each of AVX-512, AVX2 and baseline SSE2,
// chosen at load time.
#if defined(__x86_64__) && defined(__linux__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define ATTNRT_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#endif
#ifndef ATTNRT_VECTOR_CLONES
#define ATTNRT_VECTOR_CLONES
#endif
#if defined(__GNUC__)
#define ATTNRT_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ATTNRT_ALWAYS_INLINE inline
#endif

/// exp(x) for x <= 0 to about 2 ulp, 0 below -87 (where expf underflows anyway), NaN for NaN.
/// Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2, then Cephes' expf polynomial.
ATTNRT_ALWAYS_INLINE float expNonPositive(float x) {
  const float clamped = x < -87.0f ? -87.0f : x;
  // Adding 1.5 * 2^23 rounds to the nearest integer (round-to-nearest mode).
  const float shifter = 12582912.0f;
  const float shifted = clamped * 1.44269504088896341f + shifter;
  const float n = shifted - shifter;
  const float r = (clamped - n * 0.693359375f) + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  // 2^n from the exponent bits; n is in [-126, 0] after the clamp. Unsigned, so that a NaN's
  // bits (whose result is NaN anyway) wrap instead of overflowing.
  uint32_t bits;
  std::memcpy(&bits, &shifted, sizeof bits);
  uint32_t shiftedZero;
  std::memcpy(&shiftedZero, &shifter, sizeof shiftedZero);
  const uint32_t scaleBits = (bits - shiftedZero + 127u) << 23;
  float scale;
  std::memcpy(&scale, &scaleBits, sizeof scale);
  return x < -87.0f ? 0.0f : p * scale;
}

/// sum_v exp(x[v] - max) over a row; NaN if the row holds a NaN or max is +inf. Each block of
/// 1024 terms goes into a double, so that V = 50000 loses no precision.
ATTNRT_ALWAYS_INLINE double sumExp(const float *x, int64_t count, float max) {
  constexpr int kLanes = 16;
  constexpr int64_t kBlock = 1024;
  double total = 0;
  for (int64_t block = 0; block < count; block += kBlock) {
    const int64_t end = std::min(block + kBlock, count);
    float lanes[kLanes] = {};
    int64_t v = block;
    for (; v + kLanes <= end; v += kLanes)
      for (int l = 0; l < kLanes; ++l)
        lanes[l] += expNonPositive(x[v + l] - max);
    for (; v < end; ++v)
      lanes[0] += expNonPositive(x[v] - max);
    for (float lane : lanes)
      total += lane;
  }
  return total;
}

/// The k largest logits of a row, best first; equal logits keep the lower token id first, which
/// makes the whole search deterministic. k is small (beamSize + 1), so an insertion into a sorted
/// array beats a heap. Once k values are held nearly every logit is below the k-th, so the scan
/// takes the max of 64 logits at a time (vector max instructions) and looks at each logit of a
/// block only when that max beats the k-th. NaN never enters (comparisons with it are false);
/// sumExp reports it.
class TopK {
public:
  TopK(int k, float *values, int32_t *tokens) : k_(k), values_(values), tokens_(tokens) {}

  ATTNRT_ALWAYS_INLINE void scan(const float *x, int64_t begin, int64_t end) {
    int64_t v = begin;
    for (; v < end && count_ < k_; ++v) // the first k values all go in
      if (!std::isnan(x[v]))
        insert(x[v], v);
    constexpr int kLanes = 16;
    constexpr int64_t kBlock = 64;
    for (; v + kBlock <= end; v += kBlock) {
      float lanes[kLanes];
      for (int l = 0; l < kLanes; ++l)
        lanes[l] = x[v + l];
      for (int64_t i = kLanes; i < kBlock; i += kLanes)
        for (int l = 0; l < kLanes; ++l)
          lanes[l] = x[v + i + l] > lanes[l] ? x[v + i + l] : lanes[l];
      float max = lanes[0];
      for (int l = 1; l < kLanes; ++l)
        max = lanes[l] > max ? lanes[l] : max;
      if (max > threshold())
        offerEach(x, v, v + kBlock);
    }
    offerEach(x, v, end);
  }
  /// The largest value offered, -inf before any.
  float best() const { return count_ > 0 ? values_[0] : -std::numeric_limits<float>::infinity(); }
  int count() const { return count_; }

private:
  float threshold() const {
    return count_ == k_ ? values_[k_ - 1] : -std::numeric_limits<float>::infinity();
  }
  ATTNRT_ALWAYS_INLINE void offerEach(const float *x, int64_t begin, int64_t end) {
    for (int64_t v = begin; v < end; ++v)
      if (x[v] > threshold())
        insert(x[v], v);
  }
  void insert(float value, int64_t token) {
    int i = count_ < k_ ? count_++ : k_ - 1;
    for (; i > 0 && value > values_[i - 1]; --i) { // strict: earlier (lower) ids stay ahead
      values_[i] = values_[i - 1];
      tokens_[i] = tokens_[i - 1];
    }
    values_[i] = value;
    tokens_[i] = static_cast<int32_t>(token);
  }

  int k_;
  int count_ = 0;
  float *values_;
  int32_t *tokens_;
};

/// One row of logits: its top k tokens (token `skip` excluded, -1: none) into values/tokens, and
/// log sum_v exp(x[v]) over the whole row, `skip` included. +inf when every logit is -inf (all
/// tokens then get log-probability -inf); NaN when the row holds NaN or +inf.
ATTNRT_VECTOR_CLONES double scoreRow(const float *x, int64_t count, int64_t skip, int k,
                                     float *values, int32_t *tokens) {
  TopK top(k, values, tokens);
  if (skip < 0) {
    top.scan(x, 0, count);
  } else {
    top.scan(x, 0, skip);
    top.scan(x, skip + 1, count);
  }
  float max = top.best();
  if (skip >= 0 && !(x[skip] <= max))
    max = x[skip]; // the max of the whole row keeps exp() from overflowing; NaN stays NaN
  if (max == -std::numeric_limits<float>::infinity()) {
    for (int64_t v = 0; v < count; ++v)
      if (std::isnan(x[v]))
        return std::numeric_limits<double>::quiet_NaN();
    return std::numeric_limits<double>::infinity();
  }
  return max + std::log(sumExp(x, count, max));
}

/// Runs body(begin, end) over contiguous parts of [0, rows) on up to `threads` threads (0: one
/// per hardware thread), the calling one included. A step of 320 rows x V = 50000 takes ~10 ms
/// on one core, several times a GPU step, so the rows are split; a part gets at least
/// kMinLogits logits, below which starting a thread costs more than it saves. Each row is
/// computed the same way whatever the split, so results do not depend on the thread count.
template <class Body> void forRows(int64_t rows, int64_t rowLength, int threads, Body body) {
  constexpr int64_t kMinLogits = int64_t(1) << 18;
  int64_t parts = threads > 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
  parts = std::min({parts, rows, std::max<int64_t>(1, rows * rowLength / kMinLogits)});
  if (parts <= 1) {
    body(int64_t(0), rows);
    return;
  }
  std::vector<std::thread> workers;
  workers.reserve(parts - 1);
  auto partBegin = [&](int64_t p) { return rows * p / parts; };
  for (int64_t p = 1; p < parts; ++p) {
    try {
      workers.emplace_back(body, partBegin(p), partBegin(p + 1));
    } catch (const std::system_error &) { // no thread to be had: do this part here
      body(partBegin(p), partBegin(p + 1));
    }
  }
  body(int64_t(0), partBegin(1));
  for (std::thread &worker : workers)
    worker.join();
}

/// An expansion of a live hypothesis (a row of the step) by one token.
struct Candidate {
  double logProb; // of the whole hypothesis
  int32_t row;
  int32_t token;
};

/// Candidate order: higher log-probability first; ties go to the better parent (rows are best
/// first within a sentence), then to the lower token id. All candidates of a step have the same
/// length, so this is also the order by score.
bool ranksBefore(const Candidate &a, const Candidate &b) {
  if (a.logProb != b.logProb)
    return a.logProb > b.logProb;
  if (a.row != b.row)
    return a.row < b.row;
  return a.token < b.token;
}

/// A hypothesis in a sentence's result list.
struct Result {
  double score;
  double logProb;
  int64_t node; // its last token
  int32_t length;
  bool finished;
};

/// Result order: higher score first; ties go to the hypothesis created first (lower node id),
/// so a hypothesis found later never displaces an equal one already kept.
bool ranksBefore(const Result &a, const Result &b) {
  if (a.score != b.score)
    return a.score > b.score;
  return a.node < b.node;
}

void validateOptions(const DecodeOptions &o, int64_t vocabulary) {
  auto fail = [](const std::string &why) { throw std::invalid_argument("decode: " + why); };
  if (vocabulary < 1 || vocabulary > std::numeric_limits<int32_t>::max())
    fail("the model's vocabularySize() is " + str(vocabulary) + ", expected 1..2^31-1");
  if (o.beamSize < 1)
    fail("options.beamSize = " + str(o.beamSize) + ", expected >= 1");
  if (o.nBest < 1 || o.nBest > o.beamSize)
    fail("options.nBest = " + str(o.nBest) +
         ", expected 1..beamSize (beamSize = " + str(o.beamSize) + ")");
  if (o.maxLength < 1)
    fail("options.maxLength = " + str(o.maxLength) + ", expected >= 1");
  if (o.minLength < 0 || o.minLength > o.maxLength)
    fail("options.minLength = " + str(o.minLength) +
         ", expected 0..maxLength (maxLength = " + str(o.maxLength) + ")");
  if (o.bos < 0 || o.bos >= vocabulary)
    fail("options.bos = " + str(o.bos) + " is outside the vocabulary [0, " + str(vocabulary) + ")");
  if (o.eos < 0 || o.eos >= vocabulary)
    fail("options.eos = " + str(o.eos) + " is outside the vocabulary [0, " + str(vocabulary) + ")");
  if (vocabulary == 1 && o.minLength > 1)
    fail("options.minLength = " + str(o.minLength) +
         " cannot be met: the vocabulary holds only EOS (V = 1)");
  if (o.threads < 0)
    fail("options.threads = " + str(o.threads) + ", expected >= 0 (0: one per hardware thread)");
  if (!(o.lengthPenalty >= 0) || std::isinf(o.lengthPenalty))
    fail("options.lengthPenalty = " + std::to_string(o.lengthPenalty) +
         ", expected a finite value >= 0");
}

void validateMemory(const DecoderMemory &m, int beamSize) {
  auto fail = [](const std::string &why) { throw std::invalid_argument("decode: " + why); };
  if (m.batch < 1)
    fail("memory.batch = " + str(m.batch) + ", expected >= 1");
  if (m.batch > std::numeric_limits<int32_t>::max() / beamSize)
    fail("memory.batch * beamSize = " + str(m.batch) + " * " + str(beamSize) +
         " rows do not fit int32");
  for (std::size_t k = 0; k < m.states.size(); ++k)
    if (m.states[k].rank() < 1 || m.states[k].dim(0) != m.batch)
      fail("memory.states[" + str(k) + "] has shape " + m.states[k].shapeString() +
           ", expected [B, ...] with B = memory.batch = " + str(m.batch));
  if (!m.sourceLengths.empty() && static_cast<int64_t>(m.sourceLengths.size()) != m.batch)
    fail("memory.sourceLengths has " + str(m.sourceLengths.size()) +
         " entries, expected memory.batch = " + str(m.batch));
  if (m.sourceLength < 0)
    fail("memory.sourceLength = " + str(m.sourceLength) + ", expected >= 0");
}

class BeamSearch {
public:
  BeamSearch(const StepModel &model, const DecoderMemory &memory, const DecodeOptions &options)
      : model_(model), memory_(memory), options_(options), vocabulary_(model.vocabularySize()) {
    validateOptions(options_, vocabulary_);
    validateMemory(memory_, options_.beamSize);
    // lp(n) for every length a hypothesis can have; lp = 1 without a length penalty.
    lengthPenalty_.resize(options_.maxLength + 1);
    for (int n = 0; n <= options_.maxLength; ++n)
      lengthPenalty_[n] =
          options_.lengthPenalty > 0 ? std::pow((5.0 + n) / 6.0, options_.lengthPenalty) : 1.0;
    results_.resize(memory_.batch);
  }

  std::vector<std::vector<Hypothesis>> run();

private:
  void setInputs();
  void checkOutputs(int step, const std::vector<Tensor> &inputStates);
  void scoreRows(int step);
  [[noreturn]] void throwBadLogit(int step, int64_t row, const float *x) const;
  void selectSentence(int step, int64_t begin, int64_t end);
  bool sentenceDone(int64_t sentence, double bestLiveLogProb) const;
  void offerResult(int64_t sentence, const Candidate &c, int32_t length, bool finished);
  int64_t addNode(const Candidate &c);
  void gatherStates(const std::vector<Tensor> &inputStates);
  Hypothesis hypothesis(const Result &r) const;

  const StepModel &model_;
  const DecoderMemory &memory_;
  const DecodeOptions &options_;
  const int64_t vocabulary_;
  std::vector<double> lengthPenalty_;

  // The live hypotheses, one per row of the next step: grouped by sentence, best first.
  std::vector<int32_t> liveSentence_;
  std::vector<int32_t> liveToken_; // the token fed to the step
  std::vector<double> liveLogProb_;
  std::vector<int64_t> liveNode_; // -1 before the first token
  // The hypotheses that survive the current step; become the live ones.
  std::vector<int32_t> nextSentence_, nextToken_, nextParentRow_;
  std::vector<double> nextLogProb_;
  std::vector<int64_t> nextNode_;

  // Step inputs and outputs, reused while N stays the same.
  Tensor rows_{DType::I32, {0}};
  Tensor tokens_{DType::I32, {0}};
  std::vector<Tensor> states_;
  StepOutputs out_;

  // Per row of the current step: the top k tokens, their logits, and log sum exp of the row.
  int k_ = 0;
  std::vector<float> topLogit_;
  std::vector<int32_t> topToken_;
  std::vector<double> logNormaliser_;
  std::vector<Candidate> candidates_;

  // The token arena.
  std::vector<int64_t> nodeParent_;
  std::vector<int32_t> nodeToken_;
  std::vector<float> nodeAttention_; // S floats per node when attention is kept
  int64_t attentionWidth_ = 0;       // S, once the first step showed attention
  bool keepAttention_ = false;

  std::vector<std::vector<Result>> results_; // per sentence, best first, at most nBest
};

std::vector<std::vector<Hypothesis>> BeamSearch::run() {
  const int64_t batch = memory_.batch;
  for (int64_t b = 0; b < batch; ++b) {
    liveSentence_.push_back(static_cast<int32_t>(b));
    liveToken_.push_back(options_.bos);
    liveLogProb_.push_back(0.0);
    liveNode_.push_back(-1);
  }
  for (int step = 0; !liveSentence_.empty(); ++step) {
    setInputs();
    // The first step reads the initial states in place; later steps read the gathered ones.
    const std::vector<Tensor> &inputStates = step == 0 ? memory_.states : states_;
    model_.step(memory_, rows_, tokens_, inputStates, out_);
    checkOutputs(step, inputStates);
    scoreRows(step);

    nextSentence_.clear();
    nextToken_.clear();
    nextParentRow_.clear();
    nextLogProb_.clear();
    nextNode_.clear();
    const int64_t n = static_cast<int64_t>(liveSentence_.size());
    for (int64_t begin = 0, end; begin < n; begin = end) {
      for (end = begin + 1; end < n && liveSentence_[end] == liveSentence_[begin]; ++end) {
      }
      selectSentence(step, begin, end);
    }
    if (!nextSentence_.empty())
      gatherStates(inputStates);
    liveSentence_.swap(nextSentence_);
    liveToken_.swap(nextToken_);
    liveLogProb_.swap(nextLogProb_);
    liveNode_.swap(nextNode_);
  }

  std::vector<std::vector<Hypothesis>> hypotheses(batch);
  for (int64_t b = 0; b < batch; ++b)
    for (const Result &r : results_[b])
      hypotheses[b].push_back(hypothesis(r));
  return hypotheses;
}

void BeamSearch::setInputs() {
  const int64_t n = static_cast<int64_t>(liveSentence_.size());
  if (rows_.dim(0) != n) {
    rows_ = Tensor(DType::I32, {n});
    tokens_ = Tensor(DType::I32, {n});
  }
  std::copy(liveSentence_.begin(), liveSentence_.end(), rows_.data<int32_t>());
  std::copy(liveToken_.begin(), liveToken_.end(), tokens_.data<int32_t>());
}

void BeamSearch::checkOutputs(int step, const std::vector<Tensor> &inputStates) {
  const int64_t n = static_cast<int64_t>(liveSentence_.size());
  const std::string where = "decode: step " + str(step + 1) + " (N = " + str(n) + ") returned ";
  const Tensor &logits = out_.logits;
  if (logits.dtype() != DType::F32 || logits.rank() != 2 || logits.dim(0) != n ||
      logits.dim(1) != vocabulary_)
    throw std::invalid_argument(where + "logits of shape " + logits.shapeString() + " (" +
                                dtypeName(logits.dtype()) +
                                "), expected [N, V] = " + dims({n, vocabulary_}) + " (F32)");
  if (out_.states.size() != inputStates.size())
    throw std::invalid_argument(where + str(out_.states.size()) + " states, expected " +
                                str(inputStates.size()) + " (as many as memory.states)");
  for (std::size_t k = 0; k < inputStates.size(); ++k) {
    const Tensor &s = out_.states[k];
    std::vector<int64_t> expected = inputStates[k].shape();
    expected[0] = n;
    if (s.shape() != expected || s.dtype() != inputStates[k].dtype())
      throw std::invalid_argument(
          where + "state " + str(k) + " of shape " + s.shapeString() + " (" + dtypeName(s.dtype()) +
          "), expected " + shapeString(expected) + " (" + dtypeName(inputStates[k].dtype()) + ")");
  }
  const Tensor &attention = out_.attention;
  const bool hasAttention = attention.numel() > 0;
  if (hasAttention && (attention.dtype() != DType::F32 || attention.rank() != 2 ||
                       attention.dim(0) != n || attention.dim(1) != memory_.sourceLength))
    throw std::invalid_argument(where + "attention of shape " + attention.shapeString() + " (" +
                                dtypeName(attention.dtype()) +
                                "), expected [N, S] = " + dims({n, memory_.sourceLength}) +
                                " (F32, S = memory.sourceLength) or an empty tensor");
  if (!options_.keepAttention)
    return;
  // Every token of a hypothesis needs its attention row, so a model must return attention at
  // every step or at none.
  if (step == 0) {
    keepAttention_ = hasAttention;
    attentionWidth_ = hasAttention ? memory_.sourceLength : 0;
  } else if (hasAttention != keepAttention_) {
    throw std::invalid_argument(where + (hasAttention ? "attention" : "no attention") +
                                ", but step 1 returned " + (keepAttention_ ? "attention" : "none"));
  }
}

void BeamSearch::scoreRows(int step) {
  const int64_t n = static_cast<int64_t>(liveSentence_.size());
  const int64_t v = vocabulary_;
  const int eos = options_.eos;
  // EOS may end a hypothesis of at least minLength tokens, EOS included. Before that it is not a
  // candidate at all (log-probability -inf), but it still counts in the normalisation, as if
  // the model's distribution had been masked after the softmax.
  const bool eosAllowed = step + 1 >= options_.minLength;
  // k = beamSize + 1 per row suffices: a sentence keeps at most beamSize hypotheses, and a row
  // contributes at most beamSize of them plus its EOS.
  const int64_t allowed = eosAllowed ? v : v - 1;
  k_ = static_cast<int>(std::min<int64_t>(int64_t(options_.beamSize) + 1, allowed));
  topLogit_.resize(n * k_);
  topToken_.resize(n * k_);
  logNormaliser_.resize(n);

  const float *logits = static_cast<const Tensor &>(out_.logits).data<float>();
  const int64_t skip = eosAllowed ? -1 : eos;
  const int k = k_;
  forRows(n, v, options_.threads, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row)
      logNormaliser_[row] =
          scoreRow(logits + row * v, v, skip, k, &topLogit_[row * k], &topToken_[row * k]);
  });
  // Checked after the rows are done, so that no exception leaves a worker thread.
  for (int64_t row = 0; row < n; ++row)
    if (std::isnan(logNormaliser_[row]))
      throwBadLogit(step, row, logits + row * v);
}

void BeamSearch::throwBadLogit(int step, int64_t row, const float *x) const {
  int64_t bad = 0;
  while (bad < vocabulary_ - 1 && x[bad] < std::numeric_limits<float>::infinity())
    ++bad;
  throw std::invalid_argument("decode: step " + str(step + 1) + " returned logits holding " +
                              (std::isnan(x[bad]) ? "NaN" : "+inf") + " at row " + str(row) +
                              " (sentence " + str(liveSentence_[row]) + "), token " + str(bad) +
                              " (V = " + str(vocabulary_) + ")");
}

void BeamSearch::selectSentence(int step, int64_t begin, int64_t end) {
  const int64_t sentence = liveSentence_[begin];
  const int beamSize = options_.beamSize;
  candidates_.clear();
  for (int64_t row = begin; row < end; ++row)
    for (int j = 0; j < k_; ++j) {
      const double logProb = static_cast<double>(topLogit_[row * k_ + j]) - logNormaliser_[row];
      candidates_.push_back(
          {liveLogProb_[row] + logProb, static_cast<int32_t>(row), topToken_[row * k_ + j]});
    }
  std::sort(candidates_.begin(), candidates_.end(),
            [](const Candidate &a, const Candidate &b) { return ranksBefore(a, b); });

  // Walk the candidates best first: an EOS among the best beamSize ends a hypothesis, the best
  // beamSize others stay live. (An EOS ranked lower would have been pruned in a beam of
  // beamSize, so it is dropped, as in fairseq and Hugging Face.)
  const int32_t length = step + 1;
  const bool last = length == options_.maxLength;
  const std::size_t firstNext = nextSentence_.size();
  int live = 0;
  for (std::size_t i = 0; i < candidates_.size() && live < beamSize; ++i) {
    const Candidate &c = candidates_[i];
    if (c.token == options_.eos) {
      if (static_cast<int>(i) < beamSize)
        offerResult(sentence, c, length, /*finished=*/true);
      continue;
    }
    ++live;
    if (last) {
      offerResult(sentence, c, length, /*finished=*/false);
      continue;
    }
    nextSentence_.push_back(static_cast<int32_t>(sentence));
    nextToken_.push_back(c.token);
    nextParentRow_.push_back(c.row);
    nextLogProb_.push_back(c.logProb);
    nextNode_.push_back(-1); // assigned below if the sentence goes on
  }
  if (nextSentence_.size() == firstNext)
    return;
  if (sentenceDone(sentence, nextLogProb_[firstNext])) {
    nextSentence_.resize(firstNext);
    nextToken_.resize(firstNext);
    nextParentRow_.resize(firstNext);
    nextLogProb_.resize(firstNext);
    nextNode_.resize(firstNext);
    return;
  }
  for (std::size_t i = firstNext; i < nextSentence_.size(); ++i)
    nextNode_[i] = addNode({nextLogProb_[i], nextParentRow_[i], nextToken_[i]});
}

/// The stopping rule: a sentence is done when its nBest-th finished hypothesis scores at least
/// as well as any continuation of its live hypotheses could. Log-probabilities only decrease,
/// and lp(n) only grows, so a live hypothesis with log-probability L <= 0 can reach at most
/// L / lp(maxLength) (= L without a length penalty). Searching on could then only add results
/// that rank after the kept ones (ties go to the earlier), so stopping never changes the result.
bool BeamSearch::sentenceDone(int64_t sentence, double bestLiveLogProb) const {
  const std::vector<Result> &kept = results_[sentence];
  if (static_cast<int>(kept.size()) < options_.nBest)
    return false;
  return kept.back().score >= bestLiveLogProb / lengthPenalty_[options_.maxLength];
}

void BeamSearch::offerResult(int64_t sentence, const Candidate &c, int32_t length, bool finished) {
  std::vector<Result> &kept = results_[sentence];
  Result r{c.logProb / lengthPenalty_[length], c.logProb, static_cast<int64_t>(nodeParent_.size()),
           length, finished};
  // r.node is the id the node would get: larger than every kept one, so ties rank r last.
  if (static_cast<int>(kept.size()) == options_.nBest && !ranksBefore(r, kept.back()))
    return;
  r.node = addNode(c);
  auto at = std::upper_bound(kept.begin(), kept.end(), r,
                             [](const Result &a, const Result &b) { return ranksBefore(a, b); });
  kept.insert(at, r);
  if (static_cast<int>(kept.size()) > options_.nBest)
    kept.pop_back();
}

int64_t BeamSearch::addNode(const Candidate &c) {
  nodeParent_.push_back(liveNode_[c.row]);
  nodeToken_.push_back(c.token);
  if (keepAttention_) {
    const float *row =
        static_cast<const Tensor &>(out_.attention).data<float>() + c.row * attentionWidth_;
    nodeAttention_.insert(nodeAttention_.end(), row, row + attentionWidth_);
  }
  return static_cast<int64_t>(nodeParent_.size()) - 1;
}

void BeamSearch::gatherStates(const std::vector<Tensor> &inputStates) {
  const int64_t n = static_cast<int64_t>(liveSentence_.size());
  const int64_t next = static_cast<int64_t>(nextParentRow_.size());
  states_.resize(inputStates.size());
  bool identity = next == n;
  for (int64_t i = 0; identity && i < next; ++i)
    identity = nextParentRow_[i] == i;
  for (std::size_t k = 0; k < out_.states.size(); ++k) {
    Tensor &source = out_.states[k];
    // Every hypothesis kept its own row (greedy, nothing finished): take the step's output as
    // the next input and give the model our old tensor to write into.
    if (identity && states_[k].shape() == source.shape()) {
      std::swap(states_[k], source);
      continue;
    }
    std::vector<int64_t> shape = source.shape();
    shape[0] = next;
    if (states_[k].shape() != shape || states_[k].dtype() != source.dtype())
      states_[k] = Tensor(source.dtype(), shape);
    const std::size_t rowBytes = n > 0 ? source.byteSize() / static_cast<std::size_t>(n) : 0;
    const auto *from = static_cast<const uint8_t *>(static_cast<const Tensor &>(source).rawData());
    auto *to = static_cast<uint8_t *>(states_[k].rawData());
    for (int64_t i = 0; i < next; ++i)
      std::memcpy(to + i * rowBytes, from + nextParentRow_[i] * rowBytes, rowBytes);
  }
}

Hypothesis BeamSearch::hypothesis(const Result &r) const {
  Hypothesis h;
  h.logProb = r.logProb;
  h.score = r.score;
  h.finished = r.finished;
  h.tokens.resize(r.length);
  if (keepAttention_)
    h.attention.resize(static_cast<std::size_t>(r.length * attentionWidth_));
  int64_t node = r.node;
  for (int32_t i = r.length - 1; i >= 0; --i, node = nodeParent_[node]) {
    h.tokens[i] = nodeToken_[node];
    if (keepAttention_)
      std::copy_n(nodeAttention_.begin() + node * attentionWidth_, attentionWidth_,
                  h.attention.begin() + i * attentionWidth_);
  }
  return h;
}

} // namespace

std::vector<std::vector<Hypothesis>> decode(const StepModel &model, const DecoderMemory &memory,
                                            const DecodeOptions &options) {
  return BeamSearch(model, memory, options).run();
}

} // namespace attnrt
