//===- OpHelpers.cpp - Shape helpers shared by the op files ---------------===//

#include "OpHelpers.h"

#include "llvm/ADT/STLExtras.h"

namespace mlir {
namespace attn {
namespace detail {

std::string sizeStr(int64_t size) {
  return size == kDynamic ? "?" : std::to_string(size);
}

bool mergeSize(int64_t &into, int64_t size) {
  if (size == kDynamic)
    return true;
  if (into == kDynamic) {
    into = size;
    return true;
  }
  return into == size;
}

SmallVector<int64_t> mergeShapes(ArrayRef<int64_t> a,
                                         ArrayRef<int64_t> b) {
  SmallVector<int64_t> merged(a.begin(), a.end());
  for (auto it : llvm::enumerate(b))
    if (it.index() < merged.size())
      (void)mergeSize(merged[it.index()], it.value());
  return merged;
}

LogicalResult verifyAxis(Operation *op, StringRef name, int64_t axis,
                                 int64_t rank) {
  if (axis < 0 || axis >= rank)
    return op->emitOpError() << name << " " << axis
                             << " is out of range for rank " << rank;
  return success();
}

Optional<EinsumSpec> parseSpec(Operation *op, StringRef spec) {
  std::string error;
  Optional<EinsumSpec> parsed = EinsumSpec::parse(spec, &error);
  if (!parsed)
    op->emitOpError() << error;
  return parsed;
}

LogicalResult verifyEinsumOperands(Operation *op,
                                           const EinsumSpec &spec,
                                           TypeRange operandTypes) {
  if (spec.inputs.size() != operandTypes.size())
    return op->emitOpError()
           << "spec '" << spec.str() << "' has " << spec.inputs.size()
           << " input terms for " << operandTypes.size() << " operands";
  // First static size seen for each letter, and which operand gave it.
  int64_t sizes[26];
  unsigned from[26];
  std::fill(std::begin(sizes), std::end(sizes), kDynamic);
  for (auto it : llvm::enumerate(operandTypes)) {
    const std::string &term = spec.inputs[it.index()];
    auto ranked = it.value().dyn_cast<RankedTensorType>();
    if (!ranked)
      continue;
    if (ranked.getRank() != static_cast<int64_t>(term.size()))
      return op->emitOpError()
             << "spec term '" << term << "' has " << term.size()
             << " letters but operand #" << it.index() << " has rank "
             << ranked.getRank();
    for (auto dim : llvm::enumerate(ranked.getShape())) {
      int letter = term[dim.index()] - 'a';
      int64_t size = dim.value();
      if (size == kDynamic)
        continue;
      if (sizes[letter] == kDynamic) {
        sizes[letter] = size;
        from[letter] = it.index();
      } else if (sizes[letter] != size) {
        return op->emitOpError()
               << "letter '" << term[dim.index()] << "' has size "
               << sizes[letter] << " in operand #" << from[letter]
               << " but size " << size << " in operand #" << it.index();
      }
    }
  }
  return success();
}

Type inferEinsumResult(const EinsumSpec &spec, TypeRange operandTypes,
                               Type elementType) {
  int64_t sizes[26];
  std::fill(std::begin(sizes), std::end(sizes), kDynamic);
  for (auto it : llvm::enumerate(operandTypes)) {
    if (it.index() >= spec.inputs.size())
      break;
    const std::string &term = spec.inputs[it.index()];
    auto ranked = it.value().dyn_cast<RankedTensorType>();
    if (!ranked || ranked.getRank() != static_cast<int64_t>(term.size()))
      continue;
    for (auto dim : llvm::enumerate(ranked.getShape()))
      (void)mergeSize(sizes[term[dim.index()] - 'a'], dim.value());
  }
  SmallVector<int64_t> shape;
  for (char c : spec.result)
    shape.push_back(sizes[c - 'a']);
  return tensorOf(shape, elementType);
}

LogicalResult verifyPositionMask(Operation *op, Type xType,
                                         int64_t axis, Value lengths,
                                         Optional<PositionRel> rel,
                                         Optional<uint64_t> relAxis) {
  if (lengths && axis == 0)
    return op->emitOpError()
           << "cannot mask axis 0 with lengths: axis 0 is the batch";
  if (rel.hasValue() != relAxis.hasValue())
    return op->emitOpError() << "'rel' and 'rel_axis' must be given together";
  if (relAxis && static_cast<int64_t>(*relAxis) == axis)
    return op->emitOpError()
           << "rel_axis " << *relAxis << " must differ from axis " << axis;
  auto ranked = xType.dyn_cast<RankedTensorType>();
  if (!ranked)
    return success();
  if (failed(verifyAxis(op, "axis", axis, ranked.getRank())))
    return failure();
  if (relAxis && failed(verifyAxis(op, "rel_axis", *relAxis,
                                   ranked.getRank())))
    return failure();
  return success();
}

} // namespace detail
} // namespace attn
} // namespace mlir
