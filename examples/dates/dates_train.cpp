// The README's main job: trains the date-normalisation model (dates.attn,
// compiled by attnc into libdates.a + dates.h) on generated data, reports
// progress and held-out accuracy while it trains, then decodes held-out dates
// with beam search, prints them with an ASCII heat-map of the attention and
// writes the alignments of a few of them as PNG images.
//
//   dates_train [--out DIR] [--max-seconds S] [--target ACC] [--resume]
//               [--seed N] [--batch N] [--lr X] [--beam K] [--show N]
//   dates_train --help
#include "DateData.h"
#include "DateTrainOptions.h"
#include "examples_common.h"

#include "dates.h"

#include "attnrt/Batching.h"
#include "attnrt/Checkpoint.h"
#include "attnrt/Clip.h"
#include "attnrt/HeatMap.h"
#include "attnrt/Optim.h"
#include "attnrt/Schedule.h"
#include "attnrt/TrainLoop.h"

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace {

std::atomic<bool> stopRequested{false};
extern "C" void onInterrupt(int) { stopRequested = true; }

/// One split's examples as token ids: sources without BOS/EOS, targets with EOS.
struct EncodedPairs {
  std::vector<dates::DatePair> pairs;
  std::vector<std::vector<int32_t>> sources, targets;
  std::vector<int64_t> sourceLengths;
};

EncodedPairs encode(std::vector<dates::DatePair> pairs) {
  EncodedPairs e;
  for (const dates::DatePair &p : pairs) {
    e.sources.push_back(dates::encodeChars(p.source, /*appendEos=*/false));
    e.targets.push_back(dates::encodeChars(p.target, /*appendEos=*/true));
    e.sourceLengths.push_back(static_cast<int64_t>(e.sources.back().size()));
  }
  e.pairs = std::move(pairs);
  return e;
}

/// Every epoch sees fresh training dates: the data of epoch k comes from seed
/// (seed, k), so a resumed run sees the same data as an uninterrupted one.
EncodedPairs trainingData(const dates::TrainConfig &config, int64_t epoch) {
  uint64_t seed = config.seed * 1000003ull + static_cast<uint64_t>(epoch);
  return encode(dates::generateDates(seed, config.examplesPerEpoch, dates::Split::Train));
}

/// Decodes `data` in chunks; returns the hypotheses of every example.
std::vector<std::vector<attnrt::Hypothesis>>
decodeAll(const dates::Model &model, const EncodedPairs &data, const attnrt::DecodeOptions &options) {
  std::vector<std::vector<attnrt::Hypothesis>> all;
  const size_t chunk = 256;
  for (size_t first = 0; first < data.sources.size(); first += chunk) {
    std::vector<int64_t> rows;
    for (size_t i = first; i < std::min(first + chunk, data.sources.size()); ++i)
      rows.push_back(static_cast<int64_t>(i));
    attnrt::PaddedBatch batch = attnrt::padExamples(data.sources, rows, {examples::PAD});
    for (auto &h : model.decode(batch.ids, batch.lengths, options))
      all.push_back(std::move(h));
  }
  return all;
}

double exactMatch(const EncodedPairs &data,
                  const std::vector<std::vector<attnrt::Hypothesis>> &results) {
  size_t correct = 0;
  for (size_t i = 0; i < results.size(); ++i)
    correct += examples::tokensText(results[i].front().tokens) == data.pairs[i].target;
  return results.empty() ? 0 : static_cast<double>(correct) / results.size();
}

void writeAlignmentImages(const dates::TrainConfig &config, const EncodedPairs &data,
                          const std::vector<std::vector<attnrt::Hypothesis>> &results) {
  for (int i = 0; i < config.images && i < static_cast<int>(results.size()); ++i) {
    const attnrt::Hypothesis &best = results[i].front();
    const std::string &source = data.pairs[i].source;
    int cols = static_cast<int>(source.size()), rows = static_cast<int>(best.tokens.size());
    if (best.attention.empty() || cols == 0)
      continue;
    size_t stride = best.attention.size() / best.tokens.size(); // the padded source length
    std::vector<float> weights;
    std::vector<std::string> rowLabels, colLabels;
    for (int r = 0; r < rows; ++r) {
      for (int c = 0; c < cols; ++c)
        weights.push_back(best.attention[r * stride + c]);
      rowLabels.push_back(best.tokens[r] == examples::EOS ? "</s>"
                                                         : examples::tokenText(best.tokens[r]));
    }
    for (char ch : source)
      colLabels.push_back(std::string(1, ch));
    attnrt::HeatMapOptions options;
    options.title = source + " -> " + examples::tokensText(best.tokens);
    options.colorMap = attnrt::ColorMap::Viridis;
    std::string path = config.outDir + "/alignment-" + std::to_string(i) + ".png";
    attnrt::writeAlignmentPng(path, weights, rows, cols, rowLabels, colLabels, options);
    std::printf("wrote %s\n", path.c_str());
  }
}

int trainAndDecode(const dates::TrainConfig &config) {
  std::filesystem::create_directories(config.outDir);
  const std::string checkpointPath = config.outDir + "/checkpoint.safetensors";
  const std::string bestPath = config.outDir + "/best.safetensors";

  dates::Model model(config.seed);
  attnrt::ParamStore grads = model.gradients();
  attnrt::AdamOptions adamOptions;
  adamOptions.lr = config.lr;
  attnrt::Adam adam(adamOptions);
  attnrt::Schedule schedule = attnrt::Schedule::stepDecay(config.lr, config.decayEvery, 0.5);

  attnrt::TrainState state;
  if (config.resume && std::filesystem::exists(checkpointPath)) {
    attnrt::CheckpointInfo info = attnrt::loadCheckpoint(checkpointPath, model.params(), &adam);
    state = attnrt::loadTrainState(info.user);
    std::printf("resumed from %s at step %lld (epoch %lld)\n", checkpointPath.c_str(),
                static_cast<long long>(state.step), static_cast<long long>(state.epoch));
  } else if (config.resume) {
    std::printf("no checkpoint at %s: starting from scratch\n", checkpointPath.c_str());
  }
  auto save = [&](const std::string &path, const attnrt::TrainState &s) {
    attnrt::CheckpointInfo info{s.step, s.epoch, config.seed, {}};
    attnrt::saveTrainState(s, info.user);
    attnrt::saveCheckpoint(path, model.params(), &adam, info);
  };

  const EncodedPairs heldOut =
      encode(dates::generateDates(config.seed, config.heldOutExamples, dates::Split::HeldOut));
  std::printf("model: bi-GRU encoder, additive attention, GRU decoder; %lld parameters\n",
              static_cast<long long>(model.params().numel()));
  std::printf("data: %zu fresh training dates per epoch, %zu held-out dates (disjoint)\n",
              config.examplesPerEpoch, heldOut.pairs.size());

  EncodedPairs epochData;
  int64_t epochDataFor = -1;
  attnrt::BatchingOptions batching;
  batching.maxExamples = config.batchSize;
  batching.chunkSize = config.batchSize * 16;

  attnrt::TrainCallbacks callbacks;
  callbacks.batches = [&](int64_t epoch) {
    if (epochDataFor != epoch) {
      epochData = trainingData(config, epoch);
      epochDataFor = epoch;
    }
    return attnrt::makeBatches(epochData.sourceLengths, batching, config.seed, epoch);
  };
  callbacks.step = [&](const attnrt::Batch &batch) -> attnrt::StepResult {
    attnrt::PaddedBatch src = attnrt::padExamples(epochData.sources, batch.examples, {examples::PAD});
    attnrt::PaddedBatch tgt = attnrt::padExamples(epochData.targets, batch.examples, {examples::PAD});
    int64_t tokens = 0;
    for (int32_t n : tgt.lengths)
      tokens += n;
    // Mean loss per target token: every example weighs 1 / tokens.
    std::vector<float> weights(batch.size(), 1.0f / static_cast<float>(tokens));
    attnrt::Tensor losses = model.gradient(src.ids, tgt.ids, src.lengths, tgt.lengths,
                                           examples::BOS, weights, grads);
    double lossSum = 0;
    for (int64_t b = 0; b < batch.size(); ++b)
      lossSum += losses.at<float>({b});
    if (!std::isfinite(lossSum))
      return {lossSum, tokens}; // no update: train() stops and says why
    attnrt::clipGlobalNorm(grads, config.clipNorm);
    adam.setLearningRate(schedule(adam.stepCount()));
    adam.step(model.params(), grads);
    return {lossSum, tokens};
  };
  attnrt::DecodeOptions greedy;
  greedy.maxLength = static_cast<int>(dates::kTargetLength) + 2;
  greedy.keepAttention = false;
  callbacks.evaluate = [&]() -> attnrt::EvalResult {
    return {exactMatch(heldOut, decodeAll(model, heldOut, greedy)), ""};
  };
  callbacks.afterEval = [&](const attnrt::TrainState &s, const attnrt::EvalResult &,
                            bool improved) {
    if (improved)
      save(bestPath, s);
  };
  callbacks.checkpoint = [&](const attnrt::TrainState &s) { save(checkpointPath, s); };

  attnrt::TrainOptions options;
  options.epochs = 0;
  options.maxSeconds = config.maxSeconds;
  options.maxSteps = config.maxSteps;
  options.evalEvery = config.evalEvery;
  options.higherIsBetter = true;
  options.targetMetric = config.targetAccuracy;
  options.metricName = "held-out exact match";
  options.reportEvery = 10;
  options.stopRequested = &stopRequested;
  std::signal(SIGINT, onInterrupt);
  attnrt::TrainResult result = attnrt::train(state, options, callbacks);
  std::signal(SIGINT, SIG_DFL);
  if (result.reason == attnrt::StopReason::NonFiniteLoss)
    return 1; // the progress printer has said why; the best checkpoint is kept

  // Decode with the best weights seen.
  if (std::filesystem::exists(bestPath))
    attnrt::loadCheckpoint(bestPath, model.params(), nullptr);
  attnrt::DecodeOptions beam;
  beam.beamSize = config.beam;
  beam.maxLength = greedy.maxLength;
  std::vector<std::vector<attnrt::Hypothesis>> results = decodeAll(model, heldOut, beam);
  std::printf("\nheld-out exact match with beam %d: %.2f%% of %zu\n\n", config.beam,
              100.0 * exactMatch(heldOut, results), heldOut.pairs.size());

  std::vector<std::string> shownSources;
  std::vector<std::vector<attnrt::Hypothesis>> shown;
  for (int i = 0; i < config.show && i < static_cast<int>(results.size()); ++i) {
    shownSources.push_back(heldOut.pairs[i].source);
    shown.push_back(results[i]);
  }
  examples::printResults(shownSources, shown);
  writeAlignmentImages(config, heldOut, results);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  return dates::runTrainingApp(argc, argv, trainAndDecode);
}
