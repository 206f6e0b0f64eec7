//===- Program.h - The checked, typed model ---------------------*- C++ -*-===//
//
// Sema turns the syntax trees of a model and its imports into a Program: every
// name resolved, every function call inlined, every expression typed. The
// expressions form a DAG of Nodes (a definition used twice is one node).
//
// Types follow the index notation of the language. A node has
//  - `free`: the index variables it still depends on (e.g. `x[i]` has i free),
//  - `shape`: its remaining trailing axes (x[i] of x : [S, D] has shape [D]),
//  - `perExample`: whether it has the implicit batch axis (it depends on an
//    input). Parameters and constants do not.
// A definition `q[i] = e` turns the free variable i of e into q's leading axis.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "attn/AST/AST.h"

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace attn::sema {

/// One axis size. Compile-time sizes have a value (and usually the name of
/// their `dim`); run-time sizes (sequence lengths) are known by name only.
struct Dim {
  std::string name;  // "D", "S"; empty for an anonymous size like 128
  long long size = -1; // -1: a run-time size
  bool runtime() const { return size < 0; }
  std::string str() const; // "S", "D=64", "128"
};
/// Run-time sizes agree when they have the same name, compile-time sizes when
/// they have the same value (so `dim K = D / H` agrees with a literal 16).
bool sameDim(const Dim &a, const Dim &b);

using Shape = std::vector<Dim>;
std::string shapeStr(const Shape &shape);

enum class ElemType { F32, I32 };

struct IndexVar {
  std::string name;
  Dim dim;
  Location loc; // where its range was determined
};

struct Node;
using NodePtr = std::shared_ptr<Node>;

struct Node {
  enum Kind {
    Constant, // scalar literal, a dim's value, or zeros(D...) (init only)
    Input,    // model input, argIndex into Program::inputs
    Param,    // parameter, argIndex into Program::params
    Bind,     // operand[0][vars...]: its leading axes become free `vars`
    Define,   // turns free `vars` of operand[0] into leading axes
    Binary,   // + - * / max min, broadcast by index and by trailing axes
    Unary,    // fn(operand)
    Contract, // sum over operand0 axis lhsAxis x operand1 axis rhsAxis (@ .)
    Reduce,   // sum/mean/max/min over `over` (null: the last trailing axis)
    Softmax,  // softmax over `over` (null: the last trailing axis)
    Concat,   // along the last trailing axis
    Slice,    // [start, start+size) of trailing axis sliceAxis
    Reshape,  // of the trailing axes (heads / merge)
    Gather,   // operand0 = table [V, ...], operand1 = int ids
    // Recurrences: `h[t], c[t] = f(x[t], h[t-1], c[t-1]) for t in S init a, b`
    StateRef,         // the previous value of state argIndex (h[t-1])
    Recurrence,       // operands: inits (n), step values (n), StateRefs (n)
    RecurrenceResult, // state argIndex of operand 0 over all steps: [S, ...]
    Tuple,            // the values of a function that returns several
    Pick,             // first(x) / last(x) (reverse: last) along trailing axis 0
    Token,            // a decoder's previous output token (int32, shape [])
    CrossEntropy,     // -log softmax(operand0)[operand1] over the last axis
  } kind;
  Location loc;
  ElemType elem = ElemType::F32;
  std::vector<const IndexVar *> free;
  Shape shape;
  bool perExample = false;
  std::vector<NodePtr> operands;

  double value = 0;                   // Constant
  unsigned argIndex = 0;              // Input, Param
  std::string name;                   // Input/Param/Define: a name for output
  std::vector<const IndexVar *> vars; // Bind, Define
  char op = 0;                        // Binary: + - * / and 'M' max, 'm' min
  std::string fn;                     // Unary: tanh, sigmoid, ...
  double alpha = 0.01;                // Unary leaky_relu: slope; dropout: rate
  int lhsAxis = 0, rhsAxis = 0;       // Contract: trailing axes contracted
  ast::ReduceKind reduce = ast::ReduceKind::Sum;
  const IndexVar *over = nullptr;     // Reduce, Softmax
  ast::Relation relation = ast::Relation::None;
  const IndexVar *relationVar = nullptr;
  bool reverse = false;               // Recurrence: t from the end; Pick: last
  long long sliceStart = 0;           // Slice
  int sliceAxis = 0;                  // Slice: a trailing axis
  double smoothing = 0;               // CrossEntropy: label smoothing

  Node(Kind kind, Location loc) : kind(kind), loc(loc) {}
  bool hasFree(const IndexVar *v) const;
};

struct InputInfo {
  std::string name;
  ElemType elem;
  Shape shape; // per example (without the batch)
  Location loc;
};

struct ParamInfo {
  std::string name;
  Shape shape;
  std::string init; // zeros ones constant uniform normal xavier xavier_normal orthogonal
  std::vector<double> initArgs;
  Location loc;
};

struct OutputInfo {
  std::string name;
  NodePtr value; // no free variables, perExample
  Location loc;
};

/// decoder(y, s...) init ... { ... }: one step of an autoregressive decoder.
/// `token` (a Token node) and `states` (StateRef nodes, argIndex k) are the
/// step's arguments; everything else the step reads is the model's.
struct DecoderInfo {
  Location loc;
  NodePtr token;
  std::vector<NodePtr> states, inits, next; // one per state
  NodePtr logits;    // [V]: scores of the next token
  NodePtr attention; // [S] over a run-time dim, or null
};

/// loss = value: a per-example scalar. With a decoder, the loss reads the
/// decoder's outputs under teacher forcing: the step runs over the target
/// `targets[teacher]`, step t reading the teacher token t (BOS, then the
/// target shifted right), an extra token input the runtime builds.
struct LossInfo {
  Location loc;
  NodePtr value;
  int teacher = -1; // index into Program::targets, or -1
};

struct Program {
  std::string name;
  Location loc;
  std::vector<Dim> dims;                // declared, in order
  std::vector<std::string> runtimeDims; // those used by inputs: each has lengths
  std::vector<InputInfo> inputs;
  // Read by the loss only. An Input node's argIndex counts the inputs, then
  // the targets, then the teacher tokens (see input()).
  std::vector<InputInfo> targets;
  std::optional<InputInfo> teacherTokens;
  std::vector<std::string> targetDims; // run-time dims of targets only
  std::optional<LossInfo> loss;
  bool hasDropout = false; // dropout(x, p) somewhere: the loss takes a seed
  std::vector<ParamInfo> params;
  std::vector<OutputInfo> outputs;
  std::optional<DecoderInfo> decoder;
  std::deque<IndexVar> indexVars; // owns every IndexVar referenced by nodes

  /// The input, target or teacher-token input of an Input node.
  const InputInfo &input(unsigned argIndex) const {
    if (argIndex < inputs.size())
      return inputs[argIndex];
    if (argIndex < inputs.size() + targets.size())
      return targets[argIndex - inputs.size()];
    return *teacherTokens;
  }
};

} // namespace attn::sema
