//===- Einsum.h - The einsum-like `spec` of attn ops ------------*- C++ -*-===//
//
// "bsd,dhk->bshk": one lowercase letter per axis, input terms separated by
// ',', then '->' and the result term. An empty term is a rank-0 scalar.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_EINSUM_H
#define ATTN_DIALECT_ATTN_EINSUM_H

#include "llvm/ADT/Optional.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include <string>

namespace mlir {
namespace attn {

struct EinsumSpec {
  llvm::SmallVector<std::string, 2> inputs;
  std::string result;

  /// Parses `spec`; on a malformed spec returns None and, if `error` is
  /// given, a sentence saying what is wrong. Checks the syntax and that no
  /// term repeats a letter; the caller checks the number of inputs.
  static llvm::Optional<EinsumSpec> parse(llvm::StringRef spec,
                                          std::string *error = nullptr);

  /// "in0,in1->result".
  std::string str() const;

  /// Input letters absent from the result (summed over), in first-seen order.
  std::string summedLetters() const;
};

} // namespace attn
} // namespace mlir

#endif // ATTN_DIALECT_ATTN_EINSUM_H
