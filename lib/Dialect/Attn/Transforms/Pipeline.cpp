//===- Pipeline.cpp - The default attn pipeline ---------------------------===//

#include "attn/Dialect/Attn/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void attn::buildDefaultPipeline(OpPassManager &pm, const PipelineOptions &options) {
  pm.addNestedPass<FuncOp>(createShapeInferencePass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createDifferentiatePass(options.truncateBPTT));
  pm.addNestedPass<FuncOp>(createShapeInferencePass());
  pm.addPass(createCanonicalizerPass());
  if (!options.raiseAndFuse)
    return;
  pm.addPass(createRaisePass());
  pm.addPass(createFuseAttentionPass());
  pm.addPass(createCanonicalizerPass());
}

void attn::registerAttnPipelines() {
  PassPipelineRegistration<>(
      "attn-default-pipeline",
      "attn-shape-inference, canonicalize, attn-differentiate, "
      "attn-shape-inference, canonicalize, attn-raise, attn-fuse-attention, "
      "canonicalize",
      [](OpPassManager &pm) { buildDefaultPipeline(pm); });
}
