//===- AttentionOps.cpp - score, context, attention, combine_heads --------===//
//
// Layout shared by these ops: [N..., T, X] for queries (T the query axis) and
// [N..., S, Y] for keys and values (S the key axis), N... the leading
// batch/head axes.
//
//===----------------------------------------------------------------------===//

#include "OpHelpers.h"

#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::detail;

/// The ranked types among `types` when all ranked ones share one rank >= 2;
/// None otherwise (the verifier reports it).
static Optional<SmallVector<RankedTensorType>> rankedOperands(TypeRange types,
                                                              int64_t &rank) {
  SmallVector<RankedTensorType> ranked;
  rank = -1;
  for (Type t : types) {
    auto r = t.dyn_cast<RankedTensorType>();
    if (!r)
      continue;
    if (r.getRank() < 2 || (rank >= 0 && r.getRank() != rank))
      return llvm::None;
    rank = r.getRank();
    ranked.push_back(r);
  }
  return ranked;
}

/// Merged size of dimension `dim` over the ranked types of `types` (null
/// entries are skipped).
static int64_t mergedDim(ArrayRef<RankedTensorType> types, int64_t dim) {
  int64_t size = kDynamic;
  for (RankedTensorType t : types)
    if (t)
      (void)mergeSize(size, t.getDimSize(dim));
  return size;
}

/// [N..., A, B] from the shared leading axes of `all`, then A and B.
static Type inferLayout(TypeRange all, Type aFrom, Type bFrom, Type element) {
  int64_t rank;
  Optional<SmallVector<RankedTensorType>> ranked = rankedOperands(all, rank);
  if (!ranked || rank < 0)
    return unrankedOf(element);
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < rank - 2; ++d)
    shape.push_back(mergedDim(*ranked, d));
  auto a = aFrom.dyn_cast<RankedTensorType>();
  auto b = bFrom.dyn_cast<RankedTensorType>();
  shape.push_back(a ? a.getDimSize(rank - 2) : kDynamic);
  shape.push_back(b ? b.getDimSize(rank - 2) : kDynamic);
  return tensorOf(shape, element);
}

/// Checks equal ranks >= 2 and agreeing leading axes N... of `operands`.
static LogicalResult verifyLayout(Operation *op,
                                  ArrayRef<std::pair<StringRef, Value>> operands) {
  const std::pair<StringRef, Value> *first = nullptr;
  for (const auto &named : operands) {
    auto t = named.second.getType().dyn_cast<RankedTensorType>();
    if (!t)
      continue;
    if (t.getRank() < 2)
      return op->emitOpError() << named.first << " " << t
                               << " must have rank >= 2 ([N..., positions, "
                                  "features])";
    if (!first) {
      first = &named;
      continue;
    }
    auto f = first->second.getType().cast<RankedTensorType>();
    if (f.getRank() != t.getRank())
      return op->emitOpError()
             << first->first << " has rank " << f.getRank() << " but "
             << named.first << " has rank " << t.getRank();
    for (int64_t d = 0; d < t.getRank() - 2; ++d) {
      int64_t a = f.getDimSize(d), b = t.getDimSize(d);
      if (a != kDynamic && b != kDynamic && a != b)
        return op->emitOpError()
               << first->first << " and " << named.first
               << " disagree on leading axis " << d << ": " << a << " vs " << b;
    }
  }
  return success();
}

/// Checks that `a` along `aDim` (counted from the end) and `b` along `bDim`
/// agree, naming them `what`.
static LogicalResult verifySameSize(Operation *op, StringRef what, Value a,
                                    StringRef aName, int64_t aDim, Value b,
                                    StringRef bName, int64_t bDim) {
  auto ta = a.getType().dyn_cast<RankedTensorType>();
  auto tb = b.getType().dyn_cast<RankedTensorType>();
  if (!ta || !tb || ta.getRank() < aDim || tb.getRank() < bDim)
    return success();
  int64_t x = ta.getDimSize(ta.getRank() - aDim);
  int64_t y = tb.getDimSize(tb.getRank() - bDim);
  if (x != kDynamic && y != kDynamic && x != y)
    return op->emitOpError() << what << " differs: " << aName << " has " << x
                             << " but " << bName << " has " << y;
  return success();
}

//===----------------------------------------------------------------------===//
// attn.score
//===----------------------------------------------------------------------===//

void ScoreOp::build(OpBuilder &builder, OperationState &state, ScoreKind kind,
                    Value q, Value k, Value weight, Optional<float> scale) {
  Type type = inferLayout({q.getType(), k.getType()}, q.getType(), k.getType(),
                          elementTypeOf(q.getType()));
  build(builder, state, type, ScoreKindAttr::get(builder.getContext(), kind),
        q, k, weight,
        scale ? builder.getF32FloatAttr(*scale) : FloatAttr());
}

LogicalResult ScoreOp::verifyOp() {
  Operation *op = getOperation();
  if (failed(verifyLayout(op, {{"q", getQ()}, {"k", getK()}})))
    return failure();
  ScoreKind kind = getKind();
  StringRef kindName = stringifyScoreKind(kind);
  bool needsWeight = kind == ScoreKind::general || kind == ScoreKind::additive;
  if (getScaleAttr() && kind != ScoreKind::scaled_dot)
    return emitOpError() << "'scale' is only allowed for scaled_dot, not "
                         << kindName;
  if (!getScaleAttr() && kind == ScoreKind::scaled_dot)
    return emitOpError() << "scaled_dot needs a 'scale' attribute";
  if (needsWeight && !getWeight())
    return emitOpError() << kindName << " score needs a weight operand";
  if (!needsWeight && getWeight())
    return emitOpError() << kindName << " score takes no weight operand";

  if (kind != ScoreKind::general &&
      failed(verifySameSize(op, "the feature size", getQ(), "q", 1, getK(),
                            "k", 1)))
    return failure();
  if (Value weight = getWeight()) {
    auto w = weight.getType().dyn_cast<RankedTensorType>();
    int64_t expectedRank = kind == ScoreKind::general ? 2 : 1;
    if (w && w.getRank() != expectedRank)
      return emitOpError() << kindName << " score needs a weight of rank "
                           << expectedRank
                           << (expectedRank == 2 ? " [D, D']" : " [A]")
                           << ", got " << w;
    if (kind == ScoreKind::general &&
        (failed(verifySameSize(op, "D", getQ(), "q", 1, weight, "weight", 2)) ||
         failed(verifySameSize(op, "D'", getK(), "k", 1, weight, "weight", 1))))
      return failure();
    if (kind == ScoreKind::additive &&
        failed(verifySameSize(op, "A", getQ(), "q", 1, weight, "weight", 1)))
      return failure();
  }
  return verifyInferredResultTypes(op);
}

void ScoreOp::inferResultTypes(SmallVectorImpl<Type> &inferred) {
  Type q = getQ().getType(), k = getK().getType();
  inferred.push_back(inferLayout({q, k}, q, k, elementTypeOf(q)));
}

//===----------------------------------------------------------------------===//
// attn.context
//===----------------------------------------------------------------------===//

/// [N..., T, Dv]: T is the second-to-last axis of `t`, Dv the last of `v`.
static Type inferWeightedSum(TypeRange all, Type t, Type v) {
  Type element = elementTypeOf(v);
  Type layout = inferLayout(all, t, t, element);
  auto ranked = layout.dyn_cast<RankedTensorType>();
  if (!ranked)
    return layout;
  SmallVector<int64_t> shape = llvm::to_vector(ranked.getShape());
  auto rv = v.dyn_cast<RankedTensorType>();
  shape.back() = rv ? rv.getShape().back() : kDynamic;
  return tensorOf(shape, element);
}

void ContextOp::build(OpBuilder &builder, OperationState &state, Value alpha,
                      Value v) {
  build(builder, state,
        inferWeightedSum({alpha.getType(), v.getType()}, alpha.getType(),
                         v.getType()),
        alpha, v);
}

LogicalResult ContextOp::verifyOp() {
  Operation *op = getOperation();
  if (failed(verifyLayout(op, {{"alpha", getAlpha()}, {"v", getV()}})) ||
      failed(verifySameSize(op, "the number of positions S", getAlpha(),
                            "alpha", 1, getV(), "v", 2)))
    return failure();
  return verifyInferredResultTypes(op);
}

void ContextOp::inferResultTypes(SmallVectorImpl<Type> &inferred) {
  Type alpha = getAlpha().getType(), v = getV().getType();
  inferred.push_back(inferWeightedSum({alpha, v}, alpha, v));
}

//===----------------------------------------------------------------------===//
// attn.attention
//===----------------------------------------------------------------------===//

void AttentionOp::build(OpBuilder &builder, OperationState &state, Value q,
                        Value k, Value v, float scale, Value lengths,
                        bool causal) {
  Type type = inferWeightedSum({q.getType(), k.getType(), v.getType()},
                               q.getType(), v.getType());
  build(builder, state, type, q, k, v, lengths, builder.getF32FloatAttr(scale),
        causal ? builder.getUnitAttr() : UnitAttr());
}

LogicalResult AttentionOp::verifyOp() {
  Operation *op = getOperation();
  if (failed(verifyLayout(op, {{"q", getQ()}, {"k", getK()}, {"v", getV()}})) ||
      failed(verifySameSize(op, "the feature size D", getQ(), "q", 1, getK(),
                            "k", 1)) ||
      failed(verifySameSize(op, "the number of positions S", getK(), "k", 2,
                            getV(), "v", 2)))
    return failure();
  if (getLengths())
    for (Value operand : {getQ(), getK(), getV()})
      if (auto t = operand.getType().dyn_cast<RankedTensorType>())
        if (t.getRank() < 3)
          return emitOpError() << "lengths need a batch axis: operands of "
                                  "rank >= 3 ([B, ..., positions, features]), "
                                  "got "
                               << t;
  return verifyInferredResultTypes(op);
}

void AttentionOp::inferResultTypes(SmallVectorImpl<Type> &inferred) {
  Type q = getQ().getType(), k = getK().getType(), v = getV().getType();
  inferred.push_back(inferWeightedSum({q, k, v}, q, v));
}

//===----------------------------------------------------------------------===//
// attn.attention_grad
//===----------------------------------------------------------------------===//

void AttentionGradOp::build(OpBuilder &builder, OperationState &state, Value q, Value k,
                            Value v, Value out, Value dout, float scale, Value lengths,
                            bool causal) {
  build(builder, state, {q.getType(), k.getType(), v.getType()}, q, k, v, out, dout, lengths,
        builder.getF32FloatAttr(scale), causal ? builder.getUnitAttr() : UnitAttr());
}

LogicalResult AttentionGradOp::verifyOp() {
  Operation *op = getOperation();
  if (failed(verifyLayout(op, {{"q", getQ()}, {"k", getK()}, {"v", getV()}})) ||
      failed(verifySameSize(op, "the feature size D", getQ(), "q", 1, getK(), "k", 1)) ||
      failed(verifySameSize(op, "the number of positions S", getK(), "k", 2, getV(), "v", 2)))
    return failure();
  Type forward = inferWeightedSum({getQ().getType(), getK().getType(), getV().getType()},
                                  getQ().getType(), getV().getType());
  for (auto [name, value] : {std::pair<const char *, Value>{"out", getOut()}, {"dout", getDout()}})
    if (failed(verifyCompatibleShape(value.getType(), forward)))
      return emitOpError() << "'" << name << "' is " << value.getType()
                           << ", the attention's result is " << forward;
  if (getLengths())
    if (auto t = getQ().getType().dyn_cast<RankedTensorType>())
      if (t.getRank() < 3)
        return emitOpError() << "lengths need a batch axis: operands of rank >= 3, got " << t;
  return verifyInferredResultTypes(op);
}

void AttentionGradOp::inferResultTypes(SmallVectorImpl<Type> &inferred) {
  inferred.push_back(getQ().getType());
  inferred.push_back(getK().getType());
  inferred.push_back(getV().getType());
}

//===----------------------------------------------------------------------===//
// attn.combine_heads
//===----------------------------------------------------------------------===//

static Type inferCombineType(CombineMode mode, Type x) {
  auto ranked = x.dyn_cast<RankedTensorType>();
  if (!ranked || ranked.getRank() < 2)
    return unrankedOf(elementTypeOf(x));
  ArrayRef<int64_t> shape = ranked.getShape();
  SmallVector<int64_t> out = llvm::to_vector(shape.drop_back(2));
  int64_t heads = shape[shape.size() - 2], size = shape.back();
  if (mode == CombineMode::average)
    out.push_back(size);
  else
    out.push_back(heads == kDynamic || size == kDynamic ? kDynamic
                                                        : heads * size);
  return tensorOf(out, ranked.getElementType());
}

void CombineHeadsOp::build(OpBuilder &builder, OperationState &state,
                           CombineMode mode, Value x) {
  build(builder, state, inferCombineType(mode, x.getType()),
        CombineModeAttr::get(builder.getContext(), mode), x);
}

LogicalResult CombineHeadsOp::verifyOp() {
  auto x = getX().getType().dyn_cast<RankedTensorType>();
  if (x && x.getRank() < 2)
    return emitOpError() << "operand " << x
                         << " must have rank >= 2 ([N..., heads, features])";
  return verifyInferredResultTypes(getOperation());
}

void CombineHeadsOp::inferResultTypes(SmallVectorImpl<Type> &inferred) {
  inferred.push_back(inferCombineType(getMode(), getX().getType()));
}
