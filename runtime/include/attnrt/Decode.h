// Greedy and beam-search decoding over a compiled decoder step.
//
// A model with a `decoder` block compiles to two entries besides forward():
//   encode(inputs..., lengths...)  -> DecoderMemory: what every step reads
//       (encoder outputs, key projections, ...) computed once per source
//       batch, and the decoder's initial states;
//   step(memory, rows, tokens, states) -> new states, logits [N, V] and the
//       attention weights [N, S] of N hypotheses, where hypothesis n belongs
//       to source row rows[n] (so beams share their sentence's memory).
// The generated Model implements attnrt::StepModel; decode() drives it and
// works for any StepModel (tests use hand-written ones).
#ifndef ATTNRT_DECODE_H
#define ATTNRT_DECODE_H

#include "attnrt/Tensor.h"

#include <cstdint>
#include <vector>

namespace attnrt {

/// What encode() computes once per source batch.
struct DecoderMemory {
  int64_t batch = 0;               ///< B: source rows (sentences)
  std::vector<Tensor> values;      ///< batch-major, read by every step
  std::vector<Tensor> states;      ///< initial decoder states, [B, ...]
  std::vector<int32_t> sourceLengths; ///< valid source length per row (B), or empty
  int64_t sourceLength = 0;        ///< padded source length S (attention width), 0 if none
};

/// One call of the decoder step for N hypotheses.
struct StepOutputs {
  std::vector<Tensor> states; ///< new states, [N, ...]
  Tensor logits;              ///< [N, V], unnormalised scores of the next token
  Tensor attention;           ///< [N, S] weights over the source, or empty
};

class StepModel {
public:
  virtual ~StepModel() = default;
  /// V: the size of the output vocabulary.
  virtual int64_t vocabularySize() const = 0;
  /// Runs one step. rows: int32 [N], each in [0, memory.batch); tokens:
  /// int32 [N], each in [0, V), the previous output token of each
  /// hypothesis; states: [N, ...] each. Fills `out` (reusing its tensors
  /// when their shapes already fit).
  virtual void step(const DecoderMemory &memory, const Tensor &rows,
                    const Tensor &tokens, const std::vector<Tensor> &states,
                    StepOutputs &out) const = 0;
};

struct DecodeOptions {
  int beamSize = 1;         ///< 1: greedy
  int maxLength = 100;      ///< most tokens generated per hypothesis, EOS included
  /// A hypothesis ending in EOS has at least this many tokens, EOS included
  /// (EOS gets log-probability -inf before that).
  int minLength = 0;
  int bos = 1;              ///< token fed to the first step
  int eos = 2;              ///< ends a hypothesis
  int nBest = 1;            ///< hypotheses returned per sentence, <= beamSize
  /// Length penalty lp(n) = ((5 + n) / 6)^alpha (Wu et al. 2016); hypotheses
  /// are ranked by logProb / lp(n). 0: raw log-probability.
  double lengthPenalty = 0.0;
  bool keepAttention = true; ///< fill Hypothesis::attention
  /// Threads for the log-softmax and top-k of each step's rows (0: one per
  /// hardware thread). Only steps with enough rows x V use more than one;
  /// the result never depends on it.
  int threads = 0;
};

struct Hypothesis {
  std::vector<int32_t> tokens; ///< generated tokens, EOS included if produced
  double logProb = 0;          ///< sum of log-probabilities of the tokens
  double score = 0;            ///< logProb / lp(tokens.size()), the ranking key
  bool finished = false;       ///< ended with EOS (false: hit maxLength)
  /// [tokens.size() x S] row-major: the attention of the step that produced
  /// each token, over the sentence's S = DecoderMemory::sourceLength
  /// positions (zero past its length). Empty without attention.
  std::vector<float> attention;
};

/// Decodes every sentence of `memory`; result[b] holds sentence b's
/// hypotheses, best first (min(nBest, beamSize) of them; fewer only when the
/// vocabulary and maxLength admit fewer). Greedy decoding is beamSize 1. A
/// sentence stops once its nBest-th finished hypothesis scores at least as
/// well as any continuation of its live ones could (docs/runtime.md,
/// "Decoding"), so stopping early never changes the result. Throws
/// std::invalid_argument for inconsistent options, memory or step outputs
/// (including NaN or +inf logits).
std::vector<std::vector<Hypothesis>> decode(const StepModel &model,
                                            const DecoderMemory &memory,
                                            const DecodeOptions &options = {});

} // namespace attnrt

#endif // ATTNRT_DECODE_H
