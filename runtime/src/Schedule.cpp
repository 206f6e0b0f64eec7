#include "attnrt/Schedule.h"

#include "Text.h"

#include <cmath>
#include <stdexcept>

namespace attnrt {

using detail::formatDouble;

namespace {

void checkRate(const char *factory, const char *what, double lr) {
  if (!std::isfinite(lr) || lr < 0)
    throw std::invalid_argument(std::string("Schedule::") + factory + ": " + what + " = " +
                                formatDouble(lr) + ", expected a finite value >= 0");
}

void checkGamma(const char *factory, double gamma) {
  if (!std::isfinite(gamma) || gamma <= 0)
    throw std::invalid_argument(std::string("Schedule::") + factory + ": gamma = " +
                                formatDouble(gamma) + ", expected a finite value > 0");
}

void checkWarmup(const char *factory, int64_t warmup) {
  if (warmup < 0)
    throw std::invalid_argument(std::string("Schedule::") + factory + ": warmup = " +
                                std::to_string(warmup) + ", expected >= 0");
}

/// lr * n / warmup during the warmup (n = step + 1 <= warmup), else -1.
double warmupRate(double lr, int64_t warmup, int64_t step) {
  const int64_t n = step + 1;
  if (n <= warmup)
    return lr * static_cast<double>(n) / static_cast<double>(warmup);
  return -1;
}

} // namespace

Schedule Schedule::constant(double lr) {
  checkRate("constant", "lr", lr);
  return Schedule([lr](int64_t) { return lr; }, "constant(lr=" + formatDouble(lr) + ")");
}

Schedule Schedule::stepDecay(double lr, int64_t every, double gamma) {
  checkRate("stepDecay", "lr", lr);
  checkGamma("stepDecay", gamma);
  if (every < 1)
    throw std::invalid_argument("Schedule::stepDecay: every = " + std::to_string(every) +
                                ", expected >= 1");
  return Schedule(
      [=](int64_t step) { return lr * std::pow(gamma, static_cast<double>(step / every)); },
      "stepDecay(lr=" + formatDouble(lr) + ", every=" + std::to_string(every) +
          ", gamma=" + formatDouble(gamma) + ")");
}

Schedule Schedule::exponential(double lr, double gamma) {
  checkRate("exponential", "lr", lr);
  checkGamma("exponential", gamma);
  return Schedule([=](int64_t step) { return lr * std::pow(gamma, static_cast<double>(step)); },
                  "exponential(lr=" + formatDouble(lr) + ", gamma=" + formatDouble(gamma) + ")");
}

Schedule Schedule::warmupInverseSqrt(double lr, int64_t warmup) {
  checkRate("warmupInverseSqrt", "lr", lr);
  checkWarmup("warmupInverseSqrt", warmup);
  return Schedule(
      [=](int64_t step) {
        double w = warmupRate(lr, warmup, step);
        if (w >= 0)
          return w;
        if (warmup == 0)
          return lr / std::sqrt(static_cast<double>(step + 1));
        return lr * std::sqrt(static_cast<double>(warmup) / static_cast<double>(step + 1));
      },
      "warmupInverseSqrt(lr=" + formatDouble(lr) + ", warmup=" + std::to_string(warmup) + ")");
}

Schedule Schedule::warmupCosine(double lr, int64_t warmup, int64_t total, double minLr) {
  checkRate("warmupCosine", "lr", lr);
  checkRate("warmupCosine", "minLr", minLr);
  checkWarmup("warmupCosine", warmup);
  if (minLr > lr)
    throw std::invalid_argument("Schedule::warmupCosine: minLr = " + formatDouble(minLr) +
                                " exceeds lr = " + formatDouble(lr));
  if (total <= warmup)
    throw std::invalid_argument("Schedule::warmupCosine: total = " + std::to_string(total) +
                                ", expected more than warmup = " + std::to_string(warmup));
  const double pi = std::acos(-1.0);
  return Schedule(
      [=](int64_t step) {
        double w = warmupRate(lr, warmup, step);
        if (w >= 0)
          return w;
        double q = static_cast<double>(step + 1 - warmup) / static_cast<double>(total - warmup);
        if (q >= 1)
          return minLr;
        return minLr + (lr - minLr) * (1 + std::cos(pi * q)) / 2;
      },
      "warmupCosine(lr=" + formatDouble(lr) + ", warmup=" + std::to_string(warmup) +
          ", total=" + std::to_string(total) + ", minLr=" + formatDouble(minLr) + ")");
}

Schedule Schedule::custom(std::function<double(int64_t)> lr, std::string description) {
  if (!lr)
    throw std::invalid_argument("Schedule::custom: the function is empty");
  return Schedule(std::move(lr), std::move(description));
}

double Schedule::lr(int64_t step) const {
  if (step < 0)
    throw std::invalid_argument("Schedule " + description_ + ": step = " +
                                std::to_string(step) + ", expected >= 0");
  return f_(step);
}

} // namespace attnrt
