#include "TestUtil.h"

#include "attnrt/Error.h"
#include "attnrt/ParamStore.h"

#include <gtest/gtest.h>

#include <cstring>
#include <stdexcept>

using attnrt::DType;
using attnrt::Init;
using attnrt::ParamSpec;
using attnrt::ParamStore;
using attnrt::Tensor;
using attnrt_test::readBytes;
using attnrt_test::expectUnchanged;
using attnrt_test::sameValues;
using attnrt_test::snapshot;
using attnrt_test::TempDir;

namespace {

/// A small attention block's parameters.
void declareModel(ParamStore &p, int64_t wqRows = 64) {
  p.declare({"Wq", DType::F32, {wqRows, 64}, Init::xavierUniform()});
  p.declare({"Wk", DType::F32, {64, 64}, Init::orthogonal()});
  p.declare({"b", DType::F32, {64}, Init::zeros()});
  p.declare({"vocab_ids", DType::I32, {3}, Init::constant(7)});
}

std::string loadError(ParamStore &p, const std::string &path,
                      const attnrt::LoadOptions &options = {}) {
  try {
    p.load(path, options);
  } catch (const attnrt::Error &e) {
    return e.what();
  }
  return "(no attnrt::Error)";
}

} // namespace

TEST(ParamStore, DeclareGetAndNames) {
  ParamStore p;
  Tensor &wq = p.declare({"Wq", DType::F32, {64, 64}, Init::xavierUniform()});
  p.declare({"b", DType::F32, {64}, Init::zeros()});
  EXPECT_EQ(p.names(), (std::vector<std::string>{"Wq", "b"}));
  EXPECT_EQ(&p.get("Wq"), &wq);
  EXPECT_EQ(p.get("Wq").shape(), (std::vector<int64_t>{64, 64}));
  EXPECT_EQ(p.spec("b").init.kind, Init::Zeros);
  EXPECT_TRUE(p.contains("b"));
  EXPECT_EQ(p.size(), 2u);
  EXPECT_EQ(p.numel(), 64 * 64 + 64);

  // References stay valid while more parameters are declared.
  const halide_buffer_t *buffer = wq.buffer();
  for (int i = 0; i < 100; ++i)
    p.declare({"extra" + std::to_string(i), DType::F32, {2}, Init::zeros()});
  EXPECT_EQ(&p.get("Wq"), &wq);
  EXPECT_EQ(p.get("Wq").buffer(), buffer);
}

TEST(ParamStore, DeclareRejectsBadSpecs) {
  ParamStore p;
  p.declare({"W", DType::F32, {2, 2}, Init::zeros()});
  auto message = [&](ParamSpec spec) -> std::string {
    try {
      p.declare(spec);
    } catch (const std::invalid_argument &e) {
      return e.what();
    }
    return "(no exception)";
  };
  EXPECT_NE(message({"W", DType::F32, {3}, Init::zeros()}).find("'W' is already declared"),
            std::string::npos);
  EXPECT_NE(message({"", DType::F32, {3}, Init::zeros()}).find("non-empty name"),
            std::string::npos);
  EXPECT_NE(message({"__metadata__", DType::F32, {3}, Init::zeros()}).find("reserved"),
            std::string::npos);
  std::string m = message({"n", DType::F32, {3, -1}, Init::zeros()});
  EXPECT_NE(m.find("'n'"), std::string::npos) << m;
  EXPECT_NE(m.find("[3, -1]"), std::string::npos) << m;
  m = message({"ids", DType::I32, {3}, Init::normal(0, 1)});
  EXPECT_NE(m.find("'ids'"), std::string::npos) << m;
  EXPECT_NE(m.find("needs an F32 tensor"), std::string::npos) << m;
  // The shape is checked at declare time, not only at initialize().
  m = message({"b", DType::F32, {10}, Init::gateConstant(4, 1, 1.0)});
  EXPECT_NE(m.find("'b'"), std::string::npos) << m;
  EXPECT_NE(m.find("last extent 10 to be a multiple of 4 gates"), std::string::npos) << m;
  EXPECT_EQ(p.names(), std::vector<std::string>{"W"});
}

TEST(ParamStore, UnknownNameListsKnownOnesAndSuggests) {
  ParamStore p;
  declareModel(p);
  try {
    p.get("Wv");
    FAIL() << "no exception";
  } catch (const std::invalid_argument &e) {
    std::string m = e.what();
    EXPECT_NE(m.find("no parameter 'Wv'"), std::string::npos) << m;
    EXPECT_NE(m.find("did you mean 'Wq'?"), std::string::npos) << m;
    EXPECT_NE(m.find("declared: 'Wq', 'Wk', 'b', 'vocab_ids'"), std::string::npos) << m;
  }
  EXPECT_THROW(static_cast<const ParamStore &>(p).get("nothing"), std::invalid_argument);
}

TEST(ParamStore, InitializeIsDeterministicPerName) {
  ParamStore a, b;
  declareModel(a);
  // A different declaration order and an extra parameter must not change the shared ones.
  b.declare({"new", DType::F32, {5, 5}, Init::normal(0, 1)});
  b.declare({"b", DType::F32, {64}, Init::zeros()});
  b.declare({"Wk", DType::F32, {64, 64}, Init::orthogonal()});
  b.declare({"Wq", DType::F32, {64, 64}, Init::xavierUniform()});
  a.initialize(2024);
  b.initialize(2024);
  for (const char *name : {"Wq", "Wk", "b"})
    EXPECT_TRUE(sameValues(a.get(name), b.get(name))) << name;
  EXPECT_EQ(a.get("vocab_ids").toVector<int32_t>(), (std::vector<int32_t>{7, 7, 7}));

  ParamStore c;
  declareModel(c);
  c.initialize(2025);
  EXPECT_GT(attnrt::maxAbsDiff(a.get("Wq"), c.get("Wq")), 0.0);
}

TEST(ParamStore, SaveLoadRoundTripCopiesInPlace) {
  TempDir dir;
  const std::string path = dir.file("w.safetensors");
  ParamStore a;
  declareModel(a);
  a.initialize(1);
  a.save(path, {{"epoch", "3"}});

  ParamStore b;
  declareModel(b);
  b.initialize(2);
  Tensor &wq = b.get("Wq");
  const void *host = wq.rawData();
  attnrt::Metadata meta = b.load(path);
  EXPECT_EQ(meta, (attnrt::Metadata{{"epoch", "3"}}));
  for (const std::string &n : a.names())
    EXPECT_TRUE(sameValues(a.get(n), b.get(n))) << n;
  EXPECT_EQ(&b.get("Wq"), &wq);
  EXPECT_EQ(b.get("Wq").rawData(), host);

  // The file lists parameters in declaration order (diff-friendly, like the model).
  std::string bytes = readBytes(path);
  EXPECT_LT(bytes.find("\"Wq\""), bytes.find("\"Wk\""));
  EXPECT_LT(bytes.find("\"Wk\""), bytes.find("\"b\""));
}

TEST(ParamStore, LoadRejectsWrongShapeAndLeavesStoreUnchanged) {
  TempDir dir;
  const std::string path = dir.file("w.safetensors");
  ParamStore wrong;
  declareModel(wrong, /*wqRows=*/32);
  wrong.save(path);

  ParamStore p;
  declareModel(p);
  p.initialize(5);
  auto before = snapshot(p);
  std::string m = loadError(p, path);
  EXPECT_NE(m.find("checkpoint '" + path +
                   "': parameter 'Wq' has shape [32, 64], the model expects [64, 64]"),
            std::string::npos)
      << m;
  expectUnchanged(p, before);
}

TEST(ParamStore, LoadRejectsWrongDType) {
  TempDir dir;
  const std::string path = dir.file("w.safetensors");
  ParamStore other;
  other.declare({"ids", DType::F32, {3}, Init::zeros()});
  other.save(path);
  ParamStore p;
  p.declare({"ids", DType::I32, {3}, Init::zeros()});
  std::string m = loadError(p, path);
  EXPECT_NE(m.find("parameter 'ids' has dtype F32, the model expects I32"), std::string::npos)
      << m;
}

TEST(ParamStore, LoadReportsMissingAndUnexpectedNames) {
  TempDir dir;
  const std::string path = dir.file("w.safetensors");
  ParamStore other;
  other.declare({"Wq", DType::F32, {64, 64}, Init::xavierUniform()});
  other.declare({"Wk", DType::F32, {64, 64}, Init::orthogonal()});
  other.declare({"extra", DType::F32, {2}, Init::ones()});
  other.initialize(3);
  other.save(path);

  ParamStore p;
  declareModel(p);
  p.initialize(4);
  auto before = snapshot(p);
  std::string m = loadError(p, path);
  EXPECT_NE(m.find("missing parameters 'b', 'vocab_ids'"), std::string::npos) << m;
  EXPECT_NE(m.find("unexpected tensors 'extra'"), std::string::npos) << m;
  expectUnchanged(p, before);

  // Relaxed: present parameters load, missing ones keep their values, extras are ignored.
  attnrt::LoadOptions relaxed;
  relaxed.allowMissing = true;
  EXPECT_NE(loadError(p, path, relaxed).find("unexpected tensors 'extra'"), std::string::npos);
  expectUnchanged(p, before);
  relaxed.allowUnexpected = true;
  p.load(path, relaxed);
  EXPECT_TRUE(sameValues(p.get("Wq"), other.get("Wq")));
  EXPECT_TRUE(sameValues(p.get("Wk"), other.get("Wk")));
  EXPECT_TRUE(sameValues(p.get("b"), before.at("b")));
}

TEST(ParamStore, LoadOfCorruptFileLeavesStoreUnchanged) {
  TempDir dir;
  const std::string path = dir.file("w.safetensors");
  ParamStore p;
  declareModel(p);
  p.initialize(6);
  p.save(path);
  std::string bytes = readBytes(path);
  attnrt_test::writeBytes(path, bytes.substr(0, bytes.size() - 1));
  p.initialize(7);
  auto before = snapshot(p);
  std::string m = loadError(p, path);
  EXPECT_NE(m.find(path), std::string::npos) << m;
  expectUnchanged(p, before);
  EXPECT_NE(loadError(p, dir.file("missing")).find("cannot open"), std::string::npos);
}
