// What the example trainers share (dates_train, g2p_train): training a
// generated sequence-to-sequence Model with teacher forcing, decoding in
// chunks, alignment images, and the training options of their command lines.
//
// Each .attn model compiles to its own Model class, so the trainer is a
// template over it. The Model needs what attnc generates for a model with an
// `input src : tokens[S]`, a `target tgt : tokens[T]` and a decoder:
//   Model(seed); params(); gradients();
//   gradient(src, tgt, S_lengths, T_lengths, bos, weights, grads) -> losses [B];
//   decode(src, S_lengths, DecodeOptions) -> hypotheses per row.
//
//   examples::TrainSettings settings;           // out dir, seed, Adam, schedule, limits, ...
//   g2p::Model model(settings.seed);
//   examples::Seq2SeqTrainer<g2p::Model> trainer(model, settings);
//   trainer.resumeIfAsked();                    // from <outDir>/checkpoint.safetensors
//   trainer.data = [&](int64_t epoch) -> const examples::Seq2SeqExamples & { return train; };
//   trainer.evaluate = [&]() -> attnrt::EvalResult { return {devWer, "PER ..."}; };
//   attnrt::TrainResult result = trainer.train();
//   trainer.loadBest();                         // <outDir>/best.safetensors, if written
//
// One step: pad the batch, Model::gradient with every example weighted
// 1 / (target tokens in the batch) (the mean loss per token), no update when
// the summed loss is not finite (train() stops and says why), clip the global
// gradient norm, set the learning rate from a step-decay schedule, Adam.
// Checkpoints: <outDir>/checkpoint.safetensors (parameters, Adam's state and
// the TrainState) at every epoch end and when training stops, so --resume
// continues with the same batches; <outDir>/best.safetensors at every
// evaluation that improves the metric. Ctrl-C stops training cleanly.
#ifndef ATTN_EXAMPLES_SEQ2SEQTRAINER_H
#define ATTN_EXAMPLES_SEQ2SEQTRAINER_H

#include "examples_common.h"

#include "attnrt/Batching.h"
#include "attnrt/Checkpoint.h"
#include "attnrt/Clip.h"
#include "attnrt/Decode.h"
#include "attnrt/Optim.h"
#include "attnrt/Schedule.h"
#include "attnrt/Threads.h"
#include "attnrt/TrainLoop.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace examples {

/// Training or evaluation pairs as token ids: sources without BOS/EOS,
/// targets ending in EOS (the Model's gradient() feeds BOS itself).
struct Seq2SeqExamples {
  std::vector<std::vector<int32_t>> sources, targets;
  std::vector<int64_t> sourceLengths;

  void add(std::vector<int32_t> source, std::vector<int32_t> target) {
    sourceLengths.push_back(static_cast<int64_t>(source.size()));
    sources.push_back(std::move(source));
    targets.push_back(std::move(target));
  }
  size_t size() const { return sources.size(); }
};

struct TrainSettings {
  std::string outDir = "train-out"; ///< checkpoint.safetensors, best.safetensors
  uint64_t seed = 1;                ///< batch order (and whatever the app seeds with it)
  int64_t batchSize = 64;           ///< examples per batch
  double lr = 3e-3;                 ///< Adam
  int64_t decayEvery = 1500;        ///< multiply the learning rate by decayFactor every N steps
  double decayFactor = 0.5;
  double clipNorm = 5.0;            ///< global gradient norm
  int64_t evalEvery = 200;          ///< steps between evaluations (0: only at epoch ends)
  bool evalAtEpochEnd = true;
  int64_t epochs = 0;               ///< 0: no limit
  double maxSeconds = 0;            ///< training time budget of this run (0: none)
  int64_t maxSteps = 0;             ///< stop after this many steps in all (0: no limit)
  int64_t patience = 0;             ///< evaluations without improvement before stopping (0: never)
  bool higherIsBetter = true;       ///< of the evaluation metric
  std::optional<double> targetMetric; ///< stop once the metric is this good
  std::string metricName = "dev";
  bool resume = false;              ///< continue from <outDir>/checkpoint.safetensors
  int64_t reportEvery = 10;         ///< steps between progress lines
  int32_t pad = PAD, bos = BOS;     ///< padding and the decoder's first input
  int threads = 0;                  ///< kernel threads (attnrt::setThreads; 0: all)
};

/// Decodes every source (token ids, no BOS/EOS) in chunks of `chunk` rows;
/// returns each one's hypotheses, best first.
template <class Model>
std::vector<std::vector<attnrt::Hypothesis>>
decodeAll(const Model &model, const std::vector<std::vector<int32_t>> &sources,
          const attnrt::DecodeOptions &options, size_t chunk = 256, int32_t pad = PAD) {
  std::vector<std::vector<attnrt::Hypothesis>> all;
  all.reserve(sources.size());
  for (size_t first = 0; first < sources.size(); first += chunk) {
    std::vector<int64_t> rows;
    for (size_t i = first; i < std::min(first + chunk, sources.size()); ++i)
      rows.push_back(static_cast<int64_t>(i));
    attnrt::PaddedBatch batch = attnrt::padExamples(sources, rows, {pad});
    for (auto &h : model.decode(batch.ids, batch.lengths, options))
      all.push_back(std::move(h));
  }
  return all;
}

/// Writes the attention of `hyp` over a source as a PNG heat map: one row per
/// output token (labelled tokenLabel(id), "</s>" for EOS), one column per
/// source label. Returns false (and writes nothing) when the hypothesis has
/// no attention or the source no labels.
bool writeAlignmentImage(const std::string &path, const std::vector<std::string> &sourceLabels,
                         const attnrt::Hypothesis &hyp,
                         const std::function<std::string(int32_t)> &tokenLabel,
                         const std::string &title, int32_t eos = EOS);

/// Set by the SIGINT handler that Seq2SeqTrainer::train installs.
std::atomic<bool> &trainStopRequested();
extern "C" void examplesOnInterrupt(int);

template <class Model> class Seq2SeqTrainer {
public:
  /// The training examples of an epoch. Called again for the same epoch
  /// after a resume, it must give the same examples; the reference must stay
  /// valid until the next call.
  std::function<const Seq2SeqExamples &(int64_t epoch)> data;
  /// Held-out evaluation (optional: without it, no best.safetensors).
  std::function<attnrt::EvalResult()> evaluate;
  /// Called after each evaluation, after best.safetensors is written.
  std::function<void(const attnrt::TrainState &, const attnrt::EvalResult &, bool improved)>
      afterEval;

  Seq2SeqTrainer(Model &model, TrainSettings settings)
      : model_(model), settings_(std::move(settings)), grads_(model.gradients()),
        adam_(adamOptions(settings_.lr)),
        schedule_(attnrt::Schedule::stepDecay(settings_.lr, settings_.decayEvery,
                                              settings_.decayFactor)) {
    attnrt::setThreads(settings_.threads); // before any kernel runs
    std::filesystem::create_directories(settings_.outDir);
  }

  const TrainSettings &settings() const { return settings_; }
  std::string checkpointPath() const { return settings_.outDir + "/checkpoint.safetensors"; }
  std::string bestPath() const { return settings_.outDir + "/best.safetensors"; }
  attnrt::TrainState &state() { return state_; }
  attnrt::Adam &optimizer() { return adam_; }

  /// With settings.resume: loads the checkpoint (parameters, Adam, the
  /// TrainState) if there is one, and says so either way. Returns whether it
  /// resumed.
  bool resumeIfAsked() {
    if (!settings_.resume)
      return false;
    const std::string path = checkpointPath();
    if (!std::filesystem::exists(path)) {
      std::printf("no checkpoint at %s: starting from scratch\n", path.c_str());
      return false;
    }
    attnrt::CheckpointInfo info = attnrt::loadCheckpoint(path, model_.params(), &adam_);
    state_ = attnrt::loadTrainState(info.user);
    std::printf("resumed from %s at step %lld (epoch %lld)\n", path.c_str(),
                static_cast<long long>(state_.step), static_cast<long long>(state_.epoch));
    return true;
  }

  /// Saves the parameters, Adam's state and `s` to `path`.
  void save(const std::string &path, const attnrt::TrainState &s) {
    attnrt::CheckpointInfo info{s.step, s.epoch, settings_.seed, {}};
    attnrt::saveTrainState(s, info.user);
    attnrt::saveCheckpoint(path, model_.params(), &adam_, info);
  }

  /// Loads best.safetensors into the model if it exists; returns whether it did.
  bool loadBest() {
    if (!std::filesystem::exists(bestPath()))
      return false;
    attnrt::loadCheckpoint(bestPath(), model_.params(), nullptr);
    return true;
  }

  /// One training step on the rows `batch.examples` of `examples`.
  attnrt::StepResult step(const Seq2SeqExamples &examples, const attnrt::Batch &batch) {
    attnrt::PaddedBatch src = attnrt::padExamples(examples.sources, batch.examples, {settings_.pad});
    attnrt::PaddedBatch tgt = attnrt::padExamples(examples.targets, batch.examples, {settings_.pad});
    int64_t tokens = 0;
    for (int32_t n : tgt.lengths)
      tokens += n;
    // Mean loss per target token: every example weighs 1 / tokens.
    std::vector<float> weights(batch.size(), 1.0f / static_cast<float>(tokens));
    // Dropout (if the model has any): a mask per step from the run's seed and
    // the optimiser's step count, so a resumed run draws the same masks.
    auto dropoutSeed = static_cast<uint32_t>(settings_.seed * 1000003u + adam_.stepCount());
    attnrt::Tensor losses = model_.gradient(src.ids, tgt.ids, src.lengths, tgt.lengths,
                                            settings_.bos, weights, grads_, nullptr,
                                            dropoutSeed);
    double lossSum = 0;
    for (int64_t b = 0; b < batch.size(); ++b)
      lossSum += losses.template at<float>({b});
    if (!std::isfinite(lossSum))
      return {lossSum, tokens}; // no update: train() stops and says why
    attnrt::clipGlobalNorm(grads_, settings_.clipNorm);
    adam_.setLearningRate(schedule_(adam_.stepCount()));
    adam_.step(model_.params(), grads_);
    return {lossSum, tokens};
  }

  /// Runs the training loop (attnrt::train) from the current state until a
  /// limit, the target, early stopping, a non-finite loss or Ctrl-C.
  attnrt::TrainResult train() {
    if (!data)
      throw std::invalid_argument("Seq2SeqTrainer::train: no data");
    const Seq2SeqExamples *current = nullptr;
    attnrt::BatchingOptions batching;
    batching.maxExamples = settings_.batchSize;
    batching.chunkSize = settings_.batchSize * 16;

    attnrt::TrainCallbacks callbacks;
    callbacks.batches = [&](int64_t epoch) {
      current = &data(epoch);
      return attnrt::makeBatches(current->sourceLengths, batching, settings_.seed, epoch);
    };
    callbacks.step = [&](const attnrt::Batch &batch) { return step(*current, batch); };
    if (evaluate) {
      callbacks.evaluate = evaluate;
      callbacks.afterEval = [&](const attnrt::TrainState &s, const attnrt::EvalResult &r,
                                bool improved) {
        if (improved)
          save(bestPath(), s);
        if (afterEval)
          afterEval(s, r, improved);
      };
    }
    callbacks.checkpoint = [&](const attnrt::TrainState &s) { save(checkpointPath(), s); };

    attnrt::TrainOptions options;
    options.epochs = settings_.epochs;
    options.maxSeconds = settings_.maxSeconds;
    options.maxSteps = settings_.maxSteps;
    options.evalEvery = settings_.evalEvery;
    options.evalAtEpochEnd = settings_.evalAtEpochEnd;
    options.patience = settings_.patience;
    options.higherIsBetter = settings_.higherIsBetter;
    options.targetMetric = settings_.targetMetric;
    options.metricName = settings_.metricName;
    options.reportEvery = settings_.reportEvery;
    trainStopRequested() = false;
    options.stopRequested = &trainStopRequested();
    std::signal(SIGINT, examplesOnInterrupt);
    attnrt::TrainResult result;
    try {
      result = attnrt::train(state_, options, callbacks);
    } catch (...) {
      std::signal(SIGINT, SIG_DFL);
      throw;
    }
    std::signal(SIGINT, SIG_DFL);
    return result;
  }

private:
  static attnrt::AdamOptions adamOptions(double lr) {
    attnrt::AdamOptions o;
    o.lr = lr;
    return o;
  }

  Model &model_;
  TrainSettings settings_;
  attnrt::ParamStore grads_;
  attnrt::Adam adam_;
  attnrt::Schedule schedule_;
  attnrt::TrainState state_;
};

// ---- command-line numbers ----

/// A bad option value; the message says what the option needs.
struct UsageError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};
/// The whole of `text` as an integer in [lo, hi], or UsageError
/// ("--batch needs an integer in 1..65536, not 'x'").
long long integerOption(const std::string &option, const std::string &text, long long lo,
                        long long hi);
/// The whole of `text` as a finite number in [lo, hi], or UsageError.
double realOption(const std::string &option, const std::string &text, double lo, double hi);

// ---- the training options both trainers take ----

/// What differs between the apps in the common training options: limits,
/// whether --epochs is one, and a few words of the usage text.
struct TrainOptionsSpec {
  long long maxCount = 10000000; ///< upper bound of --max-steps, --epochs, --decay-every, --eval-every
  bool epochs = false;           ///< whether --epochs N is an option
  std::string seedUse = "initialisation and batch order"; ///< what --seed seeds
  std::string batchUnit = "examples";                     ///< "--batch N  <unit> per batch"
  std::string evaluations = "evaluations";                ///< "steps between <evaluations>"
};

/// If `option` is one of the common training options (--out, --resume,
/// --max-seconds, --max-steps, [--epochs], --seed, --batch, --lr,
/// --decay-every, --clip, --eval-every), sets it in `settings`, taking its
/// value from `value()`, and returns true; otherwise returns false and takes
/// nothing. A bad value throws UsageError.
bool parseTrainOption(const std::string &option, const std::function<std::string()> &value,
                      TrainSettings &settings, const TrainOptionsSpec &spec = {});

/// The usage lines of those options, with the defaults in `defaults`.
std::string trainOptionsUsage(const TrainSettings &defaults, const TrainOptionsSpec &spec = {});

/// A training app's value of its own option (see parseTrainingCommandLine).
using OptionValue = std::function<std::string()>;

/// The command line of a training app: --help / -h (`usage("")`), the common
/// training options into `settings`, then `own(option, value)` for the app's
/// options, which returns false for an unknown one. A missing value, a bad
/// value (UsageError) or an unknown option calls `usage` with the message;
/// `usage` must not return.
void parseTrainingCommandLine(int argc, char **argv, TrainSettings &settings,
                              const TrainOptionsSpec &spec,
                              const std::function<void(const std::string &)> &usage,
                              const std::function<bool(const std::string &, const OptionValue &)> &own);

} // namespace examples

#endif // ATTN_EXAMPLES_SEQ2SEQTRAINER_H
