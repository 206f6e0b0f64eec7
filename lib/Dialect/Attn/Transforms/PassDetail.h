//===- PassDetail.h - ODS-generated pass base classes -----------*- C++ -*-===//

#ifndef LIB_DIALECT_ATTN_TRANSFORMS_PASSDETAIL_H
#define LIB_DIALECT_ATTN_TRANSFORMS_PASSDETAIL_H

#include "attn/Dialect/Attn/AttnDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
namespace attn {

#define GEN_PASS_CLASSES
#include "attn/Dialect/Attn/Passes.h.inc"

} // namespace attn
} // namespace mlir

#endif // LIB_DIALECT_ATTN_TRANSFORMS_PASSDETAIL_H
