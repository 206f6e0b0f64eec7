#include "attnrt/TorchImport.h"

#include "attnrt/Error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "attnrt's safetensors I/O assumes a little-endian host"
#endif

namespace attnrt {

TorchRNNMapping TorchRNNMapping::lstm(std::string prefix, std::string suffix, std::string W,
                                      std::string U, std::string b) {
  TorchRNNMapping m;
  m.cell = TorchCell::LSTM;
  m.prefix = std::move(prefix);
  m.suffix = std::move(suffix);
  m.W = std::move(W);
  m.U = std::move(U);
  m.b = std::move(b);
  return m;
}

TorchRNNMapping TorchRNNMapping::gru(std::string prefix, std::string suffix, std::string W,
                                     std::string U, std::string bi, std::string bh) {
  TorchRNNMapping m;
  m.cell = TorchCell::GRU;
  m.prefix = std::move(prefix);
  m.suffix = std::move(suffix);
  m.W = std::move(W);
  m.U = std::move(U);
  m.bi = std::move(bi);
  m.bh = std::move(bh);
  return m;
}

namespace {

constexpr uint64_t kMaxHeaderBytes = 100'000'000; // as Safetensors.cpp and the reference reader

std::string inQuotes(const std::string &s) { return "'" + s + "'"; }

/// "'a', 'b', 'c'", at most `limit` names then "and N more".
std::string quotedList(const std::vector<std::string> &names, std::size_t limit = 20) {
  std::string s;
  for (std::size_t i = 0; i < names.size() && i < limit; ++i)
    s += (i ? ", " : "") + inQuotes(names[i]);
  if (names.size() > limit)
    s += " and " + std::to_string(names.size() - limit) + " more";
  return s.empty() ? "(none)" : s;
}

bool startsWith(const std::string &s, const std::string &prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}


const char *cellName(TorchCell cell) { return cell == TorchCell::LSTM ? "LSTM" : "GRU"; }
const char *aCellName(TorchCell cell) { return cell == TorchCell::LSTM ? "an LSTM" : "a GRU"; }
int64_t gates(TorchCell cell) { return cell == TorchCell::LSTM ? 4 : 3; }

/// "LSTM 'rnn.*_l0'": a mapping in messages.
std::string describe(const TorchRNNMapping &m) {
  return std::string(cellName(m.cell)) + " '" + m.prefix + "*_" + m.suffix + "'";
}

// ---- F16 / BF16 / F64 to F32 ------------------------------------------------------------------

float halfToFloat(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exponent = (h >> 10) & 0x1fu;
  uint32_t mantissa = h & 0x3ffu;
  uint32_t bits;
  if (exponent == 0x1f) { // inf, nan
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent != 0) { // normal
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) { // zero
    bits = sign;
  } else { // subnormal: normalise
    int e = -1;
    do {
      ++e;
      mantissa <<= 1;
    } while ((mantissa & 0x400u) == 0);
    bits = sign | (static_cast<uint32_t>(112 - e) << 23) | ((mantissa & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float bfloatToFloat(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

std::size_t elementSize(const std::string &dtype) {
  if (dtype == "F32")
    return 4;
  if (dtype == "F16" || dtype == "BF16")
    return 2;
  if (dtype == "F64")
    return 8;
  return 0;
}

// ---- The safetensors file, read tensor by tensor -------------------------------------------------

/// A safetensors file whose header is parsed; only the tensors asked for are read, so the rest of
/// a state dict may hold any dtype. Structural problems of the header throw at once; problems of
/// one tensor are returned as text so that every problem can be reported together.
class TorchFile {
public:
  explicit TorchFile(const std::string &path) : path_(path), in_(path, std::ios::binary) {
    if (!in_)
      fail("cannot open: " + std::string(std::strerror(errno)));
    in_.seekg(0, std::ios::end);
    uint64_t fileSize = static_cast<uint64_t>(in_.tellg());
    if (fileSize < 8)
      fail("file is " + std::to_string(fileSize) +
           " bytes long, shorter than the 8-byte header length");
    uint8_t lengthBytes[8];
    readAt(lengthBytes, 8, 0);
    uint64_t headerSize = 0;
    for (int i = 7; i >= 0; --i)
      headerSize = (headerSize << 8) | lengthBytes[i];
    if (headerSize > fileSize - 8 || headerSize > kMaxHeaderBytes)
      fail("header length " + std::to_string(headerSize) + " exceeds the " +
           std::to_string(fileSize - 8) + " bytes that follow it (or the 100 MB limit)");
    std::string text(static_cast<std::size_t>(headerSize), '\0');
    readAt(text.data(), headerSize, 8);
    dataStart_ = 8 + headerSize;
    dataSize_ = fileSize - dataStart_;
    try {
      header_ = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception &e) {
      fail(std::string("header is not valid JSON: ") + e.what());
    }
    if (!header_.is_object())
      fail(std::string("header is a JSON ") + header_.type_name() + ", expected an object");
    for (auto it = header_.begin(); it != header_.end(); ++it)
      if (it.key() != "__metadata__")
        names_.push_back(it.key());
    std::sort(names_.begin(), names_.end());
  }

  const std::vector<std::string> &names() const { return names_; }
  bool has(const std::string &name) const {
    return std::binary_search(names_.begin(), names_.end(), name);
  }

  /// Reads tensor `name` (which must exist) as F32. Returns nullopt and appends to `problems` if
  /// its entry is malformed or its dtype is not F32, F16, BF16 or F64.
  std::optional<Tensor> read(const std::string &name, std::vector<std::string> &problems) {
    const nlohmann::json &j = header_[name];
    auto bad = [&](const std::string &what) {
      problems.push_back("tensor " + inQuotes(name) + ": " + what);
      return std::nullopt;
    };
    if (!j.is_object() || !j.contains("dtype") || !j.contains("shape") ||
        !j.contains("data_offsets") || !j["dtype"].is_string() || !j["shape"].is_array() ||
        !j["data_offsets"].is_array() || j["data_offsets"].size() != 2 ||
        !j["data_offsets"][0].is_number_unsigned() || !j["data_offsets"][1].is_number_unsigned())
      return bad("malformed header entry " + j.dump());
    std::string dtype = j["dtype"].get<std::string>();
    std::size_t size = elementSize(dtype);
    if (size == 0)
      return bad("dtype " + dtype + " is not a floating-point type that importTorchRNN reads "
                 "(F32, F16, BF16, F64)");
    std::vector<int64_t> shape;
    uint64_t numel = 1;
    for (const nlohmann::json &e : j["shape"]) {
      if (!e.is_number_unsigned())
        return bad("shape " + j["shape"].dump() + " holds a value that is not a non-negative "
                   "integer");
      uint64_t extent = e.get<uint64_t>();
      if (extent != 0 && numel > dataSize_ / extent)
        return bad("shape " + j["shape"].dump() + " is larger than the file");
      numel *= extent;
      shape.push_back(static_cast<int64_t>(extent));
    }
    uint64_t begin = j["data_offsets"][0].get<uint64_t>();
    uint64_t end = j["data_offsets"][1].get<uint64_t>();
    if (begin > end || end > dataSize_ || end - begin != numel * size)
      return bad("data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                 "] do not hold shape " + shapeString(shape) + " of " + dtype + " within the " +
                 std::to_string(dataSize_) + " data bytes");

    std::vector<uint8_t> raw(static_cast<std::size_t>(end - begin));
    readAt(raw.data(), raw.size(), dataStart_ + begin);
    Tensor t(DType::F32, shape);
    float *out = t.data<float>();
    for (uint64_t i = 0; i < numel; ++i) {
      const uint8_t *p = raw.data() + i * size;
      if (dtype == "F32") {
        std::memcpy(&out[i], p, 4);
      } else if (dtype == "F64") {
        double d;
        std::memcpy(&d, p, 8);
        out[i] = static_cast<float>(d);
      } else {
        uint16_t h;
        std::memcpy(&h, p, 2);
        out[i] = dtype == "F16" ? halfToFloat(h) : bfloatToFloat(h);
      }
    }
    return t;
  }

private:
  [[noreturn]] void fail(const std::string &what) const {
    throw Error("importTorchRNN: safetensors file '" + path_ + "': " + what);
  }

  void readAt(void *dst, uint64_t size, uint64_t offset) {
    in_.clear();
    in_.seekg(static_cast<std::streamoff>(offset));
    in_.read(static_cast<char *>(dst), static_cast<std::streamsize>(size));
    if (!in_ || static_cast<uint64_t>(in_.gcount()) != size)
      fail("read of " + std::to_string(size) + " bytes at byte " + std::to_string(offset) +
           " failed");
  }

  std::string path_;
  std::ifstream in_;
  nlohmann::json header_;
  std::vector<std::string> names_;
  uint64_t dataStart_ = 0, dataSize_ = 0;
};

// ---- Checking the mappings against the model ----------------------------------------------------

/// The sizes of one mapped layer, from the model's parameters.
struct LayerShape {
  int64_t D = 0, H = 0, G = 0;
};

LayerShape checkMapping(const ParamStore &params, const TorchRNNMapping &m,
                        std::set<std::string> &used) {
  const std::string where = "importTorchRNN: " + describe(m) + ": ";
  auto invalid = [&](const std::string &what) { throw std::invalid_argument(where + what); };
  if (m.suffix.empty())
    invalid("the layer suffix is empty (torch names layers 'l0', 'l1', 'l0_reverse', ...)");
  const bool lstm = m.cell == TorchCell::LSTM;
  if (lstm && (!m.bi.empty() || !m.bh.empty()))
    invalid("an LSTM has one bias 'b' (bias_ih + bias_hh); 'bi' and 'bh' are for a GRU");
  if (!lstm && !m.b.empty())
    invalid("a GRU has two biases 'bi' and 'bh'; 'b' is for an LSTM");
  std::vector<std::pair<const char *, const std::string *>> names = {{"W", &m.W}, {"U", &m.U}};
  if (lstm)
    names.push_back({"b", &m.b});
  else
    names.insert(names.end(), {{"bi", &m.bi}, {"bh", &m.bh}});
  for (const auto &[field, name] : names) {
    if (name->empty())
      invalid(std::string("no attnc parameter given for '") + field + "'");
    if (!params.contains(*name)) {
      try {
        params.spec(*name); // throws, with the declared names and the closest one
      } catch (const std::invalid_argument &e) {
        std::string what = e.what();
        invalid(startsWith(what, "spec: ") ? what.substr(6) : what);
      }
    }
    if (!used.insert(*name).second)
      invalid("parameter " + inQuotes(*name) + " is filled by more than one mapping");
    if (params.spec(*name).dtype != DType::F32)
      invalid("parameter " + inQuotes(*name) + " is " + dtypeName(params.spec(*name).dtype) +
              ", expected F32");
  }

  LayerShape s;
  s.G = gates(m.cell);
  const std::vector<int64_t> &w = params.spec(m.W).shape, &u = params.spec(m.U).shape;
  const std::string gh = std::to_string(s.G) + "H";
  if (u.size() != 2 || u[1] != s.G * u[0]) {
    TorchCell other = m.cell == TorchCell::LSTM ? TorchCell::GRU : TorchCell::LSTM;
    invalid("parameter " + inQuotes(m.U) + " has shape " + shapeString(u) + ", " +
            aCellName(m.cell) + " needs U : [H, " + gh + "]" +
            (u.size() == 2 && u[1] == gates(other) * u[0]
                 ? std::string(" (that is ") + aCellName(other) + "'s shape)"
                 : std::string()));
  }
  s.H = u[0];
  if (w.size() != 2 || w[1] != s.G * s.H)
    invalid("parameter " + inQuotes(m.W) + " has shape " + shapeString(w) + ", " +
            aCellName(m.cell) + " with H = " + std::to_string(s.H) + " (from " + inQuotes(m.U) +
            ") needs W : [D, " + std::to_string(s.G * s.H) + "]");
  s.D = w[0];
  for (const std::string *bias : {&m.b, &m.bi, &m.bh})
    if (!bias->empty() && params.spec(*bias).shape != std::vector<int64_t>{s.G * s.H})
      invalid("parameter " + inQuotes(*bias) + " has shape " +
              shapeString(params.spec(*bias).shape) + ", expected [" +
              std::to_string(s.G * s.H) + "] (" + gh + " with H = " + std::to_string(s.H) + ")");
  return s;
}

/// [rows, cols] -> [cols, rows].
Tensor transpose(const Tensor &t) {
  int64_t rows = t.dim(0), cols = t.dim(1);
  Tensor out(DType::F32, {cols, rows});
  const float *in = t.data<float>();
  float *o = out.data<float>();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      o[c * rows + r] = in[r * cols + c];
  return out;
}

} // namespace

void importTorchRNN(ParamStore &params, const std::string &path,
                    const std::vector<TorchRNNMapping> &mappings,
                    const TorchImportOptions &options) {
  if (mappings.empty())
    throw std::invalid_argument("importTorchRNN('" + path + "'): no mappings given");
  std::set<std::string> used;
  std::vector<LayerShape> shapes;
  for (const TorchRNNMapping &m : mappings)
    shapes.push_back(checkMapping(params, m, used));

  TorchFile file(path);
  std::vector<std::string> problems;
  std::set<std::string> prefixesWithMissing;
  std::vector<std::pair<std::string, Tensor>> staged; // parameter name, new value

  for (std::size_t k = 0; k < mappings.size(); ++k) {
    const TorchRNNMapping &m = mappings[k];
    const LayerShape &s = shapes[k];
    const int64_t GH = s.G * s.H;
    auto tensorName = [&](const char *kind) { return m.prefix + kind + "_" + m.suffix; };

    // A whole layer absent (a wrong prefix or suffix): one problem, not one per tensor.
    if (!file.has(tensorName("weight_ih")) && !file.has(tensorName("weight_hh"))) {
      std::vector<std::string> looked, targets = {m.W, m.U};
      for (const char *kind : {"weight_ih", "weight_hh", "bias_ih", "bias_hh"})
        if (m.bias || kind[0] == 'w')
          looked.push_back(tensorName(kind));
      for (const std::string *bias : {&m.b, &m.bi, &m.bh})
        if (!bias->empty())
          targets.push_back(*bias);
      problems.push_back("layer " + inQuotes(m.prefix + "*_" + m.suffix) +
                         " is not in the file (no " + quotedList(looked) + ", for " +
                         quotedList(targets) + ")");
      prefixesWithMissing.insert(m.prefix);
      continue;
    }

    // Reads one torch tensor and checks its shape; nullopt (and a problem) otherwise.
    auto fetch = [&](const char *kind, std::vector<int64_t> want,
                     const std::string &param) -> std::optional<Tensor> {
      std::string name = tensorName(kind);
      if (!file.has(name)) {
        problems.push_back("no tensor " + inQuotes(name) + " (for parameter " + inQuotes(param) +
                           ")");
        prefixesWithMissing.insert(m.prefix);
        return std::nullopt;
      }
      std::optional<Tensor> t = file.read(name, problems);
      if (t && t->shape() != want) {
        std::string paramShape = shapeString(params.spec(param).shape);
        problems.push_back(
            "tensor " + inQuotes(name) + " has shape " + t->shapeString() + ", expected " +
            shapeString(want) + " (" +
            (want.size() == 2 ? "the transpose of parameter " + inQuotes(param) + " " + paramShape
                              : "the shape of parameter " + inQuotes(param)) +
            ")");
        return std::nullopt;
      }
      return t;
    };

    std::optional<Tensor> wih = fetch("weight_ih", {GH, s.D}, m.W);
    std::optional<Tensor> whh = fetch("weight_hh", {GH, s.H}, m.U);
    if (wih)
      staged.emplace_back(m.W, transpose(*wih));
    if (whh)
      staged.emplace_back(m.U, transpose(*whh));

    if (m.cell == TorchCell::LSTM && file.has(tensorName("weight_hr")))
      problems.push_back("tensor " + inQuotes(tensorName("weight_hr")) +
                         ": LSTMs with projections (proj_size > 0) do not fit the lstm cell");

    const std::string biasIh = tensorName("bias_ih"), biasHh = tensorName("bias_hh");
    const std::vector<std::string> biasParams =
        m.cell == TorchCell::LSTM ? std::vector<std::string>{m.b}
                                  : std::vector<std::string>{m.bi, m.bh};
    if (!m.bias) {
      for (const std::string &name : {biasIh, biasHh})
        if (file.has(name))
          problems.push_back("tensor " + inQuotes(name) + " exists, but the mapping of " +
                             describe(m) + " says bias = false (a module built with bias=False "
                             "has no biases)");
      for (const std::string &p : biasParams)
        staged.emplace_back(p, Tensor(DType::F32, {GH}));
      continue;
    }
    if (!file.has(biasIh) && !file.has(biasHh) && file.has(tensorName("weight_ih"))) {
      problems.push_back("no tensors " + inQuotes(biasIh) + " and " + inQuotes(biasHh) + " (for " +
                         quotedList(biasParams) +
                         "; if the module was built with bias=False, set bias = false in the "
                         "mapping)");
      prefixesWithMissing.insert(m.prefix);
      continue;
    }
    if (m.cell == TorchCell::LSTM) {
      std::optional<Tensor> bih = fetch("bias_ih", {GH}, m.b), bhh = fetch("bias_hh", {GH}, m.b);
      if (bih && bhh) {
        Tensor sum(DType::F32, {GH});
        for (int64_t i = 0; i < GH; ++i)
          sum.data<float>()[i] = bih->data<float>()[i] + bhh->data<float>()[i];
        staged.emplace_back(m.b, std::move(sum));
      }
    } else {
      if (std::optional<Tensor> bih = fetch("bias_ih", {GH}, m.bi))
        staged.emplace_back(m.bi, std::move(*bih));
      if (std::optional<Tensor> bhh = fetch("bias_hh", {GH}, m.bh))
        staged.emplace_back(m.bh, std::move(*bhh));
    }
  }

  // What the file holds where tensors were missing, and prefixes that would have matched.
  for (const std::string &prefix : prefixesWithMissing) {
    std::vector<std::string> under, otherPrefixes;
    for (const std::string &name : file.names())
      if (startsWith(name, prefix))
        under.push_back(name);
    for (const std::string &name : file.names()) {
      std::size_t at = name.find("weight_ih_");
      if (at == std::string::npos || name.find('.', at) != std::string::npos)
        continue;
      std::string other = name.substr(0, at);
      if (other != prefix &&
          std::find(otherPrefixes.begin(), otherPrefixes.end(), other) == otherPrefixes.end())
        otherPrefixes.push_back(other);
    }
    std::string text = under.empty() || prefix.empty()
                           ? "the file has " + quotedList(file.names())
                           : "the file has under " + inQuotes(prefix) + ": " + quotedList(under);
    if (!otherPrefixes.empty())
      text += " (did you mean prefix " + quotedList(otherPrefixes, 5) + "?)";
    problems.push_back(text);
  }

  // A layer or direction of a mapped module that no mapping reads.
  if (!options.allowUnmappedLayers) {
    std::set<std::pair<std::string, std::string>> mapped;
    for (const TorchRNNMapping &m : mappings)
      mapped.insert({m.prefix, m.suffix});
    std::set<std::string> prefixes;
    for (const TorchRNNMapping &m : mappings)
      prefixes.insert(m.prefix);
    for (const std::string &prefix : prefixes)
      for (const std::string &name : file.names()) {
        const std::string head = prefix + "weight_ih_";
        if (!startsWith(name, head) || name.find('.', head.size()) != std::string::npos)
          continue;
        std::string suffix = name.substr(head.size());
        if (!mapped.count({prefix, suffix}))
          problems.push_back("layer " + inQuotes(prefix + "*_" + suffix) + " (" + inQuotes(name) +
                             ") is in the file but no mapping reads it (add one, or set "
                             "TorchImportOptions::allowUnmappedLayers)");
      }
  }

  if (!problems.empty()) {
    std::string message = "importTorchRNN: safetensors file '" + path + "': ";
    for (std::size_t i = 0; i < problems.size(); ++i)
      message += (i ? "; " : "") + problems[i];
    throw Error(message);
  }

  // Everything checked: copy in place so references and buffers held by callers stay valid.
  for (auto &[name, value] : staged) {
    Tensor &param = params.get(name);
    std::memcpy(param.rawData(), value.rawData(), param.byteSize());
  }
}

} // namespace attnrt
