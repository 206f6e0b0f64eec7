//===- AttentionSpecs.h - Einsum shapes of attention scores and contexts -===//
//
// What attn-raise and attn-differentiate both recognise: the einsum specs of
// a dot score (q.k over the feature letter) and of a weighted sum of values
// by alignment weights, and scalar constants.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_DIALECT_ATTN_TRANSFORMS_ATTENTIONSPECS_H
#define ATTN_DIALECT_ATTN_TRANSFORMS_ATTENTIONSPECS_H

#include "attn/Dialect/Attn/Einsum.h"

#include "mlir/IR/Operation.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/Optional.h"
#include "llvm/ADT/SmallVector.h"

namespace mlir {
namespace attn {

/// Two terms "P x u" and "P y u" with the same non-empty prefix P (at least
/// the batch) and last letter u,
/// and a result "P x y" (or "P x y u" when `keepLast`). Returns which input
/// supplies the first of the two result positions (x): 0, 1, or -1 if the
/// spec has another form.
int matchPairSpec(const EinsumSpec &spec, bool keepLast);

/// For "P t s, P s e -> P t e" in either operand order: the indices of the
/// inputs that can be the alignment weights "P t s" (the other is the values
/// "P s e"); empty if the spec has another form.
llvm::SmallVector<int, 2> contextAlphaCandidates(const EinsumSpec &spec);

/// `x * c`, `c * x` (attn.mul) or `x / c` (attn.div, c != 0) with `c` a
/// scalar attn.constant broadcast over `x` (spec "P,->P"): which operand is
/// `x`, and the factor (c or 1/c).
struct ScalarScaling {
  int operand;
  double factor;
};
llvm::Optional<ScalarScaling> scalarScaling(Operation *op);

} // namespace attn
} // namespace mlir

#endif // ATTN_DIALECT_ATTN_TRANSFORMS_ATTENTIONSPECS_H
