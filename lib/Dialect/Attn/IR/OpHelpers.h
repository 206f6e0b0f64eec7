//===- OpHelpers.h - Shape helpers shared by the op files -------*- C++ -*-===//
//
// Private to MLIRAttnDialect: shape arithmetic with dynamic sizes, and the
// checks that several ops share (axes, einsum specs, position masks).
//
//===----------------------------------------------------------------------===//

#ifndef LIB_DIALECT_ATTN_IR_OPHELPERS_H
#define LIB_DIALECT_ATTN_IR_OPHELPERS_H

#include "attn/Dialect/Attn/AttnOps.h"
#include "attn/Dialect/Attn/Einsum.h"

#include <string>

namespace mlir {
namespace attn {
namespace detail {

constexpr int64_t kDynamic = ShapedType::kDynamicSize;

/// The element type of a tensor type.
inline Type elementTypeOf(Type type) {
  return type.cast<TensorType>().getElementType();
}
inline Type unrankedOf(Type elementType) {
  return UnrankedTensorType::get(elementType);
}
inline Type tensorOf(ArrayRef<int64_t> shape, Type elementType) {
  return RankedTensorType::get(shape, elementType);
}

/// `x`'s type without axis `axis` (reductions, attn.pick); unranked if
/// `axis` is not an axis of a ranked `x`.
inline Type dropAxisType(Type x, int64_t axis) {
  auto ranked = x.dyn_cast<RankedTensorType>();
  if (!ranked || axis < 0 || axis >= ranked.getRank())
    return unrankedOf(elementTypeOf(x));
  SmallVector<int64_t> shape = llvm::to_vector(ranked.getShape());
  shape.erase(shape.begin() + axis);
  return tensorOf(shape, ranked.getElementType());
}

/// "64", or "?" for a dynamic size.
std::string sizeStr(int64_t size);

/// Folds `size` into `into` (dynamic takes the other). Returns false, leaving
/// `into` unchanged, when both are static and differ.
bool mergeSize(int64_t &into, int64_t size);

/// Merges two shapes of equal rank dimension by dimension (a conflict keeps
/// the first size: the verifier reports it).
SmallVector<int64_t> mergeShapes(ArrayRef<int64_t> a, ArrayRef<int64_t> b);

/// `axis` must lie in [0, rank).
LogicalResult verifyAxis(Operation *op, StringRef name, int64_t axis,
                         int64_t rank);

/// Checks an einsum spec against operand types: as many input terms as
/// operands, term lengths equal to ranks, static sizes of each letter agree.
LogicalResult verifyEinsumOperands(Operation *op, const EinsumSpec &spec,
                                   TypeRange operandTypes);

/// Parses the spec attribute, reporting a malformed one on `op`.
Optional<EinsumSpec> parseSpec(Operation *op, StringRef spec);

/// Result type implied by the spec and the operand types; a size no ranked
/// operand gives is dynamic.
Type inferEinsumResult(const EinsumSpec &spec, TypeRange operandTypes,
                       Type elementType);

/// The lengths / rel masks of attn.reduce and attn.align (see AttnOps.td).
LogicalResult verifyPositionMask(Operation *op, Type xType, int64_t axis,
                                 Value lengths, Optional<PositionRel> rel,
                                 Optional<uint64_t> relAxis);

} // namespace detail
} // namespace attn
} // namespace mlir

#endif // LIB_DIALECT_ATTN_IR_OPHELPERS_H
