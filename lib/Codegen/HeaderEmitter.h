//===- HeaderEmitter.h - The generated C++ API of a model -------*- C++ -*-===//
#pragma once

#include "KernelPlan.h"

#include <string>

namespace attn {

/// The text of <model>.h for the planned entry points.
std::string emitHeader(const std::vector<ModelPlan> &plans,
                       const std::string &model);

} // namespace attn
