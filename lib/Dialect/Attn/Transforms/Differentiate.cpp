//===- Differentiate.cpp - attn-differentiate: reverse-mode gradients -----===//
//
// For every function with `attn.entry = "loss"` (per-example losses [B]),
// adds `<model>_grad`: the same computation followed by its adjoint, seeded
// with `d_loss` [B], returning the losses, the gradient of every parameter
// and of every float input (for adversarial examples).
//
// The adjoint of each op is written with ops of the dialect, mostly as
// einsum *contributions* (Contribution below): `d_A += sum(dR * B)` is a
// contraction of the result's adjoint with the other operand, `d_b += dR`
// summed over the axes b was broadcast along. A recurrence's adjoint is a
// recurrence running the other way (backpropagation through time): its step
// propagates the step's adjoints, reading the values of the forward step
// they need from the forward loop, which stacks them as extra results (the
// state each step read comes from attn.shift of the stacked states). What the
// backward step contributes to values captured from outside (weights,
// encoder outputs) is summed over time *after* the loop, as one contraction
// over batch and time of per-step pieces the loop stacks, so the loop only
// carries what truly depends on the step order: the state adjoints.
//
// Padding: rows past their length neither change a state nor contribute,
// forward or backward; their stacked pieces are masked before they are
// summed.
//
//===----------------------------------------------------------------------===//

#include "PassDetail.h"

#include "attn/Dialect/Attn/AttnOps.h"
#include "attn/Dialect/Attn/Einsum.h"
#include "attn/Dialect/Attn/Passes.h"
#include "AttentionSpecs.h"

#include "mlir/Dialect/StandardOps/IR/Ops.h"
#include "mlir/IR/BlockAndValueMapping.h"
#include "mlir/IR/Builders.h"

#include "llvm/ADT/SetVector.h"

using namespace mlir;
using namespace mlir::attn;

namespace {

std::string letters(int64_t rank, char first = 'a') {
  std::string s;
  for (int64_t i = 0; i < rank; ++i)
    s += static_cast<char>(first + i);
  return s;
}

int64_t rankOf(Value v) { return v.getType().cast<RankedTensorType>().getRank(); }

/// `target += einsum(operands)`: the result term is the target's axes;
/// letters of the operands absent from it are summed. `masked` (a summed
/// letter) skips positions past `lengths`; `maskKept` (a kept letter) zeroes
/// them in the result.
struct Contribution {
  std::string spec;
  SmallVector<Value, 2> operands;
  Value lengths;
  char masked = 0;
  char maskKept = 0;
};

/// A contribution to a value captured by the recurrence whose adjoint step is
/// being built: summed over time after the loop.
struct Deferred {
  Value target;
  Contribution contribution;
};

/// A copy of the forward loop `op` that also yields the step values `extra`
/// (.first) as states, stacked after op's; op's results are replaced by the
/// copy's first ones.
RecurrenceOp addStackedValues(OpBuilder &b, RecurrenceOp op,
                              ArrayRef<std::pair<Value, Value>> extra) {
  Location loc = op.getLoc();
  Block *step = op.getBodyBlock();
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(op);
  // Initial values of the stored states' types: the step at t = 0 (never
  // read: each step overwrites them).
  const int64_t axis = op.getAxis();
  size_t numSeq = op.getSequences().size(), numStates = op.getInits().size();
  BlockAndValueMapping first;
  for (size_t i = 0; i < numSeq; ++i)
    first.map(op.getStepArguments()[i],
              b.create<PickOp>(loc, op.getSequences()[i], axis, false, Value()));
  for (size_t k = 0; k < numStates; ++k)
    first.map(op.getStateArguments()[k], op.getInits()[k]);
  for (Operation &o : step->without_terminator())
    b.clone(o, first);
  SmallVector<Value, 8> inits(op.getInits().begin(), op.getInits().end());
  for (auto &[value, copy] : extra)
    inits.push_back(first.lookup(value));

  auto recording = b.create<RecurrenceOp>(loc, op.getSequences(), inits, axis,
                                          op.getLengths(), op.getReverse());
  Block *newStep = recording.getBodyBlock();
  BlockAndValueMapping moved;
  for (size_t i = 0; i < step->getNumArguments(); ++i)
    moved.map(step->getArgument(i), newStep->getArgument(i));
  b.setInsertionPointToEnd(newStep);
  for (Operation &o : step->without_terminator())
    b.clone(o, moved);
  SmallVector<Value, 8> yields;
  for (Value v : cast<YieldOp>(step->getTerminator()).getValues())
    yields.push_back(moved.lookupOrDefault(v));
  for (auto &[value, copy] : extra)
    yields.push_back(moved.lookup(value));
  b.create<YieldOp>(loc, yields);
  for (size_t k = 0; k < numStates; ++k)
    op.getResult(k).replaceAllUsesWith(recording.getResult(k));
  return recording;
}

/// Makes the forward loop `op` also stack, per step, the values of its step
/// that the backward step reads (the clones in `recomputed`, in the order of
/// op's step, that an adjoint op uses or that are in `liveOut`: values the
/// caller reads after this, such as the operands of deferred sums), so that
/// the backward step reads them as sequences instead of recomputing them.
/// Each stored clone is replaced by a new argument of the backward step
/// `body` (recorded in `replaced`) whose sequence is appended to `sequences`;
/// dead clones are erased. Returns the forward loop that now provides op's
/// results: a copy with more states, or op itself; the caller erases op if
/// it was copied.
RecurrenceOp recordStepValues(OpBuilder &b, RecurrenceOp op, ArrayRef<Operation *> recomputed,
                              const DenseSet<Value> &liveOut, Block *body,
                              SmallVectorImpl<Value> &sequences,
                              DenseMap<Value, Value> &replaced) {
  Block *step = op.getBodyBlock();
  // Values of the step that vary with it (an invariant one has no batch axis
  // to stack along).
  DenseSet<Value> varying(step->getArguments().begin(), step->getArguments().end());
  llvm::SmallPtrSet<Operation *, 32> clones(recomputed.begin(), recomputed.end());
  SmallVector<std::pair<Value, Value>, 8> stored; // (forward value, clone)
  size_t index = 0;
  for (Operation &o : step->without_terminator()) {
    Operation *clone = recomputed[index++];
    bool varies = llvm::any_of(o.getOperands(), [&](Value v) { return varying.count(v); });
    if (!varies)
      continue;
    for (auto [value, copy] : llvm::zip(o.getResults(), clone->getResults())) {
      varying.insert(value);
      auto ranked = copy.getType().dyn_cast<RankedTensorType>();
      if (ranked && ranked.getRank() >= 1 &&
          (liveOut.count(copy) ||
           llvm::any_of(copy.getUsers(), [&](Operation *u) { return !clones.count(u); })))
        stored.push_back({value, copy});
    }
  }
  if (stored.empty())
    return op;
  // A stored value that the step yields as a state is stacked already.
  auto yielded = cast<YieldOp>(step->getTerminator()).getValues();
  auto stateOf = [&](Value v) -> int {
    for (size_t k = 0; k < yielded.size(); ++k)
      if (yielded[k] == v)
        return static_cast<int>(k);
    return -1;
  };
  SmallVector<std::pair<Value, Value>, 8> extra; // stored values that are no state
  for (auto &entry : stored)
    if (stateOf(entry.first) < 0)
      extra.push_back(entry);

  size_t numStates = op.getInits().size();
  RecurrenceOp recording = extra.empty() ? op : addStackedValues(b, op, extra);

  for (size_t j = 0, e = 0; j < stored.size(); ++j) {
    auto [value, copy] = stored[j];
    int state = stateOf(value);
    Value arg = body->insertArgument(static_cast<unsigned>(sequences.size()), copy.getType(),
                                     copy.getLoc());
    sequences.push_back(recording.getResult(state >= 0 ? static_cast<unsigned>(state)
                                                       : numStates + e++));
    copy.replaceAllUsesWith(arg);
    replaced[copy] = arg;
  }
  for (Operation *o : llvm::reverse(recomputed))
    if (o->use_empty())
      o->erase();
  return recording;
}

class Differentiator {
public:
  Differentiator(OpBuilder &builder) : b(builder) {}

  /// Propagates adjoints backwards through `ops` (in program order). Values
  /// outside `scope` (when set) receive deferred contributions.
  LogicalResult run(ArrayRef<Operation *> ops) {
    for (Operation *op : llvm::reverse(ops)) {
      bool any = false;
      for (Value r : op->getResults())
        any |= adj.count(r) != 0;
      if (!any)
        continue;
      if (failed(rule(op)))
        return failure();
    }
    return success();
  }

  Value adjoint(Value v) const {
    auto it = adj.find(v);
    return it == adj.end() ? Value() : it->second;
  }
  void seed(Value v, Value d) { accumulate(v, d); }

  Region *scope = nullptr;        // the backward step being built, if any
  int64_t truncate = 0;           // truncated BPTT: chunks of this many steps
  std::vector<Deferred> deferred; // contributions to values outside it
  /// Values that depend on a differentiated argument (outside `scope`):
  /// only they receive adjoints.
  const DenseSet<Value> *active = nullptr;

private:
  OpBuilder &b;
  DenseMap<Value, Value> adj;

  bool local(Value v) const {
    return !scope || scope->isAncestor(v.getParentRegion());
  }

  void accumulate(Value target, Value d) {
    auto it = adj.find(target);
    if (it == adj.end()) {
      adj[target] = d;
      return;
    }
    std::string t = letters(rankOf(d));
    it->second = b.create<AddOp>(d.getLoc(), it->second, d,
                                 it->second.getType() == d.getType()
                                     ? std::string()
                                     : t + "," + t + "->" + t);
  }

  void contribute(Value target, Contribution c) {
    if (!target.getType().cast<TensorType>().getElementType().isF32())
      return; // token ids have no gradient
    if (target.getDefiningOp<attn::ConstantOp>())
      return;
    if (!local(target) || !scope)
      if (active && !active->count(target))
        return; // depends on no differentiated argument
    if (!local(target)) {
      deferred.push_back({target, std::move(c)});
      return;
    }
    accumulate(target, materialize(b, c, target.getLoc()));
  }
  void contributeValue(Value target, Value d) {
    std::string t = letters(rankOf(d));
    contribute(target, {t + "->" + t, {d}});
  }

public:
  /// The value of a contribution, built with `builder`.
  static Value materialize(OpBuilder &builder, const Contribution &c, Location loc) {
    EinsumSpec spec = *EinsumSpec::parse(c.spec);
    Value v;
    if (c.operands.size() == 2) {
      Value lhs = c.operands[0], rhs = c.operands[1];
      std::string lt = spec.inputs[0], rt = spec.inputs[1];
      if (c.masked && lt.find(c.masked) == std::string::npos) {
        std::swap(lhs, rhs);
        std::swap(lt, rt);
      }
      std::string terms = lt + "," + rt + "->" + spec.result;
      if (spec.summedLetters().empty()) {
        // Nothing summed (e.g. the adjoint of an element-wise product): an
        // element-wise product, fused into its consumers, not a contraction.
        bool same = lt == spec.result && rt == spec.result;
        v = builder.create<MulOp>(loc, lhs, rhs, same ? StringRef() : StringRef(terms));
      } else {
        v = builder.create<ContractOp>(loc, lhs, rhs, terms, c.masked ? c.lengths : Value(),
                                       c.masked ? StringRef(&c.masked, 1) : StringRef());
      }
    } else {
      v = sumTo(builder, c.operands[0], spec.inputs[0], spec.result, c.lengths,
                c.masked, loc);
    }
    if (c.maskKept)
      v = builder.create<MaskOp>(loc, v, c.lengths,
                                 static_cast<int64_t>(spec.result.find(c.maskKept)));
    return v;
  }

  /// `v` (axes `from`) summed over the letters absent from `to`, then
  /// transposed into `to`'s order.
  static Value sumTo(OpBuilder &builder, Value v, std::string from,
                     const std::string &to, Value lengths, char masked,
                     Location loc) {
    for (int64_t i = static_cast<int64_t>(from.size()) - 1; i >= 0; --i) {
      if (to.find(from[i]) != std::string::npos)
        continue;
      bool mask = masked && from[i] == masked;
      v = builder.create<ReduceOp>(loc, ReduceKind::sum, v, i,
                                   mask ? lengths : Value());
      from.erase(i, 1);
    }
    if (from == to)
      return v;
    SmallVector<int64_t, 6> perm;
    for (char c : to)
      perm.push_back(static_cast<int64_t>(from.find(c)));
    return builder.create<TransposeOp>(loc, v, perm);
  }

  Value constant(Location loc, double value) {
    return b.create<attn::ConstantOp>(loc, value);
  }
  /// v * c for a scalar c.
  Value scale(Value v, double c) {
    std::string t = letters(rankOf(v));
    return b.create<MulOp>(v.getLoc(), v, constant(v.getLoc(), c), t + ",->" + t);
  }
  /// 1 - v.
  Value oneMinus(Value v) {
    std::string t = letters(rankOf(v));
    return b.create<SubOp>(v.getLoc(), constant(v.getLoc(), 1.0), v, "," + t + "->" + t);
  }
  Value mul(Value x, Value y) { return b.create<MulOp>(x.getLoc(), x, y); }
  Value unary(UnaryFn fn, Value x) { return b.create<UnaryOp>(x.getLoc(), fn, x); }

  /// Terms of a binary op's operands and result.
  static std::array<std::string, 3> binaryTerms(Operation *op) {
    std::string t = letters(rankOf(op->getResult(0)));
    if (auto spec = op->getAttrOfType<StringAttr>("spec")) {
      EinsumSpec s = *EinsumSpec::parse(spec.getValue());
      return {s.inputs[0], s.inputs[1], s.result};
    }
    return {t, t, t};
  }

private:
  LogicalResult rule(Operation *op);
  LogicalResult binaryRule(Operation *op, Value dR);
  LogicalResult unaryRule(UnaryOp op, Value dR);
  LogicalResult contractRule(ContractOp op, Value dR);
  bool fusedAttentionRule(ContractOp op, Value dR);
  LogicalResult alignRule(AlignOp op, Value dR);
  LogicalResult recurrenceRule(RecurrenceOp op);
};

LogicalResult Differentiator::binaryRule(Operation *op, Value dR) {
  auto [ta, tb, tr] = binaryTerms(op);
  Value A = op->getOperand(0), B = op->getOperand(1), R = op->getResult(0);
  Location loc = op->getLoc();
  if (isa<AddOp>(op)) {
    contribute(A, {tr + "->" + ta, {dR}});
    contribute(B, {tr + "->" + tb, {dR}});
  } else if (isa<SubOp>(op)) {
    contribute(A, {tr + "->" + ta, {dR}});
    contribute(B, {tr + "->" + tb, {unary(UnaryFn::neg, dR)}});
  } else if (isa<MulOp>(op)) {
    contribute(A, {tr + "," + tb + "->" + ta, {dR, B}});
    contribute(B, {tr + "," + ta + "->" + tb, {dR, A}});
  } else if (isa<DivOp>(op)) {
    Value q = b.create<DivOp>(loc, dR, B, tr + "," + tb + "->" + tr);
    contribute(A, {tr + "->" + ta, {q}});
    contribute(B, {tr + "->" + tb, {unary(UnaryFn::neg, mul(q, R))}});
  } else { // max, min: the larger (smaller) operand gets it; ties go to B
    bool isMax = isa<MaxOp>(op);
    Value diff = isMax ? b.create<SubOp>(loc, A, B, ta + "," + tb + "->" + tr)
                       : b.create<SubOp>(loc, B, A, tb + "," + ta + "->" + tr);
    Value toA = mul(dR, unary(UnaryFn::step, diff));
    contribute(A, {tr + "->" + ta, {toA}});
    contribute(B, {tr + "->" + tb, {b.create<SubOp>(loc, dR, toA)}});
  }
  return success();
}

LogicalResult Differentiator::unaryRule(UnaryOp op, Value dR) {
  Value x = op.getX(), r = op.getResult();
  Value d;
  switch (op.getFn()) {
  case UnaryFn::neg:
    d = unary(UnaryFn::neg, dR);
    break;
  case UnaryFn::exp:
    d = mul(dR, r);
    break;
  case UnaryFn::log:
    d = b.create<DivOp>(op.getLoc(), dR, x);
    break;
  case UnaryFn::sqrt:
    d = scale(b.create<DivOp>(op.getLoc(), dR, r), 0.5);
    break;
  case UnaryFn::rsqrt:
    d = scale(mul(dR, mul(mul(r, r), r)), -0.5);
    break;
  case UnaryFn::tanh:
    d = mul(dR, oneMinus(mul(r, r)));
    break;
  case UnaryFn::sigmoid:
    d = mul(dR, mul(r, oneMinus(r)));
    break;
  case UnaryFn::relu:
    d = mul(dR, unary(UnaryFn::step, x));
    break;
  case UnaryFn::leaky_relu: {
    double alpha = op.getAlphaOrDefault();
    Value slope = scale(unary(UnaryFn::step, x), 1.0 - alpha);
    std::string t = letters(rankOf(x));
    slope = b.create<AddOp>(op.getLoc(), slope, constant(op.getLoc(), alpha),
                            t + ",->" + t);
    d = mul(dR, slope);
    break;
  }
  case UnaryFn::abs: {
    Value sign = scale(unary(UnaryFn::step, x), 2.0);
    std::string t = letters(rankOf(x));
    sign = b.create<SubOp>(op.getLoc(), sign, constant(op.getLoc(), 1.0), t + ",->" + t);
    d = mul(dR, sign);
    break;
  }
  case UnaryFn::step:
    return success(); // piecewise constant
  }
  contributeValue(x, d);
  return success();
}

/// The weighted sum `op` of a scaled dot score's soft alignment over the
/// keys (what attn-raise + attn-fuse-attention make one attn.attention):
/// its adjoint is one attn.attention_grad, which recomputes the
/// probabilities block by block instead of keeping them. The score, the
/// scaling and the alignment must have no other use (then they receive no
/// adjoint of their own). Returns false, building nothing, for any other
/// contraction.
bool Differentiator::fusedAttentionRule(ContractOp op, Value dR) {
  Optional<EinsumSpec> spec = EinsumSpec::parse(op.getSpec());
  if (!spec)
    return false;
  for (int alphaIndex : contextAlphaCandidates(*spec)) {
    size_t n = spec->inputs[alphaIndex].size();
    auto align = op->getOperand(alphaIndex).getDefiningOp<AlignOp>();
    if (!align || align.getMode() != AlignMode::soft || align.getAxis() + 1 != n ||
        !align->hasOneUse())
      continue;
    if (op.getLengths() && (align.getLengths() != op.getLengths() ||
                            op.getMasked() != StringRef(&spec->inputs[alphaIndex][n - 1], 1)))
      continue;
    bool causal = false;
    if (Optional<PositionRel> rel = align.getRelKind()) {
      if (*rel != PositionRel::le || *align.getRelAxis() + 2 != n)
        continue;
      causal = true;
    }
    // The scores, possibly times or over a scalar constant.
    Value scores = align.getX();
    double scale = 1.0;
    Operation *scaling = scores.getDefiningOp();
    if (scaling && scaling->hasOneUse())
      if (Optional<ScalarScaling> s = scalarScaling(scaling)) {
        scale = s->factor;
        scores = scaling->getOperand(s->operand);
      }
    auto score = scores.getDefiningOp<ContractOp>();
    if (!score || !score->hasOneUse() || score.getLengths())
      continue;
    Optional<EinsumSpec> scoreSpec = EinsumSpec::parse(score.getSpec());
    int query = scoreSpec ? matchPairSpec(*scoreSpec, /*keepLast=*/false) : -1;
    if (query < 0)
      continue;
    Value q = query == 0 ? score.getLhs() : score.getRhs();
    Value k = query == 0 ? score.getRhs() : score.getLhs();
    Value v = op->getOperand(1 - alphaIndex);
    // What the fused kernels take: [B, T, D] or [B, H, T, D] with
    // compile-time feature sizes.
    auto qType = q.getType().dyn_cast<RankedTensorType>();
    auto vType = v.getType().dyn_cast<RankedTensorType>();
    if (!qType || !vType || (n != 3 && n != 4) || qType.isDynamicDim(n - 1) ||
        vType.isDynamicDim(n - 1))
      continue;
    auto grad = b.create<AttentionGradOp>(op.getLoc(), q, k, v, op.getResult(), dR,
                                          static_cast<float>(scale), align.getLengths(),
                                          causal);
    contributeValue(q, grad.getDq());
    contributeValue(k, grad.getDk());
    contributeValue(v, grad.getDv());
    return true;
  }
  return false;
}

LogicalResult Differentiator::contractRule(ContractOp op, Value dR) {
  if (fusedAttentionRule(op, dR))
    return success();
  EinsumSpec spec = *EinsumSpec::parse(op.getSpec());
  const std::string &ta = spec.inputs[0], &tb = spec.inputs[1], &tr = spec.result;
  char masked = op.getMasked() ? op.getMasked()->front() : 0;
  auto one = [&](const std::string &other, Value otherValue, const std::string &target) {
    Contribution c{tr + "," + other + "->" + target, {dR, otherValue}};
    if (masked) {
      c.lengths = op.getLengths();
      if (target.find(masked) != std::string::npos)
        c.maskKept = masked;
      else
        c.masked = masked;
    }
    return c;
  };
  Contribution toA = one(tb, op.getRhs(), ta);
  Contribution toB = one(ta, op.getLhs(), tb);
  // A masked sum needs the operand that carries the letter and the batch as
  // its lhs: for B's adjoint that is A.
  if (toB.masked)
    toB = {ta + "," + tr + "->" + tb, {op.getLhs(), dR}, op.getLengths(), masked, 0};
  contribute(op.getLhs(), toA);
  contribute(op.getRhs(), toB);
  return success();
}

LogicalResult Differentiator::alignRule(AlignOp op, Value dR) {
  if (op.getMode() == AlignMode::hard)
    return success(); // piecewise constant: trained by REINFORCE, not by gradients
  // dx = p * (dR - sum_axis(dR * p))
  Value p = op.getResult();
  Value weighted = b.create<ReduceOp>(op.getLoc(), ReduceKind::sum, mul(dR, p),
                                      op.getAxis(), op.getLengths(), op.getRelKind(),
                                      op.getRelAxis() ? *op.getRelAxis() : 0);
  std::string t = letters(rankOf(p));
  std::string reduced = t;
  reduced.erase(op.getAxis(), 1);
  Value centred = b.create<SubOp>(op.getLoc(), dR, weighted, t + "," + reduced + "->" + t);
  contributeValue(op.getX(), mul(p, centred));
  return success();
}

LogicalResult Differentiator::rule(Operation *op) {
  Location loc = op->getLoc();
  if (auto rec = dyn_cast<RecurrenceOp>(op))
    return recurrenceRule(rec);
  Value dR = adjoint(op->getResult(0));
  if (isa<AddOp, SubOp, MulOp, DivOp, MaxOp, MinOp>(op))
    return binaryRule(op, dR);
  if (auto u = dyn_cast<UnaryOp>(op))
    return unaryRule(u, dR);
  if (auto c = dyn_cast<ContractOp>(op))
    return contractRule(c, dR);
  if (auto a = dyn_cast<AlignOp>(op))
    return alignRule(a, dR);
  if (isa<attn::ConstantOp>(op))
    return success();
  if (auto t = dyn_cast<TransposeOp>(op)) {
    std::string tr = letters(rankOf(dR)), tx(tr.size(), ' ');
    SmallVector<int64_t, 4> perm = t.getPermutation();
    for (size_t i = 0; i < perm.size(); ++i)
      tx[perm[i]] = tr[i];
    contribute(t.getX(), {tr + "->" + tx, {dR}});
    return success();
  }
  if (auto r = dyn_cast<ReshapeOp>(op)) {
    contributeValue(r.getX(), b.create<ReshapeOp>(loc, r.getX().getType(), dR));
    return success();
  }
  if (auto c = dyn_cast<ConcatOp>(op)) {
    int64_t axis = c.getAxis(), offset = 0;
    for (Value in : c.getInputs()) {
      int64_t size = in.getType().cast<RankedTensorType>().getDimSize(axis);
      if (size < 0)
        return op->emitOpError() << "cannot differentiate a concatenation along a "
                                    "run-time axis";
      contributeValue(in, b.create<SliceOp>(loc, dR, axis, offset, size));
      offset += size;
    }
    return success();
  }
  if (auto s = dyn_cast<SliceOp>(op)) {
    int64_t axis = s.getAxis();
    int64_t size = s.getX().getType().cast<RankedTensorType>().getDimSize(axis);
    if (size < 0)
      return op->emitOpError() << "cannot differentiate a slice of a run-time axis";
    int64_t after = size - static_cast<int64_t>(s.getStart() + s.getSize());
    contributeValue(s.getX(), b.create<PadOp>(loc, dR, axis, s.getStart(), after));
    return success();
  }
  if (auto p = dyn_cast<PickOp>(op)) {
    contributeValue(p.getX(), b.create<UnpickOp>(loc, dR, p.getX(), p.getAxis(),
                                                 p.getLast(), p.getLengths()));
    return success();
  }
  if (auto r = dyn_cast<ReduceOp>(op)) {
    contributeValue(r.getX(), b.create<ReduceGradOp>(loc, r, dR));
    return success();
  }
  if (auto d = dyn_cast<DropoutOp>(op)) {
    // The same mask (same seed, salt, positions and step), the same scale.
    contributeValue(d.getX(), b.create<DropoutOp>(loc, dR, d.getControl(),
                                                  d.getRate().convertToDouble(),
                                                  static_cast<int64_t>(d.getSalt())));
    return success();
  }
  if (auto m = dyn_cast<MaskOp>(op)) {
    contributeValue(m.getX(), b.create<MaskOp>(loc, dR, m.getLengths(), m.getAxis()));
    return success();
  }
  if (auto bb = dyn_cast<BatchBroadcastOp>(op)) {
    std::string t = letters(rankOf(bb.getX()), 'b');
    contribute(bb.getX(), {"a" + t + "->" + t, {dR}});
    return success();
  }
  if (auto g = dyn_cast<GatherOp>(op)) {
    auto table = g.getTable().getType().cast<RankedTensorType>();
    if (!local(g.getTable()) || table.isDynamicDim(0))
      return op->emitOpError() << "cannot differentiate this lookup: only "
                                  "lookups into a parameter table outside "
                                  "recurrences have gradients";
    contributeValue(g.getTable(), b.create<ScatterAddOp>(loc, dR, g.getIds(),
                                                         table.getDimSize(0)));
    return success();
  }
  if (auto ce = dyn_cast<CrossEntropyOp>(op)) {
    float smoothing = ce.getSmoothing() ? ce.getSmoothing()->convertToFloat() : 0.0f;
    contributeValue(ce.getLogits(), b.create<CrossEntropyGradOp>(
                                        loc, ce.getLogits(), ce.getIds(), dR, smoothing));
    return success();
  }
  return op->emitOpError() << "has no gradient rule (differentiate before "
                              "attn-raise)";
}

//===----------------------------------------------------------------------===//
// Backpropagation through time
//===----------------------------------------------------------------------===//

LogicalResult Differentiator::recurrenceRule(RecurrenceOp op) {
  if (scope)
    return op.emitOpError() << "cannot differentiate a recurrence nested in a recurrence";
  Location loc = op.getLoc();
  const int64_t axis = op.getAxis();
  if (axis != 1)
    return op.emitOpError() << "gradients need the time axis at 1";
  Value lengths = op.getLengths();
  bool reverse = op.getReverse();
  size_t numSeq = op.getSequences().size(), numStates = op.getInits().size();

  // The backward loop's sequences: the forward sequences, the state each
  // step read, the adjoints of the stacked states (those that have one).
  SmallVector<Value, 8> sequences(op.getSequences().begin(), op.getSequences().end());
  for (size_t k = 0; k < numStates; ++k)
    sequences.push_back(b.create<ShiftOp>(loc, op.getResult(k), op.getInits()[k],
                                          axis, reverse, lengths));
  SmallVector<int, 4> adjointSeq(numStates, -1);
  for (size_t k = 0; k < numStates; ++k)
    if (Value d = adjoint(op.getResult(k))) {
      adjointSeq[k] = static_cast<int>(sequences.size());
      sequences.push_back(d);
    }
  SmallVector<Value, 8> inits;
  for (Value init : op.getInits())
    inits.push_back(scale(init, 0.0));

  auto backward = b.create<RecurrenceOp>(loc, sequences, inits, axis, lengths, !reverse);
  Block *body = backward.getBodyBlock();
  // Copies: adding block arguments later must not invalidate them.
  SmallVector<Value, 16> args(body->getArguments().begin(), body->getArguments().end());
  ArrayRef<Value> carried = ArrayRef<Value>(args).drop_front(sequences.size());

  // The step, recomputed from the state it read.
  Differentiator inner(b);
  inner.scope = &backward.getBody();
  inner.active = active;
  inner.truncate = truncate;
  BlockAndValueMapping forward;
  for (size_t i = 0; i < numSeq; ++i)
    forward.map(op.getStepArguments()[i], args[i]);
  for (size_t k = 0; k < numStates; ++k)
    forward.map(op.getStateArguments()[k], args[numSeq + k]);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToEnd(body);
  std::vector<Operation *> recomputed;
  for (Operation &inner_op : op.getBodyBlock()->without_terminator())
    recomputed.push_back(b.clone(inner_op, forward));
  auto yield = cast<YieldOp>(op.getBodyBlock()->getTerminator());
  for (size_t k = 0; k < numStates; ++k) {
    Value next = forward.lookupOrDefault(yield.getValues()[k]);
    // The adjoint from the step after this one: cut at chunk boundaries.
    Value fromLater = carried[k];
    if (truncate > 0)
      fromLater = b.create<TruncateOp>(loc, fromLater, truncate);
    inner.seed(next, fromLater);
    if (adjointSeq[k] >= 0)
      inner.seed(next, args[adjointSeq[k]]);
  }
  if (failed(inner.run(recomputed)))
    return failure();

  // What the adjoint reads of the forward step is stored by the forward loop
  // rather than recomputed here.
  DenseSet<Value> liveOut;
  for (const Deferred &d : inner.deferred)
    liveOut.insert(d.contribution.operands.begin(), d.contribution.operands.end());
  DenseMap<Value, Value> replaced;
  RecurrenceOp recording =
      recordStepValues(b, op, recomputed, liveOut, body, sequences, replaced);
  auto current = [&](Value v) -> Value {
    auto it = replaced.find(v);
    return it == replaced.end() ? v : it->second;
  };
  for (Deferred &d : inner.deferred)
    for (Value &v : d.contribution.operands)
      v = current(v);
  args.assign(body->getArguments().begin(), body->getArguments().end());
  carried = ArrayRef<Value>(args).drop_front(sequences.size());
  b.setInsertionPointToEnd(body);

  // Per-step values needed after the loop: sequence adjoints and the pieces
  // of deferred contributions. Sequence arguments are stacked already.
  SmallVector<Value, 8> yields;
  for (size_t k = 0; k < numStates; ++k) {
    Value d = inner.adjoint(args[numSeq + k]);
    yields.push_back(d ? d : inner.scale(args[numSeq + k], 0.0));
  }
  llvm::SetVector<Value> pieces;
  for (size_t i = 0; i < numSeq; ++i)
    if (Value d = inner.adjoint(args[i]))
      pieces.insert(d);
  for (const Deferred &d : inner.deferred)
    for (Value v : d.contribution.operands)
      if (inner.scope->isAncestor(v.getParentRegion()))
        pieces.insert(v);
  llvm::DenseMap<Value, int> pieceState; // piece -> index among the results
  for (Value v : pieces) {
    auto arg = v.dyn_cast<BlockArgument>();
    if (arg && arg.getOwner() == body && arg.getArgNumber() < sequences.size())
      continue;
    pieceState[v] = static_cast<int>(yields.size());
    yields.push_back(v);
  }
  b.create<YieldOp>(loc, yields);

  // Carried pieces need initial values of their types: the step evaluated
  // at t = 0 outside the loop (the values are never read).
  b.setInsertionPoint(backward);
  BlockAndValueMapping first;
  for (size_t i = 0; i < sequences.size(); ++i)
    first.map(args[i], b.create<PickOp>(loc, sequences[i], axis, false, Value()));
  for (size_t k = 0; k < numStates; ++k)
    first.map(carried[k], inits[k]);
  SmallVector<Value, 8> allInits = inits;
  bool needFirst = yields.size() > numStates;
  if (needFirst) {
    for (Operation &o : body->without_terminator())
      b.clone(o, first);
    for (size_t i = numStates; i < yields.size(); ++i)
      allInits.push_back(first.lookupOrDefault(yields[i]));
  }

  // The loop with its final operands; the body moves over.
  auto loop = b.create<RecurrenceOp>(loc, sequences, allInits, axis, lengths, !reverse);
  loop.getBody().getBlocks().clear();
  loop.getBody().takeBody(backward.getBody());
  inner.scope = &loop.getBody();
  body = loop.getBodyBlock();
  for (size_t i = numStates; i < yields.size(); ++i)
    body->addArgument(yields[i].getType(), loc);
  backward.erase();
  b.setInsertionPointAfter(loop);

  // Stacked per-step value of a piece, padding masked.
  auto stacked = [&](Value v) -> Value {
    auto it = pieceState.find(v);
    Value s;
    if (it != pieceState.end())
      s = loop.getResult(it->second);
    else
      s = sequences[v.cast<BlockArgument>().getArgNumber()];
    return lengths ? b.create<MaskOp>(loc, s, lengths, axis).getResult() : s;
  };
  for (size_t i = 0; i < numSeq; ++i) {
    Value d = inner.adjoint(args[i]);
    if (d)
      contributeValue(op.getSequences()[i], stacked(d));
  }
  // Initial states: the carried adjoint after the last backward step.
  for (size_t k = 0; k < numStates; ++k)
    contributeValue(op.getInits()[k],
                    b.create<PickOp>(loc, loop.getResult(k), axis, reverse, lengths));
  // Captured values: every deferred contribution summed over time too.
  for (const Deferred &d : inner.deferred) {
    EinsumSpec spec = *EinsumSpec::parse(d.contribution.spec);
    std::string used = spec.str();
    char time = 'a';
    while (used.find(time) != std::string::npos)
      ++time;
    Contribution c = d.contribution;
    bool maskedOne = false;
    for (size_t i = 0; i < c.operands.size(); ++i) {
      Value v = c.operands[i];
      if (!inner.scope->isAncestor(v.getParentRegion()))
        continue;
      auto it = pieceState.find(v);
      Value s = it != pieceState.end()
                    ? loop.getResult(it->second)
                    : sequences[v.cast<BlockArgument>().getArgNumber()];
      if (lengths && !maskedOne) {
        s = b.create<MaskOp>(loc, s, lengths, axis);
        maskedOne = true;
      }
      c.operands[i] = s;
      spec.inputs[i].insert(1, 1, time);
    }
    c.spec = spec.str();
    contribute(d.target, c);
  }
  if (recording != op)
    op.erase(); // its results now come from `recording`
  return success();
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

struct DifferentiatePass : public DifferentiateBase<DifferentiatePass> {
  DifferentiatePass() = default;
  explicit DifferentiatePass(int64_t truncateSteps) { truncate = truncateSteps; }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (truncate < 0) {
      module.emitError() << "attn-differentiate: truncate=" << truncate
                         << " must be 0 (full backpropagation) or a number of steps";
      return signalPassFailure();
    }
    SmallVector<FuncOp, 2> losses;
    for (FuncOp f : module.getOps<FuncOp>())
      if (auto entry = f->getAttrOfType<StringAttr>("attn.entry"))
        if (entry.getValue() == "loss")
          losses.push_back(f);
    for (FuncOp f : losses)
      if (failed(differentiate(module, f)))
        return signalPassFailure();
  }

  LogicalResult differentiate(ModuleOp module, FuncOp loss) {
    OpBuilder b(module.getContext());
    Location loc = loss.getLoc();
    StringRef name = loss.getName();
    std::string gradName = (name.endswith("_loss") ? name.drop_back(5) : name).str() + "_grad";

    // Signature: the loss function's arguments and d_loss; results: the
    // losses, d_<param> for every parameter, d_<input> for float inputs.
    SmallVector<Type, 16> argTypes(loss.getArgumentTypes().begin(),
                                   loss.getArgumentTypes().end());
    auto lossRanked = loss.getNumResults() == 1
                          ? loss.getType().getResult(0).dyn_cast<RankedTensorType>()
                          : RankedTensorType();
    if (!lossRanked || lossRanked.getRank() != 1 ||
        !lossRanked.getElementType().isF32())
      return loss.emitError() << "a loss function (attn.entry = \"loss\") returns "
                                 "one f32 loss per example, as tensor<?xf32>; '"
                              << name << "' has type " << loss.getType();
    Type lossType = lossRanked;
    argTypes.push_back(lossType);
    SmallVector<unsigned, 16> differentiable;
    SmallVector<Type, 16> resultTypes{lossType};
    for (unsigned i = 0; i < loss.getNumArguments(); ++i) {
      auto role = loss.getArgAttrOfType<StringAttr>(i, "attn.role");
      if (!role || (role.getValue() != "param" && role.getValue() != "input"))
        continue;
      Type argType = loss.getArgument(i).getType();
      if (!argType.cast<TensorType>().getElementType().isF32())
        continue; // token ids have no gradient
      auto type = argType.dyn_cast<RankedTensorType>();
      if (!type || !loss.getArgAttrOfType<StringAttr>(i, "attn.name"))
        return loss.emitError()
               << "argument #" << i << " of '" << name << "' (attn.role = \""
               << role.getValue() << "\") needs a ranked type and an attn.name "
                                     "(its gradient is the result d_<name>)";
      differentiable.push_back(i);
      resultTypes.push_back(type);
    }
    b.setInsertionPointAfter(loss);
    auto grad = b.create<FuncOp>(loc, gradName, b.getFunctionType(argTypes, resultTypes));
    grad->setAttr("attn.entry", b.getStringAttr("grad"));
    for (unsigned i = 0; i < loss.getNumArguments(); ++i)
      grad.setArgAttrs(i, loss.getArgAttrs(i));
    NamedAttrList seedAttrs;
    seedAttrs.append("attn.role", b.getStringAttr("seed"));
    seedAttrs.append("attn.name", b.getStringAttr("d_loss"));
    seedAttrs.append("attn.dims", b.getStrArrayAttr({"B"}));
    grad.setArgAttrs(loss.getNumArguments(), seedAttrs.getAttrs());
    grad.setResultAttrs(0, loss.getResultAttrs(0));
    for (size_t r = 0; r < differentiable.size(); ++r) {
      unsigned i = differentiable[r];
      NamedAttrList attrs;
      auto argName = loss.getArgAttrOfType<StringAttr>(i, "attn.name");
      attrs.append("attn.name", b.getStringAttr("d_" + argName.getValue().str()));
      if (Attribute dims = loss.getArgAttr(i, "attn.dims"))
        attrs.append("attn.dims", dims);
      grad.setResultAttrs(r + 1, attrs.getAttrs());
    }

    // The forward computation, then its adjoint.
    Block *entry = grad.addEntryBlock();
    b.setInsertionPointToStart(entry);
    BlockAndValueMapping map;
    for (unsigned i = 0; i < loss.getNumArguments(); ++i)
      map.map(loss.getArgument(i), entry->getArgument(i));
    std::vector<Operation *> ops;
    for (Operation &op : loss.getBody().front().without_terminator())
      ops.push_back(b.clone(op, map));
    Value value = map.lookup(loss.getBody().front().getTerminator()->getOperand(0));
    DenseSet<Value> active;
    for (unsigned i : differentiable)
      active.insert(entry->getArgument(i));
    for (Operation *op : ops) {
      bool in = false;
      for (Value v : op->getOperands())
        in |= active.count(v) != 0;
      op->walk([&](Operation *inner) {
        for (Value v : inner->getOperands())
          in |= active.count(v) != 0;
      });
      if (in)
        for (Value r : op->getResults())
          active.insert(r);
    }
    Differentiator diff(b);
    diff.active = &active;
    diff.truncate = truncate;
    diff.seed(value, entry->getArgument(loss.getNumArguments()));
    if (failed(diff.run(ops)))
      return failure();
    SmallVector<Value, 16> results{value};
    for (unsigned i : differentiable) {
      Value arg = entry->getArgument(i);
      Value d = diff.adjoint(arg);
      results.push_back(d ? d : diff.scale(arg, 0.0));
    }
    b.create<ReturnOp>(loc, results);
    return success();
  }
};

} // namespace

std::unique_ptr<Pass> mlir::attn::createDifferentiatePass() {
  return std::make_unique<DifferentiatePass>();
}

std::unique_ptr<Pass> mlir::attn::createDifferentiatePass(int64_t truncate) {
  return std::make_unique<DifferentiatePass>(truncate);
}
