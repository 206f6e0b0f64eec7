// Learning-rate schedules at chosen steps (step = updates already done; n = step + 1).
#include "attnrt/Schedule.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

using attnrt::Schedule;

TEST(Schedule, Constant) {
  Schedule s = Schedule::constant(0.01);
  EXPECT_EQ(s(0), 0.01);
  EXPECT_EQ(s(123456), 0.01);
  EXPECT_EQ(s.describe(), "constant(lr=0.01)");
}

// torch StepLR(step_size=10, gamma=0.5): lr for steps 0..9, lr/2 for 10..19, lr/4 from 20.
TEST(Schedule, StepDecay) {
  Schedule s = Schedule::stepDecay(0.1, 10, 0.5);
  EXPECT_DOUBLE_EQ(s(0), 0.1);
  EXPECT_DOUBLE_EQ(s(9), 0.1);
  EXPECT_DOUBLE_EQ(s(10), 0.05);
  EXPECT_DOUBLE_EQ(s(19), 0.05);
  EXPECT_DOUBLE_EQ(s(20), 0.025);
  EXPECT_DOUBLE_EQ(s(1000), 0.1 * std::pow(0.5, 100));
}

TEST(Schedule, Exponential) {
  Schedule s = Schedule::exponential(1.0, 0.9);
  EXPECT_DOUBLE_EQ(s(0), 1.0);
  EXPECT_DOUBLE_EQ(s(1), 0.9);
  EXPECT_DOUBLE_EQ(s(3), 0.729);
}

// Warmup 4: updates n = 1..4 get lr n/4 (0.25, 0.5, 0.75, 1 times lr), then lr sqrt(4/n):
// n = 16 -> lr/2, n = 100 -> lr/5.
TEST(Schedule, WarmupInverseSqrt) {
  Schedule s = Schedule::warmupInverseSqrt(1e-3, 4);
  EXPECT_DOUBLE_EQ(s(0), 0.25e-3);
  EXPECT_DOUBLE_EQ(s(1), 0.5e-3);
  EXPECT_DOUBLE_EQ(s(3), 1e-3); // the peak, at n = warmup
  EXPECT_DOUBLE_EQ(s(15), 0.5e-3);
  EXPECT_DOUBLE_EQ(s(99), 0.2e-3);
  // Without warmup: lr / sqrt(n).
  Schedule t = Schedule::warmupInverseSqrt(1.0, 0);
  EXPECT_DOUBLE_EQ(t(0), 1.0);
  EXPECT_DOUBLE_EQ(t(3), 0.5);
  // The Noam schedule of "Attention is all you need" (d = 512, warmup 4000) is this one with
  // peak d^-0.5 * warmup^-0.5.
  double peak = 1 / std::sqrt(512.0) / std::sqrt(4000.0);
  Schedule noam = Schedule::warmupInverseSqrt(peak, 4000);
  for (int64_t n : {1, 100, 4000, 4001, 100000})
    EXPECT_NEAR(noam(n - 1),
                std::pow(512.0, -0.5) * std::min(std::pow(double(n), -0.5),
                                                 double(n) * std::pow(4000.0, -1.5)),
                1e-15)
        << n;
}

// Warmup 10, total 110, lr 1, minLr 0.1: n = 5 -> 0.5; n = 10 -> 1 (peak);
// n = 60 (halfway through the decay, q = 0.5) -> 0.1 + 0.9 * (1 + cos(pi/2)) / 2 = 0.55;
// n = 35 (q = 0.25) -> 0.1 + 0.9 * (1 + cos(pi/4)) / 2 = 0.868198; n >= 110 -> 0.1.
TEST(Schedule, WarmupCosine) {
  Schedule s = Schedule::warmupCosine(1.0, 10, 110, 0.1);
  EXPECT_DOUBLE_EQ(s(4), 0.5);
  EXPECT_DOUBLE_EQ(s(9), 1.0);
  EXPECT_NEAR(s(59), 0.55, 1e-15);
  EXPECT_NEAR(s(34), 0.1 + 0.45 * (1 + std::sqrt(0.5)), 1e-15);
  EXPECT_DOUBLE_EQ(s(109), 0.1);
  EXPECT_DOUBLE_EQ(s(5000), 0.1);
  // Without warmup, the first update is at the peak.
  Schedule c = Schedule::warmupCosine(2.0, 0, 100);
  EXPECT_NEAR(c(0), 2.0 * (1 + std::cos(M_PI / 100)) / 2, 1e-15);
  EXPECT_EQ(c(99), 0.0);
  // Monotone decay after the warmup.
  for (int64_t step = 10; step < 120; ++step)
    EXPECT_LE(s(step), s(step - 1)) << step;
}

TEST(Schedule, Custom) {
  Schedule s = Schedule::custom([](int64_t step) { return 1.0 / (step + 1); }, "harmonic");
  EXPECT_DOUBLE_EQ(s(3), 0.25);
  EXPECT_EQ(s.describe(), "harmonic");
  EXPECT_THROW(Schedule::custom(nullptr), std::invalid_argument);
}

TEST(Schedule, BadArguments) {
  auto message = [](auto f) -> std::string {
    try {
      f();
    } catch (const std::invalid_argument &e) {
      return e.what();
    }
    return "(no exception)";
  };
  EXPECT_EQ(message([] { Schedule::constant(-1); }),
            "Schedule::constant: lr = -1, expected a finite value >= 0");
  EXPECT_EQ(message([] { Schedule::stepDecay(1, 0, 0.5); }),
            "Schedule::stepDecay: every = 0, expected >= 1");
  EXPECT_EQ(message([] { Schedule::exponential(1, 0); }),
            "Schedule::exponential: gamma = 0, expected a finite value > 0");
  EXPECT_EQ(message([] { Schedule::warmupInverseSqrt(1, -5); }),
            "Schedule::warmupInverseSqrt: warmup = -5, expected >= 0");
  EXPECT_EQ(message([] { Schedule::warmupCosine(1, 10, 10); }),
            "Schedule::warmupCosine: total = 10, expected more than warmup = 10");
  EXPECT_EQ(message([] { Schedule::warmupCosine(1, 0, 10, 2); }),
            "Schedule::warmupCosine: minLr = 2 exceeds lr = 1");
  EXPECT_EQ(message([] { Schedule::constant(1)(-1); }),
            "Schedule constant(lr=1): step = -1, expected >= 0");
}
