//===- Decoder.cpp - Typing the decoder step ------------------------------===//
//
//   decoder(y, s) init tanh(first(enc_b) @ Wi) {
//     e[i] = v . tanh(s @ Wa + h[i] @ Ua)
//     a = softmax_i e
//     s' = gru(concat(E[y], sum_i a[i] * h[i]), s, W, U, bi, bh)
//     output logits = s' @ Wo + bo
//     output attention = a
//     return s'
//   }
// The step is elaborated once, like the body of a function whose arguments
// are the previous token `y` (a Token: int32, shape []) and the states (each
// a StateRef typed like its initial state). Its body sees the model's names,
// so the encoder's outputs are read where they are needed; the code generator
// computes every part that reads neither y nor a state once per source batch.
//
//===----------------------------------------------------------------------===//
#include "Elaborator.h"

namespace attn::sema {

void Elaborator::decoder(const ast::DecoderDef &dec) {
  DecoderInfo info;
  info.loc = dec.loc;
  if (dec.inits.size() != dec.states.size()) {
    error(dec.inits.empty() ? dec.loc : dec.inits[0]->loc,
          "the decoder has " + std::to_string(dec.states.size()) + " state(s) "
          "but " + std::to_string(dec.inits.size()) + " initial value(s)");
    return;
  }
  if (dec.states.empty()) {
    error(dec.loc, "a decoder needs a state: decoder(y, s) init zeros(H) {...}");
    return;
  }

  Scope body;
  auto argument = [&](const ast::Ident &name, NodePtr node) {
    if (body.locals.count(name.name)) {
      error(name.loc, "'" + name.name + "' is already an argument of the decoder");
      return false;
    }
    node->name = name.name;
    body.locals[name.name] = node;
    return true;
  };
  info.token = std::make_shared<Node>(Node::Token, dec.token.loc);
  info.token->elem = ElemType::I32;
  info.token->perExample = true;
  if (!argument(dec.token, info.token))
    return;
  for (size_t k = 0; k < dec.states.size(); ++k) {
    Scope initScope;
    NodePtr init = initialState(*dec.inits[k], initScope);
    if (!init)
      return;
    NodePtr state = stateRef(init, k, dec.states[k]);
    if (!argument(dec.states[k], state))
      return;
    info.inits.push_back(init);
    info.states.push_back(state);
  }

  for (const ast::Definition &def : dec.body) {
    if (def.recurrence) {
      error(def.recurrence->loc, "a recurrence cannot be defined inside the "
                                 "decoder step; define it in the model");
      return;
    }
    std::vector<ast::Ident> names{def.name};
    names.insert(names.end(), def.extraNames.begin(), def.extraNames.end());
    for (const ast::Ident &n : names)
      if (body.locals.count(n.name)) {
        error(n.loc, "'" + n.name + "' is already defined in the decoder");
        return;
      }
    std::vector<NodePtr> values = definitions(def, body);
    if (values.size() != names.size())
      return;
    for (size_t k = 0; k < names.size(); ++k)
      body.locals[names[k].name] = values[k];
    if (!def.output)
      continue;
    const NodePtr &value = values[0];
    const std::string &name = def.name.name;
    if (name != "logits" && name != "attention") {
      error(def.name.loc, "a decoder's outputs are 'logits' (the scores of the "
                          "next token) and 'attention'; '" + name +
                              "' is neither");
      return;
    }
    if (!value->free.empty() || value->elem != ElemType::F32 ||
        value->shape.size() != 1) {
      error(def.loc, "the decoder's " + name + " must be a vector (" +
                         (name == "logits" ? "[V], one score per token"
                                           : "[S], one weight per source "
                                             "position") +
                         "); this has shape " + shapeStr(value->shape) +
                         (value->free.empty() ? ""
                                              : " and free index '" +
                                                    value->free[0]->name + "'"));
      return;
    }
    bool runtime = value->shape[0].runtime();
    if (name == "logits" && runtime) {
      error(def.loc, "the decoder's logits must have a compile-time size (the "
                     "vocabulary); this has shape " + shapeStr(value->shape));
      return;
    }
    if (name == "attention" && !runtime) {
      error(def.loc, "the decoder's attention is over a run-time size (the "
                     "source positions); this has shape " +
                         shapeStr(value->shape));
      return;
    }
    (name == "logits" ? info.logits : info.attention) = value;
  }
  if (!info.logits) {
    error(dec.loc, "the decoder defines no logits: add `output logits = ...` "
                   "(the scores of the next token, [V])");
    return;
  }
  if (dec.next.size() != dec.states.size()) {
    error(dec.next.empty() ? dec.loc : dec.next[0]->loc,
          "the decoder returns " + std::to_string(dec.next.size()) +
              " value(s) for " + std::to_string(dec.states.size()) +
              " state(s)");
    return;
  }
  for (size_t k = 0; k < dec.next.size(); ++k) {
    body.indices.clear();
    NodePtr next = expr(*dec.next[k], body);
    if (!next)
      return;
    const Shape &want = info.inits[k]->shape;
    bool same = next->shape.size() == want.size() && next->free.empty() &&
                next->elem == ElemType::F32;
    for (size_t i = 0; same && i < want.size(); ++i)
      same = sameDim(next->shape[i], want[i]);
    if (!same) {
      error(dec.next[k]->loc,
            "the decoder returns the shape " + shapeStr(next->shape) +
                (next->free.empty() ? "" : " with free index '" +
                                               next->free[0]->name + "'") +
                " for state '" + dec.states[k].name +
                "', whose initial value has shape " + shapeStr(want));
      return;
    }
    info.next.push_back(next);
  }
  program.decoder = std::move(info);
}

} // namespace attn::sema
