//===- Sema.h - Semantic checks: .attn syntax trees to Program --*- C++ -*-===//
#pragma once

#include "attn/Sema/Program.h"
#include "attn/Support/Diagnostics.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace attn {

struct CompileOptions {
  /// -D NAME=VALUE overrides of compile-time dims (raw text, checked by sema).
  std::vector<std::pair<std::string, std::string>> dimOverrides;
  /// Folders searched by `import` after the importing file's own folder.
  std::vector<std::string> importPaths;
};

/// Parses `path` and everything it imports, checks it, and builds the typed
/// program. Reports every error it can find; returns nullopt if any.
/// `parsedFiles` receives every file read (for --verify-diagnostics).
std::optional<sema::Program>
checkModel(const std::string &path, const CompileOptions &options,
           SourceManager &sources, DiagnosticEngine &diags,
           std::vector<const SourceFile *> *parsedFiles = nullptr);

/// Only parses (for --emit=ast): the model file itself, without imports.
std::unique_ptr<ast::Module> parseModelFile(const std::string &path,
                                            SourceManager &sources,
                                            DiagnosticEngine &diags);

} // namespace attn
