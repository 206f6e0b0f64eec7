//===- LowerElementwise.cpp - Element-wise and layout ops -----------------===//
//
// These ops become pure Funcs that the scheduler inlines into their consumers
// (unless several consumers share an expensive one): they cost no memory
// traffic of their own.
//
//===----------------------------------------------------------------------===//
#include "Lowerer.h"
#include "MathExprs.h"

#include "attn/Dialect/Attn/Einsum.h"

using namespace Halide;
namespace attnd = mlir::attn;

namespace attn {

Expr Lowerer::extent(mlir::Value value, unsigned i) const {
  auto type = value.getType().cast<mlir::RankedTensorType>();
  if (!type.isDynamicDim(i))
    return Expr(static_cast<int>(type.getDimSize(i)));
  return get(value).extents[i];
}

std::map<char, Expr>
Lowerer::letterExtents(const std::vector<std::string> &terms,
                       const std::vector<mlir::Value> &operands) const {
  std::map<char, Expr> extents;
  for (size_t t = 0; t < terms.size(); ++t) {
    for (size_t i = 0; i < terms[t].size(); ++i) {
      Expr e = extent(operands[t], i);
      auto it = extents.find(terms[t][i]);
      // A constant extent beats a run-time one: it enables vectorisation.
      if (it == extents.end() || (!is_const(it->second) && is_const(e)))
        extents[terms[t][i]] = e;
    }
  }
  return extents;
}

HalideTensor
Lowerer::define(llvm::StringRef name, std::vector<Expr> extents,
                const std::function<Expr(const AxisVars &)> &body) {
  HalideTensor t;
  t.func = Func(freshName(name));
  t.extents = std::move(extents);
  AxisVars axes(t.rank());
  t.func(axes.halideOrder()) = body(axes);
  return t;
}

void Lowerer::record(mlir::Value result, HalideTensor tensor) {
  if (tensor.role != StageRole::Inline)
    stages.push_back(tensor);
  values[result] = std::move(tensor);
}

bool Lowerer::isView(mlir::Operation *op) {
  return llvm::isa<attnd::TransposeOp, attnd::ReshapeOp, attnd::SliceOp>(op);
}

void Lowerer::recordComputedOnceIfShared(mlir::Operation *op, HalideTensor tensor) {
  if (tensor.role == StageRole::Inline && !op->getResult(0).hasOneUse() && !isView(op) &&
      tensor.rank() > 0)
    tensor.role = StageRole::Pointwise;
  record(op->getResult(0), std::move(tensor));
}

void Lowerer::computeOnce(mlir::Value value) {
  auto it = values.find(value);
  if (it == values.end() || it->second.role != StageRole::Inline)
    return;
  it->second.role = StageRole::Pointwise;
  stages.push_back(it->second);
}

/// Operand index expressions for an einsum term, given the result vars.
static std::vector<Expr> termIndex(const std::string &term,
                                   const std::string &result,
                                   const AxisVars &axes) {
  std::vector<Expr> idx;
  for (char c : term)
    idx.push_back(axes.vars[result.find(c)]);
  return idx;
}

bool Lowerer::lowerBinary(mlir::Operation *op, std::string &error) {
  mlir::Value lhs = op->getOperand(0), rhs = op->getOperand(1);
  unsigned rank = op->getResult(0).getType().cast<mlir::RankedTensorType>().getRank();
  std::string lhsTerm, rhsTerm, result;
  if (auto spec = op->getAttrOfType<mlir::StringAttr>("spec")) {
    auto parsed = attnd::EinsumSpec::parse(spec.getValue());
    lhsTerm = parsed->inputs[0];
    rhsTerm = parsed->inputs[1];
    result = parsed->result;
  } else {
    for (unsigned i = 0; i < rank; ++i)
      result += static_cast<char>('a' + i);
    lhsTerm = rhsTerm = result;
  }
  auto letters = letterExtents({lhsTerm, rhsTerm}, {lhs, rhs});
  std::vector<Expr> extents;
  for (char c : result)
    extents.push_back(letters[c]);
  const HalideTensor &a = get(lhs), &b = get(rhs);
  llvm::StringRef name = op->getName().stripDialect();
  HalideTensor t = define(name, extents, [&](const AxisVars &axes) {
    Expr x = a.at(termIndex(lhsTerm, result, axes));
    Expr y = b.at(termIndex(rhsTerm, result, axes));
    if (name == "add")
      return x + y;
    if (name == "sub")
      return x - y;
    if (name == "mul")
      return x * y;
    if (name == "div")
      return x / y;
    if (name == "max")
      return max(x, y);
    return min(x, y);
  });
  recordComputedOnceIfShared(op, t);
  return true;
}

HalideTensor Lowerer::lowerUnary(attnd::UnaryOp op) {
  const HalideTensor &x = get(op.getX());
  attnd::UnaryFn fn = op.getFn();
  float alpha = op.getAlphaOrDefault();
  return define("unary", x.extents, [&](const AxisVars &axes) -> Expr {
    Expr v = x.at(axes.exprs());
    switch (fn) {
    case attnd::UnaryFn::neg:
      return -v;
    case attnd::UnaryFn::exp:
      return exp(v);
    case attnd::UnaryFn::log:
      return log(v);
    case attnd::UnaryFn::sqrt:
      return sqrt(v);
    case attnd::UnaryFn::rsqrt:
      return 1.0f / sqrt(v);
    case attnd::UnaryFn::tanh:
      return vectorTanh(v);
    case attnd::UnaryFn::sigmoid:
      return 1.0f / (1.0f + exp(-v));
    case attnd::UnaryFn::relu:
      return max(v, 0.0f);
    case attnd::UnaryFn::leaky_relu:
      return select(v > 0.0f, v, alpha * v);
    case attnd::UnaryFn::abs:
      return abs(v);
    case attnd::UnaryFn::step:
      return select(v > 0.0f, 1.0f, 0.0f);
    }
    return v;
  });
}

HalideTensor Lowerer::lowerTranspose(attnd::TransposeOp op) {
  const HalideTensor &x = get(op.getX());
  auto perm = op.getPermutation();
  std::vector<Expr> extents;
  for (int64_t p : perm)
    extents.push_back(x.extents[p]);
  return define("transpose", extents, [&](const AxisVars &axes) {
    std::vector<Expr> idx(perm.size());
    for (size_t i = 0; i < perm.size(); ++i)
      idx[perm[i]] = axes.vars[i];
    return x.at(idx);
  });
}

HalideTensor Lowerer::lowerReshape(attnd::ReshapeOp op) {
  const HalideTensor &x = get(op.getX());
  auto from = op.getX().getType().cast<mlir::RankedTensorType>();
  auto to = op.getType().cast<mlir::RankedTensorType>();
  // The shared leading axes are unchanged; the rest is static (verifier).
  int64_t prefix = 0;
  while (prefix < from.getRank() && prefix < to.getRank() &&
         from.getDimSize(prefix) == to.getDimSize(prefix))
    ++prefix;
  std::vector<Expr> extents(x.extents.begin(), x.extents.begin() + prefix);
  for (int64_t i = prefix; i < to.getRank(); ++i)
    extents.push_back(static_cast<int>(to.getDimSize(i)));
  return define("reshape", extents, [&](const AxisVars &axes) {
    Expr flat = 0;
    for (int64_t i = prefix; i < to.getRank(); ++i)
      flat = flat * static_cast<int>(to.getDimSize(i)) + axes.vars[i];
    std::vector<Expr> idx(axes.vars.begin(), axes.vars.begin() + prefix);
    std::vector<Expr> tail;
    for (int64_t i = from.getRank() - 1; i >= prefix; --i) {
      int size = static_cast<int>(from.getDimSize(i));
      tail.push_back(flat % size);
      flat = flat / size;
    }
    idx.insert(idx.end(), tail.rbegin(), tail.rend());
    return x.at(idx);
  });
}

HalideTensor Lowerer::lowerConcat(attnd::ConcatOp op) {
  int64_t axis = op.getAxis();
  std::vector<const HalideTensor *> parts;
  for (mlir::Value v : op.getInputs())
    parts.push_back(&get(v));
  std::vector<Expr> extents = parts[0]->extents;
  Expr total = 0;
  for (const HalideTensor *p : parts)
    total = total + p->extents[axis];
  extents[axis] = simplify(total);
  std::vector<Expr> begin;
  Expr offset = 0;
  for (const HalideTensor *p : parts) {
    begin.push_back(offset);
    offset = offset + p->extents[axis];
  }
  return define("concat", extents, [&](const AxisVars &axes) {
    // The clamp keeps each part's bounds exact for bounds inference.
    auto partAt = [&](size_t i) {
      std::vector<Expr> idx = axes.exprs();
      idx[axis] = clamp(idx[axis] - begin[i], 0, parts[i]->extents[axis] - 1);
      return parts[i]->at(idx);
    };
    Expr value = partAt(parts.size() - 1);
    for (int i = static_cast<int>(parts.size()) - 2; i >= 0; --i)
      value = select(axes.vars[axis] < begin[i + 1], partAt(i), value);
    return value;
  });
}

HalideTensor Lowerer::lowerSlice(attnd::SliceOp op) {
  const HalideTensor &x = get(op.getX());
  int64_t axis = op.getAxis(), start = op.getStart();
  std::vector<Expr> extents = x.extents;
  extents[axis] = static_cast<int>(op.getSize());
  return define("slice", extents, [&](const AxisVars &axes) {
    std::vector<Expr> idx = axes.exprs();
    idx[axis] = idx[axis] + static_cast<int>(start);
    return x.at(idx);
  });
}

HalideTensor Lowerer::lowerPick(attnd::PickOp op) {
  const HalideTensor &x = get(op.getX());
  int64_t axis = op.getAxis();
  std::vector<Expr> extents = x.extents;
  Expr size = extents[axis];
  extents.erase(extents.begin() + axis);
  return define("pick", extents, [&](const AxisVars &axes) {
    std::vector<Expr> idx = axes.exprs();
    Expr valid = size;
    if (op.getLengths())
      valid = min(get(op.getLengths()).at({axes.vars[0]}), size);
    Expr pos = op.getLast() ? valid - 1 : Expr(0);
    idx.insert(idx.begin() + axis, clamp(pos, 0, size - 1));
    // A row with no valid position has no value to pick: 0, like padding.
    return select(valid > 0, x.at(idx), 0.0f);
  });
}

HalideTensor Lowerer::lowerMask(attnd::MaskOp op) {
  const HalideTensor &x = get(op.getX());
  const HalideTensor &lengths = get(op.getLengths());
  int64_t axis = op.getAxis();
  return define("mask", x.extents, [&](const AxisVars &axes) {
    return select(axes.vars[axis] < lengths.at({axes.vars[0]}),
                  x.at(axes.exprs()), 0.0f);
  });
}

HalideTensor Lowerer::lowerGather(attnd::GatherOp op) {
  const HalideTensor &table = get(op.getTable());
  const HalideTensor &ids = get(op.getIds());
  size_t idRank = ids.rank();
  std::vector<Expr> extents = ids.extents;
  extents.insert(extents.end(), table.extents.begin() + 1, table.extents.end());
  Expr vocab = table.extents[0];
  HalideTensor t = define("gather", extents, [&](const AxisVars &axes) {
    std::vector<Expr> idIdx(axes.vars.begin(), axes.vars.begin() + idRank);
    Expr id = ids.at(idIdx);
    // An id outside the table is an error reported to the caller, not a read
    // out of bounds. GPU kernels cannot format the message: there the
    // generated header checks the ids of model inputs before the call.
    Expr clamped = clamp(id, 0, vocab - 1);
    Expr checked = target.has_gpu_feature()
                       ? clamped
                       : require(id >= 0 && id < vocab, clamped, "token id", id,
                                 "is outside the vocabulary [0,", vocab, ")");
    std::vector<Expr> tIdx{checked};
    tIdx.insert(tIdx.end(), axes.vars.begin() + idRank, axes.vars.end());
    return table.at(tIdx);
  });
  // A table with a dynamic first axis holds per-sentence rows (a decoder
  // step's memory, gathered by hypothesis): read through the index in place
  // rather than copied every step.
  t.role = table.extents[0].as<Halide::Internal::IntImm>() ? StageRole::Gather
                                                           : StageRole::Inline;
  return t;
}

HalideTensor Lowerer::lowerBatchBroadcast(attnd::BatchBroadcastOp op) {
  const HalideTensor &x = get(op.getX());
  std::vector<Expr> extents{get(op.getRef()).extents[0]};
  for (mlir::Attribute a : op.getShape())
    extents.push_back(static_cast<int>(a.cast<mlir::IntegerAttr>().getInt()));
  return define("batch_broadcast", extents, [&](const AxisVars &axes) {
    if (x.rank() == 0)
      return x.at({});
    return x.at(std::vector<Expr>(axes.vars.begin() + 1, axes.vars.end()));
  });
}

HalideTensor Lowerer::lowerCombineHeads(attnd::CombineHeadsOp op) {
  const HalideTensor &x = get(op.getX());
  size_t rank = x.rank();
  Expr heads = x.extents[rank - 2], perHead = x.extents[rank - 1];
  std::vector<Expr> extents(x.extents.begin(), x.extents.end() - 1);
  if (op.getMode() == attnd::CombineMode::concat) {
    extents.back() = simplify(heads * perHead);
    return define("combine_concat", extents, [&](const AxisVars &axes) {
      std::vector<Expr> idx(axes.vars.begin(), axes.vars.end() - 1);
      Expr j = axes.vars.back();
      idx.push_back(j / perHead);
      idx.push_back(j % perHead);
      return x.at(idx);
    });
  }
  extents.back() = perHead;
  HalideTensor t;
  t.func = Func(freshName("combine_average"));
  t.extents = extents;
  AxisVars axes(extents.size());
  RDom h(0, heads, "h");
  std::vector<Expr> idx(axes.vars.begin(), axes.vars.end() - 1);
  idx.push_back(h);
  idx.push_back(axes.vars.back());
  t.func(axes.halideOrder()) = 0.0f;
  t.func(axes.halideOrder()) += x.at(idx) / cast<float>(heads);
  t.role = StageRole::Reduce;
  t.reductionVars = {RVar(h)};
  return t;
}

} // namespace attn
