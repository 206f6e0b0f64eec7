//===- MathExprs.h - Vectorisable forms of transcendental functions -*- C++ -*-===//
//
// Halide lowers tanh on CPU targets to one scalar libm call per lane, which
// was half of an LSTM step (bench/lstm). exp has an inline polynomial that
// vectorises, so tanh is built on it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "Halide.h"

namespace attn {

/// tanh(x) = sign(x) (1 - e) / (1 + e) with e = exp(-2|x|) (no overflow);
/// below |x| = 0.25, where 1 - e loses digits, its Taylor series to x^9
/// (truncation error < 3e-9). Within 2 ulp-ish of libm over the float range.
inline Halide::Expr vectorTanh(Halide::Expr x) {
  using Halide::Expr;
  Expr ax = Halide::abs(x);
  Expr e = Halide::exp(-2.0f * ax);
  Expr far = (1.0f - e) / (1.0f + e);
  Expr x2 = x * x;
  Expr near = x * (1.0f + x2 * (-1.0f / 3 + x2 * (2.0f / 15 +
                    x2 * (-17.0f / 315 + x2 * (62.0f / 2835)))));
  return Halide::select(ax < 0.25f, near, Halide::select(x < 0.0f, -far, far));
}

} // namespace attn
