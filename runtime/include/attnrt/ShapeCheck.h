// Checking a call's tensors against the shapes a model expects, with messages that state the
// actual and the expected sizes. Model facades use one ShapeChecker per call:
//
//   attnrt::ShapeChecker check("forward");
//   check.tensor("input 'x'", x, {"B", "S", 64});        // binds B and S
//   check.tensor("input 'mask'", mask, {"B", "S"}, attnrt::DType::I32);
//   int64_t batch = check.value("B");
//
// throws std::invalid_argument such as
//   forward: input 'x' has shape [8, 12, 32], expected [B, S, 64] (last dim is 32, expected 64)
//   forward: input 'mask' has shape [8, 10], expected [B, S] (S = 12 from input 'x')
#ifndef ATTNRT_SHAPECHECK_H
#define ATTNRT_SHAPECHECK_H

#include "attnrt/Tensor.h"

#include <cstdint>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

namespace attnrt {

/// One expected extent: a fixed number, or a symbol that takes its value from its first use.
class DimSpec {
public:
  template <class I, std::enable_if_t<std::is_integral<I>::value, int> = 0>
  DimSpec(I extent) : extent_(static_cast<int64_t>(extent)) {}    // NOLINT: implicit on purpose
  DimSpec(const char *symbol) : extent_(-1), symbol_(symbol) {}   // NOLINT
  DimSpec(std::string symbol) : extent_(-1), symbol_(std::move(symbol)) {} // NOLINT

  bool isSymbol() const { return !symbol_.empty(); }
  int64_t extent() const { return extent_; }
  const std::string &symbol() const { return symbol_; }

private:
  int64_t extent_;
  std::string symbol_;
};

/// "[B, S, 64]".
std::string specString(const std::vector<DimSpec> &shape);

class ShapeChecker {
public:
  /// `context` starts every message, e.g. the facade method's name.
  explicit ShapeChecker(std::string context) : context_(std::move(context)) {}

  /// Fixes a symbol beforehand (e.g. from options); `source` says where the value came from.
  void bind(const std::string &symbol, int64_t value, const std::string &source);

  /// Checks dtype, rank and every extent of `t`; binds symbols seen for the first time.
  /// `what` names the tensor in messages ("input 'x'").
  void tensor(const std::string &what, const Tensor &t, const std::vector<DimSpec> &expected,
              DType dtype = DType::F32);

  /// The value bound to `symbol`; std::invalid_argument if it is not bound.
  int64_t value(const std::string &symbol) const;

private:
  struct Binding {
    int64_t value;
    std::string source;
  };
  std::string context_;
  std::map<std::string, Binding> bound_;
};

} // namespace attnrt

#endif // ATTNRT_SHAPECHECK_H
