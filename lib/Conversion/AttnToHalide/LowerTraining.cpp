//===- LowerTraining.cpp - The loss and the adjoint-only ops --------------===//
//
// cross_entropy and its adjoint (log-sum-exp over the classes, two reduction
// stages per row), reduce_grad, pad, unpick, shift (element-wise selects,
// inlined into their consumers) and scatter_add (an update whose row is the
// token id: the gradient of an embedding table).
//
//===----------------------------------------------------------------------===//
#include "Lowerer.h"

#include <algorithm>

using namespace Halide;
namespace attnd = mlir::attn;

namespace attn {

Lowerer::RowSoftmax Lowerer::rowSoftmax(const HalideTensor &logits, bool withSum) {
  size_t rank = logits.rank();
  std::vector<Expr> rowExtents(logits.extents.begin(), logits.extents.end() - 1);
  AxisVars row(rank - 1);
  RDom v(0, logits.extents.back(), "v");
  std::vector<Expr> pos = row.exprs();
  pos.push_back(v.x);

  RowSoftmax s;
  s.max = Func(freshName("ce_max"));
  s.max(row.halideOrder()) = Float(32).min();
  s.max(row.halideOrder()) = max(s.max(row.halideOrder()), logits.at(pos));
  stages.push_back({s.max, rowExtents, StageRole::Reduce, {RVar(v.x)}});

  RDom v2(0, logits.extents.back(), "v");
  pos.back() = v2.x;
  s.sum = Func(freshName("ce_sum"));
  s.sum(row.halideOrder()) = Tuple(0.0f, 0.0f);
  Expr l = logits.at(pos);
  s.sum(row.halideOrder()) =
      Tuple(s.sum(row.halideOrder())[0] + exp(l - s.max(row.halideOrder())),
            s.sum(row.halideOrder())[1] + (withSum ? l : Expr(0.0f)));
  stages.push_back({s.sum, rowExtents, StageRole::Reduce, {RVar(v2.x)}});
  return s;
}

static float smoothingOf(llvm::Optional<llvm::APFloat> s) {
  return s ? s->convertToFloat() : 0.0f;
}

HalideTensor Lowerer::lowerCrossEntropy(attnd::CrossEntropyOp op) {
  const HalideTensor &logits = get(op.getLogits());
  const HalideTensor &ids = get(op.getIds());
  float smoothing = smoothingOf(op.getSmoothing());
  RowSoftmax s = rowSoftmax(logits, smoothing != 0);
  Expr classes = logits.extents.back();
  std::vector<Expr> rowExtents(logits.extents.begin(), logits.extents.end() - 1);
  return define("cross_entropy", rowExtents, [&](const AxisVars &axes) {
    std::vector<Expr> idx = axes.exprs();
    std::vector<Expr> h(idx.rbegin(), idx.rend());
    Expr lse = s.max(h) + log(s.sum(h)[0]);
    std::vector<Expr> at = idx;
    at.push_back(clamp(ids.at(idx), 0, classes - 1));
    Expr nll = lse - (1.0f - smoothing) * logits.at(at);
    if (smoothing != 0)
      nll -= smoothing / cast<float>(classes) * s.sum(h)[1];
    return nll;
  });
}

HalideTensor Lowerer::lowerCrossEntropyGrad(attnd::CrossEntropyGradOp op) {
  const HalideTensor &logits = get(op.getLogits());
  const HalideTensor &ids = get(op.getIds());
  const HalideTensor &d = get(op.getD());
  float smoothing = smoothingOf(op.getSmoothing());
  RowSoftmax s = rowSoftmax(logits, false);
  Expr classes = logits.extents.back();
  return define("cross_entropy_grad", logits.extents, [&](const AxisVars &axes) {
    std::vector<Expr> row(axes.vars.begin(), axes.vars.end() - 1);
    std::vector<Expr> h(row.rbegin(), row.rend());
    Expr p = exp(logits.at(axes.exprs()) - s.max(h)) / s.sum(h)[0];
    Expr target = select(axes.vars.back() == clamp(ids.at(row), 0, classes - 1),
                         1.0f - smoothing, 0.0f);
    Expr uniform = smoothing / cast<float>(classes);
    return d.at(row) * (p - target - uniform);
  });
}

HalideTensor Lowerer::lowerReduceGrad(attnd::ReduceGradOp op) {
  const HalideTensor &x = get(op.getX()), &y = get(op.getY()), &d = get(op.getD());
  int64_t axis = op.getAxis();
  int64_t relAxis = op.getRelAxis() ? static_cast<int64_t>(*op.getRelAxis()) : 0;
  llvm::Optional<attnd::PositionRel> rel;
  if (auto r = op.getRel())
    rel = attnd::symbolizePositionRel(*r);
  attnd::ReduceKind kind = op.getKind();
  Func count;
  if (kind == attnd::ReduceKind::mean) {
    // The number of kept positions of each row.
    std::vector<Expr> rowExtents = x.extents;
    rowExtents.erase(rowExtents.begin() + axis);
    AxisVars row(rowExtents.size());
    RDom r(0, x.extents[axis], "r");
    std::vector<Expr> pos = row.exprs();
    pos.insert(pos.begin() + axis, r.x);
    r.where(keep(op.getLengths(), rel, axis, relAxis, pos));
    count = Func(freshName("reduce_count"));
    count(row.halideOrder()) = 0;
    count(row.halideOrder()) += select(r.x >= 0, 1, 0); // reads r: counts its kept positions
    stages.push_back({count, rowExtents, StageRole::Reduce, {RVar(r.x)}});
  }
  return define("reduce_grad", x.extents, [&](const AxisVars &axes) {
    std::vector<Expr> idx = axes.exprs();
    std::vector<Expr> row = idx;
    row.erase(row.begin() + axis);
    Expr kept = keep(op.getLengths(), rel, axis, relAxis, idx);
    Expr g = d.at(row);
    if (kind == attnd::ReduceKind::mean) {
      std::vector<Expr> h(row.rbegin(), row.rend());
      g = g / cast<float>(max(count(h), 1));
    } else if (kind == attnd::ReduceKind::max || kind == attnd::ReduceKind::min) {
      kept = kept && x.at(idx) == y.at(row);
    }
    return select(kept, g, 0.0f);
  });
}

HalideTensor Lowerer::lowerPad(attnd::PadOp op) {
  // The zeros are a select over the whole padded extent, which evaluates
  // both sides: an inlined computation would run for the padding too.
  mlir::Operation *def = op.getX().getDefiningOp();
  if (def && !isView(def))
    computeOnce(op.getX());
  const HalideTensor &x = get(op.getX());
  int64_t axis = op.getAxis();
  int before = static_cast<int>(op.getBefore());
  std::vector<Expr> extents = x.extents;
  Expr size = x.extents[axis];
  extents[axis] = size + before + static_cast<int>(op.getAfter());
  return define("pad", extents, [&](const AxisVars &axes) {
    std::vector<Expr> idx = axes.exprs();
    Expr p = axes.vars[axis] - before;
    idx[axis] = clamp(p, 0, size - 1);
    return select(p >= 0 && p < size, x.at(idx), 0.0f);
  });
}

HalideTensor Lowerer::lowerUnpick(attnd::UnpickOp op) {
  const HalideTensor &x = get(op.getX()), &like = get(op.getLike());
  int64_t axis = op.getAxis();
  Expr size = like.extents[axis];
  return define("unpick", like.extents, [&](const AxisVars &axes) {
    Expr valid = size;
    if (op.getLengths())
      valid = min(get(op.getLengths()).at({axes.vars[0]}), size);
    Expr pos = op.getLast() ? valid - 1 : Expr(0);
    std::vector<Expr> idx = axes.exprs();
    idx.erase(idx.begin() + axis);
    return select(valid > 0 && axes.vars[axis] == pos, x.at(idx), 0.0f);
  });
}

HalideTensor Lowerer::lowerShift(attnd::ShiftOp op) {
  const HalideTensor &seq = get(op.getSeq()), &init = get(op.getInit());
  int64_t axis = op.getAxis();
  Expr steps = seq.extents[axis];
  bool reverse = op.getReverse();
  return define("shift", seq.extents, [&](const AxisVars &axes) {
    std::vector<Expr> idx = axes.exprs();
    std::vector<Expr> row = idx;
    row.erase(row.begin() + axis);
    Expr t = axes.vars[axis];
    Expr first;
    Expr previous;
    if (!reverse) {
      first = t == 0;
      previous = t - 1;
    } else {
      Expr end = steps;
      if (op.getLengths())
        end = min(get(op.getLengths()).at({axes.vars[0]}), steps);
      first = t + 1 >= end;
      previous = t + 1;
    }
    idx[axis] = clamp(previous, 0, steps - 1);
    return select(first, init.at(row), seq.at(idx));
  });
}

HalideTensor Lowerer::lowerScatterAdd(attnd::ScatterAddOp op) {
  const HalideTensor &x = get(op.getX()), &ids = get(op.getIds());
  int rows = static_cast<int>(op.getRows());
  size_t idRank = ids.rank();
  std::vector<Expr> extents{rows};
  extents.insert(extents.end(), x.extents.begin() + idRank, x.extents.end());
  AxisVars axes(extents.size());
  HalideTensor t;
  t.func = Func(freshName("scatter_add"));
  t.extents = extents;
  t.role = StageRole::Scatter;
  t.func(axes.halideOrder()) = 0.0f;
  Region box;
  for (size_t k = idRank; k-- > 0;)
    box.push_back({0, ids.extents[k]}); // Halide order: innermost first
  RDom r(box, "r");
  std::vector<Expr> at; // MLIR order
  for (size_t k = 0; k < idRank; ++k)
    at.push_back(r[static_cast<int>(idRank - 1 - k)]);
  Expr id = ids.at(at);
  r.where(id >= 0 && id < rows);
  std::vector<Expr> xIdx = at, lhs{clamp(id, 0, rows - 1)}; // bounded for Halide
  for (size_t k = 1; k < extents.size(); ++k) {
    xIdx.push_back(axes.vars[k]);
    lhs.push_back(axes.vars[k]);
  }
  std::vector<Expr> lhsHalide(lhs.rbegin(), lhs.rend());
  t.func(lhsHalide) += x.at(xIdx);
  for (int k = 0; k < r.dimensions(); ++k)
    t.reductionVars.push_back(RVar(r[k]));
  return t;
}

HalideTensor Lowerer::lowerTruncate(attnd::TruncateOp op) {
  const HalideTensor &x = get(op.getX());
  if (!step)
    return x; // outside a recurrence step: the value itself
  Expr every = static_cast<int>(op.getEvery());
  return define("truncate", x.extents, [&](const AxisVars &axes) {
    // The position p whose incoming state this step reads: the cut lies
    // before every p % every == 0 with 0 < p < the row's length.
    Expr p = step->reverse ? step->t + 1 : step->t;
    Expr cut = p % every == 0 && p > 0 && p < step->lengths(axes.vars[0]);
    return select(cut, 0.0f, x.at(axes.exprs()));
  });
}

namespace {

Expr u32(uint32_t v) { return Halide::Internal::make_const(UInt(32), v); }

/// One round of a 32-bit integer hash (the MurmurHash3 finaliser) of
/// `h` combined with `v`.
Expr mixHash(Expr h, Expr v) {
  h = h ^ cast<uint32_t>(v);
  h = h * u32(0x85EBCA6Bu);
  h = h ^ (h >> 13);
  h = h * u32(0xC2B2AE35u);
  return h ^ (h >> 16);
}

} // namespace

HalideTensor Lowerer::lowerDropout(attnd::DropoutOp op) {
  const HalideTensor &x = get(op.getX());
  const HalideTensor &control = get(op.getControl());
  double rate = op.getRate().convertToDouble();
  // Kept when the hash, uniform over 32 bits, is at least rate * 2^32.
  auto threshold = static_cast<uint32_t>(std::min(rate * 4294967296.0, 4294967295.0));
  float scale = static_cast<float>(1.0 / (1.0 - rate));
  auto salt = static_cast<uint32_t>(op.getSalt());
  return define("dropout", x.extents, [&](const AxisVars &axes) {
    Expr h = mixHash(cast<uint32_t>(control.at({Expr(1)})) * u32(0x9E3779B9u),
                     u32(salt));
    if (step) // each time step its own mask, alike in the forward and backward loops
      h = mixHash(h, step->t);
    for (const Var &v : axes.vars)
      h = mixHash(h, v);
    Expr value = x.at(axes.exprs());
    Expr kept = select(h >= u32(threshold), value * scale, 0.0f);
    return select(control.at({Expr(0)}) != 0, kept, value);
  });
}

} // namespace attn
