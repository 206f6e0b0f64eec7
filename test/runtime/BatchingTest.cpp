// Batching: determinism, every example once per epoch, limits, length grouping, padding.
#include "attnrt/Batching.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

using attnrt::Batch;
using attnrt::BatchingOptions;
using attnrt::PaddedBatch;
using attnrt::PadOptions;

namespace {

/// 1000 examples with lengths 1..60 in a scrambled but fixed pattern.
std::vector<int64_t> corpusLengths(int64_t n = 1000) {
  std::vector<int64_t> lengths;
  for (int64_t i = 0; i < n; ++i)
    lengths.push_back(1 + (i * 37 + i / 7) % 60);
  return lengths;
}

/// Every example index exactly once over the batches.
void expectEachExampleOnce(const std::vector<Batch> &batches, std::size_t n) {
  std::vector<int> seen(n, 0);
  for (const Batch &b : batches)
    for (int64_t i : b.examples) {
      ASSERT_GE(i, 0);
      ASSERT_LT(i, static_cast<int64_t>(n));
      ++seen[static_cast<std::size_t>(i)];
    }
  for (std::size_t i = 0; i < n; ++i)
    EXPECT_EQ(seen[i], 1) << "example " << i;
}

bool sameBatches(const std::vector<Batch> &a, const std::vector<Batch> &b) {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].examples != b[i].examples)
      return false;
  return true;
}

std::string messageOf(const std::function<void()> &f) {
  try {
    f();
  } catch (const std::exception &e) {
    return e.what();
  }
  return "(no exception)";
}

} // namespace

TEST(Batching, UniformBelowAndShuffleAreFixed) {
  // The standard fixes mt19937_64: its 10000th output from the default seed is this value.
  std::mt19937_64 check;
  check.discard(9999);
  EXPECT_EQ(check(), 9981545732273789042ull);

  // Golden values: the same on every platform and standard library (checked against an
  // independent Python implementation of mt19937_64 and the algorithm in Batching.h).
  std::mt19937_64 rng(1234);
  std::vector<int64_t> v = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  attnrt::shuffle(v, rng);
  EXPECT_EQ(v, (std::vector<int64_t>{0, 3, 4, 7, 9, 8, 5, 6, 1, 2}));
  std::vector<uint64_t> draws;
  for (int i = 0; i < 5; ++i)
    draws.push_back(attnrt::uniformBelow(rng, 1000));
  EXPECT_EQ(draws, (std::vector<uint64_t>{295, 28, 240, 404, 752}));
  EXPECT_THROW(attnrt::uniformBelow(rng, 0), std::invalid_argument);
  EXPECT_EQ(attnrt::uniformBelow(rng, 1), 0u);
  // n just above 2^63 rejects about half the draws and must still terminate and stay below n.
  const uint64_t big = (1ull << 63) + 1;
  for (int i = 0; i < 100; ++i)
    EXPECT_LT(attnrt::uniformBelow(rng, big), big);
}

// 60000 draws below 3: each count is binomial(60000, 1/3), sd = sqrt(60000 * 2/9) = 115.5;
// 5 sd = 577.
TEST(Batching, UniformBelowIsUniform) {
  std::mt19937_64 rng(7);
  int counts[3] = {0, 0, 0};
  for (int i = 0; i < 60000; ++i)
    ++counts[attnrt::uniformBelow(rng, 3)];
  for (int c : counts)
    EXPECT_NEAR(c, 20000, 577);
}

TEST(Batching, DeterministicPerSeedAndEpoch) {
  std::vector<int64_t> lengths = corpusLengths();
  BatchingOptions o;
  o.maxTokens = 400;
  auto e0 = attnrt::makeBatches(lengths, o, 42, 0);
  EXPECT_TRUE(sameBatches(e0, attnrt::makeBatches(lengths, o, 42, 0)));
  EXPECT_FALSE(sameBatches(e0, attnrt::makeBatches(lengths, o, 42, 1)));
  EXPECT_FALSE(sameBatches(e0, attnrt::makeBatches(lengths, o, 43, 0)));
  for (std::size_t i = 0; i < e0.size(); ++i) {
    EXPECT_EQ(e0[i].epoch, 0);
    EXPECT_EQ(e0[i].index, static_cast<int64_t>(i));
  }
  // The int32 overload gives the same batches.
  std::vector<int32_t> lengths32(lengths.begin(), lengths.end());
  EXPECT_TRUE(sameBatches(e0, attnrt::makeBatches(lengths32, o, 42, 0)));
  // Golden: the first batch of epoch 0 (pins the algorithm across platforms).
  EXPECT_EQ(e0[0].examples, (std::vector<int64_t>{401, 632, 569, 23, 611, 779, 548, 191, 65, 44, 254, 170, 317,
                                                        968, 750, 477, 813, 666, 183, 498, 204, 603}));
}

TEST(Batching, EveryExampleOncePerEpochWithinLimits) {
  std::vector<int64_t> lengths = corpusLengths();
  for (int64_t maxExamples : {0, 1, 7, 64})
    for (int64_t maxTokens : {0, 60, 500, 4096})
      for (int64_t chunk : {0, 50, 1000})
        for (bool shuffle : {false, true}) {
          if (maxExamples == 0 && maxTokens == 0)
            continue;
          BatchingOptions o;
          o.maxExamples = maxExamples;
          o.maxTokens = maxTokens;
          o.chunkSize = chunk;
          o.shuffle = shuffle;
          SCOPED_TRACE("maxExamples " + std::to_string(maxExamples) + " maxTokens " +
                       std::to_string(maxTokens) + " chunk " + std::to_string(chunk));
          for (int64_t epoch = 0; epoch < 2; ++epoch) {
            auto batches = attnrt::makeBatches(lengths, o, 9, epoch);
            expectEachExampleOnce(batches, lengths.size());
            for (const Batch &b : batches) {
              ASSERT_FALSE(b.examples.empty());
              if (maxExamples) {
                EXPECT_LE(b.size(), maxExamples);
              }
              if (maxTokens) {
                EXPECT_LE(b.paddedTokens(), maxTokens);
              }
              int64_t longest = 0, tokens = 0;
              for (int64_t i : b.examples) {
                longest = std::max(longest, lengths[static_cast<std::size_t>(i)]);
                tokens += lengths[static_cast<std::size_t>(i)];
              }
              EXPECT_EQ(b.maxLength, longest);
              EXPECT_EQ(b.tokens, tokens);
            }
          }
        }
}

// Sorting the whole data set (chunkSize 0) makes batches contiguous length ranges: the length
// ranges of two batches never interleave, and padding stays small.
TEST(Batching, SimilarLengthsShareABatch) {
  std::vector<int64_t> lengths = corpusLengths();
  BatchingOptions o;
  o.maxTokens = 600;
  auto batches = attnrt::makeBatches(lengths, o, 5, 0);
  std::vector<std::pair<int64_t, int64_t>> ranges;
  int64_t padded = 0, real = 0;
  for (const Batch &b : batches) {
    int64_t lo = b.maxLength;
    for (int64_t i : b.examples)
      lo = std::min(lo, lengths[static_cast<std::size_t>(i)]);
    ranges.emplace_back(lo, b.maxLength);
    padded += b.paddedTokens();
    real += b.tokens;
  }
  std::sort(ranges.begin(), ranges.end());
  for (std::size_t i = 1; i < ranges.size(); ++i)
    EXPECT_LE(ranges[i - 1].second, ranges[i].first);
  EXPECT_LT(static_cast<double>(padded - real) / real, 0.05);
  // Without sorting, padding is much larger.
  o.sortByLength = false;
  int64_t paddedUnsorted = 0;
  for (const Batch &b : attnrt::makeBatches(lengths, o, 5, 0))
    paddedUnsorted += b.paddedTokens();
  EXPECT_GT(paddedUnsorted, padded * 3 / 2);
}

TEST(Batching, NoShuffleNoSortIsSequential) {
  std::vector<int64_t> lengths = {3, 1, 4, 1, 5, 9, 2};
  BatchingOptions o;
  o.maxExamples = 3;
  o.shuffle = false;
  o.sortByLength = false;
  auto batches = attnrt::makeBatches(lengths, o, 0, 0);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0].examples, (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(batches[1].examples, (std::vector<int64_t>{3, 4, 5}));
  EXPECT_EQ(batches[2].examples, (std::vector<int64_t>{6}));
  EXPECT_EQ(batches[1].maxLength, 9);
  EXPECT_EQ(batches[1].tokens, 15);
  // Sorted but not shuffled: ascending lengths (stable for ties).
  o.sortByLength = true;
  batches = attnrt::makeBatches(lengths, o, 0, 0);
  EXPECT_EQ(batches[0].examples, (std::vector<int64_t>{1, 3, 6}));
  EXPECT_EQ(batches[1].examples, (std::vector<int64_t>{0, 2, 4}));
  EXPECT_EQ(batches[2].examples, (std::vector<int64_t>{5}));
  // maxTokens 9 counts padded tokens, along the sorted lengths 1 1 2 | 3 4 | 5 | 9:
  // 1, 1, 2 take 3 x 2 = 6, adding the 3 would take 4 x 3 = 12; 3, 4 take 2 x 4 = 8, adding the
  // 5 would take 15; 5 and 9 together would take 18.
  o.maxExamples = 0;
  o.maxTokens = 9;
  batches = attnrt::makeBatches(lengths, o, 0, 0);
  ASSERT_EQ(batches.size(), 4u);
  EXPECT_EQ(batches[0].examples, (std::vector<int64_t>{1, 3, 6}));
  EXPECT_EQ(batches[1].examples, (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(batches[2].examples, (std::vector<int64_t>{4}));
  EXPECT_EQ(batches[3].examples, (std::vector<int64_t>{5}));
  EXPECT_TRUE(attnrt::makeBatches(std::vector<int64_t>{}, o, 0, 0).empty());
}

TEST(Batching, Errors) {
  BatchingOptions o;
  EXPECT_EQ(messageOf([&] { attnrt::makeBatches(std::vector<int64_t>{1}, o, 0, 0); }),
            "makeBatches: set maxExamples or maxTokens (both are 0: no limit)");
  o.maxTokens = 10;
  EXPECT_EQ(messageOf([&] { attnrt::makeBatches(std::vector<int64_t>{1, 12, 3}, o, 0, 0); }),
            "makeBatches: example 1 has length 12, more than maxTokens = 10 (filter or truncate "
            "long examples first)");
  EXPECT_EQ(messageOf([&] { attnrt::makeBatches(std::vector<int64_t>{1, -2}, o, 0, 0); }),
            "makeBatches: example 1 has length -2, expected >= 0");
  o.chunkSize = -1;
  EXPECT_THROW(attnrt::makeBatches(std::vector<int64_t>{1}, o, 0, 0), std::invalid_argument);
}

TEST(Batching, PadSequences) {
  std::vector<std::vector<int32_t>> rows = {{5, 6, 7}, {8}, {}};
  PaddedBatch x = attnrt::padSequences(rows);
  EXPECT_EQ(x.ids.dtype(), attnrt::DType::I32);
  EXPECT_EQ(x.ids.shape(), (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(x.ids.toVector<int32_t>(), (std::vector<int32_t>{5, 6, 7, 8, 0, 0, 0, 0, 0}));
  EXPECT_EQ(x.lengths, (std::vector<int32_t>{3, 1, 0}));

  PadOptions o;
  o.padId = -1;
  o.bos = 1;
  o.eos = 2;
  x = attnrt::padSequences(rows, o);
  EXPECT_EQ(x.ids.shape(), (std::vector<int64_t>{3, 5}));
  EXPECT_EQ(x.ids.toVector<int32_t>(),
            (std::vector<int32_t>{1, 5, 6, 7, 2, 1, 8, 2, -1, -1, 1, 2, -1, -1, -1}));
  EXPECT_EQ(x.lengths, (std::vector<int32_t>{5, 3, 2}));

  o = {};
  o.eos = 2;
  o.multipleOf = 4;
  x = attnrt::padSequences(rows, o);
  EXPECT_EQ(x.ids.shape(), (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(x.ids.toVector<int32_t>(), (std::vector<int32_t>{5, 6, 7, 2, 8, 2, 0, 0, 2, 0, 0, 0}));

  // All empty: T is minLength (1 by default); no rows: [0, 1].
  x = attnrt::padSequences({{}, {}});
  EXPECT_EQ(x.ids.shape(), (std::vector<int64_t>{2, 1}));
  x = attnrt::padSequences(std::vector<std::vector<int32_t>>{});
  EXPECT_EQ(x.ids.shape(), (std::vector<int64_t>{0, 1}));
  o = {};
  o.minLength = 6;
  EXPECT_EQ(attnrt::padSequences(rows, o).ids.shape(), (std::vector<int64_t>{3, 6}));
  o.minLength = -1;
  EXPECT_THROW(attnrt::padSequences(rows, o), std::invalid_argument);
  o = {};
  o.multipleOf = 0;
  EXPECT_THROW(attnrt::padSequences(rows, o), std::invalid_argument);
}

TEST(Batching, PadABatchOfADataSet) {
  std::vector<std::vector<int32_t>> dataset = {{10}, {11, 12}, {13, 14, 15}, {16}};
  BatchingOptions bo;
  bo.maxExamples = 2;
  for (const Batch &b : attnrt::makeBatches(std::vector<int64_t>{1, 2, 3, 1}, bo, 3, 0)) {
    PaddedBatch x = attnrt::padExamples(dataset, b.examples);
    ASSERT_EQ(x.ids.dim(0), b.size());
    EXPECT_EQ(x.ids.dim(1), b.maxLength);
    for (int64_t r = 0; r < b.size(); ++r) {
      const auto &row = dataset[static_cast<std::size_t>(b.examples[static_cast<std::size_t>(r)])];
      EXPECT_EQ(x.lengths[static_cast<std::size_t>(r)], static_cast<int32_t>(row.size()));
      for (std::size_t t = 0; t < row.size(); ++t)
        EXPECT_EQ(x.ids.at<int32_t>({r, static_cast<int64_t>(t)}), row[t]);
    }
  }
  EXPECT_EQ(messageOf([&] { attnrt::padExamples(dataset, {0, 4}); }),
            "padExamples: examples[1] = 4, the data set has 4 sequences");
  EXPECT_THROW(attnrt::padExamples(dataset, {-1}), std::out_of_range);
}
