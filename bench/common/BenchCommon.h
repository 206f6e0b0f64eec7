// What the benchmark programs share: repeated timings, the machine's measured
// fp32 FMA peak (to report a kernel's share of it) and the CPU's name.
#pragma once

#include <string>
#include <vector>

namespace bench {

/// Seconds of repeated runs of one thing.
struct Timing {
  std::vector<double> seconds;
  void add(double s) { seconds.push_back(s); }
  double best() const;
  double median() const;
};

/// GFLOP/s of fp32 FMAs on `threads` threads (12 independent accumulator
/// chains per core, AVX-512 where the CPU has it, else AVX2; best of 5 short
/// runs per thread, summed). `isa` receives the instruction set used.
double fmaPeak(int threads, const char **isa);

/// The "model name" of /proc/cpuinfo, or "unknown CPU".
std::string cpuModel();

} // namespace bench
