//===- AttentionGen.cpp - AOT generator for the attention kernels --------===//
//
// attn-kernel-gen OUT_DIR NAME (fused|unfused|blocklocal|backward) D E CAUSAL(0|1) LENGTHS(0|1) TARGET
// attn-kernel-gen OUT_DIR NAME runtime TARGET
//
// Writes OUT_DIR/NAME.a and OUT_DIR/NAME.h. The generated function is
//   int NAME(halide_buffer_t *q, halide_buffer_t *k, halide_buffer_t *v,
//            halide_buffer_t *lengths, halide_buffer_t *out);
// with q(D, T, H, B), k(D, S, H, B), v(E, S, H, B) float32, lengths(B) int32
// (ignored when LENGTHS is 0) and out(E, T, H, B) float32; T and S come from
// the extents of q and k, scale is 1/sqrt(D). `blocklocal` is the GPU
// kernel's algorithm with a CPU schedule (for testing it without a GPU).
// `backward` (fusedAttentionBackward) generates instead
//   int NAME(q, k, v, lengths, out, dOut, dq, dk, dv)
// with out(E, T, H, B) the forward output and dOut its adjoint (inputs), and
// the gradients dq(D, T, H, B), dk(D, S, H, B), dv(E, S, H, B) (outputs).
//
//===----------------------------------------------------------------------===//
#include "attn/Kernels/Attention.h"

#include "Halide.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace Halide;

static int usage() {
  fprintf(stderr, "usage: attn-kernel-gen OUT_DIR NAME (fused|unfused|blocklocal|backward) D E CAUSAL LENGTHS TARGET\n"
                  "       attn-kernel-gen OUT_DIR NAME runtime TARGET\n");
  return 2;
}

int main(int argc, char **argv) {
  if (argc < 5)
    return usage();
  std::string outDir = argv[1], name = argv[2], kind = argv[3];
  std::string prefix = outDir + "/" + name;
  try {
    if (kind == "runtime") {
      compile_standalone_runtime({{Output::static_library, prefix + ".a"}}, Target(argv[4]));
      return 0;
    }
    if (argc != 9 || (kind != "fused" && kind != "unfused" && kind != "blocklocal" &&
                       kind != "backward"))
      return usage();
    int headDim = std::atoi(argv[4]), valueDim = std::atoi(argv[5]);
    attn::kernels::AttentionOptions opts;
    opts.scale = 1.0f / std::sqrt(float(headDim));
    opts.causal = std::atoi(argv[6]) != 0;
    opts.hasLengths = std::atoi(argv[7]) != 0;
    Target target(argv[8]);

    ImageParam q(Float(32), 4, "q"), k(Float(32), 4, "k"), v(Float(32), 4, "v");
    ImageParam lengths(Int(32), 1, "lengths");
    Expr numQueries = q.dim(1).extent(), numKeys = k.dim(1).extent();
    using namespace attn::kernels;
    if (kind == "backward") {
      ImageParam fwd(Float(32), 4, "out"), dOut(Float(32), 4, "dOut");
      AttentionGradients g = fusedAttentionBackward(q, k, v, fwd, dOut, lengths, headDim,
                                                    valueDim, numQueries, numKeys, opts, target);
      for (ImageParam *p : {&q, &k, &v, &fwd, &dOut})
        p->dim(0).set_stride(1);
      for (Func f : {g.dq, g.dk, g.dv})
        f.output_buffer().dim(0).set_stride(1);
      Pipeline({g.dq, g.dk, g.dv})
          .compile_to_static_library(prefix, {q, k, v, lengths, fwd, dOut}, name, target);
      return 0;
    }
    Func out;
    if (kind == "fused")
      out = fusedAttention(q, k, v, lengths, headDim, valueDim, numQueries, numKeys, opts, target);
    else if (kind == "unfused")
      out = unfusedAttention(q, k, v, lengths, headDim, valueDim, numQueries, numKeys, opts, target);
    else
      out = detail::fusedAttentionBlockLocalForTesting(q, k, v, lengths, headDim, valueDim,
                                                       numQueries, numKeys, opts, target);
    // Dense innermost dimensions; the outer ones may be strided views.
    for (ImageParam *p : {&q, &k, &v})
      p->dim(0).set_stride(1);
    out.output_buffer().dim(0).set_stride(1);
    out.compile_to_static_library(prefix, {q, k, v, lengths}, name, target);
  } catch (const Halide::Error &e) {
    fprintf(stderr, "attn-kernel-gen: %s: %s\n", name.c_str(), e.what());
    return 1;
  } catch (const std::exception &e) {
    fprintf(stderr, "attn-kernel-gen: %s: %s\n", name.c_str(), e.what());
    return 1;
  }
  return 0;
}
