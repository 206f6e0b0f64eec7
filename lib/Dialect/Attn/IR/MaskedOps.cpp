//===- MaskedOps.cpp - contract, reduce, align, mask ----------------------===//
//
// The ops that may skip padding positions (`lengths`) or apply a relational
// (causal) mask.
//
//===----------------------------------------------------------------------===//

#include "OpHelpers.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::detail;

static void addOptionalRel(OpBuilder &builder, OperationState &state,
                           Optional<PositionRel> rel, int64_t relAxis) {
  if (!rel)
    return;
  state.addAttribute("rel", builder.getStringAttr(stringifyPositionRel(*rel)));
  state.addAttribute("rel_axis", builder.getI64IntegerAttr(relAxis));
}

//===----------------------------------------------------------------------===//
// attn.contract
//===----------------------------------------------------------------------===//

static Type inferContractType(Type lhs, Type rhs, StringRef spec) {
  Optional<EinsumSpec> parsed = EinsumSpec::parse(spec);
  if (!parsed || parsed->inputs.size() != 2)
    return unrankedOf(elementTypeOf(lhs));
  return inferEinsumResult(*parsed, {lhs, rhs}, elementTypeOf(lhs));
}

void ContractOp::build(OpBuilder &builder, OperationState &state, Value lhs,
                       Value rhs, StringRef spec, Value lengths,
                       StringRef masked) {
  build(builder, state, inferContractType(lhs.getType(), rhs.getType(), spec),
        lhs, rhs, lengths, builder.getStringAttr(spec),
        masked.empty() ? StringAttr() : builder.getStringAttr(masked));
}

LogicalResult ContractOp::verifyOp() {
  Optional<EinsumSpec> spec = parseSpec(getOperation(), getSpec());
  if (!spec || failed(verifyEinsumOperands(getOperation(), *spec,
                                           {getLhs().getType(),
                                            getRhs().getType()})))
    return failure();
  for (char c : spec->result)
    if (spec->inputs[0].find(c) == std::string::npos &&
        spec->inputs[1].find(c) == std::string::npos)
      return emitOpError() << "result letter '" << c << "' of spec '"
                           << getSpec() << "' appears in no input";
  auto result = getType().dyn_cast<RankedTensorType>();
  if (result && result.getRank() != static_cast<int64_t>(spec->result.size()))
    return emitOpError() << "result term '" << spec->result << "' has "
                         << spec->result.size()
                         << " letters but the result has rank "
                         << result.getRank();

  Optional<StringRef> masked = getMasked();
  if (bool(masked) != bool(getLengths()))
    return emitOpError() << "'masked' and 'lengths' must be given together";
  if (masked) {
    const std::string &lhsTerm = spec->inputs[0];
    if (masked->size() != 1)
      return emitOpError() << "masked must name one letter, got '" << *masked
                           << "'";
    char letter = masked->front();
    if (lhsTerm.find(letter) == std::string::npos)
      return emitOpError() << "masked letter '" << letter
                           << "' must appear in the lhs term '" << lhsTerm
                           << "'";
    if (spec->result.find(letter) != std::string::npos)
      return emitOpError() << "masked letter '" << letter
                           << "' must be summed, but the result term '"
                           << spec->result << "' keeps it";
    if (lhsTerm.front() == letter)
      return emitOpError() << "masked letter '" << letter
                           << "' is the batch (axis 0 of the lhs)";
  }
  return verifyInferredResultTypes(getOperation());
}

void ContractOp::inferResultTypes(SmallVectorImpl<Type> &inferred) {
  inferred.push_back(
      inferContractType(getLhs().getType(), getRhs().getType(), getSpec()));
}

//===----------------------------------------------------------------------===//
// attn.reduce
//===----------------------------------------------------------------------===//

void ReduceOp::build(OpBuilder &builder, OperationState &state,
                     ReduceKind kind, Value x, int64_t axis, Value lengths,
                     Optional<PositionRel> rel, int64_t relAxis) {
  build(builder, state, dropAxisType(x.getType(), axis),
        ReduceKindAttr::get(builder.getContext(), kind), x, lengths,
        builder.getI64IntegerAttr(axis), StringAttr(), IntegerAttr());
  addOptionalRel(builder, state, rel, relAxis);
}

LogicalResult ReduceOp::verifyOp() {
  if (failed(verifyPositionMask(getOperation(), getX().getType(), getAxis(),
                                getLengths(), getRelKind(), getRelAxis())))
    return failure();
  return verifyInferredResultTypes(getOperation());
}

void ReduceOp::inferResultTypes(SmallVectorImpl<Type> &inferred) {
  inferred.push_back(dropAxisType(getX().getType(), getAxis()));
}

//===----------------------------------------------------------------------===//
// attn.align
//===----------------------------------------------------------------------===//

void AlignOp::build(OpBuilder &builder, OperationState &state, AlignMode mode,
                    Value x, int64_t axis, Value lengths,
                    Optional<PositionRel> rel, int64_t relAxis) {
  build(builder, state, x.getType(),
        AlignModeAttr::get(builder.getContext(), mode), x, lengths,
        builder.getI64IntegerAttr(axis), StringAttr(), IntegerAttr());
  addOptionalRel(builder, state, rel, relAxis);
}

LogicalResult AlignOp::verifyOp() {
  return verifyPositionMask(getOperation(), getX().getType(), getAxis(),
                            getLengths(), getRelKind(), getRelAxis());
}

void AlignOp::inferResultTypes(SmallVectorImpl<Type> &inferred) {
  inferred.push_back(getX().getType());
}

//===----------------------------------------------------------------------===//
// attn.mask
//===----------------------------------------------------------------------===//

void MaskOp::build(OpBuilder &builder, OperationState &state, Value x,
                   Value lengths, int64_t axis) {
  build(builder, state, x.getType(), x, lengths,
        builder.getI64IntegerAttr(axis));
}

LogicalResult MaskOp::verifyOp() {
  int64_t axis = getAxis();
  if (axis == 0)
    return emitOpError()
           << "cannot mask axis 0 with lengths: axis 0 is the batch";
  if (auto ranked = getX().getType().dyn_cast<RankedTensorType>())
    return verifyAxis(getOperation(), "axis", axis, ranked.getRank());
  return success();
}

void MaskOp::inferResultTypes(SmallVectorImpl<Type> &inferred) {
  inferred.push_back(getX().getType());
}

//===----------------------------------------------------------------------===//
// attn.batch_broadcast
//===----------------------------------------------------------------------===//

static RankedTensorType batchBroadcastType(Value x, ArrayRef<int64_t> shape) {
  SmallVector<int64_t> sizes{ShapedType::kDynamicSize};
  sizes.append(shape.begin(), shape.end());
  return RankedTensorType::get(sizes,
                               x.getType().cast<ShapedType>().getElementType());
}

void BatchBroadcastOp::build(OpBuilder &builder, OperationState &state,
                             Value x, Value ref, ArrayRef<int64_t> shape) {
  build(builder, state, batchBroadcastType(x, shape), x, ref,
        builder.getI64ArrayAttr(shape));
}

LogicalResult BatchBroadcastOp::verifyOp() {
  SmallVector<int64_t> shape;
  for (Attribute a : getShape())
    shape.push_back(a.cast<IntegerAttr>().getInt());
  for (int64_t size : shape)
    if (size <= 0)
      return emitOpError() << "shape sizes must be positive, got " << size;
  if (auto ref = getRef().getType().dyn_cast<RankedTensorType>())
    if (ref.getRank() == 0)
      return emitOpError() << "needs a ref with a batch axis (rank >= 1)";
  if (auto x = getX().getType().dyn_cast<RankedTensorType>()) {
    if (x.getRank() != 0 && x.getShape() != ArrayRef<int64_t>(shape)) {
      std::string got, want;
      for (int64_t d : x.getShape())
        got += (got.empty() ? "" : "x") + std::to_string(d);
      for (int64_t d : shape)
        want += (want.empty() ? "" : "x") + std::to_string(d);
      return emitOpError() << "x has shape " << got << " but rows of shape "
                           << want << " were asked for (x must be a scalar or "
                                      "have the row shape)";
    }
  }
  return success();
}

void BatchBroadcastOp::inferResultTypes(SmallVectorImpl<Type> &inferred) {
  SmallVector<int64_t> shape;
  for (Attribute a : getShape())
    shape.push_back(a.cast<IntegerAttr>().getInt());
  inferred.push_back(batchBroadcastType(getX(), shape));
}
