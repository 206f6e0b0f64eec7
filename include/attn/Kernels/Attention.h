//===- Attention.h - Fused and unfused attention as Halide Funcs -*- C++ -*-===//
//
// The attention kernel of attnc, as reusable Halide 14 functions: callers
// (kernel generators, the Halide lowering of the attn dialect) plug their own
// q/k/v Funcs in and get back a Func that computes the attention output.
//
// Halide.h is deliberately not included here (it costs ~2.5 s per TU): this
// header only forward-declares what the signatures mention. Code that calls
// these functions includes Halide.h itself.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_KERNELS_ATTENTION_H
#define ATTN_KERNELS_ATTENTION_H

namespace Halide {
class Func;
struct Expr;
struct Target;
} // namespace Halide

namespace attn::kernels {

struct AttentionOptions {
  /// Multiplies q·k before the softmax (typically 1/sqrt(headDim)).
  float scale = 1.0f;
  /// Query t only sees keys s <= t.
  bool causal = false;
  /// Use keyLengths(b) as a per-batch padding mask (keys s >= keyLengths(b)
  /// are excluded). When false, keyLengths is not called at all (an undefined
  /// Func may be passed).
  bool hasLengths = true;
};

/// Attention over 4-D Funcs, dimensions listed innermost first:
///   q(d, t, h, b), k(d, s, h, b), v(e, s, h, b), keyLengths(b) (int32)
///   out(e, t, h, b) = sum_s softmax_s(scale * sum_d q·k, masked) * v(e, s, h, b)
/// headDim (D) and valueDim (E) are compile-time constants; numQueries (T) and
/// numKeys (S) are run-time Exprs (heads and batch come from the output
/// bounds). Masked keys: s >= keyLengths(b) (if hasLengths) or s >= S, and
/// s > t (if causal). A query row that sees no key produces 0.
///
/// fusedAttention streams key blocks through an online softmax (running max,
/// running sum, rescaled accumulator) per block of queries; it never stores
/// the T x S score matrix. It builds AND schedules every internal stage for
/// `target` (x86 AVX-512 / AVX2 / other CPUs, or CUDA-style GPUs when
/// target.has_gpu_feature()).
///
/// Scheduling contract:
///  - The returned Func is fully scheduled *as the root of its own loop nest*:
///    the caller must realize it as a pipeline output or call
///    `.compute_root()` on it (do not inline it or compute_at it elsewhere;
///    do not reschedule its loops).
///  - q, k and v are only read (through internal packed copies made per
///    (batch, head) for k/v and per query block for q), so they may be any
///    Funcs; if they are expensive, compute_root them in the caller, since k
///    and v are re-read once per (batch, head) and q once per query block.
///    Each element of q, k, v is read in the range d < D, e < E, t < T, s < S.
///  - keyLengths is read once per query block.
Halide::Func fusedAttention(Halide::Func q, Halide::Func k, Halide::Func v,
                            Halide::Func keyLengths, int headDim, int valueDim,
                            Halide::Expr numQueries, Halide::Expr numKeys,
                            const AttentionOptions &opts,
                            const Halide::Target &target);

/// The unfused baseline: scores, masked softmax and P·V each computed as a
/// whole (compute_root) T x S stage, vectorised and parallel. Same semantics
/// and scheduling contract as fusedAttention; it materialises B*H*T*S floats
/// twice, which is what fusion avoids. CPU targets only (a GPU target gets
/// the same CPU schedule, i.e. it must not be compiled with a GPU feature).
Halide::Func unfusedAttention(Halide::Func q, Halide::Func k, Halide::Func v,
                              Halide::Func keyLengths, int headDim,
                              int valueDim, Halide::Expr numQueries,
                              Halide::Expr numKeys,
                              const AttentionOptions &opts,
                              const Halide::Target &target);

/// The three input gradients of attention (see fusedAttentionBackward):
///   struct AttentionGradients { Halide::Func dq, dk, dv; };
/// Spelled as a template so that this header needs no complete Halide::Func
/// (Halide.h is not included here): the members are instantiated only where
/// the struct is used, i.e. in code that includes Halide.h.
template <class FuncT = Halide::Func> struct AttentionGradientsT {
  FuncT dq, dk, dv;
};
using AttentionGradients = AttentionGradientsT<>;

/// Fused backward of attention. Inputs, innermost dimension first:
///   q(d, t, h, b), k(d, s, h, b), v(e, s, h, b), keyLengths(b) (int32),
///   out(e, t, h, b)  the forward output (fusedAttention's result),
///   dOut(e, t, h, b) its adjoint;
/// same masking, options and shape arguments as fusedAttention. With p the
/// masked softmax of scale * q.k over the kept keys of each query (p = 0 on a
/// query that keeps no key, which then gets zero gradients):
///   lse(t)  = log sum_s exp(scale * q.k)          (recomputed, stored [T,H,B])
///   Dt(t)   = sum_e dOut(e, t) * out(e, t)         (stored [T,H,B])
///   p(s, t) = exp(scale * q.k - lse(t)),  dp(s, t) = sum_e dOut(e, t) v(e, s)
///   ds(s, t) = p * (dp - Dt(t))
///   dq(d, t) = scale * sum_s ds(s, t) k(d, s)
///   dk(d, s) = scale * sum_t ds(s, t) q(d, t)
///   dv(e, s) = sum_t p(s, t) dOut(e, t)
///
/// The T x S probabilities are never stored: three passes recompute them
/// block by block. (1) lse, per block of queries; (2) dq, per block of
/// queries: that block's [block x S] scores, p, dp and ds are computed at the
/// block; (3) dk and dv together (one Tuple stage), per block of keys: that
/// block's [T x block] p and ds are computed at the block.
///
/// Cost: counting a "matmul" as T*S*D multiply-adds (D ~ E), the forward is
/// 2 (q.k, p.v). The backward is 8: lse 1 (q.k), dq pass 3 (q.k, dOut.v,
/// ds.k), dk/dv pass 4 (q.k, dOut.v, ds.q, p.dOut); i.e. about 4x the
/// forward's flops (FlashAttention-2's backward is 5 with atomically
/// accumulated dq; the price here of storing nothing T x S and using no
/// atomics is recomputing q.k and dOut.v), plus 3 exp2 per (s, t) against 1.
/// Masked (causal, padded) blocks are not skipped. Memory beyond the
/// outputs: O((T + S) * H * B), padded copies of k, q, dOut, plus per-thread
/// blocks of [block x S] / [T x block] floats (block = 64 with AVX-512, else
/// 32). Measured (docs/kernels.md): ~5-6x the forward's time on one core.
///
/// Scheduling contract: as fusedAttention, each returned Func is scheduled as
/// the root of its own loop nest (realize them as pipeline outputs, or
/// compute_root them). lse, Dt and the dk/dv Tuple stage are internal
/// compute_root stages: realized together in one Pipeline they are computed
/// once; realized separately, each realization recomputes what it needs.
/// All inputs are read in the range d < D, e < E, t < T, s < S, possibly many
/// times (compute_root expensive inputs in the caller). CUDA-style GPUs get a
/// simple GPU schedule when target.has_gpu_feature() (one thread per query
/// for lse/dq and per key for dk/dv; compiled for sm_80 but never run here).
AttentionGradients fusedAttentionBackward(Halide::Func q, Halide::Func k, Halide::Func v,
                                          Halide::Func out, Halide::Func dOut,
                                          Halide::Func keyLengths, int headDim, int valueDim,
                                          Halide::Expr numQueries, Halide::Expr numKeys,
                                          const AttentionOptions &opts,
                                          const Halide::Target &target);

namespace detail {
/// The GPU kernel's algorithm (block-local probabilities, {acc, sum, max}
/// carried per channel) with a plain CPU schedule, so that tests can check
/// its numerics on machines without a GPU. Not for production use.
Halide::Func fusedAttentionBlockLocalForTesting(
    Halide::Func q, Halide::Func k, Halide::Func v, Halide::Func keyLengths, int headDim,
    int valueDim, Halide::Expr numQueries, Halide::Expr numKeys, const AttentionOptions &opts,
    const Halide::Target &cpuTarget);
} // namespace detail

} // namespace attn::kernels

#endif // ATTN_KERNELS_ATTENTION_H
