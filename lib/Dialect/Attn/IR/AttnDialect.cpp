//===- AttnDialect.cpp - The attn dialect ---------------------------------===//

#include "attn/Dialect/Attn/AttnDialect.h"
#include "attn/Dialect/Attn/AttnOps.h"

using namespace mlir;
using namespace mlir::attn;

#include "attn/Dialect/Attn/AttnDialect.cpp.inc"

void AttnDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "attn/Dialect/Attn/AttnOps.cpp.inc"
      >();
}

Operation *AttnDialect::materializeConstant(OpBuilder &builder,
                                            Attribute value, Type type,
                                            Location loc) {
  auto floatValue = value.dyn_cast<FloatAttr>();
  auto tensorType = type.dyn_cast<RankedTensorType>();
  if (!floatValue || !floatValue.getType().isF32() || !tensorType ||
      tensorType.getRank() != 0 || !tensorType.getElementType().isF32())
    return nullptr;
  return builder.create<ConstantOp>(loc, type, floatValue);
}

bool attn::isLengthsType(Type type) { return type == getLengthsType(type.getContext()); }

RankedTensorType attn::getLengthsType(MLIRContext *context) {
  return RankedTensorType::get({ShapedType::kDynamicSize},
                               IntegerType::get(context, 32));
}
