//===- Loss.cpp - Typing the loss and teacher forcing ---------------------===//
//
//   target tgt : tokens[T]
//   loss = sum_t cross_entropy(logits[t], tgt[t])
//
// The loss is a per-example scalar; training minimises its sum (or mean) over
// the batch. A target is an expected output: only the loss reads it. In a
// model with a decoder, `logits` in the loss is the decoder run over the
// target under teacher forcing: step t reads the teacher token t (BOS, then
// tgt[t-1]) instead of its own prediction. The step becomes an ordinary
// recurrence over T whose states are the decoder's, plus the logits (a state
// that the step never reads), so training shares the recurrence machinery.
//
//===----------------------------------------------------------------------===//
#include "Elaborator.h"

#include <algorithm>
#include <cmath>

namespace attn::sema {
namespace {

/// `n` with the decoder's Token replaced by `token` (which has `t` free):
/// every node that reads the token gains `t` as a free variable. Nodes that
/// do not read it are shared, not copied.
NodePtr replaceToken(const NodePtr &n, const NodePtr &token,
                     const IndexVar *t, std::map<const Node *, NodePtr> &memo) {
  auto it = memo.find(n.get());
  if (it != memo.end())
    return it->second;
  NodePtr result = n;
  if (n->kind == Node::Token) {
    result = token;
  } else {
    std::vector<NodePtr> operands;
    bool changed = false;
    for (const NodePtr &op : n->operands) {
      operands.push_back(replaceToken(op, token, t, memo));
      changed |= operands.back() != op;
    }
    if (changed) {
      result = std::make_shared<Node>(*n);
      result->operands = std::move(operands);
      if (!result->hasFree(t))
        result->free.push_back(t);
    }
  }
  return memo[n.get()] = result;
}

} // namespace

NodePtr Elaborator::crossEntropy(const ast::Expr &e, Scope &scope) {
  size_t argc = e.operands.size();
  if (argc < 2 || argc > 3) {
    error(e.loc, "'cross_entropy' takes 2 or 3 arguments (logits, target "
                 "token, optional label smoothing), " +
                     std::to_string(argc) + " given");
    return nullptr;
  }
  NodePtr logits = expr(*e.operands[0], scope);
  NodePtr ids = logits ? expr(*e.operands[1], scope) : nullptr;
  if (!ids || !requireFloat(logits, e.operands[0]->loc, "cross_entropy"))
    return nullptr;
  if (logits->shape.empty() || logits->shape.back().runtime()) {
    error(e.operands[0]->loc, "the logits of cross_entropy end with the "
                              "classes, a compile-time size; this has shape " +
                                  shapeStr(logits->shape));
    return nullptr;
  }
  bool sameShape = ids->shape.size() + 1 == logits->shape.size();
  for (size_t k = 0; sameShape && k < ids->shape.size(); ++k)
    sameShape = sameDim(ids->shape[k], logits->shape[k]);
  if (ids->elem != ElemType::I32 || !sameShape) {
    error(e.operands[1]->loc,
          "the target of cross_entropy is one token id per row of the logits "
          "(shape " + shapeStr(Shape(logits->shape.begin(), logits->shape.end() - 1)) +
              "); this is " + (ids->elem == ElemType::I32 ? "tokens" : "float") +
              " of shape " + shapeStr(ids->shape));
    return nullptr;
  }
  for (const IndexVar *v : logits->free)
    if (!ids->hasFree(v)) {
      error(e.operands[1]->loc, "the target of cross_entropy does not depend "
                                "on index '" + v->name + "' of the logits: "
                                "index both alike, as in cross_entropy("
                                "logits[t], tgt[t])");
      return nullptr;
    }
  for (const IndexVar *v : ids->free)
    if (!logits->hasFree(v)) {
      error(e.operands[1]->loc, "the target of cross_entropy depends on index '" +
                                    v->name + "', which the logits do not");
      return nullptr;
    }
  if (ids->perExample && !logits->perExample) {
    error(e.operands[0]->loc, "the logits of cross_entropy do not depend on "
                              "any input");
    return nullptr;
  }
  double smoothing = 0;
  if (argc == 3) {
    const ast::Expr &s = *e.operands[2];
    if (s.kind != ast::Expr::Number || !(s.number >= 0 && s.number < 1)) {
      error(s.loc, "label smoothing is a number in [0, 1)");
      return nullptr;
    }
    smoothing = s.number;
  }
  auto node = std::make_shared<Node>(Node::CrossEntropy, e.loc);
  node->free = logits->free;
  node->perExample = logits->perExample;
  node->shape.assign(logits->shape.begin(), logits->shape.end() - 1);
  node->smoothing = smoothing;
  node->operands = {logits, ids};
  return node;
}

NodePtr Elaborator::teacherForcedLogits(unsigned target, Location use) {
  const DecoderInfo &dec = *program.decoder;
  const InputInfo &tgt = program.targets[target];
  program.teacherTokens =
      InputInfo{tgt.name + "_in", ElemType::I32, tgt.shape, tgt.loc};

  // The teacher token of step t: teacher[t].
  program.indexVars.push_back({"t", tgt.shape[0], use});
  const IndexVar *t = &program.indexVars.back();
  auto teacher = std::make_shared<Node>(Node::Input, tgt.loc);
  teacher->elem = ElemType::I32;
  teacher->shape = tgt.shape;
  teacher->perExample = true;
  teacher->argIndex =
      static_cast<unsigned>(program.inputs.size() + program.targets.size());
  teacher->name = program.teacherTokens->name;
  auto token = std::make_shared<Node>(Node::Bind, use);
  token->elem = ElemType::I32;
  token->perExample = true;
  token->free = {t};
  token->vars = {t};
  token->operands = {teacher};

  std::map<const Node *, NodePtr> memo;
  auto node = std::make_shared<Node>(Node::Recurrence, dec.loc);
  node->over = t;
  node->perExample = true;
  size_t states = dec.states.size();
  // operands: inits, step values, state references; the logits are one more
  // state, initially zero and never read by the step.
  node->operands = dec.inits;
  auto zeros = std::make_shared<Node>(Node::Constant, use);
  zeros->shape = dec.logits->shape;
  node->operands.push_back(zeros);
  for (const NodePtr &next : dec.next)
    node->operands.push_back(replaceToken(next, token, t, memo));
  node->operands.push_back(replaceToken(dec.logits, token, t, memo));
  node->operands.insert(node->operands.end(), dec.states.begin(), dec.states.end());
  auto logitsState = std::make_shared<Node>(Node::StateRef, use);
  logitsState->shape = dec.logits->shape;
  logitsState->perExample = true;
  logitsState->argIndex = static_cast<unsigned>(states);
  logitsState->name = "logits";
  node->operands.push_back(logitsState);

  auto result = std::make_shared<Node>(Node::RecurrenceResult, use);
  result->argIndex = static_cast<unsigned>(states);
  result->perExample = true;
  result->shape.push_back(tgt.shape[0]);
  result->shape.insert(result->shape.end(), dec.logits->shape.begin(),
                       dec.logits->shape.end());
  result->name = "logits";
  result->operands.push_back(node);
  return result;
}

void Elaborator::loss(const ast::LossDecl &decl) {
  LossInfo info;
  info.loc = decl.loc;
  Scope scope;
  if (program.decoder) {
    // Teacher forcing needs one token target with a run-time length.
    std::vector<unsigned> candidates;
    for (unsigned i = 0; i < program.targets.size(); ++i) {
      const InputInfo &tgt = program.targets[i];
      if (tgt.elem == ElemType::I32 && tgt.shape.size() == 1 &&
          tgt.shape[0].runtime())
        candidates.push_back(i);
    }
    if (candidates.size() != 1) {
      error(decl.loc, std::string("a model with a decoder trains on one "
                                  "target sequence, as in `target tgt : "
                                  "tokens[T]`; this model has ") +
                          std::to_string(candidates.size()));
      return;
    }
    info.teacher = static_cast<int>(candidates[0]);
    if (program.decoder->logits->shape[0].size < 1)
      return;
    scope.locals["logits"] = teacherForcedLogits(candidates[0], decl.loc);
  }
  NodePtr value = expr(*decl.value, scope);
  if (!value)
    return;
  if (!requireFloat(value, decl.value->loc, "the loss"))
    return;
  if (!value->free.empty() || !value->shape.empty()) {
    error(decl.value->loc,
          "the loss is one number per example; this has shape " +
              shapeStr(value->shape) +
              (value->free.empty() ? std::string()
                                   : " and free index '" + value->free[0]->name +
                                         "' (sum or average it, as in sum_" +
                                         value->free[0]->name + " ...)"));
    return;
  }
  if (!value->perExample) {
    error(decl.value->loc, "the loss does not depend on any input or target");
    return;
  }
  info.value = value;
  program.loss = std::move(info);
}

} // namespace attn::sema
