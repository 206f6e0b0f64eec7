#include "attnrt/Checkpoint.h"

#include "Text.h"
#include "attnrt/Error.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace attnrt {

namespace {

constexpr const char *kFormatKey = "attnrt.checkpoint";
constexpr const char *kFormatVersion = "1";
const std::string kUserPrefix = "user.";

bool startsWith(const std::string &s, const std::string &prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

constexpr const char *kChecksumKey = "attnrt.checksum";

/// FNV-1a over 64-bit words (then the tail bytes): fast, and enough to detect damage.
class Hasher {
public:
  void bytes(const void *data, std::size_t size) {
    const auto *p = static_cast<const uint8_t *>(data);
    std::size_t i = 0;
    for (; i + 8 <= size; i += 8) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      mix(w);
    }
    for (; i < size; ++i)
      mix(p[i]);
  }
  void number(uint64_t v) { mix(v); }
  void text(const std::string &s) {
    number(s.size());
    bytes(s.data(), s.size());
  }
  uint64_t value() const { return h_; }

private:
  void mix(uint64_t w) {
    h_ ^= w;
    h_ *= 0x100000001b3ull;
    h_ ^= h_ >> 29;
  }
  uint64_t h_ = 0xcbf29ce484222325ull;
};

/// The checksum of everything a checkpoint holds: the metadata but the checksum itself, then
/// every tensor (name, dtype, shape, bytes), both in name order.
std::string checksum(const Metadata &metadata,
                     std::vector<std::pair<std::string, const Tensor *>> tensors) {
  std::sort(tensors.begin(), tensors.end(),
            [](const auto &a, const auto &b) { return a.first < b.first; });
  Hasher h;
  for (const auto &[key, value] : metadata)
    if (key != kChecksumKey) {
      h.text(key);
      h.text(value);
    }
  for (const auto &[name, tensor] : tensors) {
    h.text(name);
    h.text(dtypeName(tensor->dtype()));
    h.number(tensor->shape().size());
    for (int64_t extent : tensor->shape())
      h.number(static_cast<uint64_t>(extent));
    h.bytes(tensor->rawData(), tensor->byteSize());
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h.value()));
  return hex;
}

} // namespace

void saveCheckpoint(const std::string &path, const ParamStore &params,
                    const Optimizer *optimizer, const CheckpointInfo &info) {
  std::vector<std::pair<std::string, const Tensor *>> tensors;
  Metadata metadata;
  for (const std::string &name : params.names())
    tensors.emplace_back(name, &params.get(name));
  if (optimizer) {
    const std::string prefix = optimizer->name() + ".";
    for (const std::string &name : params.names())
      if (startsWith(name, prefix))
        throw std::invalid_argument("saveCheckpoint('" + path + "'): parameter '" + name +
                                    "' starts with '" + prefix +
                                    "', the prefix of the optimizer's state tensors");
    for (const auto &entry : optimizer->stateTensors())
      tensors.push_back(entry);
    metadata = optimizer->stateMetadata();
  }
  metadata[kFormatKey] = kFormatVersion;
  metadata["step"] = std::to_string(info.step);
  metadata["epoch"] = std::to_string(info.epoch);
  metadata["seed"] = std::to_string(info.seed);
  for (const auto &[key, value] : info.user)
    metadata[kUserPrefix + key] = value;
  metadata[kChecksumKey] = checksum(metadata, tensors);
  writeSafetensors(path, tensors, metadata); // atomic: temporary file, fsync, rename
}

CheckpointInfo loadCheckpoint(const std::string &path, ParamStore &params,
                              Optimizer *optimizer) {
  const std::string source = "checkpoint '" + path + "'";
  auto fail = [&](const std::string &what) { throw Error(source + ": " + what); };

  Metadata metadata;
  std::map<std::string, Tensor> tensors = readSafetensors(path, &metadata);

  auto it = metadata.find(kFormatKey);
  if (it == metadata.end())
    fail("not a training checkpoint (no '" + std::string(kFormatKey) +
         "' metadata; a file of parameters alone is read by ParamStore::load)");
  if (it->second != kFormatVersion)
    fail("format version '" + it->second + "', this attnrt reads version " + kFormatVersion);
  auto stored = metadata.find(kChecksumKey);
  if (stored == metadata.end())
    fail("metadata '" + std::string(kChecksumKey) + "' is missing");
  std::vector<std::pair<std::string, const Tensor *>> refs;
  for (const auto &entry : tensors)
    refs.emplace_back(entry.first, &entry.second);
  if (checksum(metadata, refs) != stored->second)
    fail("the contents do not match the checksum saved with them (the file is damaged)");

  CheckpointInfo info;
  auto integer = [&](const char *key, int64_t &out) {
    auto m = metadata.find(key);
    if (m == metadata.end())
      fail(std::string("metadata '") + key + "' is missing");
    if (!detail::parseInt64(m->second, out) || out < 0)
      fail(std::string("metadata '") + key + "' = '" + m->second + "' is not an integer >= 0");
  };
  integer("step", info.step);
  integer("epoch", info.epoch);
  auto seed = metadata.find("seed");
  if (seed == metadata.end())
    fail("metadata 'seed' is missing");
  if (!detail::parseUint64(seed->second, info.seed))
    fail("metadata 'seed' = '" + seed->second + "' is not an unsigned 64-bit integer");
  for (const auto &[key, value] : metadata)
    if (startsWith(key, kUserPrefix))
      info.user[key.substr(kUserPrefix.size())] = value;

  // Split the tensors: the optimizer's (by the prefix named in the metadata) and the parameters.
  std::map<std::string, Tensor> paramTensors, stateTensors;
  auto kind = metadata.find("optimizer");
  const std::string statePrefix = kind == metadata.end() ? "" : kind->second + ".";
  for (auto &entry : tensors) {
    bool isState = !statePrefix.empty() && startsWith(entry.first, statePrefix);
    (isState ? stateTensors : paramTensors).emplace(entry.first, std::move(entry.second));
  }
  if (optimizer && kind == metadata.end())
    fail("holds no optimizer state (it was saved without an optimizer); pass nullptr to load "
         "the parameters alone");

  // Check everything, then commit: the parameters' check cannot fail after the optimizer's
  // loadState (which commits only when all of its checks pass), and copying cannot fail.
  params.checkTensors(paramTensors, path);
  if (optimizer)
    optimizer->loadState(stateTensors, metadata, params, source);
  params.loadTensors(paramTensors, path);
  return info;
}

} // namespace attnrt
