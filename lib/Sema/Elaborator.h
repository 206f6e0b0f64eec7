//===- Elaborator.h - Typing and inlining of expressions --------*- C++ -*-===//
//
// The Elaborator resolves names, infers index ranges and shapes, inlines
// function calls and builds the typed Node DAG of the model's definitions.
// Errors are reported and yield null nodes, which every caller passes on
// silently, so one mistake produces one message.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "attn/Sema/Program.h"
#include "attn/Support/Diagnostics.h"

#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace attn::sema {

class Elaborator {
public:
  Elaborator(Program &program, DiagnosticEngine &diags,
             const std::map<std::string, Dim> &dims,
             const std::map<std::string, const ast::FuncDef *> &funcs);

  /// Registers the model's global names (inputs, params, definitions).
  void declareInput(const std::string &name, unsigned index);
  void declareParam(const std::string &name, unsigned index);
  void declareDefinition(const ast::Definition &def);

  /// Elaborates a global definition (on demand, detecting cycles).
  NodePtr global(const std::string &name, Location use);

  /// Elaborates the decoder step into program.decoder (Decoder.cpp).
  void decoder(const ast::DecoderDef &dec);
  /// Elaborates `loss = ...` (after the decoder: it may read the decoder's
  /// outputs under teacher forcing) into Program::loss.
  void loss(const ast::LossDecl &decl);

private:
  struct GlobalEntry {
    enum Kind { Input, Param, Definition } kind;
    unsigned index = 0; // input/param index; definition: which of its names
    const ast::Definition *def = nullptr;
    NodePtr node;
    enum State { Todo, InProgress, Done } state = Todo;
  };

  /// The recurrence whose step is being elaborated.
  struct RecurrenceContext {
    const IndexVar *time = nullptr;
    bool reverse = false;
    std::map<std::string, NodePtr> states; // name -> StateRef
  };

  /// Names visible while elaborating one expression.
  struct Scope {
    RecurrenceContext *recurrence = nullptr;
    bool allowTuple = false; // the value may be a Tuple (a, b = f(...))
    bool allowZeros = false; // zeros(...) is allowed (initial states)
    std::map<std::string, NodePtr> locals;         // function params + locals
    std::map<std::string, const IndexVar *> indices; // this definition's
    // Names that are indices here whatever else they name: the left-hand
    // side's indices and the variables of enclosing reductions. Function
    // bodies see the model's names, so a library's `W[d, h, k]` must not
    // become a lookup by a model definition that happens to be named `h`.
    std::set<std::string> declaredIndices;
  };

  Program &program;
  DiagnosticEngine &diags;
  const std::map<std::string, Dim> &dims;
  const std::map<std::string, const ast::FuncDef *> &funcs;
  std::map<std::string, GlobalEntry> globals;
  std::vector<std::string> definitionStack; // for cycle messages
  std::vector<std::pair<const ast::FuncDef *, Location>> callStack;
  unsigned exprDepth = 0; // recursion of expr(), through definitions and calls
  bool reportedTooDeep = false;
  std::unordered_map<const Node *, unsigned> graphDepth; // of checked values
  std::vector<NodePtr> depthChecked; // keeps graphDepth's keys alive

  void error(Location loc, const std::string &message);

  NodePtr definition(const ast::Definition &def, Scope &scope);
  /// The values of every name a definition defines (several: a recurrence).
  std::vector<NodePtr> definitions(const ast::Definition &def, Scope &scope);
  std::vector<NodePtr> recurrence(const ast::Definition &def, Scope &scope);
  /// An initial state (`init` of a recurrence or decoder): a float value
  /// without free indices; zeros(...) allowed. Null after an error.
  NodePtr initialState(const ast::Expr &e, Scope &scope);
  /// The previous value of state `index` named `name`, typed like `init`.
  NodePtr stateRef(const NodePtr &init, size_t index, const ast::Ident &name);
  /// h[t-1] inside the step of the recurrence defining h.
  NodePtr stateRead(const ast::Expr &e, Scope &scope);
  NodePtr expr(const ast::Expr &e, Scope &scope);
  NodePtr exprKind(const ast::Expr &e, Scope &scope);
  NodePtr name(const ast::Expr &e, Scope &scope);
  NodePtr index(const ast::Expr &e, Scope &scope);
  NodePtr binary(const ast::Expr &e, Scope &scope);
  NodePtr reduce(const ast::Expr &e, Scope &scope);
  NodePtr call(const ast::Expr &e, Scope &scope);
  NodePtr builtin(const ast::Expr &e, Scope &scope, bool &handled);
  NodePtr crossEntropy(const ast::Expr &e, Scope &scope); // Loss.cpp
  /// The decoder run over the teacher tokens of `target`: its logits at
  /// every step, [T, V] (Loss.cpp).
  NodePtr teacherForcedLogits(unsigned target, Location use);
  NodePtr userCall(const ast::Expr &e, const ast::FuncDef &func, Scope &scope);

  // Node constructors that compute types.
  NodePtr makeConstant(Location loc, double value);
  NodePtr makeUnary(Location loc, const std::string &fn, NodePtr x,
                    double alpha = 0.01);
  NodePtr makeBinary(Location loc, char op, NodePtr a, NodePtr b);
  NodePtr makeContract(Location loc, NodePtr a, NodePtr b, bool dot);
  NodePtr makeReduceLast(Location loc, ast::ReduceKind kind, NodePtr x);

  bool isIndexName(const ast::Expr &item, const Scope &scope) const;
  bool checkGraphDepth(const NodePtr &value, const ast::Definition &def);
  bool requireFloat(const NodePtr &node, Location loc, const char *what);
  std::string suggest(const std::string &name, Scope &scope,
                      bool call = false) const;
};

} // namespace attn::sema
