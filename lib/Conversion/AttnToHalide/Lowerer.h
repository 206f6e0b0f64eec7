//===- Lowerer.h - Per-op lowering of the attn dialect ----------*- C++ -*-===//
#pragma once

#include "HalideTensor.h"

#include "attn/Dialect/Attn/AttnOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/DenseMap.h"

#include <map>

namespace attn {

class Lowerer {
public:
  Lowerer(const Halide::Target &target) : target(target) {}

  /// Binds a function argument to its lowered value.
  void bind(mlir::Value value, HalideTensor tensor) { values[value] = tensor; }
  /// Lowers one op; false + `error` if it is not supported.
  bool lower(mlir::Operation *op, std::string &error);
  const HalideTensor &get(mlir::Value value) const {
    return values.find(value)->second;
  }
  /// Lowering the step kernel of a recurrence: its time index, the rows'
  /// lengths and its direction (attn.truncate reads them).
  void setStep(Halide::Expr t, Halide::Func lengths, bool reverse) {
    step = StepContext{t, lengths, reverse};
  }
  /// Applies the CPU or GPU schedule to every materialised stage; `outputs`
  /// are the pipeline outputs (always materialised).
  void schedule(const std::vector<Halide::Func> &outputs);

private:
  const Halide::Target &target;
  llvm::DenseMap<mlir::Value, HalideTensor> values;
  std::vector<HalideTensor> stages; // materialised, in definition order
  unsigned counter = 0;
  struct StepContext {
    Halide::Expr t;
    Halide::Func lengths;
    bool reverse = false;
  };
  llvm::Optional<StepContext> step; // set while lowering a recurrence step

  std::string freshName(llvm::StringRef base) {
    return base.str() + "_" + std::to_string(counter++);
  }
  /// The extent of axis `i` of `value`: a constant if its type says so.
  Halide::Expr extent(mlir::Value value, unsigned i) const;
  /// Extents of the letters of an einsum spec, from its operands.
  std::map<char, Halide::Expr>
  letterExtents(const std::vector<std::string> &terms,
                const std::vector<mlir::Value> &operands) const;
  HalideTensor define(llvm::StringRef name, std::vector<Halide::Expr> extents,
                      const std::function<Halide::Expr(const AxisVars &)> &body);
  void record(mlir::Value result, HalideTensor tensor);
  /// Views (transpose, reshape, slice) are always inlined.
  static bool isView(mlir::Operation *op);
  /// Records the result of `op`, computed once rather than inlined into each
  /// consumer when several read it (e.g. a gate and its derivative in a
  /// backward step).
  void recordComputedOnceIfShared(mlir::Operation *op, HalideTensor tensor);
  /// Makes the inlined value `value` a computed stage.
  void computeOnce(mlir::Value value);

  bool lowerBinary(mlir::Operation *op, std::string &error);
  HalideTensor lowerUnary(mlir::attn::UnaryOp op);
  HalideTensor lowerTranspose(mlir::attn::TransposeOp op);
  HalideTensor lowerReshape(mlir::attn::ReshapeOp op);
  HalideTensor lowerConcat(mlir::attn::ConcatOp op);
  HalideTensor lowerSlice(mlir::attn::SliceOp op);
  HalideTensor lowerMask(mlir::attn::MaskOp op);
  HalideTensor lowerPick(mlir::attn::PickOp op);
  HalideTensor lowerGather(mlir::attn::GatherOp op);
  HalideTensor lowerBatchBroadcast(mlir::attn::BatchBroadcastOp op);
  HalideTensor lowerCombineHeads(mlir::attn::CombineHeadsOp op);
  // LowerTraining.cpp
  struct RowSoftmax {
    Halide::Func max; // per row: the largest logit
    Halide::Func sum; // per row: {sum of exp(l - max), sum of l}
  };
  RowSoftmax rowSoftmax(const HalideTensor &logits, bool withSum);
  HalideTensor lowerCrossEntropy(mlir::attn::CrossEntropyOp op);
  HalideTensor lowerCrossEntropyGrad(mlir::attn::CrossEntropyGradOp op);
  HalideTensor lowerReduceGrad(mlir::attn::ReduceGradOp op);
  HalideTensor lowerPad(mlir::attn::PadOp op);
  HalideTensor lowerUnpick(mlir::attn::UnpickOp op);
  HalideTensor lowerShift(mlir::attn::ShiftOp op);
  HalideTensor lowerScatterAdd(mlir::attn::ScatterAddOp op);
  bool lowerContract(mlir::attn::ContractOp op, std::string &error);
  /// Makes an inlined element-wise `operand` of a contraction a computed
  /// stage when the contraction reads each of its elements several times.
  void materializeIfReused(mlir::Value operand, const std::string &term,
                           const std::string &result);
  HalideTensor lowerReduce(mlir::attn::ReduceOp op);
  HalideTensor lowerAlign(mlir::attn::AlignOp op);
  HalideTensor lowerScore(mlir::attn::ScoreOp op);
  HalideTensor lowerContext(mlir::attn::ContextOp op);
  bool lowerAttention(mlir::attn::AttentionOp op, std::string &error);
  bool lowerAttentionGrad(mlir::attn::AttentionGradOp op, std::string &error);

  /// The keep-predicate of a masked reduction over `axis` at positions
  /// `pos` (MLIR order, with the reduced axis replaced by `r`).
  Halide::Expr keep(mlir::Value lengths, llvm::Optional<mlir::attn::PositionRel> rel,
                    int64_t axis, int64_t relAxis,
                    const std::vector<Halide::Expr> &pos) const;
  /// lengths[row] for a reduction's predicate. The row is clamped into the
  /// lengths buffer: Halide infers the bounds of an RDom predicate from the
  /// loop over rows before a GuardWithIf split guards it, so a row block
  /// that runs past the last row (20 rows in blocks of 16) would otherwise
  /// read lengths past their end and fail.
  HalideTensor lowerTruncate(mlir::attn::TruncateOp op);
  HalideTensor lowerDropout(mlir::attn::DropoutOp op);
  Halide::Expr lengthOfRow(mlir::Value lengths, Halide::Expr row) const;
};

} // namespace attn
