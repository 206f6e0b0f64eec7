//===- Recurrence.cpp - Typing recurrences --------------------------------===//
//
//   h[t] = tanh(x[t] @ U + h[t-1] @ W + b)            for t in S init zeros(H)
//   h[t], c[t] = lstm(x[t], h[t-1], c[t-1], ...)      for t in S reversed
//                                                      init zeros(H), zeros(H)
// The step is elaborated once, with each h[t-1] (h[t+1] when reversed) a
// StateRef typed like its initial state; every step value must have its
// state's shape. Each defined name becomes a RecurrenceResult: the states of
// all steps, [S, ...]. Over a run-time dim, a row's state stays unchanged past
// its length (the code generator's padding rule).
//
//===----------------------------------------------------------------------===//
#include "Elaborator.h"

#include <algorithm>

namespace attn::sema {

std::vector<NodePtr> Elaborator::definitions(const ast::Definition &def,
                                             Scope &scope) {
  if (def.recurrence)
    return recurrence(def, scope);
  if (!def.extraNames.empty()) {
    // a, b = f(x): the values of a function that returns several.
    if (!def.indices.empty()) {
      error(def.loc, "several names with indices are only defined by a "
                     "recurrence (... for t in S)");
      return {};
    }
    Scope rhs = scope;
    rhs.indices.clear();
    rhs.allowTuple = true;
    NodePtr value = expr(*def.value, rhs);
    if (!value)
      return {};
    size_t count = value->kind == Node::Tuple ? value->operands.size() : 1;
    if (count != def.extraNames.size() + 1) {
      error(def.loc, std::to_string(def.extraNames.size() + 1) +
                         " names are defined from " + std::to_string(count) +
                         " value(s)");
      return {};
    }
    return value->operands;
  }
  NodePtr value = definition(def, scope);
  return value ? std::vector<NodePtr>{value} : std::vector<NodePtr>{};
}

NodePtr Elaborator::initialState(const ast::Expr &e, Scope &scope) {
  scope.allowZeros = true;
  NodePtr init = expr(e, scope);
  if (!init || !requireFloat(init, e.loc, "an initial state"))
    return nullptr;
  if (!init->free.empty()) {
    error(e.loc, "an initial state cannot depend on an index (here '" +
                     init->free[0]->name + "')");
    return nullptr;
  }
  return init;
}

NodePtr Elaborator::stateRef(const NodePtr &init, size_t index,
                             const ast::Ident &name) {
  auto state = std::make_shared<Node>(Node::StateRef, name.loc);
  state->shape = init->shape;
  state->perExample = true;
  state->argIndex = static_cast<unsigned>(index);
  state->name = name.name;
  return state;
}

NodePtr Elaborator::stateRead(const ast::Expr &e, Scope &scope) {
  RecurrenceContext &rec = *scope.recurrence;
  const std::string &name = e.operands[0]->name;
  const char *previous = rec.reverse ? "+" : "-";
  std::string expected = name + "[" + rec.time->name + previous + "1]";
  bool ok = e.operands.size() == 2;
  if (ok) {
    const ast::Expr &item = *e.operands[1];
    ok = item.kind == ast::Expr::Binary && item.op == previous[0] &&
         item.operands[0]->kind == ast::Expr::Name &&
         item.operands[0]->name == rec.time->name &&
         item.operands[1]->kind == ast::Expr::Number &&
         item.operands[1]->number == 1;
  }
  if (!ok) {
    error(e.loc, "inside its recurrence, '" + name +
                     "' can only be read as its previous state, " + expected);
    return nullptr;
  }
  return rec.states.at(name);
}

std::vector<NodePtr> Elaborator::recurrence(const ast::Definition &def,
                                            Scope &scope) {
  const ast::RecurrenceClause &clause = *def.recurrence;
  std::vector<ast::Ident> names{def.name};
  names.insert(names.end(), def.extraNames.begin(), def.extraNames.end());
  if (def.indices.size() != 1 || def.indices[0].name != clause.time.name) {
    error(def.loc, "a recurrence defines " + def.name.name + "[" +
                       clause.time.name + "]: its only index is the time '" +
                       clause.time.name + "'");
    return {};
  }
  auto dimIt = dims.find(clause.dim.name);
  if (dimIt == dims.end()) {
    error(clause.dim.loc, "unknown dim '" + clause.dim.name + "'");
    return {};
  }
  if (clause.inits.size() != names.size()) {
    error(clause.inits.empty() ? clause.loc : clause.inits[0]->loc,
          "the recurrence defines " + std::to_string(names.size()) +
              " state" + (names.size() == 1 ? "" : "s") + " but " +
              std::to_string(clause.inits.size()) +
              " initial value(s) are given: add `init " +
              (names.size() == 1 ? "zeros(H)" : "zeros(H), zeros(H)") +
              "` with the states' shapes");
    return {};
  }

  // Initial states: they fix the states' types.
  RecurrenceContext rec;
  rec.reverse = clause.reverse;
  std::vector<NodePtr> inits;
  for (size_t k = 0; k < names.size(); ++k) {
    Scope initScope = scope;
    initScope.indices.clear();
    initScope.recurrence = nullptr;
    NodePtr init = initialState(*clause.inits[k], initScope);
    if (!init)
      return {};
    rec.states[names[k].name] = stateRef(init, k, names[k]);
    inits.push_back(init);
  }

  // The step, with t ranging over the dim.
  program.indexVars.push_back({clause.time.name, dimIt->second, clause.time.loc});
  rec.time = &program.indexVars.back();
  Scope step = scope;
  step.indices.clear();
  step.declaredIndices.clear();
  step.indices[clause.time.name] = rec.time;
  step.declaredIndices.insert(clause.time.name);
  step.recurrence = &rec;
  step.allowTuple = names.size() > 1;
  NodePtr value = expr(*def.value, step);
  if (!value)
    return {};
  std::vector<NodePtr> values =
      value->kind == Node::Tuple ? value->operands : std::vector<NodePtr>{value};
  if (values.size() != names.size()) {
    error(def.value->loc, "the step gives " + std::to_string(values.size()) +
                              " value(s) for " + std::to_string(names.size()) +
                              " state(s)");
    return {};
  }
  for (size_t k = 0; k < names.size(); ++k) {
    const NodePtr &v = values[k];
    const Shape &want = inits[k]->shape;
    bool same = v->shape.size() == want.size();
    for (size_t i = 0; same && i < want.size(); ++i)
      same = sameDim(v->shape[i], want[i]);
    if (!same || v->elem != ElemType::F32) {
      error(def.value->loc, "the step gives '" + names[k].name +
                                "' the shape " + shapeStr(v->shape) +
                                ", but its initial state has shape " +
                                shapeStr(want));
      return {};
    }
    for (const IndexVar *free : v->free)
      if (free != rec.time) {
        error(def.value->loc, "the step of '" + names[k].name +
                                  "' depends on index '" + free->name +
                                  "', which is not the time index");
        return {};
      }
  }

  auto node = std::make_shared<Node>(Node::Recurrence, def.loc);
  node->over = rec.time;
  node->reverse = clause.reverse;
  node->perExample = true;
  node->operands = inits;
  node->operands.insert(node->operands.end(), values.begin(), values.end());
  for (const ast::Ident &n : names)
    node->operands.push_back(rec.states.at(n.name));
  std::vector<NodePtr> results;
  for (size_t k = 0; k < names.size(); ++k) {
    auto result = std::make_shared<Node>(Node::RecurrenceResult, names[k].loc);
    result->argIndex = static_cast<unsigned>(k);
    result->perExample = true;
    result->shape.push_back(rec.time->dim);
    result->shape.insert(result->shape.end(), inits[k]->shape.begin(),
                         inits[k]->shape.end());
    result->name = names[k].name;
    result->operands.push_back(node);
    results.push_back(result);
  }
  return results;
}

} // namespace attn::sema
