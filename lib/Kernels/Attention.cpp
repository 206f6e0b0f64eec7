//===- Attention.cpp - Fused and unfused attention in Halide 14 ----------===//
//
// See docs/kernels.md for the algorithm, the schedule and measured numbers.
//
//===----------------------------------------------------------------------===//
#include "attn/Kernels/Attention.h"

#include "Halide.h"

#include <algorithm>
#include <utility>
#include <stdexcept>
#include <string>
#include <vector>

using namespace Halide;

namespace attn::kernels {
namespace {

constexpr float kLog2e = 1.44269504088896340736f;
/// Score of a masked key. Finite on purpose: Halide compiles float code with
/// LLVM's no-NaNs/no-Infs flags, so comparisons against -inf may be folded.
constexpr float kMaskedScore = -1.0e30f;
/// Floor of the running max: exp2(kMaskedScore - kMaxFloor) is still 0, so a
/// masked key gives p = 0 even while every key seen so far was masked.
constexpr float kMaxFloor = -1.0e29f;

/// 2^x for x <= 0 (0 below -125). Round-to-nearest by the magic-number trick,
/// a degree-5 polynomial for 2^f on [-0.5, 0.5] (relative error 7.5e-8,
/// fitted for this kernel) and an integer add into the exponent bits: about
/// 11 vector instructions against ~30 for Halide's exp on LLVM 14.
Expr fastExp2(Expr x) {
  const float magic = 12582912.0f; // 1.5 * 2^23
  // strict_float keeps the simplifier from folding (x + M) - M into x.
  Expr biased = strict_float(x + magic);
  Expr n = strict_float(biased - magic);
  Expr f = x - n;
  Expr p = 1.327645619858138e-3f;
  p = p * f + 9.675541209714046e-3f;
  p = p * f + 5.550713322365248e-2f;
  p = p * f + 2.402211972694580e-1f;
  p = p * f + 6.931469670348258e-1f;
  p = p * f + 1.000000071653724f;
  // For x < -125 the exponent arithmetic below wraps; the select discards it.
  Expr exponent = (reinterpret<int32_t>(biased) - reinterpret<int32_t>(Expr(magic))) << 23;
  Expr result = reinterpret<float>(reinterpret<int32_t>(p) + exponent);
  return select(x < -125.0f, 0.0f, result);
}

int roundUp(int x, int m) { return (x + m - 1) / m * m; }

void checkShape(const char *who, int headDim, int valueDim) {
  if (headDim <= 0 || valueDim <= 0)
    throw std::invalid_argument(std::string(who) + ": headDim and valueDim must be positive, got " +
                                std::to_string(headDim) + " and " + std::to_string(valueDim));
}

/// Block sizes and register tiles of the fused CPU kernel.
struct FusedTiles {
  int vec;        ///< lanes per vector
  int qBlock;     ///< queries per block (multiple of vec * scoreVecs)
  int kBlock;     ///< keys per block (multiple of scoreKeys)
  int scoreVecs;  ///< score microkernel: query vectors per tile
  int scoreKeys;  ///< score microkernel: keys per tile
  int pvVecs;     ///< P·V microkernel: value-channel vectors per tile
  int pvRows;     ///< P·V microkernel: queries per tile
  int valuePad;   ///< E rounded up to a multiple of vec * pvVecs
};

FusedTiles chooseCpuTiles(const Target &target, int valueDim) {
  FusedTiles t;
  bool avx512 = target.has_feature(Target::AVX512_Skylake) ||
                target.has_feature(Target::AVX512_SapphireRapids) ||
                target.has_feature(Target::AVX512_Cannonlake) ||
                target.has_feature(Target::AVX512);
  t.vec = std::max(4, target.natural_vector_size<float>());
  // Register tiles: 16 accumulators with AVX-512 (32 registers), 8 with AVX2
  // (16 registers), the rest for operands; measured on Zen 4, larger tiles
  // (24 accumulators, 48- or 96-query blocks) were not faster. Tiles divide
  // the blocks exactly: a partial tile has run-time extents and loses its
  // register allocation (the generated code then accumulates in memory).
  t.qBlock = 64;
  t.kBlock = 64;
  t.scoreVecs = avx512 ? 4 : 2;
  t.scoreKeys = 4;
  t.pvRows = 4;
  // P·V tile width in vectors: all of E when it fits, else the width that
  // pads E least.
  const int valueVecs = (valueDim + t.vec - 1) / t.vec, maxVecs = avx512 ? 6 : 2;
  if (valueVecs <= maxVecs) {
    t.pvVecs = valueVecs;
  } else {
    t.pvVecs = avx512 ? 4 : 2;
    for (int w = t.pvVecs; w >= 2; --w)
      if (roundUp(valueVecs, w) < roundUp(valueVecs, t.pvVecs))
        t.pvVecs = w;
  }
  t.valuePad = roundUp(valueDim, t.vec * t.pvVecs);
  if (t.qBlock % (t.vec * t.scoreVecs) || t.qBlock % t.pvRows || t.kBlock % t.scoreKeys)
    throw std::invalid_argument("fusedAttention: register tiles must divide the blocks");
  return t;
}

/// Everything the fused kernels share: packed inputs and the masked, log2-unit
/// score of one key block against a block of queries.
struct FusedInputs {
  Func qPack, kPack, vPack, dot, score;
  RDom rd;
  /// live(kb, qb, b) != 0 iff key block kb has a visible key for query block
  /// qb (only with a query-block dimension; undefined when every block is
  /// live). A Func rather than an Expr on purpose: used directly in an RDom
  /// predicate, bounds inference makes the consumers' regions conditional and
  /// the sliding window over the key blocks is lost.
  Func live;
};

/// Per-block Funcs take (..., kb, [qb,] h, b). With `queryBlockDim`, qb is the
/// query block (t / QB) as its own dimension: a predicate on kb and qb alone
/// is uniform over a microkernel tile, so fully masked blocks (causal, padding)
/// skip their FLOPs.
FusedInputs buildScores(Func q, Func k, Func v, Func keyLengths, int D, int E, int Ep, int KB,
                        int QB, bool queryBlockDim, Expr T, Expr S, const AttentionOptions &opts) {
  // Halide Vars are identified by name: every function below declares the
  // same set and they all refer to the same dimensions. Never name a Var "s":
  // Halide 14 confuses it with its stage prefixes ("f.s1.s...") and a split of
  // that dimension in an update silently computes the wrong elements.
  Var c("c"), d("d"), e("e"), t("t"), s("key"), h("h"), b("b"), si("si"), kb("kb"), qb("qb");
  std::vector<Var> blockArgs = {t, si, kb};
  if (queryBlockDim)
    blockArgs.push_back(qb);
  blockArgs.push_back(h);
  blockArgs.push_back(b);

  FusedInputs in;
  // Coordinates are absolute (t, s): a query block is the QB rows of `state`
  // computed per tile of the output; key block kb is keys [kb*KB, kb*KB + KB).
  in.qPack = Func("attn_qpack"); // (t, d, h, b): query-minor, pre-scaled by scale*log2(e)
  in.qPack(t, d, h, b) = q(d, clamp(t, 0, T - 1), h, b) * (opts.scale * kLog2e);
  in.kPack = Func("attn_kpack"); // (d, s, h, b), s padded to whole key blocks
  in.kPack(d, s, h, b) = k(d, clamp(s, 0, S - 1), h, b);
  in.vPack = Func("attn_vpack"); // (c, s, h, b), c padded to Ep with zeros
  if (Ep == E)
    in.vPack(c, s, h, b) = v(c, clamp(s, 0, S - 1), h, b);
  else
    in.vPack(c, s, h, b) = select(c < E, v(min(c, E - 1), clamp(s, 0, S - 1), h, b), 0.0f);

  // Keys visible to batch b: [0, keyEnd(b)), and s <= t when causal.
  Expr keyEnd = opts.hasLengths ? clamp(keyLengths(b), 0, S) : S;
  Expr key = kb * KB + si;
  Expr visible = key < keyEnd;
  if (opts.causal)
    visible = visible && key <= t;

  in.rd = RDom(0, D, "rd");
  if (queryBlockDim && (opts.hasLengths || opts.causal)) {
    Expr liveBlock = kb * KB < keyEnd;
    if (opts.causal)
      liveBlock = liveBlock && kb * KB <= qb * QB + (QB - 1);
    in.live = Func("attn_live");
    in.live(kb, qb, b) = select(liveBlock, 1, 0);
    in.rd.where(in.live(kb, qb, b) != 0);
  }
  in.dot = Func("attn_dot"); // accumulator of the score microkernel
  in.dot(blockArgs) = 0.0f;
  std::vector<Expr> dotArgs(blockArgs.begin(), blockArgs.end());
  in.dot(dotArgs) += in.qPack(t, in.rd, h, b) * in.kPack(in.rd, kb * KB + si, h, b);
  in.score = Func("attn_score");
  in.score(blockArgs) = select(visible, in.dot(dotArgs), kMaskedScore);
  return in;
}

Expr finalize(Expr acc, Expr sum) {
  return select(sum > 0.0f, acc / sum, 0.0f);
}

/// CPU kernel. The running max is a prefix max over the block maxima, which
/// are kept per query block (sliding window), so only {accumulator, running
/// sum} is carried from block to block and each rescale factor is computed
/// once per query row instead of once per (row, value channel).
Func fusedCpu(Func q, Func k, Func v, Func keyLengths, int D, int E, Expr T, Expr S,
              const AttentionOptions &opts, const Target &target) {
  // Halide Vars are identified by name: every function below declares the
  // same set and they all refer to the same dimensions.
  Var c("c"), d("d"), e("e"), t("t"), s("key"), h("h"), b("b"), si("si"), kb("kb"), qb("qb");
  const FusedTiles tiles = chooseCpuTiles(target, E);
  const int QB = tiles.qBlock, KB = tiles.kBlock, VL = tiles.vec, Ep = tiles.valuePad;
  FusedInputs in = buildScores(q, k, v, keyLengths, D, E, Ep, KB, QB, true, T, S, opts);
  Func qPack = in.qPack, kPack = in.kPack, vPack = in.vPack, dot = in.dot, score = in.score;
  RDom rd = in.rd;
  Expr numKeyBlocks = (S + KB - 1) / KB;

  // Every per-block Func carries qb, the query block, as a dimension of its
  // own: out reads state(e, t, t / QB); with output tiles aligned to QB (an
  // output that starts at t = 0) each tile needs exactly one qb.
  RDom rs(0, KB, "rs");
  Func blockMax("attn_blockmax"); // max over the keys of block kb
  blockMax(t, kb, qb, h, b) = kMaskedScore;
  blockMax(t, kb, qb, h, b) = max(blockMax(t, kb, qb, h, b), score(t, rs, kb, qb, h, b));

  // Running max over blocks [0, kb] and [0, kb - 1]: blockMax is kept for
  // every block of the query block (sliding window), so these prefix maxima
  // carry no state and cost O(#blocks) vector maxes per block.
  RDom rk(0, numKeyBlocks, "rk");
  Func runMax("attn_runmax"), prevMax("attn_prevmax");
  runMax(t, kb, qb, h, b) = kMaxFloor;
  runMax(t, kb, qb, h, b) = max(runMax(t, kb, qb, h, b), blockMax(t, min(rk, kb), qb, h, b));
  prevMax(t, kb, qb, h, b) = kMaxFloor;
  prevMax(t, kb, qb, h, b) =
      max(prevMax(t, kb, qb, h, b),
          select(rk < kb, blockMax(t, max(min(rk, kb - 1), 0), qb, h, b), kMaxFloor));

  // Rescale factor of the accumulator when block kb arrives.
  Func rescale("attn_rescale");
  rescale(t, kb, qb, h, b) = fastExp2(prevMax(t, kb, qb, h, b) - runMax(t, kb, qb, h, b));

  Func prob("attn_prob"); // unnormalised probabilities of block kb
  prob(t, si, kb, qb, h, b) = fastExp2(score(t, si, kb, qb, h, b) - runMax(t, kb, qb, h, b));
  Func probSum("attn_probsum");
  probSum(t, kb, qb, h, b) = 0.0f;
  probSum(t, kb, qb, h, b) += prob(t, rs, kb, qb, h, b);

  RDom rsLive(0, KB, "rsl"); // like rs, but dead blocks skip the P·V microkernel
  if (in.live.defined())
    rsLive.where(in.live(kb, qb, b) != 0);
  Func pvAcc("attn_pvacc"); // accumulator of the P·V microkernel
  pvAcc(c, t, kb, qb, h, b) = 0.0f;
  pvAcc(c, t, kb, qb, h, b) += prob(t, rsLive, kb, qb, h, b) * vPack(c, kb * KB + rsLive, h, b);

  // Online softmax state of a query block: {accumulator, running sum}.
  Func state("attn_state");
  state(c, t, qb, h, b) = Tuple(0.0f, 0.0f);
  {
    Expr alpha = rescale(t, rk, qb, h, b);
    state(c, t, qb, h, b) =
        Tuple(state(c, t, qb, h, b)[0] * alpha + pvAcc(c, t, rk, qb, h, b),
              state(c, t, qb, h, b)[1] * alpha + probSum(t, rk, qb, h, b));
  }

  Func invSum("attn_invsum"); // one division per query row
  {
    Expr sum = state(0, t, qb, h, b)[1];
    invSum(t, qb, h, b) = select(sum > 0.0f, 1.0f / sum, 0.0f);
  }
  Func out("attn_fused");
  out(e, t, h, b) = state(e, t, t / QB, h, b)[0] * invSum(t, t / QB, h, b);

  // ---- Schedule. Loop nest per (b, h) [parallel]:
  //   pack K, V | for each query block: pack Q, then for each key block:
  //   score microkernel, block max, prefix maxima, exp2, row sums,
  //   P·V microkernel, state update | normalise and store.
  Var tb("tb"), ti("ti"), tio("tio"), tii("tii"), sio("sio"), sii("sii"), co("co"), ci("ci"),
      bh("bh");
  out.split(t, tb, ti, QB, TailStrategy::GuardWithIf)
      .reorder(e, ti, tb, h, b)
      .fuse(h, b, bh)
      .parallel(bh);
  if (E >= VL)
    out.vectorize(e, VL);

  kPack.compute_at(out, bh).vectorize(d, std::min(VL, D));
  vPack.compute_at(out, bh).vectorize(c, VL);
  qPack.compute_at(out, tb).store_in(MemoryType::Stack).vectorize(t, VL).unroll(d, 4);

  // Not forced onto the stack: with an unaligned output the qb extent is only
  // known at run time (and the allocation is made once per query block).
  state.compute_at(out, tb).bound(c, 0, Ep).bound_extent(t, QB);
  state.vectorize(c, VL);
  // P·V microkernel: its accumulators (pvVecs vectors x pvRows queries) are
  // computed per tile of the state update and folded in from registers.
  state.update()
      .tile(c, t, co, tio, ci, tii, VL * tiles.pvVecs, tiles.pvRows)
      .reorder(ci, tii, co, tio, rk)
      .vectorize(ci, VL)
      .unroll(ci)
      .unroll(tii);
  pvAcc.compute_at(state, co).vectorize(c, VL).unroll(c).unroll(t);
  pvAcc.update().reorder(c, t, rsLive).vectorize(c, VL).unroll(c).unroll(t);
  invSum.compute_at(out, tb).bound_extent(t, QB).vectorize(t, VL);
  if (in.live.defined())
    in.live.compute_at(state, rk).bound_extent(kb, 1);

  // Score microkernel: scoreVecs x scoreKeys accumulators, d loop outside.
  score.compute_at(state, rk)
      .bound_extent(kb, 1)
      .bound_extent(qb, 1)
      .bound(si, 0, KB)
      .store_in(MemoryType::Stack)
      .tile(t, si, tio, sio, tii, sii, VL * tiles.scoreVecs, tiles.scoreKeys)
      .vectorize(tii, VL)
      .unroll(tii)
      .unroll(sii);
  dot.compute_at(score, tio).bound_extent(kb, 1).vectorize(t, VL).unroll(t).unroll(si);
  dot.update().reorder(t, si, rd).vectorize(t, VL).unroll(t).unroll(si);

  blockMax.store_at(state, qb).compute_at(state, rk).vectorize(t, VL);
  blockMax.update().reorder(t, rs).vectorize(t, VL).unroll(t);
  runMax.compute_at(state, rk).vectorize(t, VL);
  runMax.update().reorder(t, rk).vectorize(t, VL);
  prevMax.compute_at(state, rk).vectorize(t, VL);
  prevMax.update().reorder(t, rk).vectorize(t, VL);
  rescale.compute_at(state, rk).vectorize(t, VL);

  prob.compute_at(state, rk).store_in(MemoryType::Stack).vectorize(t, VL).unroll(t);
  probSum.compute_at(state, rk).vectorize(t, VL);
  probSum.update().reorder(t, rs).vectorize(t, VL).unroll(t);

  return out;
}

/// Block sizes of the GPU kernel: the per-block working set lives in shared
/// memory, which must stay under the 48 KiB a CUDA block gets by default.
struct GpuTiles {
  int qBlock, kBlock;
  int threadsX = 32, threadsY = 8;
};

GpuTiles chooseGpuTiles(int D, int E) {
  const int budget = 44 * 1024;
  for (int qBlock : {32, 16, 8})
    for (int kBlock : {32, 16, 8}) {
      // state {acc, sum, max} + q block + K and V tiles + scores + probabilities
      int bytes = 4 * (3 * E * qBlock + qBlock * D + D * kBlock + E * kBlock + 2 * qBlock * kBlock);
      if (bytes <= budget)
        return GpuTiles{qBlock, kBlock};
    }
  throw std::invalid_argument("fusedAttention: headDim " + std::to_string(D) + " + valueDim " +
                              std::to_string(E) + " too large for the GPU schedule's shared memory");
}

/// GPU kernel (also built for the CPU, with a simple schedule, to test its
/// algorithm where no GPU exists). Probabilities of a key block are taken
/// relative to that block's own max, so nothing but {acc, sum, max} per
/// (channel, query) is carried; the two exp2 per (channel, query, block) are
/// cheap on a GPU, where each thread owns its channels. No block history is
/// kept (shared memory is scarce).
Func fusedBlockLocal(Func q, Func k, Func v, Func keyLengths, int D, int E, Expr T, Expr S,
                     const AttentionOptions &opts, const Target &target, int QB, int KB) {
  // Halide Vars are identified by name: every function below declares the
  // same set and they all refer to the same dimensions.
  Var c("c"), d("d"), e("e"), t("t"), s("key"), h("h"), b("b"), si("si"), kb("kb");
  FusedInputs in = buildScores(q, k, v, keyLengths, D, E, E, KB, QB, false, T, S, opts);
  Func qPack = in.qPack, kPack = in.kPack, vPack = in.vPack, dot = in.dot, score = in.score;
  RDom rd = in.rd;
  Expr numKeyBlocks = (S + KB - 1) / KB;

  RDom rs(0, KB, "rs");
  Func blockMax("attn_blockmax"); // max of block kb, floored so that exp2 stays finite
  blockMax(t, kb, h, b) = kMaxFloor;
  blockMax(t, kb, h, b) = max(blockMax(t, kb, h, b), score(t, rs, kb, h, b));
  Func prob("attn_prob");
  prob(t, si, kb, h, b) = fastExp2(score(t, si, kb, h, b) - blockMax(t, kb, h, b));
  Func probSum("attn_probsum");
  probSum(t, kb, h, b) = 0.0f;
  probSum(t, kb, h, b) += prob(t, rs, kb, h, b);
  Func pvAcc("attn_pvacc");
  pvAcc(c, t, kb, h, b) = 0.0f;
  pvAcc(c, t, kb, h, b) += prob(t, rs, kb, h, b) * vPack(c, kb * KB + rs, h, b);

  RDom rk(0, numKeyBlocks, "rk");
  Func state("attn_state"); // {accumulator, running sum, running max}
  state(c, t, h, b) = Tuple(0.0f, 0.0f, kMaxFloor);
  {
    Expr oldMax = state(c, t, h, b)[2];
    Expr blockRef = blockMax(t, rk, h, b);
    Expr newMax = max(oldMax, blockRef);
    Expr keep = fastExp2(oldMax - newMax), take = fastExp2(blockRef - newMax);
    state(c, t, h, b) = Tuple(state(c, t, h, b)[0] * keep + pvAcc(c, t, rk, h, b) * take,
                              state(c, t, h, b)[1] * keep + probSum(t, rk, h, b) * take, newMax);
  }
  Func out("attn_fused");
  out(e, t, h, b) = finalize(state(e, t, h, b)[0], state(e, t, h, b)[1]);

  Var tb("tb"), ti("ti"), to("to"), tt("tt"), co("co"), cc("cc"), dd("dd"), dt("dt"), so("so"),
      st("st"), bh("bh");
  if (!target.has_gpu_feature()) {
    // Plain CPU schedule, for testing the algorithm only.
    const int VL = std::max(4, target.natural_vector_size<float>());
    out.split(t, tb, ti, QB, TailStrategy::GuardWithIf).reorder(e, ti, tb, h, b).fuse(h, b, bh).parallel(bh);
    state.compute_at(out, tb).bound(c, 0, E).bound_extent(t, QB);
    state.update().reorder(c, t, rk);
    qPack.compute_at(out, tb);
    for (Func f : {kPack, vPack, score, blockMax, prob, probSum})
      f.compute_at(state, rk).vectorize(f.args()[0], VL, TailStrategy::GuardWithIf);
    for (Func f : {blockMax, probSum})
      f.update().reorder(t, rs).vectorize(t, VL, TailStrategy::GuardWithIf);
    pvAcc.compute_at(state, rk).vectorize(c, VL, TailStrategy::GuardWithIf);
    pvAcc.update().reorder(c, t, rs).vectorize(c, VL, TailStrategy::GuardWithIf);
    dot.compute_at(score, t);
    return out;
  }

  // ---- GPU schedule: one CUDA block per (query block, head, batch); threads
  // (x, y) = (channel or query, query or key); K/V tiles, scores and
  // probabilities of the current key block in shared memory; each thread
  // accumulates its (channel, query) outputs in registers.
  const GpuTiles g{QB, KB};
  const int TX = g.threadsX, TY = g.threadsY;
  // Per thread: CE consecutive channels x CT consecutive queries of the state,
  // KT consecutive keys of the scores; small enough to live in registers.
  const int CE = (E + TX - 1) / TX, CT = (QB + TY - 1) / TY, KT = (KB + TY - 1) / TY;
  out.split(t, tb, ti, QB, TailStrategy::GuardWithIf)
      .split(ti, to, tt, TY, TailStrategy::GuardWithIf)
      .split(e, co, cc, TX, TailStrategy::GuardWithIf)
      .reorder(co, to, cc, tt, tb, h, b)
      .gpu_blocks(tb, h, b)
      .gpu_threads(cc, tt);

  state.compute_at(out, tb).bound(c, 0, E).bound_extent(t, QB);
  state.split(c, cc, co, CE, TailStrategy::GuardWithIf)
      .split(t, tt, to, CT, TailStrategy::GuardWithIf)
      .reorder(co, to, cc, tt)
      .gpu_threads(cc, tt);
  state.update()
      .split(c, cc, co, CE, TailStrategy::GuardWithIf)
      .split(t, tt, to, CT, TailStrategy::GuardWithIf)
      .reorder(co, to, cc, tt, rk)
      .gpu_threads(cc, tt)
      .unroll(co)
      .unroll(to);
  // Registers: each thread's (channel, query) accumulators of P·V.
  pvAcc.compute_at(state, cc).store_in(MemoryType::Register).unroll(c).unroll(t);
  pvAcc.update().reorder(c, t, rs).unroll(c).unroll(t);

  qPack.compute_at(out, tb)
      .split(t, to, tt, TX, TailStrategy::GuardWithIf)
      .split(d, dd, dt, TY, TailStrategy::GuardWithIf)
      .reorder(to, dd, tt, dt)
      .gpu_threads(tt, dt);
  for (Func f : {kPack, vPack}) {
    Var x = f.args()[0], y = f.args()[1];
    f.compute_at(state, rk)
        .split(x, co, cc, TX, TailStrategy::GuardWithIf)
        .split(y, so, st, TY, TailStrategy::GuardWithIf)
        .reorder(co, so, cc, st)
        .gpu_threads(cc, st);
  }
  // Scores and probabilities: thread x = query, thread y = KT consecutive keys.
  for (Func f : {score, prob}) {
    f.compute_at(state, rk)
        .split(si, st, so, KT, TailStrategy::GuardWithIf)
        .reorder(so, t, st)
        .gpu_threads(t, st)
        .unroll(so);
  }
  dot.compute_at(score, t).store_in(MemoryType::Register).unroll(si);
  dot.update().reorder(si, t, rd).unroll(si);
  for (Func f : {blockMax, probSum}) {
    f.compute_at(state, rk).gpu_threads(t);
    f.update().gpu_threads(t);
  }
  return out;
}

} // namespace

Func fusedAttention(Func q, Func k, Func v, Func keyLengths, int headDim, int valueDim,
                    Expr numQueries, Expr numKeys, const AttentionOptions &opts,
                    const Target &target) {
  checkShape("fusedAttention", headDim, valueDim);
  if (target.has_gpu_feature()) {
    GpuTiles g = chooseGpuTiles(headDim, valueDim);
    return fusedBlockLocal(q, k, v, keyLengths, headDim, valueDim, numQueries, numKeys, opts,
                           target, g.qBlock, g.kBlock);
  }
  return fusedCpu(q, k, v, keyLengths, headDim, valueDim, numQueries, numKeys, opts, target);
}

namespace detail {
Func fusedAttentionBlockLocalForTesting(Func q, Func k, Func v, Func keyLengths, int headDim,
                                        int valueDim, Expr numQueries, Expr numKeys,
                                        const AttentionOptions &opts, const Target &target) {
  checkShape("fusedAttentionBlockLocalForTesting", headDim, valueDim);
  if (target.has_gpu_feature())
    throw std::invalid_argument("fusedAttentionBlockLocalForTesting: needs a CPU target");
  GpuTiles g = chooseGpuTiles(headDim, valueDim);
  return fusedBlockLocal(q, k, v, keyLengths, headDim, valueDim, numQueries, numKeys, opts, target,
                         g.qBlock, g.kBlock);
}
} // namespace detail

Func unfusedAttention(Func q, Func k, Func v, Func keyLengths, int headDim, int valueDim,
                      Expr numQueries, Expr numKeys, const AttentionOptions &opts,
                      const Target &target) {
  checkShape("unfusedAttention", headDim, valueDim);
  const int D = headDim;
  const int VL = std::max(4, target.natural_vector_size<float>());
  Expr T = numQueries, S = numKeys;
  Var d("d"), e("e"), t("t"), s("key"), h("h"), b("b"), so("so"), si("si"), to("to"), tii("tii");

  // Scores in natural units; kept as a whole T x S matrix per (b, h).
  Expr keyEnd = opts.hasLengths ? clamp(keyLengths(b), 0, S) : S;
  Expr visible = s < keyEnd;
  if (opts.causal)
    visible = visible && s <= t;
  RDom rd(0, D, "rd");
  Func kT("unfused_kT"); // k transposed so that the score loop vectorises over keys
  kT(s, d, h, b) = k(d, clamp(s, 0, S - 1), h, b); // clamped: score rounds s up to whole tiles
  Func dot("unfused_dot");
  dot(s, t, h, b) = 0.0f;
  dot(s, t, h, b) += q(rd, t, h, b) * kT(s, rd, h, b);
  Func score("unfused_score");
  score(s, t, h, b) = select(visible, dot(s, t, h, b) * opts.scale, kMaskedScore);

  RDom rs(0, S, "rs");
  Func rowMax("unfused_rowmax");
  rowMax(t, h, b) = kMaxFloor;
  rowMax(t, h, b) = max(rowMax(t, h, b), score(rs, t, h, b));
  Func expScore("unfused_exp");
  expScore(s, t, h, b) = select(visible, exp(score(s, t, h, b) - rowMax(t, h, b)), 0.0f);
  Func rowSum("unfused_rowsum");
  rowSum(t, h, b) = 0.0f;
  rowSum(t, h, b) += expScore(rs, t, h, b);
  Func probs("unfused_probs");
  probs(s, t, h, b) = select(rowSum(t, h, b) > 0.0f, expScore(s, t, h, b) / rowSum(t, h, b), 0.0f);

  Func out("attn_unfused");
  out(e, t, h, b) = 0.0f;
  out(e, t, h, b) += probs(rs, t, h, b) * v(e, rs, h, b);

  // Schedule: every stage compute_root, parallel over batch x heads.
  Var bh("bh");
  kT.compute_root().fuse(h, b, bh).parallel(bh).vectorize(s, VL);
  // RoundUp keeps every tile of dot a whole (VL*4)-key block of registers.
  score.compute_root().fuse(h, b, bh).parallel(bh).split(s, so, si, VL * 4, TailStrategy::RoundUp)
      .vectorize(si, VL).unroll(si);
  dot.compute_at(score, so).vectorize(s, VL).unroll(s);
  dot.update().reorder(s, rd).vectorize(s, VL).unroll(s);
  rowMax.compute_at(expScore, t);
  expScore.compute_root().fuse(h, b, bh).parallel(bh).vectorize(s, VL, TailStrategy::GuardWithIf);
  rowSum.compute_root().fuse(h, b, bh).parallel(bh);
  rowSum.update().fuse(h, b, bh).parallel(bh);
  probs.compute_root().fuse(h, b, bh).parallel(bh).vectorize(s, VL, TailStrategy::GuardWithIf);
  out.compute_root().fuse(h, b, bh).parallel(bh);
  out.update().fuse(h, b, bh).parallel(bh).reorder(e, rs, t).vectorize(e, VL, TailStrategy::GuardWithIf);
  (void)D;
  return out;
}

// ===------------------------------------------------------------------=== //
// Fused backward.
// ===------------------------------------------------------------------=== //

namespace {

/// Tiles of the CPU backward schedule.
struct BackwardTiles {
  int vec;     ///< lanes per vector
  int qBlock;  ///< queries per block of the lse and dq passes
  int kBlock;  ///< keys per block of the dk/dv pass
  int scoreVecs; ///< score / dp microkernels: vectors (along the block) per tile
  int dqVecs, dqRows, dqPad; ///< dq microkernel: channel vectors, query rows; D padded
  int kvVecs, kvRows, kvPad; ///< dk/dv microkernel: channel vectors, key rows; max(D,E) padded
};

BackwardTiles chooseBackwardTiles(const Target &target, int D, int E) {
  BackwardTiles t;
  bool avx512 = target.has_feature(Target::AVX512_Skylake) ||
                target.has_feature(Target::AVX512_SapphireRapids) ||
                target.has_feature(Target::AVX512_Cannonlake) ||
                target.has_feature(Target::AVX512);
  t.vec = std::max(4, target.natural_vector_size<float>());
  // Score / dp microkernels as in the forward: 4 x 4 accumulators with
  // AVX-512, 2 x 4 with AVX2. Blocks of 64 (AVX-512) or 32 queries / keys:
  // the per-block buffers ([block x S] ds for dq, [T x block] {p, ds} for
  // dk/dv) stay L2-sized for sequences up to ~2K.
  t.scoreVecs = avx512 ? 4 : 2;
  t.qBlock = t.kBlock = std::max(32, t.vec * t.scoreVecs);
  // Accumulator budget (vector registers) of a microkernel tile.
  const int budget = avx512 ? 24 : 8;
  auto pickVecs = [&](int channels) {
    int vecs = (channels + t.vec - 1) / t.vec, best = 1;
    for (int w = 1; w <= std::min(vecs, 4); ++w)
      if (roundUp(vecs, w) <= roundUp(vecs, best))
        best = w;
    return best;
  };
  auto pickRows = [](int room) { return room >= 4 ? 4 : room >= 2 ? 2 : 1; };
  t.dqVecs = pickVecs(D);
  t.dqRows = pickRows(budget / t.dqVecs);
  t.dqPad = roundUp(D, t.vec * t.dqVecs);
  t.kvVecs = pickVecs(std::max(D, E));
  t.kvRows = pickRows(budget / (2 * t.kvVecs));
  t.kvPad = roundUp(std::max(D, E), t.vec * t.kvVecs);
  if (t.qBlock % (t.vec * t.scoreVecs) || t.kBlock % (t.vec * t.scoreVecs) ||
      t.qBlock % t.dqRows || t.kBlock % t.kvRows)
    throw std::invalid_argument("fusedAttentionBackward: tiles must divide the blocks");
  return t;
}

} // namespace

AttentionGradients fusedAttentionBackward(Func q, Func k, Func v, Func out, Func dOut,
                                          Func keyLengths, int headDim, int valueDim,
                                          Expr numQueries, Expr numKeys,
                                          const AttentionOptions &opts, const Target &target) {
  checkShape("fusedAttentionBackward", headDim, valueDim);
  const int D = headDim, E = valueDim;
  const bool gpu = target.has_gpu_feature();
  Expr T = numQueries, S = numKeys;
  // Never name a Var "s" (see buildScores).
  Var c("c"), d("d"), e("e"), t("t"), s("key"), h("h"), b("b");
  const float scoreScale = opts.scale * kLog2e; // scores in log2 units
  const BackwardTiles tiles = chooseBackwardTiles(target, D, E);
  const int VL = tiles.vec, QB = tiles.qBlock, KB = tiles.kBlock;
  const int Dp = gpu ? D : tiles.dqPad, Cp = gpu ? std::max(D, E) : tiles.kvPad;

  // Kept keys of batch b: s < keyEnd(b), and s <= t when causal.
  Expr keyEnd = opts.hasLengths ? clamp(keyLengths(b), 0, S) : S;
  auto kept = [&](Expr key, Expr query) {
    Expr r = key < keyEnd;
    if (opts.causal)
      r = r && key <= query;
    return r;
  };
  // Clamped views of the inputs (inlined): internal stages are computed over
  // whole tiles, possibly past T or S.
  Func qc("bwd_qc"), kc("bwd_kc"), vc("bwd_vc"), oc("bwd_oc"), gc("bwd_doutc");
  qc(d, t, h, b) = q(d, clamp(t, 0, T - 1), h, b);
  kc(d, s, h, b) = k(d, clamp(s, 0, S - 1), h, b);
  vc(e, s, h, b) = v(e, clamp(s, 0, S - 1), h, b);
  oc(e, t, h, b) = out(e, clamp(t, 0, T - 1), h, b);
  gc(e, t, h, b) = dOut(e, clamp(t, 0, T - 1), h, b);
  RDom rd(0, D, "rd"), re(0, E, "re"), rs(0, S, "rs"), rt(0, T, "rt");

  // Dt(t) = sum_e dOut * out.
  Func dtSum("bwd_dtsum"), Dt("bwd_dt");
  dtSum(t, h, b) = 0.0f;
  dtSum(t, h, b) += gc(re, t, h, b) * oc(re, t, h, b);
  Dt(t, h, b) = dtSum(t, h, b);

  // ---- Pass 1: lse(t) in log2 units (0 for a row with no kept key).
  Func qT1("bwd_lse_q"), dot1("bwd_lse_dot"), sc1("bwd_lse_score"), lse("bwd_lse");
  qT1(t, d, h, b) = qc(d, t, h, b) * scoreScale;
  dot1(t, s, h, b) = 0.0f;
  dot1(t, s, h, b) += qT1(t, rd, h, b) * kc(rd, s, h, b);
  sc1(t, s, h, b) = select(kept(s, t), dot1(t, s, h, b), kMaskedScore);
  Func rowMax("bwd_rowmax"), rowSum("bwd_rowsum"), lseState("bwd_lse_state");
  if (!gpu) {
    rowMax(t, h, b) = kMaxFloor;
    rowMax(t, h, b) = max(rowMax(t, h, b), sc1(t, rs, h, b));
    rowSum(t, h, b) = 0.0f;
    rowSum(t, h, b) += fastExp2(sc1(t, rs, h, b) - rowMax(t, h, b));
    lse(t, h, b) = select(rowSum(t, h, b) > 0.0f,
                          rowMax(t, h, b) + log(rowSum(t, h, b)) * kLog2e, 0.0f);
  } else {
    // One streaming pass (online max and sum): nothing per key is stored.
    lseState(t, h, b) = Tuple(kMaxFloor, 0.0f);
    Expr m = lseState(t, h, b)[0], l = lseState(t, h, b)[1], x = sc1(t, rs, h, b);
    Expr m2 = max(m, x);
    lseState(t, h, b) = Tuple(m2, l * fastExp2(m - m2) + fastExp2(x - m2));
    Expr sum = lseState(t, h, b)[1];
    lse(t, h, b) = select(sum > 0.0f, lseState(t, h, b)[0] + log(sum) * kLog2e, 0.0f);
  }

  // ---- Pass 2: dq per block of queries; ds(t, s) of the block at the block.
  Func qT2("bwd_dq_q"), gT2("bwd_dq_dout"), dot2("bwd_dq_dot"), dp2("bwd_dq_dp"),
      ds2("bwd_dq_ds"), kPad("bwd_dq_k"), dqTile("bwd_dq_tile"), dqAcc("bwd_dq_acc"),
      dq("attn_bwd_dq");
  qT2(t, d, h, b) = qc(d, t, h, b) * scoreScale;
  gT2(t, e, h, b) = gc(e, t, h, b);
  dot2(t, s, h, b) = 0.0f;
  dot2(t, s, h, b) += qT2(t, rd, h, b) * kc(rd, s, h, b);
  dp2(t, s, h, b) = 0.0f;
  dp2(t, s, h, b) += gT2(t, re, h, b) * vc(re, s, h, b);
  // ds pre-multiplied by scale (dq = scale * sum_s ds k).
  ds2(t, s, h, b) = select(kept(s, t),
                           fastExp2(dot2(t, s, h, b) - lse(t, h, b)) *
                               (dp2(t, s, h, b) - Dt(t, h, b)) * opts.scale,
                           0.0f);
  kPad(d, s, h, b) = kc(min(d, D - 1), s, h, b); // channels padded to Dp (discarded)
  dqTile(d, t, h, b) = 0.0f;
  dqTile(d, t, h, b) += ds2(t, rs, h, b) * kPad(d, rs, h, b);
  dqAcc(d, t, h, b) = dqTile(d, t, h, b);
  dq(d, t, h, b) = dqAcc(d, t, h, b);

  // ---- Pass 3: dk and dv together, per block of keys; {p, ds}(s, t) of the
  // block at the block.
  Func kT3("bwd_kv_k"), vT3("bwd_kv_v"), dot3("bwd_kv_dot"), dp3("bwd_kv_dp"),
      pds3("bwd_kv_pds"), qPad("bwd_kv_q"), gPad("bwd_kv_dout"), kvTile("bwd_kv_tile"),
      kv("bwd_kv"), dk("attn_bwd_dk"), dv("attn_bwd_dv");
  kT3(s, d, h, b) = kc(d, s, h, b) * scoreScale;
  vT3(s, e, h, b) = vc(e, s, h, b);
  dot3(s, t, h, b) = 0.0f;
  dot3(s, t, h, b) += kT3(s, rd, h, b) * qc(rd, t, h, b);
  dp3(s, t, h, b) = 0.0f;
  dp3(s, t, h, b) += vT3(s, re, h, b) * gc(re, t, h, b);
  {
    Expr p = select(kept(s, t), fastExp2(dot3(s, t, h, b) - lse(t, h, b)), 0.0f);
    pds3(s, t, h, b) = Tuple(p, p * (dp3(s, t, h, b) - Dt(t, h, b)) * opts.scale);
  }
  qPad(c, t, h, b) = qc(min(c, D - 1), t, h, b); // channels padded to Cp (discarded)
  gPad(c, t, h, b) = gc(min(c, E - 1), t, h, b);
  kvTile(c, s, h, b) = Tuple(0.0f, 0.0f);
  kvTile(c, s, h, b) = Tuple(kvTile(c, s, h, b)[0] + pds3(s, rt, h, b)[1] * qPad(c, rt, h, b),
                             kvTile(c, s, h, b)[1] + pds3(s, rt, h, b)[0] * gPad(c, rt, h, b));
  kv(c, s, h, b) = Tuple(kvTile(c, s, h, b)[0], kvTile(c, s, h, b)[1]);
  dk(d, s, h, b) = kv(d, s, h, b)[0];
  dv(e, s, h, b) = kv(e, s, h, b)[1];

  Var tb("tb"), ti("ti"), to("to"), tii("tii"), kb("kb"), si("si"), so("so"), sii("sii"),
      co("co"), ci("ci"), blk("blk"), blk1("blk1"), hb("hb"), x0("x0"), x1("x1");
  if (gpu) {
    // ---- Simple GPU schedule: one thread per query (lse, dq) or key (dk/dv),
    // streaming over the other sequence; scores and probabilities are scalars
    // in registers, per-thread accumulators in registers / local memory.
    const int TPB = 64;
    Dt.compute_root().split(t, tb, ti, TPB, TailStrategy::GuardWithIf)
        .gpu_blocks(tb, h, b).gpu_threads(ti);
    dtSum.compute_at(Dt, ti);
    lse.compute_root().split(t, tb, ti, TPB, TailStrategy::GuardWithIf)
        .gpu_blocks(tb, h, b).gpu_threads(ti);
    lseState.compute_at(lse, ti);
    dot1.compute_at(lseState, rs);

    dq.split(t, tb, ti, TPB, TailStrategy::GuardWithIf).reorder(d, ti, tb, h, b)
        .gpu_blocks(tb, h, b).gpu_threads(ti);
    dqTile.compute_at(dq, ti).bound(d, 0, D).unroll(d);
    dqTile.update().reorder(d, rs).unroll(d);
    for (Func f : {dot2, dp2, ds2})
      f.compute_at(dqTile, rs);

    kv.compute_root().bound(c, 0, Cp).split(s, kb, si, TPB, TailStrategy::GuardWithIf)
        .reorder(c, si, kb, h, b).gpu_blocks(kb, h, b).gpu_threads(si);
    kvTile.compute_at(kv, si).unroll(c);
    kvTile.update().reorder(c, rt).unroll(c);
    for (Func f : {dot3, dp3, pds3})
      f.compute_at(kvTile, rt);
    for (Func f : {dk, dv}) {
      Var x = f.args()[0], y = f.args()[1];
      f.fuse(h, b, hb).split(x, x0, x1, 32, TailStrategy::GuardWithIf)
          .split(y, so, si, 8, TailStrategy::GuardWithIf).reorder(x1, si, x0, so, hb)
          .gpu_blocks(x0, so, hb).gpu_threads(x1, si);
    }
    return {dq, dk, dv};
  }

  // ---- CPU schedule.
  const int SV = VL * tiles.scoreVecs;
  Dt.compute_root().fuse(h, b, hb).parallel(hb).vectorize(t, VL, TailStrategy::GuardWithIf);
  dtSum.compute_at(Dt, hb).vectorize(t, VL, TailStrategy::GuardWithIf);
  dtSum.update().reorder(t, re).vectorize(t, VL, TailStrategy::GuardWithIf);

  // Score-like microkernel: f(x, y) for x the vectorised block dimension
  // (tile SV), y the other sequence (tile 4), reduction inner.
  auto scoreTiles = [&](Func f, Var x, Var y, std::vector<std::pair<Func, RDom>> accs) {
    f.tile(x, y, x0, so, x1, sii, SV, 4, TailStrategy::RoundUp)
        .vectorize(x1, VL).unroll(x1).unroll(sii);
    for (auto &[a, r] : accs) {
      a.compute_at(f, x0).vectorize(x, VL).unroll(x).unroll(y);
      a.update().reorder(x, y, RVar(r)).vectorize(x, VL).unroll(x).unroll(y);
    }
  };

  // Pass 1, per (query block, head, batch).
  lse.compute_root().split(t, tb, ti, QB, TailStrategy::GuardWithIf)
      .fuse(tb, h, blk1).fuse(blk1, b, blk).parallel(blk).vectorize(ti, VL, TailStrategy::GuardWithIf);
  qT1.compute_at(lse, blk).bound_extent(t, QB).vectorize(t, VL);
  sc1.compute_at(lse, blk).bound_extent(t, QB);
  scoreTiles(sc1, t, s, {{dot1, rd}});
  for (Func f : {rowMax, rowSum}) {
    f.compute_at(lse, blk).bound_extent(t, QB).vectorize(t, VL);
    f.update().reorder(t, rs).vectorize(t, VL).unroll(t);
  }

  // Pass 2, per (query block, head, batch).
  dq.split(t, tb, ti, QB, TailStrategy::GuardWithIf).reorder(d, ti, tb, h, b)
      .fuse(tb, h, blk1).fuse(blk1, b, blk).parallel(blk);
  if (D >= VL)
    dq.vectorize(d, VL, TailStrategy::GuardWithIf);
  for (Func f : {qT2, gT2})
    f.compute_at(dq, blk).bound_extent(t, QB).vectorize(t, VL);
  ds2.compute_at(dq, blk).bound_extent(t, QB);
  scoreTiles(ds2, t, s, {{dot2, rd}, {dp2, re}});
  kPad.compute_root().bound(d, 0, Dp).fuse(h, b, hb).parallel(hb).vectorize(d, VL);
  dqAcc.compute_at(dq, blk).bound(d, 0, Dp).bound_extent(t, QB)
      .tile(d, t, co, to, ci, tii, VL * tiles.dqVecs, tiles.dqRows)
      .vectorize(ci, VL).unroll(ci).unroll(tii);
  dqTile.compute_at(dqAcc, co).vectorize(d, VL).unroll(d).unroll(t);
  dqTile.update().reorder(d, t, rs).vectorize(d, VL).unroll(d).unroll(t);

  // Pass 3, per (key block, head, batch).
  kv.compute_root().bound(c, 0, Cp).split(s, kb, si, KB, TailStrategy::RoundUp)
      .tile(c, si, co, so, ci, sii, VL * tiles.kvVecs, tiles.kvRows)
      .reorder(ci, sii, co, so, kb, h, b).fuse(kb, h, blk1).fuse(blk1, b, blk).parallel(blk)
      .vectorize(ci, VL).unroll(ci).unroll(sii);
  kvTile.compute_at(kv, co).vectorize(c, VL).unroll(c).unroll(s);
  kvTile.update().reorder(c, s, rt).vectorize(c, VL).unroll(c).unroll(s);
  for (Func f : {kT3, vT3})
    f.compute_at(kv, blk).bound_extent(s, KB).vectorize(s, VL);
  pds3.compute_at(kv, blk).bound_extent(s, KB);
  scoreTiles(pds3, s, t, {{dot3, rd}, {dp3, re}});
  for (Func f : {qPad, gPad})
    f.compute_root().bound(c, 0, Cp).fuse(h, b, hb).parallel(hb).vectorize(c, VL);
  for (Func f : {dk, dv}) {
    Var x = f.args()[0];
    f.fuse(h, b, hb).parallel(hb);
    if ((f.name() == dk.name() ? D : E) >= VL)
      f.vectorize(x, VL, TailStrategy::GuardWithIf);
  }
  return {dq, dk, dv};
}

} // namespace attn::kernels
