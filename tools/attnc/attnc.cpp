//===- attnc.cpp - The attnc compiler driver ------------------------------===//
//
//   attnc model.attn -o out/ [--target=host|host-cuda|<Halide target>] [-D N=V]
//
// The pipeline is a list of named stages; --emit=STAGE stops after one and
// prints it. The stages themselves live in libraries (Parse, Sema, MLIRGen,
// the attn passes, AttnToHalide, Codegen); this file only sequences them.
//
//===----------------------------------------------------------------------===//
#include "attn/AST/AST.h"
#include "attn/Codegen/ModelLibrary.h"
#include "attn/Dialect/Attn/AttnDialect.h"
#include "attn/Dialect/Attn/Passes.h"
#include "attn/MLIRGen/MLIRGen.h"
#include "attn/Sema/Sema.h"
#include "attn/Support/Diagnostics.h"

#include "mlir/Dialect/StandardOps/IR/Ops.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cctype>
#include <iostream>

namespace cl = llvm::cl;

namespace {

enum class Stage { AST, MLIR, MLIROpt, Halide, Library, Runtime };

cl::OptionCategory category("attnc options");

cl::opt<std::string> inputFile(cl::Positional,
                               cl::desc("<model.attn | module.mlir>"),
                               cl::cat(category));
cl::opt<std::string> outputDir(
    "o", cl::desc("Output folder for lib<model>.a, <model>.h and the Halide "
                  "runtime (created if missing)"),
    cl::value_desc("dir"), cl::init("."), cl::cat(category));
cl::opt<Stage> emit(
    "emit", cl::desc("Stop after a stage and print it"), cl::init(Stage::Library),
    cl::values(
        clEnumValN(Stage::AST, "ast", "the syntax tree, with locations"),
        clEnumValN(Stage::MLIR, "mlir", "the attn dialect as generated"),
        clEnumValN(Stage::MLIROpt, "mlir-opt",
                   "the attn dialect after the pass pipeline (shape inference, "
                   "canonicalize, raise, fuse attention)"),
        clEnumValN(Stage::Halide, "halide",
                   "the lowered Halide statement of every kernel"),
        clEnumValN(Stage::Library, "lib",
                   "(default) write lib<model>.a and <model>.h to -o"),
        clEnumValN(Stage::Runtime, "runtime",
                   "write only the Halide runtime for --target to -o "
                   "(libattn_halide_runtime.a); no model file needed")),
    cl::cat(category));
cl::list<std::string> defines(
    "D", cl::desc("Override a compile-time dim: -D H=256"), cl::Prefix,
    cl::value_desc("NAME=VALUE"), cl::cat(category));
cl::list<std::string> includeDirs(
    "I", cl::desc("Add a folder to the import search path"), cl::Prefix,
    cl::value_desc("dir"), cl::cat(category));
cl::opt<std::string> stdlibDir(
    "stdlib", cl::desc("Folder of the .attn standard library"),
    cl::init(ATTNC_DEFAULT_STDLIB), cl::value_desc("dir"), cl::cat(category));
cl::opt<std::string> target(
    "target",
    cl::desc("Code generation target: host, host-cuda, or a Halide target "
             "string such as x86-64-linux-avx2-fma"),
    cl::init("host"), cl::cat(category));
cl::opt<std::string> nameOverride(
    "name",
    cl::desc("Name of the generated library, header, namespace and kernels "
             "(default: the name after `model`); to link two builds of one "
             "model into one program"),
    cl::value_desc("identifier"), cl::cat(category));
cl::opt<bool> noFuse("no-fuse",
                     cl::desc("Do not fuse attention (for comparisons)"),
                     cl::init(false), cl::cat(category));
cl::opt<unsigned> truncateBPTT(
    "truncate-bptt",
    cl::desc("Truncate backpropagation through time in the gradient entry to "
             "chunks of N steps (0, the default: through the whole sequence)"),
    cl::value_desc("N"), cl::init(0), cl::cat(category));
cl::opt<bool> verifyDiagnostics(
    "verify-diagnostics",
    cl::desc("Check the errors against `# expected-error {{...}}` comments in "
             "the source instead of printing them"),
    cl::init(false), cl::cat(category));

/// Routes MLIR diagnostics (verifier errors, pass failures) into attnc's
/// engine, so they print like front-end errors and can be verified.
class MLIRDiagnosticBridge {
public:
  MLIRDiagnosticBridge(mlir::MLIRContext &context, attn::SourceManager &sources,
                       attn::DiagnosticEngine &diags)
      : handler(&context, [&sources, &diags](mlir::Diagnostic &d) {
          attn::Location loc;
          if (auto fileLoc = d.getLocation().dyn_cast<mlir::FileLineColLoc>())
            if (const attn::SourceFile *f =
                    sources.find(fileLoc.getFilename().str()))
              loc = {f, fileLoc.getLine(), fileLoc.getColumn()};
          attn::Severity severity =
              d.getSeverity() == mlir::DiagnosticSeverity::Error
                  ? attn::Severity::Error
              : d.getSeverity() == mlir::DiagnosticSeverity::Warning
                  ? attn::Severity::Warning
                  : attn::Severity::Note;
          diags.report(severity, loc, d.str());
          return mlir::success();
        }) {}

private:
  mlir::ScopedDiagnosticHandler handler;
};

int finish(attn::DiagnosticEngine &diags, attn::SourceManager &,
           const std::vector<const attn::SourceFile *> &files) {
  if (verifyDiagnostics)
    return diags.verify(files) ? 0 : 1;
  return diags.hasErrors() ? 1 : 0;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::SetVersionPrinter(
      [](llvm::raw_ostream &os) { os << "attnc 0.1 (LLVM/MLIR 14, Halide 14)\n"; });
  cl::ParseCommandLineOptions(
      argc, argv,
      "attnc: compiles .attn attention models into fused Halide kernels\n\n"
      "  attnc model.attn -o out/            writes out/lib<model>.a and "
      "out/<model>.h\n"
      "  attnc model.attn --emit=mlir-opt    prints the optimised attn "
      "dialect\n"
      "  attnc module.mlir -o out/           starts from the attn dialect\n");

  attn::SourceManager sources;
  attn::DiagnosticEngine diags(std::cerr, verifyDiagnostics);
  std::vector<const attn::SourceFile *> files;

  if (emit == Stage::Runtime) {
    std::string error;
    if (!attn::writeHalideRuntime(outputDir, target, error)) {
      std::cerr << "attnc: error: " << error << "\n";
      return 1;
    }
    return 0;
  }
  if (inputFile.empty()) {
    std::cerr << "attnc: error: no input file (usage: attnc model.attn -o "
                 "out/; see attnc --help)\n";
    return 1;
  }

  bool fromMLIR = llvm::StringRef(inputFile).endswith(".mlir");
  if (emit == Stage::AST) {
    if (fromMLIR) {
      std::cerr << "attnc: error: --emit=ast needs a .attn file\n";
      return 1;
    }
    auto module = attn::parseModelFile(inputFile, sources, diags);
    if (sources.find(inputFile))
      files.push_back(sources.find(inputFile));
    if (module && !verifyDiagnostics)
      std::cout << attn::ast::dump(*module);
    return finish(diags, sources, files);
  }
  if (!nameOverride.empty()) {
    bool valid = !std::isdigit(static_cast<unsigned char>(nameOverride[0]));
    for (char c : nameOverride)
      valid &= std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    if (!valid) {
      std::cerr << "attnc: error: --name=" << nameOverride
                << ": expected a C identifier\n";
      return 1;
    }
  }

  mlir::MLIRContext context;
  context.getOrLoadDialect<mlir::attn::AttnDialect>();
  context.getOrLoadDialect<mlir::StandardOpsDialect>();
  MLIRDiagnosticBridge bridge(context, sources, diags);
  mlir::OwningOpRef<mlir::ModuleOp> module;
  if (fromMLIR) {
    // Start from the dialect: the front end is skipped.
    std::string error;
    if (const attn::SourceFile *file = sources.load(inputFile, error))
      files.push_back(file);
    else {
      std::cerr << "attnc: error: " << error << "\n";
      return 1;
    }
    module = mlir::parseSourceFile<mlir::ModuleOp>(inputFile, &context);
    if (!module)
      return verifyDiagnostics ? finish(diags, sources, files) : 1;
    if (!nameOverride.empty() || !module->getOperation()->hasAttr("attn.model")) {
      std::string name = nameOverride;
      if (name.empty()) {
        name = llvm::sys::path::stem(inputFile).str();
        for (char &c : name)
          c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
      }
      module->getOperation()->setAttr("attn.model",
                                      mlir::StringAttr::get(&context, name));
    }
  } else {
    attn::CompileOptions options;
    for (const std::string &d : defines) {
      size_t eq = d.find('=');
      if (eq == std::string::npos || eq == 0) {
        diags.error(attn::Location{}, "-D " + d + ": expected NAME=VALUE");
        continue;
      }
      options.dimOverrides.push_back({d.substr(0, eq), d.substr(eq + 1)});
    }
    options.importPaths.assign(includeDirs.begin(), includeDirs.end());
    options.importPaths.push_back(stdlibDir);
    auto program = attn::checkModel(inputFile, options, sources, diags, &files);
    if (!program || diags.hasErrors())
      return finish(diags, sources, files);
    if (!nameOverride.empty())
      program->name = nameOverride;
    module = attn::generateMLIR(context, *program);
  }
  if (!module || mlir::failed(module->verify()))
    return verifyDiagnostics ? finish(diags, sources, files) : 1;
  if (emit == Stage::MLIR) {
    if (!verifyDiagnostics)
      module->print(llvm::outs());
    return finish(diags, sources, files);
  }

  mlir::PassManager pm(&context);
  mlir::attn::PipelineOptions pipeline;
  pipeline.raiseAndFuse = !noFuse;
  pipeline.truncateBPTT = truncateBPTT;
  mlir::attn::buildDefaultPipeline(pm, pipeline);
  if (mlir::failed(pm.run(*module)))
    return verifyDiagnostics ? finish(diags, sources, files) : 1;
  if (emit == Stage::MLIROpt) {
    if (!verifyDiagnostics)
      module->print(llvm::outs());
    return finish(diags, sources, files);
  }

  attn::CodegenOptions codegen;
  codegen.target = target;
  codegen.outputDir = outputDir;
  std::string error;
  if (emit == Stage::Halide) {
    if (!attn::printLoweredHalide(*module, codegen, std::cout, error)) {
      std::cerr << "attnc: error: " << error << "\n";
      return 1;
    }
    return finish(diags, sources, files);
  }
  if (!attn::writeModelLibrary(*module, codegen, error)) {
    std::cerr << "attnc: error: " << error << "\n";
    return 1;
  }
  return finish(diags, sources, files);
}
