//===- DimNames.cpp - Which size each axis of each value has --------------===//
//
// The generated host code allocates the tensors that pass between kernels
// (the inputs and results of a recurrence), so it must know each axis' size
// at run time. Static sizes are in the types; every dynamic axis is a copy of
// a function argument's axis (the batch "B" or a run-time dim such as "S"),
// which this analysis follows through the ops from the `attn.dims` attributes
// of the arguments.
//
//===----------------------------------------------------------------------===//
#include "DimNames.h"

#include "attn/Dialect/Attn/AttnOps.h"
#include "attn/Dialect/Attn/Einsum.h"

#include "mlir/Dialect/StandardOps/IR/Ops.h"

namespace attn {
namespace {

namespace attnd = mlir::attn;
using Names = std::vector<std::string>;

class Analysis {
public:
  DimNameMap names;

  void run(mlir::FuncOp func) {
    for (unsigned i = 0; i < func.getNumArguments(); ++i) {
      Names n;
      if (auto dims = func.getArgAttrOfType<mlir::ArrayAttr>(i, "attn.dims"))
        for (mlir::Attribute a : dims)
          n.push_back(a.cast<mlir::StringAttr>().getValue().str());
      set(func.getArgument(i), n);
    }
    // Pre-order: a recurrence names its block arguments before its body.
    func.walk<mlir::WalkOrder::PreOrder>(
        [&](mlir::Operation *op) { visit(op); });
  }

private:
  /// Records names, with every static axis named by its size.
  void set(mlir::Value v, Names n) {
    auto type = v.getType().dyn_cast<mlir::RankedTensorType>();
    if (!type)
      return;
    n.resize(type.getRank(), "?");
    for (int64_t i = 0; i < type.getRank(); ++i)
      if (!type.isDynamicDim(i))
        n[i] = std::to_string(type.getDimSize(i));
    names[v] = n;
  }

  Names of(mlir::Value v) {
    auto it = names.find(v);
    return it == names.end() ? Names() : it->second;
  }

  Names fromSpec(llvm::StringRef specText, mlir::ValueRange operands,
                 unsigned rank) {
    Names result(rank, "?");
    auto spec = attnd::EinsumSpec::parse(specText);
    if (!spec)
      return result;
    for (size_t k = 0; k < spec->result.size(); ++k)
      for (size_t o = 0; o < spec->inputs.size() && o < operands.size(); ++o) {
        size_t pos = spec->inputs[o].find(spec->result[k]);
        Names n = of(operands[o]);
        if (pos != std::string::npos && pos < n.size() && n[pos] != "?") {
          result[k] = n[pos];
          break;
        }
      }
    return result;
  }

  void visit(mlir::Operation *op) {
    if (op->getNumResults() == 0 && !llvm::isa<attnd::RecurrenceOp>(op))
      return;
    auto rank = [&](unsigned i = 0) {
      auto t = op->getResult(i).getType().dyn_cast<mlir::RankedTensorType>();
      return t ? static_cast<unsigned>(t.getRank()) : 0u;
    };
    mlir::Value result = op->getNumResults() ? op->getResult(0) : mlir::Value();
    if (llvm::isa<attnd::AddOp, attnd::SubOp, attnd::MulOp, attnd::DivOp,
                  attnd::MaxOp, attnd::MinOp>(op)) {
      auto spec = op->getAttrOfType<mlir::StringAttr>("spec");
      set(result, spec ? fromSpec(spec.getValue(), op->getOperands(), rank())
                       : of(op->getOperand(0)));
    } else if (auto c = llvm::dyn_cast<attnd::ContractOp>(op)) {
      set(result, fromSpec(c.getSpec(), {c.getLhs(), c.getRhs()}, rank()));
    } else if (llvm::isa<attnd::UnaryOp, attnd::AlignOp, attnd::MaskOp,
                         attnd::ConcatOp, attnd::SliceOp, attnd::ReduceGradOp,
                         attnd::PadOp, attnd::ShiftOp, attnd::CrossEntropyGradOp,
                         attnd::TruncateOp, attnd::DropoutOp>(op)) {
      set(result, of(op->getOperand(0)));
    } else if (auto u = llvm::dyn_cast<attnd::UnpickOp>(op)) {
      set(result, of(u.getLike()));
    } else if (auto p = llvm::dyn_cast<attnd::PickOp>(op)) {
      Names n = of(p.getX());
      if (p.getAxis() < n.size())
        n.erase(n.begin() + p.getAxis());
      set(result, n);
    } else if (auto ce = llvm::dyn_cast<attnd::CrossEntropyOp>(op)) {
      Names n = of(ce.getLogits());
      if (!n.empty())
        n.pop_back();
      set(result, n);
    } else if (auto sc = llvm::dyn_cast<attnd::ScatterAddOp>(op)) {
      Names x = of(sc.getX()), n{"?"}; // the rows are static
      size_t ids = sc.getIds().getType().cast<mlir::RankedTensorType>().getRank();
      for (size_t k = ids; k < x.size(); ++k)
        n.push_back(x[k]);
      set(result, n);
    } else if (auto t = llvm::dyn_cast<attnd::TransposeOp>(op)) {
      Names in = of(t.getX()), out;
      for (int64_t p : t.getPermutation())
        out.push_back(p < static_cast<int64_t>(in.size()) ? in[p] : "?");
      set(result, out);
    } else if (llvm::isa<attnd::ReshapeOp, attnd::CombineHeadsOp>(op)) {
      set(result, of(op->getOperand(0))); // leading dynamic axes are kept
    } else if (auto bb = llvm::dyn_cast<attnd::BatchBroadcastOp>(op)) {
      Names ref = of(bb.getRef());
      set(result, {ref.empty() ? "?" : ref[0]});
    } else if (auto g = llvm::dyn_cast<attnd::GatherOp>(op)) {
      set(result, of(g.getIds()));
    } else if (auto r = llvm::dyn_cast<attnd::ReduceOp>(op)) {
      Names n = of(r.getX());
      if (r.getAxis() < n.size())
        n.erase(n.begin() + r.getAxis());
      set(result, n);
    } else if (llvm::isa<attnd::ScoreOp, attnd::ContextOp, attnd::AttentionOp>(
                   op)) {
      // [N..., T, D] x [N..., S, D'] -> [N..., T, S] (score);
      // [N..., T, S] x [N..., S, E] -> [N..., T, E] (context, attention).
      Names first = of(op->getOperand(0)), second = of(op->getOperand(1));
      if (!first.empty())
        first.pop_back();
      if (llvm::isa<attnd::ScoreOp>(op) && second.size() >= 2)
        first.push_back(second[second.size() - 2]);
      else
        first.push_back("?");
      set(result, first);
    } else if (auto g = llvm::dyn_cast<attnd::AttentionGradOp>(op)) {
      set(g.getDq(), of(g.getQ()));
      set(g.getDk(), of(g.getK()));
      set(g.getDv(), of(g.getV()));
    } else if (auto rec = llvm::dyn_cast<attnd::RecurrenceOp>(op)) {
      visitRecurrence(rec);
    }
  }

  void visitRecurrence(attnd::RecurrenceOp rec) {
    int64_t axis = rec.getAxis();
    std::string time = "?";
    for (size_t k = 0; k < rec.getSequences().size(); ++k) {
      Names n = of(rec.getSequences()[k]);
      if (axis < static_cast<int64_t>(n.size())) {
        time = n[axis];
        n.erase(n.begin() + axis);
      }
      set(rec.getStepArguments()[k], n);
    }
    for (size_t k = 0; k < rec.getInits().size(); ++k) {
      Names state = of(rec.getInits()[k]);
      set(rec.getStateArguments()[k], state);
      if (axis <= static_cast<int64_t>(state.size()))
        state.insert(state.begin() + axis, time);
      set(rec->getResult(k), state);
    }
  }
};

} // namespace

DimNameMap inferDimNames(mlir::FuncOp func) {
  Analysis analysis;
  analysis.run(func);
  return std::move(analysis.names);
}

} // namespace attn
