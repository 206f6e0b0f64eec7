// Training checkpoints: round trip, checks, damaged files, atomic saves (a failing and a crashing
// save), and resuming a run bit for bit.
#include "TestUtil.h"

#include "attnrt/Checkpoint.h"
#include "attnrt/Clip.h"
#include "attnrt/Error.h"
#include "attnrt/Init.h"
#include "attnrt/Schedule.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <functional>
#include <memory>
#include <random>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

using attnrt::Adam;
using attnrt::AdamOptions;
using attnrt::CheckpointInfo;
using attnrt::DType;
using attnrt::Init;
using attnrt::Optimizer;
using attnrt::ParamStore;
using attnrt::SGD;
using attnrt::SGDOptions;
using attnrt::Tensor;
using attnrt_test::readBytes;
using attnrt_test::sameValues;
using attnrt_test::TempDir;
using attnrt_test::writeBytes;

namespace {

void declareModel(ParamStore &p, int64_t rows = 3) {
  p.declare({"W", DType::F32, {rows, 4}, Init::uniform(-1, 1)});
  p.declare({"b", DType::F32, {4}, Init::uniform(-1, 1)});
  p.declare({"ids", DType::I32, {2}, Init::constant(5)});
}

/// Gradient of the quadratic loss sum_i 0.5 * a_i * (w_i - t_i)^2 whose targets t_i move with
/// the step (drawn from the stream (42, "targets<step>")): g_i = a_i * (w_i - t_i).
void quadraticGradients(const ParamStore &params, ParamStore &grads, int64_t step) {
  std::mt19937_64 rng(attnrt::streamSeed(42, "targets" + std::to_string(step)));
  for (const std::string &name : grads.names()) {
    const float *w = params.get(name).data<float>();
    float *g = grads.get(name).data<float>();
    for (int64_t i = 0; i < grads.get(name).numel(); ++i) {
      float target = static_cast<float>(rng() % 1000) / 500.0f - 1.0f;
      float a = 0.5f + static_cast<float>(i % 5);
      g[i] = a * (w[i] - target);
    }
  }
}

/// A snapshot of an optimiser's state tensors by name.
std::map<std::string, Tensor> stateOf(const Optimizer &opt) {
  std::map<std::string, Tensor> s;
  for (const auto &[name, t] : opt.stateTensors())
    s.emplace(name, *t);
  return s;
}

void expectSameState(const Optimizer &a, const Optimizer &b) {
  std::map<std::string, Tensor> sa = stateOf(a), sb = stateOf(b);
  ASSERT_EQ(sa.size(), sb.size());
  for (const auto &[name, t] : sa) {
    ASSERT_TRUE(sb.count(name)) << name;
    EXPECT_TRUE(sameValues(t, sb.at(name))) << name;
  }
  EXPECT_EQ(a.stepCount(), b.stepCount());
  EXPECT_EQ(a.learningRate(), b.learningRate());
}

std::string loadError(const std::string &path, ParamStore &p, Optimizer *opt) {
  try {
    attnrt::loadCheckpoint(path, p, opt);
  } catch (const attnrt::Error &e) {
    return e.what();
  }
  return "(no attnrt::Error)";
}

bool contains(const std::string &haystack, const std::string &needle) {
  return haystack.find(needle) != std::string::npos;
}

/// A model and an Adam optimiser after two steps, saved at `path`.
struct Saved {
  ParamStore params;
  Adam adam{AdamOptions{0.01}};
  CheckpointInfo info;
  explicit Saved(const std::string &path) {
    declareModel(params);
    params.initialize(1);
    ParamStore grads = attnrt::gradientsLike(params);
    for (int s = 0; s < 2; ++s) {
      quadraticGradients(params, grads, s);
      adam.step(params, grads);
    }
    info.step = 2;
    info.epoch = 1;
    info.seed = 18446744073709551557ull; // the largest 64-bit prime: needs all 64 bits
    info.user["dev_bleu"] = "25.3";
    info.user["note"] = "a b=c; \"quoted\"";
    attnrt::saveCheckpoint(path, params, &adam, info);
  }
};

} // namespace

TEST(Checkpoint, RoundTrip) {
  TempDir dir;
  const std::string path = dir.file("ckpt.safetensors");
  Saved saved(path);

  ParamStore params;
  declareModel(params);
  params.initialize(99); // different values: the load must overwrite them
  Adam adam;
  CheckpointInfo info = attnrt::loadCheckpoint(path, params, &adam);
  EXPECT_EQ(info.step, 2);
  EXPECT_EQ(info.epoch, 1);
  EXPECT_EQ(info.seed, 18446744073709551557ull);
  EXPECT_EQ(info.user, saved.info.user);
  for (const std::string &name : params.names())
    EXPECT_TRUE(sameValues(params.get(name), saved.params.get(name))) << name;
  expectSameState(adam, saved.adam);

  // The file is a plain state dict plus optimiser tensors and metadata.
  attnrt::Metadata meta;
  auto tensors = attnrt::readSafetensors(path, &meta);
  std::vector<std::string> names;
  for (const auto &entry : tensors)
    names.push_back(entry.first);
  EXPECT_EQ(names, (std::vector<std::string>{"W", "adam.m.W", "adam.m.b", "adam.v.W", "adam.v.b",
                                             "b", "ids"}));
  EXPECT_EQ(meta.at("attnrt.checkpoint"), "1");
  EXPECT_EQ(meta.at("step"), "2");
  EXPECT_EQ(meta.at("user.dev_bleu"), "25.3");
  EXPECT_EQ(meta.at("optimizer"), "adam");
  EXPECT_EQ(meta.at("attnrt.checksum").size(), 16u);
  ParamStore plain;
  declareModel(plain);
  plain.load(path, {/*allowMissing=*/false, /*allowUnexpected=*/true});
  EXPECT_TRUE(sameValues(plain.get("W"), saved.params.get("W")));
}

TEST(Checkpoint, ParametersAlone) {
  TempDir dir;
  const std::string path = dir.file("ckpt.safetensors");
  Saved saved(path);
  // Loading without an optimiser ignores the file's optimiser state (e.g. for evaluation).
  ParamStore params;
  declareModel(params);
  attnrt::loadCheckpoint(path, params, nullptr);
  EXPECT_TRUE(sameValues(params.get("b"), saved.params.get("b")));

  // A checkpoint saved without an optimiser cannot restore one.
  const std::string bare = dir.file("bare.safetensors");
  attnrt::saveCheckpoint(bare, saved.params, nullptr, {7, 0, 1, {}});
  EXPECT_EQ(attnrt::loadCheckpoint(bare, params, nullptr).step, 7);
  Adam adam;
  EXPECT_TRUE(contains(loadError(bare, params, &adam), "holds no optimizer state")) << loadError(bare, params, &adam);
}

TEST(Checkpoint, MismatchesAreReportedAndChangeNothing) {
  TempDir dir;
  const std::string path = dir.file("ckpt.safetensors");
  Saved saved(path);

  // A model whose W has another shape, that lacks b and declares an extra parameter.
  ParamStore other;
  other.declare({"W", DType::F32, {5, 4}, Init::ones()});
  other.declare({"ids", DType::I32, {2}, Init::zeros()});
  other.declare({"extra", DType::F32, {1}, Init::ones()});
  other.initialize(3);
  Adam adam;
  ParamStore og = attnrt::gradientsLike(other);
  adam.step(other, og);
  auto before = attnrt_test::snapshot(other);
  auto stateBefore = stateOf(adam);
  std::string m = loadError(path, other, &adam);
  EXPECT_TRUE(contains(m, "checkpoint '" + path + "': ")) << m;
  EXPECT_TRUE(contains(m, "parameter 'W' has shape [3, 4], the model expects [5, 4]")) << m;
  EXPECT_TRUE(contains(m, "missing parameters 'extra'")) << m;
  EXPECT_TRUE(contains(m, "unexpected tensors 'b'")) << m;
  attnrt_test::expectUnchanged(other, before);
  EXPECT_EQ(adam.stepCount(), 1);
  for (const auto &[name, t] : stateOf(adam))
    EXPECT_TRUE(sameValues(t, stateBefore.at(name))) << name;

  // Parameters that fit but optimiser state of another optimiser.
  ParamStore params;
  declareModel(params);
  params.initialize(5);
  before = attnrt_test::snapshot(params);
  SGD sgd(SGDOptions{0.1, 0.9});
  m = loadError(path, params, &sgd);
  EXPECT_TRUE(contains(m, "holds the state of optimizer 'adam', this optimizer is 'sgd'")) << m;
  // The parameters are checked too, but the optimizer's state is what fails: nothing changed.
  attnrt_test::expectUnchanged(params, before);
  EXPECT_EQ(sgd.stepCount(), 0);

  // A model with different parameters fails on the optimiser state as well as the parameters.
  ParamStore bigger;
  declareModel(bigger, 6);
  Adam fresh;
  m = loadError(path, bigger, &fresh);
  EXPECT_TRUE(contains(m, "parameter 'W' has shape [3, 4], the model expects [6, 4]")) << m;
}

TEST(Checkpoint, NotATrainingCheckpoint) {
  TempDir dir;
  ParamStore params;
  declareModel(params);
  params.save(dir.file("params.safetensors"));
  Adam adam;
  EXPECT_TRUE(contains(loadError(dir.file("params.safetensors"), params, &adam),
                       "not a training checkpoint"));
  EXPECT_TRUE(contains(loadError(dir.file("missing.safetensors"), params, &adam),
                       "missing.safetensors': cannot open"));
}

TEST(Checkpoint, BadMetadataIsDetected) {
  TempDir dir;
  const std::string path = dir.file("ckpt.safetensors");
  Saved saved(path);
  // Rewrite the file with an edited "step" but the old checksum: detected.
  attnrt::Metadata meta;
  auto tensors = attnrt::readSafetensors(path, &meta);
  meta["step"] = "3";
  attnrt::writeSafetensors(dir.file("edited.safetensors"), tensors, meta);
  ParamStore params;
  declareModel(params);
  Adam adam;
  EXPECT_TRUE(contains(loadError(dir.file("edited.safetensors"), params, &adam),
                       "do not match the checksum"));
  meta.erase("attnrt.checksum");
  attnrt::writeSafetensors(dir.file("nosum.safetensors"), tensors, meta);
  EXPECT_TRUE(contains(loadError(dir.file("nosum.safetensors"), params, &adam),
                       "metadata 'attnrt.checksum' is missing"));
  EXPECT_EQ(adam.stepCount(), 0);
}

// Every truncation and every single-byte change of a checkpoint is an attnrt::Error, and none
// changes the model or the optimiser.
TEST(Checkpoint, DamagedFilesAreRejected) {
  TempDir dir;
  const std::string path = dir.file("ckpt.safetensors");
  Saved saved(path);
  const std::string bytes = readBytes(path);
  ASSERT_GT(bytes.size(), 500u);

  ParamStore params;
  declareModel(params);
  params.initialize(77);
  Adam adam;
  ParamStore g = attnrt::gradientsLike(params);
  adam.step(params, g);
  auto before = attnrt_test::snapshot(params);
  auto stateBefore = stateOf(adam);

  const std::string damaged = dir.file("damaged.safetensors");
  int failures = 0;
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    writeBytes(damaged, bytes.substr(0, n));
    std::string m = loadError(damaged, params, &adam);
    failures += contains(m, "damaged.safetensors");
    if (n == 0 || n == bytes.size() - 1) {
      EXPECT_TRUE(contains(m, "damaged.safetensors")) << n << ": " << m;
    }
  }
  EXPECT_EQ(failures, static_cast<int>(bytes.size())) << "truncations";
  failures = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i)
    for (unsigned char flip : {0x01, 0xff}) {
      std::string b = bytes;
      b[i] = static_cast<char>(b[i] ^ flip);
      writeBytes(damaged, b);
      std::string m = loadError(damaged, params, &adam);
      failures += contains(m, "damaged.safetensors");
    }
  EXPECT_EQ(failures, static_cast<int>(2 * bytes.size())) << "byte changes";
  attnrt_test::expectUnchanged(params, before);
  EXPECT_EQ(adam.stepCount(), 1);
  for (const auto &[name, t] : stateOf(adam))
    EXPECT_TRUE(sameValues(t, stateBefore.at(name))) << name;
}

TEST(Checkpoint, ParameterNamesMustNotLookLikeState) {
  TempDir dir;
  ParamStore params;
  params.declare({"adam.m.W", DType::F32, {2}, Init::zeros()});
  Adam adam;
  EXPECT_THROW(attnrt::saveCheckpoint(dir.file("x.safetensors"), params, &adam),
               std::invalid_argument);
  EXPECT_TRUE(dir.entries().empty());
}

// A save that fails half-way (the file-size limit stops the write) leaves the previous
// checkpoint byte-identical and no temporary file behind.
TEST(Checkpoint, FailedSaveKeepsThePreviousFile) {
  TempDir dir;
  const std::string path = dir.file("ckpt.safetensors");
  Saved saved(path);
  const std::string old = readBytes(path);

  ParamStore big;
  big.declare({"W", DType::F32, {64, 1024}, Init::ones()}); // 256 KiB
  big.initialize(1);
  struct rlimit limit, saveLimit;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saveLimit), 0);
  auto oldHandler = std::signal(SIGXFSZ, SIG_IGN); // write() fails with EFBIG instead
  limit = saveLimit;
  limit.rlim_cur = 64 * 1024;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limit), 0);
  std::string message;
  try {
    attnrt::saveCheckpoint(path, big, nullptr, {});
  } catch (const attnrt::Error &e) {
    message = e.what();
  }
  setrlimit(RLIMIT_FSIZE, &saveLimit);
  std::signal(SIGXFSZ, oldHandler);
  EXPECT_TRUE(contains(message, "cannot write safetensors file '" + path + "'")) << message;
  EXPECT_EQ(readBytes(path), old);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"ckpt.safetensors"});

  // A folder that does not exist: nothing is created.
  EXPECT_THROW(attnrt::saveCheckpoint(dir.file("no/such/dir.safetensors"), big, nullptr, {}),
               attnrt::Error);
}

// A process killed in the middle of a save (here by SIGXFSZ when the write crosses the file-size
// limit) leaves the previous checkpoint intact and loadable; only its temporary file is left.
TEST(Checkpoint, CrashDuringSaveKeepsThePreviousFile) {
  TempDir dir;
  const std::string path = dir.file("ckpt.safetensors");
  Saved saved(path);
  const std::string old = readBytes(path);

  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    std::signal(SIGXFSZ, SIG_DFL);
    struct rlimit limit = {32 * 1024, 32 * 1024};
    setrlimit(RLIMIT_FSIZE, &limit);
    ParamStore big;
    big.declare({"W", DType::F32, {64, 1024}, Init::ones()});
    try {
      attnrt::saveCheckpoint(path, big, nullptr, {});
    } catch (...) {
    }
    _exit(0); // not reached: SIGXFSZ kills the process during the write
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the child was not killed mid-save";
  EXPECT_EQ(WTERMSIG(status), SIGXFSZ);

  EXPECT_EQ(readBytes(path), old);
  auto entries = dir.entries();
  std::sort(entries.begin(), entries.end());
  EXPECT_EQ(entries, (std::vector<std::string>{"ckpt.safetensors", "ckpt.safetensors.tmp." +
                                                                        std::to_string(child)}));
  ParamStore params;
  declareModel(params);
  Adam adam;
  EXPECT_EQ(attnrt::loadCheckpoint(path, params, &adam).step, 2);
  expectSameState(adam, saved.adam);
  // The next save works and replaces the file.
  attnrt::saveCheckpoint(path, params, &adam, {3, 1, 0, {}});
  EXPECT_EQ(attnrt::loadCheckpoint(path, params, &adam).step, 3);
}

// Resuming from a checkpoint gives the same bits as an uninterrupted run: N steps straight vs
// N/2 steps, save, load into freshly built objects (initialised differently), N/2 more steps.
// Each step sets the learning rate from a warmup-cosine schedule and clips the gradients.
namespace {

using MakeOptimizer = std::function<std::unique_ptr<Optimizer>()>;

void trainSteps(ParamStore &params, Optimizer &opt, int64_t from, int64_t to) {
  attnrt::Schedule schedule = attnrt::Schedule::warmupCosine(0.05, 5, 40, 0.001);
  ParamStore grads = attnrt::gradientsLike(params);
  for (int64_t step = from; step < to; ++step) {
    quadraticGradients(params, grads, step);
    attnrt::clipGlobalNorm(grads, 2.0);
    opt.setLearningRate(schedule(opt.stepCount()));
    opt.step(params, grads);
  }
}

void checkResume(const MakeOptimizer &make) {
  const int64_t N = 40;
  ParamStore straight;
  declareModel(straight);
  straight.initialize(11);
  std::unique_ptr<Optimizer> optStraight = make();
  trainSteps(straight, *optStraight, 0, N);

  TempDir dir;
  const std::string path = dir.file("half.safetensors");
  {
    ParamStore first;
    declareModel(first);
    first.initialize(11);
    std::unique_ptr<Optimizer> opt = make();
    trainSteps(first, *opt, 0, N / 2);
    attnrt::saveCheckpoint(path, first, opt.get(), {N / 2, 0, 11, {}});
  } // everything of the first half is gone

  ParamStore resumed;
  declareModel(resumed);
  resumed.initialize(12345);
  std::unique_ptr<Optimizer> opt = make();
  opt->setLearningRate(0.5);
  CheckpointInfo info = attnrt::loadCheckpoint(path, resumed, opt.get());
  trainSteps(resumed, *opt, info.step, N);

  for (const std::string &name : straight.names())
    EXPECT_TRUE(sameValues(resumed.get(name), straight.get(name))) << name;
  expectSameState(*opt, *optStraight);
  // The run moved: the comparison is not between two unchanged models.
  ParamStore initial;
  declareModel(initial);
  initial.initialize(11);
  EXPECT_FALSE(sameValues(initial.get("W"), straight.get("W")));
}

} // namespace

TEST(Checkpoint, ResumeIsBitIdenticalAdam) {
  checkResume([] { return std::make_unique<Adam>(AdamOptions{0.05}); });
}

TEST(Checkpoint, ResumeIsBitIdenticalAdamWAmsgrad) {
  checkResume([] {
    attnrt::AdamWOptions o;
    o.amsgrad = true;
    o.weightDecay = 0.1;
    return std::make_unique<attnrt::AdamW>(o);
  });
}

TEST(Checkpoint, ResumeIsBitIdenticalSGDNesterov) {
  checkResume([] {
    SGDOptions o;
    o.momentum = 0.9;
    o.nesterov = true;
    o.weightDecay = 1e-3;
    return std::make_unique<SGD>(o);
  });
}
