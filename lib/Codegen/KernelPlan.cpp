//===- KernelPlan.cpp - The kernels of an entry point and their order -----===//
#include "KernelPlan.h"

#include "llvm/ADT/SetVector.h"

namespace attn {

std::vector<const KernelSpec *> ModelPlan::kernels() const {
  std::vector<const KernelSpec *> all;
  for (const RecurrencePlan &r : recurrences) {
    if (!r.feed.outputs.empty())
      all.push_back(&r.feed);
    all.push_back(&r.step);
  }
  all.push_back(&output);
  return all;
}

/// Values used inside `op`'s body but defined outside it.
static std::vector<mlir::Value> capturedValues(mlir::attn::RecurrenceOp op) {
  llvm::SetVector<mlir::Value> captured;
  op.getBody().walk([&](mlir::Operation *inner) {
    for (mlir::Value v : inner->getOperands())
      if (!op.getBody().isAncestor(v.getParentRegion()))
        captured.insert(v);
  });
  return {captured.begin(), captured.end()};
}

ModelPlan planModel(mlir::FuncOp func) {
  ModelPlan plan;
  plan.func = func;
  std::string base = func.getName().str();
  // Available to every kernel: the arguments, then recurrence results.
  std::vector<mlir::Value> available(func.getArguments().begin(),
                                     func.getArguments().end());
  auto isAvailable = [&](mlir::Value v) {
    return std::find(available.begin(), available.end(), v) != available.end();
  };
  unsigned index = 0;
  func.getBody().front().walk([&](mlir::attn::RecurrenceOp op) {
    RecurrencePlan r;
    r.op = op;
    r.captured = capturedValues(op);
    std::string suffix = std::to_string(index++);
    r.feed.name = base + "_feed" + suffix;
    r.feed.func = func;
    r.feed.inputs = available;
    llvm::SetVector<mlir::Value> needs;
    for (mlir::Value v : op.getSequences())
      needs.insert(v);
    for (mlir::Value v : op.getInits())
      needs.insert(v);
    for (mlir::Value v : r.captured)
      needs.insert(v);
    for (mlir::Value v : needs)
      if (!isAvailable(v))
        r.feed.outputs.push_back(v);
    r.step.name = base + "_step" + suffix;
    r.step.func = func;
    r.step.step = op;
    r.step.inputs.assign(op.getBodyBlock()->args_begin(),
                         op.getBodyBlock()->args_end());
    r.step.inputs.insert(r.step.inputs.end(), r.captured.begin(),
                         r.captured.end());
    for (mlir::Value result : op->getResults())
      available.push_back(result);
    plan.recurrences.push_back(std::move(r));
  });
  plan.output.name = base;
  plan.output.func = func;
  plan.output.inputs = available;
  auto ret = func.getBody().front().getTerminator();
  plan.output.outputs.assign(ret->getOperands().begin(),
                             ret->getOperands().end());
  for (unsigned i = 0; i < func.getNumResults(); ++i)
    if (auto name = func.getResultAttrOfType<mlir::StringAttr>(i, "attn.name"))
      plan.output.outputNames.push_back("out_" + name.getValue().str());
  return plan;
}

} // namespace attn
