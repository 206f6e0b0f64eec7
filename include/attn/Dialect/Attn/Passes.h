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
/// attn-differentiate (on builtin.module): full backpropagation through time,
/// or truncated to chunks of `truncate` steps (0: full).
std::unique_ptr<Pass> createDifferentiatePass();
std::unique_ptr<Pass> createDifferentiatePass(int64_t truncate);
/// attn-raise (on any op).
std::unique_ptr<Pass> createRaisePass();
/// attn-fuse-attention (on any op).
std::unique_ptr<Pass> createFuseAttentionPass();

/// Choices of the default pipeline.
struct PipelineOptions {
  int64_t truncateBPTT = 0; ///< attn-differentiate's truncate option
  bool raiseAndFuse = true;  ///< false: no attn-raise, no attn-fuse-attention
};

/// The default attn pipeline, for a pass manager on builtin.module:
/// shape inference, canonicalize, differentiate, shape inference,
/// canonicalize, raise, fuse attention, canonicalize (the last three only
/// with options.raiseAndFuse).
void buildDefaultPipeline(OpPassManager &pm, const PipelineOptions &options = {});

/// Registers `attn-default-pipeline` (buildDefaultPipeline) for -pass-pipeline
/// and the command line of attn-opt.
void registerAttnPipelines();

#define GEN_PASS_REGISTRATION
#include "attn/Dialect/Attn/Passes.h.inc"

} // namespace attn
} // namespace mlir

#endif // ATTN_DIALECT_ATTN_PASSES_H
