#include "attnrt/Safetensors.h"

#include "attnrt/Error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <set>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "attnrt's safetensors I/O assumes a little-endian host"
#endif

namespace attnrt {

namespace {

// The reference implementation (Rust safetensors) refuses headers above 100 MB as well.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
constexpr const char *kMetadataKey = "__metadata__";

[[noreturn]] void fail(const std::string &path, const std::string &what) {
  throw Error("safetensors file '" + path + "': " + what);
}

std::string errnoText() { return std::strerror(errno); }

/// Closes a POSIX file descriptor on scope exit.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd &) = delete;
  Fd &operator=(const Fd &) = delete;
  ~Fd() {
    if (fd >= 0)
      ::close(fd);
  }
  /// close() reports delayed write errors: call it explicitly when writing.
  int release() {
    int rc = ::close(fd);
    fd = -1;
    return rc;
  }
};

/// Reads exactly `size` bytes at `offset`, or fails naming the file.
void readExactly(const std::string &path, int fd, void *dst, uint64_t size, uint64_t offset) {
  auto *p = static_cast<uint8_t *>(dst);
  while (size > 0) {
    std::size_t chunk = static_cast<std::size_t>(std::min<uint64_t>(size, 1u << 30));
    ssize_t got = ::pread(fd, p, chunk, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0)
      fail(path, "read failed at byte " + std::to_string(offset) + ": " + errnoText());
    if (got == 0)
      fail(path, "unexpected end of file at byte " + std::to_string(offset));
    p += got;
    size -= static_cast<uint64_t>(got);
    offset += static_cast<uint64_t>(got);
  }
}

bool writeAll(int fd, const void *src, std::size_t size) {
  auto *p = static_cast<const uint8_t *>(src);
  while (size > 0) {
    ssize_t put = ::write(fd, p, std::min<std::size_t>(size, 1u << 30));
    if (put < 0 && errno == EINTR)
      continue;
    if (put == 0)
      errno = EIO;
    if (put <= 0)
      return false;
    p += put;
    size -= static_cast<std::size_t>(put);
  }
  return true;
}

struct Entry {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  uint64_t begin, end;
};

std::string rangeString(uint64_t begin, uint64_t end) {
  return "[" + std::to_string(begin) + ", " + std::to_string(end) + "]";
}

/// Parses JSON, rejecting duplicate keys (nlohmann would silently keep the last one).
nlohmann::json parseHeader(const std::string &path, const std::string &text) {
  std::vector<std::set<std::string>> keysPerObject;
  std::string duplicate;
  auto callback = [&](int, nlohmann::json::parse_event_t event, nlohmann::json &parsed) {
    using E = nlohmann::json::parse_event_t;
    if (event == E::object_start)
      keysPerObject.emplace_back();
    else if (event == E::object_end && !keysPerObject.empty())
      keysPerObject.pop_back();
    else if (event == E::key && !keysPerObject.empty() &&
             !keysPerObject.back().insert(parsed.get<std::string>()).second && duplicate.empty())
      duplicate = parsed.get<std::string>();
    return true;
  };
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text, callback);
  } catch (const nlohmann::json::exception &e) {
    fail(path, std::string("header is not valid JSON: ") + e.what());
  }
  if (!duplicate.empty())
    fail(path, "header has the key '" + duplicate + "' twice");
  if (!header.is_object())
    fail(path, std::string("header is a JSON ") + header.type_name() + ", expected an object");
  return header;
}

DType parseDType(const std::string &path, const std::string &name, const nlohmann::json &j) {
  if (!j.is_string())
    fail(path, "tensor '" + name + "': \"dtype\" is not a string");
  std::string s = j.get<std::string>();
  if (s == "F32")
    return DType::F32;
  if (s == "I32")
    return DType::I32;
  static const std::set<std::string> known = {"BOOL", "U8",  "I8",  "F8_E5M2", "F8_E4M3",
                                              "I16",  "U16", "F16", "BF16",    "U32",
                                              "I64",  "U64", "F64"};
  fail(path, "tensor '" + name + "' has " + (known.count(s) ? "unsupported" : "unknown") +
                 " dtype '" + s + "' (attnrt reads F32 and I32)");
}

uint64_t parseUnsigned(const std::string &path, const std::string &name, const char *key,
                       const nlohmann::json &j) {
  if (!j.is_number_unsigned())
    fail(path, "tensor '" + name + "': \"" + key + "\" holds " + j.dump() +
                   ", expected a non-negative integer");
  return j.get<uint64_t>();
}

Entry parseEntry(const std::string &path, const std::string &name, const nlohmann::json &j,
                 uint64_t dataSize) {
  if (!j.is_object())
    fail(path, "tensor '" + name + "' is described by a JSON " + j.type_name() +
                   ", expected an object");
  for (const char *key : {"dtype", "shape", "data_offsets"})
    if (!j.contains(key))
      fail(path, "tensor '" + name + "' has no \"" + key + "\"");
  Entry e;
  e.name = name;
  e.dtype = parseDType(path, name, j["dtype"]);

  const nlohmann::json &shape = j["shape"];
  if (!shape.is_array())
    fail(path, "tensor '" + name + "': \"shape\" is not an array");
  // numel saturates at dataSize + 1: any larger count cannot match the data anyway.
  uint64_t numel = 1;
  for (const nlohmann::json &extentJson : shape) {
    uint64_t extent = parseUnsigned(path, name, "shape", extentJson);
    if (extent > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail(path, "tensor '" + name + "': extent " + std::to_string(extent) + " is too large");
    e.shape.push_back(static_cast<int64_t>(extent));
    if (numel != 0 && extent != 0 && numel > (dataSize + 1) / extent)
      numel = dataSize + 1;
    else
      numel = std::min(numel * extent, dataSize + 1);
  }

  const nlohmann::json &offsets = j["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2)
    fail(path, "tensor '" + name + "': \"data_offsets\" is " + offsets.dump() +
                   ", expected [begin, end]");
  e.begin = parseUnsigned(path, name, "data_offsets", offsets[0]);
  e.end = parseUnsigned(path, name, "data_offsets", offsets[1]);
  if (e.begin > e.end)
    fail(path, "tensor '" + name + "': data_offsets " + rangeString(e.begin, e.end) +
                   " end before they begin");
  if (e.end > dataSize)
    fail(path, "tensor '" + name + "': data_offsets " + rangeString(e.begin, e.end) +
                   " reach past the end of the data (" + std::to_string(dataSize) + " bytes)");
  uint64_t bytes = numel * dtypeSize(e.dtype); // numel <= dataSize + 1: no overflow
  if (numel > dataSize || bytes != e.end - e.begin)
    fail(path, "tensor '" + name + "': shape " + shapeString(e.shape) + " of " +
                   dtypeName(e.dtype) + " needs " +
                   (numel > dataSize ? std::string("more than ") + std::to_string(dataSize)
                                     : std::to_string(bytes)) +
                   " bytes, data_offsets " + rangeString(e.begin, e.end) + " hold " +
                   std::to_string(e.end - e.begin));
  return e;
}

/// Offsets must tile [0, dataSize) exactly, as in the reference implementation.
void checkLayout(const std::string &path, std::vector<Entry> &entries, uint64_t dataSize) {
  std::vector<const Entry *> order;
  for (const Entry &e : entries)
    order.push_back(&e);
  std::sort(order.begin(), order.end(), [](const Entry *a, const Entry *b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  uint64_t covered = 0;
  const Entry *previous = nullptr;
  for (const Entry *e : order) {
    if (e->begin < covered)
      fail(path, "tensors '" + previous->name + "' " + rangeString(previous->begin, previous->end) +
                     " and '" + e->name + "' " + rangeString(e->begin, e->end) + " overlap");
    if (e->begin > covered)
      fail(path, "data bytes [" + std::to_string(covered) + ", " + std::to_string(e->begin) +
                     ") belong to no tensor");
    covered = e->end;
    if (e->end > e->begin || !previous)
      previous = e;
  }
  if (covered < dataSize)
    fail(path, std::to_string(dataSize - covered) + " bytes of trailing data after the last tensor");
}

} // namespace

std::map<std::string, Tensor> readSafetensors(const std::string &path, Metadata *metadata) {
  Fd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (file.fd < 0)
    fail(path, "cannot open: " + errnoText());
  struct stat st;
  if (::fstat(file.fd, &st) != 0)
    fail(path, "cannot stat: " + errnoText());
  if (!S_ISREG(st.st_mode))
    fail(path, "not a regular file");
  const uint64_t fileSize = static_cast<uint64_t>(st.st_size);
  if (fileSize < 8)
    fail(path, "file is " + std::to_string(fileSize) +
                   " bytes long, shorter than the 8-byte header length");

  uint8_t lengthBytes[8];
  readExactly(path, file.fd, lengthBytes, 8, 0);
  uint64_t headerSize = 0;
  for (int i = 7; i >= 0; --i)
    headerSize = (headerSize << 8) | lengthBytes[i];
  if (headerSize > fileSize - 8)
    fail(path, "header length " + std::to_string(headerSize) + " exceeds the " +
                   std::to_string(fileSize - 8) + " bytes that follow it in the file");
  if (headerSize > kMaxHeaderBytes)
    fail(path, "header length " + std::to_string(headerSize) + " exceeds the limit of " +
                   std::to_string(kMaxHeaderBytes) + " bytes");
  std::string text(static_cast<std::size_t>(headerSize), '\0');
  readExactly(path, file.fd, text.data(), headerSize, 8);
  const uint64_t dataStart = 8 + headerSize;
  const uint64_t dataSize = fileSize - dataStart;

  nlohmann::json header = parseHeader(path, text);
  Metadata meta;
  std::vector<Entry> entries;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == kMetadataKey) {
      if (!it->is_object())
        fail(path, "\"__metadata__\" is a JSON " + std::string(it->type_name()) +
                       ", expected an object of strings");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string())
          fail(path, "\"__metadata__\" entry '" + m.key() + "' is a JSON " + m->type_name() +
                         ", expected a string");
        meta[m.key()] = m->get<std::string>();
      }
      continue;
    }
    entries.push_back(parseEntry(path, it.key(), *it, dataSize));
  }
  checkLayout(path, entries, dataSize);

  std::map<std::string, Tensor> tensors;
  for (const Entry &e : entries) {
    Tensor t(e.dtype, e.shape);
    readExactly(path, file.fd, t.rawData(), e.end - e.begin, dataStart + e.begin);
    tensors.emplace(e.name, std::move(t));
  }
  if (metadata)
    *metadata = std::move(meta);
  return tensors;
}

void writeSafetensors(const std::string &path,
                      const std::vector<std::pair<std::string, const Tensor *>> &tensors,
                      const Metadata &metadata) {
  std::set<std::string> seen;
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty())
    header[kMetadataKey] = metadata;
  uint64_t offset = 0;
  for (const auto &[name, tensor] : tensors) {
    if (name.empty() || name == kMetadataKey)
      throw std::invalid_argument("writeSafetensors('" + path + "'): invalid tensor name '" +
                                  name + "'");
    if (!tensor)
      throw std::invalid_argument("writeSafetensors('" + path + "'): tensor '" + name +
                                  "' is null");
    if (!seen.insert(name).second)
      throw std::invalid_argument("writeSafetensors('" + path + "'): tensor name '" + name +
                                  "' appears twice");
    uint64_t bytes = tensor->byteSize();
    header[name] = {{"dtype", dtypeName(tensor->dtype())},
                    {"shape", tensor->shape()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' '); // tensor data starts 8-byte aligned
  uint8_t lengthBytes[8];
  for (int i = 0; i < 8; ++i)
    lengthBytes[i] = static_cast<uint8_t>(static_cast<uint64_t>(text.size()) >> (8 * i));

  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  Fd file(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666));
  if (file.fd < 0) {
    std::string why = errnoText(); // the temporary was not created: nothing to remove
    throw Error("cannot write safetensors file '" + path + "': cannot create '" + tmp +
                "': " + why);
  }
  // From here on, every way out but the final rename removes the temporary file.
  struct RemoveUnlessRenamed {
    const std::string &tmp;
    bool renamed = false;
    ~RemoveUnlessRenamed() {
      if (!renamed)
        ::unlink(tmp.c_str());
    }
  } cleanup{tmp};
  auto failWrite = [&](const std::string &step) {
    throw Error("cannot write safetensors file '" + path + "': " + step + ": " + errnoText());
  };
  bool ok = writeAll(file.fd, lengthBytes, 8) && writeAll(file.fd, text.data(), text.size());
  for (const auto &entry : tensors) {
    if (!ok)
      break;
    ok = writeAll(file.fd, entry.second->rawData(), entry.second->byteSize());
  }
  if (!ok)
    failWrite("writing '" + tmp + "'");
  if (::fsync(file.fd) != 0)
    failWrite("fsync of '" + tmp + "'");
  if (file.release() != 0)
    failWrite("closing '" + tmp + "'");
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    failWrite("renaming '" + tmp + "' over it");
  cleanup.renamed = true;

  // Make the rename itself durable; a failure here no longer risks the data, so ignore it.
  std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
  Fd dirFd(::open(dir.empty() ? "/" : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dirFd.fd >= 0)
    ::fsync(dirFd.fd);
}

void writeSafetensors(const std::string &path, const std::map<std::string, Tensor> &tensors,
                      const Metadata &metadata) {
  std::vector<std::pair<std::string, const Tensor *>> refs;
  refs.reserve(tensors.size());
  for (const auto &[name, tensor] : tensors)
    refs.emplace_back(name, &tensor);
  writeSafetensors(path, refs, metadata);
}

} // namespace attnrt
