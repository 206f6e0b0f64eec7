#include "attnrt/Init.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>

using attnrt::DType;
using attnrt::Init;
using attnrt::Tensor;

namespace {

Tensor make(std::vector<int64_t> shape, const Init &init, uint64_t seed = 1,
            const std::string &stream = "w") {
  Tensor t(DType::F32, std::move(shape));
  attnrt::initialize(t, init, seed, stream);
  return t;
}

bool bitIdentical(const Tensor &a, const Tensor &b) {
  return a.shape() == b.shape() && std::memcmp(a.rawData(), b.rawData(), a.byteSize()) == 0;
}

struct Moments {
  double mean = 0, stddev = 0, kurtosis = 0, min = 0, max = 0;
};

Moments moments(const Tensor &t) {
  const float *p = t.data<float>();
  const double n = static_cast<double>(t.numel());
  Moments m;
  m.min = m.max = p[0];
  for (int64_t i = 0; i < t.numel(); ++i) {
    m.mean += p[i];
    m.min = std::min<double>(m.min, p[i]);
    m.max = std::max<double>(m.max, p[i]);
  }
  m.mean /= n;
  double m2 = 0, m4 = 0;
  for (int64_t i = 0; i < t.numel(); ++i) {
    double d = p[i] - m.mean;
    m2 += d * d;
    m4 += d * d * d * d;
  }
  m2 /= n;
  m4 /= n;
  m.stddev = std::sqrt(m2);
  m.kurtosis = m4 / (m2 * m2);
  return m;
}

/// max |(M^T M)_ij - scale * I_ij| for M = rows x cols (row-major), computed in double.
double gramError(const float *m, int64_t rows, int64_t cols, double scale) {
  double worst = 0;
  for (int64_t i = 0; i < cols; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      double dot = 0;
      for (int64_t r = 0; r < rows; ++r)
        dot += static_cast<double>(m[r * cols + i]) * m[r * cols + j];
      worst = std::max(worst, std::fabs(dot - (i == j ? scale : 0.0)));
    }
  return worst;
}

std::vector<float> transposed(const Tensor &t, int64_t rows, int64_t cols) {
  std::vector<float> out(static_cast<size_t>(rows * cols));
  const float *p = t.data<float>();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      out[static_cast<size_t>(c * rows + r)] = p[r * cols + c];
  return out;
}

} // namespace

TEST(Init, FansFollowTheInOutConvention) {
  EXPECT_EQ(attnrt::fans({64, 32}).in, 64);
  EXPECT_EQ(attnrt::fans({64, 32}).out, 32);
  EXPECT_EQ(attnrt::fans({4, 8, 16}).in, 32);
  EXPECT_EQ(attnrt::fans({4, 8, 16}).out, 16);
  EXPECT_EQ(attnrt::fans({10}).in, 1);
  EXPECT_EQ(attnrt::fans({10}).out, 10);
  EXPECT_EQ(attnrt::fans({}).in, 1);
  EXPECT_EQ(attnrt::fans({}).out, 1);
}

TEST(Init, ConstantKinds) {
  EXPECT_EQ(make({3}, Init::ones()).toVector<float>(), std::vector<float>(3, 1.f));
  EXPECT_EQ(make({3}, Init::constant(-2.5)).toVector<float>(), std::vector<float>(3, -2.5f));
  Tensor t = make({3}, Init::ones());
  attnrt::initialize(t, Init::zeros(), 1, "w");
  EXPECT_EQ(t.toVector<float>(), std::vector<float>(3, 0.f));
  Tensor i(DType::I32, {2});
  attnrt::initialize(i, Init::constant(7), 1, "i");
  EXPECT_EQ(i.toVector<int32_t>(), (std::vector<int32_t>{7, 7}));
}

TEST(Init, SameSeedSameValuesDifferentSeedOrStreamDifferent) {
  for (Init init : {Init::uniform(-1, 1), Init::normal(0, 1), Init::xavierUniform(),
                    Init::xavierNormal(), Init::orthogonal()}) {
    SCOPED_TRACE(attnrt::toString(init));
    Tensor a = make({16, 8}, init, 42, "W");
    EXPECT_TRUE(bitIdentical(a, make({16, 8}, init, 42, "W")));
    EXPECT_GT(attnrt::maxAbsDiff(a, make({16, 8}, init, 43, "W")), 0.0);
    EXPECT_GT(attnrt::maxAbsDiff(a, make({16, 8}, init, 42, "V")), 0.0);
  }
  EXPECT_NE(attnrt::streamSeed(1, "a"), attnrt::streamSeed(1, "b"));
  EXPECT_NE(attnrt::streamSeed(1, "a"), attnrt::streamSeed(2, "a"));
}

// Pins the generator: checkpoints made from a seed must be reproducible on every platform and
// release. Changing the algorithm is a visible, deliberate break of this test.
TEST(Init, GoldenValues) {
  Tensor u = make({4}, Init::uniform(-1, 1), 42, "W");
  Tensor n = make({4}, Init::normal(0, 1), 42, "W");
  const std::vector<float> expectedU = {-0x1.77ac28p-2f, 0x1.2f1f94p-3f, -0x1.28e7b6p-2f,
                                        -0x1.e25ddap-1f};
  const std::vector<float> expectedN = {-0x1.c93e22p+0f, 0x1.70f0dep-1f, -0x1.20e226p-4f,
                                        -0x1.d5558cp-3f};
  EXPECT_EQ(u.toVector<float>(), expectedU);
  EXPECT_EQ(n.toVector<float>(), expectedN);
}

TEST(Init, UniformStatistics) {
  // n = 100000 on [-0.5, 1.5): width w = 2. The sample mean has std w/sqrt(12 n) = 0.0018 and
  // the sample variance has std w^2 sqrt(1/80 - 1/144) / sqrt(n) = 0.00094; tolerances are 5
  // sigma. P(no sample within 0.001 of an end) = (1 - 0.0005)^n ~ e^-50.
  Init init = Init::uniform(-0.5, 1.5);
  Tensor t = make({100000}, init, 7);
  Moments m = moments(t);
  EXPECT_GE(m.min, -0.5);
  EXPECT_LE(m.max, 1.5);
  EXPECT_LT(m.min, -0.499);
  EXPECT_GT(m.max, 1.499);
  EXPECT_NEAR(m.mean, 0.5, 0.0092);
  EXPECT_NEAR(m.stddev * m.stddev, 4.0 / 12, 0.0047);
}

TEST(Init, NormalStatistics) {
  // n = 200000 from N(3, 2^2): the sample mean has std 2/sqrt(n) = 0.0045, the sample std has
  // std ~ 2/sqrt(2n) = 0.0032, the kurtosis std ~ sqrt(24/n) = 0.011, and the fraction beyond
  // 2 sigma (p = 0.0455) has std sqrt(p(1-p)/n) = 0.00047. Tolerances are 5 sigma.
  Tensor t = make({200000}, Init::normal(3, 2), 11);
  Moments m = moments(t);
  EXPECT_NEAR(m.mean, 3.0, 0.0225);
  EXPECT_NEAR(m.stddev, 2.0, 0.016);
  EXPECT_NEAR(m.kurtosis, 3.0, 0.055);
  const float *p = t.data<float>();
  int64_t beyond = std::count_if(p, p + t.numel(), [](float x) { return std::fabs(x - 3) > 4; });
  EXPECT_NEAR(static_cast<double>(beyond) / t.numel(), 0.0455003, 0.0024);

  EXPECT_EQ(make({4}, Init::normal(1.5, 0)).toVector<float>(), std::vector<float>(4, 1.5f));
}

TEST(Init, XavierUniformBound) {
  // fan_in 256, fan_out 128: bound sqrt(6/384) = 0.125, variance bound^2/3. n = 32768: the sample
  // variance has relative std 0.894/sqrt(n) = 0.5%; tolerance 2.5% (5 sigma).
  Tensor t = make({256, 128}, Init::xavierUniform(), 3);
  const double bound = std::sqrt(6.0 / (256 + 128));
  Moments m = moments(t);
  EXPECT_GE(m.min, -bound);
  EXPECT_LE(m.max, bound);
  EXPECT_LT(m.min, -0.99 * bound); // P(miss) = 0.995^32768 ~ e^-164
  EXPECT_GT(m.max, 0.99 * bound);
  EXPECT_NEAR(m.stddev * m.stddev / (bound * bound / 3), 1.0, 0.025);

  // Higher rank: [4, 8, 16] has fan_in 32 and fan_out 16; a gain scales the bound.
  Tensor g = make({4, 8, 16}, Init::xavierUniform(2.0), 3);
  const double gBound = 2.0 * std::sqrt(6.0 / (32 + 16));
  Moments gm = moments(g);
  EXPECT_GE(gm.min, -gBound);
  EXPECT_LE(gm.max, gBound);
  EXPECT_GT(gm.max, 0.9 * gBound); // P(miss) = 0.95^512 ~ e^-26
}

TEST(Init, XavierNormalStd) {
  // std sqrt(2/(fan_in+fan_out)); n = 32768: relative std of the sample std 1/sqrt(2n) = 0.4%.
  Tensor t = make({256, 128}, Init::xavierNormal(), 5);
  Moments m = moments(t);
  EXPECT_NEAR(m.stddev / std::sqrt(2.0 / 384), 1.0, 0.02);
  EXPECT_NEAR(m.mean, 0.0, 5 * std::sqrt(2.0 / 384) / std::sqrt(32768.0));
}

TEST(Init, OrthogonalTallWideAndHigherRank) {
  Tensor tall = make({64, 32}, Init::orthogonal(), 9);
  EXPECT_LT(gramError(tall.data<float>(), 64, 32, 1.0), 1e-5); // W^T W = I

  Tensor wide = make({32, 64}, Init::orthogonal(), 9);
  std::vector<float> wt = transposed(wide, 32, 64);
  EXPECT_LT(gramError(wt.data(), 64, 32, 1.0), 1e-5); // W W^T = I

  Tensor square = make({16, 16}, Init::orthogonal(), 9);
  EXPECT_LT(gramError(square.data<float>(), 16, 16, 1.0), 1e-5);
  std::vector<float> st = transposed(square, 16, 16);
  EXPECT_LT(gramError(st.data(), 16, 16, 1.0), 1e-5);

  Tensor rank3 = make({4, 8, 16}, Init::orthogonal(), 9); // a 32 x 16 matrix
  EXPECT_LT(gramError(rank3.data<float>(), 32, 16, 1.0), 1e-5);

  Tensor gained = make({8, 8}, Init::orthogonal(2.0), 9);
  EXPECT_LT(gramError(gained.data<float>(), 8, 8, 4.0), 4e-5);
}

TEST(Init, RejectsInvalidArguments) {
  Tensor f(DType::F32, {2});
  Tensor i(DType::I32, {2});
  auto message = [](Tensor &t, Init init) -> std::string {
    try {
      attnrt::initialize(t, init, 1, "p");
    } catch (const std::invalid_argument &e) {
      return e.what();
    }
    return "(no exception)";
  };
  EXPECT_NE(message(f, Init::uniform(1, 1)).find("a < b"), std::string::npos);
  EXPECT_NE(message(f, Init{Init::Uniform}).find("a < b"), std::string::npos);
  EXPECT_NE(message(f, Init::normal(0, -1)).find("b >= 0"), std::string::npos);
  EXPECT_NE(message(f, Init::constant(NAN)).find("non-finite"), std::string::npos);
  std::string m = message(i, Init::normal(0, 1));
  EXPECT_NE(m.find("'p'"), std::string::npos) << m;
  EXPECT_NE(m.find("needs an F32 tensor, not I32"), std::string::npos) << m;
  EXPECT_NE(message(i, Init::constant(2.5)).find("int32"), std::string::npos);
}

TEST(Init, EmptyTensorsAreFine) {
  for (Init init : {Init::uniform(0, 1), Init::xavierNormal(), Init::orthogonal()}) {
    Tensor t(DType::F32, {0, 4});
    EXPECT_NO_THROW(attnrt::initialize(t, init, 1, "e"));
  }
}

TEST(Init, ToString) {
  EXPECT_EQ(attnrt::toString(Init::uniform(-0.1, 0.1)), "Uniform(a=-0.1, b=0.1)");
  EXPECT_EQ(attnrt::toString(Init::xavierUniform()), "XavierUniform(gain=1)");
  EXPECT_EQ(attnrt::toString(Init{Init::Orthogonal}), "Orthogonal(gain=1)");
  EXPECT_EQ(attnrt::toString(Init::constant(3)), "Constant(3)");
}

TEST(Init, GateConstantSetsOneSliceOfTheLastAxis) {
  // LSTM bias [4H], H = 3, gates i, f, g, o: the forget gate (slice 1) is 1, the others 0.
  EXPECT_EQ(make({12}, Init::gateConstant(4, 1, 1.0)).toVector<float>(),
            (std::vector<float>{0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0}));
  // Each slice of a [3H] GRU bias in turn, H = 2.
  for (int64_t k = 0; k < 3; ++k) {
    std::vector<float> want(6, 0.f);
    want[static_cast<size_t>(2 * k)] = want[static_cast<size_t>(2 * k + 1)] = -0.5f;
    EXPECT_EQ(make({6}, Init::gateConstant(3, k, -0.5)).toVector<float>(), want) << "gate " << k;
  }
  // One gate: the whole last axis.
  EXPECT_EQ(make({3}, Init::gateConstant(1, 0, 2.5)).toVector<float>(),
            std::vector<float>(3, 2.5f));
  // A matrix [2, 4]: every row is split on its last axis; gate 3 of 4 is the last column.
  EXPECT_EQ(make({2, 4}, Init::gateConstant(4, 3, 7)).toVector<float>(),
            (std::vector<float>{0, 0, 0, 7, 0, 0, 0, 7}));
  // It overwrites every element and ignores the seed and the stream.
  Tensor t = make({8}, Init::ones());
  attnrt::initialize(t, Init::gateConstant(2, 0, 3), 99, "other");
  EXPECT_EQ(t.toVector<float>(), (std::vector<float>{3, 3, 3, 3, 0, 0, 0, 0}));
  Tensor empty(DType::F32, {0, 4});
  EXPECT_NO_THROW(attnrt::initialize(empty, Init::gateConstant(4, 1, 1), 1, "e"));
}

TEST(Init, GateConstantRejectsBadGatesAndShapes) {
  auto message = [](std::vector<int64_t> shape, Init init, DType dtype = DType::F32) {
    Tensor t(dtype, std::move(shape));
    try {
      attnrt::initialize(t, init, 1, "b");
    } catch (const std::invalid_argument &e) {
      return std::string(e.what());
    }
    return std::string("(no exception)");
  };
  std::string m = message({10}, Init::gateConstant(4, 1, 1));
  EXPECT_NE(m.find("'b'"), std::string::npos) << m;
  EXPECT_NE(m.find("needs the last extent 10 to be a multiple of 4 gates (shape [10])"),
            std::string::npos)
      << m;
  m = message({8}, Init::gateConstant(4, 4, 1));
  EXPECT_NE(m.find("needs 0 <= gate < gates"), std::string::npos) << m;
  m = message({8}, Init::gateConstant(4, -1, 1));
  EXPECT_NE(m.find("needs 0 <= gate < gates"), std::string::npos) << m;
  m = message({8}, Init::gateConstant(0, 0, 1));
  EXPECT_NE(m.find("needs gates >= 1"), std::string::npos) << m;
  m = message({}, Init::gateConstant(1, 0, 1));
  EXPECT_NE(m.find("a scalar has none"), std::string::npos) << m;
  m = message({8}, Init::gateConstant(4, 1, NAN));
  EXPECT_NE(m.find("non-finite"), std::string::npos) << m;
  m = message({8}, Init::gateConstant(4, 1, 1), DType::I32);
  EXPECT_NE(m.find("needs an F32 tensor, not I32"), std::string::npos) << m;
  EXPECT_EQ(attnrt::toString(Init::gateConstant(4, 1, 1)),
            "GateConstant(gates=4, gate=1, value=1)");
}
