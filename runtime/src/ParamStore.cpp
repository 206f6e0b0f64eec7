#include "attnrt/ParamStore.h"

#include "Text.h"
#include "attnrt/Error.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace attnrt {

using detail::quotedList;

namespace {

std::size_t editDistance(const std::string &a, const std::string &b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = up;
    }
  }
  return row[b.size()];
}

} // namespace

Tensor &ParamStore::declare(ParamSpec spec) {
  if (spec.name.empty())
    throw std::invalid_argument("declare: a parameter needs a non-empty name");
  if (spec.name == "__metadata__")
    throw std::invalid_argument("declare: '__metadata__' is reserved by safetensors");
  if (contains(spec.name))
    throw std::invalid_argument("declare: parameter '" + spec.name + "' is already declared");
  checkInit(spec.init, spec.dtype, spec.shape, "declare: parameter '" + spec.name + "'");
  try {
    shapeNumel(spec.shape);
  } catch (const std::invalid_argument &e) {
    throw std::invalid_argument("declare: parameter '" + spec.name + "': " + e.what());
  }
  auto param = std::make_unique<Param>(Param{spec, Tensor(spec.dtype, spec.shape)});
  index_.emplace(spec.name, params_.size());
  names_.push_back(spec.name);
  params_.push_back(std::move(param));
  return params_.back()->tensor;
}

void ParamStore::initialize(uint64_t seed) {
  for (auto &p : params_)
    attnrt::initialize(p->tensor, p->spec.init, seed, p->spec.name);
}

const ParamStore::Param &ParamStore::find(const std::string &name, const char *what) const {
  auto it = index_.find(name);
  if (it != index_.end())
    return *params_[it->second];
  std::string message = std::string(what) + ": no parameter '" + name + "'";
  const std::string *closest = nullptr;
  std::size_t best = std::max<std::size_t>(2, name.size() / 3) + 1;
  for (const std::string &known : names_) {
    std::size_t d = editDistance(name, known);
    if (d < best) {
      best = d;
      closest = &known;
    }
  }
  if (closest)
    message += " (did you mean '" + *closest + "'?)";
  throw std::invalid_argument(message + "; declared: " + quotedList(names_));
}

Tensor &ParamStore::get(const std::string &name) {
  return const_cast<Param &>(find(name, "get")).tensor;
}

const Tensor &ParamStore::get(const std::string &name) const { return find(name, "get").tensor; }

const ParamSpec &ParamStore::spec(const std::string &name) const {
  return find(name, "spec").spec;
}

int64_t ParamStore::numel() const {
  int64_t n = 0;
  for (const auto &p : params_)
    n += p->tensor.numel();
  return n;
}

void ParamStore::save(const std::string &path, const Metadata &metadata) const {
  std::vector<std::pair<std::string, const Tensor *>> refs;
  refs.reserve(params_.size());
  for (const auto &p : params_)
    refs.emplace_back(p->spec.name, &p->tensor);
  writeSafetensors(path, refs, metadata);
}

Metadata ParamStore::load(const std::string &path, const LoadOptions &options) {
  Metadata metadata;
  std::map<std::string, Tensor> file = readSafetensors(path, &metadata);
  loadTensors(file, path, options);
  return metadata;
}

void ParamStore::checkTensors(const std::map<std::string, Tensor> &tensors,
                              const std::string &source, const LoadOptions &options) const {
  std::vector<std::string> problems, missing, unexpected;
  for (const auto &p : params_) {
    const ParamSpec &spec = p->spec;
    auto it = tensors.find(spec.name);
    if (it == tensors.end()) {
      missing.push_back(spec.name);
      continue;
    }
    const Tensor &t = it->second;
    if (t.dtype() != spec.dtype)
      problems.push_back("parameter '" + spec.name + "' has dtype " + dtypeName(t.dtype()) +
                         ", the model expects " + dtypeName(spec.dtype));
    else if (t.shape() != spec.shape)
      problems.push_back("parameter '" + spec.name + "' has shape " + t.shapeString() +
                         ", the model expects " + shapeString(spec.shape));
  }
  for (const auto &entry : tensors)
    if (!contains(entry.first))
      unexpected.push_back(entry.first);
  if (!missing.empty() && !options.allowMissing)
    problems.push_back("missing parameters " + quotedList(missing));
  if (!unexpected.empty() && !options.allowUnexpected)
    problems.push_back("unexpected tensors " + quotedList(unexpected) +
                       " (the model declares no such parameters)");
  if (!problems.empty()) {
    std::string message = "checkpoint '" + source + "': ";
    for (std::size_t i = 0; i < problems.size(); ++i)
      message += (i ? "; " : "") + problems[i];
    throw Error(message);
  }
}

void ParamStore::loadTensors(const std::map<std::string, Tensor> &tensors,
                             const std::string &source, const LoadOptions &options) {
  checkTensors(tensors, source, options);
  // Everything matched: copy in place so references and buffers held by callers stay valid.
  for (auto &p : params_) {
    auto it = tensors.find(p->spec.name);
    if (it != tensors.end())
      std::memcpy(p->tensor.rawData(), it->second.rawData(), p->tensor.byteSize());
  }
}

} // namespace attnrt
