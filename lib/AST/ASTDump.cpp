//===- ASTDump.cpp - Print the syntax tree (attnc --emit=ast) -------------===//
#include "attn/AST/AST.h"

#include <sstream>

namespace attn::ast {

const char *reduceKindName(ReduceKind kind) {
  switch (kind) {
  case ReduceKind::Sum:
    return "sum";
  case ReduceKind::Mean:
    return "mean";
  case ReduceKind::Max:
    return "max";
  case ReduceKind::Min:
    return "min";
  case ReduceKind::Softmax:
    return "softmax";
  }
  return "?";
}

const char *relationSpelling(Relation rel) {
  switch (rel) {
  case Relation::Lt:
    return "<";
  case Relation::Le:
    return "<=";
  case Relation::Gt:
    return ">";
  case Relation::Ge:
    return ">=";
  case Relation::None:
    break;
  }
  return "";
}

namespace {
class Dumper {
public:
  std::ostringstream os;

  void module(const Module &m) {
    os << (m.isLibrary ? "Library " : "Model ") << m.name << " " << at(m.loc)
       << "\n";
    for (const ImportDecl &i : m.imports)
      os << "  Import \"" << i.path << "\" " << at(i.loc) << "\n";
    for (const DimDecl &d : m.dims) {
      os << "  Dim " << d.name;
      if (d.value)
        os << " = " << dimExpr(*d.value);
      else
        os << " (run-time)";
      os << " " << at(d.loc) << "\n";
    }
    for (const InputDecl &i : m.inputs)
      os << (i.target ? "  Target " : "  Input ") << i.name << " : " << (i.tokens ? "tokens" : "float")
         << shape(i.shape) << " " << at(i.loc) << "\n";
    for (const ParamDecl &p : m.params) {
      os << "  Param " << p.name << " : " << shape(p.shape);
      if (p.hasInit) {
        os << " ~ " << p.init;
        if (!p.initArgs.empty()) {
          os << "(";
          for (size_t i = 0; i < p.initArgs.size(); ++i)
            os << (i ? ", " : "") << p.initArgs[i];
          os << ")";
        }
      }
      os << " " << at(p.loc) << "\n";
    }
    for (const FuncDef &f : m.funcs) {
      os << "  Func " << f.name.name << "(";
      for (size_t i = 0; i < f.params.size(); ++i)
        os << (i ? ", " : "") << f.params[i].name;
      os << ") " << at(f.loc) << "\n";
      for (const Definition &d : f.body)
        definition(d, 2);
      os << "    Return\n";
      expr(*f.result, 3);
      for (const ExprPtr &extra : f.extraResults)
        expr(*extra, 3);
    }
    for (const Definition &d : m.defs)
      definition(d, 1);
    for (const DecoderDef &dec : m.decoders) {
      os << "  Decoder(" << dec.token.name;
      for (const Ident &s : dec.states)
        os << ", " << s.name;
      os << ") " << at(dec.loc) << "\n    Init\n";
      for (const ExprPtr &init : dec.inits)
        expr(*init, 3);
      for (const Definition &d : dec.body)
        definition(d, 2);
      os << "    Return\n";
      for (const ExprPtr &next : dec.next)
        expr(*next, 3);
    }
    for (const LossDecl &l : m.losses) {
      os << "  Loss " << at(l.loc) << "\n";
      expr(*l.value, 2);
    }
  }

private:
  static std::string at(const Location &loc) {
    return "@" + std::to_string(loc.line) + ":" + std::to_string(loc.col);
  }

  std::string dimExpr(const DimExpr &d) {
    switch (d.kind) {
    case DimExpr::Int:
      return std::to_string(d.value);
    case DimExpr::Name:
      return d.name;
    case DimExpr::Binary:
      return "(" + dimExpr(*d.lhs) + " " + d.op + " " + dimExpr(*d.rhs) + ")";
    }
    return "?";
  }

  std::string shape(const std::vector<DimExprPtr> &dims) {
    std::string s = "[";
    for (size_t i = 0; i < dims.size(); ++i)
      s += (i ? ", " : "") + dimExpr(*dims[i]);
    return s + "]";
  }

  void indent(int depth) { os << std::string(2 * depth, ' '); }

  void definition(const Definition &d, int depth) {
    indent(depth);
    os << (d.output ? "Output " : "Def ") << d.name.name;
    if (!d.indices.empty()) {
      os << "[";
      for (size_t i = 0; i < d.indices.size(); ++i)
        os << (i ? ", " : "") << d.indices[i].name;
      os << "]";
    }
    for (const Ident &extra : d.extraNames)
      os << ", " << extra.name;
    if (d.recurrence) {
      const RecurrenceClause &r = *d.recurrence;
      os << " for " << r.time.name << " in " << r.dim.name
         << (r.reverse ? " reversed" : "");
    }
    os << " " << at(d.loc) << "\n";
    expr(*d.value, depth + 1);
    if (d.recurrence)
      for (const ExprPtr &init : d.recurrence->inits) {
        indent(depth + 1);
        os << "Init\n";
        expr(*init, depth + 2);
      }
  }

  void expr(const Expr &e, int depth) {
    indent(depth);
    switch (e.kind) {
    case Expr::Number:
      os << "Number " << e.number;
      break;
    case Expr::Name:
      os << "Name " << e.name;
      break;
    case Expr::Call:
      os << "Call " << e.name;
      break;
    case Expr::Index:
      os << "Index";
      break;
    case Expr::Binary:
      os << "Binary '" << e.op << "'";
      break;
    case Expr::Negate:
      os << "Negate";
      break;
    case Expr::Reduce:
      os << "Reduce " << reduceKindName(e.reduce) << " over " << e.indexVar;
      if (e.relation != Relation::None)
        os << " where " << e.indexVar << " " << relationSpelling(e.relation)
           << " " << e.relationVar;
      break;
    }
    os << " " << at(e.loc) << "\n";
    for (const ExprPtr &operand : e.operands)
      expr(*operand, depth + 1);
  }
};
} // namespace

std::string dump(const Module &module) {
  Dumper dumper;
  dumper.module(module);
  return dumper.os.str();
}

} // namespace attn::ast
