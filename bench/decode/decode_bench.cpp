//===- decode_bench.cpp - greedy and beam decoding throughput, attnc vs PyTorch ===//
//
// The Bahdanau encoder-decoder of bench/decode/bahdanau.attn (bidirectional GRU
// encoder, additive attention, GRU decoder; V=1000 E=256 H=512 A=512) decodes
// a batch of 64 random source sentences (lengths 20..40, padded) greedily and
// with beam 5. EOS cannot be produced (its output bias is -1e4), so every
// sentence decodes exactly --steps tokens and tokens/s is well defined:
// generated tokens (batch x steps; the best hypothesis of each sentence for
// beam) / (encode + decode) time. Beam search also reports hypothesis-steps/s
// (rows run through the decoder step, summed over steps).
//
// The generated Model is wrapped in a timing attnrt::StepModel decorator, so a
// decode splits into encode + step kernel + search (decode() minus the steps:
// log-softmax, top-k, beam bookkeeping, state gathers), each reported in ms
// per step and as a share of the total. Best of --reps runs (the run with the
// smallest total), at 1 thread and at all threads (halide_set_num_threads and
// DecodeOptions::threads).
//
// PyTorch reference in the same run: the weights are saved with model.save()
// (safetensors, .attn names) and the source batch beside them; torch_decode.py
// decodes the same batch in torch eager at the same thread counts and writes
// its sequences and scores, which are compared here: identical greedy
// sequences, beam-5 best log-probabilities.
//
// usage: decode_bench [--batch B] [--steps T] [--beam K] [--reps N] [--threads N]
//                     [--min-length L] [--max-length L] [--seed N] [--no-torch]
//                     [--keep DIR]
// env:   ATTN_BENCH_PYTHON (default python3)
//
//===----------------------------------------------------------------------===//
#include "BenchCommon.h"
#include "bahdanau_bench.h"

#include "attnrt/Safetensors.h"

#include "HalideRuntime.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

using Clock = std::chrono::steady_clock;

namespace {

using bench::cpuModel;

constexpr int kBos = 1, kEos = 2;

double seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

/// CPU time of this process, all threads: at 1 thread, a figure that other processes on the
/// machine inflate much less than the wall time.
double cpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

struct Options {
  int batch = 64, steps = 50, beam = 5, reps = 3, threads = 0;
  int minLength = 20, maxLength = 40;
  unsigned seed = 1;
  bool torch = true;
  std::string keep; // where to leave weights, source and torch outputs (default: a temp dir)
};

/// Forwards step() to the model and adds up the time spent in it.
class TimedStepModel : public attnrt::StepModel {
public:
  explicit TimedStepModel(const attnrt::StepModel &inner) : inner_(inner) {}
  int64_t vocabularySize() const override { return inner_.vocabularySize(); }
  void step(const attnrt::DecoderMemory &memory, const attnrt::Tensor &rows,
            const attnrt::Tensor &tokens, const std::vector<attnrt::Tensor> &states,
            attnrt::StepOutputs &out) const override {
    auto start = Clock::now();
    inner_.step(memory, rows, tokens, states, out);
    seconds_ += ::seconds(start);
    ++calls_;
    rows_ += rows.dim(0);
  }
  void reset() { seconds_ = 0, calls_ = 0, rows_ = 0; }
  double seconds() const { return seconds_; }
  int64_t calls() const { return calls_; }
  int64_t rows() const { return rows_; }

private:
  const attnrt::StepModel &inner_;
  mutable double seconds_ = 0;
  mutable int64_t calls_ = 0, rows_ = 0;
};

/// One decode (encode + search), its parts in seconds.
struct Run {
  double encode = 0, step = 0, search = 0;
  double cpu = 0; // process CPU time of the whole run (all threads)
  int64_t calls = 0, rows = 0;
  double total() const { return encode + step + search; }
};

struct Decoded {
  std::vector<std::vector<int32_t>> tokens; // best hypothesis per sentence
  std::vector<double> logProb;
};

/// Best run (smallest total) of several.
struct Timing {
  std::vector<Run> runs;
  const Run &best() const {
    return *std::min_element(runs.begin(), runs.end(),
                             [](const Run &a, const Run &b) { return a.total() < b.total(); });
  }
  double medianTotal() const {
    std::vector<double> t;
    for (const Run &r : runs)
      t.push_back(r.total());
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
  }
};

struct Source {
  attnrt::Tensor src;
  std::vector<int32_t> lengths;
};

// ---- weights: seeded, scaled so that neither softmax is degenerate.
//
// Matrices [in, out] ~ U(-a, a) with a = gain * sqrt(3 / in) (output variance gain^2 x the
// input's), embeddings N(0, 1), biases U(-0.1, 0.1). The gains: 1 for the GRU gates, the initial
// state and the attention projections; 6 for va, so that the attention is neither uniform nor
// one-hot (max weight ~0.35 over 20-40 positions); 12 for Wo, so that the logits have a standard
// deviation of ~3 (top-1 probability ~0.3: peaked, far from one-hot, and argmax near-ties are
// rare, so float differences seldom flip a token). main() prints these statistics.
void randomizeWeights(bahdanau_bench::Model &model, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (const std::string &name : model.params().names()) {
    attnrt::Tensor &t = model.params().get(name);
    float *p = t.data<float>();
    if (name == "Es" || name == "Et") {
      for (int64_t i = 0; i < t.numel(); ++i)
        p[i] = normal(gen);
      continue;
    }
    float bound = 0.1f; // biases
    if (t.rank() == 2) {
      double gain = name == "Wo" ? 12.0 : 1.0;
      bound = static_cast<float>(gain * std::sqrt(3.0 / double(t.dim(0))));
    } else if (name == "va") {
      bound = static_cast<float>(6.0 * std::sqrt(3.0 / double(t.dim(0))));
    }
    std::uniform_real_distribution<float> uniform(-bound, bound);
    for (int64_t i = 0; i < t.numel(); ++i)
      p[i] = uniform(gen);
  }
  model.bo().at({kEos}) = -1e4f; // EOS is never produced: every sentence decodes --steps tokens
}

Source randomSource(const Options &o, int64_t vocabulary, unsigned seed) {
  std::mt19937 gen(seed + 1000);
  std::uniform_int_distribution<int> length(o.minLength, o.maxLength);
  std::uniform_int_distribution<int32_t> token(3, static_cast<int32_t>(vocabulary) - 1);
  Source s;
  for (int b = 0; b < o.batch; ++b)
    s.lengths.push_back(length(gen));
  const int64_t S = *std::max_element(s.lengths.begin(), s.lengths.end());
  s.src = attnrt::Tensor(attnrt::DType::I32, {o.batch, S}); // padding: 0
  int32_t *p = s.src.data<int32_t>();
  for (int b = 0; b < o.batch; ++b)
    for (int i = 0; i < s.lengths[b]; ++i)
      p[b * S + i] = token(gen);
  return s;
}

/// Statistics of the first decoder step (BOS from the initial states): how peaked the two softmaxes
/// are.
void printSoftmaxStatistics(const bahdanau_bench::Model &model, const Source &source) {
  attnrt::DecoderMemory memory = model.encode(source.src, source.lengths);
  const int64_t B = memory.batch, V = model.vocabularySize(), S = memory.sourceLength;
  std::vector<int32_t> rows(B), tokens(B, kBos);
  for (int64_t b = 0; b < B; ++b)
    rows[b] = static_cast<int32_t>(b);
  attnrt::StepOutputs out;
  model.step(memory, attnrt::Tensor::fromVector<int32_t>({B}, rows),
             attnrt::Tensor::fromVector<int32_t>({B}, tokens), memory.states, out);
  double logitVar = 0, topP = 0, topAttention = 0, attentionEntropy = 0, uniformEntropy = 0;
  for (int64_t b = 0; b < B; ++b) {
    const float *l = out.logits.data<float>() + b * V;
    double mean = 0, max = -1e30, z = 0;
    int64_t n = 0;
    for (int64_t v = 0; v < V; ++v)
      if (v != kEos)
        mean += l[v], max = std::max<double>(max, l[v]), ++n;
    mean /= double(n);
    for (int64_t v = 0; v < V; ++v)
      if (v != kEos)
        logitVar += (l[v] - mean) * (l[v] - mean) / double(n * B), z += std::exp(l[v] - max);
    topP += 1.0 / z / double(B);
    const float *a = out.attention.data<float>() + b * S;
    double amax = 0, entropy = 0;
    for (int64_t i = 0; i < source.lengths[b]; ++i) {
      amax = std::max<double>(amax, a[i]);
      if (a[i] > 0)
        entropy -= a[i] * std::log(a[i]);
    }
    topAttention += amax / double(B);
    attentionEntropy += entropy / double(B);
    uniformEntropy += std::log(double(source.lengths[b])) / double(B);
  }
  printf("softmax check (step 1, mean over the batch): logits std %.2f, top-1 token probability "
         "%.3f (uniform: %.4f); attention max weight %.3f, entropy %.2f nats (uniform: %.2f)\n",
         std::sqrt(logitVar), topP, 1.0 / double(V - 1), topAttention, attentionEntropy,
         uniformEntropy);
}

Run decodeOnce(const bahdanau_bench::Model &model, const Source &source,
               const attnrt::DecodeOptions &options, Decoded *decoded) {
  TimedStepModel timed(model);
  Run run;
  const double cpuStart = cpuSeconds();
  auto start = Clock::now();
  attnrt::DecoderMemory memory = model.encode(source.src, source.lengths);
  run.encode = seconds(start);
  start = Clock::now();
  std::vector<std::vector<attnrt::Hypothesis>> result = attnrt::decode(timed, memory, options);
  const double decodeSeconds = seconds(start);
  run.cpu = cpuSeconds() - cpuStart;
  run.step = timed.seconds();
  run.search = decodeSeconds - run.step;
  run.calls = timed.calls();
  run.rows = timed.rows();
  if (decoded) {
    decoded->tokens.clear();
    decoded->logProb.clear();
    for (const auto &hyps : result) {
      decoded->tokens.push_back(hyps.at(0).tokens);
      decoded->logProb.push_back(hyps.at(0).logProb);
    }
  }
  return run;
}

// ---- PyTorch via torch_decode.py.
struct TorchRun {
  Run best;
  double medianTotal = 0;
};

struct TorchResult {
  bool ok = false;
  std::string version, note;
  TorchRun greedy, beam;
  Decoded greedyOut, beamOut;
};

bool readDecoded(std::istream &in, const char *what, int batch, Decoded &d) {
  std::string tag;
  int b = 0, t = 0;
  if (!(in >> tag >> b >> t) || tag != what || b != batch)
    return false;
  d.tokens.assign(b, std::vector<int32_t>(t));
  d.logProb.assign(b, 0);
  for (int i = 0; i < b; ++i) {
    in >> d.logProb[i];
    for (int j = 0; j < t; ++j)
      in >> d.tokens[i][j];
  }
  return bool(in);
}

TorchResult runTorch(const Options &o, const std::string &dir, int threads) {
  TorchResult r;
  const char *python = getenv("ATTN_BENCH_PYTHON") ? getenv("ATTN_BENCH_PYTHON") : "python3";
  const std::string outPath = dir + "/torch_" + std::to_string(threads) + ".txt";
  std::string cmd = std::string(python) + " " ATTN_BENCH_TORCH_SCRIPT " --weights " + dir +
                    "/weights.safetensors --source " + dir + "/source.safetensors --out " +
                    outPath + " --steps " + std::to_string(o.steps) + " --beam " +
                    std::to_string(o.beam) + " --bos " + std::to_string(kBos) + " --threads " +
                    std::to_string(threads) + " --reps " + std::to_string(o.reps) + " 2>&1";
  FILE *pipe = popen(cmd.c_str(), "r");
  if (!pipe) {
    r.note = "could not start " + std::string(python);
    return r;
  }
  char line[1024];
  std::string all;
  int found = 0;
  while (fgets(line, sizeof line, pipe)) {
    all += line;
    char version[128], mode[16];
    Run run;
    double median = 0;
    long calls = 0, rows = 0;
    if (sscanf(line,
               "RESULT torch=%127s mode=%15s threads=%*d encode_s=%lf step_s=%lf search_s=%lf "
               "median_total_s=%lf cpu_s=%lf calls=%ld rows=%ld",
               version, mode, &run.encode, &run.step, &run.search, &median, &run.cpu, &calls,
               &rows) == 9) {
      run.calls = calls;
      run.rows = rows;
      TorchRun &target = std::string(mode) == "greedy" ? r.greedy : r.beam;
      target.best = run;
      target.medianTotal = median;
      r.version = version;
      ++found;
    }
  }
  const int status = pclose(pipe);
  if (found == 2 && status == 0) {
    std::ifstream in(outPath);
    r.ok = readDecoded(in, "greedy", o.batch, r.greedyOut) &&
           readDecoded(in, "beam", o.batch, r.beamOut);
    if (!r.ok)
      r.note = "could not read " + outPath;
  } else {
    r.note = all.find("TORCH_MISSING") != std::string::npos
                 ? "torch or safetensors is not installed for " + std::string(python) +
                       " (pip install torch safetensors)"
                 : "torch_decode.py failed: " + all;
  }
  return r;
}

struct Agreement {
  double identical = 0;      // fraction of sentences with identical token sequences
  double tokensEqual = 0;    // fraction of tokens equal position by position
  double meanDivergence = 0; // mean first differing position (0-based), differing sentences
  double maxLogProbDiff = 0, maxRelLogProbDiff = 0;
  int differing = 0;
};

Agreement agree(const Decoded &a, const Decoded &b) {
  Agreement g;
  size_t tokens = 0, equal = 0, same = 0;
  double divergence = 0;
  for (size_t i = 0; i < a.tokens.size(); ++i) {
    const auto &x = a.tokens[i], &y = b.tokens[i];
    size_t n = std::min(x.size(), y.size()), first = n;
    for (size_t j = 0; j < n; ++j) {
      equal += x[j] == y[j];
      if (x[j] != y[j] && first == n)
        first = j;
    }
    tokens += std::max(x.size(), y.size());
    if (x == y) {
      ++same;
    } else {
      ++g.differing;
      divergence += double(first);
    }
    double d = std::fabs(a.logProb[i] - b.logProb[i]);
    g.maxLogProbDiff = std::max(g.maxLogProbDiff, d);
    g.maxRelLogProbDiff =
        std::max(g.maxRelLogProbDiff, d / std::max(1e-30, std::fabs(b.logProb[i])));
  }
  g.identical = double(same) / double(a.tokens.size());
  g.tokensEqual = tokens ? double(equal) / double(tokens) : 1.0;
  g.meanDivergence = g.differing ? divergence / g.differing : 0;
  return g;
}

Options parse(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    auto next = [&] { return i + 1 < argc ? std::atoi(argv[++i]) : 0; };
    if (!strcmp(argv[i], "--batch"))
      o.batch = next();
    else if (!strcmp(argv[i], "--steps"))
      o.steps = next();
    else if (!strcmp(argv[i], "--beam"))
      o.beam = next();
    else if (!strcmp(argv[i], "--reps"))
      o.reps = next();
    else if (!strcmp(argv[i], "--threads"))
      o.threads = next();
    else if (!strcmp(argv[i], "--min-length"))
      o.minLength = next();
    else if (!strcmp(argv[i], "--max-length"))
      o.maxLength = next();
    else if (!strcmp(argv[i], "--seed"))
      o.seed = static_cast<unsigned>(next());
    else if (!strcmp(argv[i], "--no-torch"))
      o.torch = false;
    else if (!strcmp(argv[i], "--keep") && i + 1 < argc)
      o.keep = argv[++i];
    else {
      fprintf(stderr,
              "usage: %s [--batch B] [--steps T] [--beam K] [--reps N] [--threads N] "
              "[--min-length L] [--max-length L] [--seed N] [--no-torch] [--keep DIR]\n",
              argv[0]);
      std::exit(2);
    }
  }
  if (o.batch < 1 || o.steps < 1 || o.beam < 2 || o.reps < 1 || o.minLength < 1 ||
      o.maxLength < o.minLength) {
    fprintf(stderr, "decode_bench: sizes and --reps must be positive, --beam >= 2, "
                    "--min-length <= --max-length\n");
    std::exit(2);
  }
  return o;
}

/// "12.34 (56%)": ms per step of one part, and its share of the total.
std::string part(double partSeconds, double totalSeconds, int steps) {
  char buf[64];
  snprintf(buf, sizeof buf, "%7.2f (%3.0f%%)", partSeconds * 1e3 / steps,
           100 * partSeconds / totalSeconds);
  return buf;
}

} // namespace

int main(int argc, char **argv) {
  Options o = parse(argc, argv);
  const int allThreads =
      o.threads > 0 ? o.threads : std::max(1, int(std::thread::hardware_concurrency()));

  bahdanau_bench::Model model(o.seed);
  randomizeWeights(model, o.seed);
  const int64_t V = model.vocabularySize();
  Source source = randomSource(o, V, o.seed);
  const int64_t S = source.src.dim(1);

  std::string dir = o.keep;
  if (dir.empty()) {
    char tmpl[] = "/tmp/decode_bench.XXXXXX";
    if (!mkdtemp(tmpl)) {
      perror("decode_bench: mkdtemp");
      return 1;
    }
    dir = tmpl;
  }
  model.save(dir + "/weights.safetensors");
  attnrt::Tensor lengthsTensor = attnrt::Tensor::fromVector<int32_t>({o.batch}, source.lengths);
  attnrt::writeSafetensors(dir + "/source.safetensors",
                           {{"src", &source.src}, {"lengths", &lengthsTensor}});

  int64_t sourceTokens = 0;
  for (int32_t l : source.lengths)
    sourceTokens += l;
  printf("decoding: bahdanau_bench (bi-GRU encoder, additive attention, GRU decoder), V=%ld E=256 "
         "H=512 A=512, fp32\n",
         long(V));
  printf("batch %d sentences, source lengths %d..%d (%ld tokens, padded to S=%ld); %d steps per "
         "sentence (EOS impossible: bias -1e4), greedy and beam %d\n",
         o.batch, o.minLength, o.maxLength, long(sourceTokens), long(S), o.steps, o.beam);
  printf("machine: %s, %u hardware threads; best (smallest total) of %d runs\n", cpuModel().c_str(),
         std::thread::hardware_concurrency(), o.reps);
  // Halide's thread pool must be created at 1 thread: halide_set_num_threads(1) after a kernel
  // has run with more (the pool started with a worker per core) did not keep that worker idle
  // here (1-thread decodes used 2 cores' CPU time). Raising the count later works.
  halide_set_num_threads(1);
  printSoftmaxStatistics(model, source);

  std::vector<int> threadCounts = {1};
  if (allThreads > 1)
    threadCounts.push_back(allThreads);

  struct Row {
    int threads;
    Timing greedy, beam;
    TorchResult torch;
  };
  std::vector<Row> rows;
  Decoded greedyOut, beamOut;
  bool sameAcrossThreads = true;
  for (int threads : threadCounts) {
    Row row;
    row.threads = threads;
    halide_set_num_threads(threads);
    attnrt::DecodeOptions greedy;
    greedy.beamSize = 1;
    greedy.maxLength = o.steps;
    greedy.bos = kBos;
    greedy.eos = kEos;
    greedy.keepAttention = false;
    greedy.threads = threads;
    attnrt::DecodeOptions beam = greedy;
    beam.beamSize = o.beam;

    // One untimed decode of each kind, then half of the runs before PyTorch and half after, so
    // that both see the same machine load as far as possible.
    Decoded g, b;
    decodeOnce(model, source, greedy, &g);
    decodeOnce(model, source, beam, &b);
    if (rows.empty()) {
      greedyOut = g;
      beamOut = b;
    } else if (g.tokens != greedyOut.tokens || b.tokens != beamOut.tokens ||
               g.logProb != greedyOut.logProb || b.logProb != beamOut.logProb) {
      sameAcrossThreads = false;
    }
    auto timeRuns = [&](int reps) {
      for (int rep = 0; rep < reps; ++rep)
        row.greedy.runs.push_back(decodeOnce(model, source, greedy, nullptr));
      for (int rep = 0; rep < reps; ++rep)
        row.beam.runs.push_back(decodeOnce(model, source, beam, nullptr));
    };
    timeRuns((o.reps + 1) / 2);
    if (o.torch)
      row.torch = runTorch(o, dir, threads);
    timeRuns(o.reps / 2);
    rows.push_back(row);
  }

  const double tokens = double(o.batch) * o.steps;
  for (const Row &r : rows)
    for (const Timing *t : {&r.greedy, &r.beam})
      for (const Run &run : t->runs)
        if (run.calls != o.steps) {
          fprintf(stderr, "decode_bench: a decode took %ld steps, expected %d (EOS produced?)\n",
                  long(run.calls), o.steps);
          return 1;
        }
  for (const auto &toks : greedyOut.tokens)
    if (toks.size() != size_t(o.steps)) {
      fprintf(stderr, "decode_bench: a greedy hypothesis has %zu tokens, expected %d\n",
              toks.size(), o.steps);
      return 1;
    }

  printf("\ntokens/s = %d sentences x %d tokens / (encode + decode); hyp-steps/s = decoder rows "
         "(hypotheses) per second, summed over the steps\n",
         o.batch, o.steps);
  printf("%-8s %-8s %-7s %10s %10s %10s %10s %11s %16s %16s %16s\n", "threads", "search",
         "impl", "total ms", "median ms", "CPU ms", "tokens/s", "hyp-steps/s", "encode ms/step",
         "step ms/step", "search ms/step");
  auto printRun = [&](int threads, const char *search, const char *impl, const Run &run,
                      double median) {
    printf("%-8d %-8s %-7s %10.1f %10.1f %10.1f %10.0f %11.0f %16s %16s %16s\n", threads, search,
           impl, run.total() * 1e3, median * 1e3, run.cpu * 1e3, tokens / run.total(),
           double(run.rows) / run.total(),
           part(run.encode, run.total(), o.steps).c_str(),
           part(run.step, run.total(), o.steps).c_str(),
           part(run.search, run.total(), o.steps).c_str());
  };
  char beamName[16];
  snprintf(beamName, sizeof beamName, "beam %d", o.beam);
  for (const Row &r : rows) {
    printRun(r.threads, "greedy", "attnc", r.greedy.best(), r.greedy.medianTotal());
    if (r.torch.ok)
      printRun(r.threads, "greedy", "torch", r.torch.greedy.best, r.torch.greedy.medianTotal);
    printRun(r.threads, beamName, "attnc", r.beam.best(), r.beam.medianTotal());
    if (r.torch.ok)
      printRun(r.threads, beamName, "torch", r.torch.beam.best, r.torch.beam.medianTotal);
  }
  printf("(CPU ms: process CPU time of that run, all threads; encode ms/step: the encoder's time "
         "spread over the %d steps; step: the decoder step (attnc: the compiled step kernel); "
         "search: log-softmax, top-k, beam bookkeeping)\n",
         o.steps);

  printf("\ntokens/s ratios attnc/torch (best totals, same run):\n");
  for (const Row &r : rows) {
    if (!r.torch.ok)
      continue;
    printf("  %d thread%s: greedy %.2fx (step alone %.2fx), %s %.2fx (step alone %.2fx)\n",
           r.threads, r.threads > 1 ? "s" : " ",
           r.torch.greedy.best.total() / r.greedy.best().total(),
           r.torch.greedy.best.step / r.greedy.best().step, beamName,
           r.torch.beam.best.total() / r.beam.best().total(),
           r.torch.beam.best.step / r.beam.best().step);
  }
  if (rows.size() > 1)
    printf("  attnc scaling 1 -> %d threads: greedy %.2fx, %s %.2fx\n", rows.back().threads,
           rows.front().greedy.best().total() / rows.back().greedy.best().total(), beamName,
           rows.front().beam.best().total() / rows.back().beam.best().total());

  printf("\nagreement with PyTorch (attnc vs torch, %d sentences of %d tokens):\n", o.batch,
         o.steps);
  for (const Row &r : rows) {
    if (!r.torch.ok) {
      if (o.torch)
        printf("  %d thread(s): no PyTorch figures: %s\n", r.threads, r.torch.note.c_str());
      continue;
    }
    Agreement g = agree(greedyOut, r.torch.greedyOut), b = agree(beamOut, r.torch.beamOut);
    char divergence[96] = "";
    if (g.differing > 0)
      snprintf(divergence, sizeof divergence, ", first difference at token %.1f on average",
               g.meanDivergence + 1);
    printf("  torch at %d thread%s: greedy: %.1f%% identical sequences (%d differ%s), %.2f%% of "
           "tokens equal; max |log-prob difference| %.2e (relative %.1e)\n",
           r.threads, r.threads > 1 ? "s" : " ", 100 * g.identical, g.differing, divergence,
           100 * g.tokensEqual, g.maxLogProbDiff, g.maxRelLogProbDiff);
    printf("                   %s: best scores max |difference| %.2e (relative %.1e); %.1f%% "
           "identical best sequences (%d differ)\n",
           beamName, b.maxLogProbDiff, b.maxRelLogProbDiff, 100 * b.identical, b.differing);
  }
  double greedyMean = 0, beamMean = 0;
  for (int i = 0; i < o.batch; ++i)
    greedyMean += greedyOut.logProb[i] / o.batch, beamMean += beamOut.logProb[i] / o.batch;
  int beamBetter = 0;
  for (int i = 0; i < o.batch; ++i)
    beamBetter += beamOut.logProb[i] > greedyOut.logProb[i] + 1e-6;
  printf("  attnc: mean log-probability of the best hypothesis: greedy %.3f, %s %.3f (higher than "
         "greedy for %d of %d sentences)\n",
         greedyMean, beamName, beamMean, beamBetter, o.batch);
  printf("  attnc results identical at 1 and %d threads: %s\n", allThreads,
         sameAcrossThreads ? "yes" : "no");
  if (o.keep.empty()) {
    for (const char *f : {"/weights.safetensors", "/source.safetensors"})
      unlink((dir + f).c_str());
    for (int threads : threadCounts)
      unlink((dir + "/torch_" + std::to_string(threads) + ".txt").c_str());
    rmdir(dir.c_str());
  } else {
    printf("weights, source and torch outputs kept in %s\n", dir.c_str());
  }
  return 0;
}
