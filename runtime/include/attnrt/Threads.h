// How many threads the generated kernels use.
//
//   attnrt::setThreads(1);   // everything on the calling thread
//   attnrt::setThreads(0);   // one per hardware thread (Halide's default)
//
// The kernels' parallel loops run on Halide's thread pool. At one thread the
// pool still takes its lock around every task, which costs ~6% of a training
// step of the date model (many small per-time-step kernels; bench/train):
// setThreads(1) runs the loops inline on the calling thread instead. Halide's
// pool should be sized before its first use: call this before the first
// kernel call (raising the count later works; lowering it leaves workers
// spinning, see bench/decode/README.md).
#ifndef ATTNRT_THREADS_H
#define ATTNRT_THREADS_H

namespace attnrt {

/// n >= 1 threads, or 0 for one per hardware thread. Throws
/// std::invalid_argument for n < 0.
void setThreads(int n);

} // namespace attnrt

#endif // ATTNRT_THREADS_H
