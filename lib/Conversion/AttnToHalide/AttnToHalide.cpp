//===- AttnToHalide.cpp - attn dialect to a Halide pipeline ---------------===//
#include "attn/Conversion/AttnToHalide.h"
#include "Lowerer.h"

#include "mlir/Dialect/StandardOps/IR/Ops.h"

using namespace Halide;

namespace attn {

/// An ImageParam for a function argument. Static sizes become constraints on
/// the buffer (checked by Halide on entry, and known to the scheduler), and
/// dense strides are promised where the inner sizes are static.
static ImageParam imageParam(mlir::RankedTensorType type, const std::string &name,
                             std::vector<Expr> &extents) {
  Type elem = type.getElementType().isInteger(32) ? Int(32) : Float(32);
  int rank = static_cast<int>(type.getRank());
  ImageParam p(elem, rank, name);
  int64_t stride = 1;
  bool denseSoFar = true;
  extents.clear();
  for (int i = rank - 1; i >= 0; --i) {
    int halideDim = rank - 1 - i;
    if (denseSoFar)
      p.dim(halideDim).set_stride(static_cast<int>(stride));
    if (type.isDynamicDim(i)) {
      denseSoFar = false;
      extents.insert(extents.begin(), p.dim(halideDim).extent());
    } else {
      int size = static_cast<int>(type.getDimSize(i));
      p.dim(halideDim).set_min(0).set_extent(size);
      stride *= size;
      extents.insert(extents.begin(), Expr(size));
    }
  }
  for (int d = 0; d < rank; ++d)
    p.dim(d).set_min(0);
  return p;
}

static std::string argumentName(mlir::FuncOp func, unsigned i) {
  std::string name = "arg" + std::to_string(i);
  if (auto attr = func.getArgAttrOfType<mlir::StringAttr>(i, "attn.name")) {
    std::string role;
    if (auto r = func.getArgAttrOfType<mlir::StringAttr>(i, "attn.role"))
      role = r.getValue().str();
    name = attr.getValue().str() + (role == "lengths" ? "_lengths" : "");
  }
  return name;
}

bool lowerToHalide(mlir::FuncOp func, const Target &target,
                   LoweredFunction &out, std::string &error) {
  Lowerer lowerer(target);
  out.name = func.getName().str();
  for (unsigned i = 0; i < func.getNumArguments(); ++i) {
    auto type = func.getArgument(i).getType().dyn_cast<mlir::RankedTensorType>();
    if (!type) {
      error = "argument " + std::to_string(i) + " of '" + out.name +
              "' is not a ranked tensor";
      return false;
    }
    HalideTensor t;
    ImageParam p = imageParam(type, argumentName(func, i), t.extents);
    AxisVars axes(t.rank());
    t.func = Func(p.name() + "_in");
    t.func(axes.halideOrder()) = p(axes.halideOrder());
    out.params.push_back(p);
    lowerer.bind(func.getArgument(i), t);
  }
  for (mlir::Operation &op : func.getBody().front()) {
    if (auto ret = llvm::dyn_cast<mlir::ReturnOp>(op)) {
      for (unsigned i = 0; i < ret.getNumOperands(); ++i) {
        const HalideTensor &value = lowerer.get(ret.getOperand(i));
        std::string name = "out" + std::to_string(i);
        if (auto attr = func.getResultAttrOfType<mlir::StringAttr>(i, "attn.name"))
          name = "out_" + attr.getValue().str();
        Func result(name);
        AxisVars axes(value.rank());
        result(axes.halideOrder()) = value.at(axes.exprs());
        out.outputs.push_back(result);
      }
      break;
    }
    if (!lowerer.lower(&op, error))
      return false;
  }
  lowerer.schedule(out.outputs);
  return true;
}

} // namespace attn
