//===- FuseAttention.cpp - attn-fuse-attention ----------------------------===//
//
// score(dot|scaled_dot) -> align soft (last axis) -> context  ==>  attention.
//
//===----------------------------------------------------------------------===//

#include "PassDetail.h"

#include "attn/Dialect/Attn/AttnOps.h"
#include "attn/Dialect/Attn/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;
using namespace mlir::attn;

namespace {

struct FuseScoreAlignContext : OpRewritePattern<ContextOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ContextOp op,
                                PatternRewriter &rewriter) const override {
    auto align = op.getAlpha().getDefiningOp<AlignOp>();
    if (!align || align.getMode() != AlignMode::soft || !align->hasOneUse())
      return failure();
    auto scores = align.getX().getType().dyn_cast<RankedTensorType>();
    if (!scores || static_cast<int64_t>(align.getAxis()) != scores.getRank() - 1)
      return failure();
    // The only relational mask the fused op knows: key s <= query t.
    bool causal = false;
    if (Optional<PositionRel> rel = align.getRelKind()) {
      if (*rel != PositionRel::le ||
          static_cast<int64_t>(*align.getRelAxis()) != scores.getRank() - 2)
        return failure();
      causal = true;
    }
    auto score = align.getX().getDefiningOp<ScoreOp>();
    if (!score || !score->hasOneUse())
      return failure();
    float scale;
    if (score.getKind() == ScoreKind::dot)
      scale = 1.0f;
    else if (score.getKind() == ScoreKind::scaled_dot)
      scale = score.getScaleAttr().getValueAsDouble();
    else
      return failure();

    rewriter.replaceOpWithNewOp<AttentionOp>(
        op, op.getType(), score.getQ(), score.getK(), op.getV(),
        align.getLengths(), rewriter.getF32FloatAttr(scale),
        causal ? rewriter.getUnitAttr() : UnitAttr());
    return success();
  }
};

struct FuseAttentionPass : FuseAttentionBase<FuseAttentionPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseScoreAlignContext>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(),
                                            std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace

std::unique_ptr<Pass> mlir::attn::createFuseAttentionPass() {
  return std::make_unique<FuseAttentionPass>();
}
