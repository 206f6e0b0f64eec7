//===- Elaborator.cpp - Typing and inlining of expressions ----------------===//
#include "Elaborator.h"

#include <algorithm>
#include <cmath>

namespace attn::sema {

namespace {

/// Deepest recursion of Elaborator::expr (each level is a few stack frames).
constexpr unsigned kMaxElaborationDepth = 2048;
/// Longest chain of operations in a definition's value. MLIRGen and the
/// Halide lowering recurse along such chains, and so does freeing the nodes.
constexpr unsigned kMaxGraphDepth = 4096;

std::vector<const IndexVar *> unionFree(const std::vector<const IndexVar *> &a,
                                        const std::vector<const IndexVar *> &b) {
  std::vector<const IndexVar *> result = a;
  for (const IndexVar *v : b)
    if (std::find(result.begin(), result.end(), v) == result.end())
      result.push_back(v);
  return result;
}

unsigned editDistance(const std::string &a, const std::string &b) {
  std::vector<unsigned> row(b.size() + 1);
  for (unsigned j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (unsigned i = 1; i <= a.size(); ++i) {
    unsigned diag = row[0];
    row[0] = i;
    for (unsigned j = 1; j <= b.size(); ++j) {
      unsigned up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diag + (a[i - 1] == b[j - 1] ? 0u : 1u)});
      diag = up;
    }
  }
  return row[b.size()];
}

const char *const kUnaryBuiltins[] = {"tanh", "sigmoid", "relu", "exp",
                                      "log",  "sqrt",    "rsqrt", "abs"};

bool isUnaryBuiltin(const std::string &name) {
  return std::find(std::begin(kUnaryBuiltins), std::end(kUnaryBuiltins),
                   name) != std::end(kUnaryBuiltins);
}

std::string indexList(const std::vector<const IndexVar *> &vars) {
  std::string s;
  for (size_t i = 0; i < vars.size(); ++i)
    s += (i ? ", " : "") + vars[i]->name;
  return s;
}

} // namespace

Elaborator::Elaborator(Program &program, DiagnosticEngine &diags,
                       const std::map<std::string, Dim> &dims,
                       const std::map<std::string, const ast::FuncDef *> &funcs)
    : program(program), diags(diags), dims(dims), funcs(funcs) {}

void Elaborator::error(Location loc, const std::string &message) {
  diags.error(loc, message);
  for (auto it = callStack.rbegin(); it != callStack.rend(); ++it)
    diags.note(it->second, "in the call of '" + it->first->name.name + "' here");
}

void Elaborator::declareInput(const std::string &name, unsigned index) {
  globals[name] = {GlobalEntry::Input, index};
}
void Elaborator::declareParam(const std::string &name, unsigned index) {
  globals[name] = {GlobalEntry::Param, index};
}
void Elaborator::declareDefinition(const ast::Definition &def) {
  GlobalEntry entry{GlobalEntry::Definition};
  entry.def = &def;
  globals[def.name.name] = entry;
  for (size_t k = 0; k < def.extraNames.size(); ++k) {
    entry.index = static_cast<unsigned>(k + 1);
    globals[def.extraNames[k].name] = entry;
  }
}

NodePtr Elaborator::global(const std::string &name, Location use) {
  auto it = globals.find(name);
  if (it == globals.end())
    return nullptr;
  GlobalEntry &entry = it->second;
  if (entry.state == GlobalEntry::Done)
    return entry.node;
  if (entry.kind == GlobalEntry::Input) {
    const InputInfo &in = program.input(entry.index);
    auto node = std::make_shared<Node>(Node::Input, in.loc);
    node->elem = in.elem;
    node->shape = in.shape;
    node->perExample = true;
    node->argIndex = entry.index;
    node->name = in.name;
    entry.node = node;
  } else if (entry.kind == GlobalEntry::Param) {
    const ParamInfo &p = program.params[entry.index];
    auto node = std::make_shared<Node>(Node::Param, p.loc);
    node->shape = p.shape;
    node->argIndex = entry.index;
    node->name = p.name;
    entry.node = node;
  } else {
    if (entry.state == GlobalEntry::InProgress) {
      std::string cycle;
      auto start = std::find(definitionStack.begin(), definitionStack.end(), name);
      for (auto i = start; i != definitionStack.end(); ++i)
        cycle += *i + " -> ";
      error(use, "cyclic definition: " + cycle + name);
      return nullptr;
    }
    entry.state = GlobalEntry::InProgress;
    definitionStack.push_back(name);
    Scope scope;
    auto saved = std::move(callStack);
    callStack.clear();
    std::vector<NodePtr> values = definitions(*entry.def, scope);
    callStack = std::move(saved);
    definitionStack.pop_back();
    // Every name of the definition gets its value (or the error's null).
    const ast::Definition &def = *entry.def;
    for (size_t k = 0; k <= def.extraNames.size(); ++k) {
      GlobalEntry &e =
          globals[k == 0 ? def.name.name : def.extraNames[k - 1].name];
      e.node = k < values.size() ? values[k] : nullptr;
      e.state = GlobalEntry::Done;
    }
    return entry.node;
  }
  entry.state = GlobalEntry::Done;
  return entry.node;
}

NodePtr Elaborator::definition(const ast::Definition &def, Scope &scope) {
  auto savedIndices = std::move(scope.indices);
  auto savedDeclared = std::move(scope.declaredIndices);
  scope.indices.clear();
  scope.declaredIndices.clear();
  for (const ast::Ident &idx : def.indices)
    scope.declaredIndices.insert(idx.name);
  NodePtr body = expr(*def.value, scope);
  auto localIndices = std::move(scope.indices);
  scope.indices = std::move(savedIndices);
  scope.declaredIndices = std::move(savedDeclared);
  if (!body || !checkGraphDepth(body, def))
    return nullptr;

  std::vector<const IndexVar *> vars;
  for (const ast::Ident &idx : def.indices) {
    auto it = localIndices.find(idx.name);
    if (it == localIndices.end() || !body->hasFree(it->second)) {
      error(idx.loc, "index '" + idx.name +
                         "' on the left-hand side does not appear free on the "
                         "right-hand side");
      return nullptr;
    }
    if (std::find(vars.begin(), vars.end(), it->second) != vars.end()) {
      error(idx.loc, "index '" + idx.name + "' appears twice on the left");
      return nullptr;
    }
    vars.push_back(it->second);
  }
  for (const IndexVar *v : body->free) {
    bool local = false;
    for (auto &[name, var] : localIndices)
      local |= var == v;
    if (local && std::find(vars.begin(), vars.end(), v) == vars.end()) {
      error(def.loc, "index '" + v->name + "' is free on the right-hand side: "
                     "write " + def.name.name + "[" +
                         indexList(unionFree(vars, {v})) +
                         "] or reduce over it (e.g. sum_" + v->name + ")");
      return nullptr;
    }
  }
  if (vars.empty()) {
    if (!def.output && body->kind != Node::Input && body->kind != Node::Param)
      body->name = def.name.name;
    return body;
  }
  auto node = std::make_shared<Node>(Node::Define, def.loc);
  node->elem = body->elem;
  node->perExample = body->perExample;
  node->vars = vars;
  node->name = def.name.name;
  for (const IndexVar *v : body->free)
    if (std::find(vars.begin(), vars.end(), v) == vars.end())
      node->free.push_back(v);
  for (const IndexVar *v : vars)
    node->shape.push_back(v->dim);
  node->shape.insert(node->shape.end(), body->shape.begin(), body->shape.end());
  node->operands.push_back(body);
  return node;
}

/// Every value passes through a definition (global or local), so bounding
/// each definition's depth bounds every node's. Without recursion: the graph
/// may be as deep as the file is long.
bool Elaborator::checkGraphDepth(const NodePtr &value,
                                 const ast::Definition &def) {
  std::vector<std::pair<const Node *, size_t>> stack{{value.get(), 0}};
  while (!stack.empty()) {
    auto [n, next] = stack.back();
    if (graphDepth.count(n)) {
      stack.pop_back();
      continue;
    }
    if (next < n->operands.size()) {
      ++stack.back().second;
      stack.push_back({n->operands[next].get(), 0});
      continue;
    }
    unsigned d = 1;
    for (const NodePtr &operand : n->operands)
      d = std::max(d, graphDepth[operand.get()] + 1);
    graphDepth[n] = d;
    stack.pop_back();
  }
  depthChecked.push_back(value);
  unsigned depth = graphDepth[value.get()];
  if (depth <= kMaxGraphDepth)
    return true;
  error(def.name.loc, "'" + def.name.name + "' is computed through " +
                          std::to_string(depth) +
                          " nested operations, more than the " +
                          std::to_string(kMaxGraphDepth) +
                          " that attnc supports; shorten the chain of "
                          "definitions");
  return false;
}

NodePtr Elaborator::expr(const ast::Expr &e, Scope &scope) {
  // Definitions are elaborated on demand, so a chain of definitions each used
  // above its own definition recurses as deep as the chain: bound it before
  // the stack runs out.
  if (exprDepth >= kMaxElaborationDepth) {
    if (!reportedTooDeep)
      error(e.loc, "'" +
                       (definitionStack.empty() ? std::string("this")
                                                : definitionStack.front()) +
                       "' is computed through more than " +
                       std::to_string(kMaxElaborationDepth) +
                       " nested expressions and definitions; shorten the "
                       "chain of definitions");
    reportedTooDeep = true;
    return nullptr;
  }
  ++exprDepth;
  bool allowTuple = scope.allowTuple;
  scope.allowTuple = false; // only the whole right-hand side may be a tuple
  NodePtr result = exprKind(e, scope);
  scope.allowTuple = allowTuple;
  --exprDepth;
  if (result && result->kind == Node::Tuple && !allowTuple) {
    error(e.loc, "this call returns " + std::to_string(result->operands.size()) +
                     " values; define them together, as in a, b = f(...)");
    return nullptr;
  }
  if (result && result->kind == Node::Constant && !result->shape.empty() &&
      !scope.allowZeros) {
    error(e.loc, "zeros(...) is for initial states, as in `init zeros(H)`");
    return nullptr;
  }
  return result;
}

NodePtr Elaborator::exprKind(const ast::Expr &e, Scope &scope) {
  switch (e.kind) {
  case ast::Expr::Number:
    return makeConstant(e.loc, e.number);
  case ast::Expr::Name:
    return name(e, scope);
  case ast::Expr::Index:
    return index(e, scope);
  case ast::Expr::Call:
    return call(e, scope);
  case ast::Expr::Binary:
    return binary(e, scope);
  case ast::Expr::Negate: {
    NodePtr x = expr(*e.operands[0], scope);
    if (!x || !requireFloat(x, e.loc, "negation"))
      return nullptr;
    return makeUnary(e.loc, "neg", x);
  }
  case ast::Expr::Reduce:
    return reduce(e, scope);
  }
  return nullptr;
}

std::string Elaborator::suggest(const std::string &name, Scope &scope,
                                bool call) const {
  std::string best;
  unsigned bestDistance = name.size() <= 2 ? 1 : 2;
  auto consider = [&](const std::string &candidate) {
    unsigned d = editDistance(name, candidate);
    if (d <= bestDistance && candidate != name) {
      best = candidate;
      bestDistance = d;
    }
  };
  for (auto &[n, _] : scope.locals)
    consider(n);
  for (auto &[n, _] : globals)
    consider(n);
  for (auto &[n, _] : funcs)
    consider(n);
  if (call) {
    for (const char *builtin : kUnaryBuiltins)
      consider(builtin);
    for (const char *builtin : {"leaky_relu", "max", "min", "sum", "mean",
                                "softmax", "concat", "split", "heads", "merge",
                                "len", "zeros", "first", "last",
                                "cross_entropy", "dropout"})
      consider(builtin);
  }
  return best.empty() ? "" : "; did you mean '" + best + "'?";
}

NodePtr Elaborator::name(const ast::Expr &e, Scope &scope) {
  if (scope.recurrence && scope.recurrence->states.count(e.name)) {
    error(e.loc, "'" + e.name + "' is being defined by this recurrence; read "
                 "its previous state as " + e.name + "[" +
                 scope.recurrence->time->name +
                 (scope.recurrence->reverse ? "+1]" : "-1]"));
    return nullptr;
  }
  if (auto it = scope.locals.find(e.name); it != scope.locals.end())
    return it->second;
  if (auto it = dims.find(e.name); it != dims.end()) {
    if (it->second.runtime()) {
      error(e.loc, "'" + e.name + "' is a run-time size; it has no value "
                                  "at compile time");
      return nullptr;
    }
    return makeConstant(e.loc, static_cast<double>(it->second.size));
  }
  if (globals.count(e.name))
    return global(e.name, e.loc);
  if (scope.indices.count(e.name)) {
    error(e.loc, "index '" + e.name + "' can only be used inside brackets, "
                                      "as in x[" + e.name + "]");
    return nullptr;
  }
  if (funcs.count(e.name) || isUnaryBuiltin(e.name)) {
    error(e.loc, "'" + e.name + "' is a function: call it with arguments");
    return nullptr;
  }
  error(e.loc, "unknown name '" + e.name + "'" + suggest(e.name, scope));
  return nullptr;
}

/// Inside brackets, a name is an index unless it names a value (then it is
/// token ids, as in E[src[t]]); declared indices take precedence.
bool Elaborator::isIndexName(const ast::Expr &item, const Scope &scope) const {
  if (item.kind != ast::Expr::Name)
    return false;
  if (scope.declaredIndices.count(item.name) || scope.indices.count(item.name))
    return true;
  return !scope.locals.count(item.name) && !globals.count(item.name) &&
         !dims.count(item.name);
}

NodePtr Elaborator::index(const ast::Expr &e, Scope &scope) {
  if (scope.recurrence && e.operands[0]->kind == ast::Expr::Name &&
      scope.recurrence->states.count(e.operands[0]->name))
    return stateRead(e, scope);
  NodePtr base = expr(*e.operands[0], scope);
  if (!base)
    return nullptr;
  size_t count = e.operands.size() - 1;

  // A single integer-valued item is an embedding lookup: table[ids].
  const ast::Expr &first = *e.operands[1];
  if (!isIndexName(first, scope)) {
    NodePtr ids = expr(first, scope);
    if (!ids)
      return nullptr;
    if (ids->elem != ElemType::I32) {
      error(first.loc, "an index must be an index name (as in x[i]) or token "
                       "ids (as in E[src[t]]); this is a float expression");
      return nullptr;
    }
    if (count != 1) {
      error(e.loc, "an embedding lookup takes exactly one index (the token "
                   "ids)");
      return nullptr;
    }
    if (base->perExample || base->elem != ElemType::F32 || base->shape.empty()) {
      error(e.loc, "token ids can only index an embedding table (a float "
                   "parameter with the vocabulary as its first axis)");
      return nullptr;
    }
    if (!ids->shape.empty()) {
      error(first.loc, "token ids used as an index must be one id per "
                       "position; this has shape " + shapeStr(ids->shape) +
                           ": index it first, as in src[t]");
      return nullptr;
    }
    auto node = std::make_shared<Node>(Node::Gather, e.loc);
    node->free = ids->free;
    node->shape.assign(base->shape.begin() + 1, base->shape.end());
    node->perExample = ids->perExample;
    node->operands = {base, ids};
    return node;
  }

  if (count > base->shape.size()) {
    error(e.loc, "too many indices: " + std::to_string(count) +
                     " given for a value of shape " + shapeStr(base->shape));
    return nullptr;
  }
  auto node = std::make_shared<Node>(Node::Bind, e.loc);
  node->elem = base->elem;
  node->perExample = base->perExample;
  node->free = base->free;
  for (size_t k = 0; k < count; ++k) {
    const ast::Expr &item = *e.operands[k + 1];
    if (!isIndexName(item, scope)) {
      error(item.loc, "indices must all be index names (as in x[i, j]); "
                      "token ids index alone, as in E[src[t]]");
      return nullptr;
    }
    const Dim &dim = base->shape[k];
    const IndexVar *&var = scope.indices[item.name];
    if (!var) {
      program.indexVars.push_back({item.name, dim, item.loc});
      var = &program.indexVars.back();
    } else if (!sameDim(var->dim, dim)) {
      error(item.loc, "index '" + item.name + "' ranges over " + dim.str() +
                          " here but over " + var->dim.str() + " at " +
                          std::to_string(var->loc.line) + ":" +
                          std::to_string(var->loc.col));
      return nullptr;
    }
    if (node->hasFree(var)) {
      error(item.loc, "index '" + item.name + "' is used twice in one value "
                                              "(diagonals are not supported)");
      return nullptr;
    }
    node->free.push_back(var);
    node->vars.push_back(var);
  }
  node->shape.assign(base->shape.begin() + count, base->shape.end());
  node->operands.push_back(base);
  return node;
}

bool Elaborator::requireFloat(const NodePtr &node, Location loc,
                              const char *what) {
  if (node->elem == ElemType::F32)
    return true;
  error(loc, std::string("token ids cannot be used in ") + what +
                 "; use them to index an embedding table, as in E[src[t]]");
  return false;
}

NodePtr Elaborator::makeConstant(Location loc, double value) {
  auto node = std::make_shared<Node>(Node::Constant, loc);
  node->value = value;
  return node;
}

/// Folds fn(c) for a constant c (e.g. sqrt(len(q)) in a score).
static bool foldUnary(const std::string &fn, double x, double alpha,
                      double &out) {
  if (fn == "neg")
    out = -x;
  else if (fn == "sqrt" && x >= 0)
    out = std::sqrt(x);
  else if (fn == "rsqrt" && x > 0)
    out = 1 / std::sqrt(x);
  else if (fn == "exp")
    out = std::exp(x);
  else if (fn == "log" && x > 0)
    out = std::log(x);
  else if (fn == "tanh")
    out = std::tanh(x);
  else if (fn == "sigmoid")
    out = 1 / (1 + std::exp(-x));
  else if (fn == "relu")
    out = x > 0 ? x : 0;
  else if (fn == "leaky_relu")
    out = x > 0 ? x : alpha * x;
  else if (fn == "abs")
    out = std::fabs(x);
  else
    return false;
  return true;
}

NodePtr Elaborator::makeUnary(Location loc, const std::string &fn, NodePtr x,
                              double alpha) {
  double folded;
  if (x->kind == Node::Constant && foldUnary(fn, x->value, alpha, folded))
    return makeConstant(loc, folded);
  auto node = std::make_shared<Node>(Node::Unary, loc);
  node->fn = fn;
  node->alpha = alpha;
  node->free = x->free;
  node->shape = x->shape;
  node->perExample = x->perExample;
  node->operands.push_back(x);
  return node;
}

NodePtr Elaborator::makeBinary(Location loc, char op, NodePtr a, NodePtr b) {
  // Trailing axes broadcast right-aligned, as in numpy: [S, D] + [D].
  const Shape &sa = a->shape, &sb = b->shape;
  const Shape &longer = sa.size() >= sb.size() ? sa : sb;
  size_t offset = longer.size() - std::min(sa.size(), sb.size());
  const Shape &shorter = sa.size() >= sb.size() ? sb : sa;
  for (size_t k = 0; k < shorter.size(); ++k) {
    if (!sameDim(shorter[k], longer[k + offset])) {
      // The two sizes in the order of the operands, as the shapes are.
      bool aLonger = &longer == &sa;
      const Dim &da = aLonger ? longer[k + offset] : shorter[k];
      const Dim &db = aLonger ? shorter[k] : longer[k + offset];
      error(loc, "shapes " + shapeStr(sa) + " and " + shapeStr(sb) +
                     " do not agree: " + da.str() + " vs " + db.str());
      return nullptr;
    }
  }
  if (a->kind == Node::Constant && b->kind == Node::Constant &&
      !(op == '/' && b->value == 0)) {
    double x = a->value, y = b->value;
    double r = op == '+' ? x + y : op == '-' ? x - y : op == '*' ? x * y
             : op == '/' ? x / y : op == 'M' ? std::max(x, y) : std::min(x, y);
    return makeConstant(loc, r);
  }
  auto node = std::make_shared<Node>(Node::Binary, loc);
  node->op = op;
  node->free = unionFree(a->free, b->free);
  node->shape = longer;
  node->perExample = a->perExample || b->perExample;
  node->operands = {a, b};
  return node;
}

NodePtr Elaborator::makeContract(Location loc, NodePtr a, NodePtr b, bool dot) {
  const char *opName = dot ? "'.'" : "'@'";
  if (a->shape.empty() || b->shape.empty()) {
    error(loc, std::string(opName) + " needs operands with at least one axis; "
                                     "got shapes " + shapeStr(a->shape) +
                   " and " + shapeStr(b->shape));
    return nullptr;
  }
  int lhsAxis = static_cast<int>(a->shape.size()) - 1;
  int rhsAxis = dot ? static_cast<int>(b->shape.size()) - 1 : 0;
  if (!sameDim(a->shape[lhsAxis], b->shape[rhsAxis])) {
    error(loc, std::string("cannot contract ") + shapeStr(a->shape) +
                   (dot ? " . " : " @ ") + shapeStr(b->shape) + ": " +
                   a->shape[lhsAxis].str() + " vs " + b->shape[rhsAxis].str());
    return nullptr;
  }
  // concat(p1, p2, ...) contracted over its joined axis is the sum of the
  // parts contracted with slices of the other side: the concatenation is never
  // built, and parts with different indices broadcast as sums do.
  for (int side = 0; side < 2; ++side) {
    const NodePtr &joined = side == 0 ? a : b;
    int joinedAxis = side == 0 ? lhsAxis : rhsAxis;
    if (joined->kind != Node::Concat ||
        joinedAxis != static_cast<int>(joined->shape.size()) - 1)
      continue;
    const NodePtr &other = side == 0 ? b : a;
    int otherAxis = side == 0 ? rhsAxis : lhsAxis;
    NodePtr sum;
    long long offset = 0;
    for (const NodePtr &part : joined->operands) {
      auto slice = std::make_shared<Node>(Node::Slice, loc);
      slice->sliceStart = offset;
      slice->sliceAxis = otherAxis;
      slice->free = other->free;
      slice->shape = other->shape;
      slice->shape[otherAxis] = part->shape.back();
      slice->perExample = other->perExample;
      slice->operands.push_back(other);
      offset += part->shape.back().size;
      NodePtr term = side == 0 ? makeContract(loc, part, slice, dot)
                               : makeContract(loc, slice, part, dot);
      if (!term)
        return nullptr;
      sum = sum ? makeBinary(loc, '+', sum, term) : term;
    }
    return sum;
  }
  auto node = std::make_shared<Node>(Node::Contract, loc);
  node->lhsAxis = lhsAxis;
  node->rhsAxis = rhsAxis;
  node->free = unionFree(a->free, b->free);
  node->shape.assign(a->shape.begin(), a->shape.end() - 1);
  for (int k = 0; k < static_cast<int>(b->shape.size()); ++k)
    if (k != rhsAxis)
      node->shape.push_back(b->shape[k]);
  node->perExample = a->perExample || b->perExample;
  node->operands = {a, b};
  return node;
}

NodePtr Elaborator::binary(const ast::Expr &e, Scope &scope) {
  NodePtr a = expr(*e.operands[0], scope);
  NodePtr b = expr(*e.operands[1], scope);
  if (!a || !b)
    return nullptr;
  std::string what = std::string("'") + e.op + "'";
  if (!requireFloat(a, e.loc, what.c_str()) ||
      !requireFloat(b, e.loc, what.c_str()))
    return nullptr;
  if (e.op == '@' || e.op == '.')
    return makeContract(e.loc, a, b, e.op == '.');
  return makeBinary(e.loc, e.op, a, b);
}

NodePtr Elaborator::makeReduceLast(Location loc, ast::ReduceKind kind,
                                   NodePtr x) {
  if (x->shape.empty()) {
    error(loc, std::string(ast::reduceKindName(kind)) +
                   "(x) reduces the last axis, but x has no axis left; "
                   "to reduce over an index use " +
                   ast::reduceKindName(kind) + "_i");
    return nullptr;
  }
  auto node = std::make_shared<Node>(
      kind == ast::ReduceKind::Softmax ? Node::Softmax : Node::Reduce, loc);
  node->reduce = kind;
  node->free = x->free;
  node->shape = x->shape;
  if (kind != ast::ReduceKind::Softmax)
    node->shape.pop_back();
  node->perExample = x->perExample;
  node->operands.push_back(x);
  return node;
}

NodePtr Elaborator::reduce(const ast::Expr &e, Scope &scope) {
  bool declared = scope.declaredIndices.insert(e.indexVar).second;
  NodePtr body = expr(*e.operands[0], scope);
  if (declared)
    scope.declaredIndices.erase(e.indexVar);
  if (!body || !requireFloat(body, e.loc, "a reduction"))
    return nullptr;
  const char *kind = ast::reduceKindName(e.reduce);
  auto it = scope.indices.find(e.indexVar);
  if (it == scope.indices.end() || !body->hasFree(it->second)) {
    error(e.indexLoc, std::string(kind) + "_" + e.indexVar + " reduces over '" +
                          e.indexVar + "', which the expression does not "
                                       "depend on");
    return nullptr;
  }
  const IndexVar *var = it->second;
  const IndexVar *relVar = nullptr;
  if (e.relation != ast::Relation::None) {
    auto rel = scope.indices.find(e.relationVar);
    if (rel == scope.indices.end() || !body->hasFree(rel->second)) {
      error(e.relationLoc, "the mask compares with '" + e.relationVar +
                               "', which the expression does not depend on");
      return nullptr;
    }
    relVar = rel->second;
    if (relVar == var) {
      error(e.relationLoc, "the mask compares '" + e.indexVar +
                               "' with itself");
      return nullptr;
    }
  }
  auto node = std::make_shared<Node>(
      e.reduce == ast::ReduceKind::Softmax ? Node::Softmax : Node::Reduce,
      e.loc);
  node->reduce = e.reduce;
  node->over = var;
  node->relation = e.relation;
  node->relationVar = relVar;
  node->shape = body->shape;
  node->perExample = body->perExample;
  for (const IndexVar *v : body->free)
    if (v != var || e.reduce == ast::ReduceKind::Softmax)
      node->free.push_back(v);
  node->operands.push_back(body);
  return node;
}

NodePtr Elaborator::call(const ast::Expr &e, Scope &scope) {
  if (auto it = funcs.find(e.name); it != funcs.end())
    return userCall(e, *it->second, scope);
  bool handled = false;
  NodePtr result = builtin(e, scope, handled);
  if (handled)
    return result;
  if (scope.locals.count(e.name) || globals.count(e.name)) {
    error(e.loc, "'" + e.name + "' is a tensor, not a function; index it "
                                "with brackets: " + e.name + "[...]");
    return nullptr;
  }
  error(e.loc,
        "unknown function '" + e.name + "'" + suggest(e.name, scope, true));
  return nullptr;
}

NodePtr Elaborator::userCall(const ast::Expr &e, const ast::FuncDef &func,
                             Scope &scope) {
  if (e.operands.size() != func.params.size()) {
    error(e.loc, "'" + func.name.name + "' takes " +
                     std::to_string(func.params.size()) + " argument" +
                     (func.params.size() == 1 ? "" : "s") + ", " +
                     std::to_string(e.operands.size()) + " given");
    diags.note(func.loc, "'" + func.name.name + "' is defined here");
    return nullptr;
  }
  for (auto &[f, _] : callStack) {
    if (f == &func) {
      error(e.loc, "'" + func.name.name + "' calls itself; recursion is not "
                                          "supported");
      return nullptr;
    }
  }
  if (callStack.size() >= 64) {
    error(e.loc, "function calls nested more than 64 deep");
    return nullptr;
  }
  Scope inner;
  for (size_t i = 0; i < func.params.size(); ++i) {
    NodePtr arg = expr(*e.operands[i], scope);
    if (!arg)
      return nullptr;
    inner.locals[func.params[i].name] = arg;
  }
  callStack.push_back({&func, e.loc});
  NodePtr result;
  bool ok = true;
  for (const ast::Definition &def : func.body) {
    std::vector<ast::Ident> names{def.name};
    names.insert(names.end(), def.extraNames.begin(), def.extraNames.end());
    for (const ast::Ident &n : names)
      if (inner.locals.count(n.name)) {
        error(n.loc, "'" + n.name + "' is already defined in '" +
                         func.name.name + "'");
        ok = false;
      }
    std::vector<NodePtr> values = ok ? definitions(def, inner)
                                     : std::vector<NodePtr>{};
    if (values.size() != names.size()) {
      ok = false;
      break;
    }
    for (size_t k = 0; k < names.size(); ++k)
      inner.locals[names[k].name] = values[k];
  }
  std::vector<const ast::Expr *> returned{func.result.get()};
  for (const ast::ExprPtr &extra : func.extraResults)
    returned.push_back(extra.get());
  std::vector<NodePtr> results;
  for (const ast::Expr *r : returned) {
    if (!ok)
      break;
    inner.indices.clear();
    // `def f(...) = lstm(...)` passes on the values of a call that returns
    // several; the caller decides whether it takes several.
    inner.allowTuple = returned.size() == 1;
    NodePtr value = expr(*r, inner);
    inner.allowTuple = false;
    ok = value != nullptr;
    for (auto &[name, var] : inner.indices) {
      if (ok && value->hasFree(var)) {
        error(r->loc, "index '" + name + "' is free in the returned value");
        ok = false;
      }
    }
    results.push_back(value);
  }
  if (ok && results.size() == 1) {
    result = results[0]; // a Tuple if the returned call gives several values
  } else if (ok) {
    result = std::make_shared<Node>(Node::Tuple, e.loc);
    result->operands = results;
  }
  callStack.pop_back();
  return result;
}

NodePtr Elaborator::builtin(const ast::Expr &e, Scope &scope, bool &handled) {
  handled = true;
  const std::string &fn = e.name;
  size_t argc = e.operands.size();
  auto arity = [&](size_t lo, size_t hi) {
    if (argc >= lo && argc <= hi)
      return true;
    std::string expected = lo == hi ? std::to_string(lo)
                                    : std::to_string(lo) + " or " +
                                          std::to_string(hi);
    error(e.loc, "'" + fn + "' takes " + expected + " argument" +
                     (hi == 1 ? "" : "s") + ", " + std::to_string(argc) +
                     " given");
    return false;
  };
  // Integer arguments (split counts, head counts): literals or dim names.
  auto intArg = [&](size_t i, long long &out) {
    const ast::Expr &a = *e.operands[i];
    if (a.kind == ast::Expr::Number && a.number == std::floor(a.number) &&
        a.number > 0 && a.number < 1e9) {
      out = static_cast<long long>(a.number);
      return true;
    }
    if (a.kind == ast::Expr::Name) {
      auto it = dims.find(a.name);
      if (it != dims.end() && !it->second.runtime()) {
        out = it->second.size;
        return true;
      }
    }
    error(a.loc, "argument " + std::to_string(i + 1) + " of '" + fn +
                     "' must be a positive integer or a compile-time dim");
    return false;
  };
  auto floatOperand = [&](size_t i) -> NodePtr {
    NodePtr x = expr(*e.operands[i], scope);
    if (x && !requireFloat(x, e.operands[i]->loc, fn.c_str()))
      return nullptr;
    return x;
  };

  if (isUnaryBuiltin(fn) || fn == "leaky_relu") {
    if (!arity(1, fn == "leaky_relu" ? 2 : 1))
      return nullptr;
    double alpha = 0.01;
    if (argc == 2) {
      const ast::Expr &a = *e.operands[1];
      bool negative = a.kind == ast::Expr::Negate &&
                      a.operands[0]->kind == ast::Expr::Number;
      if (a.kind != ast::Expr::Number && !negative) {
        error(a.loc, "the slope of leaky_relu must be a number");
        return nullptr;
      }
      alpha = negative ? -a.operands[0]->number : a.number;
    }
    NodePtr x = floatOperand(0);
    return x ? makeUnary(e.loc, fn, x, alpha) : nullptr;
  }
  if (fn == "dropout") {
    // dropout(x, p): x in the training entries with each element zeroed
    // with probability p (the others scaled by 1 / (1 - p)); x elsewhere.
    if (!arity(2, 2))
      return nullptr;
    const ast::Expr &a = *e.operands[1];
    if (a.kind != ast::Expr::Number || !(a.number >= 0 && a.number < 1)) {
      error(a.loc, "the rate of dropout must be a number in [0, 1)");
      return nullptr;
    }
    NodePtr x = floatOperand(0);
    if (!x)
      return nullptr;
    program.hasDropout = true;
    auto node = std::make_shared<Node>(Node::Unary, e.loc);
    node->fn = fn;
    node->alpha = a.number;
    node->free = x->free;
    node->shape = x->shape;
    node->perExample = x->perExample;
    node->operands.push_back(x);
    return node;
  }
  if (fn == "max" || fn == "min" || fn == "sum" || fn == "mean" ||
      fn == "softmax") {
    bool binaryForm = (fn == "max" || fn == "min") && argc == 2;
    if (!binaryForm && !arity(1, (fn == "max" || fn == "min") ? 2 : 1))
      return nullptr;
    if (binaryForm) {
      NodePtr a = floatOperand(0), b = floatOperand(1);
      return a && b ? makeBinary(e.loc, fn == "max" ? 'M' : 'm', a, b)
                    : nullptr;
    }
    NodePtr x = floatOperand(0);
    ast::ReduceKind kind = fn == "sum"    ? ast::ReduceKind::Sum
                           : fn == "mean" ? ast::ReduceKind::Mean
                           : fn == "max"  ? ast::ReduceKind::Max
                           : fn == "min"  ? ast::ReduceKind::Min
                                          : ast::ReduceKind::Softmax;
    return x ? makeReduceLast(e.loc, kind, x) : nullptr;
  }
  if (fn == "concat") {
    if (argc < 2) {
      error(e.loc, "'concat' takes at least 2 arguments, " +
                       std::to_string(argc) + " given");
      return nullptr;
    }
    std::vector<NodePtr> parts;
    for (size_t i = 0; i < argc; ++i) {
      NodePtr x = floatOperand(i);
      if (!x)
        return nullptr;
      parts.push_back(x);
    }
    auto node = std::make_shared<Node>(Node::Concat, e.loc);
    long long total = 0;
    for (size_t i = 0; i < argc; ++i) {
      const NodePtr &x = parts[i];
      std::string where = "argument " + std::to_string(i + 1) + " of concat";
      if (x->shape.empty() || x->shape.back().runtime()) {
        error(e.operands[i]->loc, where + " has shape " + shapeStr(x->shape) +
                                      "; concat joins along a last axis of "
                                      "compile-time size");
        return nullptr;
      }
      const Shape &first = parts[0]->shape;
      bool sameLeading = x->shape.size() == first.size();
      for (size_t k = 0; sameLeading && k + 1 < first.size(); ++k)
        sameLeading = sameDim(x->shape[k], first[k]);
      if (!sameLeading) {
        error(e.operands[i]->loc,
              where + " has shape " + shapeStr(x->shape) +
                  ", argument 1 has shape " + shapeStr(first) +
                  ": all axes but the last must agree");
        return nullptr;
      }
      total += x->shape.back().size;
      node->free = unionFree(node->free, x->free);
      node->perExample |= x->perExample;
    }
    node->shape = parts[0]->shape;
    node->shape.back() = Dim{"", total};
    node->operands = parts;
    return node;
  }
  if (fn == "split") {
    long long parts = 0, which = 0;
    if (!arity(3, 3))
      return nullptr;
    NodePtr x = floatOperand(0);
    if (!x || !intArg(1, parts))
      return nullptr;
    const ast::Expr &k = *e.operands[2];
    if (k.kind != ast::Expr::Number || k.number != std::floor(k.number) ||
        k.number < 0 || k.number >= parts) {
      error(k.loc, "the part of 'split' must be an integer from 0 to " +
                       std::to_string(parts - 1));
      return nullptr;
    }
    which = static_cast<long long>(k.number);
    if (x->shape.empty() || x->shape.back().runtime() ||
        x->shape.back().size % parts != 0) {
      error(e.loc, "split(x, " + std::to_string(parts) +
                       ", ...) needs a last axis of compile-time size "
                       "divisible by " + std::to_string(parts) +
                       "; x has shape " + shapeStr(x->shape));
      return nullptr;
    }
    long long size = x->shape.back().size / parts;
    auto node = std::make_shared<Node>(Node::Slice, e.loc);
    node->sliceStart = which * size;
    node->sliceAxis = static_cast<int>(x->shape.size()) - 1;
    node->free = x->free;
    node->shape = x->shape;
    node->shape.back() = Dim{"", size};
    node->perExample = x->perExample;
    node->operands.push_back(x);
    return node;
  }
  if (fn == "heads" || fn == "merge") {
    if (!arity(fn == "heads" ? 2 : 1, fn == "heads" ? 2 : 1))
      return nullptr;
    NodePtr x = floatOperand(0);
    long long heads = 0;
    if (!x || (fn == "heads" && !intArg(1, heads)))
      return nullptr;
    auto node = std::make_shared<Node>(Node::Reshape, e.loc);
    node->free = x->free;
    node->perExample = x->perExample;
    node->shape = x->shape;
    if (fn == "heads") {
      if (x->shape.empty() || x->shape.back().runtime() ||
          x->shape.back().size % heads != 0) {
        error(e.loc, "heads(x, " + std::to_string(heads) +
                         ") needs a last axis of compile-time size divisible "
                         "by " + std::to_string(heads) + "; x has shape " +
                         shapeStr(x->shape));
        return nullptr;
      }
      long long per = x->shape.back().size / heads;
      const ast::Expr &h = *e.operands[1];
      node->shape.back() = Dim{h.kind == ast::Expr::Name ? h.name : "", heads};
      node->shape.push_back(Dim{"", per});
    } else {
      size_t n = x->shape.size();
      if (n < 2 || x->shape[n - 1].runtime() || x->shape[n - 2].runtime()) {
        error(e.loc, "merge(x) joins the last two axes, which must have "
                     "compile-time sizes; x has shape " + shapeStr(x->shape));
        return nullptr;
      }
      Dim merged{"", x->shape[n - 2].size * x->shape[n - 1].size};
      node->shape.resize(n - 1);
      node->shape.back() = merged;
    }
    node->operands.push_back(x);
    return node;
  }
  if (fn == "zeros") {
    // zeros(H) or zeros(H, K): an initial state (sizes: dims or numbers).
    if (argc == 0) {
      error(e.loc, "'zeros' takes the sizes of the state, as in zeros(H)");
      return nullptr;
    }
    auto node = std::make_shared<Node>(Node::Constant, e.loc);
    for (size_t i = 0; i < argc; ++i) {
      long long size = 0;
      if (!intArg(i, size))
        return nullptr;
      const ast::Expr &a = *e.operands[i];
      node->shape.push_back(Dim{a.kind == ast::Expr::Name ? a.name : "", size});
    }
    return node;
  }
  if (fn == "len") {
    if (!arity(1, 1))
      return nullptr;
    NodePtr x = expr(*e.operands[0], scope);
    if (!x)
      return nullptr;
    if (x->shape.empty() || x->shape.back().runtime()) {
      error(e.loc, "len(x) is the compile-time size of x's last axis; x has "
                   "shape " + shapeStr(x->shape));
      return nullptr;
    }
    return makeConstant(e.loc, static_cast<double>(x->shape.back().size));
  }
  if (fn == "cross_entropy")
    return crossEntropy(e, scope);
  if (fn == "first" || fn == "last") {
    if (!arity(1, 1))
      return nullptr;
    NodePtr x = floatOperand(0);
    if (!x)
      return nullptr;
    if (x->shape.empty() || x->shape[0].size == 0) {
      error(e.loc, fn + "(x) takes a position of x's first axis; x has shape " +
                       shapeStr(x->shape));
      return nullptr;
    }
    if (x->shape[0].runtime() && !x->perExample) {
      error(e.loc, fn + "(x) over the run-time size " + x->shape[0].name +
                       " needs a value computed from an input");
      return nullptr;
    }
    auto node = std::make_shared<Node>(Node::Pick, e.loc);
    node->reverse = fn == "last";
    node->free = x->free;
    node->perExample = x->perExample;
    node->shape.assign(x->shape.begin() + 1, x->shape.end());
    node->operands.push_back(x);
    return node;
  }
  handled = false;
  return nullptr;
}

} // namespace attn::sema
