#include "attnrt/Batching.h"

#include "attnrt/Init.h"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

namespace attnrt {

uint64_t uniformBelow(std::mt19937_64 &rng, uint64_t n) {
  if (n == 0)
    throw std::invalid_argument("uniformBelow: n = 0, expected >= 1");
  // Accept draws below the largest multiple of n (2^64 - (2^64 mod n)), then reduce.
  const uint64_t excess = (std::numeric_limits<uint64_t>::max() % n + 1) % n; // 2^64 mod n
  const uint64_t limit = std::numeric_limits<uint64_t>::max() - excess;      // draws <= limit
  uint64_t x;
  do
    x = rng();
  while (x > limit);
  return x % n;
}

void shuffle(std::vector<int64_t> &v, std::mt19937_64 &rng) {
  for (std::size_t i = v.size(); i > 1; --i) {
    std::size_t j = static_cast<std::size_t>(uniformBelow(rng, i));
    std::swap(v[i - 1], v[j]);
  }
}

std::vector<Batch> makeBatches(const std::vector<int64_t> &lengths,
                               const BatchingOptions &options, uint64_t seed, int64_t epoch) {
  const std::string what = "makeBatches: ";
  if (options.maxExamples < 0 || options.maxTokens < 0 || options.chunkSize < 0)
    throw std::invalid_argument(what + "maxExamples = " + std::to_string(options.maxExamples) +
                                ", maxTokens = " + std::to_string(options.maxTokens) +
                                ", chunkSize = " + std::to_string(options.chunkSize) +
                                ", expected values >= 0");
  if (options.maxExamples == 0 && options.maxTokens == 0)
    throw std::invalid_argument(what + "set maxExamples or maxTokens (both are 0: no limit)");
  for (std::size_t i = 0; i < lengths.size(); ++i) {
    if (lengths[i] < 0)
      throw std::invalid_argument(what + "example " + std::to_string(i) + " has length " +
                                  std::to_string(lengths[i]) + ", expected >= 0");
    if (options.maxTokens > 0 && lengths[i] > options.maxTokens)
      throw std::invalid_argument(what + "example " + std::to_string(i) + " has length " +
                                  std::to_string(lengths[i]) + ", more than maxTokens = " +
                                  std::to_string(options.maxTokens) +
                                  " (filter or truncate long examples first)");
  }

  std::mt19937_64 rng(streamSeed(seed, "batches/epoch" + std::to_string(epoch)));
  std::vector<int64_t> order(lengths.size());
  for (std::size_t i = 0; i < order.size(); ++i)
    order[i] = static_cast<int64_t>(i);
  if (options.shuffle)
    shuffle(order, rng);
  if (options.sortByLength) {
    const std::size_t chunk = options.chunkSize > 0 ? static_cast<std::size_t>(options.chunkSize)
                                                    : std::max<std::size_t>(order.size(), 1);
    for (std::size_t begin = 0; begin < order.size(); begin += chunk) {
      auto first = order.begin() + static_cast<std::ptrdiff_t>(begin);
      auto last = order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), begin + chunk));
      std::stable_sort(first, last, [&](int64_t a, int64_t b) { return lengths[a] < lengths[b]; });
    }
  }

  std::vector<Batch> batches;
  Batch current;
  for (int64_t i : order) {
    const int64_t length = lengths[static_cast<std::size_t>(i)];
    const int64_t longest = std::max(current.maxLength, length);
    const bool tooMany = options.maxExamples > 0 && current.size() + 1 > options.maxExamples;
    const bool tooLarge = options.maxTokens > 0 && (current.size() + 1) * longest > options.maxTokens;
    if (!current.examples.empty() && (tooMany || tooLarge)) {
      batches.push_back(std::move(current));
      current = Batch();
    }
    current.examples.push_back(i);
    current.maxLength = std::max(current.maxLength, length);
    current.tokens += length;
  }
  if (!current.examples.empty())
    batches.push_back(std::move(current));

  if (options.shuffle) {
    std::vector<int64_t> perm(batches.size());
    for (std::size_t i = 0; i < perm.size(); ++i)
      perm[i] = static_cast<int64_t>(i);
    shuffle(perm, rng);
    std::vector<Batch> shuffled;
    shuffled.reserve(batches.size());
    for (int64_t p : perm)
      shuffled.push_back(std::move(batches[static_cast<std::size_t>(p)]));
    batches = std::move(shuffled);
  }
  for (std::size_t i = 0; i < batches.size(); ++i) {
    batches[i].epoch = epoch;
    batches[i].index = static_cast<int64_t>(i);
  }
  return batches;
}

std::vector<Batch> makeBatches(const std::vector<int32_t> &lengths,
                               const BatchingOptions &options, uint64_t seed, int64_t epoch) {
  return makeBatches(std::vector<int64_t>(lengths.begin(), lengths.end()), options, seed, epoch);
}

namespace {

PaddedBatch pad(std::size_t count, const std::vector<int32_t> &(*row)(const void *, std::size_t),
                const void *context, const PadOptions &options) {
  const std::string what = "padSequences: ";
  if (options.minLength < 0)
    throw std::invalid_argument(what + "minLength = " + std::to_string(options.minLength) +
                                ", expected >= 0");
  if (options.multipleOf < 1)
    throw std::invalid_argument(what + "multipleOf = " + std::to_string(options.multipleOf) +
                                ", expected >= 1");
  const int64_t extra = (options.bos ? 1 : 0) + (options.eos ? 1 : 0);
  PaddedBatch out;
  out.lengths.reserve(count);
  int64_t longest = 0;
  for (std::size_t b = 0; b < count; ++b) {
    const int64_t length = static_cast<int64_t>(row(context, b).size()) + extra;
    if (length > std::numeric_limits<int32_t>::max())
      throw std::invalid_argument(what + "row " + std::to_string(b) + " has " +
                                  std::to_string(length) + " tokens, more than int32 holds");
    out.lengths.push_back(static_cast<int32_t>(length));
    longest = std::max(longest, length);
  }
  int64_t T = std::max(longest, options.minLength);
  T = (T + options.multipleOf - 1) / options.multipleOf * options.multipleOf;
  out.ids = Tensor(DType::I32, {static_cast<int64_t>(count), T});
  int32_t *ids = out.ids.data<int32_t>();
  for (std::size_t b = 0; b < count; ++b) {
    int32_t *dst = ids + static_cast<int64_t>(b) * T;
    int64_t t = 0;
    if (options.bos)
      dst[t++] = *options.bos;
    for (int32_t id : row(context, b))
      dst[t++] = id;
    if (options.eos)
      dst[t++] = *options.eos;
    for (; t < T; ++t)
      dst[t] = options.padId;
  }
  return out;
}

} // namespace

PaddedBatch padSequences(const std::vector<std::vector<int32_t>> &sequences,
                         const PadOptions &options) {
  auto row = [](const void *c, std::size_t b) -> const std::vector<int32_t> & {
    return (*static_cast<const std::vector<std::vector<int32_t>> *>(c))[b];
  };
  return pad(sequences.size(), row, &sequences, options);
}

PaddedBatch padExamples(const std::vector<std::vector<int32_t>> &dataset,
                        const std::vector<int64_t> &examples, const PadOptions &options) {
  for (std::size_t b = 0; b < examples.size(); ++b)
    if (examples[b] < 0 || static_cast<std::size_t>(examples[b]) >= dataset.size())
      throw std::out_of_range("padExamples: examples[" + std::to_string(b) + "] = " +
                              std::to_string(examples[b]) + ", the data set has " +
                              std::to_string(dataset.size()) + " sequences");
  struct Context {
    const std::vector<std::vector<int32_t>> *dataset;
    const std::vector<int64_t> *examples;
  } context{&dataset, &examples};
  auto row = [](const void *c, std::size_t b) -> const std::vector<int32_t> & {
    const auto *ctx = static_cast<const Context *>(c);
    return (*ctx->dataset)[static_cast<std::size_t>((*ctx->examples)[b])];
  };
  return pad(examples.size(), row, &context, options);
}

} // namespace attnrt
