#include "Seq2SeqTrainer.h"

#include "attnrt/HeatMap.h"

#include <cerrno>
#include <cstdarg>
#include <cstdlib>
#include <limits>

namespace examples {

bool writeAlignmentImage(const std::string &path, const std::vector<std::string> &sourceLabels,
                         const attnrt::Hypothesis &hyp,
                         const std::function<std::string(int32_t)> &tokenLabel,
                         const std::string &title, int32_t eos) {
  int cols = static_cast<int>(sourceLabels.size()), rows = static_cast<int>(hyp.tokens.size());
  if (hyp.attention.empty() || cols == 0 || rows == 0)
    return false;
  size_t stride = hyp.attention.size() / hyp.tokens.size(); // the padded source length
  std::vector<float> weights;
  std::vector<std::string> rowLabels;
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c)
      weights.push_back(hyp.attention[r * stride + c]);
    rowLabels.push_back(hyp.tokens[r] == eos ? "</s>" : tokenLabel(hyp.tokens[r]));
  }
  attnrt::HeatMapOptions options;
  options.title = title;
  options.colorMap = attnrt::ColorMap::Viridis;
  attnrt::writeAlignmentPng(path, weights, rows, cols, rowLabels, sourceLabels, options);
  return true;
}

std::atomic<bool> &trainStopRequested() {
  static std::atomic<bool> requested{false};
  return requested;
}

extern "C" void examplesOnInterrupt(int) { trainStopRequested() = true; }

long long integerOption(const std::string &option, const std::string &text, long long lo,
                        long long hi) {
  char *end = nullptr;
  errno = 0;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || v < lo || v > hi)
    throw UsageError(option + " needs an integer in " + std::to_string(lo) + ".." +
                     std::to_string(hi) + ", not '" + text + "'");
  return v;
}

double realOption(const std::string &option, const std::string &text, double lo, double hi) {
  char *end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(v) || v < lo || v > hi)
    throw UsageError(option + " needs a number in [" + std::to_string(lo) + ", " +
                     std::to_string(hi) + "], not '" + text + "'");
  return v;
}

bool parseTrainOption(const std::string &option, const std::function<std::string()> &value,
                      TrainSettings &settings, const TrainOptionsSpec &spec) {
  auto integer = [&](long long lo, long long hi) { return integerOption(option, value(), lo, hi); };
  auto real = [&](double lo, double hi) { return realOption(option, value(), lo, hi); };
  if (option == "--out")
    settings.outDir = value();
  else if (option == "--resume")
    settings.resume = true;
  else if (option == "--max-seconds")
    settings.maxSeconds = real(0, 1e7);
  else if (option == "--max-steps")
    settings.maxSteps = integer(0, spec.maxCount);
  else if (option == "--epochs" && spec.epochs)
    settings.epochs = integer(0, spec.maxCount);
  else if (option == "--seed")
    settings.seed = static_cast<uint64_t>(integer(0, std::numeric_limits<long long>::max()));
  else if (option == "--batch")
    settings.batchSize = integer(1, 65536);
  else if (option == "--lr")
    settings.lr = real(0, 10);
  else if (option == "--decay-every")
    settings.decayEvery = integer(1, spec.maxCount);
  else if (option == "--clip")
    settings.clipNorm = real(1e-6, 1e6);
  else if (option == "--eval-every")
    settings.evalEvery = integer(1, spec.maxCount);
  else if (option == "--threads")
    settings.threads = static_cast<int>(integer(0, 1024));
  else
    return false;
  return true;
}

namespace {
std::string format(const char *fmt, ...) {
  char text[512];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(text, sizeof text, fmt, args);
  va_end(args);
  return text;
}
} // namespace

std::string trainOptionsUsage(const TrainSettings &d, const TrainOptionsSpec &spec) {
  std::string text =
      format("  --out DIR          checkpoints and PNGs (default %s)\n", d.outDir.c_str());
  text += "  --resume           continue from DIR/checkpoint.safetensors if it exists\n";
  text += format("  --max-seconds S    training time budget, 0 for none (default %g)\n",
                 d.maxSeconds);
  text += format("  --max-steps N      stop after N training steps in all, 0 for none "
                 "(default %lld)\n",
                 static_cast<long long>(d.maxSteps));
  if (spec.epochs)
    text += format("  --epochs N         stop after N epochs, 0 for none (default %lld)\n",
                   static_cast<long long>(d.epochs));
  text += format("  --seed N           %s (default %llu)\n", spec.seedUse.c_str(),
                 static_cast<unsigned long long>(d.seed));
  text += format("  --batch N          %s per batch (default %lld)\n", spec.batchUnit.c_str(),
                 static_cast<long long>(d.batchSize));
  text += format("  --lr X             Adam learning rate (default %g), halved every\n", d.lr);
  text += format("  --decay-every N    N steps (default %lld)\n",
                 static_cast<long long>(d.decayEvery));
  text += format("  --clip X           global gradient-norm clip (default %g)\n", d.clipNorm);
  text += format("  --eval-every N     steps between %s (default %lld)\n",
                 spec.evaluations.c_str(), static_cast<long long>(d.evalEvery));
  text += format("  --threads N        kernel threads, 0 for one per hardware thread (default %d)\n",
                 d.threads);
  return text;
}

void parseTrainingCommandLine(int argc, char **argv, TrainSettings &settings,
                              const TrainOptionsSpec &spec,
                              const std::function<void(const std::string &)> &usage,
                              const std::function<bool(const std::string &, const OptionValue &)> &own) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    OptionValue value = [&]() -> std::string {
      if (i + 1 >= argc)
        usage(arg + " needs a value");
      return argv[++i];
    };
    try {
      if (arg == "--help" || arg == "-h")
        usage("");
      else if (!parseTrainOption(arg, value, settings, spec) && !own(arg, value))
        usage("unknown option " + arg);
    } catch (const UsageError &e) {
      usage(e.what());
    }
  }
}

} // namespace examples
