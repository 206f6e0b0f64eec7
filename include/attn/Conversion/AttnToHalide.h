//===- AttnToHalide.h - attn dialect to Halide pipelines --------*- C++ -*-===//
//
// Lowers ops of the attn dialect into scheduled Halide pipelines, one per
// kernel. A kernel is the ops between some input values (ImageParams: the
// batch and run-time sizes come from the buffers the caller passes) and some
// output values; a function without recurrences is one kernel, and each
// recurrence adds a kernel for its step (its body). Element-wise and layout
// ops are inlined into their consumers, so chains like `tanh(W x + b)` fuse
// into the kernel that consumes them; contractions, reductions, alignments
// and the fused attention op are materialised, each with its own schedule.
//
// This header includes Halide.h: include it only from code generation.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "attn/Dialect/Attn/AttnOps.h"

#include "Halide.h"
#include "mlir/IR/BuiltinOps.h"

#include <string>
#include <vector>

namespace attn {

struct KernelSpec {
  std::string name;                 // the symbol of the AOT function
  mlir::FuncOp func;                // the function the values belong to
  std::vector<mlir::Value> inputs;  // ImageParams, in this order
  std::vector<mlir::Value> outputs; // results, in this order
  std::vector<std::string> outputNames; // optional; default out0, out1, ...
  /// Set for the step kernel of a recurrence. Its inputs are the body's
  /// arguments (sequence slices, then states) and then the captured values;
  /// the lengths (int32 [B]) and the step index `t` (int32) follow; its
  /// outputs are the yielded states, where rows with t >= lengths[b] keep
  /// their previous state.
  mlir::attn::RecurrenceOp step;
};

struct LoweredFunction {
  std::string name;
  std::vector<Halide::Argument> arguments; // inputs, in order
  std::vector<Halide::Func> outputs;
};

/// The parameter name of input `index` of a kernel: a function argument's
/// .attn name (lengths: NAME_lengths), else in<index>.
std::string kernelInputName(const KernelSpec &spec, size_t index);
/// The parameter name of output `index`.
std::string kernelOutputName(const KernelSpec &spec, size_t index);

/// Lowers and schedules one kernel for `target`. Returns false and sets
/// `error` for an op that cannot be lowered.
bool lowerKernel(const KernelSpec &spec, const Halide::Target &target,
                 LoweredFunction &out, std::string &error);

} // namespace attn
