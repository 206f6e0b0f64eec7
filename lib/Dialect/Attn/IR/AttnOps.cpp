//===- AttnOps.cpp - ODS-generated op definitions -------------------------===//
//
// The hand-written parts live beside this file, one per group of ops.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/AttnOps.h"

using namespace mlir;
using namespace mlir::attn;

#include "attn/Dialect/Attn/AttnEnums.cpp.inc"

#define GET_OP_CLASSES
#include "attn/Dialect/Attn/AttnOps.cpp.inc"
