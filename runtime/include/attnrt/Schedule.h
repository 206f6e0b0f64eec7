// Learning-rate schedules: lr(step) for the update that follows `step` earlier updates.
//
//   attnrt::Schedule schedule = attnrt::Schedule::warmupCosine(/*peak=*/5e-4, /*warmup=*/1000,
//                                                             /*total=*/50000);
//   optimizer.setLearningRate(schedule(optimizer.stepCount()));
//   optimizer.step(params, grads);
//
// `step` is the number of updates already applied (Optimizer::stepCount() before the update,
// 0 for the first one); n = step + 1 is the 1-based number of the update about to happen.
//
//   constant(lr)                     lr
//   stepDecay(lr, every, gamma)      lr * gamma^floor(step / every)       (torch StepLR)
//   exponential(lr, gamma)           lr * gamma^step                      (torch ExponentialLR)
//   warmupInverseSqrt(lr, warmup)    lr * n / warmup                      for n <= warmup
//                                    lr * sqrt(warmup / n)                after
//                                    (lr / sqrt(n) when warmup = 0)
//                                    (the Transformer's "Noam" schedule with peak lr, fairseq's
//                                    inverse_sqrt; continuous at n = warmup)
//   warmupCosine(lr, warmup, total, minLr)
//                                    lr * n / warmup                      for n <= warmup
//                                    minLr + (lr - minLr) * (1 + cos(pi * q)) / 2 after, with
//                                    q = (n - warmup) / (total - warmup), clamped to 1: it
//                                    reaches minLr at update n = total and stays there
//   custom(f, description)           f(step)
//
// warmup = 0 means no warmup. The factories throw std::invalid_argument for invalid arguments
// (a negative or non-finite rate, gamma <= 0, every < 1, warmup < 0, total <= warmup, minLr
// outside [0, lr]); lr(step) throws std::invalid_argument for a negative step.
#ifndef ATTNRT_SCHEDULE_H
#define ATTNRT_SCHEDULE_H

#include <cstdint>
#include <functional>
#include <string>

namespace attnrt {

class Schedule {
public:
  /// The same rate at every step.
  static Schedule constant(double lr);
  /// Multiplies by gamma (> 0) every `every` (>= 1) steps.
  static Schedule stepDecay(double lr, int64_t every, double gamma);
  /// Multiplies by gamma (> 0) at every step.
  static Schedule exponential(double lr, double gamma);
  /// Linear warmup to `lr` over `warmup` (>= 0) updates, then lr * sqrt(warmup / n).
  static Schedule warmupInverseSqrt(double lr, int64_t warmup);
  /// Linear warmup to `lr` over `warmup` updates, then half a cosine down to minLr (0 <= minLr
  /// <= lr) at update `total` (> warmup).
  static Schedule warmupCosine(double lr, int64_t warmup, int64_t total, double minLr = 0);
  /// Any function of the step; `description` is what describe() returns.
  static Schedule custom(std::function<double(int64_t step)> lr,
                         std::string description = "custom");

  /// The learning rate for the update after `step` updates (see the table above).
  double lr(int64_t step) const;
  double operator()(int64_t step) const { return lr(step); }

  /// "warmupCosine(lr=0.0005, warmup=1000, total=50000, minLr=0)".
  const std::string &describe() const { return description_; }

private:
  Schedule(std::function<double(int64_t)> f, std::string description)
      : f_(std::move(f)), description_(std::move(description)) {}
  std::function<double(int64_t)> f_;
  std::string description_;
};

} // namespace attnrt

#endif // ATTNRT_SCHEDULE_H
