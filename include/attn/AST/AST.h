//===- AST.h - Syntax tree of .attn files ----------------------*- C++ -*-===//
//
// The parser produces this tree; every node carries its source location. The
// tree is purely syntactic: names are unresolved and nothing is typed. Sema
// (attn/Sema) checks it and produces the typed program that MLIRGen consumes.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "attn/Support/Source.h"

#include <memory>
#include <string>
#include <vector>

namespace attn::ast {

/// A size expression in `dim` declarations and shapes: 64, D, D / H, 2 * H.
struct DimExpr {
  enum Kind { Int, Name, Binary } kind;
  Location loc;
  long long value = 0; // Int
  std::string name;    // Name
  char op = 0;         // Binary: + - * /
  std::unique_ptr<DimExpr> lhs, rhs;
};
using DimExprPtr = std::unique_ptr<DimExpr>;

enum class ReduceKind { Sum, Mean, Max, Min, Softmax };
enum class Relation { None, Lt, Le, Gt, Ge };

const char *reduceKindName(ReduceKind kind);
const char *relationSpelling(Relation rel);

struct Expr {
  enum Kind {
    Number, // 1.5
    Name,   // x
    Call,   // f(a, b)
    Index,  // base[i, j]: operands = {base, items...}
    Binary, // a + b, a - b, a * b, a / b, a @ b, a . b
    Negate, // -a
    Reduce, // sum_j a, softmax_{j <= i} e
  } kind;
  Location loc;

  double number = 0;              // Number
  std::string name;               // Name, Call (callee)
  char op = 0;                    // Binary
  ReduceKind reduce = ReduceKind::Sum;
  std::string indexVar;           // Reduce: the reduced index
  Location indexLoc;
  Relation relation = Relation::None; // Reduce: optional mask `j <= i`
  std::string relationVar;
  Location relationLoc;
  std::vector<std::unique_ptr<Expr>> operands;

  Expr(Kind kind, Location loc) : kind(kind), loc(loc) {}
};
using ExprPtr = std::unique_ptr<Expr>;

struct Ident {
  std::string name;
  Location loc;
};

struct ImportDecl {
  Location loc;
  std::string path;
};

struct DimDecl {
  Location loc;
  std::string name;
  DimExprPtr value; // null: a run-time size
};

struct InputDecl {
  Location loc;
  std::string name;
  bool tokens = false; // tokens[...] (int32 ids) or float[...]
  bool target = false; // `target`: an expected output, read only by the loss
  std::vector<DimExprPtr> shape;
};

struct ParamDecl {
  Location loc;
  std::string name;
  std::vector<DimExprPtr> shape;
  bool hasInit = false;
  Location initLoc;
  std::string init;            // xavier, normal, ...
  std::vector<double> initArgs;
};

/// `for t in S [reversed] [init a, b]` after a recurrent definition.
struct RecurrenceClause {
  Location loc;
  Ident time; // the time index
  Ident dim;  // the dim it runs over
  bool reverse = false;
  std::vector<ExprPtr> inits; // one per defined name
};

/// name[i, j] = value   (or `output name[...] = value`); a recurrence may
/// define several names at once: h[t], c[t] = ... for t in S
struct Definition {
  Location loc;
  bool output = false;
  Ident name;
  std::vector<Ident> indices;
  std::vector<Ident> extraNames; // h[t], c[t]: c (same indices as the first)
  ExprPtr value;
  std::unique_ptr<RecurrenceClause> recurrence;
};

struct FuncDef {
  Location loc;
  Ident name;
  std::vector<Ident> params;
  std::vector<Definition> body; // local definitions, in order
  ExprPtr result;
  std::vector<ExprPtr> extraResults; // return a, b: b
};

/// decoder(y, s...) init a... { definitions; return s'... }: one step of an
/// autoregressive decoder. `y` is the previous output token, `s...` the
/// states; the body defines `output logits` (and optionally `output
/// attention`) and returns the next states.
struct DecoderDef {
  Location loc;
  Ident token;
  std::vector<Ident> states;
  std::vector<ExprPtr> inits; // one per state
  std::vector<Definition> body;
  std::vector<ExprPtr> next; // one per state
};

/// loss = value: the per-example scalar that training minimises.
struct LossDecl {
  Location loc;
  ExprPtr value;
};

/// One parsed file: a model or a library (a file of functions to import).
struct Module {
  Location loc;
  bool isLibrary = false;
  std::string name;
  std::vector<ImportDecl> imports;
  std::vector<DimDecl> dims;
  std::vector<InputDecl> inputs;
  std::vector<ParamDecl> params;
  std::vector<FuncDef> funcs;
  std::vector<Definition> defs;
  std::vector<DecoderDef> decoders; // at most one in a valid model
  std::vector<LossDecl> losses;     // at most one in a valid model
};

/// Prints the tree with locations (attnc --emit=ast).
std::string dump(const Module &module);

} // namespace attn::ast
