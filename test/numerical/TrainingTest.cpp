// Training a compiled model end to end with the runtime: Model::gradient,
// clipping, Adam, length-grouped batches and attnrt::train on a tiny task
// (reverse a string of 2..5 symbols) with models/grad/seq2seq.attn. Checks
// that the loss falls far below its start, that a run resumed from a
// checkpoint takes exactly the same steps as an uninterrupted one, and that
// a non-finite loss stops training with a clear reason.
#include "grad_seq2seq.h"

#include "attnrt/Batching.h"
#include "attnrt/Checkpoint.h"
#include "attnrt/Clip.h"
#include "attnrt/Optim.h"
#include "attnrt/Threads.h"
#include "attnrt/TrainLoop.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <unistd.h>

namespace {

// Vocabulary of models/grad/seq2seq.attn (V = 7): PAD, BOS, EOS, symbols 3..6.
constexpr int32_t kPad = 0, kBos = 1, kEos = 2, kFirstSymbol = 3, kSymbols = 4;

struct ReversalTask {
  std::vector<std::vector<int32_t>> sources, targets;
  std::vector<int64_t> lengths;
  explicit ReversalTask(int examples) {
    std::mt19937 gen(5);
    for (int i = 0; i < examples; ++i) {
      std::vector<int32_t> s(2 + gen() % 4);
      for (int32_t &x : s)
        x = kFirstSymbol + static_cast<int32_t>(gen() % kSymbols);
      std::vector<int32_t> t(s.rbegin(), s.rend());
      t.push_back(kEos);
      lengths.push_back(static_cast<int64_t>(s.size()));
      sources.push_back(std::move(s));
      targets.push_back(std::move(t));
    }
  }
};

/// A model, its optimiser and the callbacks that train it on `task`.
struct Trainer {
  grad_seq2seq::Model model;
  attnrt::ParamStore grads;
  attnrt::Adam adam;
  const ReversalTask &task;
  std::vector<double> losses; ///< loss per token of every step

  Trainer(uint64_t seed, const ReversalTask &task)
      : model(seed), grads(model.gradients()), adam(adamOptions()), task(task) {}
  static attnrt::AdamOptions adamOptions() {
    attnrt::AdamOptions o;
    o.lr = 0.03;
    return o;
  }

  attnrt::TrainCallbacks callbacks() {
    attnrt::TrainCallbacks cb;
    cb.batches = [this](int64_t epoch) {
      attnrt::BatchingOptions options;
      options.maxExamples = 16;
      return attnrt::makeBatches(task.lengths, options, /*seed=*/3, epoch);
    };
    cb.step = [this](const attnrt::Batch &batch) -> attnrt::StepResult {
      attnrt::PaddedBatch src = attnrt::padExamples(task.sources, batch.examples, {kPad});
      attnrt::PaddedBatch tgt = attnrt::padExamples(task.targets, batch.examples, {kPad});
      int64_t tokens = 0;
      for (int32_t n : tgt.lengths)
        tokens += n;
      std::vector<float> weights(batch.size(), 1.0f / tokens);
      attnrt::Tensor loss =
          model.gradient(src.ids, tgt.ids, src.lengths, tgt.lengths, kBos, weights, grads);
      double sum = 0;
      for (int64_t b = 0; b < batch.size(); ++b)
        sum += loss.data<float>()[b];
      losses.push_back(sum / tokens);
      if (!std::isfinite(sum))
        return {sum, tokens}; // no update: train() stops on the non-finite loss
      attnrt::clipGlobalNorm(grads, 1.0);
      adam.step(model.params(), grads);
      return {sum, tokens};
    };
    cb.progress = [](const attnrt::Progress &) {};
    return cb;
  }
};

attnrt::TrainOptions stepsOnly(int64_t maxSteps) {
  attnrt::TrainOptions o;
  o.epochs = 0;
  o.maxSteps = maxSteps;
  return o;
}

double mean(const std::vector<double> &v, size_t first, size_t count) {
  double s = 0;
  for (size_t i = first; i < first + count; ++i)
    s += v[i];
  return s / count;
}

TEST(Training, LossFallsFarBelowItsStartOnATinyTask) {
  ReversalTask task(256);
  Trainer trainer(1, task);
  attnrt::TrainState state;
  attnrt::TrainResult result = attnrt::train(state, stepsOnly(800), trainer.callbacks());
  ASSERT_EQ(result.reason, attnrt::StopReason::MaxSteps) << result.message;
  ASSERT_EQ(trainer.losses.size(), 800u);
  // At the start the model knows nothing: about ln 7 = 1.95 nats a token. A
  // model that learnt only which tokens occur would stay near ln 5 = 1.6;
  // reversing the string through attention gets far below that.
  double start = mean(trainer.losses, 0, 10), end = mean(trainer.losses, 790, 10);
  EXPECT_GT(start, 1.5);
  EXPECT_LT(end, 0.25 * start) << "loss per token: start " << start << ", end " << end;
}

TEST(Training, ResumingFromACheckpointRetracesTheUninterruptedRun) {
  ReversalTask task(100); // 7 batches an epoch: the interruption falls inside epoch 1
  Trainer straight(1, task);
  attnrt::TrainState straightState;
  attnrt::train(straightState, stepsOnly(12), straight.callbacks());

  std::string path = ::testing::TempDir() + "resume-" + std::to_string(getpid()) + ".safetensors";
  {
    Trainer first(1, task);
    attnrt::TrainState state;
    attnrt::train(state, stepsOnly(9), first.callbacks());
    attnrt::CheckpointInfo info{state.step, state.epoch, 1, {}};
    attnrt::saveTrainState(state, info.user);
    attnrt::saveCheckpoint(path, first.model.params(), &first.adam, info);
  }
  Trainer resumed(99, task); // other initial weights: all must come from the checkpoint
  attnrt::CheckpointInfo info = attnrt::loadCheckpoint(path, resumed.model.params(), &resumed.adam);
  std::remove(path.c_str());
  attnrt::TrainState state = attnrt::loadTrainState(info.user);
  EXPECT_EQ(state.step, 9);
  EXPECT_EQ(state.epoch, 1);
  attnrt::train(state, stepsOnly(12), resumed.callbacks());

  ASSERT_EQ(resumed.losses.size(), 3u);
  for (size_t i = 0; i < 3; ++i)
    EXPECT_EQ(resumed.losses[i], straight.losses[9 + i]) << "step " << 9 + i;
  for (const std::string &name : straight.model.params().names()) {
    const attnrt::Tensor &a = straight.model.params().get(name);
    const attnrt::Tensor &b = resumed.model.params().get(name);
    for (int64_t i = 0; i < a.numel(); ++i)
      ASSERT_EQ(a.data<float>()[i], b.data<float>()[i]) << name << "[" << i << "]";
  }
}

TEST(Training, ANonFiniteLossStopsTrainingWithItsReason) {
  ReversalTask task(64);
  Trainer trainer(1, task);
  trainer.model.params().get("bo").data<float>()[3] = NAN;
  attnrt::TrainState state;
  attnrt::TrainResult result = attnrt::train(state, stepsOnly(10), trainer.callbacks());
  EXPECT_EQ(result.reason, attnrt::StopReason::NonFiniteLoss);
  EXPECT_EQ(trainer.losses.size(), 1u); // the first step's loss stopped it
  EXPECT_EQ(trainer.adam.stepCount(), 0); // and nothing was updated
  EXPECT_NE(result.message.find("loss"), std::string::npos) << result.message;
}

TEST(Training, GradientsDoNotDependOnTheThreadCount) {
  // setThreads(1) runs the kernels' parallel loops inline; more threads split
  // them over the pool. Each output element is computed by one task either
  // way, so the gradients are the same bit for bit.
  ReversalTask task(64);
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < 40; ++i)
    rows.push_back(i);
  attnrt::PaddedBatch src = attnrt::padExamples(task.sources, rows, {kPad});
  attnrt::PaddedBatch tgt = attnrt::padExamples(task.targets, rows, {kPad});
  std::vector<float> weights(rows.size(), 0.1f);
  grad_seq2seq::Model model(3);
  auto gradients = [&](int threads) {
    attnrt::setThreads(threads);
    attnrt::ParamStore grads = model.gradients();
    model.gradient(src.ids, tgt.ids, src.lengths, tgt.lengths, kBos, weights, grads);
    return grads;
  };
  attnrt::ParamStore pooled = gradients(2), inlined = gradients(1);
  for (const std::string &name : pooled.names()) {
    const attnrt::Tensor &a = pooled.get(name), &b = inlined.get(name);
    for (int64_t i = 0; i < a.numel(); ++i)
      ASSERT_EQ(a.data<float>()[i], b.data<float>()[i]) << name << "[" << i << "]";
  }
  EXPECT_THROW(attnrt::setThreads(-1), std::invalid_argument);
  attnrt::setThreads(0);
}

} // namespace

