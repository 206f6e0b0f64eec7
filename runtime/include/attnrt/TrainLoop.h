// A generic training loop: epochs of batches, periodic evaluation, early stopping, limits on
// steps and time, progress reports. It knows nothing about models: the caller's callbacks run a
// training step and an evaluation.
//
//   attnrt::TrainOptions options;
//   options.epochs = 20; options.evalEvery = 500; options.patience = 5;
//   options.higherIsBetter = true; options.metricName = "dev BLEU";
//   attnrt::TrainCallbacks cb;
//   cb.batches = [&](int64_t epoch) { return attnrt::makeBatches(lengths, batching, seed, epoch); };
//   cb.step = [&](const attnrt::Batch &batch) -> attnrt::StepResult {
//     ... forward, backward, clip, optimizer.step ...
//     return {lossSum, tokens};                   // summed over the batch's target tokens
//   };
//   cb.evaluate = [&]() -> attnrt::EvalResult { return {devBleu()}; };
//   cb.afterEval = [&](const attnrt::TrainState &s, const attnrt::EvalResult &, bool improved) {
//     if (improved) attnrt::saveCheckpoint("best.safetensors", params, &adam, {s.step, s.epoch, seed});
//   };
//   attnrt::TrainState state;                     // or restored from a checkpoint: resumes there
//   attnrt::TrainResult result = attnrt::train(state, options, cb);
//   std::printf("%s\n", result.message.c_str());  // "stopped early: dev BLEU did not improve ..."
//
// The loop, for epoch = state.epoch while epoch < options.epochs (0: no limit):
//   batches = cb.batches(epoch); for each batch from state.batchInEpoch on:
//     result = cb.step(batch)        a NaN or infinite lossSum stops training (NonFiniteLoss)
//     state.step += 1, state.batchInEpoch += 1
//     report progress every reportEvery steps
//     evaluate if state.step is a multiple of evalEvery
//     stop at maxSteps (state.step), maxSeconds (this call), or *stopRequested
//   at the end of the epoch: state.epoch += 1, state.batchInEpoch = 0 (also when an evaluation
//   after its last batch stopped training), evaluate if evalAtEpochEnd and that step was not
//   evaluated yet; call cb.checkpoint if set.
// An evaluation calls cb.evaluate, updates the best metric and the count of evaluations without
// improvement (an improvement beats the best by more than minImprovement), calls cb.afterEval,
// and stops training when the metric reaches targetMetric (TargetReached) or after `patience`
// evaluations without improvement (EarlyStopping). When training stops for maxSteps, maxSeconds,
// a stop request or the end of the last epoch, and the last step has not been evaluated, a final
// evaluation runs if evalAtEnd is set. Exceptions from the callbacks propagate unchanged.
//
// TrainState holds everything needed to resume: save it with the checkpoint
// (saveTrainState / loadTrainState), restore it, and train() continues with the same batches
// (cb.batches must give the same batches for an epoch again, as makeBatches does).
#ifndef ATTNRT_TRAINLOOP_H
#define ATTNRT_TRAINLOOP_H

#include "attnrt/Batching.h"
#include "attnrt/Safetensors.h"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace attnrt {

/// What one training step returns: the summed loss over the batch and the number of tokens (or
/// examples) it was summed over. The reported loss is lossSum / tokens over a window of steps.
struct StepResult {
  double lossSum = 0;
  int64_t tokens = 0;
};

/// What one evaluation returns: the held-out metric (e.g. dev loss, perplexity, BLEU, accuracy)
/// and optional text shown after it ("ppl 12.3, acc 0.71").
struct EvalResult {
  double metric = 0;
  std::string summary;
};

struct TrainOptions {
  int64_t epochs = 1;      ///< epochs to run (TrainState::epoch stops at this); 0: no limit
  int64_t maxSteps = 0;    ///< stop when TrainState::step reaches this; 0: no limit
  double maxSeconds = 0;   ///< stop after this long in this call of train(); 0: no limit
  int64_t evalEvery = 0;   ///< evaluate every N steps (of TrainState::step); 0: never by count
  bool evalAtEpochEnd = true;
  bool evalAtEnd = true;   ///< evaluate when stopping, unless the last step was evaluated
  int64_t patience = 0;    ///< stop after this many evaluations without improvement; 0: never
  double minImprovement = 0; ///< an improvement must beat the best metric by more than this
  bool higherIsBetter = false; ///< false: loss-like metric; true: BLEU, accuracy, ...
  std::optional<double> targetMetric; ///< stop once the metric is at least this good
  std::string metricName = "dev";     ///< shown in reports and messages
  int64_t reportEvery = 10; ///< progress report every N steps (and at evaluations, the end); >= 1
  /// Seconds from some fixed origin; default: std::chrono::steady_clock. Tests inject a fake.
  std::function<double()> clock;
  /// Checked after every step; set it (e.g. from a SIGINT handler) to stop cleanly.
  const std::atomic<bool> *stopRequested = nullptr;
};

/// Where training stands; everything needed to resume.
struct TrainState {
  int64_t step = 0;         ///< training steps done, over all epochs
  int64_t epoch = 0;        ///< the current epoch (epochs done)
  int64_t batchInEpoch = 0; ///< batches of the current epoch done
  bool hasBest = false;     ///< whether bestMetric holds an evaluation
  double bestMetric = 0;
  int64_t bestStep = 0;     ///< the step of the best evaluation
  int64_t evalsWithoutImprovement = 0;
};

/// Adds "train.step", "train.epoch", ... (exact, round-trip) to `metadata`, e.g. a
/// CheckpointInfo's user map; loadTrainState reads them back and throws attnrt::Error naming the
/// key if one is missing or malformed.
void saveTrainState(const TrainState &state, Metadata &metadata);
TrainState loadTrainState(const Metadata &metadata);

enum class StopReason {
  Completed,     ///< all epochs done
  MaxSteps,
  MaxTime,
  EarlyStopping, ///< patience ran out
  TargetReached,
  NonFiniteLoss, ///< a step returned a NaN or infinite loss
  Interrupted,   ///< *stopRequested was set
};
/// "completed", "max steps", "max time", "early stopping", "target reached",
/// "non-finite loss", "interrupted".
const char *toString(StopReason reason);

struct TrainResult {
  StopReason reason = StopReason::Completed;
  std::string message; ///< one line saying why training stopped, with the step and the numbers
  int64_t steps = 0;   ///< steps run in this call
  double seconds = 0;  ///< time spent in this call
  double lastLoss = 0; ///< loss per token over the last report window (NaN if none)
  std::optional<double> lastMetric; ///< the last evaluation in this call, if any
};

/// One progress report.
struct Progress {
  enum Kind { Step, Eval, End } kind = Step;
  int64_t step = 0, epoch = 0, batchInEpoch = 0, batchesInEpoch = 0;
  double loss = 0;            ///< lossSum / tokens since the previous report; NaN if no tokens
  double tokensPerSecond = 0; ///< over the same window, without time spent in cb.evaluate,
                              ///< cb.afterEval and cb.checkpoint
  double elapsed = 0;         ///< seconds in this call of train()
  double remaining = 0;       ///< estimated seconds left; NaN if unknown (no limit known)
  std::string metricName;
  std::optional<double> metric;     ///< the evaluation just made (Eval) or the last one
  std::optional<double> bestMetric;
  bool improved = false;      ///< Eval: the metric is a new best
  std::string summary;        ///< Eval: EvalResult::summary
  std::string message;        ///< End: why training stopped (TrainResult::message)
};

struct TrainCallbacks {
  /// The batches of an epoch (required); must not be empty, and must be the same when asked
  /// again for the same epoch if training is to be resumable.
  std::function<std::vector<Batch>(int64_t epoch)> batches;
  /// One training step (required).
  std::function<StepResult(const Batch &)> step;
  /// Evaluation on held-out data (optional: without it there is no evaluation, no early
  /// stopping and no target).
  std::function<EvalResult()> evaluate;
  /// Progress reports; empty: a ProgressPrinter on stdout.
  std::function<void(const Progress &)> progress;
  /// After each evaluation, with the updated state (e.g. save the best model when `improved`).
  std::function<void(const TrainState &, const EvalResult &, bool improved)> afterEval;
  /// At the end of each epoch and when training stops (except for a non-finite loss), with the
  /// state to resume from (e.g. save a checkpoint).
  std::function<void(const TrainState &)> checkpoint;
};

/// Runs the loop described in the header comment from `state`, updating it. Throws
/// std::invalid_argument for bad options (negative values, reportEvery < 1), missing required
/// callbacks, or an epoch with no batches.
TrainResult train(TrainState &state, const TrainOptions &options,
                  const TrainCallbacks &callbacks);

/// The default progress printer, one line per report:
///   epoch 2 step 1200 (340/500) | loss 3.4120 | dev 25.31 (best 25.8) | 12.3k tok/s | 5:12 elapsed, ~10:03 left
/// On a terminal it rewrites the current line for step reports ("\r...\033[K") and ends the
/// line at evaluations and at the end, so those stay visible; otherwise every report is a line.
class ProgressPrinter {
public:
  /// rewrite: whether to rewrite one terminal line; by default, whether `out` is a terminal.
  explicit ProgressPrinter(std::FILE *out = stdout);
  ProgressPrinter(std::FILE *out, bool rewrite);
  void operator()(const Progress &progress);
  /// The text of a report, without line control characters.
  static std::string format(const Progress &progress);

private:
  std::FILE *out_;
  bool rewrite_;
  bool lineOpen_ = false; // a rewritten line is on screen without its newline
};

/// "0:07", "5:12", "1:02:03" (h:mm:ss); "?" for NaN or negative.
std::string formatDuration(double seconds);

} // namespace attnrt

#endif // ATTNRT_TRAINLOOP_H
