// Helpers shared by the attnrt unit tests.
#ifndef ATTNRT_TEST_TESTUTIL_H
#define ATTNRT_TEST_TESTUTIL_H

#include "attnrt/ParamStore.h"
#include "attnrt/Tensor.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

namespace attnrt_test {

/// Same dtype, shape and bytes.
inline bool sameValues(const attnrt::Tensor &a, const attnrt::Tensor &b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         std::memcmp(a.rawData(), b.rawData(), a.byteSize()) == 0;
}

/// Snapshot of every parameter, to check that a failed load changed nothing.
inline std::map<std::string, attnrt::Tensor> snapshot(const attnrt::ParamStore &p) {
  std::map<std::string, attnrt::Tensor> s;
  for (const std::string &n : p.names())
    s.emplace(n, p.get(n));
  return s;
}

inline void expectUnchanged(const attnrt::ParamStore &p,
                            const std::map<std::string, attnrt::Tensor> &before) {
  for (const auto &[name, t] : before)
    EXPECT_TRUE(sameValues(p.get(name), t)) << name;
}

/// A fresh directory, removed with its contents when the object dies.
class TempDir {
public:
  TempDir() {
    std::string pattern = testing::TempDir() + "attnrt-test-XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data()))
      throw std::runtime_error("mkdtemp failed");
    path_ = buf.data();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;

  std::string file(const std::string &name) const { return path_ + "/" + name; }
  const std::string &path() const { return path_; }
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto &e : std::filesystem::directory_iterator(path_))
      names.push_back(e.path().filename().string());
    return names;
  }

private:
  std::string path_;
};

inline void writeBytes(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

inline std::string readBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// The 8-byte little-endian length prefix of a safetensors file, built byte by byte.
inline std::string u64le(uint64_t v) {
  std::string s;
  for (int i = 0; i < 8; ++i)
    s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return s;
}

/// A safetensors file from a header text and raw data bytes.
inline std::string safetensorsBytes(const std::string &header, const std::string &data) {
  return u64le(header.size()) + header + data;
}

} // namespace attnrt_test

#endif // ATTNRT_TEST_TESTUTIL_H
