//===- LowerAttention.cpp - attn.attention to the fused kernel ------------===//
//
// The fused op maps onto attn::kernels::fusedAttention, which works on 4-D
// Funcs (d, t, h, b): [B, T, D] operands get a unit head axis, [B, H, T, D]
// map directly. The kernel schedules itself and streams keys through an
// online softmax; the T x S score matrix is never stored. attn.attention_grad
// maps onto kernels::fusedAttentionBackward the same way.
//
//===----------------------------------------------------------------------===//
#include "Lowerer.h"

#include "attn/Kernels/Attention.h"

using namespace Halide;
namespace attnd = mlir::attn;

namespace attn {

/// A 4-D view f(d, t, h, b) of an attention operand [B, (H,) T, D].
static Func headView(const HalideTensor &x, const std::string &name) {
  Var d("d"), t("t"), h("h"), b("b");
  Func view(name);
  if (x.rank() == 3)
    view(d, t, h, b) = x.at({b, t, d});
  else
    view(d, t, h, b) = x.at({b, h, t, d});
  return view;
}

/// The `[B, (H,) T, D]` view of a 4-D kernel result f(d, t, h, b).
static Expr fromHeadView(const Func &f, size_t rank, const std::vector<Var> &a) {
  return rank == 3 ? f(a[2], a[1], 0, a[0]) : f(a[3], a[2], a[1], a[0]);
}

bool Lowerer::lowerAttention(attnd::AttentionOp op, std::string &error) {
  const HalideTensor &q = get(op.getQ()), &k = get(op.getK()),
                     &v = get(op.getV());
  size_t rank = q.rank();
  if (rank != 3 && rank != 4) {
    error = "attn.attention with " + std::to_string(rank - 2) +
            " leading axes is not supported by the fused kernel (1 or 2: "
            "batch, or batch and heads)";
    return false;
  }
  auto qType = op.getQ().getType().cast<mlir::RankedTensorType>();
  auto vType = op.getV().getType().cast<mlir::RankedTensorType>();
  if (qType.isDynamicDim(rank - 1) || vType.isDynamicDim(rank - 1)) {
    error = "attn.attention needs compile-time head and value sizes";
    return false;
  }
  kernels::AttentionOptions options;
  options.scale = op.getScale().convertToFloat();
  options.causal = op.getCausal();
  Func lengths;
  if (op.getLengths()) {
    const HalideTensor &len = get(op.getLengths());
    Var b("b");
    lengths = Func(freshName("key_lengths"));
    lengths(b) = len.at({b});
  }
  options.hasLengths = op.getLengths() != nullptr;
  std::string base = freshName("attention");
  Func out = kernels::fusedAttention(
      headView(q, base + "_q"), headView(k, base + "_k"),
      headView(v, base + "_v"), lengths,
      static_cast<int>(qType.getDimSize(rank - 1)),
      static_cast<int>(vType.getDimSize(rank - 1)), q.extents[rank - 2],
      k.extents[rank - 2], options, target);
  stages.push_back({out, {}, StageRole::Attention, {}});

  std::vector<Expr> extents(q.extents.begin(), q.extents.end() - 1);
  extents.push_back(v.extents[rank - 1]);
  HalideTensor t = define("attention_out", extents, [&](const AxisVars &axes) {
    return fromHeadView(out, rank, axes.vars);
  });
  record(op.getResult(), t);
  return true;
}

bool Lowerer::lowerAttentionGrad(attnd::AttentionGradOp op, std::string &error) {
  const HalideTensor &q = get(op.getQ()), &k = get(op.getK()), &v = get(op.getV());
  size_t rank = q.rank();
  auto qType = op.getQ().getType().cast<mlir::RankedTensorType>();
  auto vType = op.getV().getType().cast<mlir::RankedTensorType>();
  if ((rank != 3 && rank != 4) || qType.isDynamicDim(rank - 1) ||
      vType.isDynamicDim(rank - 1)) {
    error = "attn.attention_grad needs [B, T, D] or [B, H, T, D] operands with "
            "compile-time feature sizes";
    return false;
  }
  kernels::AttentionOptions options;
  options.scale = op.getScale().convertToFloat();
  options.causal = op.getCausal();
  options.hasLengths = op.getLengths() != nullptr;
  Func lengths;
  if (op.getLengths()) {
    Var b("b");
    lengths = Func(freshName("key_lengths"));
    lengths(b) = get(op.getLengths()).at({b});
  }
  std::string base = freshName("attention_grad");
  kernels::AttentionGradients g = kernels::fusedAttentionBackward(
      headView(q, base + "_q"), headView(k, base + "_k"), headView(v, base + "_v"),
      headView(get(op.getOut()), base + "_out"), headView(get(op.getDout()), base + "_dout"),
      lengths, static_cast<int>(qType.getDimSize(rank - 1)),
      static_cast<int>(vType.getDimSize(rank - 1)), q.extents[rank - 2], k.extents[rank - 2],
      options, target);
  const std::pair<Func, mlir::Value> results[] = {
      {g.dq, op.getDq()}, {g.dk, op.getDk()}, {g.dv, op.getDv()}};
  const HalideTensor *like[] = {&q, &k, &v};
  for (int i = 0; i < 3; ++i) {
    const Func &f = results[i].first;
    stages.push_back({f, {}, StageRole::Attention, {}});
    record(results[i].second,
           define("attention_grad_out", like[i]->extents,
                  [&](const AxisVars &axes) { return fromHeadView(f, rank, axes.vars); }));
  }
  return true;
}

bool Lowerer::lower(mlir::Operation *op, std::string &error) {
  if (auto c = llvm::dyn_cast<attnd::ConstantOp>(op)) {
    HalideTensor t;
    t.func = Func(freshName("constant"));
    t.func() = c.getValue().convertToFloat();
    record(c.getResult(), t);
    return true;
  }
  if (llvm::isa<attnd::AddOp, attnd::SubOp, attnd::MulOp, attnd::DivOp,
                attnd::MaxOp, attnd::MinOp>(op))
    return lowerBinary(op, error);
  if (auto c = llvm::dyn_cast<attnd::ContractOp>(op))
    return lowerContract(c, error);
  if (auto a = llvm::dyn_cast<attnd::AttentionOp>(op))
    return lowerAttention(a, error);
  if (auto a = llvm::dyn_cast<attnd::AttentionGradOp>(op))
    return lowerAttentionGrad(a, error);

  HalideTensor t;
  if (auto u = llvm::dyn_cast<attnd::UnaryOp>(op))
    t = lowerUnary(u);
  else if (auto x = llvm::dyn_cast<attnd::TransposeOp>(op))
    t = lowerTranspose(x);
  else if (auto x = llvm::dyn_cast<attnd::ReshapeOp>(op))
    t = lowerReshape(x);
  else if (auto x = llvm::dyn_cast<attnd::ConcatOp>(op))
    t = lowerConcat(x);
  else if (auto x = llvm::dyn_cast<attnd::SliceOp>(op))
    t = lowerSlice(x);
  else if (auto x = llvm::dyn_cast<attnd::MaskOp>(op))
    t = lowerMask(x);
  else if (auto x = llvm::dyn_cast<attnd::PickOp>(op))
    t = lowerPick(x);
  else if (auto x = llvm::dyn_cast<attnd::GatherOp>(op))
    t = lowerGather(x);
  else if (auto x = llvm::dyn_cast<attnd::BatchBroadcastOp>(op))
    t = lowerBatchBroadcast(x);
  else if (auto x = llvm::dyn_cast<attnd::CombineHeadsOp>(op))
    t = lowerCombineHeads(x);
  else if (auto x = llvm::dyn_cast<attnd::ReduceOp>(op))
    t = lowerReduce(x);
  else if (auto x = llvm::dyn_cast<attnd::AlignOp>(op))
    t = lowerAlign(x);
  else if (auto x = llvm::dyn_cast<attnd::ScoreOp>(op))
    t = lowerScore(x);
  else if (auto x = llvm::dyn_cast<attnd::ContextOp>(op))
    t = lowerContext(x);
  else if (auto x = llvm::dyn_cast<attnd::CrossEntropyOp>(op))
    t = lowerCrossEntropy(x);
  else if (auto x = llvm::dyn_cast<attnd::CrossEntropyGradOp>(op))
    t = lowerCrossEntropyGrad(x);
  else if (auto x = llvm::dyn_cast<attnd::ReduceGradOp>(op))
    t = lowerReduceGrad(x);
  else if (auto x = llvm::dyn_cast<attnd::PadOp>(op))
    t = lowerPad(x);
  else if (auto x = llvm::dyn_cast<attnd::UnpickOp>(op))
    t = lowerUnpick(x);
  else if (auto x = llvm::dyn_cast<attnd::ShiftOp>(op))
    t = lowerShift(x);
  else if (auto x = llvm::dyn_cast<attnd::ScatterAddOp>(op))
    t = lowerScatterAdd(x);
  else if (auto x = llvm::dyn_cast<attnd::TruncateOp>(op))
    t = lowerTruncate(x);
  else if (auto x = llvm::dyn_cast<attnd::DropoutOp>(op))
    t = lowerDropout(x);
  else {
    error = "'" + op->getName().getStringRef().str() +
            "' cannot be lowered to Halide yet";
    return false;
  }
  recordComputedOnceIfShared(op, t);
  return true;
}

} // namespace attn
