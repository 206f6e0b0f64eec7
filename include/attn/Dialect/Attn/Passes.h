//===- Passes.h - Passes and pipelines of the attn dialect ------*- C++ -*-===//

#ifndef ATTN_DIALECT_ATTN_PASSES_H
#define ATTN_DIALECT_ATTN_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include <memory>

namespace mlir {
class OpPassManager;
namespace attn {

/// attn-shape-inference (on builtin.func).
std::unique_ptr<Pass> createShapeInferencePass();
/// attn-raise (on any op).
std::unique_ptr<Pass> createDifferentiatePass();
std::unique_ptr<Pass> createRaisePass();
/// attn-fuse-attention (on any op).
std::unique_ptr<Pass> createFuseAttentionPass();

/// The default attn pipeline, for a pass manager on builtin.module:
/// shape inference, canonicalize, raise, fuse attention, canonicalize.
void buildDefaultPipeline(OpPassManager &pm);

/// Registers `attn-default-pipeline` (buildDefaultPipeline) for -pass-pipeline
/// and the command line of attn-opt.
void registerAttnPipelines();

#define GEN_PASS_REGISTRATION
#include "attn/Dialect/Attn/Passes.h.inc"

} // namespace attn
} // namespace mlir

#endif // ATTN_DIALECT_ATTN_PASSES_H
