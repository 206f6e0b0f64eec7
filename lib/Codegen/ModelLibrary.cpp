//===- ModelLibrary.cpp - Halide AOT: the files attnc writes --------------===//
#include "attn/Codegen/ModelLibrary.h"
#include "attn/Conversion/AttnToHalide.h"
#include "HeaderEmitter.h"
#include "KernelPlan.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace attn {
namespace {

/// "host", "host-cuda" or any Halide target string. CUDA targets get compute
/// capability 8.0 PTX unless one is named (Halide's default is sm_20).
bool parseTarget(const std::string &text, Halide::Target &target,
                 std::string &error) {
  if (!Halide::Target::validate_target_string(text)) {
    error = "unknown target '" + text +
            "' (use host, host-cuda, or a Halide target string such as "
            "x86-64-linux-avx2-fma)";
    return false;
  }
  target = Halide::Target(text);
  if (target.has_feature(Halide::Target::CUDA) &&
      target.get_cuda_capability_lower_bound() < 30)
    target = target.with_feature(Halide::Target::CUDACapability80);
  return true;
}

bool makeDirectories(const std::string &path, std::string &error) {
  std::string partial;
  std::stringstream parts(path);
  std::string piece;
  if (!path.empty() && path[0] == '/')
    partial = "/";
  while (std::getline(parts, piece, '/')) {
    if (piece.empty())
      continue;
    partial += piece + "/";
    if (mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) {
      error = "cannot create folder '" + partial + "': " + std::strerror(errno);
      return false;
    }
  }
  struct stat info;
  if (stat(path.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    error = "'" + path + "' is not a folder";
    return false;
  }
  return true;
}

/// Moves finished temporaries over their targets; removes them on failure.
class AtomicOutputs {
public:
  std::string add(const std::string &finalPath) {
    std::string temp = finalPath + ".tmp." + std::to_string(getpid());
    files.push_back({temp, finalPath});
    return temp;
  }
  bool commit(std::string &error) {
    for (auto &[temp, final] : files) {
      if (std::rename(temp.c_str(), final.c_str()) != 0) {
        error = "cannot write '" + final + "': " + std::strerror(errno);
        return false;
      }
    }
    files.clear();
    return true;
  }
  ~AtomicOutputs() {
    for (auto &[temp, final] : files)
      std::remove(temp.c_str());
  }

private:
  std::vector<std::pair<std::string, std::string>> files;
};

std::string modelName(mlir::ModuleOp module) {
  if (auto name = module->getAttrOfType<mlir::StringAttr>("attn.model"))
    return name.getValue().str();
  return "model";
}

/// Plans and lowers every kernel of every entry point.
bool lowerAll(mlir::ModuleOp module, const Halide::Target &target,
              std::vector<ModelPlan> &plans, std::vector<LoweredFunction> &out,
              std::string &error) {
  bool ok = true;
  module.walk([&](mlir::FuncOp f) {
    if (!ok)
      return;
    plans.push_back(planModel(f));
    for (const KernelSpec *kernel : plans.back().kernels()) {
      LoweredFunction lowered;
      ok = ok && lowerKernel(*kernel, target, lowered, error);
      if (ok)
        out.push_back(std::move(lowered));
    }
  });
  return ok;
}

template <typename Fn> bool guardHalide(Fn fn, std::string &error) {
  try {
    fn();
    return true;
  } catch (const Halide::Error &e) {
    error = std::string("Halide: ") + e.what();
    return false;
  }
}

} // namespace

bool writeModelLibrary(mlir::ModuleOp module, const CodegenOptions &options,
                       std::string &error) {
  Halide::Target target;
  if (!parseTarget(options.target, target, error) ||
      !makeDirectories(options.outputDir, error))
    return false;
  std::string model = modelName(module);
  std::string base = options.outputDir + "/";
  AtomicOutputs outputs;
  std::string libPath = outputs.add(base + "lib" + model + ".a");
  std::string headerPath = outputs.add(base + model + ".h");
  std::string runtimePath = outputs.add(base + "libattn_halide_runtime.a");

  std::vector<ModelPlan> plans;
  std::vector<LoweredFunction> functions;
  if (!lowerAll(module, target, plans, functions, error))
    return false;
  bool ok = guardHalide(
      [&] {
        Halide::Target kernelTarget =
            target.with_feature(Halide::Target::NoRuntime);
        std::vector<Halide::Module> modules;
        for (LoweredFunction &f : functions) {
          Halide::Pipeline pipeline(f.outputs);
          modules.push_back(pipeline.compile_to_module(f.arguments, f.name,
                                                       kernelTarget));
        }
        Halide::Module linked = Halide::link_modules(model, modules);
        linked.compile({{Halide::OutputFileType::static_library, libPath}});
        Halide::compile_standalone_runtime(runtimePath, target);
      },
      error);
  if (!ok)
    return false;

  std::ofstream header(headerPath);
  header << emitHeader(plans, model);
  header.close();
  if (!header) {
    error = "cannot write '" + headerPath + "'";
    return false;
  }
  return outputs.commit(error);
}

bool printLoweredHalide(mlir::ModuleOp module, const CodegenOptions &options,
                        std::ostream &os, std::string &error) {
  Halide::Target target;
  if (!parseTarget(options.target, target, error))
    return false;
  std::vector<ModelPlan> plans;
  std::vector<LoweredFunction> functions;
  if (!lowerAll(module, target, plans, functions, error))
    return false;
  char tempName[] = "/tmp/attnc-stmt-XXXXXX";
  int fd = mkstemp(tempName);
  if (fd < 0) {
    error = "cannot create a temporary file";
    return false;
  }
  close(fd);
  bool ok = guardHalide(
      [&] {
        for (LoweredFunction &f : functions) {
          Halide::Pipeline pipeline(f.outputs);
          pipeline.compile_to_lowered_stmt(tempName, f.arguments,
                                           Halide::StmtOutputFormat::Text,
                                           target.with_feature(
                                               Halide::Target::NoRuntime));
          std::ifstream in(tempName);
          os << "// Halide statement of " << f.name << " (target "
             << target.to_string() << ")\n"
             << in.rdbuf() << "\n";
        }
      },
      error);
  std::remove(tempName);
  return ok;
}

bool writeHalideRuntime(const std::string &dir, const std::string &targetText,
                        std::string &error) {
  Halide::Target target;
  if (!parseTarget(targetText, target, error) || !makeDirectories(dir, error))
    return false;
  AtomicOutputs outputs;
  std::string path = outputs.add(dir + "/libattn_halide_runtime.a");
  if (!guardHalide([&] { Halide::compile_standalone_runtime(path, target); },
                   error))
    return false;
  return outputs.commit(error);
}

} // namespace attn
