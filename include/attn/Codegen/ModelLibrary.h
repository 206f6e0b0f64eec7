//===- ModelLibrary.h - The files attnc writes -----------------*- C++ -*-===//
//
// From the optimised attn module, attnc writes into the output folder:
//   lib<model>.a   the Halide AOT kernels of every entry point (no runtime)
//   <model>.h      the C++ API: parameters by name, forward(...) with checks
//   libattn_halide_runtime.a   the Halide runtime for the target (link one per
//                  program, shared by all models compiled for that target)
// Files are written to temporaries and renamed, so an interrupted or failed
// run never leaves a half-written library behind.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "mlir/IR/BuiltinOps.h"

#include <iosfwd>
#include <string>

namespace attn {

struct CodegenOptions {
  std::string target = "host"; // host, host-cuda, or a Halide target string
  std::string outputDir = ".";
};

bool writeModelLibrary(mlir::ModuleOp module, const CodegenOptions &options,
                       std::string &error);

/// Prints the lowered Halide statement of every entry point (--emit=halide).
bool printLoweredHalide(mlir::ModuleOp module, const CodegenOptions &options,
                        std::ostream &os, std::string &error);

/// Writes libattn_halide_runtime.a for `target` into `dir`.
bool writeHalideRuntime(const std::string &dir, const std::string &target,
                        std::string &error);

} // namespace attn
