//===- Source.h - Source files and locations -------------------*- C++ -*-===//
//
// Every diagnostic of attnc points at a line and column of a source file. The
// SourceManager owns the text of every file read in a run (the model and its
// imports) so that locations stay valid and diagnostics can print the line.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace attn {

struct SourceFile {
  std::string path;
  std::string text;
  std::vector<size_t> lineStarts; // offset of the first character of each line

  std::string_view line(unsigned lineNo) const; // 1-based; empty if out of range
};

/// A position in a source file: 1-based line and column. A default-constructed
/// location (no file) means "no source position" (e.g. a command-line option).
struct Location {
  const SourceFile *file = nullptr;
  unsigned line = 0;
  unsigned col = 0;

  bool valid() const { return file != nullptr; }
  std::string str() const; // "path:line:col"
};

class SourceManager {
public:
  /// Largest file attnc reads; anything larger is rejected, not parsed.
  static constexpr size_t kMaxFileBytes = 8u << 20;

  /// Reads a file. On failure returns nullptr and sets `error`.
  const SourceFile *load(const std::string &path, std::string &error);
  /// Registers text that did not come from disk (tests, stdin).
  const SourceFile *addBuffer(std::string path, std::string text);
  /// The file already loaded under this canonical path, if any.
  const SourceFile *find(const std::string &path) const;

private:
  std::vector<std::unique_ptr<SourceFile>> files;
};

} // namespace attn
