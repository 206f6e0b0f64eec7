//===- MLIRGen.cpp - Typed program to the attn dialect --------------------===//
//
// Every Node becomes one MLIR value in its *canonical layout*: the batch axis
// (if the node depends on an input), then the node's free index variables in
// order, then its trailing axes. Index notation maps onto einsum-like `spec`
// strings: each axis of an op gets a letter, and axes that are the same index
// variable (or the same broadcast trailing axis) share it. Binding an index
// (`x[i]`) only renames axes and emits nothing; a definition that reorders
// indices emits an attn.transpose.
//
//===----------------------------------------------------------------------===//
#include "attn/MLIRGen/MLIRGen.h"

#include "attn/Dialect/Attn/AttnDialect.h"
#include "attn/Dialect/Attn/AttnOps.h"

#include "mlir/Dialect/StandardOps/IR/Ops.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

#include <map>
#include <set>

namespace attn {
namespace {

using sema::Dim;
using sema::IndexVar;
using sema::Node;
using sema::NodePtr;
using sema::Program;

/// One axis of a value in canonical layout.
struct Axis {
  enum Kind { Batch, Var, Trail } kind;
  const IndexVar *var = nullptr;
  int trail = 0;
  bool operator==(const Axis &o) const {
    return kind == o.kind && var == o.var && trail == o.trail;
  }
};

/// The canonical axes of `n`; inside a recurrence step the time index is not
/// an axis (`skip`): a step sees one time step.
std::vector<Axis> canonicalAxesSkipping(const Node &n, const IndexVar *skip) {
  std::vector<Axis> axes;
  if (n.perExample)
    axes.push_back({Axis::Batch});
  for (const IndexVar *v : n.free)
    if (v != skip)
      axes.push_back({Axis::Var, v});
  for (int k = 0; k < static_cast<int>(n.shape.size()); ++k)
    axes.push_back({Axis::Trail, nullptr, k});
  return axes;
}

/// Assigns letters to axes for one op's spec.
class Letters {
public:
  char of(const Axis &axis) {
    for (size_t i = 0; i < axes.size(); ++i)
      if (axes[i] == axis)
        return static_cast<char>('a' + i);
    axes.push_back(axis);
    return static_cast<char>('a' + axes.size() - 1);
  }
  char fresh() {
    axes.push_back({Axis::Trail, nullptr, -1 - static_cast<int>(axes.size())});
    return static_cast<char>('a' + axes.size() - 1);
  }
  std::string term(const std::vector<Axis> &list) {
    std::string s;
    for (const Axis &a : list)
      s += of(a);
    return s;
  }

private:
  std::vector<Axis> axes;
};

class Generator {
public:
  Generator(mlir::MLIRContext &context, const Program &program)
      : context(context), program(program), builder(&context) {}

  mlir::OwningOpRef<mlir::ModuleOp> run() {
    mlir::OwningOpRef<mlir::ModuleOp> module =
        mlir::ModuleOp::create(loc(program.loc));
    module->getOperation()->setAttr("attn.model", builder.getStringAttr(program.name));
    if (!program.outputs.empty())
      createFunction(*module);
    if (program.decoder)
      createDecoderFunctions(*module, *program.decoder);
    if (program.loss)
      createLossFunction(*module, *program.loss);
    return module;
  }

private:
  mlir::MLIRContext &context;
  const Program &program;
  mlir::OpBuilder builder;
  std::map<const Node *, mlir::Value> values;
  const IndexVar *insideTime = nullptr; // set while emitting a step
  std::map<const Node *, mlir::Operation *> recurrences;
  std::vector<mlir::Value> inputArgs, paramArgs;
  std::map<std::string, mlir::Value> lengthsArgs;
  mlir::Value dropoutControl; // the loss function's dropout argument, if any
  std::map<const Node *, int64_t> dropoutSalts; // one per dropout(x, p)

  mlir::Location loc(const Location &l) {
    if (!l.valid())
      return builder.getUnknownLoc();
    return mlir::FileLineColLoc::get(&context, l.file->path, l.line, l.col);
  }

  static int64_t mlirSize(const Dim &d) {
    return d.runtime() ? mlir::ShapedType::kDynamicSize : d.size;
  }

  static std::string dimName(const Dim &d) {
    return d.name.empty() ? std::to_string(d.size) : d.name;
  }

  /// The type of `n`'s value laid out as `axes` (the batch, if any, first).
  mlir::RankedTensorType tensorType(const std::vector<Axis> &axes,
                                    const Node &n) {
    sema::Shape shape;
    for (const Axis &a : axes)
      if (a.kind == Axis::Var)
        shape.push_back(a.var->dim);
      else if (a.kind == Axis::Trail)
        shape.push_back(n.shape[a.trail]);
    bool batch = !axes.empty() && axes.front().kind == Axis::Batch;
    return argType(batch, shape, n.elem);
  }

  mlir::ArrayAttr dimsAttr(bool batch, const sema::Shape &shape) {
    llvm::SmallVector<mlir::Attribute, 6> names;
    if (batch)
      names.push_back(builder.getStringAttr(kBatchDimName));
    for (const Dim &d : shape)
      names.push_back(builder.getStringAttr(dimName(d)));
    return builder.getArrayAttr(names);
  }

  mlir::RankedTensorType argType(bool batch, const sema::Shape &shape,
                                 sema::ElemType elem) {
    llvm::SmallVector<int64_t, 6> sizes;
    if (batch)
      sizes.push_back(mlir::ShapedType::kDynamicSize);
    for (const Dim &d : shape)
      sizes.push_back(mlirSize(d));
    return mlir::RankedTensorType::get(
        sizes, elem == sema::ElemType::I32 ? mlir::Type(builder.getI32Type())
                                           : mlir::Type(builder.getF32Type()));
  }

  /// The arguments and results of an entry function being built.
  struct Signature {
    llvm::SmallVector<mlir::Type, 16> argTypes, resultTypes;
    llvm::SmallVector<mlir::NamedAttrList, 16> argAttrs, resultAttrs;

    void arg(mlir::Type type, mlir::NamedAttrList attrs) {
      argTypes.push_back(type);
      argAttrs.push_back(std::move(attrs));
    }
    void result(mlir::Type type, mlir::NamedAttrList attrs) {
      resultTypes.push_back(type);
      resultAttrs.push_back(std::move(attrs));
    }
  };

  mlir::NamedAttrList named(const char *role, const std::string &name,
                            mlir::ArrayAttr dims) {
    mlir::NamedAttrList attrs;
    if (role)
      attrs.append("attn.role", builder.getStringAttr(role));
    attrs.append("attn.name", builder.getStringAttr(name));
    attrs.append("attn.dims", dims);
    return attrs;
  }

  void inputArguments(Signature &sig) {
    for (const sema::InputInfo &in : program.inputs)
      sig.arg(argType(true, in.shape, in.elem),
              named("input", in.name, dimsAttr(true, in.shape)));
    lengthsArguments(sig);
  }

  void lengthsArguments(Signature &sig) {
    for (const std::string &d : program.runtimeDims)
      sig.arg(mlir::attn::getLengthsType(&context),
              named("lengths", d, dimsAttr(true, {})));
  }

  void paramArguments(Signature &sig) {
    for (const sema::ParamInfo &p : program.params) {
      mlir::NamedAttrList attrs = named("param", p.name, dimsAttr(false, p.shape));
      attrs.append("attn.init", builder.getStringAttr(p.init));
      attrs.append("attn.init_args", builder.getF64ArrayAttr(p.initArgs));
      sig.arg(argType(false, p.shape, sema::ElemType::F32), attrs);
    }
  }

  /// Creates `name` in `module` with an entry block, the insertion point in
  /// it and the per-function maps cleared. `entry` is its role for codegen.
  mlir::Block *beginFunction(mlir::ModuleOp module, const std::string &name,
                             const char *entry, const Signature &sig) {
    auto func = mlir::FuncOp::create(
        loc(program.loc), name,
        builder.getFunctionType(sig.argTypes, sig.resultTypes));
    func->setAttr("attn.entry", builder.getStringAttr(entry));
    for (unsigned i = 0; i < sig.argAttrs.size(); ++i)
      func.setArgAttrs(i, sig.argAttrs[i].getAttrs());
    for (unsigned i = 0; i < sig.resultAttrs.size(); ++i)
      func.setResultAttrs(i, sig.resultAttrs[i].getAttrs());
    module.push_back(func);
    values.clear();
    recurrences.clear();
    inputArgs.clear();
    paramArgs.clear();
    lengthsArgs.clear();
    mlir::Block *block = func.addEntryBlock();
    builder.setInsertionPointToStart(block);
    return block;
  }

  /// Binds the block arguments from `arg` on: inputs and lengths (if
  /// `inputs`), then the parameters.
  void bindArguments(mlir::Block *block, unsigned arg, bool inputs) {
    if (inputs)
      for (size_t i = 0; i < program.inputs.size(); ++i)
        inputArgs.push_back(block->getArgument(arg++));
    for (const std::string &d : program.runtimeDims)
      lengthsArgs[d] = block->getArgument(arg++);
    for (size_t i = 0; i < program.params.size(); ++i)
      paramArgs.push_back(block->getArgument(arg++));
  }

  /// Zeroes the padded positions (run-time trailing axes) of an output.
  mlir::Value maskPadding(mlir::Value v, const Node &n, mlir::Location l) {
    for (size_t k = 0; k < n.shape.size(); ++k)
      if (n.shape[k].runtime())
        v = builder.create<mlir::attn::MaskOp>(l, v, lengthsArgs.at(n.shape[k].name),
                                               k + 1);
    return v;
  }

  void createFunction(mlir::ModuleOp module) {
    Signature sig;
    inputArguments(sig);
    paramArguments(sig);
    for (const sema::OutputInfo &o : program.outputs)
      sig.result(argType(true, o.value->shape, sema::ElemType::F32),
                 named(nullptr, o.name, dimsAttr(true, o.value->shape)));
    mlir::Block *entry =
        beginFunction(module, program.name + "_forward", "forward", sig);
    bindArguments(entry, 0, true);
    llvm::SmallVector<mlir::Value, 4> results;
    // Padded positions of outputs are zero, whatever the model computed.
    for (const sema::OutputInfo &o : program.outputs)
      results.push_back(maskPadding(emit(*o.value), *o.value, loc(o.loc)));
    builder.create<mlir::ReturnOp>(loc(program.loc), results);
  }

  /// <model>_loss(inputs, targets, teacher tokens?, lengths, params) -> loss
  /// [B], one value per example. The differentiate pass derives the training
  /// entry <model>_grad from it.
  void createLossFunction(mlir::ModuleOp module, const sema::LossInfo &loss) {
    Signature sig;
    for (const sema::InputInfo &in : program.inputs)
      sig.arg(argType(true, in.shape, in.elem),
              named("input", in.name, dimsAttr(true, in.shape)));
    for (const sema::InputInfo &in : program.targets)
      sig.arg(argType(true, in.shape, in.elem),
              named("target", in.name, dimsAttr(true, in.shape)));
    if (const auto &in = program.teacherTokens)
      sig.arg(argType(true, in->shape, in->elem),
              named("teacher", in->name, dimsAttr(true, in->shape)));
    lengthsArguments(sig);
    for (const std::string &d : program.targetDims)
      sig.arg(mlir::attn::getLengthsType(&context),
              named("lengths", d, dimsAttr(true, {})));
    paramArguments(sig);
    if (program.hasDropout) // on/off and the seed (HeaderEmitter: `dropout`)
      sig.arg(mlir::RankedTensorType::get({2}, builder.getI32Type()),
              named("dropout", "dropout", builder.getStrArrayAttr({"2"})));
    sig.result(argType(true, {}, sema::ElemType::F32),
               named(nullptr, "loss", dimsAttr(true, {})));
    mlir::Block *block =
        beginFunction(module, program.name + "_loss", "loss", sig);
    unsigned arg = 0;
    size_t inputCount = program.inputs.size() + program.targets.size() +
                        (program.teacherTokens ? 1 : 0);
    for (size_t i = 0; i < inputCount; ++i)
      inputArgs.push_back(block->getArgument(arg++));
    for (const std::string &d : program.runtimeDims)
      lengthsArgs[d] = block->getArgument(arg++);
    for (const std::string &d : program.targetDims)
      lengthsArgs[d] = block->getArgument(arg++);
    for (size_t i = 0; i < program.params.size(); ++i)
      paramArgs.push_back(block->getArgument(arg++));
    if (program.hasDropout)
      dropoutControl = block->getArgument(arg++);
    mlir::Value value = emit(*loss.value);
    builder.create<mlir::ReturnOp>(loc(loss.loc), value);
    dropoutControl = nullptr;
  }

  /// The names of the axes of `n` in canonical layout, batch named `batch`.
  mlir::ArrayAttr axisNames(const Node &n, llvm::StringRef batch) {
    llvm::SmallVector<mlir::Attribute, 6> names;
    for (const Axis &a : canonicalAxesSkipping(n, nullptr)) {
      if (a.kind == Axis::Batch)
        names.push_back(builder.getStringAttr(batch));
      else
        names.push_back(builder.getStringAttr(
            dimName(a.kind == Axis::Var ? a.var->dim : n.shape[a.trail])));
    }
    return builder.getArrayAttr(names);
  }

  /// The decoder as two entries:
  ///   <model>_encode(inputs, lengths, params) -> (memory..., initial states...)
  ///   <model>_step(memory..., rows, token, states..., lengths, params)
  ///       -> (next states..., logits, attention?)
  /// `memory` are the maximal parts of the step that read neither the token
  /// nor a state but depend on the inputs (encoder outputs, key projections):
  /// computed once per source batch. The step runs on N hypotheses; `rows`
  /// maps each to its sentence, whose memory rows it reads in place, and the
  /// lengths are those of each hypothesis' sentence.
  void createDecoderFunctions(mlir::ModuleOp module, const sema::DecoderInfo &dec) {
    std::map<const Node *, bool> memo;
    memo[dec.token.get()] = true;
    for (const NodePtr &s : dec.states)
      memo[s.get()] = true;
    std::vector<const Node *> roots;
    for (const NodePtr &n : dec.next)
      roots.push_back(n.get());
    roots.push_back(dec.logits.get());
    if (dec.attention)
      roots.push_back(dec.attention.get());
    std::vector<const Node *> hoisted, memory;
    std::set<const Node *> seen;
    for (const Node *r : roots)
      hoistable(*r, memo, hoisted, seen);
    // A Bind is its operand's value under other axis names: h and h[i] are
    // one memory tensor.
    auto unbound = [](const Node *n) {
      while (n->kind == Node::Bind)
        n = n->operands[0].get();
      return n;
    };
    for (const Node *h : hoisted)
      if (h->perExample &&
          std::find(memory.begin(), memory.end(), unbound(h)) == memory.end())
        memory.push_back(unbound(h));

    // encode
    Signature enc;
    inputArguments(enc);
    paramArguments(enc);
    for (size_t m = 0; m < memory.size(); ++m)
      enc.result(tensorType(canonicalAxesSkipping(*memory[m], nullptr), *memory[m]),
                 named(nullptr, "memory" + std::to_string(m),
                       axisNames(*memory[m], kBatchDimName)));
    for (size_t k = 0; k < dec.states.size(); ++k)
      enc.result(argType(true, dec.inits[k]->shape, sema::ElemType::F32),
                 named(nullptr, "init_" + dec.states[k]->name,
                       dimsAttr(true, dec.inits[k]->shape)));
    mlir::Location l = loc(dec.loc);
    mlir::Block *block = beginFunction(module, program.name + "_encode", "encode", enc);
    bindArguments(block, 0, true);
    llvm::SmallVector<mlir::Value, 8> results;
    for (const Node *m : memory)
      results.push_back(emit(*m));
    mlir::Value batchRef = inputArgs.empty() ? mlir::Value() : inputArgs[0];
    for (size_t k = 0; k < dec.states.size(); ++k)
      results.push_back(batchInit(*dec.inits[k], batchRef, l));
    builder.create<mlir::ReturnOp>(l, results);

    // step
    Signature step;
    for (size_t m = 0; m < memory.size(); ++m)
      step.arg(tensorType(canonicalAxesSkipping(*memory[m], nullptr), *memory[m]),
               named("memory", "memory" + std::to_string(m),
                     axisNames(*memory[m], kMemoryBatchDimName)));
    step.arg(mlir::attn::getLengthsType(&context),
             named("rows", "rows", dimsAttr(true, {})));
    step.arg(mlir::attn::getLengthsType(&context),
             named("token", dec.token->name, dimsAttr(true, {})));
    for (size_t k = 0; k < dec.states.size(); ++k)
      step.arg(argType(true, dec.states[k]->shape, sema::ElemType::F32),
               named("state", dec.states[k]->name,
                     dimsAttr(true, dec.states[k]->shape)));
    lengthsArguments(step);
    paramArguments(step);
    for (size_t k = 0; k < dec.states.size(); ++k)
      step.result(argType(true, dec.states[k]->shape, sema::ElemType::F32),
                  named(nullptr, "next_" + dec.states[k]->name,
                        dimsAttr(true, dec.states[k]->shape)));
    step.result(argType(true, dec.logits->shape, sema::ElemType::F32),
                named(nullptr, "logits", dimsAttr(true, dec.logits->shape)));
    if (dec.attention)
      step.result(argType(true, dec.attention->shape, sema::ElemType::F32),
                  named(nullptr, "attention", dimsAttr(true, dec.attention->shape)));
    block = beginFunction(module, program.name + "_step", "step", step);
    unsigned arg = 0;
    std::vector<mlir::Value> memoryArgs;
    for (size_t m = 0; m < memory.size(); ++m)
      memoryArgs.push_back(block->getArgument(arg++));
    mlir::Value rows = block->getArgument(arg++);
    values[dec.token.get()] = block->getArgument(arg++);
    for (const NodePtr &s : dec.states)
      values[s.get()] = block->getArgument(arg++);
    bindArguments(block, arg, false);
    for (size_t m = 0; m < memory.size(); ++m)
      values[memory[m]] =
          builder.create<mlir::attn::GatherOp>(l, memoryArgs[m], rows);
    for (const Node *h : hoisted)
      if (h->perExample)
        values[h] = values.at(unbound(h));
    results.clear();
    for (const NodePtr &n : dec.next)
      results.push_back(emit(*n));
    results.push_back(emit(*dec.logits));
    if (dec.attention)
      results.push_back(maskPadding(emit(*dec.attention), *dec.attention, l));
    builder.create<mlir::ReturnOp>(l, results);
  }

  /// An initial state per example: broadcast over the batch of `batchRef`
  /// when it does not depend on the inputs.
  mlir::Value batchInit(const Node &init, mlir::Value batchRef, mlir::Location l) {
    if (init.perExample)
      return emit(init);
    llvm::SmallVector<int64_t, 4> shape;
    for (const Dim &d : init.shape)
      shape.push_back(d.size);
    mlir::Value x = init.kind == Node::Constant
                        ? builder.create<mlir::attn::ConstantOp>(l, init.value)
                        : emit(init);
    return builder.create<mlir::attn::BatchBroadcastOp>(l, x, batchRef, shape);
  }

  mlir::Value lengthsFor(const Dim &d) {
    auto it = lengthsArgs.find(d.name);
    return it == lengthsArgs.end() ? mlir::Value() : it->second;
  }

  mlir::Value emit(const Node &n) {
    auto it = values.find(&n);
    if (it != values.end())
      return it->second;
    mlir::Value v = emitNode(n);
    values[&n] = v;
    return v;
  }

  /// `value` (canonical for `from`) rearranged into the axis order `to`.
  mlir::Value permute(mlir::Value value, const std::vector<Axis> &from,
                      const std::vector<Axis> &to, mlir::Location l) {
    llvm::SmallVector<int64_t, 6> perm;
    bool identity = true;
    for (size_t i = 0; i < to.size(); ++i) {
      auto pos = std::find(from.begin(), from.end(), to[i]) - from.begin();
      perm.push_back(pos);
      identity &= pos == static_cast<long>(i);
    }
    if (identity)
      return value;
    return builder.create<mlir::attn::TransposeOp>(l, value, perm);
  }

  /// Axes of operand `x` as seen from a result whose trailing rank is
  /// `resultRank` (trailing axes right-aligned, as broadcasting does).
  std::vector<Axis> canonicalAxes(const Node &n) const {
    return canonicalAxesSkipping(n, insideTime);
  }

  std::vector<Axis> alignedAxes(const Node &x, size_t resultRank) const {
    std::vector<Axis> axes = canonicalAxes(x);
    int shift = static_cast<int>(resultRank - x.shape.size());
    for (Axis &a : axes)
      if (a.kind == Axis::Trail)
        a.trail += shift;
    return axes;
  }

  mlir::Value emitNode(const Node &n) {
    mlir::Location l = loc(n.loc);
    std::vector<Axis> axes = canonicalAxes(n);
    switch (n.kind) {
    case Node::Constant:
      return builder.create<mlir::attn::ConstantOp>(l, n.value);
    case Node::Input:
      return inputArgs[n.argIndex];
    case Node::Param:
      return paramArgs[n.argIndex];
    case Node::Bind:
      return emit(*n.operands[0]); // the same axes, renamed
    case Node::Define: {
      const Node &body = *n.operands[0];
      std::vector<Axis> from = canonicalAxes(body), to;
      if (n.perExample)
        to.push_back({Axis::Batch});
      for (const IndexVar *v : n.free)
        to.push_back({Axis::Var, v});
      for (const IndexVar *v : n.vars)
        to.push_back({Axis::Var, v});
      for (int k = 0; k < static_cast<int>(body.shape.size()); ++k)
        to.push_back({Axis::Trail, nullptr, k});
      return permute(emit(body), from, to, l);
    }
    case Node::Binary:
      return emitBinary(n, axes, l);
    case Node::Unary:
      if (n.fn == "dropout") {
        // Only the training entries drop; the others read x as it is.
        if (!dropoutControl)
          return emit(*n.operands[0]);
        int64_t salt = dropoutSalts.try_emplace(&n, static_cast<int64_t>(dropoutSalts.size()))
                           .first->second;
        return builder.create<mlir::attn::DropoutOp>(l, emit(*n.operands[0]),
                                                     dropoutControl, n.alpha, salt);
      }
      if (n.fn == "leaky_relu")
        return builder.create<mlir::attn::UnaryOp>(
            l, unaryFn(n.fn), emit(*n.operands[0]), static_cast<float>(n.alpha));
      return builder.create<mlir::attn::UnaryOp>(l, unaryFn(n.fn),
                                                 emit(*n.operands[0]));
    case Node::Contract:
      return emitContract(n, axes, l);
    case Node::Reduce:
      return emitReduce(n, l);
    case Node::Softmax: {
      const Node &body = *n.operands[0];
      auto [axis, lengths, rel, relAxis] = reductionAxis(n, body);
      return builder.create<mlir::attn::AlignOp>(
          l, mlir::attn::AlignMode::soft, emit(body), axis, lengths, rel,
          relAxis);
    }
    case Node::Concat: {
      llvm::SmallVector<mlir::Value, 4> parts;
      for (const NodePtr &p : n.operands) {
        // Same free variables (sema checks), maybe in another order.
        std::vector<Axis> from = canonicalAxes(*p);
        parts.push_back(permute(emit(*p), from, axes, l));
      }
      return builder.create<mlir::attn::ConcatOp>(
          l, parts, static_cast<int64_t>(axes.size() - 1));
    }
    case Node::Slice: {
      int64_t axis = std::find(axes.begin(), axes.end(),
                               Axis{Axis::Trail, nullptr, n.sliceAxis}) -
                     axes.begin();
      return builder.create<mlir::attn::SliceOp>(
          l, emit(*n.operands[0]), axis, n.sliceStart,
          n.shape[n.sliceAxis].size);
    }
    case Node::Reshape:
      return builder.create<mlir::attn::ReshapeOp>(l, tensorType(axes, n),
                                                   emit(*n.operands[0]));
    case Node::Gather:
      return builder.create<mlir::attn::GatherOp>(l, emit(*n.operands[0]),
                                                  emit(*n.operands[1]));
    case Node::Pick: {
      const Node &x = *n.operands[0];
      std::vector<Axis> xAxes = canonicalAxes(x);
      int64_t axis = std::find(xAxes.begin(), xAxes.end(),
                               Axis{Axis::Trail, nullptr, 0}) -
                     xAxes.begin();
      // The remaining trailing axes shift down by one: same canonical order.
      return builder.create<mlir::attn::PickOp>(l, emit(x), axis, n.reverse,
                                                lengthsFor(x.shape[0]));
    }
    case Node::RecurrenceResult:
      return emitRecurrence(*n.operands[0])->getResult(n.argIndex);
    case Node::CrossEntropy: {
      // Both operands in the result's axis order, the classes last.
      const Node &logits = *n.operands[0], &ids = *n.operands[1];
      std::vector<Axis> withClasses = axes;
      withClasses.push_back(
          {Axis::Trail, nullptr, static_cast<int>(logits.shape.size()) - 1});
      mlir::Value l = permute(emit(logits), canonicalAxes(logits), withClasses, loc(n.loc));
      mlir::Value i = permute(emit(ids), canonicalAxes(ids), axes, loc(n.loc));
      return builder.create<mlir::attn::CrossEntropyOp>(
          loc(n.loc), l, i, static_cast<float>(n.smoothing));
    }
    case Node::StateRef:  // bound to the step's block arguments
    case Node::Token:     // bound to the decoder step's argument
    case Node::Recurrence: // through its results
    case Node::Tuple:      // split by sema
      break;
    }
    return {};
  }

  static mlir::attn::UnaryFn unaryFn(const std::string &fn) {
    auto parsed = mlir::attn::symbolizeUnaryFn(fn);
    return parsed ? *parsed : mlir::attn::UnaryFn::neg;
  }

  /// Whether `n` reads a state of the recurrence being emitted (whose
  /// StateRefs are in `memo` as true). Another recurrence's results are
  /// finished values: their own states do not count.
  bool readsState(const Node &n, std::map<const Node *, bool> &memo) {
    auto it = memo.find(&n);
    if (it != memo.end())
      return it->second;
    bool reads = false;
    if (n.kind != Node::RecurrenceResult && n.kind != Node::StateRef)
      for (const NodePtr &op : n.operands)
        reads = readsState(*op, memo) || reads;
    return memo[&n] = reads;
  }

  /// The maximal parts of the step that read no state: computed before the
  /// loop, for all steps at once (those that depend on the time index become
  /// the recurrence's sequences, e.g. the input projections x[t] @ U as one
  /// contraction over [B, S, ...]); the rest are captured as they are.
  void hoistable(const Node &n, std::map<const Node *, bool> &memo,
                 std::vector<const Node *> &out, std::set<const Node *> &seen) {
    if (!seen.insert(&n).second)
      return;
    if (!readsState(n, memo)) {
      if (n.kind != Node::Constant || !n.shape.empty())
        out.push_back(&n);
      return;
    }
    for (const NodePtr &op : n.operands)
      hoistable(*op, memo, out, seen);
  }

  mlir::Operation *emitRecurrence(const Node &n) {
    auto done = recurrences.find(&n);
    if (done != recurrences.end())
      return done->second;
    mlir::Location l = loc(n.loc);
    size_t states = n.operands.size() / 3;
    const IndexVar *t = n.over;
    std::map<const Node *, bool> memo;
    for (size_t k = 0; k < states; ++k)
      memo[n.operands[2 * states + k].get()] = true;
    std::vector<const Node *> hoisted;
    std::set<const Node *> seen;
    for (size_t k = 0; k < states; ++k)
      hoistable(*n.operands[states + k], memo, hoisted, seen);

    // Sequences: t moved to axis 1, right after the batch.
    std::vector<const Node *> sequenceNodes;
    llvm::SmallVector<mlir::Value, 4> sequences;
    for (const Node *h : hoisted) {
      if (!h->hasFree(t))
        continue;
      std::vector<Axis> from = canonicalAxesSkipping(*h, nullptr), to;
      to.push_back({Axis::Batch});
      to.push_back({Axis::Var, t});
      for (const Axis &a : from)
        if (a.kind != Axis::Batch && !(a.kind == Axis::Var && a.var == t))
          to.push_back(a);
      sequences.push_back(permute(emit(*h), from, to, l));
      sequenceNodes.push_back(h);
    }
    // Values that read neither a state nor the time: once, before the loop.
    for (const Node *h : hoisted)
      if (!h->hasFree(t))
        emit(*h);
    mlir::Value lengths = lengthsFor(t->dim);
    mlir::Value batchRef = !sequences.empty() ? sequences[0] : lengths;

    // Initial states, per example.
    llvm::SmallVector<mlir::Value, 4> inits;
    for (size_t k = 0; k < states; ++k)
      inits.push_back(batchInit(*n.operands[k], batchRef, l));

    auto op = builder.create<mlir::attn::RecurrenceOp>(
        l, sequences, inits, 1, lengths, n.reverse);
    recurrences[&n] = op;

    // The step: sequence nodes and states are the block's arguments.
    auto outside = values;
    for (size_t i = 0; i < sequenceNodes.size(); ++i)
      values[sequenceNodes[i]] = op.getStepArguments()[i];
    for (size_t k = 0; k < states; ++k)
      values[n.operands[2 * states + k].get()] = op.getStateArguments()[k];
    const IndexVar *savedTime = insideTime;
    insideTime = t;
    mlir::OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToEnd(op.getBodyBlock());
    llvm::SmallVector<mlir::Value, 4> next;
    for (size_t k = 0; k < states; ++k)
      next.push_back(emit(*n.operands[states + k]));
    builder.create<mlir::attn::YieldOp>(l, next);
    insideTime = savedTime;
    values = std::move(outside); // step values do not exist outside
    return op;
  }

  mlir::Value emitBinary(const Node &n, const std::vector<Axis> &axes,
                         mlir::Location l) {
    const Node &a = *n.operands[0], &b = *n.operands[1];
    Letters letters;
    std::string result = letters.term(axes);
    std::vector<Axis> aAxes = alignedAxes(a, n.shape.size());
    std::vector<Axis> bAxes = alignedAxes(b, n.shape.size());
    std::string spec;
    if (!(aAxes == axes && bAxes == axes))
      spec = letters.term(aAxes) + "," + letters.term(bAxes) + "->" + result;
    mlir::Value lhs = emit(a);
    // x / c is x * (1/c): the attention patterns look for a scale factor.
    if (n.op == '/' && b.kind == Node::Constant && b.value != 0) {
      mlir::Value scale = builder.create<mlir::attn::ConstantOp>(l, 1.0 / b.value);
      return builder.create<mlir::attn::MulOp>(l, lhs, scale, spec);
    }
    mlir::Value rhs = emit(b);
    switch (n.op) {
    case '+':
      return builder.create<mlir::attn::AddOp>(l, lhs, rhs, spec);
    case '-':
      return builder.create<mlir::attn::SubOp>(l, lhs, rhs, spec);
    case '*':
      return builder.create<mlir::attn::MulOp>(l, lhs, rhs, spec);
    case '/':
      return builder.create<mlir::attn::DivOp>(l, lhs, rhs, spec);
    case 'M':
      return builder.create<mlir::attn::MaxOp>(l, lhs, rhs, spec);
    default:
      return builder.create<mlir::attn::MinOp>(l, lhs, rhs, spec);
    }
  }

  /// Creates `attn.contract` of a and b (axes already as letters); swaps the
  /// operands if needed so that the lhs carries the batch and a masked letter.
  mlir::Value contract(const Node &a, std::string aTerm, const Node &b,
                       std::string bTerm, const std::string &result,
                       const Dim &summed, char summedLetter, mlir::Location l) {
    mlir::Value lhs = emit(a), rhs = emit(b);
    mlir::Value lengths;
    std::string masked;
    if (summed.runtime()) {
      lengths = lengthsFor(summed);
      masked = std::string(1, summedLetter);
      bool aHas = a.perExample && aTerm.find(summedLetter) != std::string::npos;
      if (!aHas) {
        std::swap(lhs, rhs);
        std::swap(aTerm, bTerm);
      }
    }
    std::string spec = aTerm + "," + bTerm + "->" + result;
    return builder.create<mlir::attn::ContractOp>(l, lhs, rhs, spec, lengths,
                                                  masked);
  }

  mlir::Value emitContract(const Node &n, const std::vector<Axis> &axes,
                           mlir::Location l) {
    const Node &a = *n.operands[0], &b = *n.operands[1];
    Letters letters;
    std::string result = letters.term(axes);
    char c = letters.fresh();
    int aRank = static_cast<int>(a.shape.size());
    std::string aTerm, bTerm;
    for (const Axis &ax : canonicalAxes(a))
      aTerm += ax.kind == Axis::Trail && ax.trail == n.lhsAxis ? c
                                                               : letters.of(ax);
    for (Axis ax : canonicalAxes(b)) {
      if (ax.kind == Axis::Trail) {
        if (ax.trail == n.rhsAxis) {
          bTerm += c;
          continue;
        }
        ax.trail = aRank - 1 + (ax.trail < n.rhsAxis ? ax.trail : ax.trail - 1);
      }
      bTerm += letters.of(ax);
    }
    return contract(a, aTerm, b, bTerm, result, a.shape[n.lhsAxis], c, l);
  }

  struct ReductionAxis {
    int64_t axis;
    mlir::Value lengths;
    llvm::Optional<mlir::attn::PositionRel> rel;
    int64_t relAxis;
  };

  ReductionAxis reductionAxis(const Node &n, const Node &body) {
    std::vector<Axis> bodyAxes = canonicalAxes(body);
    auto position = [&](const Axis &a) {
      return static_cast<int64_t>(
          std::find(bodyAxes.begin(), bodyAxes.end(), a) - bodyAxes.begin());
    };
    ReductionAxis r{static_cast<int64_t>(bodyAxes.size() - 1), {}, llvm::None,
                    0};
    const Dim *dim = body.shape.empty() ? nullptr : &body.shape.back();
    if (n.over) {
      r.axis = position({Axis::Var, n.over});
      dim = &n.over->dim;
    }
    if (dim && dim->runtime())
      r.lengths = lengthsFor(*dim);
    if (n.relationVar) {
      r.relAxis = position({Axis::Var, n.relationVar});
      switch (n.relation) {
      case ast::Relation::Lt:
        r.rel = mlir::attn::PositionRel::lt;
        break;
      case ast::Relation::Le:
        r.rel = mlir::attn::PositionRel::le;
        break;
      case ast::Relation::Gt:
        r.rel = mlir::attn::PositionRel::gt;
        break;
      default:
        r.rel = mlir::attn::PositionRel::ge;
        break;
      }
    }
    return r;
  }

  mlir::Value emitReduce(const Node &n, mlir::Location l) {
    const Node &body = *n.operands[0];
    // sum_j a * b is a contraction: never materialise the product.
    if (n.reduce == ast::ReduceKind::Sum && n.over && !n.relationVar &&
        body.kind == Node::Binary && body.op == '*' && !values.count(&body)) {
      const Node &a = *body.operands[0], &b = *body.operands[1];
      Letters letters;
      std::string result = letters.term(canonicalAxes(n));
      char j = letters.of({Axis::Var, n.over});
      std::string aTerm = letters.term(alignedAxes(a, body.shape.size()));
      std::string bTerm = letters.term(alignedAxes(b, body.shape.size()));
      return contract(a, aTerm, b, bTerm, result, n.over->dim, j, l);
    }
    auto [axis, lengths, rel, relAxis] = reductionAxis(n, body);
    mlir::attn::ReduceKind kind =
        n.reduce == ast::ReduceKind::Sum    ? mlir::attn::ReduceKind::sum
        : n.reduce == ast::ReduceKind::Mean ? mlir::attn::ReduceKind::mean
        : n.reduce == ast::ReduceKind::Max  ? mlir::attn::ReduceKind::max
                                            : mlir::attn::ReduceKind::min;
    return builder.create<mlir::attn::ReduceOp>(l, kind, emit(body), axis,
                                                lengths, rel, relAxis);
  }
};

} // namespace

mlir::OwningOpRef<mlir::ModuleOp> generateMLIR(mlir::MLIRContext &context,
                                                const sema::Program &program) {
  context.getOrLoadDialect<mlir::attn::AttnDialect>();
  context.getOrLoadDialect<mlir::StandardOpsDialect>();
  return Generator(context, program).run();
}

} // namespace attn
