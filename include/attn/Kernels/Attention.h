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
