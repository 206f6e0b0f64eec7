#include "DateTrainOptions.h"

#include "Seq2SeqTrainer.h"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <limits>

namespace dates {
namespace {

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
      "  --out DIR          checkpoints and PNGs (default %s)\n"
      "  --resume           continue from DIR/checkpoint.safetensors if it exists\n"
      "  --max-seconds S    training time budget, 0 for none (default %g)\n"
      "  --max-steps N      stop after N training steps in all, 0 for none (default 0)\n"
      "  --target ACC       stop at this held-out exact match, 0..1 (default %g)\n"
      "  --seed N           initialisation, data and batch order (default %llu)\n"
      "  --epoch-size N     fresh training dates per epoch (default %zu)\n"
      "  --held-out N       held-out dates evaluated (default %zu)\n"
      "  --batch N          examples per batch (default %lld)\n"
      "  --lr X             Adam learning rate (default %g), halved every\n"
      "  --decay-every N    N steps (default %lld)\n"
      "  --clip X           global gradient-norm clip (default %g)\n"
      "  --eval-every N     steps between evaluations (default %lld)\n"
      "  --beam K           beam size of the final decoding (default %d)\n"
      "  --show N           held-out examples printed with their attention (default %d)\n"
      "  --images N         alignment PNGs written (default %d)\n",
      d.outDir.c_str(), d.maxSeconds, d.targetAccuracy,
      static_cast<unsigned long long>(d.seed), d.examplesPerEpoch, d.heldOutExamples,
      static_cast<long long>(d.batchSize), d.lr, static_cast<long long>(d.decayEvery),
      d.clipNorm, static_cast<long long>(d.evalEvery), d.beam, d.show, d.images);
  std::exit(error.empty() ? 0 : 2);
}

long long integer(const std::string &option, const std::string &text, long long lo,
                  long long hi) {
  try {
    return examples::integerOption(option, text, lo, hi);
  } catch (const examples::UsageError &e) {
    usage(e.what());
  }
}

double real(const std::string &option, const std::string &text, double lo, double hi) {
  try {
    return examples::realOption(option, text, lo, hi);
  } catch (const examples::UsageError &e) {
    usage(e.what());
  }
}

TrainConfig parse(int argc, char **argv) {
  TrainConfig c;
  const long long kMaxCount = 10000000;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        usage(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h")
      usage("");
    else if (arg == "--out")
      c.outDir = value();
    else if (arg == "--resume")
      c.resume = true;
    else if (arg == "--max-seconds")
      c.maxSeconds = real(arg, value(), 0, 1e7);
    else if (arg == "--max-steps")
      c.maxSteps = integer(arg, value(), 0, kMaxCount);
    else if (arg == "--target")
      c.targetAccuracy = real(arg, value(), 0, 1);
    else if (arg == "--seed")
      c.seed = static_cast<uint64_t>(integer(arg, value(), 0, std::numeric_limits<long long>::max()));
    else if (arg == "--epoch-size")
      c.examplesPerEpoch = static_cast<size_t>(integer(arg, value(), 1, kMaxCount));
    else if (arg == "--held-out")
      c.heldOutExamples = static_cast<size_t>(integer(arg, value(), 1, kMaxCount));
    else if (arg == "--batch")
      c.batchSize = integer(arg, value(), 1, 65536);
    else if (arg == "--lr")
      c.lr = real(arg, value(), 0, 10);
    else if (arg == "--decay-every")
      c.decayEvery = integer(arg, value(), 1, kMaxCount);
    else if (arg == "--clip")
      c.clipNorm = real(arg, value(), 1e-6, 1e6);
    else if (arg == "--eval-every")
      c.evalEvery = integer(arg, value(), 1, kMaxCount);
    else if (arg == "--beam")
      c.beam = static_cast<int>(integer(arg, value(), 1, 100));
    else if (arg == "--show")
      c.show = static_cast<int>(integer(arg, value(), 0, 1000));
    else if (arg == "--images")
      c.images = static_cast<int>(integer(arg, value(), 0, 1000));
    else
      usage("unknown option " + arg);
  }
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
