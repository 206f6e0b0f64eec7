//===- KernelPlan.h - The kernels of an entry point and their order -*- C++ -*-===//
//
// A function without recurrences is one kernel. Each attn.recurrence adds
//   feed<i>:  computes what the recurrence reads (its sequences, initial
//             states and the values its body captures) from the function's
//             arguments and the results of the recurrences before it;
//   step<i>:  its body, called once per time step by attnrt::runRecurrence;
// and the last kernel computes the function's results. Values are recomputed
// by each kernel that needs them rather than passed between kernels, so only
// the inputs and results of recurrences cross kernel boundaries.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "attn/Conversion/AttnToHalide.h"

namespace attn {

struct RecurrencePlan {
  mlir::attn::RecurrenceOp op;
  KernelSpec feed; // no outputs: everything it needs is already available
  KernelSpec step;
  std::vector<mlir::Value> captured; // used by the body, defined outside
};

struct ModelPlan {
  mlir::FuncOp func;
  std::vector<RecurrencePlan> recurrences;
  KernelSpec output;

  std::vector<const KernelSpec *> kernels() const;
};

ModelPlan planModel(mlir::FuncOp func);

} // namespace attn
