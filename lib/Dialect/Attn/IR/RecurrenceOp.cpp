//===- RecurrenceOp.cpp - attn.recurrence ---------------------------------===//

#include "OpHelpers.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::detail;

/// The type of a sequence with its time axis removed.
static Type stepType(Type sequence, int64_t axis) {
  auto ranked = sequence.dyn_cast<RankedTensorType>();
  if (!ranked || axis < 0 || axis >= ranked.getRank())
    return unrankedOf(elementTypeOf(sequence));
  SmallVector<int64_t> shape = llvm::to_vector(ranked.getShape());
  shape.erase(shape.begin() + axis);
  return tensorOf(shape, ranked.getElementType());
}

/// Number of time steps: the merged size of `axis` over the sequences.
static int64_t timeSteps(TypeRange sequences, int64_t axis) {
  int64_t steps = kDynamic;
  for (Type t : sequences)
    if (auto ranked = t.dyn_cast<RankedTensorType>())
      if (axis >= 0 && axis < ranked.getRank())
        (void)mergeSize(steps, ranked.getDimSize(axis));
  return steps;
}

/// A state type with the time axis inserted at `axis`.
static Type stackedType(Type state, int64_t axis, int64_t steps) {
  auto ranked = state.dyn_cast<RankedTensorType>();
  if (!ranked || axis < 0 || axis > ranked.getRank())
    return unrankedOf(elementTypeOf(state));
  SmallVector<int64_t> shape = llvm::to_vector(ranked.getShape());
  shape.insert(shape.begin() + axis, steps);
  return tensorOf(shape, ranked.getElementType());
}

static SmallVector<Type> inferStackedTypes(TypeRange sequences,
                                           TypeRange inits, int64_t axis) {
  int64_t steps = timeSteps(sequences, axis);
  SmallVector<Type> types;
  for (Type init : inits)
    types.push_back(stackedType(init, axis, steps));
  return types;
}

void RecurrenceOp::build(OpBuilder &builder, OperationState &state,
                         ValueRange sequences, ValueRange inits, int64_t axis,
                         Value lengths, bool reverse) {
  state.addOperands(sequences);
  state.addOperands(inits);
  if (lengths)
    state.addOperands(lengths);
  state.addAttribute(getOperandSegmentSizeAttr(),
                     builder.getI32VectorAttr(
                         {static_cast<int32_t>(sequences.size()),
                          static_cast<int32_t>(inits.size()),
                          lengths ? 1 : 0}));
  state.addAttribute(getAxisAttrName(state.name),
                     builder.getI64IntegerAttr(axis));
  if (reverse)
    state.addAttribute(getReverseAttrName(state.name), builder.getUnitAttr());
  state.addTypes(inferStackedTypes(TypeRange(sequences), TypeRange(inits),
                                   axis));

  Block *body = new Block();
  state.addRegion()->push_back(body);
  for (Value sequence : sequences)
    body->addArgument(stepType(sequence.getType(), axis), state.location);
  for (Value init : inits)
    body->addArgument(init.getType(), state.location);
}

SmallVector<Type> RecurrenceOp::inferBodyArgumentTypes() {
  SmallVector<Type> types;
  for (Value sequence : getSequences())
    types.push_back(stepType(sequence.getType(), getAxis()));
  llvm::append_range(types, getInits().getTypes());
  return types;
}

LogicalResult RecurrenceOp::verifyOp() {
  int64_t axis = getAxis();
  size_t numSequences = getSequences().size(), numStates = getInits().size();
  if (numSequences == 0)
    return emitOpError() << "needs at least one sequence";
  if (numStates == 0)
    return emitOpError() << "needs at least one carried state (init)";
  if (getLengths() && axis == 0)
    return emitOpError() << "with lengths the time axis cannot be axis 0, "
                            "the batch";

  int64_t steps = kDynamic;
  for (auto it : llvm::enumerate(getSequences().getTypes())) {
    auto ranked = it.value().dyn_cast<RankedTensorType>();
    if (!ranked)
      continue;
    if (axis < 0 || axis >= ranked.getRank())
      return emitOpError() << "axis " << axis
                           << " is out of range for sequence #" << it.index()
                           << " of rank " << ranked.getRank();
    if (!mergeSize(steps, ranked.getDimSize(axis)))
      return emitOpError() << "sequence #" << it.index() << " has "
                           << ranked.getDimSize(axis)
                           << " steps but an earlier sequence has " << steps;
  }
  for (auto it : llvm::enumerate(getInits().getTypes()))
    if (auto ranked = it.value().dyn_cast<RankedTensorType>())
      if (axis < 0 || axis > ranked.getRank())
        return emitOpError() << "cannot insert the time axis at " << axis
                             << " into state #" << it.index() << " of rank "
                             << ranked.getRank();
  if (getNumResults() != numStates)
    return emitOpError() << "has " << getNumResults() << " results for "
                         << numStates << " carried states";

  Block &body = getBody().front();
  SmallVector<Type> expected = inferBodyArgumentTypes();
  if (body.getNumArguments() != expected.size())
    return emitOpError() << "body has " << body.getNumArguments()
                         << " arguments but needs " << expected.size() << " ("
                         << numSequences << " step slices, then " << numStates
                         << " states)";
  for (auto it : llvm::enumerate(body.getArgumentTypes())) {
    if (refineType(it.value(), expected[it.index()]))
      continue;
    bool isStep = it.index() < numSequences;
    return emitOpError() << "body argument #" << it.index() << " has type "
                         << it.value() << " but "
                         << (isStep ? "the step slice of sequence #"
                                    : "carried state #")
                         << (isStep ? it.index() : it.index() - numSequences)
                         << " has type " << expected[it.index()];
  }

  auto yield = body.empty() ? YieldOp() : dyn_cast<YieldOp>(body.back());
  if (!yield)
    return emitOpError() << "body must end with attn.yield";
  if (yield.getValues().size() != numStates)
    return emitOpError() << "body yields " << yield.getValues().size()
                         << " values for " << numStates << " carried states";
  for (auto it : llvm::enumerate(yield.getValues().getTypes())) {
    Type state = getInits()[it.index()].getType();
    if (!refineType(it.value(), state))
      return emitOpError() << "yielded value #" << it.index() << " has type "
                           << it.value() << " but carried state #"
                           << it.index() << " has type " << state;
  }
  return verifyInferredResultTypes(getOperation());
}

void RecurrenceOp::inferResultTypes(SmallVectorImpl<Type> &inferred) {
  llvm::append_range(inferred,
                     inferStackedTypes(getSequences().getTypes(),
                                       getInits().getTypes(), getAxis()));
}

LogicalResult RecurrenceOp::inferShapes() {
  Block &body = getBody().front();
  SmallVector<Type> expected = inferBodyArgumentTypes();
  for (auto it : llvm::zip(body.getArguments(), expected)) {
    BlockArgument arg = std::get<0>(it);
    Type refined = refineType(arg.getType(), std::get<1>(it));
    if (!refined)
      return emitOpError() << "body argument #" << arg.getArgNumber()
                           << " of type " << arg.getType()
                           << " contradicts the type inferred from the "
                              "operands, "
                           << std::get<1>(it);
    arg.setType(refined);
  }
  return refineResultTypes(getOperation());
}
