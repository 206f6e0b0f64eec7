//===- HeaderEmitter.cpp - The generated C++ API of a model ---------------===//
//
// The header is the user's view of the model: a class with the parameters by
// their .attn names, save/load, and forward(...) taking the inputs and one
// lengths vector per run-time size. Every argument is checked (dtype, rank,
// every size, lengths in range) before the kernel runs, with messages that
// state the actual and expected sizes (attnrt::ShapeChecker).
//
//===----------------------------------------------------------------------===//
#include "HeaderEmitter.h"
#include "DimNames.h"

#include "attn/Dialect/Attn/AttnOps.h"
#include "attn/MLIRGen/MLIRGen.h"

#include "mlir/IR/BuiltinAttributes.h"

#include <algorithm>
#include <map>
#include <sstream>

namespace attn {
namespace {

struct ValueLess {
  bool operator()(mlir::Value a, mlir::Value b) const {
    return a.getAsOpaquePointer() < b.getAsOpaquePointer();
  }
};

struct ArgInfo {
  std::string role, name;
  std::vector<std::string> dims;
  bool ids = false;
  std::string init;
  std::vector<double> initArgs;
};

std::vector<std::string> dimsOf(mlir::DictionaryAttr attrs) {
  std::vector<std::string> dims;
  if (!attrs)
    return dims;
  if (auto list = attrs.getAs<mlir::ArrayAttr>("attn.dims"))
    for (mlir::Attribute a : list)
      dims.push_back(a.cast<mlir::StringAttr>().getValue().str());
  return dims;
}

std::string str(mlir::DictionaryAttr attrs, const char *key) {
  if (attrs)
    if (auto s = attrs.getAs<mlir::StringAttr>(key))
      return s.getValue().str();
  return "";
}

/// The number of rows of the embedding tables that argument `v` (int32 ids)
/// indexes directly, or 0: the header checks such ids before the call.
int64_t vocabularyIndexedBy(mlir::Value v) {
  int64_t rows = 0;
  auto bound = [&](int64_t size) {
    if (size > 0 && (rows == 0 || size < rows))
      rows = size;
  };
  for (mlir::Operation *user : v.getUsers()) {
    if (auto gather = llvm::dyn_cast<mlir::attn::GatherOp>(user))
      if (gather.getIds() == v) {
        auto table = gather.getTable().getType().cast<mlir::RankedTensorType>();
        if (!table.isDynamicDim(0))
          bound(table.getDimSize(0));
      }
    // Targets of a loss: one of the classes.
    if (auto ce = llvm::dyn_cast<mlir::attn::CrossEntropyOp>(user))
      if (ce.getIds() == v) {
        auto logits = ce.getLogits().getType().cast<mlir::RankedTensorType>();
        bound(logits.getDimSize(logits.getRank() - 1));
      }
    // Through layout ops (MLIRGen transposes ids into the loss's axis order).
    if (llvm::isa<mlir::attn::TransposeOp, mlir::attn::ReshapeOp>(user))
      if (int64_t inner = vocabularyIndexedBy(user->getResult(0)))
        bound(inner);
  }
  return rows;
}

bool isNumber(const std::string &s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

/// {"B", "S", 64}: the DimSpec list of attnrt::ShapeChecker. Compile-time
/// dims are numbers in the type; their names stay in comments.
std::string dimSpecs(const std::vector<std::string> &dims,
                     mlir::RankedTensorType type) {
  std::string s = "{";
  for (size_t i = 0; i < dims.size(); ++i) {
    s += i ? ", " : "";
    if (type.isDynamicDim(i))
      s += "\"" + dims[i] + "\"";
    else
      s += std::to_string(type.getDimSize(i));
  }
  return s + "}";
}

std::string shapeComment(const std::vector<std::string> &dims,
                         mlir::RankedTensorType type) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    s += i ? ", " : "";
    if (type.isDynamicDim(i) || isNumber(dims[i]))
      s += dims[i];
    else
      s += dims[i] + "=" + std::to_string(type.getDimSize(i));
  }
  return s + "]";
}

std::string initExpr(const ArgInfo &p) {
  auto arg = [&](size_t i) {
    std::ostringstream os;
    os.precision(17);
    os << p.initArgs[i];
    return os.str();
  };
  if (p.init == "zeros")
    return "attnrt::Init::zeros()";
  if (p.init == "ones")
    return "attnrt::Init::ones()";
  if (p.init == "constant")
    return "attnrt::Init::constant(" + arg(0) + ")";
  if (p.init == "uniform")
    return "attnrt::Init::uniform(-" + arg(0) + ", " + arg(0) + ")";
  if (p.init == "normal")
    return p.initArgs.size() == 2
               ? "attnrt::Init::normal(" + arg(0) + ", " + arg(1) + ")"
               : "attnrt::Init::normal(0, " + arg(0) + ")";
  if (p.init == "xavier_normal")
    return "attnrt::Init::xavierNormal()";
  if (p.init == "orthogonal")
    return "attnrt::Init::orthogonal()";
  if (p.init == "gate_constant" && p.initArgs.size() == 3) // gates, gate (Sema: whole), value
    return "attnrt::Init::gateConstant(" +
           std::to_string(static_cast<long long>(p.initArgs[0])) + ", " +
           std::to_string(static_cast<long long>(p.initArgs[1])) + ", " + arg(2) + ")";
  return "attnrt::Init::xavierUniform()";
}

/// The entry point of `plans` with attn.entry == `role` (a function without
/// the attribute, as hand-written .mlir has, is the forward), or null.
const ModelPlan *entry(const std::vector<ModelPlan> &plans, llvm::StringRef role) {
  for (const ModelPlan &plan : plans) {
    auto a = plan.func->getAttrOfType<mlir::StringAttr>("attn.entry");
    if ((a ? a.getValue() : llvm::StringRef("forward")) == role)
      return &plan;
  }
  return nullptr;
}

class Emitter {
public:
  Emitter(const std::vector<ModelPlan> &plans, const std::string &model)
      : plans(plans), model(model), forward(entry(plans, "forward")),
        encode(entry(plans, "encode")), step(entry(plans, "step")),
        loss(entry(plans, "loss")), grad(entry(plans, "grad")) {}

  std::string run() {
    os << "// Generated by attnc for model '" << model
       << "'. Do not edit: change the .attn file and recompile.\n"
       << "#pragma once\n\n";
    if (step)
      os << "#include \"attnrt/Decode.h\"\n";
    os << "#include \"attnrt/KernelCall.h\"\n"
       << "#include \"attnrt/ParamStore.h\"\n"
       << "#include \"attnrt/Recurrence.h\"\n"
       << "#include \"attnrt/ShapeCheck.h\"\n";
    if (step)
      os << "#include \"attnrt/StepCall.h\"\n";
    if (grad)
      os << "#include \"attnrt/TrainCall.h\"\n";
    os << "#include \"attnrt/Tensor.h\"\n\n"
       << "#include <cstdint>\n#include <optional>\n#include <string>\n#include <vector>\n\n";
    for (const ModelPlan &plan : plans)
      declareKernels(plan);
    os << "\nnamespace " << model << " {\n\n";
    emitClass();
    os << "} // namespace " << model << "\n";
    return os.str();
  }

private:
  const std::vector<ModelPlan> &plans;
  std::string model;
  const ModelPlan *forward, *encode, *step, *loss, *grad;
  std::ostringstream os;

  static std::string argName(const ArgInfo &a) {
    return a.role == "lengths" ? a.name + "_lengths" : a.name;
  }

  std::vector<ArgInfo> args(mlir::FuncOp f) {
    std::vector<ArgInfo> result;
    for (unsigned i = 0; i < f.getNumArguments(); ++i) {
      mlir::DictionaryAttr attrs = f.getArgAttrDict(i);
      ArgInfo a{str(attrs, "attn.role"), str(attrs, "attn.name"), dimsOf(attrs)};
      a.ids = f.getArgument(i)
                  .getType()
                  .cast<mlir::ShapedType>()
                  .getElementType()
                  .isInteger(32);
      a.init = str(attrs, "attn.init");
      if (attrs)
        if (auto list = attrs.getAs<mlir::ArrayAttr>("attn.init_args"))
          for (mlir::Attribute v : list)
            a.initArgs.push_back(v.cast<mlir::FloatAttr>().getValueAsDouble());
      result.push_back(a);
    }
    return result;
  }

  static mlir::RankedTensorType argType(mlir::FuncOp f, unsigned i) {
    return f.getArgument(i).getType().cast<mlir::RankedTensorType>();
  }
  static mlir::RankedTensorType resultType(mlir::FuncOp f, unsigned i) {
    return f.getType().getResult(i).cast<mlir::RankedTensorType>();
  }

  void declareKernels(const ModelPlan &plan) {
    for (const KernelSpec *k : plan.kernels()) {
      if (k->step) {
        os << "extern \"C\" int " << k->name << "_argv(void **args);\n";
        continue;
      }
      os << "extern \"C\" int " << k->name << "(";
      for (size_t i = 0; i < k->inputs.size(); ++i)
        os << (i ? ", " : "") << "struct halide_buffer_t *"
           << kernelInputName(*k, i);
      for (size_t i = 0; i < k->outputs.size(); ++i)
        os << ", struct halide_buffer_t *" << kernelOutputName(*k, i);
      os << ");\n";
    }
  }

  void emitClass() {
    mlir::FuncOp f = plans.front().func;
    std::vector<ArgInfo> as = args(f);
    os << "/// " << model << " as compiled by attnc.\n"
       << "class Model" << (step ? " : public attnrt::StepModel" : "")
       << " {\npublic:\n"
       << "  /// Declares the parameters and initialises them from `seed` with "
          "the\n  /// initialisers of the .attn file.\n"
       << "  explicit Model(uint64_t seed = 0) {\n";
    for (unsigned i = 0; i < as.size(); ++i) {
      if (as[i].role != "param")
        continue;
      os << "    params_.declare({\"" << as[i].name << "\", attnrt::DType::F32, "
         << dimSpecs(as[i].dims, argType(f, i)) << ", " << initExpr(as[i])
         << "});\n";
    }
    os << "    params_.initialize(seed);\n  }\n\n"
       << "  attnrt::ParamStore &params() { return params_; }\n"
       << "  const attnrt::ParamStore &params() const { return params_; }\n";
    for (unsigned i = 0; i < as.size(); ++i)
      if (as[i].role == "param")
        os << "  /// " << shapeComment(as[i].dims, argType(f, i)) << "\n"
           << "  attnrt::Tensor &" << as[i].name << "() { return params_.get(\""
           << as[i].name << "\"); }\n";
    os << "\n  /// Parameters as safetensors, under their .attn names.\n"
       << "  void save(const std::string &path) const { params_.save(path); }\n"
       << "  void load(const std::string &path) { params_.load(path); }\n\n";
    if (forward)
      emitForward(*forward);
    if (encode && step) {
      emitEncode(*encode);
      emitStep(*step);
    }
    if (loss && grad)
      emitTraining(*loss, *grad);
    os << "private:\n  attnrt::ParamStore params_;\n};\n\n";
  }

  /// `(const attnrt::Tensor &x, const std::vector<int32_t> &S_lengths` ...:
  /// the inputs and lengths of `as`, as parameters or as arguments.
  static std::string inputList(const std::vector<ArgInfo> &as, bool declare) {
    std::string s;
    for (const ArgInfo &a : as) {
      if (a.role != "input" && a.role != "lengths")
        continue;
      s += s.empty() ? "" : ", ";
      if (declare)
        s += a.role == "input" ? "const attnrt::Tensor &"
                               : "const std::vector<int32_t> &";
      s += argName(a);
    }
    return s;
  }

  /// The doc lines of the inputs and lengths.
  void documentInputs(mlir::FuncOp f, const std::vector<ArgInfo> &as) {
    for (unsigned i = 0; i < as.size(); ++i) {
      if (as[i].role == "input")
        os << "  ///   " << as[i].name << ": "
           << (as[i].ids ? "int32 ids " : "float ")
           << shapeComment(as[i].dims, argType(f, i)) << "\n";
      if (as[i].role == "lengths")
        os << "  ///   " << argName(as[i]) << ": B valid lengths, each in [0, "
           << as[i].name << "]\n";
    }
  }

  /// The checks of the inputs and lengths at the start of the entry `fn`.
  void checkInputs(mlir::FuncOp f, const std::vector<ArgInfo> &as,
                   const std::string &fn) {
    os << "    attnrt::ShapeChecker check(\"" << model << "::" << fn << "\");\n";
    for (unsigned i = 0; i < as.size(); ++i)
      if (as[i].role == "input" || as[i].role == "target") {
        os << "    check.tensor(\"" << as[i].role << " '" << as[i].name << "'\", "
           << as[i].name << ", " << dimSpecs(as[i].dims, argType(f, i))
           << ", attnrt::DType::" << (as[i].ids ? "I32" : "F32") << ");\n";
        checkIds(as[i].role + " '" + as[i].name + "'", as[i].name, f.getArgument(i));
      }
    for (const ArgInfo &a : as)
      if (a.role == "lengths")
        os << "    attnrt::Tensor " << argName(a) << "_t = attnrt::lengthsTensor("
           << "check, \"" << a.name << "\", " << argName(a) << ");\n";
  }

  void checkIds(const std::string &what, const std::string &expr, mlir::Value v) {
    if (int64_t rows = vocabularyIndexedBy(v))
      os << "    attnrt::checkTokenIds(\"" << what << "\", " << expr << ", " << rows
         << ");\n";
  }

  void emitForward(const ModelPlan &plan) {
    mlir::FuncOp f = plan.func;
    std::vector<ArgInfo> as = args(f);
    os << "  struct Outputs {\n";
    for (unsigned i = 0; i < f.getNumResults(); ++i) {
      mlir::DictionaryAttr attrs = f.getResultAttrDict(i);
      os << "    attnrt::Tensor " << str(attrs, "attn.name") << "; ///< "
         << shapeComment(dimsOf(attrs), resultType(f, i))
         << " (zero at padded positions)\n";
    }
    os << "  };\n\n"
       << "  /// Runs the model on a padded batch.\n";
    documentInputs(f, as);
    os << "  /// Throws std::invalid_argument naming the sizes that do not "
          "match.\n  Outputs forward(" << inputList(as, true) << ") const {\n";
    checkInputs(f, as, "forward");
    os << "    Outputs out;\n";
    std::vector<std::string> results;
    for (unsigned i = 0; i < f.getNumResults(); ++i) {
      mlir::DictionaryAttr attrs = f.getResultAttrDict(i);
      results.push_back("out." + str(attrs, "attn.name"));
      os << "    " << results.back() << " = "
         << allocation(resultType(f, i), dimsOf(attrs)) << ";\n";
    }
    emitSequence(plan, as, results);
    os << "    return out;\n  }\n\n";
  }

  /// The inputs, targets and lengths of the training entries, then the BOS
  /// id when the decoder is teacher-forced.
  static std::string trainingList(const std::vector<ArgInfo> &as, bool declare) {
    std::string s;
    bool teacher = false;
    for (const ArgInfo &a : as) {
      teacher |= a.role == "teacher";
      if (a.role != "input" && a.role != "target" && a.role != "lengths")
        continue;
      s += s.empty() ? "" : ", ";
      if (declare)
        s += a.role == "lengths" ? "const std::vector<int32_t> &"
                                 : "const attnrt::Tensor &";
      s += argName(a);
    }
    if (teacher)
      s += declare ? ", int32_t bos" : ", bos";
    return s;
  }

  /// The checks of the training entries' arguments, and the teacher tokens.
  void checkTrainingInputs(mlir::FuncOp f, const std::vector<ArgInfo> &as,
                           const std::string &fn) {
    checkInputs(f, as, fn);
    os << "    if (check.value(\"B\") == 0)\n"
       << "      throw std::invalid_argument(\"" << model << "::" << fn
       << ": empty batch (B = 0)\");\n";
    for (unsigned i = 0; i < as.size(); ++i)
      if (as[i].role == "teacher") {
        // Step t of the decoder reads BOS, then the target shifted right.
        const ArgInfo *target = nullptr;
        for (const ArgInfo &a : as)
          if (a.role == "target" && a.name + "_in" == as[i].name)
            target = &a;
        os << "    attnrt::Tensor " << as[i].name << " = attnrt::teacherTokens("
           << (target ? target->name : "?") << ", bos);\n";
        checkIds("the BOS id", as[i].name, f.getArgument(i));
      }
  }

  static bool hasDropout(const std::vector<ArgInfo> &as) {
    return std::any_of(as.begin(), as.end(),
                       [](const ArgInfo &a) { return a.role == "dropout"; });
  }

  /// The dropout kernel argument (on/off, seed) from `dropoutSeed`.
  void dropoutControl(const std::vector<ArgInfo> &as) {
    if (!hasDropout(as)) {
      os << "    (void)dropoutSeed; // the model has no dropout\n";
      return;
    }
    os << "    attnrt::Tensor dropout_ = attnrt::Tensor::fromVector<int32_t>({2}, "
          "{dropoutSeed ? 1 : 0, static_cast<int32_t>(dropoutSeed.value_or(0u))});\n";
  }

  /// loss(...) and gradient(...): the training entries.
  void emitTraining(const ModelPlan &lossPlan, const ModelPlan &gradPlan) {
    mlir::FuncOp f = lossPlan.func;
    std::vector<ArgInfo> as = args(f);
    std::string declared = trainingList(as, true);
    os << "  /// Per-example losses [B] of a padded batch (the `loss` of the "
          ".attn file).\n";
    documentInputs(f, as);
    os << "  /// `dropoutSeed`: with a value, every dropout(x, p) of the model drops\n"
          "  /// elements (the mask follows from the seed: pass e.g. the step\n"
          "  /// number); without, dropout is off (evaluation)."
       << (hasDropout(as) ? "\n" : " This model has none.\n");
    os << "  attnrt::Tensor loss(" << declared
       << ", std::optional<uint32_t> dropoutSeed = std::nullopt) const {\n";
    checkTrainingInputs(f, as, "loss");
    dropoutControl(as);
    os << "    attnrt::Tensor losses = "
       << allocation(resultType(f, 0), dimsOf(f.getResultAttrDict(0))) << ";\n";
    emitSequence(lossPlan, as, {"losses"});
    os << "    return losses;\n  }\n\n";

    // gradient(): the losses, the parameter gradients into `grads` and the
    // float inputs' gradients into `inputGrads` (if given).
    mlir::FuncOp g = gradPlan.func;
    std::vector<ArgInfo> gs = args(g);
    std::vector<std::string> results{"losses"};
    std::vector<std::string> inputGrads;
    os << "  /// Gradients of the float inputs (adversarial examples), by name.\n"
       << "  struct InputGradients {\n";
    for (unsigned i = 1; i < g.getNumResults(); ++i) {
      mlir::DictionaryAttr attrs = g.getResultAttrDict(i);
      std::string name = str(attrs, "attn.name").substr(2);
      bool isParam = false;
      for (const ArgInfo &a : gs)
        isParam |= a.role == "param" && a.name == name;
      if (isParam) {
        results.push_back("grads.get(\"" + name + "\")");
      } else {
        os << "    attnrt::Tensor " << name << "; ///< "
           << shapeComment(dimsOf(attrs), resultType(g, i)) << "\n";
        inputGrads.push_back(name);
        results.push_back("inputs_->" + name);
      }
    }
    os << "  };\n\n"
       << "  /// A zero gradient store: the parameters' names and shapes.\n"
       << "  attnrt::ParamStore gradients() const {\n"
       << "    attnrt::ParamStore grads;\n"
       << "    for (const std::string &name : params_.names())\n"
       << "      grads.declare({name, attnrt::DType::F32, params_.get(name).shape(),"
          " attnrt::Init::zeros()});\n"
       << "    return grads;\n  }\n\n"
       << "  /// One training step's backward pass: returns the per-example "
          "losses [B]\n"
       << "  /// and writes into `grads` (from gradients()) the gradient of\n"
       << "  /// sum_b weights[b] * loss_b (weights: B values, e.g. 1/B for "
          "the mean),\n"
       << "  /// and into `inputGrads` (if given) that of the float inputs.\n"
       << "  /// `dropoutSeed` as for loss().\n"
       << "  attnrt::Tensor gradient(" << declared
       << ", const std::vector<float> &weights, attnrt::ParamStore &grads,"
          " InputGradients *inputGrads = nullptr,\n"
          "                          std::optional<uint32_t> dropoutSeed = std::nullopt)"
          " const {\n";
    checkTrainingInputs(g, gs, "gradient");
    dropoutControl(gs);
    os << "    if (static_cast<int64_t>(weights.size()) != check.value(\"B\"))\n"
       << "      throw std::invalid_argument(\"" << model
       << "::gradient: \" + std::to_string(weights.size()) + \" loss weights "
          "for a batch of \" + std::to_string(check.value(\"B\")));\n"
       << "    attnrt::checkGradientStore(\"" << model
       << "::gradient\", params_, grads);\n"
       << "    attnrt::Tensor d_loss = attnrt::Tensor::fromVector<float>("
          "{check.value(\"B\")}, weights);\n";
    bool anyInputGradient =
        std::any_of(results.begin() + 1, results.end(), [](const std::string &r) {
          return r.rfind("inputs_->", 0) == 0;
        });
    if (anyInputGradient)
      os << "    InputGradients local;\n"
         << "    InputGradients *inputs_ = inputGrads ? inputGrads : &local;\n";
    else
      os << "    (void)inputGrads; // the model has no float inputs\n";
    for (unsigned i = 1, k = 0; i < g.getNumResults(); ++i) {
      if (results[i].rfind("inputs_->", 0) != 0)
        continue;
      mlir::DictionaryAttr attrs = g.getResultAttrDict(i);
      os << "    " << results[i] << " = "
         << allocation(resultType(g, i), dimsOf(attrs)) << ";\n";
      ++k;
    }
    os << "    attnrt::Tensor losses = "
       << allocation(resultType(g, 0), dimsOf(g.getResultAttrDict(0))) << ";\n";
    emitSequence(gradPlan, gs, results);
    os << "    return losses;\n  }\n\n";
  }

  /// The name of the run-time dim of the decoder's attention, or "".
  std::string attentionDim() const {
    mlir::FuncOp f = step->func;
    for (unsigned i = 0; i < f.getNumResults(); ++i)
      if (str(f.getResultAttrDict(i), "attn.name") == "attention")
        return dimsOf(f.getResultAttrDict(i)).at(1);
    return "";
  }

  /// encode(inputs..., lengths...) -> DecoderMemory: values = the memory
  /// tensors, then the lengths of every run-time dim (int32 [B]).
  void emitEncode(const ModelPlan &plan) {
    mlir::FuncOp f = plan.func;
    std::vector<ArgInfo> as = args(f);
    os << "  /// Computes what every decoder step reads (encoder outputs, key\n"
       << "  /// projections, ...) and the initial decoder states, once per "
          "source batch.\n";
    documentInputs(f, as);
    os << "  attnrt::DecoderMemory encode(" << inputList(as, true)
       << ") const {\n";
    checkInputs(f, as, "encode");
    os << "    attnrt::DecoderMemory memory;\n"
       << "    memory.batch = check.value(\"B\");\n";
    std::vector<std::string> results;
    unsigned values = 0;
    for (unsigned i = 0; i < f.getNumResults(); ++i) {
      mlir::DictionaryAttr attrs = f.getResultAttrDict(i);
      bool state = llvm::StringRef(str(attrs, "attn.name")).startswith("init_");
      results.push_back(state ? "memory.states[" +
                                    std::to_string(i - values) + "]"
                              : "memory.values[" + std::to_string(values++) +
                                    "]");
    }
    os << "    memory.values.resize(" << values << ");\n"
       << "    memory.states.resize(" << f.getNumResults() - values << ");\n";
    for (unsigned i = 0; i < f.getNumResults(); ++i)
      os << "    " << results[i] << " = "
         << allocation(resultType(f, i), dimsOf(f.getResultAttrDict(i)))
         << ";\n";
    emitSequence(plan, as, results);
    for (const ArgInfo &a : as)
      if (a.role == "lengths")
        os << "    memory.values.push_back(" << argName(a) << "_t);\n";
    std::string dim = attentionDim();
    if (!dim.empty())
      os << "    memory.sourceLengths = " << dim << "_lengths;\n"
         << "    memory.sourceLength = check.value(\"" << dim << "\");\n";
    os << "    return memory;\n  }\n\n";
  }

  void emitStep(const ModelPlan &plan) {
    mlir::FuncOp f = plan.func;
    std::vector<ArgInfo> as = args(f);
    unsigned memories = 0, states = 0, lengths = 0;
    for (const ArgInfo &a : as) {
      memories += a.role == "memory";
      states += a.role == "state";
      lengths += a.role == "lengths";
    }
    int64_t vocabulary = 0;
    for (unsigned i = 0; i < f.getNumResults(); ++i)
      if (str(f.getResultAttrDict(i), "attn.name") == "logits")
        vocabulary = resultType(f, i).getDimSize(1);
    os << "  int64_t vocabularySize() const override { return " << vocabulary
       << "; }\n\n"
       << "  /// One decoder step for N hypotheses (attnrt::StepModel): rows "
          "[N] their\n  /// sentences in `memory`, tokens [N] the previous "
          "tokens, states:";
    for (unsigned i = 0; i < as.size(); ++i)
      if (as[i].role == "state")
        os << " " << as[i].name << " " << shapeComment(as[i].dims, argType(f, i));
    os << ".\n"
       << "  void step(const attnrt::DecoderMemory &memory, const "
          "attnrt::Tensor &rows,\n            const attnrt::Tensor &tokens, "
          "const std::vector<attnrt::Tensor> &states,\n"
          "            attnrt::StepOutputs &out) const override {\n"
       << "    attnrt::checkMemoryLayout(\"" << model << "\", memory, "
       << memories + lengths << ", " << states << ");\n"
       << "    if (states.size() != " << states << ")\n"
       << "      throw std::invalid_argument(\"" << model << "::step: \" + "
          "std::to_string(states.size()) + \" states given, the decoder has "
       << states << "\");\n"
       << "    attnrt::ShapeChecker check(\"" << model << "::step\");\n";
    exprs.clear();
    unsigned memory = 0, state = 0, length = 0;
    for (unsigned i = 0; i < as.size(); ++i) {
      const ArgInfo &a = as[i];
      mlir::Value v = f.getArgument(i);
      std::string spec = dimSpecs(a.dims, argType(f, i));
      if (a.role == "memory") {
        exprs[v] = "memory.values[" + std::to_string(memory++) + "]";
        os << "    check.tensor(\"decoder memory " << memory - 1 << "\", "
           << exprs[v] << ", " << spec << ", attnrt::DType::F32);\n";
      } else if (a.role == "rows" || a.role == "token") {
        exprs[v] = a.role == "rows" ? "rows" : "tokens";
        os << "    check.tensor(\"" << exprs[v] << "\", " << exprs[v] << ", "
           << spec << ", attnrt::DType::I32);\n";
        if (a.role == "token")
          checkIds("tokens", "tokens", v);
      } else if (a.role == "state") {
        exprs[v] = "states[" + std::to_string(state++) + "]";
        os << "    check.tensor(\"state '" << a.name << "'\", " << exprs[v]
           << ", " << spec << ", attnrt::DType::F32);\n";
      } else if (a.role == "lengths") {
        exprs[v] = a.name + "_rows";
        os << "    attnrt::Tensor " << exprs[v] << " = attnrt::hypothesisLengths(\""
           << model << "\", memory.values[" << memories + length++ << "], rows);\n";
      } else {
        exprs[v] = "params_.get(\"" + a.name + "\")";
      }
    }
    os << "    out.states.resize(" << states << ");\n";
    std::vector<std::string> results;
    for (unsigned i = 0; i < f.getNumResults(); ++i) {
      std::string name = str(f.getResultAttrDict(i), "attn.name");
      results.push_back(i < states ? "out.states[" + std::to_string(i) + "]"
                                   : "out." + name);
      os << "    attnrt::ensureTensor(" << results.back() << ", "
         << dtypeAndSizes(resultType(f, i), dimsOf(f.getResultAttrDict(i)))
         << ");\n";
    }
    for (size_t i = 0; i < plan.output.outputs.size(); ++i)
      exprs[plan.output.outputs[i]] = results[i];
    call(plan.output);
    os << "  }\n\n";

    std::vector<ArgInfo> encodeArgs = args(encode->func);
    os << "  /// Encodes a padded source batch and decodes it (greedy or beam "
          "search,\n  /// as `options` say): result[b] are sentence b's "
          "hypotheses, best first.\n"
       << "  std::vector<std::vector<attnrt::Hypothesis>> decode("
       << inputList(encodeArgs, true)
       << ",\n      const attnrt::DecodeOptions &options = {}) const {\n"
       << "    return attnrt::decode(*this, encode(" << inputList(encodeArgs, false)
       << "), options);\n  }\n\n";
  }

  /// The C++ expression for a value of the function being emitted.
  std::map<mlir::Value, std::string, ValueLess> exprs;

  void bindArguments(mlir::FuncOp func, const std::vector<ArgInfo> &as) {
    for (unsigned i = 0; i < as.size(); ++i) {
      mlir::Value v = func.getArgument(i);
      if (as[i].role == "input" || as[i].role == "target" ||
          as[i].role == "teacher" || as[i].role == "seed")
        exprs[v] = as[i].name;
      else if (as[i].role == "lengths")
        exprs[v] = argName(as[i]) + "_t";
      else if (as[i].role == "dropout")
        exprs[v] = "dropout_";
      else
        exprs[v] = "params_.get(\"" + as[i].name + "\")";
    }
  }

  /// `attnrt::DType::F32, {sizes}` of `type`: static sizes as numbers, the
  /// dynamic ones bound by the ShapeChecker under their dim names.
  static std::string dtypeAndSizes(mlir::RankedTensorType type,
                                   const std::vector<std::string> &names) {
    std::string s = std::string("attnrt::DType::") +
                    (type.getElementType().isInteger(32) ? "I32" : "F32") + ", {";
    for (int64_t k = 0; k < type.getRank(); ++k) {
      s += k ? ", " : "";
      if (!type.isDynamicDim(k))
        s += std::to_string(type.getDimSize(k));
      else
        s += "check.value(\"" +
             (k < static_cast<int64_t>(names.size()) ? names[k] : "?") + "\")";
    }
    return s + "}";
  }

  /// attnrt::Tensor(dtype, {sizes}) of `type` (see dtypeAndSizes).
  static std::string allocation(mlir::RankedTensorType type,
                                const std::vector<std::string> &names) {
    return "attnrt::Tensor(" + dtypeAndSizes(type, names) + ")";
  }

  /// The allocation of an intermediate value, its names from DimNames.
  static std::string allocation(mlir::Value v, const DimNameMap &dims) {
    auto it = dims.find(v);
    return allocation(v.getType().cast<mlir::RankedTensorType>(),
                      it != dims.end() ? it->second : std::vector<std::string>{});
  }

  void call(const KernelSpec &k) {
    os << "    attnrt::callKernel(\"" << k.name << "\", " << k.name;
    for (mlir::Value v : k.inputs)
      os << ",\n        " << exprs.at(v);
    for (mlir::Value v : k.outputs)
      os << ",\n        " << exprs.at(v);
    os << ");\n";
  }

  /// The kernels of forward() in order, with the time loop of each
  /// recurrence and the tensors passed between kernels.
  void emitSequence(const ModelPlan &plan, const std::vector<ArgInfo> &as,
                    const std::vector<std::string> &results) {
    mlir::FuncOp func = plan.func;
    DimNameMap dims = inferDimNames(func);
    exprs.clear();
    bindArguments(func, as);
    for (size_t i = 0; i < plan.output.outputs.size(); ++i)
      exprs[plan.output.outputs[i]] = results[i];
    for (size_t i = 0; i < plan.recurrences.size(); ++i) {
      const RecurrencePlan &r = plan.recurrences[i];
      mlir::attn::RecurrenceOp op = r.op;
      std::string id = "r" + std::to_string(i);
      os << "    // recurrence " << i << "\n";
      for (size_t k = 0; k < r.feed.outputs.size(); ++k) {
        std::string name = id + "_in" + std::to_string(k);
        os << "    attnrt::Tensor " << name << " = "
           << allocation(r.feed.outputs[k], dims) << ";\n";
        exprs[r.feed.outputs[k]] = name;
      }
      if (!r.feed.outputs.empty())
        call(r.feed);
      os << "    attnrt::RecurrenceArgs " << id << ";\n";
      for (size_t k = 0; k < op->getNumResults(); ++k) {
        // A recurrence result that the function returns as it is (e.g. a
        // decoder's memory) is written straight into the returned tensor.
        std::string name;
        auto returned = exprs.find(op->getResult(k));
        if (returned != exprs.end()) {
          name = returned->second;
        } else {
          name = id + "_state" + std::to_string(k);
          os << "    attnrt::Tensor " << name << " = "
             << allocation(op->getResult(k), dims) << ";\n";
          exprs[op->getResult(k)] = name;
        }
        os << "    " << id << ".results.push_back(&" << name << ");\n";
      }
      auto list = [&](const char *field, auto values) {
        for (mlir::Value v : values)
          os << "    " << id << "." << field << ".push_back(&" << exprs.at(v)
             << ");\n";
      };
      list("sequences", op.getSequences());
      list("inits", op.getInits());
      list("captured", r.captured);
      if (op.getLengths()) {
        os << "    " << id << ".lengths = &" << exprs.at(op.getLengths())
           << ";\n";
      } else {
        int64_t axis = op.getAxis();
        os << "    attnrt::Tensor " << id
           << "_full = attnrt::Tensor::fromVector<int32_t>({check.value(\"B\")}, "
              "std::vector<int32_t>(check.value(\"B\"), static_cast<int32_t>("
           << id << "_state0.dim(" << axis << "))));\n"
           << "    " << id << ".lengths = &" << id << "_full;\n";
      }
      os << "    " << id << ".timeAxis = " << op.getAxis() << ";\n"
         << "    " << id << ".reverse = " << (op.getReverse() ? "true" : "false")
         << ";\n"
         << "    attnrt::runRecurrenceKernel(\"" << r.step.name << "\", "
         << r.step.name << "_argv, " << id << ");\n";
    }
    call(plan.output);
  }
};

} // namespace

std::string emitHeader(const std::vector<ModelPlan> &plans,
                       const std::string &model) {
  return Emitter(plans, model).run();
}

} // namespace attn
