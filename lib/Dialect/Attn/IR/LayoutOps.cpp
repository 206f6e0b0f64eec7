//===- LayoutOps.cpp - transpose, reshape, concat, slice, gather ----------===//

#include "OpHelpers.h"

#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::detail;

static std::string listStr(ArrayRef<int64_t> values) {
  std::string s = "[";
  for (size_t i = 0; i < values.size(); ++i)
    s += (i ? ", " : "") + std::to_string(values[i]);
  return s + "]";
}

//===----------------------------------------------------------------------===//
// attn.transpose
//===----------------------------------------------------------------------===//

SmallVector<int64_t, 4> TransposeOp::getPermutation() {
  SmallVector<int64_t, 4> perm;
  for (Attribute a : getPerm())
    perm.push_back(a.cast<IntegerAttr>().getInt());
  return perm;
}

static bool isPermutation(ArrayRef<int64_t> perm) {
  SmallVector<bool> seen(perm.size(), false);
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(perm.size()) || seen[p])
      return false;
    seen[p] = true;
  }
  return true;
}

static Type inferTransposeType(Type x, ArrayRef<int64_t> perm) {
  Type element = elementTypeOf(x);
  if (!isPermutation(perm))
    return unrankedOf(element);
  auto ranked = x.dyn_cast<RankedTensorType>();
  if (!ranked)
    return tensorOf(SmallVector<int64_t>(perm.size(), kDynamic), element);
  if (ranked.getRank() != static_cast<int64_t>(perm.size()))
    return unrankedOf(element);
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(ranked.getDimSize(p));
  return tensorOf(shape, element);
}

void TransposeOp::build(OpBuilder &builder, OperationState &state, Value x,
                        ArrayRef<int64_t> perm) {
  build(builder, state, inferTransposeType(x.getType(), perm), x,
        builder.getI64ArrayAttr(perm));
}

LogicalResult TransposeOp::verifyOp() {
  SmallVector<int64_t, 4> perm = getPermutation();
  if (auto ranked = getX().getType().dyn_cast<RankedTensorType>())
    if (ranked.getRank() != static_cast<int64_t>(perm.size()))
      return emitOpError() << "perm " << listStr(perm) << " has "
                           << perm.size() << " entries for an operand of rank "
                           << ranked.getRank();
  if (!isPermutation(perm))
    return emitOpError() << "perm " << listStr(perm)
                         << " is not a permutation of 0.." << perm.size() - 1;
  return verifyInferredResultTypes(getOperation());
}

void TransposeOp::inferResultTypes(SmallVectorImpl<Type> &inferred) {
  inferred.push_back(inferTransposeType(getX().getType(), getPermutation()));
}

OpFoldResult TransposeOp::fold(ArrayRef<Attribute>) {
  SmallVector<int64_t, 4> perm = getPermutation();
  for (auto it : llvm::enumerate(perm))
    if (it.value() != static_cast<int64_t>(it.index()))
      return {};
  if (getX().getType() != getType())
    return {};
  return getX();
}

namespace {
/// transpose(transpose(x, inner), outer) -> transpose(x, inner o outer).
struct ComposeTransposes : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TransposeOp op,
                                PatternRewriter &rewriter) const override {
    auto inner = op.getX().getDefiningOp<TransposeOp>();
    if (!inner)
      return failure();
    SmallVector<int64_t, 4> outerPerm = op.getPermutation();
    SmallVector<int64_t, 4> innerPerm = inner.getPermutation();
    SmallVector<int64_t> composed;
    for (int64_t p : outerPerm)
      composed.push_back(innerPerm[p]);
    rewriter.replaceOpWithNewOp<TransposeOp>(
        op, op.getType(), inner.getX(), rewriter.getI64ArrayAttr(composed));
    return success();
  }
};
} // namespace

void TransposeOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                              MLIRContext *context) {
  patterns.add<ComposeTransposes>(context);
}

//===----------------------------------------------------------------------===//
// attn.reshape
//===----------------------------------------------------------------------===//

/// Number of leading dynamic sizes, or -1 if a dynamic size follows a static
/// one.
static int64_t dynamicPrefix(ArrayRef<int64_t> shape) {
  int64_t prefix = 0;
  while (prefix < static_cast<int64_t>(shape.size()) &&
         ShapedType::isDynamic(shape[prefix]))
    ++prefix;
  for (int64_t size : shape.drop_front(prefix))
    if (ShapedType::isDynamic(size))
      return -1;
  return prefix;
}

static int64_t product(ArrayRef<int64_t> sizes) {
  int64_t n = 1;
  for (int64_t s : sizes)
    n *= s;
  return n;
}

LogicalResult ReshapeOp::verifyOp() {
  auto source = getX().getType().dyn_cast<RankedTensorType>();
  RankedTensorType target = getType().cast<RankedTensorType>();
  if (elementTypeOf(getX().getType()) != target.getElementType())
    return emitOpError() << "cannot change the element type: "
                         << getX().getType() << " to " << target;
  int64_t targetPrefix = dynamicPrefix(target.getShape());
  if (targetPrefix < 0)
    return emitOpError() << "result type " << target
                         << " has a dynamic size after a static one; dynamic "
                            "sizes must lead";
  if (!source)
    return success();
  int64_t sourcePrefix = dynamicPrefix(source.getShape());
  if (sourcePrefix < 0)
    return emitOpError() << "operand type " << source
                         << " has a dynamic size after a static one; dynamic "
                            "sizes must lead";
  if (sourcePrefix != targetPrefix)
    return emitOpError() << "the operand " << source << " has " << sourcePrefix
                         << " leading dynamic sizes but the result " << target
                         << " has " << targetPrefix
                         << "; they must share one dynamic prefix";
  int64_t from = product(source.getShape().drop_front(sourcePrefix));
  int64_t to = product(target.getShape().drop_front(targetPrefix));
  if (from != to)
    return emitOpError() << "the static sizes hold " << from
                         << " elements in the operand " << source << " but "
                         << to << " in the result " << target;
  return success();
}

void ReshapeOp::inferResultTypes(SmallVectorImpl<Type> &inferred) {
  inferred.push_back(getType());
}

OpFoldResult ReshapeOp::fold(ArrayRef<Attribute>) {
  if (getX().getType() == getType())
    return getX();
  if (auto inner = getX().getDefiningOp<ReshapeOp>()) {
    if (inner.getX().getType() == getType())
      return inner.getX();
    getXMutable().assign(inner.getX());
    return getResult();
  }
  return {};
}

//===----------------------------------------------------------------------===//
// attn.concat
//===----------------------------------------------------------------------===//

static Type inferConcatType(TypeRange inputs, int64_t axis) {
  if (inputs.empty())
    return Type();
  Type element = elementTypeOf(inputs.front());
  Optional<SmallVector<int64_t>> shape;
  bool axisKnown = true;
  int64_t axisSize = 0;
  for (Type t : inputs) {
    auto ranked = t.dyn_cast<RankedTensorType>();
    if (!ranked) {
      axisKnown = false;
      continue;
    }
    if (axis < 0 || axis >= ranked.getRank())
      return unrankedOf(element);
    if (!shape)
      shape = llvm::to_vector(ranked.getShape());
    else if (static_cast<int64_t>(shape->size()) == ranked.getRank())
      *shape = mergeShapes(*shape, ranked.getShape());
    if (ranked.isDynamicDim(axis))
      axisKnown = false;
    else
      axisSize += ranked.getDimSize(axis);
  }
  if (!shape)
    return unrankedOf(element);
  (*shape)[axis] = axisKnown ? axisSize : kDynamic;
  return tensorOf(*shape, element);
}

void ConcatOp::build(OpBuilder &builder, OperationState &state,
                     ValueRange inputs, int64_t axis) {
  build(builder, state, inferConcatType(TypeRange(inputs), axis), inputs,
        builder.getI64IntegerAttr(axis));
}

LogicalResult ConcatOp::verifyOp() {
  if (getInputs().empty())
    return emitOpError() << "needs at least one operand";
  int64_t axis = getAxis();
  Type element = elementTypeOf(getInputs().front().getType());
  RankedTensorType first;
  unsigned firstIndex = 0;
  for (auto it : llvm::enumerate(getInputs().getTypes())) {
    if (elementTypeOf(it.value()) != element)
      return emitOpError() << "operand #" << it.index() << " has element type "
                           << elementTypeOf(it.value()) << " but operand #0 "
                           << element;
    auto ranked = it.value().dyn_cast<RankedTensorType>();
    if (!ranked)
      continue;
    if (failed(verifyAxis(getOperation(), "axis", axis, ranked.getRank())))
      return failure();
    if (!first) {
      first = ranked;
      firstIndex = it.index();
      continue;
    }
    if (ranked.getRank() != first.getRank())
      return emitOpError() << "operand #" << it.index() << " has rank "
                           << ranked.getRank() << " but operand #"
                           << firstIndex << " has rank " << first.getRank();
    for (int64_t d = 0; d < ranked.getRank(); ++d) {
      int64_t a = first.getDimSize(d), b = ranked.getDimSize(d);
      if (d != axis && a != kDynamic && b != kDynamic && a != b)
        return emitOpError() << "operand #" << it.index() << " has size " << b
                             << " along axis " << d << " but operand #"
                             << firstIndex << " has size " << a
                             << "; only the concatenation axis " << axis
                             << " may differ";
    }
  }
  return verifyInferredResultTypes(getOperation());
}

void ConcatOp::inferResultTypes(SmallVectorImpl<Type> &inferred) {
  Type t = inferConcatType(getInputs().getTypes(), getAxis());
  inferred.push_back(t ? t : getType());
}

//===----------------------------------------------------------------------===//
// attn.slice
//===----------------------------------------------------------------------===//

static Type inferSliceType(Type x, int64_t axis, int64_t size) {
  auto ranked = x.dyn_cast<RankedTensorType>();
  if (!ranked || axis < 0 || axis >= ranked.getRank())
    return unrankedOf(elementTypeOf(x));
  SmallVector<int64_t> shape = llvm::to_vector(ranked.getShape());
  shape[axis] = size;
  return tensorOf(shape, ranked.getElementType());
}

void SliceOp::build(OpBuilder &builder, OperationState &state, Value x,
                    int64_t axis, int64_t start, int64_t size) {
  build(builder, state, inferSliceType(x.getType(), axis, size), x,
        builder.getI64IntegerAttr(axis), builder.getI64IntegerAttr(start),
        builder.getI64IntegerAttr(size));
}

LogicalResult SliceOp::verifyOp() {
  int64_t axis = getAxis(), start = getStart(), size = getSize();
  if (start < 0 || size < 0)
    return emitOpError() << "start " << start << " and size " << size
                         << " must be non-negative";
  if (auto ranked = getX().getType().dyn_cast<RankedTensorType>()) {
    if (failed(verifyAxis(getOperation(), "axis", axis, ranked.getRank())))
      return failure();
    int64_t dim = ranked.getDimSize(axis);
    if (dim != kDynamic && start + size > dim)
      return emitOpError() << "the window [" << start << ", " << start + size
                           << ") exceeds size " << dim << " of axis " << axis;
  }
  return verifyInferredResultTypes(getOperation());
}

void SliceOp::inferResultTypes(SmallVectorImpl<Type> &inferred) {
  inferred.push_back(inferSliceType(getX().getType(), getAxis(), getSize()));
}

//===----------------------------------------------------------------------===//
// attn.pick
//===----------------------------------------------------------------------===//

void PickOp::build(OpBuilder &builder, OperationState &state, Value x,
                   int64_t axis, bool last, Value lengths) {
  build(builder, state, dropAxisType(x.getType(), axis), x, lengths,
        builder.getI64IntegerAttr(axis), builder.getBoolAttr(last));
}

LogicalResult PickOp::verifyOp() {
  int64_t axis = getAxis();
  if (axis == 0)
    return emitOpError() << "cannot pick along axis 0: axis 0 is the batch";
  if (auto ranked = getX().getType().dyn_cast<RankedTensorType>()) {
    if (failed(verifyAxis(getOperation(), "axis", axis, ranked.getRank())))
      return failure();
    if (!getLengths() && ranked.getDimSize(axis) == 0)
      return emitOpError() << "axis " << axis << " is empty: no position to pick";
  }
  return verifyInferredResultTypes(getOperation());
}

void PickOp::inferResultTypes(SmallVectorImpl<Type> &inferred) {
  inferred.push_back(dropAxisType(getX().getType(), getAxis()));
}

//===----------------------------------------------------------------------===//
// attn.gather
//===----------------------------------------------------------------------===//

static Type inferGatherType(Type table, Type ids) {
  auto t = table.dyn_cast<RankedTensorType>();
  auto i = ids.dyn_cast<RankedTensorType>();
  if (!t || !i || t.getRank() < 1)
    return unrankedOf(elementTypeOf(table));
  SmallVector<int64_t> shape = llvm::to_vector(i.getShape());
  llvm::append_range(shape, t.getShape().drop_front());
  return tensorOf(shape, t.getElementType());
}

void GatherOp::build(OpBuilder &builder, OperationState &state, Value table,
                     Value ids) {
  build(builder, state, inferGatherType(table.getType(), ids.getType()), table,
        ids);
}

LogicalResult GatherOp::verifyOp() {
  auto table = getTable().getType().dyn_cast<RankedTensorType>();
  if (table && table.getRank() < 1)
    return emitOpError() << "the table " << table
                         << " must have rank >= 1 (rows are looked up)";
  return verifyInferredResultTypes(getOperation());
}

void GatherOp::inferResultTypes(SmallVectorImpl<Type> &inferred) {
  inferred.push_back(inferGatherType(getTable().getType(), getIds().getType()));
}
