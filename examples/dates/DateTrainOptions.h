// The date trainer's settings and its command line.
#ifndef ATTN_EXAMPLES_DATES_DATETRAINOPTIONS_H
#define ATTN_EXAMPLES_DATES_DATETRAINOPTIONS_H

#include "Seq2SeqTrainer.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace dates {

/// The date trainer's defaults of the common training settings.
inline examples::TrainSettings defaultTrainSettings() {
  examples::TrainSettings s;
  s.outDir = "dates-out";    // checkpoints and alignment images
  s.seed = 1;                // initialisation, data and batch order
  s.batchSize = 64;
  s.lr = 3e-3;               // Adam
  s.decayEvery = 1500;       // halve the learning rate every N steps
  s.clipNorm = 5.0;          // global gradient norm
  s.evalEvery = 200;         // steps between held-out evaluations
  s.maxSeconds = 600;        // training time budget (0: none)
  s.maxSteps = 0;            // stop after this many steps in all (0: no limit)
  s.higherIsBetter = true;
  s.targetMetric = 0.99;     // stop once held-out greedy exact match reaches it
  s.metricName = "held-out exact match";
  s.resume = false;          // continue from <outDir>/checkpoint.safetensors
  return s;
}

struct TrainConfig {
  examples::TrainSettings train = defaultTrainSettings();
  size_t examplesPerEpoch = 10000;  ///< fresh training dates each epoch
  size_t heldOutExamples = 1000;
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
