//===- AttnInterfaces.h - Shape inference interface -------------*- C++ -*-===//

#ifndef ATTN_DIALECT_ATTN_ATTNINTERFACES_H
#define ATTN_DIALECT_ATTN_ATTNINTERFACES_H

#include "mlir/IR/OpDefinition.h"

namespace mlir {
namespace attn {

/// The most precise type that both `current` and `inferred` describe (e.g.
/// tensor<*xf32> and tensor<?x64xf32> give tensor<?x64xf32>; tensor<?x8xf32>
/// and tensor<4x?xf32> give tensor<4x8xf32>), or a null Type when they
/// contradict each other (element types, ranks or static sizes differ).
Type refineType(Type current, Type inferred);

/// Default of ShapeInference::inferShapes(): refines each result type of `op`
/// with its inferred type; emits an error and fails on a contradiction.
LogicalResult refineResultTypes(Operation *op);

/// For op verifiers: fails with an error naming both types when a result
/// type contradicts the type inferred from the operands.
LogicalResult verifyInferredResultTypes(Operation *op);

} // namespace attn
} // namespace mlir

#include "attn/Dialect/Attn/AttnInterfaces.h.inc"

#endif // ATTN_DIALECT_ATTN_ATTNINTERFACES_H
