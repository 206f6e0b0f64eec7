//===- AttnToHalide.cpp - A kernel of attn ops to a Halide pipeline -------===//
#include "attn/Conversion/AttnToHalide.h"
#include "Lowerer.h"

#include "mlir/Dialect/StandardOps/IR/Ops.h"
#include "llvm/ADT/SetVector.h"

using namespace Halide;

namespace attn {
namespace {

/// An ImageParam for an input value. Static sizes become constraints on the
/// buffer (checked by Halide on entry, and known to the scheduler), and dense
/// strides are promised where the inner sizes are static, unless the buffer
/// may be a strided view (`dense` false: the slices a recurrence step reads).
ImageParam imageParam(mlir::RankedTensorType type, const std::string &name,
                      bool dense, std::vector<Expr> &extents) {
  Type elem = type.getElementType().isInteger(32) ? Int(32) : Float(32);
  int rank = static_cast<int>(type.getRank());
  ImageParam p(elem, rank, name);
  int64_t stride = 1;
  bool denseSoFar = true;
  extents.clear();
  for (int i = rank - 1; i >= 0; --i) {
    int halideDim = rank - 1 - i;
    p.dim(halideDim).set_min(0);
    if (denseSoFar && (dense || halideDim == 0))
      p.dim(halideDim).set_stride(static_cast<int>(stride));
    if (type.isDynamicDim(i)) {
      denseSoFar = false;
      extents.insert(extents.begin(), p.dim(halideDim).extent());
    } else {
      int size = static_cast<int>(type.getDimSize(i));
      p.dim(halideDim).set_extent(size);
      stride *= size;
      extents.insert(extents.begin(), Expr(size));
    }
  }
  return p;
}

/// The ops of `block` that the outputs need, stopping at the inputs.
llvm::SetVector<mlir::Operation *> neededOps(mlir::Block &block,
                                             llvm::ArrayRef<mlir::Value> inputs,
                                             llvm::ArrayRef<mlir::Value> outputs) {
  llvm::DenseSet<mlir::Value> stop(inputs.begin(), inputs.end());
  llvm::DenseSet<mlir::Operation *> needed;
  std::vector<mlir::Value> work(outputs.begin(), outputs.end());
  while (!work.empty()) {
    mlir::Value v = work.back();
    work.pop_back();
    mlir::Operation *def = v.getDefiningOp();
    if (stop.count(v) || !def || def->getBlock() != &block ||
        !needed.insert(def).second)
      continue;
    for (mlir::Value operand : def->getOperands())
      work.push_back(operand);
  }
  llvm::SetVector<mlir::Operation *> ordered;
  for (mlir::Operation &op : block)
    if (needed.count(&op))
      ordered.insert(&op);
  return ordered;
}

} // namespace

std::string kernelInputName(const KernelSpec &spec, size_t index) {
  mlir::FuncOp func = spec.func;
  if (auto arg = spec.inputs[index].dyn_cast<mlir::BlockArgument>()) {
    if (arg.getOwner()->getParentOp() == func.getOperation()) {
      unsigned i = arg.getArgNumber();
      if (auto name = func.getArgAttrOfType<mlir::StringAttr>(i, "attn.name")) {
        auto role = func.getArgAttrOfType<mlir::StringAttr>(i, "attn.role");
        return name.getValue().str() +
               (role && role.getValue() == "lengths" ? "_lengths" : "");
      }
    }
  }
  return "in" + std::to_string(index);
}

std::string kernelOutputName(const KernelSpec &spec, size_t index) {
  if (index < spec.outputNames.size())
    return spec.outputNames[index];
  return "out" + std::to_string(index);
}

bool lowerKernel(const KernelSpec &spec, const Target &target,
                 LoweredFunction &out, std::string &error) {
  Lowerer lowerer(target);
  mlir::FuncOp func = spec.func;
  mlir::attn::RecurrenceOp recurrence = spec.step;
  out.name = spec.name;
  for (size_t i = 0; i < spec.inputs.size(); ++i) {
    mlir::Value v = spec.inputs[i];
    auto type = v.getType().dyn_cast<mlir::RankedTensorType>();
    if (!type) {
      error = "input " + std::to_string(i) + " of '" + spec.name +
              "' is not a ranked tensor";
      return false;
    }
    HalideTensor t;
    bool view = recurrence && v.isa<mlir::BlockArgument>() &&
                v.cast<mlir::BlockArgument>().getOwner() ==
                    recurrence.getBodyBlock();
    ImageParam p = imageParam(type, kernelInputName(spec, i), !view, t.extents);
    AxisVars axes(t.rank());
    t.func = Func(p.name() + "_in");
    t.func(axes.halideOrder()) = p(axes.halideOrder());
    out.arguments.push_back(p);
    lowerer.bind(v, t);
  }
  Param<int32_t> step("t");
  ImageParam lengths(Int(32), 1, "lengths");
  mlir::Block &block = recurrence ? *recurrence.getBodyBlock()
                                  : func.getBody().front();
  std::vector<mlir::Value> results = spec.outputs;
  if (spec.step) {
    out.arguments.push_back(lengths);
    out.arguments.push_back(step);
    Func rowLengths("row_lengths");
    Var row("row");
    rowLengths(row) = lengths(clamp(row, 0, lengths.dim(0).extent() - 1));
    lowerer.setStep(step, rowLengths, recurrence.getReverse());
    auto yield = llvm::cast<mlir::attn::YieldOp>(block.getTerminator());
    results.assign(yield.getValues().begin(), yield.getValues().end());
  }
  for (mlir::Operation *op : neededOps(block, spec.inputs, results)) {
    if (llvm::isa<mlir::attn::RecurrenceOp>(op)) {
      error = "internal: a recurrence inside kernel '" + spec.name + "'";
      return false;
    }
    if (!lowerer.lower(op, error))
      return false;
  }
  for (size_t i = 0; i < results.size(); ++i) {
    const HalideTensor &value = lowerer.get(results[i]);
    Func result(kernelOutputName(spec, i));
    AxisVars axes(value.rank());
    Expr computed = value.at(axes.exprs());
    if (spec.step) {
      // Padding: a row past its length keeps its state.
      const HalideTensor &previous =
          lowerer.get(recurrence.getStateArguments()[i]);
      computed = select(step < lengths(axes.vars[0]), computed,
                        previous.at(axes.exprs()));
    }
    result(axes.halideOrder()) = computed;
    out.outputs.push_back(result);
  }
  lowerer.schedule(out.outputs);
  return true;
}

} // namespace attn
