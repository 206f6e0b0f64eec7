// Calling generated Halide kernels from a model facade.
//
//   attnrt::callKernel("m_forward", m_forward, x, lengths, W, out);
//
// runs the kernel on the tensors' halide_buffer_t and turns a failure into an
// attnrt::Error carrying Halide's own message (e.g. "token id 1200 is outside
// the vocabulary [0, 1000)"), instead of Halide's default of printing it and
// aborting. Results computed on a GPU are copied back to the host.
//
// Header-only on purpose: it calls Halide runtime functions, which exist only
// in programs that link a Halide runtime (libattn_halide_runtime.a) - every
// program that links a model does, the runtime's own unit tests do not.
#ifndef ATTNRT_KERNELCALL_H
#define ATTNRT_KERNELCALL_H

#include "attnrt/Error.h"
#include "attnrt/Recurrence.h"
#include "attnrt/ShapeCheck.h"
#include "attnrt/Tensor.h"

#include <HalideRuntime.h>

#include <string>
#include <vector>

namespace attnrt {

namespace detail {
inline thread_local std::string lastKernelError;

inline void captureKernelError(void *, const char *message) {
  lastKernelError += message ? message : "";
}

/// The captured message without its trailing newlines.
inline std::string capturedMessage() {
  std::string message = lastKernelError;
  while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
    message.pop_back();
  return message;
}

/// Installs the capturing handler once per process.
inline void installKernelErrorHandler() {
  static const bool installed = [] {
    halide_set_error_handler(&captureKernelError);
    return true;
  }();
  (void)installed;
}
} // namespace detail

/// The lengths of a run-time size as an int32 tensor [B], after checking that
/// there is one per batch row and each lies in [0, extent].
inline Tensor lengthsTensor(ShapeChecker &check, const std::string &dim,
                            const std::vector<int32_t> &lengths) {
  int64_t batch = check.value("B"), extent = check.value(dim);
  std::string what = "lengths of '" + dim + "'";
  if (static_cast<int64_t>(lengths.size()) != batch)
    throw std::invalid_argument(what + ": " + std::to_string(lengths.size()) +
                                " given for a batch of " + std::to_string(batch));
  for (size_t b = 0; b < lengths.size(); ++b)
    if (lengths[b] < 0 || lengths[b] > extent)
      throw std::invalid_argument(what + ": row " + std::to_string(b) +
                                  " has length " + std::to_string(lengths[b]) +
                                  ", outside [0, " + std::to_string(extent) +
                                  "] (" + dim + " = " + std::to_string(extent) +
                                  " is the padded size)");
  return Tensor::fromVector<int32_t>({batch}, lengths);
}

/// Throws unless every id of `ids` (int32) indexes a table of `vocabulary`
/// rows; `what` names the tensor ("input 'src'").
inline void checkTokenIds(const std::string &what, const Tensor &ids,
                          int64_t vocabulary) {
  const int32_t *p = ids.data<int32_t>();
  for (int64_t i = 0; i < ids.numel(); ++i)
    if (p[i] < 0 || p[i] >= vocabulary)
      throw std::invalid_argument(what + ": token id " + std::to_string(p[i]) +
                                  " at flat index " + std::to_string(i) +
                                  " is outside the vocabulary [0, " +
                                  std::to_string(vocabulary) + ")");
}

template <class Kernel, class... Tensors>
void callKernel(const char *name, Kernel kernel, const Tensors &...tensors) {
  detail::installKernelErrorHandler();
  detail::lastKernelError.clear();
  int status = kernel(tensors.buffer()...);
  (halide_copy_to_host(nullptr, tensors.buffer()), ...);
  if (status != 0) {
    std::string message = detail::capturedMessage();
    throw Error(std::string(name) + " failed: " +
                (message.empty() ? "Halide error " + std::to_string(status)
                                 : message));
  }
}

/// attnrt::runRecurrence with Halide's messages captured, as callKernel.
inline void runRecurrenceKernel(const char *name, StepKernelArgv step,
                                const RecurrenceArgs &args) {
  detail::installKernelErrorHandler();
  detail::lastKernelError.clear();
  try {
    runRecurrence(name, step, args);
  } catch (const Error &e) {
    std::string message = detail::capturedMessage();
    throw Error(message.empty() ? e.what() : std::string(e.what()) + ": " + message);
  }
}

} // namespace attnrt

#endif // ATTNRT_KERNELCALL_H
