//===- Einsum.cpp - Parsing the einsum-like `spec` ------------------------===//

#include "attn/Dialect/Attn/Einsum.h"

#include "llvm/ADT/Twine.h"

using namespace mlir::attn;

static bool fail(std::string *error, const llvm::Twine &message) {
  if (error)
    *error = message.str();
  return false;
}

/// A term is zero or more distinct lowercase letters.
static bool checkTerm(llvm::StringRef term, llvm::StringRef spec,
                      std::string *error) {
  for (size_t i = 0; i < term.size(); ++i) {
    char c = term[i];
    if (c < 'a' || c > 'z')
      return fail(error, "spec '" + spec + "' has the character '" +
                             llvm::Twine(c) +
                             "'; terms are lowercase letters only");
    if (term.take_front(i).contains(c))
      return fail(error, "spec '" + spec + "' repeats the letter '" +
                             llvm::Twine(c) + "' in the term '" + term + "'");
  }
  return true;
}

llvm::Optional<EinsumSpec> EinsumSpec::parse(llvm::StringRef spec,
                                             std::string *error) {
  size_t arrow = spec.find("->");
  if (arrow == llvm::StringRef::npos ||
      spec.find("->", arrow + 2) != llvm::StringRef::npos) {
    fail(error, "spec '" + spec + "' must have the form 'in,in->out'");
    return llvm::None;
  }
  EinsumSpec parsed;
  llvm::SmallVector<llvm::StringRef, 2> inputs;
  spec.take_front(arrow).split(inputs, ',', /*MaxSplit=*/-1,
                               /*KeepEmpty=*/true);
  for (llvm::StringRef term : inputs) {
    if (!checkTerm(term, spec, error))
      return llvm::None;
    parsed.inputs.push_back(term.str());
  }
  llvm::StringRef result = spec.drop_front(arrow + 2);
  if (!checkTerm(result, spec, error))
    return llvm::None;
  parsed.result = result.str();
  return parsed;
}

std::string EinsumSpec::str() const {
  std::string s;
  for (size_t i = 0; i < inputs.size(); ++i)
    s += (i ? "," : "") + inputs[i];
  return s + "->" + result;
}

std::string EinsumSpec::summedLetters() const {
  std::string summed;
  for (const std::string &term : inputs)
    for (char c : term)
      if (result.find(c) == std::string::npos &&
          summed.find(c) == std::string::npos)
        summed += c;
  return summed;
}
