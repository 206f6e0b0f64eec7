// Prints date-normalisation pairs, one "source<TAB>target" a line, to feed a
// trainer or to look at the data:
//
//   dates_dump [--seed N] [--count N] [--split train|held-out] [--formats]
//
// --formats lists the formats (pattern and an example) instead, and the
// length statistics go to stderr.
#include "DateData.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

[[noreturn]] void usage(const std::string &error) {
  std::FILE *out = error.empty() ? stdout : stderr;
  if (!error.empty())
    std::fprintf(out, "error: %s\n", error.c_str());
  std::fprintf(out, "usage: dates_dump [--seed N] [--count N] [--split train|held-out] "
                    "[--formats]\n"
                    "Prints COUNT (default 20) pairs 'source<TAB>target' of the split\n"
                    "(default train) drawn with SEED (default 1).\n");
  std::exit(error.empty() ? 0 : 2);
}

uint64_t number(const std::string &option, const std::string &text) {
  char *end = nullptr;
  unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || text[0] == '-')
    usage(option + " needs a non-negative integer, not '" + text + "'");
  return v;
}

} // namespace

int main(int argc, char **argv) {
  uint64_t seed = 1, count = 20;
  dates::Split split = dates::Split::Train;
  bool listFormats = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        usage(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--help")
      usage("");
    else if (arg == "--seed")
      seed = number(arg, value());
    else if (arg == "--count")
      count = number(arg, value());
    else if (arg == "--split") {
      std::string s = value();
      if (s == "train")
        split = dates::Split::Train;
      else if (s == "held-out")
        split = dates::Split::HeldOut;
      else
        usage("--split is 'train' or 'held-out', not '" + s + "'");
    } else if (arg == "--formats")
      listFormats = true;
    else
      usage("unknown option '" + arg + "'");
  }

  if (listFormats) {
    const dates::Date example{2019, 3, 3};
    for (dates::Format f : dates::allFormats())
      std::printf("%-26s %s\n", dates::formatPattern(f).c_str(),
                  dates::render(example, f).c_str());
    return 0;
  }
  std::vector<dates::DatePair> pairs = dates::generateDates(seed, count, split);
  for (const dates::DatePair &p : pairs)
    std::printf("%s\t%s\n", p.source.c_str(), p.target.c_str());
  dates::LengthStats stats = dates::lengthStats(pairs);
  std::fprintf(stderr,
               "%zu %s pairs (seed %llu): sources %zu..%zu characters, mean %.1f; any "
               "source is at most %zu\n",
               stats.count, dates::splitName(split), static_cast<unsigned long long>(seed),
               stats.minSource, stats.maxSource, stats.meanSource, dates::maxSourceLength());
  return 0;
}
