//===- HeaderEmitter.h - The generated C++ API of a model -------*- C++ -*-===//
#pragma once

#include "mlir/IR/BuiltinOps.h"

#include <string>

namespace attn {

/// The text of <model>.h for the entry points of `module`.
std::string emitHeader(mlir::ModuleOp module, const std::string &model);

} // namespace attn
