//===- AttnToHalide.h - attn dialect to Halide pipelines --------*- C++ -*-===//
//
// Lowers one builtin.func of the attn dialect into a scheduled Halide pipeline.
// Every function argument becomes an ImageParam (the batch and run-time sizes
// come from the buffers the caller passes); every op becomes a Func. Element-
// wise and layout ops are inlined into their consumers, so chains like
// `tanh(W x + b)` fuse into the kernel that consumes them; contractions,
// reductions, alignments and the fused attention op are materialised, each
// with its own schedule (see Schedule.cpp).
//
// This header includes Halide.h: include it only from code generation.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "Halide.h"
#include "mlir/IR/BuiltinOps.h"

#include <string>
#include <vector>

namespace attn {

struct LoweredFunction {
  std::string name;                       // the symbol of the AOT function
  std::vector<Halide::ImageParam> params; // one per function argument
  std::vector<Halide::Func> outputs;      // one per function result
};

/// Lowers and schedules `func` for `target`. Returns false and sets `error`
/// for an op that cannot be lowered.
bool lowerToHalide(mlir::FuncOp func, const Halide::Target &target,
                   LoweredFunction &out, std::string &error);

} // namespace attn
