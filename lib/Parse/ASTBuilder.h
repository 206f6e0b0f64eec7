//===- ASTBuilder.h - ANTLR parse tree to ast::Module -----------*- C++ -*-===//
#pragma once

#include "attn/Parse/Parser.h"

#include "AttnParser.h"

namespace attn {

/// Builds the syntax tree from a parse tree without syntax errors. Returns null
/// (after reporting) if an expression exceeds the depth limit.
std::unique_ptr<ast::Module> buildAST(AttnParser::FileContext *tree,
                                      const SourceFile &file,
                                      const ParseLimits &limits,
                                      DiagnosticEngine &diags);

} // namespace attn
