//===- ShapeInferencePass.cpp - attn-shape-inference ----------------------===//

#include "PassDetail.h"

#include "attn/Dialect/Attn/AttnOps.h"
#include "attn/Dialect/Attn/Passes.h"

using namespace mlir;
using namespace mlir::attn;

namespace {
struct ShapeInferencePass : ShapeInferenceBase<ShapeInferencePass> {
  void runOnOperation() override {
    FuncOp func = getOperation();
    // Pre-order: an op (e.g. attn.recurrence, which types its body block
    // arguments) is refined before the ops nested in it; SSA dominance gives
    // every op refined operands.
    WalkResult walk = func.walk<WalkOrder::PreOrder>([](Operation *op) {
      auto shaped = dyn_cast<ShapeInference>(op);
      if (!shaped)
        return WalkResult::advance();
      if (failed(shaped.inferShapes()))
        return WalkResult::interrupt();
      for (Type type : op->getResultTypes())
        if (!type.cast<TensorType>().hasRank()) {
          op->emitOpError() << "cannot infer a ranked result type from the "
                               "operand types "
                            << op->getOperandTypes();
          return WalkResult::interrupt();
        }
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();

    if (func.isExternal())
      return;
    Operation *terminator = func.getBody().back().getTerminator();
    func.setType(FunctionType::get(func.getContext(), func.getArgumentTypes(),
                                   terminator->getOperandTypes()));
  }
};
} // namespace

std::unique_ptr<Pass> mlir::attn::createShapeInferencePass() {
  return std::make_unique<ShapeInferencePass>();
}
