#include "TestUtil.h"

#include "attnrt/Error.h"
#include "attnrt/Safetensors.h"

#include <gtest/gtest.h>

#include <csignal>
#include <cstring>
#include <stdexcept>
#include <sys/resource.h>

using attnrt::DType;
using attnrt::Tensor;
using attnrt_test::readBytes;
using attnrt_test::safetensorsBytes;
using attnrt_test::TempDir;
using attnrt_test::u64le;
using attnrt_test::writeBytes;

namespace {

std::string readError(const std::string &path) {
  try {
    attnrt::readSafetensors(path);
  } catch (const attnrt::Error &e) {
    return e.what();
  }
  return "(no attnrt::Error)";
}

std::string floatBytes(std::initializer_list<float> values) {
  std::string s;
  for (float v : values) {
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    for (int i = 0; i < 4; ++i)
      s.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
  }
  return s;
}

} // namespace

TEST(Safetensors, RoundTrip) {
  TempDir dir;
  std::map<std::string, Tensor> tensors;
  tensors["w"] = Tensor::fromVector({2, 3}, {1.f, -2.f, 3.5f, 0.f, 1e-30f, -7.25f});
  tensors["ids"] = Tensor::fromVector({4}, std::vector<int32_t>{0, -1, 2147483647, 5});
  tensors["scalar"] = Tensor::fromVector({}, {0.5f});
  tensors["empty"] = Tensor(DType::F32, {0, 5});
  attnrt::Metadata meta = {{"step", "1000"}, {"format", "pt"}};
  const std::string path = dir.file("ckpt.safetensors");
  attnrt::writeSafetensors(path, tensors, meta);

  // Data starts 8-byte aligned and the header is a JSON object.
  std::string bytes = readBytes(path);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i)
    n = (n << 8) | static_cast<uint8_t>(bytes[static_cast<size_t>(i)]);
  EXPECT_EQ((8 + n) % 8, 0u);
  EXPECT_EQ(bytes[8], '{');

  attnrt::Metadata readMeta;
  auto back = attnrt::readSafetensors(path, &readMeta);
  EXPECT_EQ(readMeta, meta);
  ASSERT_EQ(back.size(), tensors.size());
  for (const auto &[name, t] : tensors) {
    SCOPED_TRACE(name);
    const Tensor &b = back.at(name);
    EXPECT_EQ(b.dtype(), t.dtype());
    EXPECT_EQ(b.shape(), t.shape());
    EXPECT_EQ(std::memcmp(b.rawData(), t.rawData(), t.byteSize()), 0);
  }
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"ckpt.safetensors"}); // no temporary left
}

// An independent reference: bytes laid out by hand from the format description, with the data
// in a different order than the header, and the header padded with spaces as Python pads it.
TEST(Safetensors, ReadsHandBuiltFile) {
  TempDir dir;
  std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},)"
                       R"("__metadata__":{"format":"pt"},)"
                       R"("b":{"dtype":"I32","shape":[1,2],"data_offsets":[0,8]}})";
  header.append(8 - header.size() % 8, ' ');
  std::string data = std::string("\x07\x00\x00\x00\xff\xff\xff\xff", 8) + // b = [[7, -1]]
                     std::string("\x00\x00\x80\x3f\x00\x00\x20\xc0", 8);  // a = [1.0, -2.5]
  writeBytes(dir.file("hand.safetensors"), safetensorsBytes(header, data));

  attnrt::Metadata meta;
  auto t = attnrt::readSafetensors(dir.file("hand.safetensors"), &meta);
  EXPECT_EQ(meta, (attnrt::Metadata{{"format", "pt"}}));
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t.at("a").dtype(), DType::F32);
  EXPECT_EQ(t.at("a").toVector<float>(), (std::vector<float>{1.0f, -2.5f}));
  EXPECT_EQ(t.at("b").dtype(), DType::I32);
  EXPECT_EQ(t.at("b").shape(), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(t.at("b").toVector<int32_t>(), (std::vector<int32_t>{7, -1}));
}

TEST(Safetensors, ReadsAnEmptyFile) {
  TempDir dir;
  writeBytes(dir.file("e"), safetensorsBytes("{}", ""));
  EXPECT_TRUE(attnrt::readSafetensors(dir.file("e")).empty());
}

struct CorruptCase {
  const char *name;
  std::string bytes;
  const char *expected; // a fragment of the error message
};

class SafetensorsCorrupt : public testing::TestWithParam<CorruptCase> {};

TEST_P(SafetensorsCorrupt, ThrowsErrorNamingFileAndProblem) {
  TempDir dir;
  const std::string path = dir.file("bad.safetensors");
  writeBytes(path, GetParam().bytes);
  std::string m = readError(path);
  EXPECT_NE(m.find(path), std::string::npos) << m;
  EXPECT_NE(m.find(GetParam().expected), std::string::npos) << m;
}

namespace {

std::string one(const std::string &entry, const std::string &data) {
  return safetensorsBytes("{\"x\":" + entry + "}", data);
}

const std::string f8 = floatBytes({1.f, 2.f}); // 8 data bytes

std::vector<CorruptCase> corruptCases() {
  return {
      {"Empty", "", "shorter than the 8-byte header length"},
      {"FiveBytes", "\x01\x02\x03\x04\x05", "shorter than the 8-byte header length"},
      {"HeaderLongerThanFile", u64le(100) + "{}", "header length 100 exceeds the 2 bytes"},
      {"HeaderLengthHuge", u64le(~0ull) + "{}", "exceeds"},
      {"InvalidJson", safetensorsBytes("{\"x\": nope}", ""), "not valid JSON"},
      {"TruncatedJson", safetensorsBytes("{\"x\":{\"dtype\"", ""), "not valid JSON"},
      {"InvalidUtf8", safetensorsBytes("{\"\xff\":1}", ""), "not valid JSON"},
      {"HeaderNotObject", safetensorsBytes("[1, 2]", ""), "header is a JSON array"},
      {"DuplicateName",
       safetensorsBytes(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                        R"("x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                        f8),
       "key 'x' twice"},
      {"EntryNotObject", one("[1]", ""), "tensor 'x' is described by a JSON array"},
      {"MissingDtype", one(R"({"shape":[2],"data_offsets":[0,8]})", f8), "has no \"dtype\""},
      {"MissingShape", one(R"({"dtype":"F32","data_offsets":[0,8]})", f8), "has no \"shape\""},
      {"MissingOffsets", one(R"({"dtype":"F32","shape":[2]})", f8), "has no \"data_offsets\""},
      {"DtypeNotString", one(R"({"dtype":32,"shape":[2],"data_offsets":[0,8]})", f8),
       "\"dtype\" is not a string"},
      {"UnsupportedDtype", one(R"({"dtype":"F16","shape":[4],"data_offsets":[0,8]})", f8),
       "unsupported dtype 'F16'"},
      {"UnknownDtype", one(R"({"dtype":"Q7","shape":[4],"data_offsets":[0,8]})", f8),
       "unknown dtype 'Q7'"},
      {"ShapeNotArray", one(R"({"dtype":"F32","shape":2,"data_offsets":[0,8]})", f8),
       "\"shape\" is not an array"},
      {"NegativeExtent", one(R"({"dtype":"F32","shape":[-2],"data_offsets":[0,8]})", f8),
       "\"shape\" holds -2, expected a non-negative integer"},
      {"FractionalExtent", one(R"({"dtype":"F32","shape":[2.5],"data_offsets":[0,8]})", f8),
       "expected a non-negative integer"},
      {"ShapeDisagreesWithOffsets",
       one(R"({"dtype":"F32","shape":[3],"data_offsets":[0,8]})", f8),
       "shape [3] of F32 needs 12 bytes, data_offsets [0, 8] hold 8"},
      {"ShapeAbsurdlyLarge",
       one(R"({"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]})", f8),
       "needs more than 8 bytes"},
      {"ShapeOverflowsUint64",
       one(R"({"dtype":"F32","shape":[18446744073709551615,18446744073709551615],)"
           R"("data_offsets":[0,8]})",
           f8),
       "is too large"},
      {"OffsetsNotPair", one(R"({"dtype":"F32","shape":[2],"data_offsets":[0]})", f8),
       "\"data_offsets\" is [0], expected [begin, end]"},
      {"OffsetsNegative", one(R"({"dtype":"F32","shape":[0],"data_offsets":[-4,-4]})", f8),
       "expected a non-negative integer"},
      {"OffsetsReversed", one(R"({"dtype":"F32","shape":[0],"data_offsets":[8,0]})", f8),
       "end before they begin"},
      {"OffsetsPastEnd", one(R"({"dtype":"F32","shape":[4],"data_offsets":[0,16]})", f8),
       "reach past the end of the data (8 bytes)"},
      {"TruncatedData", one(R"({"dtype":"F32","shape":[2],"data_offsets":[0,8]})", "1234"),
       "reach past the end of the data (4 bytes)"},
      {"Overlap",
       safetensorsBytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                        R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                        f8),
       "tensors 'a' [0, 8] and 'b' [4, 8] overlap"},
      {"EmptyTensorInsideAnother",
       safetensorsBytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                        R"("b":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}})",
                        f8),
       "overlap"},
      {"Gap",
       safetensorsBytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                        R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                        f8 + "abcd"),
       "data bytes [4, 8) belong to no tensor"},
      {"TrailingGarbage", one(R"({"dtype":"F32","shape":[1],"data_offsets":[0,4]})", f8),
       "4 bytes of trailing data after the last tensor"},
      {"MetadataNotObject", safetensorsBytes(R"({"__metadata__":["a"]})", ""),
       "\"__metadata__\" is a JSON array"},
      {"MetadataValueNotString", safetensorsBytes(R"({"__metadata__":{"step":3}})", ""),
       "entry 'step' is a JSON number, expected a string"},
  };
}

} // namespace

INSTANTIATE_TEST_SUITE_P(Cases, SafetensorsCorrupt, testing::ValuesIn(corruptCases()),
                         [](const testing::TestParamInfo<CorruptCase> &info) {
                           return std::string(info.param.name);
                         });

TEST(Safetensors, MissingFileAndDirectory) {
  TempDir dir;
  std::string m = readError(dir.file("nope.safetensors"));
  EXPECT_NE(m.find("nope.safetensors': cannot open: No such file"), std::string::npos) << m;
  m = readError(dir.path());
  EXPECT_NE(m.find("not a regular file"), std::string::npos) << m;
}

// Every truncation and every single-byte corruption of a valid file either reads or throws
// attnrt::Error; nothing else escapes (run under ASan/UBSan to check memory safety too).
TEST(Safetensors, MutatedFilesNeverEscapeAsOtherErrors) {
  TempDir dir;
  std::map<std::string, Tensor> tensors;
  tensors["w"] = Tensor::fromVector({2, 2}, {1.f, 2.f, 3.f, 4.f});
  tensors["i"] = Tensor::fromVector({3}, std::vector<int32_t>{1, 2, 3});
  const std::string good = dir.file("good");
  attnrt::writeSafetensors(good, tensors, {{"k", "v"}});
  const std::string bytes = readBytes(good);
  const std::string path = dir.file("mutant");
  auto check = [&](const std::string &mutant) {
    writeBytes(path, mutant);
    try {
      attnrt::readSafetensors(path);
    } catch (const attnrt::Error &) {
    } catch (const std::exception &e) {
      ADD_FAILURE() << "unexpected exception: " << e.what();
    }
  };
  for (size_t len = 0; len < bytes.size(); ++len)
    check(bytes.substr(0, len));
  for (size_t i = 0; i < bytes.size(); ++i)
    for (unsigned char v : {0x00, 0x01, 0x22, 0x2c, 0x30, 0x39, 0x5b, 0x7b, 0x7d, 0x80, 0xff}) {
      std::string mutant = bytes;
      mutant[i] = static_cast<char>(v);
      check(mutant);
    }
}

TEST(Safetensors, SaveIntoMissingDirectoryThrows) {
  TempDir dir;
  const std::string path = dir.file("no/such/dir/ckpt.safetensors");
  try {
    attnrt::writeSafetensors(path, {{"w", Tensor(DType::F32, {2})}});
    FAIL() << "no exception";
  } catch (const attnrt::Error &e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  EXPECT_TRUE(dir.entries().empty());
}

TEST(Safetensors, FailedSaveKeepsOldFileByteIdentical) {
  TempDir dir;
  const std::string path = dir.file("ckpt.safetensors");
  attnrt::writeSafetensors(path, {{"w", Tensor::fromVector({2}, {1.f, 2.f})}});
  const std::string before = readBytes(path);

  // Make the write fail half-way: cap the size of files this process may write (the kernel
  // then fails write() with EFBIG) and ignore the SIGXFSZ that comes with it.
  struct rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  struct rlimit capped = saved;
  capped.rlim_cur = 64 * 1024;
  auto previousHandler = std::signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &capped), 0);
  std::string message;
  try {
    attnrt::writeSafetensors(path, {{"w", Tensor(DType::F32, {1024, 1024})}}); // 4 MiB
  } catch (const attnrt::Error &e) {
    message = e.what();
  }
  setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, previousHandler);

  EXPECT_NE(message.find("cannot write safetensors file '" + path + "'"), std::string::npos)
      << message;
  EXPECT_EQ(readBytes(path), before);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"ckpt.safetensors"}); // temporary removed
}

TEST(Safetensors, FailedRenameRemovesTemporary) {
  TempDir dir;
  const std::string path = dir.file("taken");
  std::filesystem::create_directory(path);
  writeBytes(path + "/inside", "x"); // a non-empty directory cannot be replaced by a file
  EXPECT_THROW(attnrt::writeSafetensors(path, {{"w", Tensor(DType::F32, {2})}}), attnrt::Error);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"taken"});
}

TEST(Safetensors, OverwriteReplacesContent) {
  TempDir dir;
  const std::string path = dir.file("ckpt");
  attnrt::writeSafetensors(path, {{"w", Tensor::fromVector({1}, {1.f})}});
  attnrt::writeSafetensors(path, {{"v", Tensor::fromVector({2}, {2.f, 3.f})}});
  auto t = attnrt::readSafetensors(path);
  ASSERT_EQ(t.count("v"), 1u);
  EXPECT_EQ(t.count("w"), 0u);
  EXPECT_EQ(t.at("v").toVector<float>(), (std::vector<float>{2.f, 3.f}));
}

TEST(Safetensors, RejectsInvalidNamesBeforeWriting) {
  TempDir dir;
  Tensor t(DType::F32, {1});
  const std::string path = dir.file("x");
  EXPECT_THROW(attnrt::writeSafetensors(path, {{"a", &t}, {"a", &t}}), std::invalid_argument);
  EXPECT_THROW(attnrt::writeSafetensors(path, {{"__metadata__", &t}}), std::invalid_argument);
  EXPECT_THROW(attnrt::writeSafetensors(path, {{"", &t}}), std::invalid_argument);
  EXPECT_THROW(attnrt::writeSafetensors(path, {{"n", nullptr}}), std::invalid_argument);
  EXPECT_TRUE(dir.entries().empty());
}
