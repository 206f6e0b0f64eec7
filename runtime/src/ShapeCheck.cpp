#include "attnrt/ShapeCheck.h"

#include <stdexcept>

namespace attnrt {

std::string specString(const std::vector<DimSpec> &shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i)
      s += ", ";
    s += shape[i].isSymbol() ? shape[i].symbol() : std::to_string(shape[i].extent());
  }
  return s + "]";
}

void ShapeChecker::bind(const std::string &symbol, int64_t value, const std::string &source) {
  auto it = bound_.find(symbol);
  if (it != bound_.end() && it->second.value != value)
    throw std::invalid_argument(context_ + ": " + symbol + " = " + std::to_string(value) +
                                " from " + source + " disagrees with " + symbol + " = " +
                                std::to_string(it->second.value) + " from " +
                                it->second.source);
  bound_.emplace(symbol, Binding{value, source});
}

void ShapeChecker::tensor(const std::string &what, const Tensor &t,
                          const std::vector<DimSpec> &expected, DType dtype) {
  auto fail = [&](const std::string &why) {
    throw std::invalid_argument(context_ + ": " + what + " has shape " + t.shapeString() +
                                ", expected " + specString(expected) + " (" + why + ")");
  };
  if (t.dtype() != dtype)
    throw std::invalid_argument(context_ + ": " + what + " has dtype " + dtypeName(t.dtype()) +
                                ", expected " + dtypeName(dtype));
  if (t.rank() != static_cast<int64_t>(expected.size()))
    fail("rank " + std::to_string(t.rank()) + ", expected " + std::to_string(expected.size()));
  // Check everything before binding anything, so a failed check leaves the bindings unchanged.
  std::map<std::string, int64_t> fresh;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const DimSpec &d = expected[i];
    int64_t actual = t.shape()[i];
    std::string dimName =
        i + 1 == expected.size() && i > 0 ? "last dim" : "dim " + std::to_string(i);
    if (!d.isSymbol()) {
      if (actual != d.extent())
        fail(dimName + " is " + std::to_string(actual) + ", expected " +
             std::to_string(d.extent()));
      continue;
    }
    auto it = bound_.find(d.symbol());
    if (it != bound_.end()) {
      if (actual != it->second.value)
        fail(d.symbol() + " = " + std::to_string(it->second.value) + " from " +
             it->second.source);
      continue;
    }
    auto [f, inserted] = fresh.emplace(d.symbol(), actual);
    if (!inserted && f->second != actual)
      fail(d.symbol() + " is " + std::to_string(f->second) + " and " + std::to_string(actual));
  }
  for (const auto &[symbol, value] : fresh)
    bound_.emplace(symbol, Binding{value, what});
}

int64_t ShapeChecker::value(const std::string &symbol) const {
  auto it = bound_.find(symbol);
  if (it == bound_.end())
    throw std::invalid_argument(context_ + ": size " + symbol + " is not known yet");
  return it->second.value;
}

} // namespace attnrt
