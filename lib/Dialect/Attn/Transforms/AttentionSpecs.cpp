//===- AttentionSpecs.cpp - Einsum shapes of attention scores and contexts ===//

#include "AttentionSpecs.h"

#include "attn/Dialect/Attn/AttnOps.h"

#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::attn;

int mlir::attn::matchPairSpec(const EinsumSpec &spec, bool keepLast) {
  if (spec.inputs.size() != 2)
    return -1;
  const std::string &a = spec.inputs[0], &b = spec.inputs[1];
  const std::string &out = spec.result;
  size_t n = a.size();
  // P is not empty: scores are per example. Without a batch axis, "a b, c b
  // -> a c" is a product with a transposed weight (dR @ W^T in a backward
  // pass), which the contraction kernels do better than a score kernel.
  if (n < 3 || b.size() != n || out.size() != (keepLast ? n + 1 : n))
    return -1;
  std::string prefix = a.substr(0, n - 2);
  if (b.compare(0, n - 2, prefix) != 0 || out.compare(0, n - 2, prefix) != 0)
    return -1;
  if (a[n - 1] != b[n - 1] || (keepLast && out.back() != a[n - 1]))
    return -1;
  if (out[n - 2] == a[n - 2] && out[n - 1] == b[n - 2])
    return 0;
  if (out[n - 2] == b[n - 2] && out[n - 1] == a[n - 2])
    return 1;
  return -1;
}

llvm::SmallVector<int, 2> mlir::attn::contextAlphaCandidates(const EinsumSpec &spec) {
  llvm::SmallVector<int, 2> found;
  if (spec.inputs.size() != 2)
    return found;
  for (int alphaIndex = 0; alphaIndex < 2; ++alphaIndex) {
    const std::string &alpha = spec.inputs[alphaIndex];
    const std::string &v = spec.inputs[1 - alphaIndex];
    const std::string &out = spec.result;
    size_t n = alpha.size();
    if (n < 2 || v.size() != n || out.size() != n)
      continue;
    std::string prefix = alpha.substr(0, n - 2);
    if (v.compare(0, n - 2, prefix) != 0 || out.compare(0, n - 2, prefix) != 0 ||
        v[n - 2] != alpha[n - 1] || out[n - 2] != alpha[n - 2] || out[n - 1] != v[n - 1])
      continue;
    found.push_back(alphaIndex);
  }
  return found;
}

/// The value of a scalar attn.constant, if `value` is one.
static llvm::Optional<double> scalarConstant(Value value) {
  FloatAttr attr;
  if (!value.getDefiningOp<ConstantOp>() || !matchPattern(value, m_Constant(&attr)))
    return llvm::None;
  return attr.getValueAsDouble();
}

llvm::Optional<ScalarScaling> mlir::attn::scalarScaling(Operation *op) {
  bool isDiv = isa<DivOp>(op);
  if (!isDiv && !isa<MulOp>(op))
    return llvm::None;
  auto specAttr = op->getAttrOfType<StringAttr>("spec");
  Optional<EinsumSpec> spec = specAttr ? EinsumSpec::parse(specAttr.getValue()) : llvm::None;
  if (!spec || spec->inputs.size() != 2)
    return llvm::None;
  for (int x = 0; x < (isDiv ? 1 : 2); ++x) {
    Optional<double> c = scalarConstant(op->getOperand(1 - x));
    if (!c || spec->inputs[x] != spec->result || !spec->inputs[1 - x].empty())
      continue;
    if (isDiv && *c == 0.0)
      return llvm::None;
    return ScalarScaling{x, isDiv ? 1.0 / *c : *c};
  }
  return llvm::None;
}
