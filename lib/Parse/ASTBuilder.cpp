//===- ASTBuilder.cpp - ANTLR parse tree to ast::Module -------------------===//
#include "ASTBuilder.h"

#include <cstdlib>

namespace attn {
namespace {

using ast::Expr;
using ast::ExprPtr;

class ASTBuilder {
public:
  ASTBuilder(const SourceFile &file, const ParseLimits &limits,
             DiagnosticEngine &diags)
      : file(file), limits(limits), diags(diags) {}

  std::unique_ptr<ast::Module> build(AttnParser::FileContext *tree) {
    auto module = std::make_unique<ast::Module>();
    auto *header = tree->header();
    module->loc = loc(header->getStart());
    module->isLibrary = header->kind->getText() == "library";
    module->name = header->ID()->getText();
    for (auto *item : tree->item()) {
      if (auto *i = item->importDecl())
        module->imports.push_back(importDecl(i));
      else if (auto *d = item->dimDecl())
        dimDecl(d, module->dims);
      else if (auto *in = item->inputDecl())
        module->inputs.push_back(inputDecl(in));
      else if (auto *p = item->paramDecl())
        module->params.push_back(paramDecl(p));
      else if (auto *f = item->funcDef())
        module->funcs.push_back(funcDef(f));
      else if (auto *d = item->decoderDef())
        module->decoders.push_back(decoderDef(d));
      else if (auto *l = item->lossDecl())
        module->losses.push_back({loc(l->getStart()), expr(l->expr())});
      else if (auto *def = item->definition())
        module->defs.push_back(definition(def));
    }
    return tooDeep ? nullptr : std::move(module);
  }

private:
  const SourceFile &file;
  const ParseLimits &limits;
  DiagnosticEngine &diags;
  unsigned depth = 0;
  bool tooDeep = false;

  Location loc(antlr4::Token *token) {
    return Location{&file, static_cast<unsigned>(token->getLine()),
                    static_cast<unsigned>(token->getCharPositionInLine() + 1)};
  }
  Location loc(antlr4::tree::TerminalNode *node) {
    return loc(node->getSymbol());
  }
  ast::Ident ident(antlr4::tree::TerminalNode *node) {
    return {node->getText(), loc(node)};
  }

  /// Guards every recursive step: later passes recurse over the same trees.
  struct DepthGuard {
    ASTBuilder &b;
    DepthGuard(ASTBuilder &b, Location where) : b(b) {
      if (++b.depth == b.limits.maxExprDepth && !b.tooDeep) {
        b.tooDeep = true;
        b.diags.error(where, "expression nested more than " +
                                 std::to_string(b.limits.maxExprDepth) +
                                 " levels deep; split it into definitions");
      }
    }
    ~DepthGuard() { --b.depth; }
  };

  ast::ImportDecl importDecl(AttnParser::ImportDeclContext *ctx) {
    std::string text = ctx->STRING()->getText();
    return {loc(ctx->getStart()), text.substr(1, text.size() - 2)};
  }

  void dimDecl(AttnParser::DimDeclContext *ctx, std::vector<ast::DimDecl> &out) {
    for (auto *item : ctx->dimItem()) {
      ast::DimDecl decl;
      decl.loc = loc(item->ID());
      decl.name = item->ID()->getText();
      if (item->dimExpr())
        decl.value = dimExpr(item->dimExpr());
      out.push_back(std::move(decl));
    }
  }

  ast::DimExprPtr dimExpr(AttnParser::DimExprContext *ctx) {
    DepthGuard guard(*this, loc(ctx->getStart()));
    auto result = std::make_unique<ast::DimExpr>();
    result->loc = loc(ctx->getStart());
    if (tooDeep) {
      result->kind = ast::DimExpr::Int;
      return result;
    }
    if (auto *i = dynamic_cast<AttnParser::DimIntContext *>(ctx)) {
      result->kind = ast::DimExpr::Int;
      result->value = std::strtoll(i->INT()->getText().c_str(), nullptr, 10);
      if (i->INT()->getText().size() > 12)
        result->value = -1; // reported by sema as out of range
    } else if (auto *n = dynamic_cast<AttnParser::DimNameContext *>(ctx)) {
      result->kind = ast::DimExpr::Name;
      result->name = n->ID()->getText();
    } else if (auto *p = dynamic_cast<AttnParser::DimParenContext *>(ctx)) {
      return dimExpr(p->dimExpr());
    } else if (auto *m = dynamic_cast<AttnParser::DimMulContext *>(ctx)) {
      binaryDim(*result, m->op, m->dimExpr(0), m->dimExpr(1));
    } else if (auto *a = dynamic_cast<AttnParser::DimAddContext *>(ctx)) {
      binaryDim(*result, a->op, a->dimExpr(0), a->dimExpr(1));
    }
    return result;
  }

  void binaryDim(ast::DimExpr &out, antlr4::Token *op,
                 AttnParser::DimExprContext *lhs,
                 AttnParser::DimExprContext *rhs) {
    out.kind = ast::DimExpr::Binary;
    out.loc = loc(op);
    out.op = op->getText()[0];
    out.lhs = dimExpr(lhs);
    out.rhs = dimExpr(rhs);
  }

  std::vector<ast::DimExprPtr> shape(AttnParser::ShapeContext *ctx) {
    std::vector<ast::DimExprPtr> dims;
    for (auto *d : ctx->dimExpr())
      dims.push_back(dimExpr(d));
    return dims;
  }

  ast::InputDecl inputDecl(AttnParser::InputDeclContext *ctx) {
    ast::InputDecl decl;
    decl.loc = loc(ctx->ID());
    decl.name = ctx->ID()->getText();
    decl.tokens = ctx->elemType->getText() == "tokens";
    decl.target = ctx->kind->getText() == "target";
    decl.shape = shape(ctx->shape());
    return decl;
  }

  ast::ParamDecl paramDecl(AttnParser::ParamDeclContext *ctx) {
    ast::ParamDecl decl;
    decl.loc = loc(ctx->ID());
    decl.name = ctx->ID()->getText();
    decl.shape = shape(ctx->shape());
    if (auto *init = ctx->initSpec()) {
      decl.hasInit = true;
      decl.initLoc = loc(init->ID());
      decl.init = init->ID()->getText();
      for (auto *arg : init->signedNumber()) {
        double value = std::strtod(arg->number()->getText().c_str(), nullptr);
        decl.initArgs.push_back(arg->getText()[0] == '-' ? -value : value);
      }
    }
    return decl;
  }

  ast::FuncDef funcDef(AttnParser::FuncDefContext *ctx) {
    ast::FuncDef func;
    func.loc = loc(ctx->getStart());
    auto ids = ctx->ID();
    func.name = ident(ids[0]);
    for (size_t i = 1; i < ids.size(); ++i)
      func.params.push_back(ident(ids[i]));
    for (auto *def : ctx->definition())
      func.body.push_back(definition(def));
    auto results = ctx->expr();
    func.result = expr(results[0]);
    for (size_t i = 1; i < results.size(); ++i)
      func.extraResults.push_back(expr(results[i]));
    return func;
  }

  ast::DecoderDef decoderDef(AttnParser::DecoderDefContext *ctx) {
    ast::DecoderDef dec;
    dec.loc = loc(ctx->getStart());
    dec.token = {ctx->token->getText(), loc(ctx->token)};
    for (antlr4::Token *state : ctx->states)
      dec.states.push_back({state->getText(), loc(state)});
    for (auto *init : ctx->inits)
      dec.inits.push_back(expr(init));
    for (auto *def : ctx->definition())
      dec.body.push_back(definition(def));
    for (auto *next : ctx->next)
      dec.next.push_back(expr(next));
    return dec;
  }

  ast::Definition definition(AttnParser::DefinitionContext *ctx) {
    ast::Definition def;
    auto targets = ctx->target();
    auto ids = targets[0]->ID();
    def.loc = loc(ids[0]);
    def.output = ctx->output != nullptr;
    def.name = ident(ids[0]);
    for (size_t i = 1; i < ids.size(); ++i)
      def.indices.push_back(ident(ids[i]));
    for (size_t t = 1; t < targets.size(); ++t) {
      auto more = targets[t]->ID();
      def.extraNames.push_back(ident(more[0]));
      bool same = more.size() == ids.size();
      for (size_t i = 1; same && i < more.size(); ++i)
        same = more[i]->getText() == ids[i]->getText();
      if (!same)
        diags.error(loc(more[0]), "'" + more[0]->getText() +
                                      "' must take the same indices as '" +
                                      ids[0]->getText() + "'");
    }
    def.value = expr(ctx->expr());
    if (auto *r = ctx->recurrence()) {
      auto clause = std::make_unique<ast::RecurrenceClause>();
      clause->loc = loc(r->getStart());
      clause->time = ident(r->ID(0));
      clause->dim = ident(r->ID(1));
      clause->reverse = r->reversed != nullptr;
      for (auto *init : r->expr())
        clause->inits.push_back(expr(init));
      def.recurrence = std::move(clause);
    }
    return def;
  }

  ExprPtr expr(AttnParser::ExprContext *ctx) { return additive(ctx->additive()); }

  /// Left-associative chains: `a + b - c`, `a * b / c @ d`.
  template <typename OperandCtx, typename Fn>
  ExprPtr chain(const std::vector<OperandCtx *> &operands,
                const std::vector<antlr4::Token *> &ops, Fn operand) {
    ExprPtr result = operand(operands[0]);
    for (size_t i = 0; i < ops.size(); ++i) {
      DepthGuard guard(*this, loc(ops[i]));
      auto node = std::make_unique<Expr>(Expr::Binary, loc(ops[i]));
      node->op = ops[i]->getText()[0];
      node->operands.push_back(std::move(result));
      node->operands.push_back(operand(operands[i + 1]));
      result = std::move(node);
      ++depth; // the chain nests: keep counting until it is complete
    }
    depth -= ops.size();
    return result;
  }

  ExprPtr additive(AttnParser::AdditiveContext *ctx) {
    return chain(ctx->multiplicative(), ctx->op,
                 [&](auto *m) { return multiplicative(m); });
  }

  ExprPtr multiplicative(AttnParser::MultiplicativeContext *ctx) {
    return chain(ctx->unary(), ctx->op, [&](auto *u) { return unary(u); });
  }

  ExprPtr unary(AttnParser::UnaryContext *ctx) {
    DepthGuard guard(*this, loc(ctx->getStart()));
    if (tooDeep)
      return std::make_unique<Expr>(Expr::Number, loc(ctx->getStart()));
    if (auto *neg = dynamic_cast<AttnParser::NegateContext *>(ctx)) {
      auto node = std::make_unique<Expr>(Expr::Negate, loc(ctx->getStart()));
      node->operands.push_back(unary(neg->unary()));
      return node;
    }
    if (auto *r = dynamic_cast<AttnParser::ReduceSimpleContext *>(ctx)) {
      auto node = reduceHead(r->REDUCE_SUB());
      std::string text = r->REDUCE_SUB()->getText();
      size_t underscore = text.find('_');
      node->indexVar = text.substr(underscore + 1);
      node->indexLoc = node->loc;
      node->indexLoc.col += underscore + 1;
      node->operands.push_back(multiplicative(r->multiplicative()));
      return node;
    }
    if (auto *r = dynamic_cast<AttnParser::ReduceMaskedContext *>(ctx)) {
      auto node = reduceHead(r->REDUCE_OPEN());
      node->indexVar = r->ID(0)->getText();
      node->indexLoc = loc(r->ID(0));
      if (auto *rel = r->relation()) {
        std::string op = rel->getText();
        node->relation = op == "<"    ? ast::Relation::Lt
                         : op == "<=" ? ast::Relation::Le
                         : op == ">"  ? ast::Relation::Gt
                                      : ast::Relation::Ge;
        node->relationVar = r->ID(1)->getText();
        node->relationLoc = loc(r->ID(1));
      }
      node->operands.push_back(multiplicative(r->multiplicative()));
      return node;
    }
    auto *p = static_cast<AttnParser::UnaryPostfixContext *>(ctx);
    return postfix(p->postfix());
  }

  ExprPtr reduceHead(antlr4::tree::TerminalNode *token) {
    auto node = std::make_unique<Expr>(Expr::Reduce, loc(token));
    std::string text = token->getText();
    std::string kind = text.substr(0, text.find('_'));
    node->reduce = kind == "sum"    ? ast::ReduceKind::Sum
                   : kind == "mean" ? ast::ReduceKind::Mean
                   : kind == "max"  ? ast::ReduceKind::Max
                   : kind == "min"  ? ast::ReduceKind::Min
                                    : ast::ReduceKind::Softmax;
    return node;
  }

  ExprPtr postfix(AttnParser::PostfixContext *ctx) {
    ExprPtr base = primary(ctx->primary());
    auto items = ctx->expr();
    if (items.empty())
      return base;
    // The '[' token follows the primary.
    auto *open = dynamic_cast<antlr4::tree::TerminalNode *>(ctx->children[1]);
    auto node = std::make_unique<Expr>(Expr::Index,
                                       open ? loc(open) : base->loc);
    node->operands.push_back(std::move(base));
    for (auto *item : items)
      node->operands.push_back(expr(item));
    return node;
  }

  ExprPtr primary(AttnParser::PrimaryContext *ctx) {
    DepthGuard guard(*this, loc(ctx->getStart()));
    if (tooDeep)
      return std::make_unique<Expr>(Expr::Number, loc(ctx->getStart()));
    if (auto *n = dynamic_cast<AttnParser::NumberLitContext *>(ctx)) {
      auto node = std::make_unique<Expr>(Expr::Number, loc(ctx->getStart()));
      node->number = std::strtod(n->getText().c_str(), nullptr);
      return node;
    }
    if (auto *c = dynamic_cast<AttnParser::CallContext *>(ctx)) {
      auto node = std::make_unique<Expr>(Expr::Call, loc(c->ID()));
      node->name = c->ID()->getText();
      for (auto *arg : c->expr())
        node->operands.push_back(expr(arg));
      return node;
    }
    if (auto *n = dynamic_cast<AttnParser::NameRefContext *>(ctx)) {
      auto node = std::make_unique<Expr>(Expr::Name, loc(n->ID()));
      node->name = n->ID()->getText();
      return node;
    }
    return expr(static_cast<AttnParser::ParenContext *>(ctx)->expr());
  }
};

} // namespace

std::unique_ptr<ast::Module> buildAST(AttnParser::FileContext *tree,
                                      const SourceFile &file,
                                      const ParseLimits &limits,
                                      DiagnosticEngine &diags) {
  return ASTBuilder(file, limits, diags).build(tree);
}

} // namespace attn
