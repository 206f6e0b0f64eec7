//===- Passes.td - Passes over the attn dialect ------------*- tablegen -*-===//

#ifndef ATTN_PASSES_TD
#define ATTN_PASSES_TD

include "mlir/Pass/PassBase.td"

def ShapeInference : Pass<"attn-shape-inference", "::mlir::FuncOp"> {
  let summary = "Refine unranked and dynamic result types of attn ops";
  let description = [{
    Visits the ops of a function in program order (nested regions included)
    and calls the ShapeInference interface of each attn op, so every result
    gets the most precise type its operands allow. An attn op whose result
    stays unranked (e.g. it depends on an unranked function argument) is an
    error. Finally the function's result types become the types of the
    returned values.

    Before:
    ```mlir
    func @f(%x: tensor<?x8x64xf32>, %w: tensor<64x32xf32>) -> tensor<*xf32> {
      %y = attn.contract %x, %w {spec = "bsd,de->bse"}
          : (tensor<?x8x64xf32>, tensor<64x32xf32>) -> tensor<*xf32>
      %z = attn.unary tanh %y : tensor<*xf32>
      return %z : tensor<*xf32>
    }
    ```
    After:
    ```mlir
    func @f(%x: tensor<?x8x64xf32>, %w: tensor<64x32xf32>) -> tensor<?x8x32xf32> {
      %y = attn.contract %x, %w {spec = "bsd,de->bse"}
          : (tensor<?x8x64xf32>, tensor<64x32xf32>) -> tensor<?x8x32xf32>
      %z = attn.unary tanh %y : tensor<?x8x32xf32>
      return %z : tensor<?x8x32xf32>
    }
    ```
  }];
  let constructor = "::mlir::attn::createShapeInferencePass()";
}

def Differentiate : Pass<"attn-differentiate", "::mlir::ModuleOp"> {
  let summary = "Derive the training entry (losses and gradients) from the loss";
  let description = [{
    For each function with `attn.entry = "loss"` (one loss per example,
    `tensor<?xf32>`) adds `<model>_grad` (`attn.entry = "grad"`): its
    arguments and `d_loss` (the adjoint of each example's loss), its results
    the losses, then `d_<name>` for every parameter and float input.
    Reverse mode: the forward ops are recomputed, then each op's adjoint is
    built from ops of the dialect in reverse order. A recurrence's adjoint
    is a recurrence running the other way (backpropagation through time)
    that reads the states the forward one stored (`attn.shift`) and
    recomputes each step; contributions to weights captured by the step are
    stacked per step and summed over batch and time after the loop, as one
    contraction. Runs before `attn-raise`, on generic ops.

    With `truncate=K` (K >= 1) backpropagation through time is truncated:
    the state adjoints a backward loop carries are cut (`attn.truncate`)
    before every position that is a multiple of K, so the gradient of what
    a step computes flows back at most to the start of its chunk of K steps
    (positions [cK, (c+1)K)). The forward computation is unchanged.

    ```mlir
    // loss: %l = attn.reduce sum %e ...
    func @m_grad(%x: tensor<?x4xf32>, %w: tensor<4xf32>, %d_loss: tensor<?xf32>)
        -> (tensor<?xf32>, tensor<4xf32>, tensor<?x4xf32>)
    ```
  }];
  let constructor = "::mlir::attn::createDifferentiatePass()";
  let options = [
    Option<"truncate", "truncate", "int64_t", /*default=*/"0",
           "Truncate backpropagation through time to chunks of this many steps (0: full)">
  ];
}

def Raise : Pass<"attn-raise"> {
  let summary = "Recognise attention scores and contexts in generic attn ops";
  let description = [{
    Rewrites generic computations into the attention ops they spell:

    1. `attn.contract` with spec `P t d, P s d -> P t s` (`P` the same leading
       letters in all three terms, `d` summed, no mask) becomes
       `attn.score dot`.
    2. `attn.mul` of a single-use `attn.score dot|scaled_dot` by a scalar
       `attn.constant` (or `attn.div` by one) becomes `attn.score scaled_dot`
       with the folded `scale`.
    3. `attn.contract` `P t s, P s e -> P t e` (no mask) whose lhs is an
       `attn.align soft` over its last axis becomes `attn.context`.
    4. `attn.reduce sum` (no mask) over the last axis of
       `attn.mul(tanh(attn.add(q, k) {"P t a, P s a -> P t s a"}), w)` with
       `w : [A]` broadcast along `a`, each intermediate single-use, becomes
       `attn.score additive %q, %k, %w`.

    Before:
    ```mlir
    %e = attn.contract %q, %k {spec = "bhtd,bhsd->bhts"} : (...) -> tensor<?x4x?x?xf32>
    %c = attn.constant 2.500000e-01 : tensor<f32>
    %s = attn.mul %e, %c {spec = "bhts,->bhts"} : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
    ```
    After:
    ```mlir
    %s = attn.score scaled_dot %q, %k {scale = 2.500000e-01 : f32} : (...) -> tensor<?x4x?x?xf32>
    ```
  }];
  let constructor = "::mlir::attn::createRaisePass()";
}

def FuseAttention : Pass<"attn-fuse-attention"> {
  let summary = "Fuse score, softmax alignment and context into attn.attention";
  let description = [{
    Replaces the chain `attn.score dot|scaled_dot` -> `attn.align soft` over
    the last axis -> `attn.context` by one `attn.attention`, when the score
    and the alignment each have exactly one use. The alignment may carry
    `lengths` (kept) and `rel = "le"` with `rel_axis` the query axis (becomes
    `causal`); any other mask, a hard alignment, or an intermediate with
    another use (e.g. the weights are also returned for display) blocks the
    fusion. `dot` fuses with scale 1.0.

    Before:
    ```mlir
    %e = attn.score scaled_dot %q, %k {scale = 2.500000e-01 : f32} : (...) -> tensor<?x?x?xf32>
    %a = attn.align soft %e lengths(%len) {axis = 2} : tensor<?x?x?xf32>
    %c = attn.context %a, %v : (tensor<?x?x?xf32>, tensor<?x?x32xf32>) -> tensor<?x?x32xf32>
    ```
    After:
    ```mlir
    %c = attn.attention %q, %k, %v lengths(%len) {scale = 2.500000e-01 : f32}
        : (...) -> tensor<?x?x32xf32>
    ```
  }];
  let constructor = "::mlir::attn::createFuseAttentionPass()";
}

#endif // ATTN_PASSES_TD
