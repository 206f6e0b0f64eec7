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
#include "Seq2SeqTrainer.h"
#include "examples_common.h"

#include "dates.h"

#include <cstdio>
#include <string>
#include <vector>

namespace {

/// One split's examples as token ids: sources without BOS/EOS, targets with EOS.
struct EncodedPairs {
  std::vector<dates::DatePair> pairs;
  examples::Seq2SeqExamples ids;
};

EncodedPairs encode(std::vector<dates::DatePair> pairs) {
  EncodedPairs e;
  for (const dates::DatePair &p : pairs)
    e.ids.add(dates::encodeChars(p.source, /*appendEos=*/false),
              dates::encodeChars(p.target, /*appendEos=*/true));
  e.pairs = std::move(pairs);
  return e;
}

/// Every epoch sees fresh training dates: the data of epoch k comes from seed
/// (seed, k), so a resumed run sees the same data as an uninterrupted one.
EncodedPairs trainingData(const dates::TrainConfig &config, int64_t epoch) {
  uint64_t seed = config.train.seed * 1000003ull + static_cast<uint64_t>(epoch);
  return encode(dates::generateDates(seed, config.examplesPerEpoch, dates::Split::Train));
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
    std::vector<std::string> colLabels;
    for (char ch : source)
      colLabels.push_back(std::string(1, ch));
    std::string path = config.train.outDir + "/alignment-" + std::to_string(i) + ".png";
    if (examples::writeAlignmentImage(path, colLabels, best, examples::tokenText,
                                      source + " -> " + examples::tokensText(best.tokens)))
      std::printf("wrote %s\n", path.c_str());
  }
}

int trainAndDecode(const dates::TrainConfig &config) {
  dates::Model model(config.train.seed);
  examples::Seq2SeqTrainer<dates::Model> trainer(model, config.train);
  trainer.resumeIfAsked();

  const EncodedPairs heldOut =
      encode(dates::generateDates(config.train.seed, config.heldOutExamples, dates::Split::HeldOut));
  std::printf("model: bi-GRU encoder, additive attention, GRU decoder; %lld parameters\n",
              static_cast<long long>(model.params().numel()));
  std::printf("data: %zu fresh training dates per epoch, %zu held-out dates (disjoint)\n",
              config.examplesPerEpoch, heldOut.pairs.size());

  EncodedPairs epochData;
  int64_t epochDataFor = -1;
  trainer.data = [&](int64_t epoch) -> const examples::Seq2SeqExamples & {
    if (epochDataFor != epoch) {
      epochData = trainingData(config, epoch);
      epochDataFor = epoch;
    }
    return epochData.ids;
  };
  attnrt::DecodeOptions greedy;
  greedy.maxLength = static_cast<int>(dates::kTargetLength) + 2;
  greedy.keepAttention = false;
  trainer.evaluate = [&]() -> attnrt::EvalResult {
    return {exactMatch(heldOut, examples::decodeAll(model, heldOut.ids.sources, greedy)), ""};
  };
  attnrt::TrainResult result = trainer.train();
  if (result.reason == attnrt::StopReason::NonFiniteLoss)
    return 1; // the progress printer has said why; the best checkpoint is kept

  // Decode with the best weights seen.
  trainer.loadBest();
  attnrt::DecodeOptions beam;
  beam.beamSize = config.beam;
  beam.maxLength = greedy.maxLength;
  std::vector<std::vector<attnrt::Hypothesis>> results =
      examples::decodeAll(model, heldOut.ids.sources, beam);
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
