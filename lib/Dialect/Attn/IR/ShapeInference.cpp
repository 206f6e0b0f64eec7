//===- ShapeInference.cpp - The ShapeInference interface ------------------===//

#include "attn/Dialect/Attn/AttnInterfaces.h"

#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;
using namespace mlir::attn;

#include "attn/Dialect/Attn/AttnInterfaces.cpp.inc"

Type attn::refineType(Type current, Type inferred) {
  auto cur = current.dyn_cast<TensorType>();
  auto inf = inferred.dyn_cast<TensorType>();
  if (!cur || !inf)
    return current == inferred ? current : Type();
  if (cur.getElementType() != inf.getElementType())
    return Type();
  if (!inf.hasRank())
    return current;
  if (!cur.hasRank())
    return inferred;
  if (cur.getRank() != inf.getRank())
    return Type();
  SmallVector<int64_t> shape;
  for (auto [c, i] : llvm::zip(cur.getShape(), inf.getShape())) {
    if (!ShapedType::isDynamic(c) && !ShapedType::isDynamic(i) && c != i)
      return Type();
    shape.push_back(ShapedType::isDynamic(c) ? i : c);
  }
  return RankedTensorType::get(shape, cur.getElementType());
}

LogicalResult attn::refineResultTypes(Operation *op) {
  SmallVector<Type> inferred;
  cast<ShapeInference>(op).inferResultTypes(inferred);
  for (auto [result, type] : llvm::zip(op->getResults(), inferred)) {
    Type refined = refineType(result.getType(), type);
    if (!refined)
      return op->emitOpError()
             << "result #" << result.getResultNumber() << " of type "
             << result.getType()
             << " contradicts the type inferred from the operands, " << type;
    result.setType(refined);
  }
  return success();
}

LogicalResult attn::verifyInferredResultTypes(Operation *op) {
  SmallVector<Type> inferred;
  cast<ShapeInference>(op).inferResultTypes(inferred);
  for (auto [result, type] : llvm::zip(op->getResults(), inferred))
    if (!refineType(result.getType(), type))
      return op->emitOpError()
             << "result type " << result.getType()
             << " is incompatible with the type inferred from the operands, "
             << type;
  return success();
}
