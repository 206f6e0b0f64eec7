// The date trainer's settings and its command line.
#ifndef ATTN_EXAMPLES_DATES_DATETRAINOPTIONS_H
#define ATTN_EXAMPLES_DATES_DATETRAINOPTIONS_H

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace dates {

struct TrainConfig {
  std::string outDir = "dates-out"; ///< checkpoints and alignment images
  uint64_t seed = 1;                ///< initialisation, data and batch order
  size_t examplesPerEpoch = 10000;  ///< fresh training dates each epoch
  size_t heldOutExamples = 1000;
  int64_t batchSize = 64;
  double lr = 3e-3;                 ///< Adam
  int64_t decayEvery = 1500;        ///< halve the learning rate every N steps
  double clipNorm = 5.0;            ///< global gradient norm
  int64_t evalEvery = 200;          ///< steps between held-out evaluations
  double maxSeconds = 600;          ///< training time budget (0: none)
  int64_t maxSteps = 0;             ///< stop after this many steps in all (0: no limit)
  double targetAccuracy = 0.99;     ///< stop once held-out greedy exact match reaches it
  bool resume = false;              ///< continue from <outDir>/checkpoint.safetensors
  int beam = 5;                     ///< beam size of the final decoding
  int show = 6;                     ///< held-out examples printed with their attention
  int images = 4;                   ///< alignment PNGs written
};

/// Parses the command line into a TrainConfig (--help prints the usage and
/// exits 0; a bad option prints why and exits 2), runs `body` and turns its
/// exceptions into "error: ..." and exit status 1.
int runTrainingApp(int argc, char **argv, const std::function<int(const TrainConfig &)> &body);

} // namespace dates

#endif // ATTN_EXAMPLES_DATES_DATETRAINOPTIONS_H
