//===- ElementwiseOps.cpp - constant, binary and unary ops ----------------===//

#include "OpHelpers.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::detail;

//===----------------------------------------------------------------------===//
// attn.constant
//===----------------------------------------------------------------------===//

void ConstantOp::build(OpBuilder &builder, OperationState &state,
                       double value) {
  build(builder, state, RankedTensorType::get({}, builder.getF32Type()),
        builder.getF32FloatAttr(value));
}

LogicalResult ConstantOp::verifyOp() { return success(); }

void ConstantOp::inferResultTypes(SmallVectorImpl<Type> &inferred) {
  inferred.push_back(RankedTensorType::get({}, getValueAttr().getType()));
}

OpFoldResult ConstantOp::fold(ArrayRef<Attribute>) { return getValueAttr(); }

//===----------------------------------------------------------------------===//
// Elementwise binary ops
//===----------------------------------------------------------------------===//

/// Without a spec the operands have one shape; with one, each letter's size
/// comes from whichever operand has it.
static Type inferBinaryType(Type lhs, Type rhs, Optional<StringRef> spec) {
  Type element = elementTypeOf(lhs);
  if (!spec) {
    auto l = lhs.dyn_cast<RankedTensorType>();
    auto r = rhs.dyn_cast<RankedTensorType>();
    if (l && r && l.getRank() == r.getRank())
      return tensorOf(mergeShapes(l.getShape(), r.getShape()), element);
    if (l || r)
      return l ? Type(l) : Type(r);
    return unrankedOf(element);
  }
  Optional<EinsumSpec> parsed = EinsumSpec::parse(*spec);
  if (!parsed || parsed->inputs.size() != 2)
    return unrankedOf(element);
  return inferEinsumResult(*parsed, {lhs, rhs}, element);
}

static void buildBinary(OpBuilder &builder, OperationState &state, Value lhs,
                        Value rhs, StringRef spec) {
  state.addOperands({lhs, rhs});
  Optional<StringRef> maybeSpec;
  if (!spec.empty()) {
    state.addAttribute("spec", builder.getStringAttr(spec));
    maybeSpec = spec;
  }
  state.addTypes(inferBinaryType(lhs.getType(), rhs.getType(), maybeSpec));
}

static LogicalResult verifyBinary(Operation *op, Type lhs, Type rhs,
                                  Type result, Optional<StringRef> spec) {
  if (!spec) {
    if (failed(verifyCompatibleShape(lhs, rhs)))
      return op->emitOpError()
             << "operands must have the same shape when there is no spec, "
                "but got "
             << lhs << " and " << rhs;
    return verifyInferredResultTypes(op);
  }
  Optional<EinsumSpec> parsed = parseSpec(op, *spec);
  if (!parsed || failed(verifyEinsumOperands(op, *parsed, {lhs, rhs})))
    return failure();
  const std::string &out = parsed->result;
  for (char c : out)
    if (parsed->inputs[0].find(c) == std::string::npos &&
        parsed->inputs[1].find(c) == std::string::npos)
      return op->emitOpError() << "result letter '" << c << "' of spec '"
                               << *spec << "' appears in no input";
  std::string summed = parsed->summedLetters();
  if (!summed.empty())
    return op->emitOpError()
           << "input letter '" << summed.front() << "' of spec '" << *spec
           << "' is missing from the result; elementwise ops do not sum "
              "(use attn.contract)";
  auto ranked = result.dyn_cast<RankedTensorType>();
  if (ranked && ranked.getRank() != static_cast<int64_t>(out.size()))
    return op->emitOpError()
           << "result term '" << out << "' has " << out.size()
           << " letters but the result has rank " << ranked.getRank();
  return verifyInferredResultTypes(op);
}

/// True if `attr` (a folded operand) is the scalar constant `value`.
static bool isScalar(Attribute attr, double value) {
  auto f = attr.dyn_cast_or_null<FloatAttr>();
  return f && f.getValueAsDouble() == value;
}

/// x op c -> x when c is the identity, for ops whose result type is x's.
static OpFoldResult foldIdentity(Operation *op, ArrayRef<Attribute> operands,
                                 double identity, bool commutative) {
  Value lhs = op->getOperand(0), rhs = op->getOperand(1);
  Type resultType = op->getResult(0).getType();
  if (isScalar(operands[1], identity) && lhs.getType() == resultType)
    return lhs;
  if (commutative && isScalar(operands[0], identity) &&
      rhs.getType() == resultType)
    return rhs;
  return {};
}

#define ATTN_BINARY_OP(OpTy)                                                   \
  void OpTy::build(OpBuilder &builder, OperationState &state, Value lhs,      \
                   Value rhs, StringRef spec) {                               \
    buildBinary(builder, state, lhs, rhs, spec);                              \
  }                                                                            \
  LogicalResult OpTy::verifyOp() {                                             \
    return verifyBinary(getOperation(), getLhs().getType(),                    \
                        getRhs().getType(), getType(), getSpec());             \
  }                                                                            \
  void OpTy::inferResultTypes(SmallVectorImpl<Type> &inferred) {               \
    inferred.push_back(                                                        \
        inferBinaryType(getLhs().getType(), getRhs().getType(), getSpec()));   \
  }

ATTN_BINARY_OP(AddOp)
ATTN_BINARY_OP(SubOp)
ATTN_BINARY_OP(MulOp)
ATTN_BINARY_OP(DivOp)
ATTN_BINARY_OP(MaxOp)
ATTN_BINARY_OP(MinOp)
#undef ATTN_BINARY_OP

OpFoldResult AddOp::fold(ArrayRef<Attribute> operands) {
  return foldIdentity(getOperation(), operands, 0.0, /*commutative=*/true);
}
OpFoldResult SubOp::fold(ArrayRef<Attribute> operands) {
  return foldIdentity(getOperation(), operands, 0.0, /*commutative=*/false);
}
OpFoldResult MulOp::fold(ArrayRef<Attribute> operands) {
  return foldIdentity(getOperation(), operands, 1.0, /*commutative=*/true);
}
OpFoldResult DivOp::fold(ArrayRef<Attribute> operands) {
  return foldIdentity(getOperation(), operands, 1.0, /*commutative=*/false);
}
OpFoldResult MaxOp::fold(ArrayRef<Attribute>) { return {}; }
OpFoldResult MinOp::fold(ArrayRef<Attribute>) { return {}; }

//===----------------------------------------------------------------------===//
// attn.unary
//===----------------------------------------------------------------------===//

void UnaryOp::build(OpBuilder &builder, OperationState &state, UnaryFn fn,
                    Value x) {
  build(builder, state, x.getType(), fn, x, FloatAttr());
}

void UnaryOp::build(OpBuilder &builder, OperationState &state, UnaryFn fn,
                    Value x, float alpha) {
  build(builder, state, x.getType(), fn, x, builder.getF32FloatAttr(alpha));
}

float UnaryOp::getAlphaOrDefault() {
  if (FloatAttr alpha = getAlphaAttr())
    return alpha.getValueAsDouble();
  return 0.01f;
}

LogicalResult UnaryOp::verifyOp() {
  if (getAlphaAttr() && getFn() != UnaryFn::leaky_relu)
    return emitOpError() << "'alpha' is only allowed for leaky_relu, not "
                         << stringifyUnaryFn(getFn());
  return success();
}

void UnaryOp::inferResultTypes(SmallVectorImpl<Type> &inferred) {
  inferred.push_back(getX().getType());
}

namespace {
/// neg(neg(x)) -> x.
struct FoldDoubleNegation : OpRewritePattern<UnaryOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(UnaryOp op,
                                PatternRewriter &rewriter) const override {
    auto inner = op.getX().getDefiningOp<UnaryOp>();
    if (op.getFn() != UnaryFn::neg || !inner || inner.getFn() != UnaryFn::neg)
      return failure();
    rewriter.replaceOp(op, inner.getX());
    return success();
  }
};
} // namespace

void UnaryOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                          MLIRContext *context) {
  patterns.add<FoldDoubleNegation>(context);
}
