//===- Parser.cpp - .attn text to syntax tree (ANTLR4) --------------------===//
//
// Three steps, each stopping at its own errors so that one mistake does not
// cascade: (1) the bytes must be UTF-8 text; (2) the token stream must be free
// of bad characters and of nesting deep enough to exhaust the recursive-descent
// parser's stack; (3) the ANTLR parse, whose syntax errors are all reported
// (with recovery), after which ASTBuilder turns the parse tree into ast::Module.
//
//===----------------------------------------------------------------------===//
#include "attn/Parse/Parser.h"
#include "ASTBuilder.h"

#include "AttnLexer.h"
#include "AttnParser.h"
#include "antlr4-runtime.h"

#include <cstdio>

namespace attn {
namespace {

constexpr unsigned kMaxReportedErrors = 20;

Location locAt(const SourceFile &file, size_t line, size_t charPos) {
  return Location{&file, static_cast<unsigned>(line),
                  static_cast<unsigned>(charPos + 1)};
}

/// Reports the first invalid UTF-8 sequence or NUL byte. ANTLR's input stream
/// would throw on invalid UTF-8, and NUL bytes mean the file is not text.
bool checkText(const SourceFile &file, DiagnosticEngine &diags) {
  const auto *bytes = reinterpret_cast<const unsigned char *>(file.text.data());
  size_t n = file.text.size(), line = 1, lineStart = 0;
  for (size_t i = 0; i < n;) {
    unsigned char c = bytes[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3
                                : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = len != 0 && c != 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; ++k)
      ok = (bytes[i + k] & 0xC0) == 0x80;
    if (!ok) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", c);
      diags.error(locAt(file, line, i - lineStart),
                  std::string("this is not a text file: byte ") + hex +
                      " is not valid UTF-8 text");
      return false;
    }
    if (c == '\n') {
      ++line;
      lineStart = i + 1;
    }
    i += len;
  }
  return true;
}

std::string describeToken(const antlr4::Token *token) {
  if (!token || token->getType() == antlr4::Token::EOF)
    return "end of file";
  std::string text = token->getText();
  if (text.size() > 40)
    text = text.substr(0, 40) + "...";
  // Control characters (a bad character can be any byte) print as \xNN.
  std::string shown;
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", u);
      shown += hex;
    } else {
      shown += c;
    }
  }
  return "'" + shown + "'";
}

/// Turns ANTLR's syntax errors into diagnostics with positions.
class ErrorListener : public antlr4::BaseErrorListener {
public:
  ErrorListener(const SourceFile &file, DiagnosticEngine &diags)
      : file(file), diags(diags) {}

  void syntaxError(antlr4::Recognizer *recognizer, antlr4::Token *offending,
                   size_t line,
                   size_t charPos, const std::string &msg,
                   std::exception_ptr) override {
    if (++count > kMaxReportedErrors)
      return;
    if (count == kMaxReportedErrors) {
      diags.error(locAt(file, line, charPos),
                  "too many syntax errors; stopping here");
      return;
    }
    std::string text = msg;
    // ANTLR lists every token it could accept; past a few that helps nobody.
    size_t expecting = text.find(" expecting {");
    if (expecting != std::string::npos)
      text = text.substr(0, expecting);
    // "mismatched input", "extraneous input", "no viable alternative": all
    // say that this token cannot come here.
    if (offending && (text.rfind("extraneous input", 0) == 0 ||
                      text.rfind("mismatched input", 0) == 0 ||
                      text.rfind("no viable alternative", 0) == 0))
      text = "unexpected " + describeToken(offending);
    // "missing ID at 'x'": name the grammar's tokens in words.
    size_t at = text.rfind(" at ");
    if (offending && text.rfind("missing ", 0) == 0 && at != std::string::npos)
      text = "missing " + describeExpected(text.substr(8, at - 8)) +
             " before " + describeToken(offending);
    if (offending && offending->getType() == AttnLexer::REDUCE_SUB &&
        usedAsName(recognizer, offending))
      text += " (names cannot start with sum_, mean_, max_, min_ or "
              "softmax_: those begin reductions, as in sum_j)";
    diags.error(locAt(file, line, charPos), "syntax error: " + text);
  }

private:
  const SourceFile &file;
  DiagnosticEngine &diags;
  unsigned count = 0;

  static std::string describeExpected(const std::string &token) {
    if (token == "ID")
      return "a name";
    if (token == "STRING")
      return "a file name in double quotes";
    if (token == "INT")
      return "an integer";
    return token;
  }

  /// Whether a reduction token such as `sum_x` stands where a name is being
  /// declared (`sum_x = ...`, `def sum_x(...)`, `input sum_x : ...`).
  static bool usedAsName(antlr4::Recognizer *recognizer, antlr4::Token *token) {
    auto *parser = dynamic_cast<antlr4::Parser *>(recognizer);
    if (!parser)
      return false;
    antlr4::TokenStream *tokens = parser->getTokenStream();
    size_t index = token->getTokenIndex();
    if (index + 1 >= tokens->size())
      return false;
    std::string next = tokens->get(index + 1)->getText();
    return next == "=" || next == "(" || next == ":" || next == "[";
  }
};

/// Bad characters and excessive nesting, found on the token stream before
/// the (recursive) parser runs.
bool checkTokens(const SourceFile &file, antlr4::CommonTokenStream &tokens,
                 const ParseLimits &limits, DiagnosticEngine &diags) {
  unsigned depth = 0, reported = 0, prefixRun = 0;
  for (antlr4::Token *token : tokens.getTokens()) {
    size_t type = token->getType();
    Location loc = locAt(file, token->getLine(), token->getCharPositionInLine());
    // `- - - x` and `sum_i sum_j ...` recurse in the parser like brackets do.
    bool prefix = token->getText() == "-" || type == AttnLexer::REDUCE_SUB;
    prefixRun = prefix ? prefixRun + 1 : 0;
    if (prefixRun > limits.maxNesting) {
      diags.error(loc, "more than " + std::to_string(limits.maxNesting) +
                           " prefix operators in a row");
      return false;
    }
    if (type == AttnLexer::BAD_CHAR) {
      if (++reported <= kMaxReportedErrors)
        diags.error(loc, "unexpected character " + describeToken(token));
      continue;
    }
    std::string text = token->getText();
    if (text == "(" || text == "[" || text == "{" ||
        type == AttnLexer::REDUCE_OPEN) {
      if (++depth > limits.maxNesting) {
        diags.error(loc, "brackets nested more than " +
                             std::to_string(limits.maxNesting) +
                             " levels deep");
        return false;
      }
    } else if ((text == ")" || text == "]" || text == "}") && depth > 0) {
      --depth;
    }
  }
  return reported == 0;
}

} // namespace

std::unique_ptr<ast::Module> parseModule(const SourceFile &file,
                                         DiagnosticEngine &diags,
                                         const ParseLimits &limits) {
  if (!checkText(file, diags))
    return nullptr;

  unsigned errorsBefore = diags.errorCount();
  antlr4::ANTLRInputStream input(file.text);
  AttnLexer lexer(&input);
  lexer.removeErrorListeners(); // bad characters become BAD_CHAR tokens
  antlr4::CommonTokenStream tokens(&lexer);
  tokens.fill();
  if (!checkTokens(file, tokens, limits, diags))
    return nullptr;

  if (tokens.getTokens().size() <= 1) {
    diags.error(locAt(file, 1, 0), "empty file: a model starts with "
                                   "'model NAME' (a library with 'library "
                                   "NAME')");
    return nullptr;
  }
  AttnParser parser(&tokens);
  ErrorListener listener(file, diags);
  parser.removeErrorListeners();
  parser.addErrorListener(&listener);
  AttnParser::FileContext *tree = parser.file();
  if (diags.errorCount() != errorsBefore)
    return nullptr;

  auto module = buildAST(tree, file, limits, diags);
  return diags.errorCount() != errorsBefore ? nullptr : std::move(module);
}

} // namespace attn
