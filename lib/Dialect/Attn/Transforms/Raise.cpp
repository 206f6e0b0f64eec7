//===- Raise.cpp - attn-raise ---------------------------------------------===//
//
// Recognises attention scores and contexts spelled with generic ops
// (contract, mul, reduce, ...) and rewrites them into attn.score and
// attn.context, which later passes fuse and lower to dedicated kernels.
//
//===----------------------------------------------------------------------===//

#include "PassDetail.h"

#include "attn/Dialect/Attn/AttnOps.h"
#include "attn/Dialect/Attn/Einsum.h"
#include "attn/Dialect/Attn/Passes.h"
#include "AttentionSpecs.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;
using namespace mlir::attn;

namespace {

Optional<EinsumSpec> specOf(ContractOp op) {
  if (op.getLengths())
    return llvm::None;
  return EinsumSpec::parse(op.getSpec());
}

/// (a) contract "P t d, P s d -> P t s" => attn.score dot.
struct ContractToDotScore : OpRewritePattern<ContractOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ContractOp op,
                                PatternRewriter &rewriter) const override {
    Optional<EinsumSpec> spec = specOf(op);
    int query = spec ? matchPairSpec(*spec, /*keepLast=*/false) : -1;
    if (query < 0)
      return failure();
    Value q = query == 0 ? op.getLhs() : op.getRhs();
    Value k = query == 0 ? op.getRhs() : op.getLhs();
    rewriter.replaceOpWithNewOp<ScoreOp>(
        op, op.getType(), ScoreKindAttr::get(getContext(), ScoreKind::dot), q,
        k, Value(), FloatAttr());
    return success();
  }
};

/// The scale of a dot or scaled_dot score.
Optional<double> scaleOf(ScoreOp score) {
  if (score.getKind() == ScoreKind::dot)
    return 1.0;
  if (score.getKind() == ScoreKind::scaled_dot)
    return score.getScaleAttr().getValueAsDouble();
  return llvm::None;
}

/// (b) score * c, c * score, score / c => attn.score scaled_dot, when the
/// score has no other use and the spec only broadcasts the scalar.
template <typename OpTy>
struct ScaleScore : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    Optional<ScalarScaling> scaling = scalarScaling(op);
    if (!scaling)
      return failure();
    auto score = op->getOperand(scaling->operand).template getDefiningOp<ScoreOp>();
    if (!score || !score->hasOneUse() || !scaleOf(score))
      return failure();
    rewriter.template replaceOpWithNewOp<ScoreOp>(
        op, op.getType(),
        ScoreKindAttr::get(rewriter.getContext(), ScoreKind::scaled_dot),
        score.getQ(), score.getK(), Value(),
        rewriter.getF32FloatAttr(static_cast<float>(*scaleOf(score) * scaling->factor)));
    return success();
  }
};

/// (c) contract "P t s, P s e -> P t e" of a soft alignment over its last
/// axis => attn.context.
struct ContractToContext : OpRewritePattern<ContractOp> {
  using OpRewritePattern::OpRewritePattern;

  static bool isSoftAlignOverLastAxis(Value value, size_t rank) {
    auto align = value.getDefiningOp<AlignOp>();
    return align && align.getMode() == AlignMode::soft &&
           align.getAxis() + 1 == rank;
  }

  LogicalResult matchAndRewrite(ContractOp op,
                                PatternRewriter &rewriter) const override {
    // A padding mask on the summed axis is implied when the alignment masks
    // the same keys with the same lengths (their weights are exactly 0).
    Optional<EinsumSpec> spec = EinsumSpec::parse(op.getSpec());
    if (!spec || spec->inputs.size() != 2)
      return failure();
    // alpha "P t s", v "P s e", result "P t e", in either operand order.
    for (int alphaIndex : contextAlphaCandidates(*spec)) {
      const std::string &alpha = spec->inputs[alphaIndex];
      size_t n = alpha.size();
      Value alphaValue = op->getOperand(alphaIndex);
      if (!isSoftAlignOverLastAxis(alphaValue, n))
        continue;
      if (op.getLengths() &&
          (alphaValue.getDefiningOp<AlignOp>().getLengths() != op.getLengths() ||
           op.getMasked() != StringRef(&alpha[n - 1], 1)))
        continue;
      rewriter.replaceOpWithNewOp<ContextOp>(op, op.getType(), alphaValue,
                                             op->getOperand(1 - alphaIndex));
      return success();
    }
    return failure();
  }
};

/// (d) reduce_sum_a(w[a] * tanh(q[P t a] + k[P s a])) => attn.score additive.
struct AdditiveScore : OpRewritePattern<ReduceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReduceOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getKind() != ReduceKind::sum || op.getLengths() || op.getRel())
      return failure();
    auto mul = op.getX().getDefiningOp<MulOp>();
    if (!mul || !mul->hasOneUse() || !mul.getSpec())
      return failure();
    Optional<EinsumSpec> mulSpec = EinsumSpec::parse(*mul.getSpec());
    if (!mulSpec || mulSpec->inputs.size() != 2 ||
        op.getAxis() + 1 != mulSpec->result.size())
      return failure();
    for (int tanhIndex = 0; tanhIndex < 2; ++tanhIndex) {
      auto tanh = mul->getOperand(tanhIndex).getDefiningOp<UnaryOp>();
      if (!tanh || tanh.getFn() != UnaryFn::tanh || !tanh->hasOneUse())
        continue;
      if (mulSpec->inputs[tanhIndex] != mulSpec->result ||
          mulSpec->inputs[1 - tanhIndex] !=
              std::string(1, mulSpec->result.back()))
        continue;
      auto add = tanh.getX().getDefiningOp<AddOp>();
      if (!add || !add->hasOneUse() || !add.getSpec())
        continue;
      Optional<EinsumSpec> addSpec = EinsumSpec::parse(*add.getSpec());
      int query = addSpec ? matchPairSpec(*addSpec, /*keepLast=*/true) : -1;
      if (query < 0)
        continue;
      Value q = add->getOperand(query), k = add->getOperand(1 - query);
      rewriter.replaceOpWithNewOp<ScoreOp>(
          op, op.getType(),
          ScoreKindAttr::get(getContext(), ScoreKind::additive), q, k,
          mul->getOperand(1 - tanhIndex), FloatAttr());
      return success();
    }
    return failure();
  }
};

struct RaisePass : RaiseBase<RaisePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ContractToDotScore, ScaleScore<MulOp>, ScaleScore<DivOp>,
                 ContractToContext, AdditiveScore>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(),
                                            std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace

std::unique_ptr<Pass> mlir::attn::createRaisePass() {
  return std::make_unique<RaisePass>();
}
