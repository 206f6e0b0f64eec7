//===- Sema.cpp - Semantic checks: .attn syntax trees to Program ----------===//
//
// Order of work: parse the model and (transitively) its imports; collect the
// functions; evaluate the dims (with -D overrides); check inputs and
// parameters; then elaborate every definition (Elaborator) and collect the
// outputs. Each step reports all the errors it finds before the run stops.
//
//===----------------------------------------------------------------------===//
#include "attn/Sema/Sema.h"
#include "attn/Parse/Parser.h"
#include "Elaborator.h"

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <utility>

namespace attn {

using namespace sema;

namespace {

constexpr long long kMaxDimValue = 1ll << 30;

std::string canonicalPath(const std::string &path) {
  std::string result = path;
  if (char *real = realpath(path.c_str(), nullptr)) {
    result = real;
    free(real);
  }
  return result;
}

bool fileExists(const std::string &path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

std::string directoryOf(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

struct InitRule {
  const char *name;
  size_t minArgs, maxArgs;
};
const InitRule kInitRules[] = {
    {"zeros", 0, 0},  {"ones", 0, 0},   {"constant", 1, 1},
    {"uniform", 1, 1}, {"normal", 1, 2}, {"xavier", 0, 0},
    {"xavier_normal", 0, 0}, {"orthogonal", 0, 0}, {"gate_constant", 3, 3},
};

std::string numberStr(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

bool isWhole(double v) { return std::isfinite(v) && v == std::floor(v); }

class ModelChecker {
public:
  ModelChecker(const CompileOptions &options, SourceManager &sources,
               DiagnosticEngine &diags)
      : options(options), sources(sources), diags(diags) {}

  std::optional<Program> run(const std::string &path,
                             std::vector<const SourceFile *> *parsedFiles) {
    loading.insert(canonicalPath(path));
    auto model = load(path, Location{});
    if (parsedFiles)
      *parsedFiles = files;
    if (!model)
      return std::nullopt;
    if (model->isLibrary) {
      diags.error(model->loc, "'" + path + "' is a library, not a model: "
                                           "compile a file that starts with "
                                           "'model'");
      return std::nullopt;
    }
    program.name = model->name;
    program.loc = model->loc;
    collectFunctions(*model);
    checkDims(*model);
    checkInputs(*model);
    checkParams(*model);
    if (diags.hasErrors())
      return std::nullopt;
    elaborate(*model);
    if (diags.hasErrors())
      return std::nullopt;
    return std::move(program);
  }

private:
  const CompileOptions &options;
  SourceManager &sources;
  DiagnosticEngine &diags;
  Program program;
  std::vector<const SourceFile *> files;
  std::vector<std::unique_ptr<ast::Module>> modules; // keeps the ASTs alive
  std::set<std::string> loading;
  std::map<std::string, Dim> dims;
  std::set<std::string> invalidDims; // declared, but their size is an error
  std::map<std::string, const ast::FuncDef *> funcs;
  std::map<std::string, Location> globalNames;

  // ---- Files and imports ----------------------------------------------------

  ast::Module *load(const std::string &path, Location importedFrom) {
    std::string error;
    const SourceFile *file = sources.find(path);
    if (!file)
      file = sources.load(path, error);
    if (!file) {
      diags.error(importedFrom, error);
      return nullptr;
    }
    files.push_back(file);
    auto module = parseModule(*file, diags);
    if (!module)
      return nullptr;
    modules.push_back(std::move(module));
    ast::Module *m = modules.back().get();
    loading.insert(path);
    for (const ast::ImportDecl &imp : m->imports)
      loadImport(imp, path);
    return m;
  }

  void loadImport(const ast::ImportDecl &imp, const std::string &fromPath) {
    std::string name = imp.path;
    if (name.size() < 5 || name.substr(name.size() - 5) != ".attn")
      name += ".attn";
    std::vector<std::string> candidates;
    if (!name.empty() && name[0] == '/')
      candidates.push_back(name);
    else {
      candidates.push_back(directoryOf(fromPath) + "/" + name);
      for (const std::string &dir : options.importPaths)
        candidates.push_back(dir + "/" + name);
    }
    for (std::string candidate : candidates) {
      if (!fileExists(candidate))
        continue;
      if (char *real = realpath(candidate.c_str(), nullptr)) {
        candidate = real;
        free(real);
      }
      if (candidate == canonicalPath(fromPath))
        continue; // `import "x"` inside x.attn means another x.attn
      if (loading.count(candidate))
        return; // already imported (or being imported): import is idempotent
      ast::Module *lib = load(candidate, imp.loc);
      if (lib && !lib->isLibrary)
        diags.error(imp.loc, "'" + candidate + "' is a model; only files that "
                                               "start with 'library' can be "
                                               "imported");
      if (lib && lib->isLibrary && (!lib->dims.empty() || !lib->inputs.empty() ||
                                    !lib->params.empty() || !lib->defs.empty() ||
                                    !lib->decoders.empty() || !lib->losses.empty()))
        diags.error(lib->loc, "a library may only contain imports and "
                              "functions (def)");
      return;
    }
    std::string searched;
    for (const std::string &c : candidates)
      searched += "\n    " + c;
    diags.error(imp.loc, "cannot find import \"" + imp.path +
                             "\"; looked for:" + searched);
  }

  // ---- Names ------------------------------------------------------------------

  bool claimName(const std::string &name, Location loc) {
    auto [it, inserted] = globalNames.emplace(name, loc);
    if (inserted)
      return true;
    // Functions are claimed before everything else: report the later of the
    // two in the file, so that "previous" reads true.
    Location first = it->second, second = loc;
    if (first.file == second.file &&
        (second.line < first.line ||
         (second.line == first.line && second.col < first.col)))
      std::swap(first, second);
    diags.error(second, "'" + name + "' is already defined");
    diags.note(first, "previous definition of '" + name + "' is here");
    return false;
  }

  void collectFunctions(const ast::Module &model) {
    // Library functions first (in import order), then the model's own.
    for (auto &module : modules) {
      if (module.get() == &model)
        continue;
      for (const ast::FuncDef &f : module->funcs)
        addFunction(f);
    }
    for (const ast::FuncDef &f : model.funcs)
      addFunction(f);
  }

  void addFunction(const ast::FuncDef &f) {
    if (!claimName(f.name.name, f.name.loc))
      return;
    std::set<std::string> params;
    for (const ast::Ident &p : f.params)
      if (!params.insert(p.name).second)
        diags.error(p.loc, "parameter '" + p.name + "' appears twice in '" +
                               f.name.name + "'");
    funcs[f.name.name] = &f;
  }

  // ---- Dims -----------------------------------------------------------------

  std::optional<long long> evalDim(const ast::DimExpr &e) {
    switch (e.kind) {
    case ast::DimExpr::Int:
      if (e.value <= 0 || e.value > kMaxDimValue) {
        diags.error(e.loc, "size must be between 1 and " +
                               std::to_string(kMaxDimValue));
        return std::nullopt;
      }
      return e.value;
    case ast::DimExpr::Name: {
      auto it = dims.find(e.name);
      if (it == dims.end()) {
        if (!invalidDims.count(e.name)) // else already reported
          diags.error(e.loc, "unknown dim '" + e.name + "'");
        return std::nullopt;
      }
      if (it->second.runtime()) {
        diags.error(e.loc, "'" + e.name + "' is a run-time size and cannot be "
                                          "used in size arithmetic");
        return std::nullopt;
      }
      return it->second.size;
    }
    case ast::DimExpr::Binary: {
      auto a = evalDim(*e.lhs), b = evalDim(*e.rhs);
      if (!a || !b)
        return std::nullopt;
      long long r = 0;
      switch (e.op) {
      case '+': r = *a + *b; break;
      case '-': r = *a - *b; break;
      case '*': r = *a * *b; break;
      case '/':
        if (*a % *b != 0) {
          diags.error(e.loc, std::to_string(*a) + " / " + std::to_string(*b) +
                                 " is not a whole number");
          return std::nullopt;
        }
        r = *a / *b;
        break;
      }
      if (r <= 0 || r > kMaxDimValue) {
        diags.error(e.loc, "size " + std::to_string(r) +
                               " is out of range (1 to " +
                               std::to_string(kMaxDimValue) + ")");
        return std::nullopt;
      }
      return r;
    }
    }
    return std::nullopt;
  }

  void checkDims(const ast::Module &model) {
    std::map<std::string, long long> overrides;
    for (auto &[name, text] : options.dimOverrides) {
      char *end = nullptr;
      errno = 0;
      long long value = std::strtoll(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || errno != 0 || value <= 0 ||
          value > kMaxDimValue) {
        diags.error(Location{}, "-D " + name + "=" + text +
                                    ": the value must be an integer from 1 "
                                    "to " + std::to_string(kMaxDimValue));
        continue;
      }
      overrides[name] = value;
    }
    for (const ast::DimDecl &d : model.dims) {
      if (!claimName(d.name, d.loc))
        continue;
      Dim dim{d.name, -1};
      if (d.value) {
        auto value = evalDim(*d.value);
        if (!value) {
          invalidDims.insert(d.name);
          continue;
        }
        dim.size = *value;
        if (auto it = overrides.find(d.name); it != overrides.end()) {
          dim.size = it->second;
          overrides.erase(it);
        }
      } else if (overrides.count(d.name)) {
        diags.error(Location{}, "-D " + d.name + ": '" + d.name +
                                    "' is a run-time size; it is given at run "
                                    "time, not with -D");
        overrides.erase(d.name);
      }
      dims[d.name] = dim;
      program.dims.push_back(dim);
    }
    for (auto &[name, value] : overrides)
      diags.error(Location{}, "-D " + name + "=" + std::to_string(value) +
                                  ": model '" + model.name +
                                  "' has no dim named '" + name + "'");
  }

  std::optional<Shape> shape(const std::vector<ast::DimExprPtr> &exprs,
                             bool allowRuntime, const std::string &what) {
    Shape result;
    bool ok = true;
    for (const ast::DimExprPtr &e : exprs) {
      if (e->kind == ast::DimExpr::Name) {
        auto it = dims.find(e->name);
        if (it != dims.end() && it->second.runtime()) {
          if (!allowRuntime) {
            diags.error(e->loc, what + " cannot have the run-time size '" +
                                    e->name + "': its size must be known at "
                                              "compile time");
            ok = false;
          }
          result.push_back(it->second);
          continue;
        }
        if (it != dims.end()) {
          result.push_back(it->second);
          continue;
        }
      }
      auto value = evalDim(*e);
      if (!value) {
        ok = false;
        continue;
      }
      result.push_back(Dim{"", *value});
    }
    return ok ? std::optional<Shape>(result) : std::nullopt;
  }

  // ---- Inputs and parameters -----------------------------------------------

  void checkInputs(const ast::Module &model) {
    for (const ast::InputDecl &in : model.inputs) {
      if (!claimName(in.name, in.loc))
        continue;
      auto s = shape(in.shape, true, in.target ? "a target" : "an input");
      if (!s)
        continue;
      InputInfo info{in.name, in.tokens ? ElemType::I32 : ElemType::F32, *s,
                     in.loc};
      (in.target ? program.targets : program.inputs).push_back(info);
    }
    auto uses = [](const std::vector<InputInfo> &list, const std::string &d) {
      for (const InputInfo &in : list)
        for (const Dim &axis : in.shape)
          if (axis.runtime() && axis.name == d)
            return true;
      return false;
    };
    for (const Dim &d : program.dims) {
      if (!d.runtime())
        continue;
      if (uses(program.inputs, d.name))
        program.runtimeDims.push_back(d.name);
      else if (uses(program.targets, d.name))
        program.targetDims.push_back(d.name);
    }
  }

  void checkParams(const ast::Module &model) {
    for (const ast::ParamDecl &p : model.params) {
      if (!claimName(p.name, p.loc))
        continue;
      auto s = shape(p.shape, false, "a parameter");
      if (!s)
        continue;
      ParamInfo info{p.name, *s, "", p.initArgs, p.loc};
      if (!p.hasInit) {
        info.init = s->size() >= 2 ? "xavier" : "zeros";
      } else {
        const InitRule *rule = nullptr;
        for (const InitRule &r : kInitRules)
          if (p.init == r.name)
            rule = &r;
        if (!rule) {
          diags.error(p.initLoc, "unknown initialiser '" + p.init +
                                     "' (known: zeros, ones, constant(v), "
                                     "uniform(a), normal(std), normal(mean, "
                                     "std), xavier, xavier_normal, orthogonal, "
                                     "gate_constant(n, k, v))");
          continue;
        }
        if (p.initArgs.size() < rule->minArgs ||
            p.initArgs.size() > rule->maxArgs) {
          diags.error(p.initLoc, "'" + p.init + "' takes " +
                                     std::to_string(rule->minArgs) +
                                     (rule->maxArgs != rule->minArgs
                                          ? " or " + std::to_string(rule->maxArgs)
                                          : std::string()) +
                                     " argument(s), " +
                                     std::to_string(p.initArgs.size()) +
                                     " given");
          continue;
        }
        if (p.init == "orthogonal" && s->size() != 2) {
          diags.error(p.initLoc, "'orthogonal' initialises matrices; '" +
                                     p.name + "' has shape " + shapeStr(*s));
          continue;
        }
        if ((p.init == "xavier" || p.init == "xavier_normal") && s->size() < 2) {
          diags.error(p.initLoc, "'" + p.init + "' needs at least 2 axes (fan "
                                                "in and fan out); '" +
                                     p.name + "' has shape " + shapeStr(*s));
          continue;
        }
        if (p.init == "gate_constant" && !checkGateConstant(p, *s))
          continue;
        info.init = p.init;
      }
      program.params.push_back(std::move(info));
    }
  }

  /// gate_constant(n, k, v): the last axis split into n equal slices (gates,
  /// as split(z, n, k)), slice k gets v and the others 0.
  bool checkGateConstant(const ast::ParamDecl &p, const Shape &s) {
    double gates = p.initArgs[0], gate = p.initArgs[1];
    if (!isWhole(gates) || gates < 1) {
      diags.error(p.initLoc, "'gate_constant(n, k, v)' needs a whole number of "
                             "gates n >= 1, not " +
                                 numberStr(gates));
      return false;
    }
    if (!isWhole(gate) || gate < 0 || gate >= gates) {
      diags.error(p.initLoc,
                  "'gate_constant(n, k, v)': gate k = " + numberStr(gate) +
                      " is not one of the " + numberStr(gates) +
                      " gates (0 to " + numberStr(gates - 1) + ")");
      return false;
    }
    if (s.empty()) {
      diags.error(p.initLoc, "'gate_constant' splits the last axis into gates; '" +
                                 p.name + "' is a scalar");
      return false;
    }
    long long last = s.back().size;
    if (gates > static_cast<double>(last) ||
        last % static_cast<long long>(gates) != 0) {
      diags.error(p.initLoc,
                  "'gate_constant' splits the last axis into " + numberStr(gates) +
                      " equal gates, but the last axis of '" + p.name +
                      "' has size " + std::to_string(last) +
                      ", not a multiple of " + numberStr(gates) + " (shape " +
                      shapeStr(s) + ")");
      return false;
    }
    return true;
  }

  // ---- Definitions and outputs ---------------------------------------------

  void elaborate(const ast::Module &model) {
    Elaborator elab(program, diags, dims, funcs);
    for (unsigned i = 0; i < program.inputs.size(); ++i)
      elab.declareInput(program.inputs[i].name, i);
    for (unsigned i = 0; i < program.targets.size(); ++i)
      elab.declareInput(program.targets[i].name,
                        static_cast<unsigned>(program.inputs.size() + i));
    for (unsigned i = 0; i < program.params.size(); ++i)
      elab.declareParam(program.params[i].name, i);
    for (const ast::Definition &def : model.defs) {
      bool claimed = claimName(def.name.name, def.name.loc);
      for (const ast::Ident &extra : def.extraNames)
        claimed &= claimName(extra.name, extra.loc);
      if (claimed)
        elab.declareDefinition(def);
    }
    for (const ast::Definition &def : model.defs) {
      std::vector<ast::Ident> names{def.name};
      names.insert(names.end(), def.extraNames.begin(), def.extraNames.end());
      for (const ast::Ident &n : names) {
        NodePtr value = elab.global(n.name, n.loc);
        if (!value || !def.output)
          continue;
        if (!value->perExample) {
          diags.error(n.loc, "output '" + n.name +
                                 "' does not depend on any input");
          continue;
        }
        program.outputs.push_back({n.name, value, n.loc});
      }
    }
    for (size_t i = 1; i < model.decoders.size(); ++i) {
      diags.error(model.decoders[i].loc, "a model has one decoder");
      diags.note(model.decoders[0].loc, "the first decoder is here");
    }
    if (!model.decoders.empty() && !diags.hasErrors())
      elab.decoder(model.decoders[0]);
    for (size_t i = 1; i < model.losses.size(); ++i) {
      diags.error(model.losses[i].loc, "a model has one loss");
      diags.note(model.losses[0].loc, "the first loss is here");
    }
    if (!model.losses.empty() && !diags.hasErrors())
      elab.loss(model.losses[0]);
    else if (model.losses.empty() && !program.targets.empty())
      diags.error(program.targets[0].loc,
                  "target '" + program.targets[0].name +
                      "' is declared but the model has no loss: add `loss = "
                      "...` (e.g. sum_t cross_entropy(logits[t], " +
                      program.targets[0].name + "[t]))");
    if (!diags.hasErrors() && program.outputs.empty() && !program.decoder)
      diags.error(model.loc, "model '" + model.name +
                                 "' has no output: mark a definition with "
                                 "'output', as in: output y[i] = ..., or "
                                 "define a decoder");
    if (!diags.hasErrors())
      checkReachable();
  }

  /// Over everything the outputs and the loss use: unsupported broadcasts,
  /// targets read by anything but the loss, and unused inputs and
  /// parameters (warnings).
  void checkReachable() {
    std::set<const Node *> seen;
    std::vector<bool> usedInput(program.inputs.size() + program.targets.size() + 1),
        usedParam(program.params.size());
    std::vector<const Node *> stack;
    for (const OutputInfo &o : program.outputs)
      stack.push_back(o.value.get());
    if (const auto &dec = program.decoder) {
      for (const auto *list : {&dec->inits, &dec->next})
        for (const NodePtr &n : *list)
          stack.push_back(n.get());
      stack.push_back(dec->logits.get());
      if (dec->attention)
        stack.push_back(dec->attention.get());
    }
    bool inLoss = false;
    while (true) {
      if (stack.empty()) {
        if (inLoss || !program.loss)
          break;
        inLoss = true; // then what only the loss reads
        stack.push_back(program.loss->value.get());
      }
      const Node *n = stack.back();
      stack.pop_back();
      if (!seen.insert(n).second)
        continue;
      if (n->kind == Node::Input) {
        usedInput[n->argIndex] = true;
        if (!inLoss && n->argIndex >= program.inputs.size()) {
          diags.error(n->loc, "target '" + n->name +
                                  "' is an expected output: only the loss "
                                  "can read it");
          return;
        }
      }
      if (n->kind == Node::Param)
        usedParam[n->argIndex] = true;
      if (n->kind == Node::Concat)
        for (const NodePtr &part : n->operands)
          if (part->free.size() != n->free.size() ||
              part->perExample != n->perExample) {
            diags.error(n->loc, "concat of values with different indices (a "
                                "broadcast) is only supported when the result "
                                "is contracted right away, as in "
                                "concat(q, k[j]) @ W");
            break;
          }
      for (const NodePtr &op : n->operands)
        stack.push_back(op.get());
    }
    for (size_t i = 0; i < program.inputs.size(); ++i)
      if (!usedInput[i])
        diags.warning(program.inputs[i].loc, "input '" + program.inputs[i].name +
                                                 "' is not used by any output");
    for (size_t i = 0; i < program.targets.size(); ++i)
      if (!usedInput[program.inputs.size() + i])
        diags.warning(program.targets[i].loc, "target '" +
                                                  program.targets[i].name +
                                                  "' is not used by the loss");
    for (size_t i = 0; i < usedParam.size(); ++i)
      if (!usedParam[i])
        diags.warning(program.params[i].loc, "parameter '" +
                                                 program.params[i].name +
                                                 "' is not used by any output");
  }
};

} // namespace

std::optional<Program> checkModel(const std::string &path,
                                  const CompileOptions &options,
                                  SourceManager &sources,
                                  DiagnosticEngine &diags,
                                  std::vector<const SourceFile *> *parsedFiles) {
  return ModelChecker(options, sources, diags).run(path, parsedFiles);
}

std::unique_ptr<ast::Module> parseModelFile(const std::string &path,
                                            SourceManager &sources,
                                            DiagnosticEngine &diags) {
  std::string error;
  const SourceFile *file = sources.load(path, error);
  if (!file) {
    diags.error(Location{}, error);
    return nullptr;
  }
  return parseModule(*file, diags);
}

} // namespace attn
