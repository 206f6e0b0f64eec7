// Batching for training: length-grouped, shuffled, deterministic batches, and padding.
//
//   std::vector<int64_t> lengths = ...;                 // tokens of each training example
//   attnrt::BatchingOptions options;
//   options.maxTokens = 4096;                           // padded tokens per batch
//   for (int64_t epoch = 0; epoch < epochs; ++epoch)
//     for (const attnrt::Batch &batch : attnrt::makeBatches(lengths, options, seed, epoch)) {
//       attnrt::PaddedBatch x = attnrt::padExamples(corpus, batch.examples, {/*padId=*/0});
//       ...  // x.ids: I32 [B, T], x.lengths: B lengths
//     }
//
// makeBatches(lengths, options, seed, epoch) gives every example exactly once per epoch:
//   1. shuffle the example indices (if options.shuffle);
//   2. cut that order into chunks of options.chunkSize examples (0: one chunk) and stable-sort
//      each chunk by length (if options.sortByLength), so similar lengths share a batch;
//   3. fill batches greedily along that order: an example joins the current batch unless that
//      would exceed maxExamples examples or maxTokens padded tokens (examples x longest);
//   4. shuffle the order of the batches (if options.shuffle).
// Randomness comes from std::mt19937_64 seeded with streamSeed(seed, "batches/epoch<epoch>")
// (Init.h), with Fisher-Yates shuffles over unbiased integers drawn by rejection, written here
// (std::shuffle and std:: distributions differ between standard libraries): the same
// (lengths, options, seed, epoch) give the same batches everywhere, and every epoch a new order.
#ifndef ATTNRT_BATCHING_H
#define ATTNRT_BATCHING_H

#include "attnrt/Tensor.h"

#include <cstdint>
#include <optional>
#include <random>
#include <vector>

namespace attnrt {

struct BatchingOptions {
  int64_t maxExamples = 0; ///< most examples per batch; 0: no limit
  int64_t maxTokens = 0;   ///< most padded tokens (examples x longest length) per batch; 0: none
  int64_t chunkSize = 0;   ///< examples sorted by length together; 0: the whole data set
  bool shuffle = true;     ///< shuffle the examples before chunking, and the batches at the end
  bool sortByLength = true;
};

struct Batch {
  std::vector<int64_t> examples; ///< indices into the data set, in batch row order
  int64_t maxLength = 0;         ///< the longest example's length
  int64_t tokens = 0;            ///< sum of the examples' lengths
  int64_t epoch = 0;             ///< the epoch it was made for
  int64_t index = 0;             ///< position in its epoch
  int64_t size() const { return static_cast<int64_t>(examples.size()); }
  /// examples x maxLength: the size of the padded batch.
  int64_t paddedTokens() const { return size() * maxLength; }
};

/// The batches of one epoch (see the header comment). Throws std::invalid_argument if neither
/// maxExamples nor maxTokens is set, for negative options or lengths, or for an example longer
/// than maxTokens alone (naming it and its length). An empty data set gives no batches.
std::vector<Batch> makeBatches(const std::vector<int64_t> &lengths,
                               const BatchingOptions &options, uint64_t seed, int64_t epoch);
std::vector<Batch> makeBatches(const std::vector<int32_t> &lengths,
                               const BatchingOptions &options, uint64_t seed, int64_t epoch);

/// A uniform integer in [0, n) (n >= 1) from 64-bit draws, without modulo bias; the same on
/// every platform.
uint64_t uniformBelow(std::mt19937_64 &rng, uint64_t n);
/// Fisher-Yates shuffle with uniformBelow: for i = size-1 down to 1, swap(v[i], v[j <= i]).
void shuffle(std::vector<int64_t> &v, std::mt19937_64 &rng);

struct PadOptions {
  int32_t padId = 0;          ///< fills positions past each sequence's length
  std::optional<int32_t> bos; ///< prepended to every sequence if set
  std::optional<int32_t> eos; ///< appended to every sequence if set
  int64_t minLength = 1;      ///< T is at least this (so an all-empty batch still has T = 1)
  int64_t multipleOf = 1;     ///< T is rounded up to a multiple of this (>= 1)
};

struct PaddedBatch {
  Tensor ids;                   ///< I32 [B, T], row b = bos?, sequence b, eos?, then padId
  std::vector<int32_t> lengths; ///< B lengths, BOS and EOS included
};

/// Pads `sequences` into one [B, T] tensor, T = the longest length (with BOS/EOS), at least
/// minLength, rounded up to multipleOf. Throws std::invalid_argument for minLength < 0,
/// multipleOf < 1, or a length beyond int32.
PaddedBatch padSequences(const std::vector<std::vector<int32_t>> &sequences,
                         const PadOptions &options = {});
/// padSequences of the rows `examples` of `dataset` (e.g. Batch::examples), without copying
/// them first; an index outside the data set throws std::out_of_range.
PaddedBatch padExamples(const std::vector<std::vector<int32_t>> &dataset,
                        const std::vector<int64_t> &examples, const PadOptions &options = {});

} // namespace attnrt

#endif // ATTNRT_BATCHING_H
