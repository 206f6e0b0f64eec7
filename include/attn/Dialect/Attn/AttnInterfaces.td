//===- AttnInterfaces.td - Shape inference interface -------*- tablegen -*-===//

#ifndef ATTN_INTERFACES_TD
#define ATTN_INTERFACES_TD

include "mlir/IR/OpBase.td"

def ShapeInferenceOpInterface : OpInterface<"ShapeInference"> {
  let cppNamespace = "::mlir::attn";
  let description = [{
    An op whose result types follow from its operand types and attributes.
    `attn-shape-inference` calls `inferShapes()` on every such op, in program
    order, to turn unranked or partially dynamic result types into the most
    precise types the operands allow.
  }];

  let methods = [
    InterfaceMethod<[{
        Appends one type per result, computed from the current operand types
        and attributes alone. A result the operands do not determine (e.g. an
        unranked operand) is appended as an unranked tensor; a dimension they
        do not determine is dynamic.
      }],
      "void", "inferResultTypes",
      (ins "::llvm::SmallVectorImpl<::mlir::Type> &":$inferred)>,
    InterfaceMethod<[{
        Refines every result type with the inferred one (keeping whatever is
        more precise of the two). Emits an error and fails when a result type
        contradicts the inferred one.
      }],
      "::mlir::LogicalResult", "inferShapes", (ins), /*methodBody=*/[{}],
      /*defaultImplementation=*/[{
        return ::mlir::attn::refineResultTypes($_op.getOperation());
      }]>,
  ];
}

#endif // ATTN_INTERFACES_TD
