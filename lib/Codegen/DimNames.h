//===- DimNames.h - Which size each axis of each value has ------*- C++ -*-===//
#pragma once

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/DenseMap.h"

#include <string>
#include <vector>

namespace attn {

/// Per value, one name per axis: "B", a run-time dim ("S"), a static size
/// ("64"), or "?" where it cannot be told.
using DimNameMap = llvm::DenseMap<mlir::Value, std::vector<std::string>>;

DimNameMap inferDimNames(mlir::FuncOp func);

} // namespace attn
