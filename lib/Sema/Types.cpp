//===- Types.cpp - Dims and shapes of the typed program -------------------===//
#include "attn/Sema/Program.h"

#include <algorithm>

namespace attn::sema {

std::string Dim::str() const {
  if (runtime())
    return name;
  if (name.empty())
    return std::to_string(size);
  return name + "=" + std::to_string(size);
}

bool sameDim(const Dim &a, const Dim &b) {
  if (a.runtime() || b.runtime())
    return a.runtime() && b.runtime() && a.name == b.name;
  return a.size == b.size;
}

std::string shapeStr(const Shape &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + shape[i].str();
  return s + "]";
}

bool Node::hasFree(const IndexVar *v) const {
  return std::find(free.begin(), free.end(), v) != free.end();
}

} // namespace attn::sema
