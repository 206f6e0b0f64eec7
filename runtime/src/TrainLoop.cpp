#include "attnrt/TrainLoop.h"

#include "Text.h"
#include "attnrt/Error.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <unistd.h>

namespace attnrt {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// printf("%.<digits>g").
std::string number(double v, int digits = 5) {
  if (std::isnan(v))
    return "nan";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

std::string fixed(double v, int decimals) {
  if (std::isnan(v))
    return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string rate(double tokensPerSecond) {
  char buf[64];
  if (tokensPerSecond < 1e3)
    std::snprintf(buf, sizeof buf, "%.0f", tokensPerSecond);
  else if (tokensPerSecond < 1e6)
    std::snprintf(buf, sizeof buf, "%.1fk", tokensPerSecond / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.2fM", tokensPerSecond / 1e6);
  return buf;
}

double steadySeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void checkOptions(const TrainOptions &o, const TrainCallbacks &cb) {
  auto bad = [](const std::string &what) { throw std::invalid_argument("train: " + what); };
  if (o.epochs < 0)
    bad("options.epochs = " + std::to_string(o.epochs) + ", expected >= 0 (0: no limit)");
  if (o.maxSteps < 0)
    bad("options.maxSteps = " + std::to_string(o.maxSteps) + ", expected >= 0 (0: no limit)");
  if (!(o.maxSeconds >= 0) || std::isinf(o.maxSeconds))
    bad("options.maxSeconds = " + number(o.maxSeconds) + ", expected a finite value >= 0");
  if (o.evalEvery < 0)
    bad("options.evalEvery = " + std::to_string(o.evalEvery) + ", expected >= 0");
  if (o.patience < 0)
    bad("options.patience = " + std::to_string(o.patience) + ", expected >= 0");
  if (!(o.minImprovement >= 0))
    bad("options.minImprovement = " + number(o.minImprovement) + ", expected >= 0");
  if (o.reportEvery < 1)
    bad("options.reportEvery = " + std::to_string(o.reportEvery) + ", expected >= 1");
  if (o.targetMetric && std::isnan(*o.targetMetric))
    bad("options.targetMetric is NaN");
  if (!cb.batches)
    bad("callbacks.batches is not set");
  if (!cb.step)
    bad("callbacks.step is not set");
}

} // namespace

const char *toString(StopReason reason) {
  switch (reason) {
  case StopReason::Completed: return "completed";
  case StopReason::MaxSteps: return "max steps";
  case StopReason::MaxTime: return "max time";
  case StopReason::EarlyStopping: return "early stopping";
  case StopReason::TargetReached: return "target reached";
  case StopReason::NonFiniteLoss: return "non-finite loss";
  case StopReason::Interrupted: return "interrupted";
  }
  return "?";
}

// ---- TrainState in metadata ----

void saveTrainState(const TrainState &s, Metadata &m) {
  m["train.step"] = std::to_string(s.step);
  m["train.epoch"] = std::to_string(s.epoch);
  m["train.batch_in_epoch"] = std::to_string(s.batchInEpoch);
  m["train.has_best"] = s.hasBest ? "1" : "0";
  m["train.best_metric"] = detail::formatDouble(s.bestMetric);
  m["train.best_step"] = std::to_string(s.bestStep);
  m["train.evals_without_improvement"] = std::to_string(s.evalsWithoutImprovement);
}

TrainState loadTrainState(const Metadata &m) {
  auto get = [&](const std::string &key) -> const std::string & {
    auto it = m.find(key);
    if (it == m.end())
      throw Error("loadTrainState: metadata '" + key + "' is missing");
    return it->second;
  };
  auto integer = [&](const std::string &key) {
    int64_t v;
    if (!detail::parseInt64(get(key), v) || v < 0)
      throw Error("loadTrainState: metadata '" + key + "' = '" + get(key) +
                  "' is not an integer >= 0");
    return v;
  };
  TrainState s;
  s.step = integer("train.step");
  s.epoch = integer("train.epoch");
  s.batchInEpoch = integer("train.batch_in_epoch");
  const std::string &hasBest = get("train.has_best");
  if (hasBest != "0" && hasBest != "1")
    throw Error("loadTrainState: metadata 'train.has_best' = '" + hasBest +
                "', expected '0' or '1'");
  s.hasBest = hasBest == "1";
  if (!detail::parseDouble(get("train.best_metric"), s.bestMetric))
    throw Error("loadTrainState: metadata 'train.best_metric' = '" + get("train.best_metric") +
                "' is not a number");
  s.bestStep = integer("train.best_step");
  s.evalsWithoutImprovement = integer("train.evals_without_improvement");
  return s;
}

// ---- the loop ----

TrainResult train(TrainState &state, const TrainOptions &o, const TrainCallbacks &cb) {
  checkOptions(o, cb);
  const std::function<double()> clock = o.clock ? o.clock : steadySeconds;
  const std::function<void(const Progress &)> progress =
      cb.progress ? cb.progress : std::function<void(const Progress &)>(ProgressPrinter(stdout));

  const double start = clock();
  TrainResult result;
  result.lastLoss = kNaN;
  double windowLoss = 0, windowStart = start, lastWindowLoss = kNaN, lastRate = 0;
  int64_t windowTokens = 0, windowSteps = 0, batchesInEpoch = 0;
  int64_t lastEvaluatedStep = -1, lastCheckpointStep = -1;
  bool evaluatedSinceCheckpoint = false;

  auto better = [&](double a, double b) {
    return o.higherIsBetter ? a > b + o.minImprovement : a < b - o.minImprovement;
  };
  auto reaches = [&](double m) {
    return o.higherIsBetter ? m >= *o.targetMetric : m <= *o.targetMetric;
  };
  auto bestText = [&]() -> std::string {
    if (!state.hasBest)
      return "";
    return "; best " + o.metricName + " " + number(state.bestMetric) + " at step " +
           std::to_string(state.bestStep);
  };

  auto report = [&](Progress::Kind kind, const EvalResult *eval, bool improved,
                    const std::string &message) {
    const double now = clock();
    Progress p;
    p.kind = kind;
    p.step = state.step;
    p.epoch = state.epoch;
    p.batchInEpoch = state.batchInEpoch;
    p.batchesInEpoch = batchesInEpoch;
    if (windowSteps > 0) {
      const double seconds = now - windowStart;
      p.loss = windowTokens > 0 ? windowLoss / static_cast<double>(windowTokens) : kNaN;
      p.tokensPerSecond = seconds > 0 ? static_cast<double>(windowTokens) / seconds : 0;
    } else {
      p.loss = lastWindowLoss;
      p.tokensPerSecond = lastRate;
    }
    if (kind != Progress::Eval) { // evaluation time does not count against the training rate
      lastWindowLoss = p.loss;
      lastRate = p.tokensPerSecond;
      windowLoss = 0;
      windowTokens = 0;
      windowSteps = 0;
      windowStart = now;
    }
    p.elapsed = now - start;
    // Remaining: steps left (by maxSteps and by epochs) at this call's mean time per step, capped
    // by the time limit.
    double stepsLeft = std::numeric_limits<double>::infinity();
    if (o.maxSteps > 0)
      stepsLeft = static_cast<double>(std::max<int64_t>(0, o.maxSteps - state.step));
    if (o.epochs > 0 && batchesInEpoch > 0) {
      int64_t left = o.epochs <= state.epoch
                         ? 0
                         : (batchesInEpoch - state.batchInEpoch) +
                               (o.epochs - state.epoch - 1) * batchesInEpoch;
      stepsLeft = std::min(stepsLeft, static_cast<double>(std::max<int64_t>(0, left)));
    }
    p.remaining = kNaN;
    if (result.steps > 0 && std::isfinite(stepsLeft))
      p.remaining = stepsLeft * p.elapsed / static_cast<double>(result.steps);
    if (o.maxSeconds > 0) {
      double budget = std::max(0.0, o.maxSeconds - p.elapsed);
      p.remaining = std::isnan(p.remaining) ? budget : std::min(p.remaining, budget);
    }
    if (kind == Progress::End)
      p.remaining = 0;
    p.metricName = o.metricName;
    p.metric = result.lastMetric;
    if (state.hasBest)
      p.bestMetric = state.bestMetric;
    p.improved = improved;
    if (eval)
      p.summary = eval->summary;
    p.message = message;
    progress(p);
    return p;
  };

  StopReason reason = StopReason::Completed;
  std::string message;
  bool stop = false;
  auto stopWith = [&](StopReason r, std::string text) {
    reason = r;
    message = std::move(text);
    stop = true;
  };

  // Evaluates; returns after stopping training if the target or the patience says so.
  auto evaluate = [&]() {
    if (!cb.evaluate)
      return;
    // Time spent evaluating (and in afterEval) does not count against the training rate: the
    // report window's start moves forward by it.
    double t0 = clock();
    EvalResult e = cb.evaluate();
    windowStart += clock() - t0;
    lastEvaluatedStep = state.step;
    evaluatedSinceCheckpoint = true;
    result.lastMetric = e.metric;
    const bool improved =
        !std::isnan(e.metric) && (!state.hasBest || better(e.metric, state.bestMetric));
    if (improved) {
      state.hasBest = true;
      state.bestMetric = e.metric;
      state.bestStep = state.step;
      state.evalsWithoutImprovement = 0;
    } else {
      ++state.evalsWithoutImprovement;
    }
    report(Progress::Eval, &e, improved, "");
    if (cb.afterEval) {
      t0 = clock();
      cb.afterEval(state, e, improved);
      windowStart += clock() - t0;
    }
    if (o.targetMetric && !std::isnan(e.metric) && reaches(e.metric))
      stopWith(StopReason::TargetReached,
               "stopped at step " + std::to_string(state.step) + ": " + o.metricName + " " +
                   number(e.metric) + " reached the target " + number(*o.targetMetric));
    else if (o.patience > 0 && state.evalsWithoutImprovement >= o.patience)
      stopWith(StopReason::EarlyStopping,
               "stopped early at step " + std::to_string(state.step) + ": " + o.metricName +
                   " did not improve for " + std::to_string(state.evalsWithoutImprovement) +
                   " evaluations" + bestText());
  };

  auto checkpoint = [&]() {
    if (cb.checkpoint && (lastCheckpointStep != state.step || evaluatedSinceCheckpoint)) {
      const double t0 = clock();
      cb.checkpoint(state);
      windowStart += clock() - t0; // saving does not count against the training rate
      lastCheckpointStep = state.step;
      evaluatedSinceCheckpoint = false;
    }
  };

  // Limits checked before every step.
  auto checkLimits = [&]() {
    if (o.stopRequested && o.stopRequested->load())
      stopWith(StopReason::Interrupted,
               "interrupted at step " + std::to_string(state.step) + " (stop requested)");
    else if (o.maxSteps > 0 && state.step >= o.maxSteps)
      stopWith(StopReason::MaxSteps, "stopped at the step limit: step " +
                                         std::to_string(state.step) + " (maxSteps " +
                                         std::to_string(o.maxSteps) + ")");
    else if (o.maxSeconds > 0 && clock() - start >= o.maxSeconds)
      stopWith(StopReason::MaxTime, "stopped at the time limit at step " +
                                        std::to_string(state.step) + ": " +
                                        formatDuration(clock() - start) + " elapsed (maxSeconds " +
                                        number(o.maxSeconds) + ")");
  };

  while (!stop) {
    if (o.epochs > 0 && state.epoch >= o.epochs) {
      stopWith(StopReason::Completed, "training completed: " + std::to_string(state.epoch) +
                                          " epochs, " + std::to_string(state.step) + " steps");
      break;
    }
    checkLimits();
    if (stop)
      break;
    const std::vector<Batch> batches = cb.batches(state.epoch);
    if (batches.empty())
      throw std::invalid_argument("train: callbacks.batches(" + std::to_string(state.epoch) +
                                  ") returned no batches");
    batchesInEpoch = static_cast<int64_t>(batches.size());
    if (state.batchInEpoch > batchesInEpoch)
      throw std::invalid_argument(
          "train: state.batchInEpoch = " + std::to_string(state.batchInEpoch) + " but epoch " +
          std::to_string(state.epoch) + " has " + std::to_string(batchesInEpoch) +
          " batches (were the batches made with other options or data?)");

    while (state.batchInEpoch < batchesInEpoch) {
      checkLimits();
      if (stop)
        break;
      const Batch &batch = batches[static_cast<std::size_t>(state.batchInEpoch)];
      const StepResult s = cb.step(batch);
      if (!std::isfinite(s.lossSum)) {
        stopWith(StopReason::NonFiniteLoss,
                 "stopped: step " + std::to_string(state.step + 1) + " (epoch " +
                     std::to_string(state.epoch + 1) + ", batch " +
                     std::to_string(state.batchInEpoch + 1) + " of " +
                     std::to_string(batchesInEpoch) + ") returned a loss of " +
                     number(s.lossSum) + " over " + std::to_string(s.tokens) +
                     " tokens; the state stays at step " + std::to_string(state.step) +
                     ", but the parameters may hold that step's update: resume from the last "
                     "checkpoint with a lower learning rate or gradient clipping");
        break;
      }
      ++state.step;
      ++state.batchInEpoch;
      ++result.steps;
      ++windowSteps;
      windowLoss += s.lossSum;
      windowTokens += s.tokens;
      if (state.step % o.reportEvery == 0)
        report(Progress::Step, nullptr, false, "");
      if (o.evalEvery > 0 && state.step % o.evalEvery == 0)
        evaluate();
      if (stop)
        break;
    }
    if (state.batchInEpoch < batchesInEpoch)
      break; // stopped within the epoch

    // End of the epoch. This also runs when an evaluation after the epoch's last batch stopped
    // training, so that the state to resume from starts the next epoch (resuming from
    // batchInEpoch == batchesInEpoch would evaluate the same step again at the epoch's end).
    ++state.epoch;
    state.batchInEpoch = 0;
    if (stop)
      break;
    if (o.evalAtEpochEnd && lastEvaluatedStep != state.step)
      evaluate();
    const bool last = o.epochs > 0 && state.epoch >= o.epochs;
    if (!stop && !last)
      checkpoint();
  }

  if (reason != StopReason::NonFiniteLoss) {
    if (o.evalAtEnd && result.steps > 0 && lastEvaluatedStep != state.step &&
        reason != StopReason::EarlyStopping && reason != StopReason::TargetReached) {
      std::string kept = message;
      StopReason keptReason = reason;
      evaluate(); // its verdict does not matter any more: training stops anyway
      message = kept;
      reason = keptReason;
    }
    checkpoint();
    if (reason != StopReason::EarlyStopping)
      message += bestText();
  }
  result.reason = reason;
  result.message = message;
  result.seconds = clock() - start;
  Progress end = report(Progress::End, nullptr, false, message);
  result.lastLoss = end.loss;
  return result;
}

// ---- printing ----

std::string formatDuration(double seconds) {
  if (!(seconds >= 0) || std::isinf(seconds))
    return "?";
  long long s = static_cast<long long>(seconds + 0.5);
  char buf[64];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
  return buf;
}

ProgressPrinter::ProgressPrinter(std::FILE *out)
    : ProgressPrinter(out, out && ::isatty(::fileno(out))) {}

ProgressPrinter::ProgressPrinter(std::FILE *out, bool rewrite) : out_(out), rewrite_(rewrite) {}

std::string ProgressPrinter::format(const Progress &p) {
  std::string line;
  if (p.batchInEpoch == 0 && p.step > 0)
    line = "end of epoch " + std::to_string(p.epoch) + " step " + std::to_string(p.step);
  else
    line = "epoch " + std::to_string(p.epoch + 1) + " step " + std::to_string(p.step) + " (" +
           std::to_string(p.batchInEpoch) + "/" + std::to_string(p.batchesInEpoch) + ")";
  line += " | loss " + fixed(p.loss, 4);
  if (p.metric) {
    line += " | " + p.metricName + " " + number(*p.metric);
    if (p.kind == Progress::Eval && p.improved)
      line += " (new best)";
    else if (p.bestMetric)
      line += " (best " + number(*p.bestMetric) + ")";
  }
  if (p.kind == Progress::Eval && !p.summary.empty())
    line += " | " + p.summary;
  line += " | " + rate(p.tokensPerSecond) + " tok/s | " + formatDuration(p.elapsed) + " elapsed";
  if (p.kind != Progress::End && !std::isnan(p.remaining))
    line += ", ~" + formatDuration(p.remaining) + " left";
  return line;
}

void ProgressPrinter::operator()(const Progress &p) {
  if (!out_)
    return;
  const std::string line = format(p);
  if (rewrite_) {
    std::fprintf(out_, "\r%s\033[K", line.c_str());
    lineOpen_ = true;
    if (p.kind != Progress::Step) {
      std::fputc('\n', out_);
      lineOpen_ = false;
    }
  } else {
    std::fprintf(out_, "%s\n", line.c_str());
  }
  if (p.kind == Progress::End && !p.message.empty())
    std::fprintf(out_, "%s\n", p.message.c_str());
  std::fflush(out_);
}

} // namespace attnrt
