#include "examples_common.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>

namespace examples {

int32_t charId(char c) {
  return c >= ' ' && c <= '~' ? 4 + (c - ' ') : UNK;
}

std::string tokenText(int32_t id) {
  switch (id) {
  case PAD: return "<pad>";
  case BOS: return "<bos>";
  case EOS: return "<eos>";
  case UNK: return "<unk>";
  default:
    if (id > UNK && id < kVocabularySize)
      return std::string(1, static_cast<char>(' ' + (id - 4)));
    return "<" + std::to_string(id) + ">";
  }
}

std::string tokensText(const std::vector<int32_t> &tokens) {
  std::string text;
  for (int32_t id : tokens) {
    if (id == EOS)
      break;
    text += tokenText(id);
  }
  return text;
}

Batch makeBatch(const std::vector<std::string> &texts) {
  Batch batch;
  int64_t padded = 1;
  for (const std::string &t : texts) {
    batch.lengths.push_back(static_cast<int32_t>(t.size()));
    padded = std::max<int64_t>(padded, static_cast<int64_t>(t.size()));
  }
  batch.ids = attnrt::Tensor(attnrt::DType::I32,
                             {static_cast<int64_t>(texts.size()), padded});
  for (size_t b = 0; b < texts.size(); ++b)
    for (int64_t i = 0; i < padded; ++i)
      batch.ids.at<int32_t>({static_cast<int64_t>(b), i}) =
          i < static_cast<int64_t>(texts[b].size()) ? charId(texts[b][i]) : PAD;
  return batch;
}

namespace {

[[noreturn]] void usage(const App &app, const std::string &error) {
  std::ostream &os = error.empty() ? std::cout : std::cerr;
  if (!error.empty())
    os << "error: " << error << "\n";
  std::string models;
  for (const Variant &v : app.variants)
    models += (models.empty() ? "" : "|") + v.name;
  os << "usage: " << app.program << (models.empty() ? "" : " [--model " + models + "]")
     << " [--beam N] [--nbest N] [--max-length N]\n"
     << "       " << std::string(app.program.size(), ' ')
     << " [--seed N | --weights FILE.safetensors] [--save FILE] ["
     << app.inputsHelp << "]\n"
     << (app.variants.empty() ? app.title + "\n" : std::string());
  for (const Variant &v : app.variants)
    os << "  --model " << v.name << ": " << v.title << "\n";
  os << "--beam 1 (the default) decodes greedily; --nbest (<= --beam) hypotheses\n"
     << "are printed per input. Without inputs a default batch of "
     << app.defaultInputs.size() << " is decoded.\n";
  std::exit(error.empty() ? 0 : 2);
}

int positiveInt(const App &app, const std::string &option, const std::string &text) {
  char *end = nullptr;
  long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v < 1 || v > 100000)
    usage(app, option + " needs a positive integer, not '" + text + "'");
  return static_cast<int>(v);
}

Options parse(int argc, char **argv, const App &app) {
  Options o;
  o.decode.bos = BOS;
  o.decode.eos = EOS;
  o.decode.maxLength = 30;
  bool onlyInputs = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (onlyInputs || arg.size() < 2 || arg.compare(0, 2, "--") != 0) {
      o.inputs.push_back(arg);
      continue;
    }
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        usage(app, arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--")
      onlyInputs = true;
    else if (arg == "--help")
      usage(app, "");
    else if (arg == "--beam")
      o.decode.beamSize = positiveInt(app, arg, value());
    else if (arg == "--nbest")
      o.decode.nBest = positiveInt(app, arg, value());
    else if (arg == "--max-length")
      o.decode.maxLength = positiveInt(app, arg, value());
    else if (arg == "--model" && !app.variants.empty())
      o.variant = value();
    else if (arg == "--seed")
      o.seed = std::strtoull(value().c_str(), nullptr, 10);
    else if (arg == "--weights")
      o.weights = value();
    else if (arg == "--save")
      o.save = value();
    else
      usage(app, "unknown option " + arg);
  }
  if (o.decode.nBest > o.decode.beamSize)
    usage(app, "--nbest " + std::to_string(o.decode.nBest) +
                   " is more than the beam (--beam " +
                   std::to_string(o.decode.beamSize) + ")");
  if (!app.variants.empty()) {
    if (o.variant.empty())
      o.variant = app.variants.front().name;
    if (std::none_of(app.variants.begin(), app.variants.end(),
                     [&](const Variant &v) { return v.name == o.variant; }))
      usage(app, "unknown model '" + o.variant + "'");
  }
  if (o.inputs.empty())
    o.inputs = app.defaultInputs;
  return o;
}

} // namespace

int run(int argc, char **argv, const App &app,
        const std::function<void(const Options &)> &body) {
  Options opts = parse(argc, argv, app);
  try {
    body(opts);
  } catch (const std::exception &e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

void prepare(const App &app, const Options &opts, attnrt::ParamStore &params,
             int64_t modelVocabularySize) {
  if (modelVocabularySize != kVocabularySize)
    throw std::invalid_argument(
        "the model's vocabulary has " + std::to_string(modelVocabularySize) +
        " tokens, the character vocabulary " + std::to_string(kVocabularySize) +
        " (dim V in the .attn file)");
  std::string title = app.title;
  for (const Variant &v : app.variants)
    if (v.name == opts.variant)
      title = v.title;
  std::cout << title << "\n";
  if (!opts.weights.empty()) {
    params.load(opts.weights);
    std::cout << "weights: " << opts.weights << " (" << params.numel()
              << " values)\n";
  } else {
    std::cout << "weights: UNTRAINED, initialised from seed " << opts.seed << " ("
              << params.numel()
              << " values): the output is gibberish; load trained weights with "
                 "--weights FILE.safetensors\n";
  }
  std::cout << (opts.decode.beamSize == 1
                    ? std::string("greedy decoding")
                    : "beam search, beam " + std::to_string(opts.decode.beamSize))
            << ", at most " << opts.decode.maxLength << " characters\n";
}

void finish(const Options &opts, const attnrt::ParamStore &params) {
  if (opts.save.empty())
    return;
  params.save(opts.save);
  std::cout << "saved the weights to " << opts.save << "\n";
}

void printHeatMap(const std::string &source, const attnrt::Hypothesis &hyp) {
  static const char shades[] = " .:-=+*#%@";
  const size_t rows = hyp.tokens.size();
  if (rows == 0 || hyp.attention.size() % rows != 0)
    return;
  const size_t width = hyp.attention.size() / rows; // padded source length
  const size_t cols = std::min(width, source.size());
  if (cols == 0) {
    std::printf("     (empty source: no attention)\n");
    return;
  }
  std::printf("     attention (rows: output, columns: source; each row scaled to its "
              "maximum, shades \"%s\"):\n", shades);
  std::printf("     %7s |%s|\n", "", source.substr(0, cols).c_str());
  for (size_t r = 0; r < rows; ++r) {
    const float *row = hyp.attention.data() + r * width;
    float top = 0;
    for (size_t c = 0; c < cols; ++c)
      top = std::max(top, row[c]);
    std::string line;
    for (size_t c = 0; c < cols; ++c)
      line += shades[top > 0 ? std::min(9, static_cast<int>(row[c] / top * 9 + 0.5f)) : 0];
    std::printf("     %7s |%s|  max %.2f\n", tokenText(hyp.tokens[r]).c_str(),
                line.c_str(), top);
  }
}

void printResults(const std::vector<std::string> &sources,
                  const std::vector<std::vector<attnrt::Hypothesis>> &results) {
  for (size_t b = 0; b < results.size(); ++b) {
    std::printf("\n[%zu] \"%s\"\n", b, sources[b].c_str());
    for (size_t n = 0; n < results[b].size(); ++n) {
      const attnrt::Hypothesis &hyp = results[b][n];
      std::printf("  %zu. \"%s\"  logProb %.3f  score %.3f  %s\n", n + 1,
                  tokensText(hyp.tokens).c_str(), hyp.logProb, hyp.score,
                  hyp.finished ? "(ended with <eos>)" : "(hit --max-length)");
    }
    if (!results[b].empty() && !results[b][0].attention.empty())
      printHeatMap(sources[b], results[b][0]);
  }
}

} // namespace examples
