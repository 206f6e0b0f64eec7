//===- AttnDialect.td - The attn dialect -------------------*- tablegen -*-===//
//
// The `attn` dialect: attention models over builtin tensors (f32 data, i32
// token ids and lengths). See docs/dialect.md for the reference.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_TD
#define ATTN_DIALECT_TD

include "mlir/IR/OpBase.td"

def Attn_Dialect : Dialect {
  let name = "attn";
  let cppNamespace = "::mlir::attn";
  let summary = "Attention models: scores, alignments, contexts and their building blocks";
  let description = [{
    Values are builtin tensors: `f32` for data, `i32` for token ids and
    lengths. Dynamic sizes (`?`) are run-time sizes. For per-example tensors
    axis 0 is the batch. A `lengths` operand is a `tensor<?xi32>`: `lengths[b]`
    is the number of valid positions of row `b` along a masked axis; positions
    `>= lengths[b]` are padding. Results may be unranked (`tensor<*xf32>`)
    until `attn-shape-inference` refines them.

    Several ops take an einsum-like `spec`: one lowercase letter per axis,
    input terms separated by `,`, then `->` and the result term, e.g.
    `"bsd,dhk->bshk"`. An empty term is a rank-0 scalar (`",bd->bd"`).
  }];
  let emitAccessorPrefix = kEmitAccessorPrefix_Prefixed;
  let hasConstantMaterializer = 1;
}

#endif // ATTN_DIALECT_TD
