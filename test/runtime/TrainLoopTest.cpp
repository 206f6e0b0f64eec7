// TrainLoop: the order of steps over epochs, limits, evaluation schedule, early stopping,
// targets, non-finite losses, resuming, argument checks, progress values and their text.
// Every expectation is worked out by hand from the documented behaviour (TrainLoop.h).
#include "attnrt/TrainLoop.h"

#include "attnrt/Error.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using attnrt::Batch;
using attnrt::EvalResult;
using attnrt::Metadata;
using attnrt::Progress;
using attnrt::ProgressPrinter;
using attnrt::StepResult;
using attnrt::StopReason;
using attnrt::TrainCallbacks;
using attnrt::TrainOptions;
using attnrt::TrainResult;
using attnrt::TrainState;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

using Step = std::pair<int64_t, int64_t>; // (epoch, index) of the batch a step ran on

/// One evaluation as seen by afterEval.
struct Eval {
  int64_t step, epoch, batchInEpoch;
  double metric;
  bool improved;
  bool operator==(const Eval &o) const {
    return step == o.step && epoch == o.epoch && batchInEpoch == o.batchInEpoch &&
           (metric == o.metric || (std::isnan(metric) && std::isnan(o.metric))) &&
           improved == o.improved;
  }
};

std::ostream &operator<<(std::ostream &os, const Eval &e) {
  return os << "{step " << e.step << ", epoch " << e.epoch << ", batch " << e.batchInEpoch
            << ", metric " << e.metric << ", improved " << e.improved << "}";
}

/// A fake model and data set: records what the loop asks of it. Time is a fake clock that only
/// the callbacks advance (stepSeconds per step, evalSeconds per evaluation).
struct Harness {
  double now = 1000;        // the fake clock; not 0, so that times must be relative to start
  double stepSeconds = 1;
  double evalSeconds = 0;
  int64_t batchesPerEpoch = 4;
  std::function<int64_t(int64_t)> batchCount; // overrides batchesPerEpoch if set
  int64_t updates = 0;      // "parameters": steps applied, carried over when resuming
  std::function<StepResult(int64_t update)> stepResult = [](int64_t) {
    return StepResult{10, 5};
  };
  std::function<double(int64_t updates)> metric = [](int64_t u) { return 100.0 - u; };

  std::vector<int64_t> batchesAskedFor;
  std::vector<Step> steps;
  int64_t evaluateCalls = 0;
  std::vector<Eval> evals;
  std::vector<TrainState> checkpoints;
  std::vector<Progress> reports;

  TrainOptions options() {
    TrainOptions o;
    o.clock = [this] { return now; };
    return o;
  }

  TrainCallbacks callbacks(bool withEvaluate = true) {
    TrainCallbacks cb;
    cb.batches = [this](int64_t epoch) {
      batchesAskedFor.push_back(epoch);
      const int64_t n = batchCount ? batchCount(epoch) : batchesPerEpoch;
      std::vector<Batch> batches;
      for (int64_t i = 0; i < n; ++i) {
        Batch b;
        b.examples = {epoch * 1000 + i};
        b.maxLength = 5;
        b.tokens = 5;
        b.epoch = epoch;
        b.index = i;
        batches.push_back(b);
      }
      return batches;
    };
    cb.step = [this](const Batch &b) {
      steps.emplace_back(b.epoch, b.index);
      ++updates;
      now += stepSeconds;
      return stepResult(updates);
    };
    if (withEvaluate)
      cb.evaluate = [this] {
        ++evaluateCalls;
        now += evalSeconds;
        return EvalResult{metric(updates), "s" + std::to_string(updates)};
      };
    cb.afterEval = [this](const TrainState &s, const EvalResult &e, bool improved) {
      evals.push_back({s.step, s.epoch, s.batchInEpoch, e.metric, improved});
    };
    cb.checkpoint = [this](const TrainState &s) { checkpoints.push_back(s); };
    cb.progress = [this](const Progress &p) { reports.push_back(p); };
    return cb;
  }

  std::vector<int64_t> evalSteps() const {
    std::vector<int64_t> v;
    for (const Eval &e : evals)
      v.push_back(e.step);
    return v;
  }
};

std::vector<Step> stepsOver(const std::vector<int64_t> &batchesPerEpoch) {
  std::vector<Step> v;
  for (std::size_t e = 0; e < batchesPerEpoch.size(); ++e)
    for (int64_t i = 0; i < batchesPerEpoch[e]; ++i)
      v.emplace_back(static_cast<int64_t>(e), i);
  return v;
}

void expectState(const TrainState &s, int64_t step, int64_t epoch, int64_t batchInEpoch) {
  EXPECT_EQ(s.step, step);
  EXPECT_EQ(s.epoch, epoch);
  EXPECT_EQ(s.batchInEpoch, batchInEpoch);
}

bool sameState(const TrainState &a, const TrainState &b) {
  return a.step == b.step && a.epoch == b.epoch && a.batchInEpoch == b.batchInEpoch &&
         a.hasBest == b.hasBest && a.bestMetric == b.bestMetric && a.bestStep == b.bestStep &&
         a.evalsWithoutImprovement == b.evalsWithoutImprovement;
}

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

template <typename E> std::string messageOf(const std::function<void()> &f) {
  try {
    f();
  } catch (const E &e) {
    return e.what();
  }
  return "(no exception)";
}

} // namespace

// ---- order of steps, limits ----

TEST(TrainLoop, StepsFollowEpochsAndBatches) {
  Harness h;
  h.batchCount = [](int64_t epoch) { return 2 + epoch; }; // 2, 3, 4 batches
  TrainOptions o = h.options();
  o.epochs = 3;
  TrainState s;
  TrainResult r = attnrt::train(s, o, h.callbacks(/*withEvaluate=*/false));
  EXPECT_EQ(h.steps, stepsOver({2, 3, 4}));
  EXPECT_EQ(h.batchesAskedFor, (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(r.reason, StopReason::Completed);
  EXPECT_EQ(r.steps, 9);
  expectState(s, 9, 3, 0);
  EXPECT_FALSE(s.hasBest);
  EXPECT_EQ(r.message, "training completed: 3 epochs, 9 steps");
  EXPECT_FALSE(r.lastMetric);
  EXPECT_DOUBLE_EQ(r.seconds, 9.0);
  EXPECT_TRUE(h.evals.empty());
  // A checkpoint at the end of epochs 1 and 2, and one when training stops (after epoch 3).
  ASSERT_EQ(h.checkpoints.size(), 3u);
  expectState(h.checkpoints[0], 2, 1, 0);
  expectState(h.checkpoints[1], 5, 2, 0);
  expectState(h.checkpoints[2], 9, 3, 0);

  // Training an already completed state again does nothing.
  Harness h2;
  TrainResult r2 = attnrt::train(s, o, h2.callbacks());
  EXPECT_EQ(r2.reason, StopReason::Completed);
  EXPECT_EQ(r2.steps, 0);
  EXPECT_TRUE(h2.steps.empty());
  EXPECT_TRUE(h2.batchesAskedFor.empty());
  EXPECT_EQ(h2.evaluateCalls, 0);
  expectState(s, 9, 3, 0);
}

TEST(TrainLoop, MaxStepsWithinAnEpoch) {
  Harness h; // 4 batches per epoch
  TrainOptions o = h.options();
  o.epochs = 0; // no limit
  o.maxSteps = 6;
  TrainState s;
  TrainResult r = attnrt::train(s, o, h.callbacks());
  EXPECT_EQ(h.steps, (std::vector<Step>{{0, 0}, {0, 1}, {0, 2}, {0, 3}, {1, 0}, {1, 1}}));
  EXPECT_EQ(r.reason, StopReason::MaxSteps);
  EXPECT_EQ(r.steps, 6);
  expectState(s, 6, 1, 2);
  // Evaluated at the end of epoch 1 (step 4) and, as step 6 was not evaluated, at the end.
  EXPECT_EQ(h.evalSteps(), (std::vector<int64_t>{4, 6}));
  EXPECT_TRUE(contains(r.message, "step limit")) << r.message;
  EXPECT_TRUE(contains(r.message, "maxSteps 6")) << r.message;
  ASSERT_TRUE(r.lastMetric);
  EXPECT_EQ(*r.lastMetric, 94.0);
  ASSERT_FALSE(h.checkpoints.empty());
  expectState(h.checkpoints.back(), 6, 1, 2);
}

TEST(TrainLoop, MaxStepsAtTheEndOfAnEpoch) {
  Harness h; // 4 batches per epoch
  TrainOptions o = h.options();
  o.epochs = 0;
  o.maxSteps = 4;
  TrainState s;
  TrainResult r = attnrt::train(s, o, h.callbacks());
  EXPECT_EQ(h.steps, stepsOver({4}));
  EXPECT_EQ(r.reason, StopReason::MaxSteps);
  expectState(s, 4, 1, 0);
  // The end-of-epoch evaluation covers step 4: no second evaluation at the end.
  EXPECT_EQ(h.evalSteps(), (std::vector<int64_t>{4}));
  // The next epoch's batches are not needed.
  EXPECT_EQ(h.batchesAskedFor, (std::vector<int64_t>{0}));
  // One checkpoint for step 4, not two.
  ASSERT_EQ(h.checkpoints.size(), 1u);
  expectState(h.checkpoints[0], 4, 1, 0);

  // A state already at maxSteps runs nothing.
  Harness h2;
  TrainResult r2 = attnrt::train(s, o, h2.callbacks());
  EXPECT_EQ(r2.reason, StopReason::MaxSteps);
  EXPECT_EQ(r2.steps, 0);
  EXPECT_TRUE(h2.steps.empty());
  EXPECT_EQ(h2.evaluateCalls, 0);
}

TEST(TrainLoop, MaxSecondsWithAFakeClock) {
  Harness h;
  h.stepSeconds = 1.5;
  TrainOptions o = h.options();
  o.epochs = 0;
  o.maxSeconds = 5;
  TrainState s;
  TrainResult r = attnrt::train(s, o, h.callbacks(/*withEvaluate=*/false));
  // Checked before each step: at 0, 1.5, 3, 4.5 s a step runs; at 6 s training stops.
  EXPECT_EQ(h.steps, stepsOver({4}));
  EXPECT_EQ(r.reason, StopReason::MaxTime);
  EXPECT_EQ(r.steps, 4);
  EXPECT_DOUBLE_EQ(r.seconds, 6.0);
  expectState(s, 4, 1, 0);
  EXPECT_TRUE(contains(r.message, "time limit")) << r.message;
  EXPECT_TRUE(contains(r.message, "0:06 elapsed")) << r.message;
  EXPECT_TRUE(contains(r.message, "maxSeconds 5")) << r.message;

  // maxSeconds counts this call only: a resumed call gets its own 5 s.
  TrainResult r2 = attnrt::train(s, o, h.callbacks(false));
  EXPECT_EQ(r2.steps, 4);
  expectState(s, 8, 2, 0);
}

TEST(TrainLoop, StopRequested) {
  Harness h; // 4 batches per epoch
  std::atomic<bool> stopFlag{false};
  h.stepResult = [&](int64_t update) {
    if (update == 3)
      stopFlag = true; // e.g. SIGINT arrived during step 3
    return StepResult{10, 5};
  };
  TrainOptions o = h.options();
  o.epochs = 0;
  o.stopRequested = &stopFlag;
  TrainState s;
  TrainResult r = attnrt::train(s, o, h.callbacks());
  EXPECT_EQ(h.steps, stepsOver({3}));
  EXPECT_EQ(r.reason, StopReason::Interrupted);
  expectState(s, 3, 0, 3);
  EXPECT_EQ(h.evalSteps(), (std::vector<int64_t>{3})); // evalAtEnd
  EXPECT_TRUE(contains(r.message, "interrupted at step 3")) << r.message;
  ASSERT_FALSE(h.checkpoints.empty());
  expectState(h.checkpoints.back(), 3, 0, 3);

  // Still set: the next call stops before any step, and with no step there is no evaluation.
  Harness h2;
  TrainResult r2 = attnrt::train(s, o, h2.callbacks());
  EXPECT_EQ(r2.reason, StopReason::Interrupted);
  EXPECT_EQ(r2.steps, 0);
  EXPECT_TRUE(h2.steps.empty());
  EXPECT_EQ(h2.evaluateCalls, 0);
}

// ---- the evaluation schedule ----

TEST(TrainLoop, EvaluationSchedule) {
  struct Case {
    int64_t evalEvery;
    bool atEpochEnd, atEnd;
    std::vector<int64_t> expected;
  };
  // 2 epochs of 5 batches: steps 1..10, epochs end at steps 5 and 10.
  const std::vector<Case> cases = {
      {3, true, true, {3, 5, 6, 9, 10}},
      {3, false, true, {3, 6, 9, 10}}, // 10 is not a multiple of 3: the final evaluation
      {3, false, false, {3, 6, 9}},
      {3, true, false, {3, 5, 6, 9, 10}},
      {5, true, true, {5, 10}}, // each step evaluated once, not by count and at epoch end
      {2, false, true, {2, 4, 6, 8, 10}},
      {0, true, true, {5, 10}},
      {0, false, true, {10}},
      {0, false, false, {}},
  };
  for (const Case &c : cases) {
    Harness h;
    h.batchesPerEpoch = 5;
    TrainOptions o = h.options();
    o.epochs = 2;
    o.evalEvery = c.evalEvery;
    o.evalAtEpochEnd = c.atEpochEnd;
    o.evalAtEnd = c.atEnd;
    TrainState s;
    TrainResult r = attnrt::train(s, o, h.callbacks());
    SCOPED_TRACE("evalEvery " + std::to_string(c.evalEvery) + " atEpochEnd " +
                 std::to_string(c.atEpochEnd) + " atEnd " + std::to_string(c.atEnd));
    EXPECT_EQ(h.evalSteps(), c.expected);
    EXPECT_EQ(h.evaluateCalls, static_cast<int64_t>(c.expected.size()));
    EXPECT_EQ(r.reason, StopReason::Completed);
    EXPECT_EQ(r.lastMetric.has_value(), !c.expected.empty());
  }
}

TEST(TrainLoop, EvaluationsSeeTheStateAfterTheStep) {
  Harness h;
  h.batchesPerEpoch = 3;
  TrainOptions o = h.options();
  o.epochs = 2;
  o.evalEvery = 2;
  TrainState s;
  attnrt::train(s, o, h.callbacks());
  // metric = 100 - updates: every evaluation improves.
  EXPECT_EQ(h.evals, (std::vector<Eval>{{2, 0, 2, 98, true},
                                        {3, 1, 0, 97, true}, // end of epoch 1
                                        {4, 1, 1, 96, true},
                                        {6, 1, 3, 94, true}})); // by count, before epoch end
  EXPECT_TRUE(s.hasBest);
  EXPECT_EQ(s.bestMetric, 94.0);
  EXPECT_EQ(s.bestStep, 6);
  EXPECT_EQ(s.evalsWithoutImprovement, 0);
}

// ---- early stopping and targets ----

/// Metrics from a list, one per evaluation (evalEvery = 1: evaluation k at step k).
std::function<double(int64_t)> metricList(std::vector<double> list) {
  return [list](int64_t updates) { return list.at(static_cast<std::size_t>(updates - 1)); };
}

TEST(TrainLoop, EarlyStoppingLowerIsBetter) {
  Harness h;
  h.batchesPerEpoch = 100;
  // best: 5.0; 4.95 is not better by more than 0.1; 4.8 is (new best); 4.75, 4.71 are not.
  h.metric = metricList({5.0, 4.95, 4.8, 4.75, 4.71, 1.0, 1.0});
  TrainOptions o = h.options();
  o.epochs = 0;
  o.evalEvery = 1;
  o.patience = 2;
  o.minImprovement = 0.1;
  o.metricName = "dev loss";
  TrainState s;
  TrainResult r = attnrt::train(s, o, h.callbacks());
  EXPECT_EQ(r.reason, StopReason::EarlyStopping);
  EXPECT_EQ(r.steps, 5);
  EXPECT_EQ(h.evaluateCalls, 5); // no extra evaluation at the end
  std::vector<bool> improved;
  for (const Eval &e : h.evals)
    improved.push_back(e.improved);
  EXPECT_EQ(improved, (std::vector<bool>{true, false, true, false, false}));
  EXPECT_TRUE(s.hasBest);
  EXPECT_EQ(s.bestMetric, 4.8);
  EXPECT_EQ(s.bestStep, 3);
  EXPECT_EQ(s.evalsWithoutImprovement, 2);
  EXPECT_EQ(r.message,
            "stopped early at step 5: dev loss did not improve for 2 evaluations; best dev loss "
            "4.8 at step 3");
  ASSERT_TRUE(r.lastMetric);
  EXPECT_EQ(*r.lastMetric, 4.71);
  ASSERT_FALSE(h.checkpoints.empty());
  EXPECT_TRUE(sameState(h.checkpoints.back(), s));
}

TEST(TrainLoop, EarlyStoppingHigherIsBetter) {
  Harness h;
  h.batchesPerEpoch = 100;
  // minImprovement 1: 20.5 and 21 are not better than 20 by more than 1 (21 is exactly 1 more);
  // 22 is; 22.5 and 23 are not.
  h.metric = metricList({20, 20.5, 21, 22, 22.5, 23, 99});
  TrainOptions o = h.options();
  o.epochs = 0;
  o.evalEvery = 1;
  o.patience = 2;
  o.minImprovement = 1;
  o.higherIsBetter = true;
  o.metricName = "BLEU";
  TrainState s;
  TrainResult r = attnrt::train(s, o, h.callbacks());
  // 20 (best), 20.5 (1), 21 (2) -> stop at step 3.
  EXPECT_EQ(r.reason, StopReason::EarlyStopping);
  EXPECT_EQ(r.steps, 3);
  EXPECT_EQ(s.bestMetric, 20.0);
  EXPECT_EQ(s.bestStep, 1);
  EXPECT_TRUE(contains(r.message, "BLEU did not improve for 2 evaluations")) << r.message;

  // With patience 3: 20 (best), 20.5 (1), 21 (2), 22 (best), 22.5 (1), 23 (2), 99 (best); stop
  // by maxSteps after the list.
  Harness h2;
  h2.batchesPerEpoch = 100;
  h2.metric = metricList({20, 20.5, 21, 22, 22.5, 23, 99});
  o.patience = 3;
  o.maxSteps = 7;
  TrainState s2;
  TrainResult r2 = attnrt::train(s2, o, h2.callbacks());
  std::vector<bool> improved;
  for (const Eval &e : h2.evals)
    improved.push_back(e.improved);
  EXPECT_EQ(improved, (std::vector<bool>{true, false, false, true, false, false, true}));
  EXPECT_EQ(r2.reason, StopReason::MaxSteps);
  EXPECT_EQ(s2.bestMetric, 99.0);
  EXPECT_EQ(s2.bestStep, 7);
  EXPECT_EQ(s2.evalsWithoutImprovement, 0);
}

TEST(TrainLoop, HigherIsBetterWithoutMinImprovement) {
  // minImprovement 0: any strictly higher value is an improvement; an equal one is not.
  Harness h;
  h.batchesPerEpoch = 100;
  h.metric = metricList({0.5, 0.5, 0.50001, 0.4, 0.3});
  TrainOptions o = h.options();
  o.epochs = 0;
  o.evalEvery = 1;
  o.patience = 2;
  o.higherIsBetter = true;
  TrainState s;
  TrainResult r = attnrt::train(s, o, h.callbacks());
  std::vector<bool> improved;
  for (const Eval &e : h.evals)
    improved.push_back(e.improved);
  EXPECT_EQ(improved, (std::vector<bool>{true, false, true, false, false}));
  EXPECT_EQ(r.reason, StopReason::EarlyStopping);
  EXPECT_EQ(s.bestMetric, 0.50001);
  EXPECT_EQ(s.bestStep, 3);
}

TEST(TrainLoop, ExactlyMinImprovementIsNotAnImprovementLowerIsBetter) {
  Harness h;
  h.batchesPerEpoch = 100;
  h.metric = metricList({4.0, 3.5, 3.75, 3.0});
  TrainOptions o = h.options();
  o.epochs = 0;
  o.evalEvery = 1;
  o.patience = 5;
  o.minImprovement = 0.5;
  o.maxSteps = 4;
  TrainState s;
  attnrt::train(s, o, h.callbacks());
  std::vector<bool> improved;
  for (const Eval &e : h.evals)
    improved.push_back(e.improved);
  // 3.5 is exactly 0.5 below 4: not more than minImprovement; 3.0 is more.
  EXPECT_EQ(improved, (std::vector<bool>{true, false, false, true}));
  EXPECT_EQ(s.bestMetric, 3.0);
}

TEST(TrainLoop, NaNMetricIsNeverAnImprovement) {
  Harness h;
  h.batchesPerEpoch = 100;
  h.metric = metricList({kNaN, 3.0, kNaN, kNaN});
  TrainOptions o = h.options();
  o.epochs = 0;
  o.evalEvery = 1;
  o.patience = 2;
  o.targetMetric = -100.0; // a NaN must not count as reaching it either
  TrainState s;
  TrainResult r = attnrt::train(s, o, h.callbacks());
  std::vector<bool> improved;
  for (const Eval &e : h.evals)
    improved.push_back(e.improved);
  EXPECT_EQ(improved, (std::vector<bool>{false, true, false, false}));
  EXPECT_EQ(r.reason, StopReason::EarlyStopping);
  EXPECT_EQ(s.bestMetric, 3.0);
  EXPECT_EQ(s.bestStep, 2);
}

TEST(TrainLoop, TargetReached) {
  { // lower is better: stop once the metric is <= 2
    Harness h;
    h.batchesPerEpoch = 100;
    h.metric = metricList({3.0, 2.5, 2.0, 1.0});
    TrainOptions o = h.options();
    o.epochs = 0;
    o.evalEvery = 1;
    o.targetMetric = 2.0;
    o.metricName = "dev loss";
    TrainState s;
    TrainResult r = attnrt::train(s, o, h.callbacks());
    EXPECT_EQ(r.reason, StopReason::TargetReached);
    EXPECT_EQ(r.steps, 3);
    EXPECT_EQ(h.evaluateCalls, 3);
    EXPECT_EQ(r.message, "stopped at step 3: dev loss 2 reached the target 2; best dev loss 2 at "
                         "step 3");
    ASSERT_FALSE(h.checkpoints.empty());
    EXPECT_TRUE(sameState(h.checkpoints.back(), s));
  }
  { // higher is better: stop once the metric is >= 0.9; a target beats patience
    Harness h;
    h.batchesPerEpoch = 100;
    h.metric = metricList({0.5, 0.95, 0.2});
    TrainOptions o = h.options();
    o.epochs = 0;
    o.evalEvery = 1;
    o.higherIsBetter = true;
    o.targetMetric = 0.9;
    o.metricName = "acc";
    TrainState s;
    TrainResult r = attnrt::train(s, o, h.callbacks());
    EXPECT_EQ(r.reason, StopReason::TargetReached);
    EXPECT_EQ(r.steps, 2);
    EXPECT_TRUE(contains(r.message, "acc 0.95 reached the target 0.9")) << r.message;
  }
  { // lower is better, target not reached by a higher value
    Harness h;
    h.batchesPerEpoch = 2;
    h.metric = metricList({3.0, 2.5});
    TrainOptions o = h.options();
    o.epochs = 1;
    o.evalEvery = 1;
    o.targetMetric = 2.4;
    TrainState s;
    TrainResult r = attnrt::train(s, o, h.callbacks());
    EXPECT_EQ(r.reason, StopReason::Completed);
  }
}

// An evaluation that stops training after the last batch of an epoch leaves the state at the
// start of the next epoch, and resuming from it does not evaluate that step again.
TEST(TrainLoop, StopByEvaluationAtTheEndOfAnEpoch) {
  Harness h;
  h.batchesPerEpoch = 5;
  h.metric = [](int64_t u) { return u <= 5 ? 1.0 : 2.0; };
  TrainOptions o = h.options();
  o.epochs = 4;
  o.evalEvery = 5;
  o.patience = 1;
  TrainState s;
  TrainResult r = attnrt::train(s, o, h.callbacks());
  EXPECT_EQ(r.reason, StopReason::EarlyStopping);
  EXPECT_EQ(h.evalSteps(), (std::vector<int64_t>{5, 10}));
  expectState(s, 10, 2, 0);
  EXPECT_EQ(h.batchesAskedFor, (std::vector<int64_t>{0, 1}));

  o.patience = 3;
  Harness h2;
  h2.batchesPerEpoch = 5;
  h2.updates = h.updates;
  h2.metric = h.metric;
  TrainResult r2 = attnrt::train(s, o, h2.callbacks());
  EXPECT_EQ(h2.steps, (std::vector<Step>{{2, 0}, {2, 1}, {2, 2}, {2, 3}, {2, 4}, {3, 0}, {3, 1},
                                         {3, 2}, {3, 3}, {3, 4}}));
  EXPECT_EQ(h2.evalSteps(), (std::vector<int64_t>{15, 20}));
  EXPECT_EQ(r2.reason, StopReason::EarlyStopping); // 10, 15, 20 without improvement
  EXPECT_EQ(s.evalsWithoutImprovement, 3);
}

// ---- non-finite losses ----

TEST(TrainLoop, NonFiniteLossStops) {
  for (double bad : {kNaN, kInf, -kInf}) {
    Harness h; // 4 batches per epoch
    h.stepResult = [bad](int64_t update) {
      return update == 6 ? StepResult{bad, 7} : StepResult{10, 5};
    };
    TrainOptions o = h.options();
    o.epochs = 3;
    TrainState s;
    TrainResult r = attnrt::train(s, o, h.callbacks());
    SCOPED_TRACE(bad);
    EXPECT_EQ(r.reason, StopReason::NonFiniteLoss);
    EXPECT_EQ(h.steps.size(), 6u); // the bad step ran ...
    EXPECT_EQ(r.steps, 5);         // ... but is not counted
    expectState(s, 5, 1, 1);
    // No final evaluation, no final checkpoint (only the one at the end of the first epoch).
    // Epochs and batches in the message count from 1, as ProgressPrinter shows them
    // ("epoch 2 step 6 (2/4)").
    EXPECT_EQ(h.evalSteps(), (std::vector<int64_t>{4}));
    ASSERT_EQ(h.checkpoints.size(), 1u);
    expectState(h.checkpoints[0], 4, 1, 0);
    const std::string text = std::isnan(bad) ? "nan" : bad > 0 ? "inf" : "-inf";
    EXPECT_TRUE(contains(r.message, "step 6 (epoch 2, batch 2 of 4) returned a loss of " + text +
                                        " over 7 tokens"))
        << r.message;
    EXPECT_TRUE(contains(r.message, "stays at step 5")) << r.message;
    EXPECT_TRUE(contains(r.message, "learning rate")) << r.message;
    EXPECT_EQ(std::string(attnrt::toString(r.reason)), "non-finite loss");
    ASSERT_FALSE(h.reports.empty());
    EXPECT_EQ(h.reports.back().kind, Progress::End);
    EXPECT_EQ(h.reports.back().message, r.message);
  }
}

// ---- resuming ----

TEST(TrainLoop, ResumeIsEquivalentToAnUninterruptedRun) {
  // 3 batches per epoch, evaluation every 2 steps and at epoch ends, patience 3. The metric
  // improves until step 4 and then gets worse: evaluations at steps 2, 3, 4 improve, 6, 8, 9 do
  // not, so training stops early at step 9 (the end of epoch 3).
  auto metric = [](int64_t u) { return u <= 4 ? 10.0 - u : 6.5 + u; };
  auto setUp = [&](Harness &h) {
    h.batchesPerEpoch = 3;
    h.metric = metric;
    h.stepResult = [](int64_t u) { return StepResult{static_cast<double>(u), 2}; };
  };
  TrainOptions base;
  base.epochs = 5;
  base.evalEvery = 2;
  base.patience = 3;

  Harness whole;
  setUp(whole);
  TrainOptions o = base;
  o.clock = [&] { return whole.now; };
  TrainState ws;
  TrainResult wr = attnrt::train(ws, o, whole.callbacks());
  EXPECT_EQ(wr.reason, StopReason::EarlyStopping);
  EXPECT_EQ(whole.steps, stepsOver({3, 3, 3}));
  EXPECT_EQ(whole.evals, (std::vector<Eval>{{2, 0, 2, 8, true},
                                            {3, 1, 0, 7, true},
                                            {4, 1, 1, 6, true},
                                            {6, 1, 3, 12.5, false}, // by count, last batch
                                            {8, 2, 2, 14.5, false},
                                            {9, 3, 0, 15.5, false}}));
  expectState(ws, 9, 3, 0);

  // The same, stopped after 7 steps (no final evaluation, which would change the state), the
  // state passed through checkpoint metadata, and resumed with a fresh harness whose "model" has
  // the 7 updates.
  Harness first;
  setUp(first);
  o = base;
  o.clock = [&] { return first.now; };
  o.maxSteps = 7;
  o.evalAtEnd = false;
  TrainState fs;
  TrainResult fr = attnrt::train(fs, o, first.callbacks());
  EXPECT_EQ(fr.reason, StopReason::MaxSteps);
  expectState(fs, 7, 2, 1);
  ASSERT_FALSE(first.checkpoints.empty());
  EXPECT_TRUE(sameState(first.checkpoints.back(), fs));
  EXPECT_EQ(fs.evalsWithoutImprovement, 1); // step 6

  Metadata metadata{{"other", "kept"}};
  attnrt::saveTrainState(first.checkpoints.back(), metadata);
  EXPECT_EQ(metadata.at("other"), "kept");
  TrainState rs = attnrt::loadTrainState(metadata);
  EXPECT_TRUE(sameState(rs, fs));

  Harness second;
  setUp(second);
  second.updates = first.updates;
  o = base;
  o.clock = [&] { return second.now; };
  TrainResult sr = attnrt::train(rs, o, second.callbacks());

  std::vector<Step> steps = first.steps;
  steps.insert(steps.end(), second.steps.begin(), second.steps.end());
  EXPECT_EQ(steps, whole.steps);
  std::vector<Eval> evals = first.evals;
  evals.insert(evals.end(), second.evals.begin(), second.evals.end());
  EXPECT_EQ(evals, whole.evals);
  EXPECT_EQ(second.batchesAskedFor, (std::vector<int64_t>{2}));
  EXPECT_EQ(sr.reason, wr.reason);
  EXPECT_EQ(sr.message, wr.message);
  EXPECT_EQ(fr.steps + sr.steps, wr.steps);
  EXPECT_TRUE(sameState(rs, ws));
}

TEST(TrainLoop, ResumeRejectsABatchPositionPastTheEpoch) {
  Harness h; // 4 batches per epoch
  TrainOptions o = h.options();
  TrainState s;
  s.batchInEpoch = 5;
  const std::string m =
      messageOf<std::invalid_argument>([&] { attnrt::train(s, o, h.callbacks()); });
  EXPECT_TRUE(contains(m, "batchInEpoch = 5")) << m;
  EXPECT_TRUE(contains(m, "has 4 batches")) << m;
  EXPECT_TRUE(h.steps.empty());
}

TEST(TrainLoop, TrainStateRoundTrip) {
  TrainState s;
  s.step = 123456789012;
  s.epoch = 17;
  s.batchInEpoch = 3;
  s.hasBest = true;
  s.bestMetric = 0.1 + 0.2; // not a short decimal
  s.bestStep = 120000000000;
  s.evalsWithoutImprovement = 4;
  Metadata m;
  attnrt::saveTrainState(s, m);
  EXPECT_EQ(m.size(), 7u);
  EXPECT_EQ(m.at("train.step"), "123456789012");
  EXPECT_EQ(m.at("train.has_best"), "1");
  EXPECT_TRUE(sameState(attnrt::loadTrainState(m), s));

  s.bestMetric = -kInf;
  s.hasBest = false;
  attnrt::saveTrainState(s, m);
  TrainState back = attnrt::loadTrainState(m);
  EXPECT_TRUE(sameState(back, s));
  EXPECT_FALSE(back.hasBest);

  s = TrainState{};
  attnrt::saveTrainState(s, m);
  EXPECT_TRUE(sameState(attnrt::loadTrainState(m), s));
}

TEST(TrainLoop, LoadTrainStateNamesAMissingOrMalformedKey) {
  TrainState s;
  s.step = 7;
  s.epoch = 2;
  s.batchInEpoch = 1;
  s.hasBest = true;
  s.bestMetric = 6;
  s.bestStep = 4;
  s.evalsWithoutImprovement = 1;
  Metadata good;
  attnrt::saveTrainState(s, good);
  const std::vector<std::string> keys = {"train.step",
                                         "train.epoch",
                                         "train.batch_in_epoch",
                                         "train.has_best",
                                         "train.best_metric",
                                         "train.best_step",
                                         "train.evals_without_improvement"};
  for (const std::string &key : keys) {
    ASSERT_EQ(good.count(key), 1u) << key;
    Metadata m = good;
    m.erase(key);
    std::string e = messageOf<attnrt::Error>([&] { attnrt::loadTrainState(m); });
    EXPECT_TRUE(contains(e, "'" + key + "'")) << e;
    EXPECT_TRUE(contains(e, "missing")) << e;

    const bool integer = key != "train.has_best" && key != "train.best_metric";
    std::vector<std::string> bad = {"", "x", " 1", "1 "};
    if (integer) {
      bad.push_back("-1");
      bad.push_back("1.5");
      bad.push_back("99999999999999999999");
    } else if (key == "train.has_best") {
      bad.push_back("2");
      bad.push_back("true");
    } else {
      bad.push_back("1.5x");
    }
    for (const std::string &value : bad) {
      m = good;
      m[key] = value;
      e = messageOf<attnrt::Error>([&] { attnrt::loadTrainState(m); });
      EXPECT_TRUE(contains(e, "'" + key + "'")) << key << " = '" << value << "': " << e;
    }
  }
}

// ---- argument checks, exceptions ----

TEST(TrainLoop, BadOptionsThrow) {
  std::vector<std::pair<std::string, std::function<void(TrainOptions &)>>> cases = {
      {"options.epochs", [](TrainOptions &o) { o.epochs = -1; }},
      {"options.maxSteps", [](TrainOptions &o) { o.maxSteps = -1; }},
      {"options.maxSeconds", [](TrainOptions &o) { o.maxSeconds = -1; }},
      {"options.maxSeconds", [](TrainOptions &o) { o.maxSeconds = kNaN; }},
      {"options.maxSeconds", [](TrainOptions &o) { o.maxSeconds = kInf; }},
      {"options.evalEvery", [](TrainOptions &o) { o.evalEvery = -1; }},
      {"options.patience", [](TrainOptions &o) { o.patience = -2; }},
      {"options.minImprovement", [](TrainOptions &o) { o.minImprovement = -0.5; }},
      {"options.minImprovement", [](TrainOptions &o) { o.minImprovement = kNaN; }},
      {"options.reportEvery", [](TrainOptions &o) { o.reportEvery = 0; }},
      {"options.targetMetric", [](TrainOptions &o) { o.targetMetric = kNaN; }},
  };
  for (auto &[name, change] : cases) {
    Harness h;
    TrainOptions o = h.options();
    change(o);
    TrainState s;
    const std::string m =
        messageOf<std::invalid_argument>([&] { attnrt::train(s, o, h.callbacks()); });
    EXPECT_TRUE(contains(m, name)) << m;
    EXPECT_TRUE(h.steps.empty()) << name;
    EXPECT_TRUE(h.batchesAskedFor.empty()) << name;
  }
}

TEST(TrainLoop, MissingCallbacksThrow) {
  Harness h;
  TrainState s;
  TrainCallbacks cb = h.callbacks();
  cb.batches = nullptr;
  std::string m = messageOf<std::invalid_argument>([&] { attnrt::train(s, h.options(), cb); });
  EXPECT_TRUE(contains(m, "callbacks.batches")) << m;
  cb = h.callbacks();
  cb.step = nullptr;
  m = messageOf<std::invalid_argument>([&] { attnrt::train(s, h.options(), cb); });
  EXPECT_TRUE(contains(m, "callbacks.step")) << m;
  EXPECT_TRUE(h.batchesAskedFor.empty());

  // The optional ones may be missing: no evaluation, no afterEval, no checkpoint, no progress
  // (progress then goes to a ProgressPrinter on stdout).
  cb = h.callbacks(/*withEvaluate=*/false);
  cb.afterEval = nullptr;
  cb.checkpoint = nullptr;
  cb.progress = nullptr;
  TrainOptions o = h.options();
  o.patience = 1;
  o.targetMetric = 0.0;
  TrainResult r = attnrt::train(s, o, cb);
  EXPECT_EQ(r.reason, StopReason::Completed);
  EXPECT_EQ(r.steps, 4);
  EXPECT_FALSE(r.lastMetric);
}

TEST(TrainLoop, AnEpochWithoutBatchesThrows) {
  Harness h;
  h.batchCount = [](int64_t epoch) { return epoch == 1 ? 0 : 2; };
  TrainOptions o = h.options();
  o.epochs = 3;
  TrainState s;
  const std::string m =
      messageOf<std::invalid_argument>([&] { attnrt::train(s, o, h.callbacks()); });
  EXPECT_TRUE(contains(m, "batches(1)")) << m;
  EXPECT_EQ(h.steps, stepsOver({2})); // epoch 0 ran
  expectState(s, 2, 1, 0);
}

TEST(TrainLoop, ExceptionsFromCallbacksPropagate) {
  struct Boom {
    int where;
  };
  auto run = [](int where) -> int {
    Harness h; // 4 batches per epoch
    TrainOptions o = h.options();
    o.epochs = 3;
    o.evalEvery = 2;
    o.reportEvery = 3;
    TrainCallbacks cb = h.callbacks();
    auto throwAt = [where](int w) {
      if (w == where)
        throw Boom{w};
    };
    auto batches = cb.batches;
    cb.batches = [=](int64_t e) {
      if (e == 1)
        throwAt(1);
      return batches(e);
    };
    auto step = cb.step;
    cb.step = [=, &h](const Batch &b) {
      if (h.updates == 2)
        throwAt(2);
      return step(b);
    };
    cb.evaluate = [=] {
      throwAt(3);
      return EvalResult{1.0, ""};
    };
    cb.afterEval = [=](const TrainState &, const EvalResult &, bool) { throwAt(4); };
    cb.checkpoint = [=](const TrainState &) { throwAt(5); };
    cb.progress = [=](const Progress &) { throwAt(6); };
    TrainState s;
    try {
      attnrt::train(s, o, cb);
    } catch (const Boom &b) {
      return b.where;
    }
    return 0;
  };
  for (int where = 1; where <= 6; ++where)
    EXPECT_EQ(run(where), where);
  EXPECT_EQ(run(0), 0);

  // A standard exception keeps its type and message.
  Harness h;
  TrainCallbacks cb = h.callbacks();
  cb.step = [](const Batch &) -> StepResult { throw std::runtime_error("out of memory"); };
  TrainState s;
  EXPECT_EQ(messageOf<std::runtime_error>([&] { attnrt::train(s, h.options(), cb); }),
            "out of memory");
}

// ---- progress ----

TEST(TrainLoop, ProgressValues) {
  Harness h;
  h.batchesPerEpoch = 6;
  h.stepSeconds = 0.5;
  // (lossSum, tokens) of steps 1..6.
  const std::vector<StepResult> table = {{8, 4}, {4, 4}, {3, 2}, {3, 4}, {5, 10}, {5, 10}};
  h.stepResult = [&](int64_t u) { return table.at(static_cast<std::size_t>(u - 1)); };
  TrainOptions o = h.options();
  o.epochs = 1;
  o.reportEvery = 2;
  o.metricName = "dev ppl";
  TrainState s;
  TrainResult r = attnrt::train(s, o, h.callbacks(/*withEvaluate=*/false));
  ASSERT_EQ(h.reports.size(), 4u);

  const Progress &a = h.reports[0]; // step 2: 12 / 8 over 1 s
  EXPECT_EQ(a.kind, Progress::Step);
  EXPECT_EQ(a.step, 2);
  EXPECT_EQ(a.epoch, 0);
  EXPECT_EQ(a.batchInEpoch, 2);
  EXPECT_EQ(a.batchesInEpoch, 6);
  EXPECT_DOUBLE_EQ(a.loss, 1.5);
  EXPECT_DOUBLE_EQ(a.tokensPerSecond, 8.0);
  EXPECT_DOUBLE_EQ(a.elapsed, 1.0);
  EXPECT_DOUBLE_EQ(a.remaining, 2.0); // 4 steps left in the (only) epoch at 0.5 s per step
  EXPECT_EQ(a.metricName, "dev ppl");
  EXPECT_FALSE(a.metric);
  EXPECT_FALSE(a.bestMetric);

  const Progress &b = h.reports[1]; // step 4: 6 / 6
  EXPECT_DOUBLE_EQ(b.loss, 1.0);
  EXPECT_DOUBLE_EQ(b.tokensPerSecond, 6.0);
  EXPECT_DOUBLE_EQ(b.elapsed, 2.0);
  EXPECT_DOUBLE_EQ(b.remaining, 1.0);

  const Progress &c = h.reports[2]; // step 6: 10 / 20
  EXPECT_EQ(c.step, 6);
  EXPECT_EQ(c.epoch, 0);
  EXPECT_EQ(c.batchInEpoch, 6);
  EXPECT_DOUBLE_EQ(c.loss, 0.5);
  EXPECT_DOUBLE_EQ(c.tokensPerSecond, 20.0);
  EXPECT_DOUBLE_EQ(c.remaining, 0.0);

  const Progress &d = h.reports[3]; // the end: nothing since step 6, so its values stay
  EXPECT_EQ(d.kind, Progress::End);
  EXPECT_EQ(d.step, 6);
  EXPECT_EQ(d.epoch, 1);
  EXPECT_EQ(d.batchInEpoch, 0);
  EXPECT_DOUBLE_EQ(d.loss, 0.5);
  EXPECT_DOUBLE_EQ(d.tokensPerSecond, 20.0);
  EXPECT_DOUBLE_EQ(d.elapsed, 3.0);
  EXPECT_EQ(d.remaining, 0.0);
  EXPECT_EQ(d.message, r.message);
  EXPECT_EQ(d.message, "training completed: 1 epochs, 6 steps");
  EXPECT_DOUBLE_EQ(r.lastLoss, 0.5);
}

TEST(TrainLoop, ProgressWindowAtTheEndAndWithoutTokens) {
  Harness h;
  h.batchesPerEpoch = 5;
  h.stepResult = [](int64_t u) { return u <= 4 ? StepResult{4, 2} : StepResult{0, 0}; };
  TrainOptions o = h.options();
  o.reportEvery = 4;
  TrainState s;
  TrainResult r = attnrt::train(s, o, h.callbacks(false));
  ASSERT_EQ(h.reports.size(), 2u);
  EXPECT_DOUBLE_EQ(h.reports[0].loss, 2.0);
  EXPECT_DOUBLE_EQ(h.reports[0].tokensPerSecond, 2.0);
  // The end report covers step 5 alone, which had no tokens.
  EXPECT_TRUE(std::isnan(h.reports[1].loss));
  EXPECT_EQ(h.reports[1].tokensPerSecond, 0.0);
  EXPECT_TRUE(std::isnan(r.lastLoss));

  // No step at all: the loss is NaN.
  Harness h2;
  TrainResult r2 = attnrt::train(s, o, h2.callbacks(false)); // already completed
  EXPECT_EQ(r2.steps, 0);
  EXPECT_TRUE(std::isnan(r2.lastLoss));
}

TEST(TrainLoop, ProgressRemainingTime) {
  struct Case {
    int64_t epochs, maxSteps;
    double maxSeconds;
    double expected; // at step 5, 10 s in (2 s per step)
  };
  const std::vector<Case> cases = {
      {0, 10, 0, 10},   // 5 steps left at 2 s
      {0, 0, 30, 20},   // the time budget
      {0, 10, 15, 5},   // the smaller of both
      {0, 0, 0, kNaN},  // unknown
      {2, 0, 0, 30},    // 2 epochs of 10 batches: 15 steps left
      {2, 7, 0, 4},     // maxSteps before the end of the epochs
  };
  for (const Case &c : cases) {
    Harness h;
    h.batchesPerEpoch = 10;
    h.stepSeconds = 2;
    TrainOptions o = h.options();
    o.epochs = c.epochs;
    o.maxSteps = c.maxSteps;
    o.maxSeconds = c.maxSeconds;
    o.reportEvery = 5;
    TrainState s;
    s.step = 0;
    // Stop at step 5 whatever the limits.
    std::atomic<bool> stopFlag{false};
    o.stopRequested = &stopFlag;
    h.stepResult = [&](int64_t u) {
      if (u == 5)
        stopFlag = true;
      return StepResult{1, 1};
    };
    attnrt::train(s, o, h.callbacks(false));
    SCOPED_TRACE("epochs " + std::to_string(c.epochs) + " maxSteps " +
                 std::to_string(c.maxSteps) + " maxSeconds " + std::to_string(c.maxSeconds));
    ASSERT_GE(h.reports.size(), 1u);
    const Progress &p = h.reports[0];
    EXPECT_EQ(p.step, 5);
    EXPECT_DOUBLE_EQ(p.elapsed, 10.0);
    if (std::isnan(c.expected))
      EXPECT_TRUE(std::isnan(p.remaining)) << p.remaining;
    else
      EXPECT_DOUBLE_EQ(p.remaining, c.expected);
    EXPECT_EQ(h.reports.back().kind, Progress::End);
    EXPECT_EQ(h.reports.back().remaining, 0.0);
  }
}

TEST(TrainLoop, ProgressRemainingAfterResume) {
  // Resumed at step 90 of maxSteps 100: 10 steps left at this call's 2 s per step.
  Harness h;
  h.batchesPerEpoch = 1000;
  h.stepSeconds = 2;
  TrainOptions o = h.options();
  o.epochs = 0;
  o.maxSteps = 100;
  o.reportEvery = 5;
  TrainState s;
  s.step = 90;
  s.batchInEpoch = 90;
  attnrt::train(s, o, h.callbacks(false));
  ASSERT_GE(h.reports.size(), 2u);
  EXPECT_EQ(h.reports[0].step, 95);
  EXPECT_DOUBLE_EQ(h.reports[0].elapsed, 10.0);
  EXPECT_DOUBLE_EQ(h.reports[0].remaining, 10.0);
}

TEST(TrainLoop, EvaluationTimeDoesNotCountAgainstTheRate) {
  Harness h;
  h.batchesPerEpoch = 100;
  h.stepSeconds = 1;
  h.evalSeconds = 10;
  h.stepResult = [](int64_t) { return StepResult{10, 10}; };
  TrainOptions o = h.options();
  o.epochs = 0;
  o.maxSteps = 4;
  o.evalEvery = 2;
  o.reportEvery = 4;
  TrainState s;
  attnrt::train(s, o, h.callbacks());
  // Reports: Eval at 2, Step at 4, Eval at 4, End.
  ASSERT_EQ(h.reports.size(), 4u);
  const Progress &e = h.reports[0];
  EXPECT_EQ(e.kind, Progress::Eval);
  EXPECT_EQ(e.step, 2);
  EXPECT_DOUBLE_EQ(e.loss, 1.0);
  EXPECT_DOUBLE_EQ(e.tokensPerSecond, 10.0); // 20 tokens in 2 s of steps
  EXPECT_DOUBLE_EQ(e.elapsed, 12.0);         // elapsed does include the evaluation
  ASSERT_TRUE(e.metric);
  EXPECT_EQ(*e.metric, 98.0);
  EXPECT_TRUE(e.improved);
  EXPECT_EQ(e.summary, "s2");
  const Progress &p = h.reports[1];
  EXPECT_EQ(p.kind, Progress::Step);
  EXPECT_EQ(p.step, 4);
  EXPECT_DOUBLE_EQ(p.tokensPerSecond, 10.0); // 40 tokens in 4 s of steps
  EXPECT_DOUBLE_EQ(p.elapsed, 14.0);
  EXPECT_EQ(*p.metric, 98.0); // the last evaluation
  EXPECT_EQ(*p.bestMetric, 98.0);
  EXPECT_EQ(h.reports[2].kind, Progress::Eval);
  EXPECT_EQ(*h.reports[2].metric, 96.0);
  EXPECT_EQ(h.reports[3].kind, Progress::End);
  EXPECT_DOUBLE_EQ(h.reports[3].elapsed, 24.0);
}

TEST(TrainLoop, ToString) {
  EXPECT_STREQ(attnrt::toString(StopReason::Completed), "completed");
  EXPECT_STREQ(attnrt::toString(StopReason::MaxSteps), "max steps");
  EXPECT_STREQ(attnrt::toString(StopReason::MaxTime), "max time");
  EXPECT_STREQ(attnrt::toString(StopReason::EarlyStopping), "early stopping");
  EXPECT_STREQ(attnrt::toString(StopReason::TargetReached), "target reached");
  EXPECT_STREQ(attnrt::toString(StopReason::NonFiniteLoss), "non-finite loss");
  EXPECT_STREQ(attnrt::toString(StopReason::Interrupted), "interrupted");
}

// ---- text ----

TEST(TrainLoop, FormatDuration) {
  EXPECT_EQ(attnrt::formatDuration(0), "0:00");
  EXPECT_EQ(attnrt::formatDuration(7), "0:07");
  EXPECT_EQ(attnrt::formatDuration(7.4), "0:07");
  EXPECT_EQ(attnrt::formatDuration(59.6), "1:00");
  EXPECT_EQ(attnrt::formatDuration(312), "5:12");
  EXPECT_EQ(attnrt::formatDuration(3599), "59:59");
  EXPECT_EQ(attnrt::formatDuration(3600), "1:00:00");
  EXPECT_EQ(attnrt::formatDuration(3723), "1:02:03");
  EXPECT_EQ(attnrt::formatDuration(100 * 3600 + 5), "100:00:05");
  EXPECT_EQ(attnrt::formatDuration(kNaN), "?");
  EXPECT_EQ(attnrt::formatDuration(-1), "?");
  EXPECT_EQ(attnrt::formatDuration(kInf), "?");
}

Progress sampleProgress() {
  Progress p;
  p.kind = Progress::Step;
  p.step = 1200;
  p.epoch = 1;
  p.batchInEpoch = 340;
  p.batchesInEpoch = 500;
  p.loss = 3.41204;
  p.tokensPerSecond = 12345;
  p.elapsed = 312;
  p.remaining = 603;
  p.metricName = "dev";
  p.metric = 25.31;
  p.bestMetric = 25.8;
  return p;
}

TEST(TrainLoop, ProgressPrinterFormat) {
  Progress p = sampleProgress();
  EXPECT_EQ(ProgressPrinter::format(p), "epoch 2 step 1200 (340/500) | loss 3.4120 | dev 25.31 "
                                        "(best 25.8) | 12.3k tok/s | 5:12 elapsed, ~10:03 left");

  // An evaluation with a new best and a summary.
  p.kind = Progress::Eval;
  p.metric = 24.5;
  p.bestMetric = 24.5;
  p.improved = true;
  p.summary = "ppl 12.3, acc 0.71";
  EXPECT_EQ(ProgressPrinter::format(p),
            "epoch 2 step 1200 (340/500) | loss 3.4120 | dev 24.5 (new best) | ppl 12.3, acc 0.71 "
            "| 12.3k tok/s | 5:12 elapsed, ~10:03 left");

  // The end of an epoch; no metric; a slow rate; unknown time left.
  p = sampleProgress();
  p.batchInEpoch = 0;
  p.step = 1000;
  p.metric.reset();
  p.bestMetric.reset();
  p.tokensPerSecond = 999.4;
  p.remaining = kNaN;
  p.loss = kNaN;
  EXPECT_EQ(ProgressPrinter::format(p), "end of epoch 1 step 1000 | loss - | 999 tok/s | 5:12 "
                                        "elapsed");

  // The end report: no time left shown, a fast rate.
  p = sampleProgress();
  p.kind = Progress::End;
  p.tokensPerSecond = 1234567;
  p.elapsed = 3723;
  p.remaining = 0;
  p.message = "training completed";
  EXPECT_EQ(ProgressPrinter::format(p), "epoch 2 step 1200 (340/500) | loss 3.4120 | dev 25.31 "
                                        "(best 25.8) | 1.23M tok/s | 1:02:03 elapsed");

  // Step 0 before any batch is not "the end of an epoch".
  p = Progress{};
  p.metricName = "dev";
  p.remaining = kNaN;
  EXPECT_EQ(ProgressPrinter::format(p), "epoch 1 step 0 (0/0) | loss 0.0000 | 0 tok/s | 0:00 "
                                        "elapsed");
}

std::string readAll(std::FILE *f) {
  std::rewind(f);
  std::string text;
  int c;
  while ((c = std::fgetc(f)) != EOF)
    text.push_back(static_cast<char>(c));
  return text;
}

TEST(TrainLoop, ProgressPrinterOutput) {
  Progress step = sampleProgress();
  Progress eval = sampleProgress();
  eval.kind = Progress::Eval;
  Progress end = sampleProgress();
  end.kind = Progress::End;
  end.message = "training completed: 3 epochs, 1500 steps";
  const std::string s = ProgressPrinter::format(step), e = ProgressPrinter::format(eval),
                    n = ProgressPrinter::format(end);
  {
    std::FILE *f = std::tmpfile();
    ASSERT_NE(f, nullptr);
    ProgressPrinter printer(f, /*rewrite=*/false);
    printer(step);
    printer(eval);
    printer(end);
    EXPECT_EQ(readAll(f), s + "\n" + e + "\n" + n + "\n" + end.message + "\n");
    std::fclose(f);
  }
  {
    std::FILE *f = std::tmpfile();
    ASSERT_NE(f, nullptr);
    ProgressPrinter printer(f, /*rewrite=*/true);
    printer(step);
    printer(step);
    printer(eval);
    printer(end);
    EXPECT_EQ(readAll(f), "\r" + s + "\033[K" + "\r" + s + "\033[K" + "\r" + e + "\033[K\n" +
                              "\r" + n + "\033[K\n" + end.message + "\n");
    std::fclose(f);
  }
  {
    // A file is not a terminal: the default does not rewrite.
    std::FILE *f = std::tmpfile();
    ASSERT_NE(f, nullptr);
    ProgressPrinter printer(f);
    printer(step);
    EXPECT_EQ(readAll(f), s + "\n");
    std::fclose(f);
  }
  ProgressPrinter none(nullptr, false);
  none(step); // no output, no crash
}

// The loop drives the default-format printer end to end.
TEST(TrainLoop, ReportsThroughAPrinter) {
  Harness h;
  h.batchesPerEpoch = 2;
  TrainOptions o = h.options();
  o.epochs = 1;
  o.reportEvery = 1;
  std::FILE *f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  TrainCallbacks cb = h.callbacks();
  cb.progress = ProgressPrinter(f, false);
  TrainState s;
  attnrt::train(s, o, cb);
  // Steps take 1 s and 5 tokens with a loss sum of 10.
  EXPECT_EQ(readAll(f), "epoch 1 step 1 (1/2) | loss 2.0000 | 5 tok/s | 0:01 elapsed, ~0:01 left\n"
                        "epoch 1 step 2 (2/2) | loss 2.0000 | 5 tok/s | 0:02 elapsed, ~0:00 left\n"
                        "end of epoch 1 step 2 | loss 2.0000 | dev 98 (new best) | s2 | 5 tok/s | "
                        "0:02 elapsed, ~0:00 left\n"
                        "end of epoch 1 step 2 | loss 2.0000 | dev 98 (best 98) | 5 tok/s | 0:02 "
                        "elapsed\n"
                        "training completed: 1 epochs, 2 steps; best dev 98 at step 2\n");
  std::fclose(f);
}
