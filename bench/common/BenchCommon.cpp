// What the benchmark programs share (see BenchCommon.h).
#include "BenchCommon.h"

#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <thread>

namespace bench {
namespace {

using Clock = std::chrono::steady_clock;
volatile float gSink;

__attribute__((target("avx512f"))) double fmaLoop512(long iterations) {
  __m512 acc[12];
  for (int i = 0; i < 12; ++i)
    acc[i] = _mm512_set1_ps(0.001f * i);
  const __m512 mul = _mm512_set1_ps(0.99999f), add = _mm512_set1_ps(1e-6f);
  auto start = Clock::now();
  for (long n = 0; n < iterations; ++n)
    for (int i = 0; i < 12; ++i)
      acc[i] = _mm512_fmadd_ps(acc[i], mul, add);
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  __m512 sum = acc[0];
  for (int i = 1; i < 12; ++i)
    sum = _mm512_add_ps(sum, acc[i]);
  float lanes[16];
  _mm512_storeu_ps(lanes, sum);
  gSink = lanes[0] + lanes[15];
  return iterations * 12.0 * 16 * 2 / seconds / 1e9;
}

__attribute__((target("avx2,fma"))) double fmaLoop256(long iterations) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i)
    acc[i] = _mm256_set1_ps(0.001f * i);
  const __m256 mul = _mm256_set1_ps(0.99999f), add = _mm256_set1_ps(1e-6f);
  auto start = Clock::now();
  for (long n = 0; n < iterations; ++n)
    for (int i = 0; i < 12; ++i)
      acc[i] = _mm256_fmadd_ps(acc[i], mul, add);
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  __m256 sum = acc[0];
  for (int i = 1; i < 12; ++i)
    sum = _mm256_add_ps(sum, acc[i]);
  float lanes[8];
  _mm256_storeu_ps(lanes, sum);
  gSink = lanes[0] + lanes[7];
  return iterations * 12.0 * 8 * 2 / seconds / 1e9;
}

} // namespace

double Timing::best() const { return *std::min_element(seconds.begin(), seconds.end()); }

double Timing::median() const {
  std::vector<double> s = seconds;
  std::sort(s.begin(), s.end());
  return s[s.size() / 2];
}

double fmaPeak(int threads, const char **isa) {
  const bool avx512 = __builtin_cpu_supports("avx512f");
  *isa = avx512 ? "AVX-512" : "AVX2";
  std::vector<double> best(threads, 0.0);
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i)
    pool.emplace_back([&, i] {
      for (int rep = 0; rep < 5; ++rep)
        best[i] = std::max(best[i], avx512 ? fmaLoop512(4000000) : fmaLoop256(4000000));
    });
  for (std::thread &t : pool)
    t.join();
  double total = 0;
  for (double g : best)
    total += g;
  return total;
}

std::string cpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0)
      return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

} // namespace bench
