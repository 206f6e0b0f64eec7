//===- train_bench.cpp - training throughput and time to 99%, attnc vs PyTorch -===//
//
// The date-normalisation model of examples/dates/dates.attn (bi-GRU encoder E=32 H=64, additive
// attention A=64, GRU decoder D=128, V=99 characters), compiled by attnc, against the same model
// written with torch.nn (torch_train.py) in the same run, on the same data:
//
//   - the data stream of examples/dates/dates_train.cpp (fresh dates every epoch from
//     dates::generateDates, length-grouped batches of 64 from attnrt::makeBatches, padded) is made
//     here once and written to a safetensors file that the PyTorch script reads, with the 1000
//     held-out dates and attnc's initial weights (Model(seed), saved with model.save());
//   - check: the loss and the gradients of the first batch from those weights, attnc vs torch
//     (the largest difference per parameter, relative to the largest gradient element, and the
//     largest element-wise relative difference over the elements above 1e-3 of it);
//   - throughput: target tokens/s of a full training step (loss + gradients, clip the global norm
//     to 5, Adam at lr 3e-3 halved every 1500 steps, loss = mean per target token) over --steps
//     fixed batches, best of --reps, at 1 thread and all threads (attnrt::setThreads /
//     torch.set_num_threads), with attnc's step split into gradient kernel / clip / Adam;
//   - converge: training from the same weights over the same batch stream until greedy exact
//     match on the held-out dates reaches --target (evaluated every --eval-every steps: greedy,
//     256 sources at a time, at most 12 tokens; a date is right if its tokens before EOS are the
//     target's), wall time (training + evaluations), process CPU time and steps for both, at
//     --converge-threads threads (default 1; 0: all). At 1 thread it runs before the throughput
//     phase, since Halide's thread pool must start at 1 thread (bench/decode/README.md).
//
// usage: train_bench [--steps N] [--reps N] [--threads N] [--converge-threads N] [--seed N]
//                    [--max-steps N] [--target X] [--eval-every N] [--no-converge] [--no-torch]
//                    [--keep DIR]
// env:   ATTN_BENCH_PYTHON (default python3)
//
//===----------------------------------------------------------------------===//
#include "BenchCommon.h"
#include "DateData.h"
#include "examples_common.h"

#include "dates.h"

#include "attnrt/Batching.h"
#include "attnrt/Clip.h"
#include "attnrt/Optim.h"
#include "attnrt/Safetensors.h"
#include "attnrt/Schedule.h"
#include "attnrt/Threads.h"

#include "HalideRuntime.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kExamplesPerEpoch = 10000, kHeldOut = 1000, kChunk = 256;
constexpr int64_t kBatch = 64, kDecayEvery = 1500;
constexpr double kLr = 3e-3, kClip = 5.0;
constexpr int kMaxLength = static_cast<int>(dates::kTargetLength) + 2;

double seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

double cpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

struct Options {
  int steps = 20, reps = 3, threads = 0, convergeThreads = 1;
  int maxSteps = 2000, evalEvery = 200;
  double target = 0.99;
  unsigned seed = 1;
  bool torch = true, converge = true;
  std::string keep;
};

/// One training batch, padded as dates_train pads it.
struct StepData {
  attnrt::PaddedBatch src, tgt;
  int64_t tokens = 0; // target tokens (EOS included)
};

struct HeldOut {
  std::vector<std::vector<int32_t>> sources, targets; // targets without EOS
};

/// The first `count` batches of dates_train's data stream (seed `seed`).
std::vector<StepData> makeStream(unsigned seed, int count) {
  std::vector<StepData> stream;
  attnrt::BatchingOptions batching;
  batching.maxExamples = kBatch;
  batching.chunkSize = kBatch * 16;
  for (int64_t epoch = 0; int(stream.size()) < count; ++epoch) {
    uint64_t epochSeed = seed * 1000003ull + static_cast<uint64_t>(epoch);
    std::vector<std::vector<int32_t>> sources, targets;
    std::vector<int64_t> lengths;
    for (const dates::DatePair &p : dates::generateDates(epochSeed, kExamplesPerEpoch,
                                                         dates::Split::Train)) {
      sources.push_back(dates::encodeChars(p.source, /*appendEos=*/false));
      targets.push_back(dates::encodeChars(p.target, /*appendEos=*/true));
      lengths.push_back(int64_t(sources.back().size()));
    }
    for (const attnrt::Batch &b : attnrt::makeBatches(lengths, batching, seed, epoch)) {
      if (int(stream.size()) == count)
        break;
      StepData s;
      s.src = attnrt::padExamples(sources, b.examples, {examples::PAD});
      s.tgt = attnrt::padExamples(targets, b.examples, {examples::PAD});
      for (int32_t n : s.tgt.lengths)
        s.tokens += n;
      stream.push_back(std::move(s));
    }
  }
  return stream;
}

HeldOut makeHeldOut(unsigned seed) {
  HeldOut h;
  for (const dates::DatePair &p : dates::generateDates(seed, kHeldOut, dates::Split::HeldOut)) {
    h.sources.push_back(dates::encodeChars(p.source, false));
    h.targets.push_back(dates::encodeChars(p.target, false));
  }
  return h;
}

void writeStream(const std::string &path, const std::vector<StepData> &stream) {
  std::vector<int32_t> shapes, src, srcLen, tgt, tgtLen;
  for (const StepData &s : stream) {
    shapes.insert(shapes.end(), {int32_t(s.src.ids.dim(0)), int32_t(s.src.ids.dim(1)),
                                 int32_t(s.tgt.ids.dim(1))});
    const int32_t *a = s.src.ids.data<int32_t>(), *b = s.tgt.ids.data<int32_t>();
    src.insert(src.end(), a, a + s.src.ids.numel());
    tgt.insert(tgt.end(), b, b + s.tgt.ids.numel());
    srcLen.insert(srcLen.end(), s.src.lengths.begin(), s.src.lengths.end());
    tgtLen.insert(tgtLen.end(), s.tgt.lengths.begin(), s.tgt.lengths.end());
  }
  auto t = [](const std::vector<int32_t> &v) {
    return attnrt::Tensor::fromVector<int32_t>({int64_t(v.size())}, v);
  };
  attnrt::Tensor shapesT = attnrt::Tensor::fromVector<int32_t>({int64_t(stream.size()), 3}, shapes);
  attnrt::writeSafetensors(path, std::map<std::string, attnrt::Tensor>{{"shapes", shapesT},
                                                                       {"src", t(src)},
                                                                       {"src_len", t(srcLen)},
                                                                       {"tgt", t(tgt)},
                                                                       {"tgt_len", t(tgtLen)}});
}

void writeHeldOut(const std::string &path, const HeldOut &h) {
  std::vector<int64_t> all;
  for (size_t i = 0; i < h.sources.size(); ++i)
    all.push_back(int64_t(i));
  attnrt::PaddedBatch src = attnrt::padExamples(h.sources, all, {examples::PAD});
  attnrt::PaddedBatch tgt = attnrt::padExamples(h.targets, all, {examples::PAD});
  attnrt::Tensor len = attnrt::Tensor::fromVector<int32_t>({int64_t(src.lengths.size())},
                                                           src.lengths);
  attnrt::writeSafetensors(path, std::map<std::string, attnrt::Tensor>{
                                     {"src", src.ids}, {"src_len", len}, {"tgt", tgt.ids}});
}

/// Greedy exact match on the held-out dates, as dates_train evaluates.
double exactMatch(const dates::Model &model, const HeldOut &h, int threads) {
  attnrt::DecodeOptions greedy;
  greedy.maxLength = kMaxLength;
  greedy.keepAttention = false;
  greedy.threads = threads;
  size_t correct = 0;
  for (size_t first = 0; first < h.sources.size(); first += kChunk) {
    std::vector<int64_t> rows;
    for (size_t i = first; i < std::min(first + kChunk, h.sources.size()); ++i)
      rows.push_back(int64_t(i));
    attnrt::PaddedBatch batch = attnrt::padExamples(h.sources, rows, {examples::PAD});
    auto results = model.decode(batch.ids, batch.lengths, greedy);
    for (size_t i = 0; i < results.size(); ++i) {
      std::vector<int32_t> tokens = results[i].front().tokens;
      auto eos = std::find(tokens.begin(), tokens.end(), int32_t(examples::EOS));
      tokens.erase(eos, tokens.end());
      correct += tokens == h.targets[first + i];
    }
  }
  return double(correct) / double(h.sources.size());
}

/// A trainer: the model, its gradients and Adam, with the step of dates_train.
struct Trainer {
  dates::Model model;
  attnrt::ParamStore grads;
  attnrt::Adam adam;
  attnrt::Schedule schedule;
  explicit Trainer(unsigned seed)
      : model(seed), grads(model.gradients()), adam(adamOptions()),
        schedule(attnrt::Schedule::stepDecay(kLr, kDecayEvery, 0.5)) {}
  static attnrt::AdamOptions adamOptions() {
    attnrt::AdamOptions o;
    o.lr = kLr;
    return o;
  }
  // Seconds of each part of the steps run so far.
  double gradSeconds = 0, clipSeconds = 0, adamSeconds = 0;
  /// One step; returns the summed loss of the batch (per-example losses added up).
  double step(const StepData &s) {
    auto t0 = Clock::now();
    std::vector<float> weights(s.src.lengths.size(), 1.0f / float(s.tokens));
    attnrt::Tensor losses = model.gradient(s.src.ids, s.tgt.ids, s.src.lengths, s.tgt.lengths,
                                           examples::BOS, weights, grads);
    auto t1 = Clock::now();
    attnrt::clipGlobalNorm(grads, kClip);
    auto t2 = Clock::now();
    adam.setLearningRate(schedule(adam.stepCount()));
    adam.step(model.params(), grads);
    auto t3 = Clock::now();
    gradSeconds += std::chrono::duration<double>(t1 - t0).count();
    clipSeconds += std::chrono::duration<double>(t2 - t1).count();
    adamSeconds += std::chrono::duration<double>(t3 - t2).count();
    double sum = 0;
    for (int64_t b = 0; b < losses.numel(); ++b)
      sum += losses.data<float>()[b];
    return sum;
  }
};

/// One timed pass over the throughput batches.
struct Pass {
  double total = 0, grad = 0, clip = 0, adam = 0, cpu = 0;
};

Pass timePass(Trainer &t, const std::vector<StepData> &stream, int steps) {
  t.gradSeconds = t.clipSeconds = t.adamSeconds = 0;
  double cpu0 = cpuSeconds();
  auto start = Clock::now();
  for (int i = 0; i < steps; ++i)
    t.step(stream[i]);
  Pass p;
  p.total = seconds(start);
  p.cpu = cpuSeconds() - cpu0;
  p.grad = t.gradSeconds, p.clip = t.clipSeconds, p.adam = t.adamSeconds;
  return p;
}

struct Converged {
  bool ran = false, reached = false;
  int steps = 0;
  double wall = 0, train = 0, eval = 0, cpu = 0, acc = 0;
  std::vector<std::pair<int, double>> evals; // step, accuracy
  std::string version, note;
};

Converged convergeAttnc(unsigned seed, const std::vector<StepData> &stream, const HeldOut &held,
                        const Options &o, int threads) {
  Converged c;
  c.ran = true;
  Trainer t(seed); // Model(seed): the initial weights written for PyTorch
  const double cpu0 = cpuSeconds();
  auto start = Clock::now();
  for (size_t i = 0; i < stream.size(); ++i) {
    auto t0 = Clock::now();
    t.step(stream[i]);
    c.train += seconds(t0);
    c.steps = int(i) + 1;
    if (c.steps % o.evalEvery == 0) {
      t0 = Clock::now();
      c.acc = exactMatch(t.model, held, threads);
      c.eval += seconds(t0);
      c.evals.push_back({c.steps, c.acc});
      printf("  attnc step %5d: held-out exact match %.2f%% (%.1f s)\n", c.steps, 100 * c.acc,
             seconds(start));
      fflush(stdout);
      if (c.acc >= o.target) {
        c.reached = true;
        break;
      }
    }
  }
  c.wall = seconds(start);
  c.cpu = cpuSeconds() - cpu0;
  return c;
}

// ---- PyTorch

std::string python() {
  const char *p = getenv("ATTN_BENCH_PYTHON");
  return p && *p ? p : "python3";
}

/// Runs torch_train.py with `args`; returns its output, and whether it exited with 0.
bool runScript(const std::string &args, std::string &output, bool echoEvals = false) {
  std::string cmd = python() + " " ATTN_BENCH_TORCH_SCRIPT " " + args + " 2>&1";
  FILE *pipe = popen(cmd.c_str(), "r");
  if (!pipe) {
    output = "could not start " + python();
    return false;
  }
  char line[4096];
  output.clear();
  while (fgets(line, sizeof line, pipe)) {
    output += line;
    int step;
    double acc, elapsed;
    if (echoEvals && sscanf(line, "EVAL step=%d acc=%lf elapsed_s=%lf", &step, &acc, &elapsed) == 3) {
      printf("  torch step %5d: held-out exact match %.2f%% (%.1f s)\n", step, 100 * acc, elapsed);
      fflush(stdout);
    }
  }
  return pclose(pipe) == 0;
}

std::string failure(const std::string &output) {
  return output.find("TORCH_MISSING") != std::string::npos
             ? "torch or safetensors is not installed for " + python() +
                   " (pip install torch safetensors)"
             : "torch_train.py failed:\n" + output;
}

struct TorchThroughput {
  bool ok = false;
  double total = 0, median = 0, fwd = 0, bwd = 0, opt = 0, cpu = 0;
  long tokens = 0;
  std::string version, note;
};

TorchThroughput torchThroughput(const std::string &common, const Options &o, int threads) {
  TorchThroughput r;
  std::string out;
  bool ok = runScript(common + " --mode throughput --threads " + std::to_string(threads) +
                          " --steps " + std::to_string(o.steps) + " --reps " +
                          std::to_string(o.reps),
                      out);
  size_t at = out.find("RESULT ");
  char version[128];
  if (ok && at != std::string::npos &&
      sscanf(out.c_str() + at,
             "RESULT torch=%127s mode=throughput threads=%*d total_s=%lf median_s=%lf fwd_s=%lf "
             "bwd_s=%lf opt_s=%lf cpu_s=%lf tokens=%ld",
             version, &r.total, &r.median, &r.fwd, &r.bwd, &r.opt, &r.cpu, &r.tokens) == 8) {
    r.ok = true;
    r.version = version;
  } else {
    r.note = failure(out);
  }
  return r;
}

Converged torchConverge(const std::string &common, const Options &o, int threads) {
  Converged c;
  std::string out;
  bool ok = runScript(common + " --mode converge --threads " + std::to_string(threads) +
                          " --eval-every " + std::to_string(o.evalEvery) + " --target " +
                          std::to_string(o.target),
                      out, /*echoEvals=*/true);
  size_t at = out.find("RESULT ");
  char version[128];
  int reached = 0;
  if (ok && at != std::string::npos &&
      sscanf(out.c_str() + at,
             "RESULT torch=%127s mode=converge threads=%*d steps=%d reached=%d wall_s=%lf "
             "train_s=%lf eval_s=%lf cpu_s=%lf acc=%lf",
             version, &c.steps, &reached, &c.wall, &c.train, &c.eval, &c.cpu, &c.acc) == 8) {
    c.ran = true;
    c.reached = reached != 0;
    c.version = version;
    const char *p = out.c_str();
    int step;
    double acc, elapsed;
    while ((p = strstr(p, "EVAL ")) != nullptr) {
      if (sscanf(p, "EVAL step=%d acc=%lf elapsed_s=%lf", &step, &acc, &elapsed) == 3)
        c.evals.push_back({step, acc});
      ++p;
    }
  } else {
    c.note = failure(out);
  }
  return c;
}

Options parse(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    auto next = [&] { return i + 1 < argc ? std::atoi(argv[++i]) : 0; };
    if (!strcmp(argv[i], "--steps"))
      o.steps = next();
    else if (!strcmp(argv[i], "--reps"))
      o.reps = next();
    else if (!strcmp(argv[i], "--threads"))
      o.threads = next();
    else if (!strcmp(argv[i], "--converge-threads"))
      o.convergeThreads = next();
    else if (!strcmp(argv[i], "--seed"))
      o.seed = static_cast<unsigned>(next());
    else if (!strcmp(argv[i], "--max-steps"))
      o.maxSteps = next();
    else if (!strcmp(argv[i], "--eval-every"))
      o.evalEvery = next();
    else if (!strcmp(argv[i], "--target") && i + 1 < argc)
      o.target = std::atof(argv[++i]);
    else if (!strcmp(argv[i], "--no-converge"))
      o.converge = false;
    else if (!strcmp(argv[i], "--no-torch"))
      o.torch = false;
    else if (!strcmp(argv[i], "--keep") && i + 1 < argc)
      o.keep = argv[++i];
    else {
      fprintf(stderr,
              "usage: %s [--steps N] [--reps N] [--threads N] [--converge-threads N] [--seed N] "
              "[--max-steps N] [--target X] [--eval-every N] [--no-converge] [--no-torch] "
              "[--keep DIR]\n",
              argv[0]);
      std::exit(2);
    }
  }
  if (o.steps < 1 || o.reps < 1 || o.maxSteps < 1 || o.evalEvery < 1 || o.steps > o.maxSteps ||
      !(o.target > 0 && o.target <= 1)) {
    fprintf(stderr, "train_bench: --steps, --reps, --max-steps, --eval-every must be positive, "
                    "--steps <= --max-steps, 0 < --target <= 1\n");
    std::exit(2);
  }
  return o;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

} // namespace

int main(int argc, char **argv) {
  Options o = parse(argc, argv);
  const int allThreads =
      o.threads > 0 ? o.threads : std::max(1, int(std::thread::hardware_concurrency()));
  const int convergeThreads = o.convergeThreads > 0 ? o.convergeThreads : allThreads; // 0: all
  // Halide's thread pool must start at 1 thread (see bench/decode/README.md): raising the count
  // later works, lowering it did not keep the workers idle.
  halide_set_num_threads(1);

  std::string dir = o.keep;
  if (dir.empty()) {
    char tmpl[] = "/tmp/train_bench.XXXXXX";
    if (!mkdtemp(tmpl)) {
      perror("train_bench: mkdtemp");
      return 1;
    }
    dir = tmpl;
  }
  auto made = Clock::now();
  const int streamLength = o.converge ? o.maxSteps : o.steps;
  std::vector<StepData> stream = makeStream(o.seed, streamLength);
  HeldOut held = makeHeldOut(o.seed);
  const std::string weightsPath = dir + "/init.safetensors", batchesPath = dir + "/batches.safetensors",
                    heldPath = dir + "/held_out.safetensors", gradsPath = dir + "/attnc_grads.safetensors";
  {
    dates::Model init(o.seed);
    init.save(weightsPath);
  }
  writeStream(batchesPath, stream);
  writeHeldOut(heldPath, held);
  const std::string common = "--weights " + weightsPath + " --batches " + batchesPath +
                             " --held-out " + heldPath + " --max-length " +
                             std::to_string(kMaxLength);

  printf("training: dates (examples/dates/dates.attn: bi-GRU encoder E=32 H=64, additive "
         "attention A=64, GRU decoder D=128, V=99), fp32\n");
  printf("step: loss (mean per target token) + gradients, clip global norm %.0f, Adam lr %g "
         "halved every %ld steps; batches of %ld length-grouped dates (dates_train's stream, "
         "seed %u; %d batches made in %.1f s)\n",
         kClip, kLr, long(kDecayEvery), long(kBatch), o.seed, streamLength, seconds(made));
  printf("machine: %s, %u hardware threads\n", bench::cpuModel().c_str(),
         std::thread::hardware_concurrency());

  // ---- check: loss and gradients of batch 0 from the same weights.
  printf("\ncheck: loss and gradients of batch 0 (%ld dates, S=%ld, T=%ld) from the same initial "
         "weights\n",
         long(stream[0].src.ids.dim(0)), long(stream[0].src.ids.dim(1)),
         long(stream[0].tgt.ids.dim(1)));
  double attncLoss;
  {
    Trainer t(o.seed);
    std::vector<float> weights(stream[0].src.lengths.size(), 1.0f / float(stream[0].tokens));
    attnrt::Tensor losses =
        t.model.gradient(stream[0].src.ids, stream[0].tgt.ids, stream[0].src.lengths,
                         stream[0].tgt.lengths, examples::BOS, weights, t.grads);
    double sum = 0;
    for (int64_t b = 0; b < losses.numel(); ++b)
      sum += losses.data<float>()[b];
    attncLoss = sum / double(stream[0].tokens);
    t.grads.save(gradsPath);
  }
  bool torchOk = o.torch;
  std::string torchNote;
  if (o.torch) {
    std::string out;
    bool ok = runScript(common + " --mode check --threads 1 --attnc-grads " + gradsPath, out);
    double torchLoss = 0;
    char version[128];
    size_t at = out.find("CHECK ");
    if (ok && at != std::string::npos &&
        sscanf(out.c_str() + at, "CHECK torch=%127s loss_torch=%lf", version, &torchLoss) == 2) {
      printf("  PyTorch %s\n", version);
      printf("  loss: attnc %.7f, torch %.7f, relative difference %.2e\n", attncLoss, torchLoss,
             std::fabs(attncLoss - torchLoss) / std::fabs(torchLoss));
      double worstToMax = 0, worstRel = 0;
      std::string worstName;
      printf("  %-4s %11s %11s %13s %13s\n", "grad", "max |g|", "max |diff|", "diff / max|g|",
             "max rel diff");
      const char *p = out.c_str();
      while ((p = strstr(p, "GRAD ")) != nullptr) {
        char name[32];
        double scale, diff, toMax, rel;
        if (sscanf(p, "GRAD %31s max_abs=%lf max_diff=%lf rel_to_max=%lf max_rel=%lf", name,
                   &scale, &diff, &toMax, &rel) == 5) {
          printf("  %-4s %11.3e %11.3e %13.2e %13.2e\n", name, scale, diff, toMax, rel);
          if (toMax > worstToMax)
            worstToMax = toMax, worstName = name;
          worstRel = std::max(worstRel, rel);
        }
        ++p;
      }
      printf("  largest gradient difference relative to the tensor's largest element: %.2e "
             "(%s); largest element-wise relative difference (elements above 1e-3 of the "
             "largest): %.2e\n",
             worstToMax, worstName.c_str(), worstRel);
    } else {
      torchOk = false;
      torchNote = failure(out);
      printf("  attnc loss %.7f; no PyTorch figures: %s\n", attncLoss, torchNote.c_str());
    }
  } else {
    printf("  attnc loss %.7f (--no-torch: nothing to compare)\n", attncLoss);
  }

  // ---- time to the target accuracy. At 1 thread it runs before the throughput phase: Halide's
  // thread pool must not have run at more threads first.
  auto convergePhase = [&] {
    if (o.converge) {
      printf("\ntime to %.0f%% held-out greedy exact match (%zu held-out dates, evaluated every %d "
             "steps; at most %d steps), %d thread%s, same initial weights and batch stream:\n",
             100 * o.target, held.sources.size(), o.evalEvery, o.maxSteps, convergeThreads,
             convergeThreads > 1 ? "s" : "");
      fflush(stdout);
      attnrt::setThreads(convergeThreads);
      Converged a = convergeAttnc(o.seed, stream, held, o, convergeThreads);
      Converged t;
      if (torchOk)
        t = torchConverge(common, o, convergeThreads);
      auto line = [&](const char *impl, const Converged &c) {
        printf("  %-6s %s at step %d: wall %.1f s (training %.1f s = %.1f ms/step, evaluation "
               "%.1f s), process CPU time %.1f s; last accuracy %.2f%%\n",
               impl, c.reached ? "reached" : "NOT reached", c.steps, c.wall, c.train,
               1e3 * c.train / std::max(1, c.steps), c.eval, c.cpu, 100 * c.acc);
      };
      line("attnc", a);
      if (t.ran) {
        line("torch", t);
        if (a.reached && t.reached)
          printf("  time-to-target ratio torch / attnc: wall %.2fx, training only %.2fx, CPU time "
                 "%.2fx; steps %d vs %d\n",
                 t.wall / a.wall, t.train / a.train, t.cpu / a.cpu, t.steps, a.steps);
        printf("  accuracy by step (attnc / torch %%):");
        auto pct = [](const std::vector<std::pair<int, double>> &e, size_t i) {
          char buf[16] = "-";
          if (i < e.size())
            snprintf(buf, sizeof buf, "%.1f", 100 * e[i].second);
          return std::string(buf);
        };
        const size_t n = std::max(a.evals.size(), t.evals.size());
        for (size_t i = 0; i < n; ++i)
          printf(" %d: %s / %s%s", i < a.evals.size() ? a.evals[i].first : t.evals[i].first,
                 pct(a.evals, i).c_str(), pct(t.evals, i).c_str(), i + 1 < n ? ";" : "\n");
      } else if (torchOk) {
        printf("  torch: no figures: %s\n", t.note.c_str());
      }
    }
  };
  if (convergeThreads == 1)
    convergePhase();

  // ---- throughput
  std::vector<int> threadCounts = {1};
  if (allThreads > 1)
    threadCounts.push_back(allThreads);
  long tokens = 0;
  for (int i = 0; i < o.steps; ++i)
    tokens += long(stream[i].tokens);
  struct Row {
    int threads;
    std::vector<Pass> passes;
    TorchThroughput torch;
  };
  std::vector<Row> rows;
  printf("\nthroughput: %d batches (%ld target tokens) per pass, one untimed pass then %d timed "
         "(half before PyTorch's, half after)\n",
         o.steps, tokens, o.reps);
  fflush(stdout);
  for (int threads : threadCounts) {
    Row row;
    row.threads = threads;
    attnrt::setThreads(threads); // 1: loops inline, no thread-pool locking
    Trainer t(o.seed);
    timePass(t, stream, o.steps); // untimed
    for (int rep = 0; rep < (o.reps + 1) / 2; ++rep)
      row.passes.push_back(timePass(t, stream, o.steps));
    if (torchOk)
      row.torch = torchThroughput(common, o, threads);
    for (int rep = 0; rep < o.reps / 2; ++rep)
      row.passes.push_back(timePass(t, stream, o.steps));
    rows.push_back(row);
  }
  printf("%-8s %-6s %10s %10s %10s %9s %9s   %s\n", "threads", "impl", "best ms", "median ms",
         "CPU ms", "tokens/s", "steps/s", "breakdown of the best pass (ms per step)");
  for (const Row &r : rows) {
    const Pass &best = *std::min_element(r.passes.begin(), r.passes.end(),
                                         [](const Pass &a, const Pass &b) { return a.total < b.total; });
    std::vector<double> totals;
    for (const Pass &p : r.passes)
      totals.push_back(p.total);
    double other = best.total - best.grad - best.clip - best.adam;
    printf("%-8d %-6s %10.1f %10.1f %10.1f %9.0f %9.1f   gradient kernel %.2f (%.0f%%), clip "
           "%.3f (%.1f%%), Adam %.3f (%.1f%%), other %.3f\n",
           r.threads, "attnc", best.total * 1e3, median(totals) * 1e3, best.cpu * 1e3,
           tokens / best.total, o.steps / best.total, best.grad * 1e3 / o.steps,
           100 * best.grad / best.total, best.clip * 1e3 / o.steps, 100 * best.clip / best.total,
           best.adam * 1e3 / o.steps, 100 * best.adam / best.total, other * 1e3 / o.steps);
    if (r.torch.ok) {
      const TorchThroughput &p = r.torch;
      double opt = p.opt, other = p.total - p.fwd - p.bwd - p.opt;
      printf("%-8d %-6s %10.1f %10.1f %10.1f %9.0f %9.1f   forward %.2f (%.0f%%), backward %.2f "
             "(%.0f%%), clip + Adam %.3f (%.1f%%), other %.3f\n",
             r.threads, "torch", p.total * 1e3, p.median * 1e3, p.cpu * 1e3, p.tokens / p.total,
             o.steps / p.total, p.fwd * 1e3 / o.steps, 100 * p.fwd / p.total,
             p.bwd * 1e3 / o.steps, 100 * p.bwd / p.total, opt * 1e3 / o.steps,
             100 * opt / p.total, other * 1e3 / o.steps);
    } else if (torchOk) {
      printf("%-8d torch  no figures: %s\n", r.threads, r.torch.note.c_str());
    }
  }
  printf("(CPU ms: process CPU time of that pass, all threads)\n");
  bool anyTorch = false;
  for (const Row &r : rows)
    anyTorch |= r.torch.ok;
  if (anyTorch) {
    printf("tokens/s ratio attnc / torch (best passes, same run):");
    for (const Row &r : rows) {
      if (!r.torch.ok)
        continue;
      const Pass &best = *std::min_element(
          r.passes.begin(), r.passes.end(),
          [](const Pass &a, const Pass &b) { return a.total < b.total; });
      std::vector<double> totals;
      for (const Pass &p : r.passes)
        totals.push_back(p.total);
      printf("  %d thread%s %.2fx (medians %.2fx)", r.threads, r.threads > 1 ? "s:" : ": ",
             r.torch.total / best.total, r.torch.median / median(totals));
    }
    printf("\n");
  }
  if (rows.size() > 1) {
    auto bestTotal = [](const Row &r) {
      double b = 1e30;
      for (const Pass &p : r.passes)
        b = std::min(b, p.total);
      return b;
    };
    printf("scaling 1 -> %d threads: attnc %.2fx", rows.back().threads,
           bestTotal(rows.front()) / bestTotal(rows.back()));
    if (rows.front().torch.ok && rows.back().torch.ok)
      printf(", torch %.2fx", rows.front().torch.total / rows.back().torch.total);
    printf("\n");
  }
  fflush(stdout);

  if (convergeThreads > 1)
    convergePhase();
  if (!o.torch)
    printf("\n(--no-torch: attnc only)\n");
  else if (!torchOk)
    printf("\nPyTorch was not timed: %s\n", torchNote.c_str());

  if (o.keep.empty()) {
    for (const std::string &f : {weightsPath, batchesPath, heldPath, gradsPath})
      unlink(f.c_str());
    rmdir(dir.c_str());
  } else {
    printf("weights, batches, held-out set and attnc's batch-0 gradients kept in %s\n",
           dir.c_str());
  }
  return 0;
}
