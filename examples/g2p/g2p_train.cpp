// Grapheme-to-phoneme conversion: trains g2p.attn (bi-LSTM encoder, additive
// attention, GRU decoder; compiled by attnc into libg2p.a + g2p.h) on the CMU
// pronouncing dictionary of Debian's festlex-cmu, evaluates greedy dev word
// error rate while it trains, then decodes the test words with beam search and
// reports the phone error rate (PER) and word error rate (WER), prints
// examples with their attention, and writes a few alignment PNGs.
//
//   g2p_train [--dict FILE] [--out DIR] [--max-seconds S] [--resume] ...
//   g2p_train --evaluate-only --out DIR     # the best checkpoint on the test words
//   g2p_train --help
#include "G2PData.h"
#include "Seq2SeqTrainer.h"
#include "examples_common.h"

#include "g2p.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

/// The g2p trainer's defaults of the common training settings.
examples::TrainSettings defaultTrainSettings() {
  examples::TrainSettings s;
  s.outDir = "g2p-out";
  s.seed = 1;
  s.batchSize = 64;
  s.lr = 3e-3;
  s.decayEvery = 3000;
  s.clipNorm = 5.0;
  s.evalEvery = 1000;
  s.epochs = 0;
  s.maxSeconds = 1500;
  s.maxSteps = 0;
  s.higherIsBetter = false;
  s.metricName = "dev WER";
  s.resume = false;
  s.pad = g2p::PAD;
  s.bos = g2p::BOS;
  return s;
}

examples::TrainOptionsSpec trainOptionsSpec() {
  examples::TrainOptionsSpec spec;
  spec.maxCount = 100000000;
  spec.epochs = true;
  spec.batchUnit = "words";
  spec.evaluations = "dev evaluations";
  return spec;
}

struct Config {
  std::string dict = g2p::defaultLexiconPath();
  examples::TrainSettings train = defaultTrainSettings();
  bool evaluateOnly = false;
  size_t devWords = 1000;   ///< dev words evaluated while training (0: all)
  size_t trainWords = 0;    ///< first N training words only (0: all)
  size_t testWords = 0;     ///< first N test words only (0: all)
  int beam = 5;
  int show = 12;
  int images = 2;
};

[[noreturn]] void usage(const std::string &error) {
  Config d;
  std::FILE *os = error.empty() ? stdout : stderr;
  if (!error.empty())
    std::fprintf(os, "g2p_train: %s\n", error.c_str());
  std::fprintf(
      os,
      "usage: g2p_train [options]\n"
      "Trains the grapheme-to-phoneme model (g2p.attn) on the CMU pronouncing dictionary\n"
      "(Debian package festlex-cmu) until --max-seconds, --max-steps or --epochs, then\n"
      "beam-decodes the test words and reports phone and word error rates.\n"
      "  --dict FILE        Festival-format lexicon (default %s)\n"
      "%s"
      "  --evaluate-only    no training: evaluate DIR/best.safetensors (or checkpoint)\n"
      "  --dev N            dev words evaluated while training, 0 for all (default %zu)\n"
      "  --train-words N    use the first N training words only, 0 for all (default 0)\n"
      "  --test-words N     evaluate the first N test words only, 0 for all (default 0)\n"
      "  --beam K           beam size of the test decoding (default %d)\n"
      "  --show N           test words printed, with their attention (default %d)\n"
      "  --images N         alignment PNGs written (default %d)\n",
      d.dict.c_str(), examples::trainOptionsUsage(d.train, trainOptionsSpec()).c_str(),
      d.devWords, d.beam, d.show, d.images);
  std::exit(error.empty() ? 0 : 2);
}

Config parse(int argc, char **argv) {
  Config c;
  const examples::TrainOptionsSpec spec = trainOptionsSpec();
  const long long kMax = spec.maxCount;
  examples::parseTrainingCommandLine(
      argc, argv, c.train, spec, usage,
      [&](const std::string &arg, const examples::OptionValue &value) {
        auto integer = [&](long long lo, long long hi) {
          return examples::integerOption(arg, value(), lo, hi);
        };
        if (arg == "--dict")
          c.dict = value();
        else if (arg == "--evaluate-only")
          c.evaluateOnly = true;
        else if (arg == "--dev")
          c.devWords = static_cast<size_t>(integer(0, kMax));
        else if (arg == "--train-words")
          c.trainWords = static_cast<size_t>(integer(0, kMax));
        else if (arg == "--test-words")
          c.testWords = static_cast<size_t>(integer(0, kMax));
        else if (arg == "--beam")
          c.beam = static_cast<int>(integer(1, 100));
        else if (arg == "--show")
          c.show = static_cast<int>(integer(0, 100000));
        else if (arg == "--images")
          c.images = static_cast<int>(integer(0, 1000));
        else
          return false;
        return true;
      });
  return c;
}

/// Words with their letters and (first) pronunciation as ids.
struct EncodedWords {
  std::vector<g2p::Word> words;
  examples::Seq2SeqExamples ids;
};

EncodedWords encode(std::vector<g2p::Word> words, size_t limit) {
  if (limit != 0 && words.size() > limit)
    words.resize(limit);
  EncodedWords e;
  for (const g2p::Word &w : words)
    e.ids.add(g2p::encodeLetters(w.spelling), g2p::encodePhones(w.pronunciations.front()));
  e.words = std::move(words);
  return e;
}

std::vector<std::string> bestPhones(const std::vector<attnrt::Hypothesis> &hyps) {
  return hyps.empty() ? std::vector<std::string>{} : g2p::decodePhones(hyps.front().tokens);
}

g2p::Score score(const EncodedWords &data,
                 const std::vector<std::vector<attnrt::Hypothesis>> &results) {
  g2p::Score s;
  for (size_t i = 0; i < results.size(); ++i)
    s.add(bestPhones(results[i]), data.words[i].pronunciations);
  return s;
}

std::string percentages(const g2p::Score &s) {
  char text[128];
  std::snprintf(text, sizeof text, "PER %.2f%%, WER %.2f%% (%zu words)", 100 * s.per(),
                100 * s.wer(), s.words);
  return text;
}

void printExamples(const Config &config, const EncodedWords &test,
                   const std::vector<std::vector<attnrt::Hypothesis>> &results) {
  std::printf("\nthe first %d test words ('=' right, 'x' wrong; the reference closest to the "
              "output, of %s):\n",
              std::min<int>(config.show, static_cast<int>(results.size())), "its pronunciations");
  for (int i = 0; i < config.show && i < static_cast<int>(results.size()); ++i) {
    const g2p::Word &w = test.words[i];
    std::vector<std::string> hyp = bestPhones(results[i]);
    const std::vector<std::string> *closest = &w.pronunciations.front();
    for (const auto &p : w.pronunciations)
      if (g2p::editDistance(hyp, p) < g2p::editDistance(hyp, *closest))
        closest = &p;
    bool right = g2p::editDistance(hyp, *closest) == 0;
    std::printf("  %c %-18s %-28s", right ? '=' : 'x', w.spelling.c_str(),
                g2p::joinPhones(hyp).c_str());
    if (!right)
      std::printf(" reference: %s", g2p::joinPhones(*closest).c_str());
    std::printf("\n");
  }
  // The attention of the first few, as ASCII heat maps: rows are phones.
  int heatMaps = std::min(3, std::min(config.show, static_cast<int>(results.size())));
  for (int i = 0; i < heatMaps; ++i) {
    const attnrt::Hypothesis &best = results[i].front();
    if (best.attention.empty())
      continue;
    std::printf("\n%s -> %s\n", test.words[i].spelling.c_str(),
                g2p::joinPhones(bestPhones(results[i])).c_str());
    const std::string &word = test.words[i].spelling;
    size_t stride = best.attention.size() / best.tokens.size();
    const char *shades = " .:-=+*#%@";
    std::printf("      %s\n", word.c_str());
    for (size_t r = 0; r < best.tokens.size(); ++r) {
      float top = 0;
      for (size_t c = 0; c < word.size(); ++c)
        top = std::max(top, best.attention[r * stride + c]);
      std::string row;
      for (size_t c = 0; c < word.size(); ++c) {
        float v = top > 0 ? best.attention[r * stride + c] / top : 0;
        row += shades[std::min(9, static_cast<int>(v * 9.999f))];
      }
      std::string label = best.tokens[r] == g2p::EOS ? "</s>" : g2p::phoneText(best.tokens[r]);
      std::printf("%5s %s  %.2f\n", label.c_str(), row.c_str(), top);
    }
  }
}

void writeAlignmentImages(const Config &config, const EncodedWords &test,
                          const std::vector<std::vector<attnrt::Hypothesis>> &results) {
  for (int i = 0; i < config.images && i < static_cast<int>(results.size()); ++i) {
    const std::string &word = test.words[i].spelling;
    std::vector<std::string> letters;
    for (char ch : word)
      letters.push_back(std::string(1, ch));
    std::string path = config.train.outDir + "/alignment-" + std::to_string(i) + ".png";
    if (examples::writeAlignmentImage(path, letters, results[i].front(), g2p::phoneText,
                                      word + " -> " + g2p::joinPhones(bestPhones(results[i])),
                                      g2p::EOS))
      std::printf("wrote %s\n", path.c_str());
  }
}

int run(const Config &config) {
  g2p::DictionaryStats stats;
  std::vector<g2p::Word> words = g2p::buildWords(g2p::loadLexicon(config.dict), &stats);
  std::printf("lexicon %s: %zu entries, %zu words of a-z (%zu entries with other spellings "
              "skipped), %zu with several pronunciations\n",
              config.dict.c_str(), stats.entries, stats.words, stats.skippedSpelling,
              stats.multiplePronunciations);
  std::printf("split by word: %zu train, %zu dev, %zu test\n", stats.perSplit[0],
              stats.perSplit[1], stats.perSplit[2]);
  const EncodedWords train = encode(g2p::wordsOf(words, g2p::Split::Train), config.trainWords);
  const EncodedWords dev = encode(g2p::wordsOf(words, g2p::Split::Dev), config.devWords);
  const EncodedWords test = encode(g2p::wordsOf(words, g2p::Split::Test), config.testWords);
  if (train.words.empty() || dev.words.empty() || test.words.empty())
    throw std::runtime_error(config.dict + ": too few words for a train, dev and test split");

  g2p::Model model(config.train.seed);
  examples::Seq2SeqTrainer<g2p::Model> trainer(model, config.train);
  std::printf("model: bi-LSTM encoder, additive attention, GRU decoder; %lld parameters\n",
              static_cast<long long>(model.params().numel()));

  attnrt::DecodeOptions greedy;
  greedy.maxLength = 40; // the longest pronunciation has 20 phones
  greedy.keepAttention = false;
  greedy.bos = g2p::BOS;
  greedy.eos = g2p::EOS;

  if (config.evaluateOnly) {
    if (trainer.loadBest())
      std::printf("evaluating %s\n", trainer.bestPath().c_str());
    else if (std::filesystem::exists(trainer.checkpointPath())) {
      attnrt::loadCheckpoint(trainer.checkpointPath(), model.params(), nullptr);
      std::printf("evaluating %s\n", trainer.checkpointPath().c_str());
    } else {
      throw std::runtime_error("--evaluate-only: no checkpoint in " + config.train.outDir);
    }
  } else {
    trainer.resumeIfAsked();
    std::printf("training on %zu words, %lld per batch; greedy dev WER on %zu dev words every "
                "%lld steps\n",
                train.words.size(), static_cast<long long>(config.train.batchSize), dev.words.size(),
                static_cast<long long>(config.train.evalEvery));
    trainer.data = [&](int64_t) -> const examples::Seq2SeqExamples & { return train.ids; };
    trainer.evaluate = [&]() -> attnrt::EvalResult {
      g2p::Score s = score(dev, examples::decodeAll(model, dev.ids.sources, greedy, 256, g2p::PAD));
      char text[64];
      std::snprintf(text, sizeof text, "PER %.2f%%", 100 * s.per());
      return {s.wer(), text};
    };
    attnrt::TrainResult result = trainer.train();
    if (result.reason == attnrt::StopReason::NonFiniteLoss)
      return 1; // the progress printer has said why; the best checkpoint is kept
    std::printf("trained %lld steps in all (%.0f s in this run)\n",
                static_cast<long long>(trainer.state().step), result.seconds);
    // Evaluate the best weights seen.
    trainer.loadBest();
  }

  g2p::Score greedyScore =
      score(test, examples::decodeAll(model, test.ids.sources, greedy, 256, g2p::PAD));
  std::printf("\ntest, greedy: %s\n", percentages(greedyScore).c_str());
  attnrt::DecodeOptions beam = greedy;
  beam.beamSize = config.beam;
  beam.keepAttention = true;
  std::vector<std::vector<attnrt::Hypothesis>> results =
      examples::decodeAll(model, test.ids.sources, beam, 256, g2p::PAD);
  g2p::Score beamScore = score(test, results);
  std::printf("test, beam %d: %s\n", config.beam, percentages(beamScore).c_str());
  printExamples(config, test, results);
  writeAlignmentImages(config, test, results);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  Config config = parse(argc, argv);
  try {
    return run(config);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
