//===- AttnOps.h - Operations of the attn dialect ---------------*- C++ -*-===//

#ifndef ATTN_DIALECT_ATTN_ATTNOPS_H
#define ATTN_DIALECT_ATTN_ATTNOPS_H

#include "attn/Dialect/Attn/AttnDialect.h"
#include "attn/Dialect/Attn/AttnInterfaces.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/Optional.h"
#include "llvm/ADT/StringRef.h"

#include "attn/Dialect/Attn/AttnEnums.h.inc"

namespace mlir {
namespace attn {

/// True for `tensor<?xi32>`, the type of every `lengths` operand.
bool isLengthsType(Type type);
RankedTensorType getLengthsType(MLIRContext *context);

} // namespace attn
} // namespace mlir

#define GET_OP_CLASSES
#include "attn/Dialect/Attn/AttnOps.h.inc"

#endif // ATTN_DIALECT_ATTN_ATTNOPS_H
