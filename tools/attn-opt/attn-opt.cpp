//===- attn-opt.cpp - MLIR optimizer driver for the attn dialect ----------===//

#include "attn/Dialect/Attn/AttnDialect.h"
#include "attn/Dialect/Attn/Passes.h"

#include "mlir/Dialect/StandardOps/IR/Ops.h"
#include "mlir/IR/Dialect.h"
#include "mlir/Support/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  // std provides `return` for builtin.func bodies (MLIR 14).
  registry.insert<mlir::attn::AttnDialect, mlir::StandardOpsDialect>();

  mlir::attn::registerAttnPasses();
  mlir::attn::registerAttnPipelines();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();

  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "attn dialect optimizer driver\n", registry,
      /*preloadDialectsInContext=*/false));
}
