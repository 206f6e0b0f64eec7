#include "Seq2SeqTrainer.h"

#include "attnrt/HeatMap.h"

#include <cerrno>
#include <cstdlib>

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

} // namespace examples
