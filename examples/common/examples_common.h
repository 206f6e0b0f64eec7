// What the decoder example apps share: a character vocabulary, padded
// batches, command-line options, weights (seeded or loaded), and printing of
// hypotheses with an ASCII heat-map of their attention.
#ifndef ATTN_EXAMPLES_COMMON_H
#define ATTN_EXAMPLES_COMMON_H

#include "attnrt/Decode.h"
#include "attnrt/ParamStore.h"
#include "attnrt/Tensor.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace examples {

// ---- the character vocabulary of every example model (dim V = 99) ----
// PAD = 0, BOS = 1, EOS = 2, UNK = 3 (any byte outside printable ASCII),
// then ' ' .. '~' as 4 .. 98.
constexpr int32_t PAD = 0, BOS = 1, EOS = 2, UNK = 3;
constexpr int64_t kVocabularySize = 4 + ('~' - ' ' + 1);

int32_t charId(char c);
/// One token as text: its character, or <pad>, <bos>, <eos>, <unk>.
std::string tokenText(int32_t id);
/// The characters of a hypothesis, up to (not including) EOS.
std::string tokensText(const std::vector<int32_t> &tokens);

// ---- padded batches ----
struct Batch {
  attnrt::Tensor ids;           ///< int32 [B, S], PAD past each length
  std::vector<int32_t> lengths; ///< B valid lengths
};
/// One row per string, one token per byte, padded to the longest (at least 1).
Batch makeBatch(const std::vector<std::string> &texts);

// ---- command line ----
/// One of several models an app runs, chosen with --model NAME.
struct Variant {
  std::string name;  ///< e.g. "dot"
  std::string title; ///< one line: what the model is
};

struct App {
  std::string program;           ///< e.g. "bahdanau_app"
  std::string title;             ///< one line: what the model is (no variants)
  std::vector<Variant> variants; ///< several models: --model NAME, the first by default
  std::string inputsHelp = "SENTENCE...";
  std::vector<std::string> defaultInputs = {
      "hello world", "attention, please!", "abc", "the quick brown fox jumps"};
};

struct Options {
  std::vector<std::string> inputs; ///< positional arguments, or the defaults
  std::string variant;             ///< --model NAME, or the first variant
  std::string weights, save;       ///< --weights, --save
  uint64_t seed = 1;               ///< --seed
  attnrt::DecodeOptions decode;    ///< --beam, --nbest, --max-length; BOS, EOS
};

/// Parses the options, runs `body` and reports its exceptions: returns the
/// exit status for main().
int run(int argc, char **argv, const App &app,
        const std::function<void(const Options &)> &body);

// ---- weights ----
/// Loads --weights into `params` or keeps their seeded initialisation, checks
/// the model's vocabulary against the characters', and prints the header
/// (what the model is; that untrained weights give gibberish).
void prepare(const App &app, const Options &opts, attnrt::ParamStore &params,
             int64_t modelVocabularySize);
/// Writes --save, if given.
void finish(const Options &opts, const attnrt::ParamStore &params);

// ---- printing ----
/// Prints each source with its hypotheses (text, logProb, score) and, when
/// they carry attention, a heat-map of the best one's over the source.
void printResults(const std::vector<std::string> &sources,
                  const std::vector<std::vector<attnrt::Hypothesis>> &results);
/// Rows = output tokens, columns = source characters; shades " .:-=+*#%@",
/// each row scaled to its largest weight (printed at the row's end).
void printHeatMap(const std::string &source, const attnrt::Hypothesis &hyp);

/// The whole app for a model whose generated Model has
/// decode(src, S_lengths, options): one sentence in, one sentence out.
template <class Model> void translate(const App &app, const Options &opts) {
  Model model(opts.seed);
  prepare(app, opts, model.params(), model.vocabularySize());
  Batch batch = makeBatch(opts.inputs);
  printResults(opts.inputs, model.decode(batch.ids, batch.lengths, opts.decode));
  finish(opts, model.params());
}

} // namespace examples

#endif // ATTN_EXAMPLES_COMMON_H
