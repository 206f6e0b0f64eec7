//===- MLIRGen.h - Typed program to the attn dialect ------------*- C++ -*-===//
//
// Emits one builtin.func per model entry point. The forward function of model
// `m` is `@m_forward`; its arguments are, in order, the inputs, one lengths
// vector per run-time dim, then the parameters; its results are the outputs.
// Argument and result attributes record what the code generator and the
// generated C++ header need to know:
//   attn.role  = "input" | "lengths" | "param"
//   attn.name  = the name in the .attn file
//   attn.dims  = one name per axis: "B" (the batch), a dim name, or a size
//   attn.init, attn.init_args (parameters): the initialiser
//
//===----------------------------------------------------------------------===//
#pragma once

#include "attn/Sema/Program.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

namespace attn {

mlir::OwningOpRef<mlir::ModuleOp> generateMLIR(mlir::MLIRContext &context,
                                                const sema::Program &program);

/// Name of the batch axis in attn.dims attributes.
inline constexpr const char *kBatchDimName = "B";
/// The batch of a decoder's memory (source sentences) in its step function,
/// whose own batch `B` is the hypotheses.
inline constexpr const char *kMemoryBatchDimName = "M";

} // namespace attn
