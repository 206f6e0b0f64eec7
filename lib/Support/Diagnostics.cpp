//===- Diagnostics.cpp - Errors with source positions ---------------------===//
#include "attn/Support/Diagnostics.h"

#include <map>
#include <ostream>
#include <regex>

namespace attn {

static const char *severityName(Severity severity) {
  switch (severity) {
  case Severity::Error:
    return "error";
  case Severity::Warning:
    return "warning";
  case Severity::Note:
    return "note";
  }
  return "error";
}

std::string DiagnosticEngine::format(const Diagnostic &diag) {
  std::string text = diag.loc.str() + ": " + severityName(diag.severity) +
                     ": " + diag.message + "\n";
  if (!diag.loc.valid())
    return text;
  std::string_view line = diag.loc.file->line(diag.loc.line);
  if (line.empty())
    return text;
  // One character per column: control bytes and every non-ASCII character
  // (a multi-byte UTF-8 sequence, or a stray byte) print as '?', so the caret
  // stays under the column and binary input cannot garble the terminal.
  std::string shown;
  for (size_t i = 0; i < line.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    if (c >= 0xC0)
      while (i + 1 < line.size() &&
             (static_cast<unsigned char>(line[i + 1]) & 0xC0) == 0x80)
        ++i;
    shown += (c < 0x20 && c != '\t') || c >= 0x80 ? '?' : static_cast<char>(c);
  }
  // Long lines: a window around the column.
  size_t col = diag.loc.col ? diag.loc.col - 1 : 0;
  constexpr size_t kWindow = 60;
  size_t begin = col > kWindow ? col - kWindow : 0;
  std::string prefix = begin ? "..." : "";
  std::string window = shown.substr(std::min(begin, shown.size()), 2 * kWindow);
  std::string suffix = begin + 2 * kWindow < shown.size() ? "..." : "";
  text += "  " + prefix + window + suffix + "\n  " +
          std::string(prefix.size(), ' ');
  for (size_t i = begin; i < col && i < shown.size(); ++i)
    text += shown[i] == '\t' ? '\t' : ' ';
  text += "^\n";
  return text;
}

void DiagnosticEngine::report(Severity severity, Location loc,
                              std::string message) {
  if (severity == Severity::Error)
    ++errors;
  diagnostics.push_back({severity, loc, std::move(message)});
  if (!collectOnly)
    out << format(diagnostics.back());
}

void DiagnosticEngine::error(Location loc, std::string message) {
  report(Severity::Error, loc, std::move(message));
}
void DiagnosticEngine::warning(Location loc, std::string message) {
  report(Severity::Warning, loc, std::move(message));
}
void DiagnosticEngine::note(Location loc, std::string message) {
  report(Severity::Note, loc, std::move(message));
}

namespace {
struct Expectation {
  Severity severity;
  unsigned line;
  std::string text;
  unsigned commentLine;
  bool matched = false;
};
} // namespace

// `# expected-error {{text}}` expects a diagnostic on its own line;
// `# expected-error@+1 {{text}}` / `@-2` on a line relative to the comment.
static std::vector<Expectation> parseExpectations(const SourceFile &file) {
  static const std::regex pattern(
      R"(expected-(error|warning|note)(@([+-]?)([0-9]+))?\s*\{\{(.*?)\}\})");
  std::vector<Expectation> result;
  for (unsigned lineNo = 1; lineNo <= file.lineStarts.size(); ++lineNo) {
    std::string line(file.line(lineNo));
    for (std::sregex_iterator it(line.begin(), line.end(), pattern), end;
         it != end; ++it) {
      const std::smatch &m = *it;
      Severity severity = m[1] == "error"     ? Severity::Error
                          : m[1] == "warning" ? Severity::Warning
                                              : Severity::Note;
      unsigned target = lineNo;
      if (m[2].matched) {
        int offset = std::stoi(m[4]);
        if (m[3] == "-")
          target = lineNo - offset;
        else if (m[3] == "+")
          target = lineNo + offset;
        else
          target = offset;
      }
      result.push_back({severity, target, m[5], lineNo});
    }
  }
  return result;
}

bool DiagnosticEngine::verify(const std::vector<const SourceFile *> &sources) {
  bool ok = true;
  std::vector<bool> diagMatched(diagnostics.size(), false);
  for (const SourceFile *file : sources) {
    std::vector<Expectation> expected = parseExpectations(*file);
    for (Expectation &exp : expected) {
      for (size_t i = 0; i < diagnostics.size(); ++i) {
        const Diagnostic &d = diagnostics[i];
        if (diagMatched[i] || d.severity != exp.severity || d.loc.file != file ||
            d.loc.line != exp.line ||
            d.message.find(exp.text) == std::string::npos)
          continue;
        diagMatched[i] = exp.matched = true;
        break;
      }
      if (!exp.matched) {
        ok = false;
        out << file->path << ":" << exp.commentLine << ": error: expected "
            << severityName(exp.severity) << " on line " << exp.line
            << " was not produced: " << exp.text << "\n";
      }
    }
  }
  for (size_t i = 0; i < diagnostics.size(); ++i) {
    // Notes only explain an error; they are checked where a test expects one.
    if (diagMatched[i] || diagnostics[i].severity == Severity::Note)
      continue;
    ok = false;
    out << "unexpected " << format(diagnostics[i]);
  }
  return ok;
}

} // namespace attn
