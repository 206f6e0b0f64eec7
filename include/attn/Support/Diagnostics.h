//===- Diagnostics.h - Errors with source positions ------------*- C++ -*-===//
//
// Diagnostics are printed as
//   model.attn:12:7: error: unknown name 'Wk'
//     k[j] = x[j] @ Wk
//                   ^
// All stages (parser, semantic checks, MLIR verifiers) report through one
// DiagnosticEngine, so `attnc --verify-diagnostics` can check any of them
// against `# expected-error {{...}}` comments in the source.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "attn/Support/Source.h"

#include <iosfwd>
#include <string>
#include <vector>

namespace attn {

enum class Severity { Error, Warning, Note };

struct Diagnostic {
  Severity severity;
  Location loc;
  std::string message;
};

class DiagnosticEngine {
public:
  /// Diagnostics are printed to `out` as they arrive unless `collectOnly`.
  explicit DiagnosticEngine(std::ostream &out, bool collectOnly = false)
      : out(out), collectOnly(collectOnly) {}

  void error(Location loc, std::string message);
  void warning(Location loc, std::string message);
  void note(Location loc, std::string message);
  void report(Severity severity, Location loc, std::string message);

  unsigned errorCount() const { return errors; }
  bool hasErrors() const { return errors != 0; }
  const std::vector<Diagnostic> &all() const { return diagnostics; }

  /// Checks the collected diagnostics against the `expected-error`,
  /// `expected-warning` and `expected-note` comments of every file in
  /// `sources` that has any. Mismatches are printed to `out`. Returns true if
  /// every expectation was met and nothing unexpected was reported.
  bool verify(const std::vector<const SourceFile *> &sources);

  /// Formats one diagnostic with its source line and a caret.
  static std::string format(const Diagnostic &diag);

private:
  std::ostream &out;
  bool collectOnly;
  unsigned errors = 0;
  std::vector<Diagnostic> diagnostics;
};

} // namespace attn
