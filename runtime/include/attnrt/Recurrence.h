// Driving a compiled recurrence step over time.
//
// attnc compiles the body of a recurrence (an RNN/LSTM/GRU cell, a decoder
// step) into one Halide kernel per step; runRecurrence() is the time loop
// around it, on the host (PERFORMANCE.md: one AOT call per step costs next to
// nothing). Nothing is copied: the step reads the sequences at t and the
// previous states through buffer views, and writes the new states straight
// into results[..., t, ...].
//
// The step kernel's arguments (its `_argv` entry point) are, in order:
//   the sequences at t (the time axis removed), the previous states,
//   the captured tensors, the lengths [B], the step index t (int32 scalar),
//   then the new states (outputs).
// The kernel itself keeps a row's state where t >= lengths[b] (padding), so a
// short sequence in a padded batch ends with the same state as alone.
#ifndef ATTNRT_RECURRENCE_H
#define ATTNRT_RECURRENCE_H

#include "attnrt/Tensor.h"

#include <vector>

namespace attnrt {

struct RecurrenceArgs {
  std::vector<const Tensor *> sequences; // [.., T, ..] with the time axis
  std::vector<const Tensor *> inits;     // one per state, no time axis
  std::vector<const Tensor *> captured;  // read unchanged by every step
  const Tensor *lengths = nullptr;       // int32 [B]
  std::vector<Tensor *> results;         // one per state, with the time axis
  int timeAxis = 1;                      // of sequences and results (row-major)
  bool reverse = false;                  // t = T-1 down to 0
};

using StepKernelArgv = int (*)(void **args);

/// Runs the step for every t. Throws attnrt::Error with the kernel's message
/// if a step fails, std::invalid_argument if the tensors disagree on T.
void runRecurrence(const char *name, StepKernelArgv step,
                   const RecurrenceArgs &args);

/// A view of `t` at `index` along `axis` (row-major), without that axis.
/// The returned buffer points into t's memory and owns its dims array.
class SliceView {
public:
  SliceView(const Tensor &t, int axis, int64_t index);
  halide_buffer_t *buffer() { return &buf_; }

private:
  halide_buffer_t buf_;
  std::vector<halide_dimension_t> dims_;
};

} // namespace attnrt

#endif // ATTNRT_RECURRENCE_H
