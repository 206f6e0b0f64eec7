// Gradient clipping: norms of known vectors, the scale applied, value clipping, errors.
#include "TestUtil.h"

#include "attnrt/Clip.h"
#include "attnrt/Error.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using attnrt::DType;
using attnrt::Init;
using attnrt::ParamStore;

namespace {

/// Gradients a = [3, 0], b = [[0, 4]]: the global norm is 5.
ParamStore grads345() {
  ParamStore g;
  g.declare({"a", DType::F32, {2}, Init::zeros()});
  g.declare({"b", DType::F32, {1, 2}, Init::zeros()});
  g.get("a").at({0}) = 3;
  g.get("b").at({0, 1}) = 4;
  return g;
}

} // namespace

TEST(Clip, GlobalNormOfKnownVectors) {
  ParamStore g = grads345();
  EXPECT_EQ(attnrt::globalNorm(g), 5.0);
  ParamStore ones;
  ones.declare({"x", DType::F32, {10000}, Init::zeros()});
  ones.get("x").fill(1);
  EXPECT_EQ(attnrt::globalNorm(ones), 100.0);
  // Accumulated in double: 1e30^2 would overflow float.
  ones.get("x").fill(1e30);
  EXPECT_NEAR(attnrt::globalNorm(ones) / 1e32, 1.0, 1e-6);
  EXPECT_EQ(attnrt::globalNorm(ParamStore()), 0.0);
}

// maxNorm 1: scale = 1 / (5 + 1e-6), so a = [3, 0] * scale, b = [0, 4] * scale, norm ~ 1.
TEST(Clip, ClipGlobalNormScales) {
  ParamStore g = grads345();
  double norm = attnrt::clipGlobalNorm(g, 1.0);
  EXPECT_EQ(norm, 5.0); // the norm before clipping
  const float scale = static_cast<float>(1.0 / (5.0 + 1e-6));
  EXPECT_EQ(g.get("a").at({0}), 3.0f * scale);
  EXPECT_EQ(g.get("a").at({1}), 0.0f);
  EXPECT_EQ(g.get("b").at({0, 1}), 4.0f * scale);
  EXPECT_NEAR(attnrt::globalNorm(g), 1.0, 1e-6);
}

TEST(Clip, ClipGlobalNormLeavesSmallGradients) {
  ParamStore g = grads345();
  auto before = attnrt_test::snapshot(g);
  EXPECT_EQ(attnrt::clipGlobalNorm(g, 10.0), 5.0);
  attnrt_test::expectUnchanged(g, before);
  // maxNorm = norm: the factor 5 / (5 + 1e-6) is below 1, so torch scales (by 1 - 2e-7).
  EXPECT_EQ(attnrt::clipGlobalNorm(g, 5.0), 5.0);
  EXPECT_EQ(g.get("a").at({0}), 3.0f * static_cast<float>(5.0 / (5.0 + 1e-6)));
}

TEST(Clip, NonFiniteNormThrowsAndChangesNothing) {
  ParamStore g = grads345();
  g.get("b").at({0, 0}) = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(std::isnan(attnrt::globalNorm(g))); // no exception: for logging
  auto before = attnrt_test::snapshot(g);
  try {
    attnrt::clipGlobalNorm(g, 1.0);
    FAIL() << "no exception";
  } catch (const attnrt::Error &e) {
    EXPECT_EQ(std::string(e.what()), "clipGlobalNorm: the gradient norm is nan; non-finite "
                                     "values in 'b' (gradients left unchanged)");
  }
  EXPECT_TRUE(attnrt_test::sameValues(g.get("a"), before.at("a")));
  g.get("b").at({0, 0}) = 0;
  g.get("a").at({1}) = std::numeric_limits<float>::infinity();
  EXPECT_THROW(attnrt::clipGlobalNorm(g, 1.0), attnrt::Error);
  EXPECT_THROW(attnrt::clipGlobalNorm(g, 0.0), std::invalid_argument);
  EXPECT_THROW(attnrt::clipGlobalNorm(g, std::nan("")), std::invalid_argument);
}

TEST(Clip, ClipValue) {
  ParamStore g;
  g.declare({"x", DType::F32, {5}, Init::zeros()});
  float *x = g.get("x").data<float>();
  const float values[5] = {-3, -0.5f, 0.25f, 2, std::numeric_limits<float>::quiet_NaN()};
  std::copy(values, values + 5, x);
  EXPECT_EQ(attnrt::clipValue(g, 1.0), 2);
  EXPECT_EQ(x[0], -1.0f);
  EXPECT_EQ(x[1], -0.5f);
  EXPECT_EQ(x[2], 0.25f);
  EXPECT_EQ(x[3], 1.0f);
  EXPECT_TRUE(std::isnan(x[4])); // as torch.clamp
  EXPECT_EQ(attnrt::clipValue(g, 0.0), 4); // -1, -0.5, 0.25, 1 all become 0; NaN stays
}

TEST(Clip, ClipValueErrors) {
  ParamStore g;
  g.declare({"x", DType::F32, {1}, Init::zeros()});
  EXPECT_THROW(attnrt::clipValue(g, -1), std::invalid_argument);
  EXPECT_THROW(attnrt::clipValue(g, std::nan("")), std::invalid_argument);
  ParamStore i;
  i.declare({"ids", DType::I32, {2}, Init::zeros()});
  try {
    attnrt::clipValue(i, 1);
    FAIL() << "no exception";
  } catch (const std::invalid_argument &e) {
    EXPECT_EQ(std::string(e.what()), "clipValue: gradient 'ids' is I32 [2], expected F32");
  }
}
