//===- LowerReductions.cpp - Reductions, alignment, scores, context -------===//
//
// Ops that sum or compare over an axis become Funcs with an update over an
// (contractions: LowerContract.cpp)
// RDom. Masks (padding lengths, causal relations) become RDom predicates, so
// masked positions are never read. A reduction over no kept position gives 0
// (never NaN or infinity).
//
//===----------------------------------------------------------------------===//
#include "Lowerer.h"
#include "MathExprs.h"

#include "attn/Dialect/Attn/Einsum.h"

using namespace Halide;
namespace attnd = mlir::attn;

namespace attn {

Expr Lowerer::lengthOfRow(mlir::Value lengths, Expr row) const {
  const HalideTensor &l = get(lengths);
  return l.at({clamp(row, 0, l.extents[0] - 1)});
}

Expr Lowerer::keep(mlir::Value lengths,
                   llvm::Optional<attnd::PositionRel> rel, int64_t axis,
                   int64_t relAxis, const std::vector<Expr> &pos) const {
  Expr cond = Internal::const_true();
  if (lengths)
    cond = cond && pos[axis] < lengthOfRow(lengths, pos[0]);
  if (rel) {
    Expr p = pos[axis], q = pos[relAxis];
    switch (*rel) {
    case attnd::PositionRel::lt:
      cond = cond && p < q;
      break;
    case attnd::PositionRel::le:
      cond = cond && p <= q;
      break;
    case attnd::PositionRel::gt:
      cond = cond && p > q;
      break;
    case attnd::PositionRel::ge:
      cond = cond && p >= q;
      break;
    }
  }
  return cond;
}

HalideTensor Lowerer::lowerReduce(attnd::ReduceOp op) {
  const HalideTensor &x = get(op.getX());
  int64_t axis = op.getAxis();
  int64_t relAxis = op.getRelAxis() ? static_cast<int64_t>(*op.getRelAxis()) : 0;
  std::vector<Expr> extents = x.extents;
  extents.erase(extents.begin() + axis);

  AxisVars axes(extents.size());
  RDom r(0, x.extents[axis], "r");
  std::vector<Expr> pos = axes.exprs();
  pos.insert(pos.begin() + axis, r.x);
  r.where(keep(op.getLengths(), op.getRelKind(), axis, relAxis, pos));

  // {accumulator, number of kept positions}
  Func acc(freshName("reduce_acc"));
  attnd::ReduceKind kind = op.getKind();
  Expr init = kind == attnd::ReduceKind::max   ? Expr(Float(32).min())
              : kind == attnd::ReduceKind::min ? Expr(Float(32).max())
                                               : Expr(0.0f);
  acc(axes.halideOrder()) = Tuple(init, 0);
  Expr v = x.at(pos);
  Expr a = acc(axes.halideOrder())[0];
  Expr next = kind == attnd::ReduceKind::max   ? max(a, v)
              : kind == attnd::ReduceKind::min ? min(a, v)
                                               : a + v;
  acc(axes.halideOrder()) = Tuple(next, acc(axes.halideOrder())[1] + 1);

  HalideTensor stage{acc, extents, StageRole::Reduce, {RVar(r.x)}};
  stages.push_back(stage);
  return define("reduce", extents, [&](const AxisVars &out) {
    Expr total = acc(out.halideOrder())[0];
    Expr count = acc(out.halideOrder())[1];
    Expr value = kind == attnd::ReduceKind::mean
                     ? total / cast<float>(max(count, 1))
                     : total;
    return select(count > 0, value, 0.0f);
  });
}

HalideTensor Lowerer::lowerAlign(attnd::AlignOp op) {
  const HalideTensor &x = get(op.getX());
  int64_t axis = op.getAxis();
  int64_t relAxis = op.getRelAxis() ? static_cast<int64_t>(*op.getRelAxis()) : 0;
  auto rel = op.getRelKind();
  mlir::Value lengths = op.getLengths();
  std::vector<Expr> rowExtents = x.extents;
  rowExtents.erase(rowExtents.begin() + axis);
  AxisVars rowAxes(rowExtents.size());

  auto maskedRDom = [&](const char *name, std::vector<Expr> &pos) {
    RDom r(0, x.extents[axis], name);
    pos = rowAxes.exprs();
    pos.insert(pos.begin() + axis, r.x);
    r.where(keep(lengths, rel, axis, relAxis, pos));
    return r;
  };
  auto rowOf = [&](const AxisVars &axes) {
    std::vector<Expr> row = axes.exprs();
    row.erase(row.begin() + axis);
    std::vector<Expr> reversed(row.rbegin(), row.rend());
    return reversed;
  };

  std::vector<Expr> pos;
  if (op.getMode() == attnd::AlignMode::hard) {
    // One-hot of the first maximum among the kept positions.
    Func best(freshName("align_argmax"));
    RDom r = maskedRDom("r", pos);
    best(rowAxes.halideOrder()) = Tuple(-1, Float(32).min());
    Expr v = x.at(pos);
    Expr better = v > best(rowAxes.halideOrder())[1] ||
                  best(rowAxes.halideOrder())[0] < 0;
    best(rowAxes.halideOrder()) =
        Tuple(select(better, r.x, best(rowAxes.halideOrder())[0]),
              select(better, v, best(rowAxes.halideOrder())[1]));
    stages.push_back({best, rowExtents, StageRole::Reduce, {RVar(r.x)}});
    HalideTensor t = define("align_hard", x.extents, [&](const AxisVars &axes) {
      return select(axes.vars[axis] == best(rowOf(axes))[0], 1.0f, 0.0f);
    });
    t.role = StageRole::Softmax;
    return t;
  }

  Func rowMax(freshName("align_max"));
  RDom r1 = maskedRDom("r", pos);
  rowMax(rowAxes.halideOrder()) = Float(32).min();
  rowMax(rowAxes.halideOrder()) = max(rowMax(rowAxes.halideOrder()), x.at(pos));
  stages.push_back({rowMax, rowExtents, StageRole::Reduce, {RVar(r1.x)}});

  Func rowSum(freshName("align_sum"));
  RDom r2 = maskedRDom("r", pos);
  rowSum(rowAxes.halideOrder()) = 0.0f;
  rowSum(rowAxes.halideOrder()) +=
      exp(x.at(pos) - rowMax(rowAxes.halideOrder()));
  stages.push_back({rowSum, rowExtents, StageRole::Reduce, {RVar(r2.x)}});

  HalideTensor t = define("align_soft", x.extents, [&](const AxisVars &axes) {
    std::vector<Expr> idx = axes.exprs();
    Expr kept = keep(lengths, rel, axis, relAxis, idx);
    Expr sum = rowSum(rowOf(axes));
    return select(kept && sum > 0.0f,
                  exp(x.at(idx) - rowMax(rowOf(axes))) / sum, 0.0f);
  });
  t.role = StageRole::Softmax;
  return t;
}

HalideTensor Lowerer::lowerScore(attnd::ScoreOp op) {
  const HalideTensor &q = get(op.getQ()), &k = get(op.getK());
  size_t rank = q.rank(); // [N..., T, D]
  std::vector<Expr> extents(q.extents.begin(), q.extents.end() - 1);
  extents.push_back(k.extents[rank - 2]);
  Expr depth = k.extents[rank - 1];
  attnd::ScoreKind kind = op.getKind();
  float scale = op.getScale() ? op.getScale()->convertToFloat() : 1.0f;

  // general: q W k = (q W) . k, with q W as its own contraction stage.
  HalideTensor qw = q;
  if (kind == attnd::ScoreKind::general) {
    const HalideTensor &w = get(op.getWeight());
    qw.func = Func(freshName("score_qw"));
    qw.extents = q.extents;
    qw.extents.back() = w.extents[1];
    AxisVars axes(rank);
    RDom d(0, w.extents[0], "d");
    std::vector<Expr> qIdx = axes.exprs();
    qIdx.back() = d;
    qw.func(axes.halideOrder()) = 0.0f;
    qw.func(axes.halideOrder()) += q.at(qIdx) * w.at({d, axes.vars.back()});
    qw.role = StageRole::Contract;
    qw.reductionVars = {RVar(d)};
    stages.push_back(qw);
  }

  HalideTensor t;
  t.func = Func(freshName("score"));
  t.extents = extents;
  AxisVars axes(rank);
  RDom d(0, depth, "d");
  std::vector<Expr> qIdx(axes.vars.begin(), axes.vars.end() - 1);
  std::vector<Expr> kIdx(axes.vars.begin(), axes.vars.end() - 2);
  kIdx.push_back(axes.vars.back());
  qIdx.push_back(d);
  kIdx.push_back(d);
  Expr term = qw.at(qIdx) * k.at(kIdx);
  if (kind == attnd::ScoreKind::additive) {
    const HalideTensor &w = get(op.getWeight());
    term = w.at({d}) * vectorTanh(q.at(qIdx) + k.at(kIdx));
  }
  t.func(axes.halideOrder()) = 0.0f;
  t.func(axes.halideOrder()) += scale * term;
  t.role = StageRole::Contract;
  t.reductionVars = {RVar(d)};
  return t;
}

HalideTensor Lowerer::lowerContext(attnd::ContextOp op) {
  const HalideTensor &alpha = get(op.getAlpha()), &v = get(op.getV());
  size_t rank = alpha.rank(); // alpha [N..., T, S], v [N..., S, E]
  std::vector<Expr> extents(alpha.extents.begin(), alpha.extents.end() - 1);
  extents.push_back(v.extents[rank - 1]);
  HalideTensor t;
  t.func = Func(freshName("context"));
  t.extents = extents;
  AxisVars axes(rank);
  RDom s(0, alpha.extents[rank - 1], "s");
  std::vector<Expr> aIdx(axes.vars.begin(), axes.vars.end() - 1);
  aIdx.push_back(s);
  std::vector<Expr> vIdx(axes.vars.begin(), axes.vars.end() - 2);
  vIdx.push_back(s);
  vIdx.push_back(axes.vars.back());
  t.func(axes.halideOrder()) = 0.0f;
  t.func(axes.halideOrder()) += alpha.at(aIdx) * v.at(vIdx);
  t.role = StageRole::Contract;
  t.reductionVars = {RVar(s)};
  return t;
}

} // namespace attn
