//===- Parser.h - .attn text to syntax tree --------------------*- C++ -*-===//
#pragma once

#include "attn/AST/AST.h"
#include "attn/Support/Diagnostics.h"

#include <memory>

namespace attn {

/// Limits that keep hostile input (deep nesting, endless operator chains) from
/// exhausting the stack of the parser or of later recursive passes.
struct ParseLimits {
  unsigned maxNesting = 256;     // open ( [ { at once
  unsigned maxExprDepth = 512;   // depth of an expression tree
};

/// Parses one file. Syntax errors are reported to `diags` (all of them, with
/// recovery); returns null if there was any.
std::unique_ptr<ast::Module> parseModule(const SourceFile &file,
                                         DiagnosticEngine &diags,
                                         const ParseLimits &limits = {});

} // namespace attn
