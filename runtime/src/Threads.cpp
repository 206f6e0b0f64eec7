#include "attnrt/Threads.h"

#include "HalideRuntime.h"

#include <stdexcept>
#include <string>
#include <thread>

namespace attnrt {
namespace {

/// Halide's parallel loop, run in order on the calling thread.
int inlineParFor(void *userContext, halide_task_t task, int min, int size, uint8_t *closure) {
  for (int i = min; i < min + size; ++i)
    if (int status = task(userContext, i, closure))
      return status;
  return 0;
}

} // namespace

void setThreads(int n) {
  if (n < 0)
    throw std::invalid_argument("attnrt::setThreads: " + std::to_string(n) +
                                " threads (0: one per hardware thread)");
  int threads = n > 0 ? n : static_cast<int>(std::thread::hardware_concurrency());
  if (threads < 1)
    threads = 1;
  halide_set_num_threads(threads);
  halide_set_custom_do_par_for(threads == 1 ? inlineParFor : halide_default_do_par_for);
}

} // namespace attnrt
