//===- LowerContract.cpp - attn.contract as register-blocked tiles --------===//
//
// An einsum `lhs, rhs -> result` becomes an accumulator Func (0, then += over
// an RDom of the summed letters) and a copy Func that consumers read. The
// schedule (Schedule.cpp) computes the accumulator per output tile so the
// tile stays in registers while the reduction runs. Two choices are made
// here, from the spec alone:
//  - the tile's rows: an output letter that only the operand *not* read along
//    the innermost letter has, so every vector loaded is reused by each row;
//  - panels: the operand read along the innermost letter (typically a weight
//    matrix [K][N] with a long row stride, or [N][K] read transposed) is
//    repacked as [N/P][K][P], so the
//    reduction walks it densely instead of jumping a row per step (a 2048-wide
//    weight puts 8 KiB between rows: cache-set conflicts, PERFORMANCE.md #4).
//    Where the panels are packed depends on how often the kernel runs: once
//    per call, at the root, normally; but a contraction in a recurrence step
//    whose panel operand is loop-invariant (h @ U with a captured weight U)
//    runs once per time step, and its rows are one step of the batch, so it
//    packs each panel inside the parallel loop over panels, right before the
//    rows use it from L2 (the schedule: Schedule.cpp, scheduleStepContractCPU).
//    Such panels are not recorded as a stage of their own, and the other
//    operand is read through a dense copy ("_rows", below).
//
//===----------------------------------------------------------------------===//
#include "Lowerer.h"

#include "attn/Dialect/Attn/Einsum.h"

using namespace Halide;
namespace attnd = mlir::attn;

namespace attn {
namespace {

constexpr int kLanes = 16;

struct ContractPlan {
  int rowAxis = -1;    // result axis (MLIR order) of the tile rows
  int vectorSide = -1; // operand read along the innermost result letter
  int panel = 0;       // panel width for that operand, 0: not repacked
};

/// One summed letter, the innermost of every operand that has it and at
/// least 16 long, while some operand holds the innermost result letter at
/// another axis (vectorising the result would gather along that operand).
bool dotAlongSummed(const std::string &lhs, const std::string &rhs,
                    const std::string &result, std::map<char, Expr> &extents) {
  mlir::attn::EinsumSpec spec{{lhs, rhs}, result};
  std::string summed = spec.summedLetters();
  if (summed.size() != 1 || result.empty())
    return false;
  char s = summed[0], inner = result.back();
  const int64_t *size = as_const_int(extents[s]);
  if (!size || *size < 16)
    return false;
  bool strided = false;
  for (const std::string *term : {&lhs, &rhs}) {
    if (term->find(s) != std::string::npos && term->back() != s)
      return false;
    if (term->find(inner) != std::string::npos)
      strided = true;
  }
  return strided;
}

ContractPlan plan(const std::string &lhs, const std::string &rhs,
                  const std::string &result, std::map<char, Expr> &extents) {
  ContractPlan p;
  if (result.empty())
    return p;
  char inner = result.back();
  bool inLhs = lhs.find(inner) != std::string::npos;
  bool inRhs = rhs.find(inner) != std::string::npos;
  if (inLhs == inRhs)
    return p;
  p.vectorSide = inLhs ? 0 : 1;
  const std::string &vectorTerm = inLhs ? lhs : rhs;
  const std::string &rowTerm = inLhs ? rhs : lhs;
  for (int i = static_cast<int>(result.size()) - 2; i >= 0; --i)
    if (rowTerm.find(result[i]) != std::string::npos &&
        vectorTerm.find(result[i]) == std::string::npos) {
      p.rowAxis = i;
      break;
    }
  const int64_t *n = as_const_int(extents[inner]);
  if (p.rowAxis >= 0 && n && *n % kLanes == 0)
    p.panel = *n % (2 * kLanes) == 0 ? 2 * kLanes : kLanes;
  return p;
}

/// Whether `op` is in the body of an attn.recurrence (a step kernel) and
/// `operand` is defined outside it (the same in every step: a weight).
bool stepInvariant(mlir::Operation *op, mlir::Value operand) {
  auto recurrence = op->getParentOfType<attnd::RecurrenceOp>();
  if (!recurrence)
    return false;
  mlir::Operation *owner = operand.getParentBlock()->getParentOp();
  return !recurrence->isAncestor(owner);
}

} // namespace

void Lowerer::materializeIfReused(mlir::Value operand, const std::string &term,
                                  const std::string &result) {
  auto it = values.find(operand);
  mlir::Operation *def = operand.getDefiningOp();
  if (it == values.end() || it->second.role != StageRole::Inline || !def ||
      !llvm::isa<attnd::AddOp, attnd::SubOp, attnd::MulOp, attnd::DivOp,
                 attnd::MaxOp, attnd::MinOp, attnd::UnaryOp>(def))
    return;
  bool reused = false;
  for (char c : result)
    reused |= term.find(c) == std::string::npos;
  if (reused)
    computeOnce(operand);
}

bool Lowerer::lowerContract(attnd::ContractOp op, std::string &error) {
  auto spec = attnd::EinsumSpec::parse(op.getSpec());
  const std::string &lhsTerm = spec->inputs[0], &rhsTerm = spec->inputs[1];
  const std::string &result = spec->result;
  // An element-wise operand read once per value of a result axis it lacks
  // (a GRU's new state in s' @ Wo: once per output column) is computed once
  // rather than inlined and recomputed at every read.
  materializeIfReused(op.getLhs(), lhsTerm, result);
  materializeIfReused(op.getRhs(), rhsTerm, result);
  std::string summed = spec->summedLetters();
  auto letters = letterExtents({lhsTerm, rhsTerm}, {op.getLhs(), op.getRhs()});
  ContractPlan p = plan(lhsTerm, rhsTerm, result, letters);

  HalideTensor t;
  t.func = Func(freshName("contract"));
  for (char c : result)
    t.extents.push_back(letters[c]);
  size_t rank = result.size();
  AxisVars axes(rank);
  Region region;
  for (char c : summed)
    region.push_back(Range(0, letters[c]));
  RDom r(region, "r");

  // Index of an operand in terms of the accumulator's variables. With panels
  // the innermost result letter is split into (xi, xo).
  Var xi("xi"), xo("xo");
  char inner = rank ? result.back() : 0;
  auto index = [&](const std::string &term, bool split) {
    std::vector<Expr> idx;
    for (char c : term) {
      size_t pos = result.find(c);
      if (split && c == inner)
        idx.push_back(xo * p.panel + xi);
      else if (pos != std::string::npos)
        idx.push_back(axes.vars[pos]);
      else
        idx.push_back(r[static_cast<int>(summed.find(c))]);
    }
    return idx;
  };
  bool split = p.panel > 0;
  std::vector<Expr> lhsIdx = index(lhsTerm, split), rhsIdx = index(rhsTerm, split);
  if (auto masked = op.getMasked()) {
    if (lhsTerm.empty()) {
      error = "attn.contract with a masked letter needs a batch axis";
      return false;
    }
    r.where(r[static_cast<int>(summed.find((*masked)[0]))] <
            lengthOfRow(op.getLengths(), lhsIdx[0]));
  }

  const HalideTensor &a = get(op.getLhs()), &b = get(op.getRhs());
  Expr lhsValue = a.at(lhsIdx), rhsValue = b.at(rhsIdx);
  // Accumulator arguments (Halide order): with panels (xi, other result
  // axes innermost first, xo), else the result axes.
  std::vector<Var> accArgs = axes.halideOrder();
  if (split) {
    accArgs[0] = xi;
    accArgs.push_back(xo);
    // The packed copy of the vector-side operand: [col/P][others...][P].
    // The column letter need not be the operand's last: a transposed weight
    // (dR @ W^T in a backward pass, spec "ab,cb->ac") is packed the same way,
    // which transposes it once instead of gathering a row stride apart.
    const std::string &term = p.vectorSide == 0 ? lhsTerm : rhsTerm;
    const HalideTensor &v = p.vectorSide == 0 ? a : b;
    const int column = static_cast<int>(term.find(inner));
    AxisVars pv(term.size());
    std::vector<Var> packedArgs{xi};
    std::vector<Expr> source = pv.exprs();
    source[column] = xo * p.panel + xi;
    std::vector<Expr> packedIdx{xi};
    const std::vector<Expr> &vIdx = p.vectorSide == 0 ? lhsIdx : rhsIdx;
    for (int k = static_cast<int>(term.size()) - 1; k >= 0; --k)
      if (k != column) {
        packedArgs.push_back(pv.vars[k]);
        packedIdx.push_back(vIdx[k]);
      }
    packedArgs.push_back(xo);
    Func packed(t.func.name() + "_panels");
    packed(packedArgs) = v.at(source);
    packedIdx.push_back(xo);
    (p.vectorSide == 0 ? lhsValue : rhsValue) = packed(packedIdx);
    // Packed at the root (a stage), unless in a step: see the top of the file.
    mlir::Value packedOperand = p.vectorSide == 0 ? op.getLhs() : op.getRhs();
    if (!stepInvariant(op, packedOperand)) {
      std::vector<Expr> packedExtents(v.extents);
      stages.push_back({packed, packedExtents, StageRole::Pointwise, {}});
    } else {
      // The other operand of a step contraction is the state (a strided
      // view of the results, row stride unknown at compile time) or a value
      // computed in the step: "<contraction>_rows" is a dense copy, so that
      // the rows of a tile lie at constant offsets from one pointer (with a
      // run-time stride the tile's row addresses are recomputed per
      // reduction step). Scheduled with the contraction (Schedule.cpp).
      const std::string &rowTerm = p.vectorSide == 0 ? rhsTerm : lhsTerm;
      HalideTensor rows;
      rows.func = Func(t.func.name() + "_rows");
      AxisVars rv(rowTerm.size());
      rows.func(rv.halideOrder()) = (p.vectorSide == 0 ? b : a).at(rv.exprs());
      (p.vectorSide == 0 ? rhsValue : lhsValue) =
          rows.at(p.vectorSide == 0 ? rhsIdx : lhsIdx);
    }
  }
  Func acc(t.func.name() + "_acc");
  acc(accArgs) = 0.0f;
  acc(accArgs) += lhsValue * rhsValue;
  std::vector<Expr> accIdx(accArgs.begin(), accArgs.end());
  if (split) {
    Var x = axes.vars.back();
    accIdx[0] = x % p.panel;
    accIdx.back() = x / p.panel;
  }
  t.func(axes.halideOrder()) = acc(accIdx);
  t.accumulator = acc;
  t.role = StageRole::Contract;
  t.rowAxis = p.rowAxis;
  t.panel = p.panel;
  t.dotLanes = !split && p.rowAxis < 0 && !op.getMasked() &&
               dotAlongSummed(lhsTerm, rhsTerm, result, letters);
  for (int i = 0; i < r.dimensions(); ++i)
    t.reductionVars.push_back(r[i]);
  record(op.getResult(), t);
  return true;
}

} // namespace attn
