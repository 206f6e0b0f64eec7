//===- TrainingOps.cpp - The loss and the ops that gradients need ---------===//
//
// cross_entropy (+ its adjoint), and the adjoints of ops whose adjoint is not
// another op of the dialect: reduce_grad, pad (slice), unpick (pick), shift
// (the previous states of a recurrence), scatter_add (gather).
//
//===----------------------------------------------------------------------===//

#include "OpHelpers.h"

#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::detail;

static FloatAttr smoothingAttr(OpBuilder &builder, float smoothing) {
  return smoothing == 0 ? FloatAttr() : builder.getF32FloatAttr(smoothing);
}

/// `logits` and `ids` agree: ids has the shape of logits without its last
/// axis. Shared by cross_entropy and its adjoint.
static LogicalResult verifyLogitsAndIds(Operation *op, Type logitsType,
                                        Type idsType, Optional<APFloat> smoothing) {
  if (smoothing) {
    double s = smoothing->convertToDouble();
    if (!(s >= 0 && s < 1))
      return op->emitOpError() << "smoothing " << s << " is outside [0, 1)";
  }
  auto logits = logitsType.dyn_cast<RankedTensorType>();
  auto ids = idsType.dyn_cast<RankedTensorType>();
  if (!logits || !ids)
    return success();
  if (logits.getRank() < 1 || ids.getRank() != logits.getRank() - 1)
    return op->emitOpError() << "ids " << ids << " must have the shape of the logits "
                             << logits << " without the last axis";
  for (int64_t i = 0; i < ids.getRank(); ++i) {
    int64_t size = logits.getDimSize(i);
    if (!mergeSize(size, ids.getDimSize(i)))
      return op->emitOpError() << "axis " << i << " of ids " << ids
                               << " does not match the logits " << logits;
  }
  if (logits.isDynamicDim(logits.getRank() - 1))
    return op->emitOpError() << "the classes (last axis of " << logits
                             << ") must have a static size";
  return success();
}

//===----------------------------------------------------------------------===//
// attn.cross_entropy
//===----------------------------------------------------------------------===//

void CrossEntropyOp::build(OpBuilder &builder, OperationState &state,
                           Value logits, Value ids, float smoothing) {
  build(builder, state, dropAxisType(logits.getType(), -1 + logits.getType()
                                                              .cast<RankedTensorType>()
                                                              .getRank()),
        logits, ids, smoothingAttr(builder, smoothing));
}

LogicalResult CrossEntropyOp::verifyOp() {
  if (failed(verifyLogitsAndIds(getOperation(), getLogits().getType(),
                                getIds().getType(), getSmoothing())))
    return failure();
  return verifyInferredResultTypes(getOperation());
}

void CrossEntropyOp::inferResultTypes(SmallVectorImpl<Type> &inferred) {
  auto logits = getLogits().getType().dyn_cast<RankedTensorType>();
  inferred.push_back(logits ? dropAxisType(logits, logits.getRank() - 1)
                            : unrankedOf(elementTypeOf(getLogits().getType())));
}

//===----------------------------------------------------------------------===//
// attn.cross_entropy_grad
//===----------------------------------------------------------------------===//

void CrossEntropyGradOp::build(OpBuilder &builder, OperationState &state,
                               Value logits, Value ids, Value d, float smoothing) {
  build(builder, state, logits.getType(), logits, ids, d,
        smoothingAttr(builder, smoothing));
}

LogicalResult CrossEntropyGradOp::verifyOp() {
  if (failed(verifyLogitsAndIds(getOperation(), getLogits().getType(),
                                getIds().getType(), getSmoothing())))
    return failure();
  auto ids = getIds().getType().dyn_cast<RankedTensorType>();
  auto d = getD().getType().dyn_cast<RankedTensorType>();
  if (ids && d && ids.getRank() != d.getRank())
    return emitOpError() << "the adjoint " << d << " must have the shape of the ids "
                         << ids;
  return verifyInferredResultTypes(getOperation());
}

void CrossEntropyGradOp::inferResultTypes(SmallVectorImpl<Type> &inferred) {
  inferred.push_back(getLogits().getType());
}

//===----------------------------------------------------------------------===//
// attn.reduce_grad
//===----------------------------------------------------------------------===//

void ReduceGradOp::build(OpBuilder &builder, OperationState &state,
                         ReduceOp forward, Value d) {
  build(builder, state, forward.getX().getType(), forward.getKindAttr(),
        forward.getX(), forward.getResult(), d, forward.getLengths(),
        forward.getAxisAttr(), forward.getRelAttr(), forward.getRelAxisAttr());
}

LogicalResult ReduceGradOp::verifyOp() {
  Optional<PositionRel> rel;
  if (auto r = getRel())
    rel = symbolizePositionRel(*r);
  if (failed(verifyPositionMask(getOperation(), getX().getType(), getAxis(),
                                getLengths(), rel, getRelAxis())))
    return failure();
  Type reduced = dropAxisType(getX().getType(), getAxis());
  for (Value v : {getY(), getD()})
    if (failed(verifyCompatibleShape(reduced, v.getType())))
      return emitOpError() << v.getType() << " is not the reduced type " << reduced;
  return verifyInferredResultTypes(getOperation());
}

void ReduceGradOp::inferResultTypes(SmallVectorImpl<Type> &inferred) {
  inferred.push_back(getX().getType());
}

//===----------------------------------------------------------------------===//
// attn.pad
//===----------------------------------------------------------------------===//

static Type inferPadType(Type x, int64_t axis, int64_t before, int64_t after) {
  auto ranked = x.dyn_cast<RankedTensorType>();
  if (!ranked || axis < 0 || axis >= ranked.getRank())
    return unrankedOf(elementTypeOf(x));
  SmallVector<int64_t> shape = llvm::to_vector(ranked.getShape());
  if (shape[axis] != kDynamic)
    shape[axis] += before + after;
  return tensorOf(shape, ranked.getElementType());
}

void PadOp::build(OpBuilder &builder, OperationState &state, Value x,
                  int64_t axis, int64_t before, int64_t after) {
  build(builder, state, inferPadType(x.getType(), axis, before, after), x,
        builder.getI64IntegerAttr(axis), builder.getI64IntegerAttr(before),
        builder.getI64IntegerAttr(after));
}

LogicalResult PadOp::verifyOp() {
  // I64Attr getters return uint64_t: compare and print them as signed.
  int64_t before = getBefore(), after = getAfter();
  if (before < 0 || after < 0)
    return emitOpError() << "padding sizes must be >= 0, got " << before
                         << " and " << after;
  if (auto ranked = getX().getType().dyn_cast<RankedTensorType>())
    if (failed(verifyAxis(getOperation(), "axis", getAxis(), ranked.getRank())))
      return failure();
  return verifyInferredResultTypes(getOperation());
}

void PadOp::inferResultTypes(SmallVectorImpl<Type> &inferred) {
  inferred.push_back(inferPadType(getX().getType(), getAxis(), getBefore(),
                                  getAfter()));
}

//===----------------------------------------------------------------------===//
// attn.unpick
//===----------------------------------------------------------------------===//

void UnpickOp::build(OpBuilder &builder, OperationState &state, Value x,
                     Value like, int64_t axis, bool last, Value lengths) {
  build(builder, state, like.getType(), x, like, lengths,
        builder.getI64IntegerAttr(axis), builder.getBoolAttr(last));
}

LogicalResult UnpickOp::verifyOp() {
  if (getAxis() == 0)
    return emitOpError() << "cannot place along axis 0: axis 0 is the batch";
  if (auto like = getLike().getType().dyn_cast<RankedTensorType>()) {
    if (failed(verifyAxis(getOperation(), "axis", getAxis(), like.getRank())))
      return failure();
    if (failed(verifyCompatibleShape(dropAxisType(like, getAxis()), getX().getType())))
      return emitOpError() << getX().getType() << " is not " << like
                           << " without axis " << getAxis();
  }
  return verifyInferredResultTypes(getOperation());
}

void UnpickOp::inferResultTypes(SmallVectorImpl<Type> &inferred) {
  inferred.push_back(getLike().getType());
}

//===----------------------------------------------------------------------===//
// attn.shift
//===----------------------------------------------------------------------===//

void ShiftOp::build(OpBuilder &builder, OperationState &state, Value seq,
                    Value init, int64_t axis, bool reverse, Value lengths) {
  build(builder, state, seq.getType(), seq, init, lengths,
        builder.getI64IntegerAttr(axis),
        reverse ? builder.getUnitAttr() : UnitAttr());
}

LogicalResult ShiftOp::verifyOp() {
  if (getAxis() == 0)
    return emitOpError() << "cannot shift along axis 0: axis 0 is the batch";
  if (auto seq = getSeq().getType().dyn_cast<RankedTensorType>()) {
    if (failed(verifyAxis(getOperation(), "axis", getAxis(), seq.getRank())))
      return failure();
    if (failed(verifyCompatibleShape(dropAxisType(seq, getAxis()), getInit().getType())))
      return emitOpError() << "the initial state " << getInit().getType()
                           << " is not " << seq << " without axis " << getAxis();
  }
  return verifyInferredResultTypes(getOperation());
}

void ShiftOp::inferResultTypes(SmallVectorImpl<Type> &inferred) {
  inferred.push_back(getSeq().getType());
}

//===----------------------------------------------------------------------===//
// attn.truncate
//===----------------------------------------------------------------------===//

void TruncateOp::build(OpBuilder &builder, OperationState &state, Value x, int64_t every) {
  build(builder, state, x.getType(), x, builder.getI64IntegerAttr(every));
}

LogicalResult TruncateOp::verifyOp() {
  int64_t every = getEvery(); // uint64_t: a negative every would pass `< 1`
  if (every < 1)
    return emitOpError() << "cuts every " << every << " steps: it must be at least 1";
  return success();
}

void TruncateOp::inferResultTypes(SmallVectorImpl<Type> &inferred) {
  inferred.push_back(getX().getType());
}

//===----------------------------------------------------------------------===//
// attn.dropout
//===----------------------------------------------------------------------===//

void DropoutOp::build(OpBuilder &builder, OperationState &state, Value x, Value control,
                      double rate, int64_t salt) {
  build(builder, state, x.getType(), x, control,
        builder.getF32FloatAttr(static_cast<float>(rate)), builder.getI64IntegerAttr(salt));
}

LogicalResult DropoutOp::verifyOp() {
  double rate = getRate().convertToDouble();
  if (!(rate >= 0.0 && rate < 1.0))
    return emitOpError() << "rate " << rate << " must be in [0, 1)";
  auto control = getControl().getType().dyn_cast<RankedTensorType>();
  if (!control || control.getRank() != 1 || control.getDimSize(0) != 2)
    return emitOpError() << "control must be tensor<2xi32> (on/off, seed), not "
                         << getControl().getType();
  return success();
}

void DropoutOp::inferResultTypes(SmallVectorImpl<Type> &inferred) {
  inferred.push_back(getX().getType());
}

//===----------------------------------------------------------------------===//
// attn.scatter_add
//===----------------------------------------------------------------------===//

static Type inferScatterType(Type x, Type ids, int64_t rows) {
  auto rx = x.dyn_cast<RankedTensorType>();
  auto ri = ids.dyn_cast<RankedTensorType>();
  if (!rx || !ri || ri.getRank() > rx.getRank())
    return unrankedOf(elementTypeOf(x));
  SmallVector<int64_t> shape{rows};
  llvm::append_range(shape, rx.getShape().drop_front(ri.getRank()));
  return tensorOf(shape, rx.getElementType());
}

void ScatterAddOp::build(OpBuilder &builder, OperationState &state, Value x,
                         Value ids, int64_t rows) {
  build(builder, state, inferScatterType(x.getType(), ids.getType(), rows), x,
        ids, builder.getI64IntegerAttr(rows));
}

LogicalResult ScatterAddOp::verifyOp() {
  int64_t rows = getRows(); // uint64_t: a negative rows would pass `< 1`
  if (rows < 1)
    return emitOpError() << "rows must be >= 1, got " << rows;
  auto rx = getX().getType().dyn_cast<RankedTensorType>();
  auto ri = getIds().getType().dyn_cast<RankedTensorType>();
  if (rx && ri) {
    if (ri.getRank() > rx.getRank())
      return emitOpError() << "ids " << ri << " have more axes than " << rx;
    for (int64_t i = 0; i < ri.getRank(); ++i) {
      int64_t size = rx.getDimSize(i);
      if (!mergeSize(size, ri.getDimSize(i)))
        return emitOpError() << "axis " << i << " of ids " << ri
                             << " does not match " << rx;
    }
  }
  return verifyInferredResultTypes(getOperation());
}

void ScatterAddOp::inferResultTypes(SmallVectorImpl<Type> &inferred) {
  inferred.push_back(inferScatterType(getX().getType(), getIds().getType(), getRows()));
}
