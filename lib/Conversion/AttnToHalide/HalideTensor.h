//===- HalideTensor.h - A lowered value: Func + extents ---------*- C++ -*-===//
//
// Lowered values keep MLIR's axis order (outermost first); Halide's is the
// reverse (innermost first). Every access goes through at()/define() so the
// reversal lives in one place.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "Halide.h"

#include <functional>
#include <string>
#include <vector>

namespace attn {

/// What a materialised Func computes; the scheduler picks a schedule by role.
enum class StageRole {
  Inline,    // element-wise or a view: inlined into consumers
  Pointwise, // element-wise, but materialised (several consumers)
  Contract,  // sum of products over an RDom
  Reduce,    // reduction over one axis
  Softmax,   // masked softmax / one-hot argmax over one axis
  Attention, // the fused attention kernel (schedules itself)
  Gather,    // embedding lookup
  Scatter,   // rows summed into a table by id (an update over the ids)
};

struct HalideTensor {
  Halide::Func func;
  std::vector<Halide::Expr> extents; // MLIR order
  StageRole role = StageRole::Inline;
  std::vector<Halide::RVar> reductionVars; // of the update, if any
  /// Contractions: `func` copies `accumulator` (pure 0 + update), so the
  /// accumulator can be computed per output tile, in registers.
  Halide::Func accumulator;
  /// Contractions: the output axis (MLIR order) to block as rows of the
  /// register tile, one whose values reuse the vector operand; -1 if none.
  int rowAxis = -1;
  /// Contractions: if > 0, the operand read along the innermost output axis
  /// is repacked into panels of this many columns (a contiguous [col/panel]
  /// [reduction...][panel] copy, so the reduction walks memory densely),
  /// and the accumulator is indexed (x % panel, ..., x / panel).
  int panel = 0;
  /// Contractions: the one summed axis is the innermost of the operands and
  /// the innermost output axis is not: each output is a dot product computed
  /// in vector lanes along the summed axis (Schedule.cpp, scheduleDotCPU).
  bool dotLanes = false;

  size_t rank() const { return extents.size(); }

  /// func(idx reversed): idx in MLIR order.
  Halide::Expr at(const std::vector<Halide::Expr> &idx) const {
    std::vector<Halide::Expr> reversed(idx.rbegin(), idx.rend());
    return func(reversed);
  }
};

/// Pure variables of a Func in MLIR order, and their Halide (reversed) order.
struct AxisVars {
  std::vector<Halide::Var> vars; // MLIR order
  explicit AxisVars(size_t rank) {
    for (size_t i = 0; i < rank; ++i)
      vars.emplace_back("a" + std::to_string(i));
  }
  std::vector<Halide::Var> halideOrder() const {
    return {vars.rbegin(), vars.rend()};
  }
  std::vector<Halide::Expr> exprs() const { return {vars.begin(), vars.end()}; }
};

} // namespace attn
