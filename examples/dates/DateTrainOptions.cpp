#include "DateTrainOptions.h"

#include "Seq2SeqTrainer.h"

#include <cstdio>
#include <cstdlib>
#include <exception>

namespace dates {
namespace {

examples::TrainOptionsSpec trainOptionsSpec() {
  examples::TrainOptionsSpec spec;
  spec.maxCount = 10000000;
  spec.seedUse = "initialisation, data and batch order";
  return spec;
}

[[noreturn]] void usage(const std::string &error) {
  TrainConfig d;
  std::FILE *os = error.empty() ? stdout : stderr;
  if (!error.empty())
    std::fprintf(os, "dates_train: %s\n", error.c_str());
  std::fprintf(
      os,
      "usage: dates_train [options]\n"
      "Trains the date-normalisation model (dates.attn) on generated dates until the\n"
      "held-out greedy exact match reaches --target or --max-seconds pass, then decodes\n"
      "held-out dates with beam search and writes alignment images.\n"
      "%s"
      "  --target ACC       stop at this held-out exact match, 0..1 (default %g)\n"
      "  --epoch-size N     fresh training dates per epoch (default %zu)\n"
      "  --held-out N       held-out dates evaluated (default %zu)\n"
      "  --beam K           beam size of the final decoding (default %d)\n"
      "  --show N           held-out examples printed with their attention (default %d)\n"
      "  --images N         alignment PNGs written (default %d)\n",
      examples::trainOptionsUsage(d.train, trainOptionsSpec()).c_str(), *d.train.targetMetric,
      d.examplesPerEpoch, d.heldOutExamples, d.beam, d.show, d.images);
  std::exit(error.empty() ? 0 : 2);
}

TrainConfig parse(int argc, char **argv) {
  TrainConfig c;
  const examples::TrainOptionsSpec spec = trainOptionsSpec();
  examples::parseTrainingCommandLine(
      argc, argv, c.train, spec, usage,
      [&](const std::string &arg, const examples::OptionValue &value) {
        auto integer = [&](long long lo, long long hi) {
          return examples::integerOption(arg, value(), lo, hi);
        };
        if (arg == "--target")
          c.train.targetMetric = examples::realOption(arg, value(), 0, 1);
        else if (arg == "--epoch-size")
          c.examplesPerEpoch = static_cast<size_t>(integer(1, spec.maxCount));
        else if (arg == "--held-out")
          c.heldOutExamples = static_cast<size_t>(integer(1, spec.maxCount));
        else if (arg == "--beam")
          c.beam = static_cast<int>(integer(1, 100));
        else if (arg == "--show")
          c.show = static_cast<int>(integer(0, 1000));
        else if (arg == "--images")
          c.images = static_cast<int>(integer(0, 1000));
        else
          return false;
        return true;
      });
  return c;
}

} // namespace

int runTrainingApp(int argc, char **argv, const std::function<int(const TrainConfig &)> &body) {
  TrainConfig config = parse(argc, argv);
  try {
    return body(config);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}

} // namespace dates
