#include "attnrt/ShapeCheck.h"

#include <gtest/gtest.h>

#include <stdexcept>

using attnrt::DType;
using attnrt::ShapeChecker;
using attnrt::Tensor;

namespace {

template <class F> std::string messageOf(F f) {
  try {
    f();
  } catch (const std::invalid_argument &e) {
    return e.what();
  }
  return "(no std::invalid_argument)";
}

} // namespace

TEST(ShapeCheck, BindsSymbolsAndAcceptsMatchingShapes) {
  ShapeChecker check("forward");
  Tensor x(DType::F32, {8, 12, 64});
  Tensor mask(DType::I32, {8, 12});
  check.tensor("input 'x'", x, {"B", "S", 64});
  check.tensor("input 'mask'", mask, {"B", "S"}, DType::I32);
  EXPECT_EQ(check.value("B"), 8);
  EXPECT_EQ(check.value("S"), 12);
  EXPECT_EQ(attnrt::specString({"B", "S", 64}), "[B, S, 64]");
}

TEST(ShapeCheck, MessagesStateActualAndExpectedSizes) {
  ShapeChecker check("forward");
  Tensor x(DType::F32, {8, 12, 32});
  EXPECT_EQ(messageOf([&] { check.tensor("input 'x'", x, {"B", "S", 64}); }),
            "forward: input 'x' has shape [8, 12, 32], expected [B, S, 64] "
            "(last dim is 32, expected 64)");
  EXPECT_EQ(messageOf([&] { check.tensor("input 'x'", x, {"B", 64}); }),
            "forward: input 'x' has shape [8, 12, 32], expected [B, 64] (rank 3, expected 2)");
  EXPECT_EQ(messageOf([&] { check.tensor("input 'x'", x, {"B", "S", 32}, DType::I32); }),
            "forward: input 'x' has dtype F32, expected I32");

  // A failed check binds nothing.
  EXPECT_THROW(check.value("B"), std::invalid_argument);

  check.tensor("input 'x'", x, {"B", "S", 32});
  Tensor mask(DType::F32, {8, 10});
  EXPECT_EQ(messageOf([&] { check.tensor("input 'mask'", mask, {"B", "S"}); }),
            "forward: input 'mask' has shape [8, 10], expected [B, S] (S = 12 from input 'x')");
  Tensor square(DType::F32, {3, 4});
  EXPECT_EQ(messageOf([&] { check.tensor("input 'adj'", square, {"N", "N"}); }),
            "forward: input 'adj' has shape [3, 4], expected [N, N] (N is 3 and 4)");
}

TEST(ShapeCheck, BindFromOptions) {
  ShapeChecker check("decode");
  check.bind("K", 4, "options.beamSize");
  Tensor t(DType::F32, {5});
  EXPECT_EQ(messageOf([&] { check.tensor("state 'h'", t, {"K"}); }),
            "decode: state 'h' has shape [5], expected [K] (K = 4 from options.beamSize)");
  EXPECT_NE(messageOf([&] { check.bind("K", 5, "input 'y'"); }).find("disagrees"),
            std::string::npos);
  EXPECT_EQ(check.value("K"), 4);
  size_t width = 5;
  check.tensor("state 'h'", t, {width}); // any integral type is an extent
}
