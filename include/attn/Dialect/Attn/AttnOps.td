//===- AttnOps.td - Operations of the attn dialect ---------*- tablegen -*-===//
//
// Every op: NoSideEffect, the ShapeInference interface, a C++ verifier
// (`verifyOp()`, the MLIR 14 spelling of `hasVerifier`) and builders that
// infer the result type from the operands. docs/dialect.md has the reference.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_OPS_TD
#define ATTN_OPS_TD

include "attn/Dialect/Attn/AttnDialect.td"
include "attn/Dialect/Attn/AttnEnums.td"
include "attn/Dialect/Attn/AttnInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

def Attn_Tensor : TensorOf<[F32]>;
def Attn_IdTensor : TensorOf<[I32]>;
// Structural ops (transpose, reshape, concat, slice) also move token ids.
def Attn_AnyTensor : TensorOf<[F32, I32]>;
def Attn_Scalar : 0DTensorOf<[F32]>;
def Attn_Lengths : Type<CPred<"::mlir::attn::isLengthsType($_self)">,
                        "tensor<?xi32> of lengths">,
                   BuildableType<"::mlir::attn::getLengthsType($_builder.getContext())">;

//===----------------------------------------------------------------------===//
// Base classes
//===----------------------------------------------------------------------===//

class Attn_OpBase<string mnemonic, list<Trait> traits = []>
    : Op<Attn_Dialect, mnemonic, traits> {
  let verifier = [{ return verifyOp(); }];
  code verifierDecl = [{
    /// Checks what the ODS constraints cannot; see the op description.
    ::mlir::LogicalResult verifyOp();
  }];
  let extraClassDeclaration = verifierDecl;
}

class Attn_Op<string mnemonic, list<Trait> traits = []>
    : Attn_OpBase<mnemonic, !listconcat([NoSideEffect,
          DeclareOpInterfaceMethods<ShapeInferenceOpInterface>], traits)>;

//===----------------------------------------------------------------------===//
// attn.constant
//===----------------------------------------------------------------------===//

def Attn_ConstantOp : Attn_Op<"constant", [ConstantLike]> {
  let summary = "rank-0 f32 constant";
  let description = [{
    A scalar constant, as a rank-0 tensor. Broadcast it with a `spec`:

    ```mlir
    %c = attn.constant 1.250000e-01 : tensor<f32>
    %y = attn.mul %x, %c {spec = "bd,->bd"} : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins F32Attr:$value);
  let results = (outs Attn_Scalar:$result);
  let assemblyFormat = "$value attr-dict `:` type($result)";
  let builders = [OpBuilder<(ins "double":$value)>];
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise binary ops
//===----------------------------------------------------------------------===//

class Attn_BinaryOp<string mnemonic, string what>
    : Attn_Op<mnemonic> {
  let summary = "elementwise " # what # " with einsum-style broadcasting";
  let description = [{
    Elementwise }] # what # [{ of two f32 tensors. Without `spec` both
    operands and the result have the same shape. With `spec` (two input terms
    and a result term, one letter per axis) each operand is broadcast to the
    result: every input letter must appear in the result (there is no
    summation; use `attn.contract` for that) and every result letter in an
    input. Static sizes of one letter must agree; `?` agrees with any size.

    ```mlir
    %r = attn.}] # mnemonic # [{ %a, %b {spec = "bd,bsd->bsd"}
        : (tensor<?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
    %s = attn.}] # mnemonic # [{ %x, %y : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Attn_Tensor:$lhs, Attn_Tensor:$rhs,
                       OptionalAttr<StrAttr>:$spec);
  let results = (outs Attn_Tensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let builders = [
    // An empty `spec` means identical shapes (no attribute).
    OpBuilder<(ins "::mlir::Value":$lhs, "::mlir::Value":$rhs,
                   CArg<"::llvm::StringRef", "{}">:$spec)>
  ];
  let hasFolder = 1;
}

def Attn_AddOp : Attn_BinaryOp<"add", "addition">;
def Attn_SubOp : Attn_BinaryOp<"sub", "subtraction">;
def Attn_MulOp : Attn_BinaryOp<"mul", "multiplication">;
def Attn_DivOp : Attn_BinaryOp<"div", "division">;
def Attn_MaxOp : Attn_BinaryOp<"max", "maximum">;
def Attn_MinOp : Attn_BinaryOp<"min", "minimum">;

//===----------------------------------------------------------------------===//
// attn.unary
//===----------------------------------------------------------------------===//

def Attn_UnaryOp : Attn_Op<"unary", [AllTypesMatch<["x", "result"]>]> {
  let summary = "elementwise unary function";
  let description = [{
    Applies `fn` to every element: `neg`, `exp`, `log`, `sqrt`, `rsqrt`,
    `tanh`, `sigmoid`, `relu`, `leaky_relu`, `abs` or `step` (1 where
    x > 0, else 0: the derivative of `relu`). `alpha` is the negative
    slope of `leaky_relu` (0.01 when absent) and is rejected for the others.
    The function prints as a keyword; a quoted string is accepted too.

    ```mlir
    %r = attn.unary tanh %x : tensor<?x64xf32>
    %l = attn.unary "leaky_relu" %x {alpha = 2.000000e-01 : f32} : tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Attn_UnaryFnAttr:$fn, Attn_Tensor:$x,
                       OptionalAttr<F32Attr>:$alpha);
  let results = (outs Attn_Tensor:$result);
  let assemblyFormat = "$fn $x attr-dict `:` type($x)";
  let builders = [
    OpBuilder<(ins "::mlir::attn::UnaryFn":$fn, "::mlir::Value":$x)>,
    OpBuilder<(ins "::mlir::attn::UnaryFn":$fn, "::mlir::Value":$x,
                   "float":$alpha)>
  ];
  let extraClassDeclaration = verifierDecl # [{
    /// The leaky_relu slope: `alpha` or its default 0.01.
    float getAlphaOrDefault();
  }];
  let hasCanonicalizer = 1;
}

//===----------------------------------------------------------------------===//
// Layout ops: transpose, reshape, concat, slice
//===----------------------------------------------------------------------===//

def Attn_TransposeOp : Attn_Op<"transpose"> {
  let summary = "permutes the axes of a tensor";
  let description = [{
    Result axis `i` is operand axis `perm[i]`; `perm` must be a permutation of
    `0 .. rank-1`. The identity permutation folds away and two transposes
    compose into one.

    ```mlir
    %y = attn.transpose %x {perm = [0, 2, 1]} : tensor<?x?x64xf32> -> tensor<?x64x?xf32>
    ```
  }];
  let arguments = (ins Attn_AnyTensor:$x, I64ArrayAttr:$perm);
  let results = (outs Attn_AnyTensor:$result);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($result)";
  let builders = [
    OpBuilder<(ins "::mlir::Value":$x, "::llvm::ArrayRef<int64_t>":$perm)>
  ];
  let extraClassDeclaration = verifierDecl # [{
    ::llvm::SmallVector<int64_t, 4> getPermutation();
  }];
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Attn_ReshapeOp : Attn_Op<"reshape"> {
  let summary = "row-major reinterpretation of a tensor's shape";
  let description = [{
    The elements, in row-major order, are unchanged. The result type is the
    target shape and must be ranked. The dynamic sizes must be one identical
    leading prefix of both types (run-time sizes carry over, e.g. the batch);
    the static remainders must hold equally many elements. A reshape of a
    reshape folds into one; a reshape to the operand's type folds away.

    ```mlir
    %y = attn.reshape %x : tensor<?x64xf32> -> tensor<?x4x16xf32>
    ```
  }];
  let arguments = (ins Attn_AnyTensor:$x);
  let results = (outs RankedTensorOf<[F32, I32]>:$result);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($result)";
  let hasFolder = 1;
}

def Attn_ConcatOp : Attn_Op<"concat"> {
  let summary = "concatenates tensors along an axis";
  let description = [{
    All operands have the same rank, element type and sizes except along
    `axis`, whose result size is the sum (`?` if any is dynamic).

    ```mlir
    %c = attn.concat %a, %b {axis = 1} : (tensor<?x64xf32>, tensor<?x32xf32>) -> tensor<?x96xf32>
    ```
  }];
  let arguments = (ins Variadic<Attn_AnyTensor>:$inputs, I64Attr:$axis);
  let results = (outs Attn_AnyTensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` functional-type($inputs, results)";
  let builders = [
    OpBuilder<(ins "::mlir::ValueRange":$inputs, "int64_t":$axis)>
  ];
}

def Attn_SliceOp : Attn_Op<"slice"> {
  let summary = "static window of a tensor along one axis";
  let description = [{
    Positions `start .. start+size-1` along `axis`; `start` and `size` are
    static and non-negative, and must fit a static operand size.

    ```mlir
    %s = attn.slice %x {axis = 1, start = 0, size = 16} : tensor<?x64xf32> -> tensor<?x16xf32>
    ```
  }];
  let arguments = (ins Attn_AnyTensor:$x, I64Attr:$axis, I64Attr:$start,
                       I64Attr:$size);
  let results = (outs Attn_AnyTensor:$result);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($result)";
  let builders = [
    OpBuilder<(ins "::mlir::Value":$x, "int64_t":$axis, "int64_t":$start,
                   "int64_t":$size)>
  ];
}

def Attn_PickOp : Attn_Op<"pick"> {
  let summary = "the first or last valid position along an axis";
  let description = [{
    Removes `axis` (not 0, the batch) by taking one position of it: the first
    (`last = false`) or the last. With `lengths`, the last position of batch
    row `b` is `lengths[b] - 1`, and a row with no valid position gives 0;
    without, it is the last position of the axis. This is the final state of
    a recurrence over padded sequences (`last(h)`, or `first(h)` when it ran
    reversed).

    ```mlir
    %hn = attn.pick %h lengths(%len) {axis = 1, last = true} : tensor<?x?x64xf32> -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Attn_Tensor:$x, Optional<Attn_Lengths>:$lengths,
                       I64Attr:$axis, BoolAttr:$last);
  let results = (outs Attn_Tensor:$result);
  let assemblyFormat = [{
    $x (`lengths` `(` $lengths^ `)`)? attr-dict `:` type($x) `->` type($result)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$x, "int64_t":$axis, "bool":$last,
                   CArg<"::mlir::Value", "{}">:$lengths)>
  ];
}

//===----------------------------------------------------------------------===//
// attn.contract
//===----------------------------------------------------------------------===//

def Attn_ContractOp : Attn_Op<"contract"> {
  let summary = "einsum of two tensors, optionally masked along a summed axis";
  let description = [{
    `spec` names the axes of both operands and of the result; letters absent
    from the result are summed over. Static sizes of one letter must agree.

    With `lengths(%len)` and `masked = "s"`, the terms whose position along
    the summed letter `s` is `>= lengths[b]` are skipped, where `b` is the
    position along the lhs's axis 0 (the batch). The masked letter must be
    summed, must appear in the lhs, and must not be the lhs's axis 0.

    ```mlir
    %y = attn.contract %x, %w {spec = "bsd,dhk->bshk"}
        : (tensor<?x?x64xf32>, tensor<64x4x16xf32>) -> tensor<?x?x4x16xf32>
    %c = attn.contract %a, %v lengths(%len) {masked = "s", spec = "bts,bsd->btd"}
        : (tensor<?x?x?xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
    ```
  }];
  let arguments = (ins Attn_Tensor:$lhs, Attn_Tensor:$rhs,
                       Optional<Attn_Lengths>:$lengths, StrAttr:$spec,
                       OptionalAttr<StrAttr>:$masked);
  let results = (outs Attn_Tensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs (`lengths` `(` $lengths^ `)`)? attr-dict `:`
    `(` type($lhs) `,` type($rhs) `)` `->` type($result)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$lhs, "::mlir::Value":$rhs,
                   "::llvm::StringRef":$spec,
                   CArg<"::mlir::Value", "{}">:$lengths,
                   CArg<"::llvm::StringRef", "{}">:$masked)>
  ];
}

//===----------------------------------------------------------------------===//
// Masked reductions and alignments
//===----------------------------------------------------------------------===//

// The position mask shared by attn.reduce and attn.align.
defvar Attn_PositionMaskDoc = [{
    Positions along `axis` can be masked out:
    - `lengths(%len)`: position `p` is kept only if `p < lengths[b]`, `b` the
      position along axis 0 (the batch; `axis` must not be 0);
    - `rel = "le"|"lt"|"ge"|"gt"` with `rel_axis` (another axis): position `p`
      is kept only if `p REL q`, `q` the position along `rel_axis`. With
      `axis` the key axis and `rel_axis` the query axis, `le` is the causal
      mask.
}];

def Attn_ReduceOp : Attn_Op<"reduce"> {
  let summary = "sum, mean, max or min along one axis, with optional masks";
  let description = [{
    Reduces `axis` away. }] # Attn_PositionMaskDoc # [{
    `mean` divides by the number of kept positions; a reduction with no kept
    position gives 0.

    ```mlir
    %r = attn.reduce sum %x {axis = 2} : tensor<?x?x64xf32> -> tensor<?x?xf32>
    %m = attn.reduce mean %h lengths(%len) {axis = 1} : tensor<?x?x64xf32> -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Attn_ReduceKindAttr:$kind, Attn_Tensor:$x,
                       Optional<Attn_Lengths>:$lengths, I64Attr:$axis,
                       OptionalAttr<Attn_PositionRelAttr>:$rel,
                       OptionalAttr<I64Attr>:$rel_axis);
  let results = (outs Attn_Tensor:$result);
  let assemblyFormat = [{
    $kind $x (`lengths` `(` $lengths^ `)`)? attr-dict `:` type($x) `->` type($result)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::attn::ReduceKind":$kind, "::mlir::Value":$x,
                   "int64_t":$axis, CArg<"::mlir::Value", "{}">:$lengths,
                   CArg<"::llvm::Optional<::mlir::attn::PositionRel>",
                        "::llvm::None">:$rel,
                   CArg<"int64_t", "0">:$relAxis)>
  ];
  let extraClassDeclaration = verifierDecl # [{
    /// `rel` as an enum, if present.
    ::llvm::Optional<::mlir::attn::PositionRel> getRelKind() {
      if (auto rel = getRel())
        return ::mlir::attn::symbolizePositionRel(*rel);
      return ::llvm::None;
    }
  }];
}

def Attn_AlignOp : Attn_Op<"align", [AllTypesMatch<["x", "result"]>]> {
  let summary = "attention weights: masked softmax or hard one-hot along an axis";
  let description = [{
    `soft`: softmax along `axis` over the kept positions; masked positions
    get weight 0 and a row with no kept position is all 0 (never NaN).
    `hard`: one-hot of the argmax over the kept positions (the inference form
    of hard attention; the first maximum wins). }] # Attn_PositionMaskDoc # [{

    ```mlir
    %a = attn.align soft %e lengths(%len) {axis = 3} : tensor<?x4x?x?xf32>
    %c = attn.align soft %e {axis = 2, rel = "le", rel_axis = 1} : tensor<?x?x?xf32>
    ```
  }];
  let arguments = (ins Attn_AlignModeAttr:$mode, Attn_Tensor:$x,
                       Optional<Attn_Lengths>:$lengths, I64Attr:$axis,
                       OptionalAttr<Attn_PositionRelAttr>:$rel,
                       OptionalAttr<I64Attr>:$rel_axis);
  let results = (outs Attn_Tensor:$result);
  let assemblyFormat = [{
    $mode $x (`lengths` `(` $lengths^ `)`)? attr-dict `:` type($x)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::attn::AlignMode":$mode, "::mlir::Value":$x,
                   "int64_t":$axis, CArg<"::mlir::Value", "{}">:$lengths,
                   CArg<"::llvm::Optional<::mlir::attn::PositionRel>",
                        "::llvm::None">:$rel,
                   CArg<"int64_t", "0">:$relAxis)>
  ];
  let extraClassDeclaration = verifierDecl # [{
    /// `rel` as an enum, if present.
    ::llvm::Optional<::mlir::attn::PositionRel> getRelKind() {
      if (auto rel = getRel())
        return ::mlir::attn::symbolizePositionRel(*rel);
      return ::llvm::None;
    }
  }];
}

def Attn_MaskOp : Attn_Op<"mask", [AllTypesMatch<["x", "result"]>]> {
  let summary = "zeroes the padding positions along an axis";
  let description = [{
    Position `p` along `axis` becomes 0 where `p >= lengths[b]`, `b` the
    position along axis 0 (so `axis` must not be 0).

    ```mlir
    %y = attn.mask %x lengths(%len) {axis = 1} : tensor<?x?x64xf32>
    ```
  }];
  let arguments = (ins Attn_Tensor:$x, Attn_Lengths:$lengths, I64Attr:$axis);
  let results = (outs Attn_Tensor:$result);
  let assemblyFormat = "$x `lengths` `(` $lengths `)` attr-dict `:` type($x)";
  let builders = [
    OpBuilder<(ins "::mlir::Value":$x, "::mlir::Value":$lengths,
                   "int64_t":$axis)>
  ];
}

//===----------------------------------------------------------------------===//
// attn.batch_broadcast
//===----------------------------------------------------------------------===//

def Attn_BatchBroadcastOp : Attn_Op<"batch_broadcast"> {
  let summary = "a per-example copy of a batch-independent value";
  let description = [{
    `result[b, i...] = x[i...]` (or `x` itself if it is a scalar) for every
    batch row `b`; the batch size is the size of axis 0 of `ref`, whose values
    are not read. `shape` is the shape of each row. Used for the initial states
    of recurrences written as `init zeros(H)` or with a parameter.

    ```mlir
    %h0 = attn.batch_broadcast %zero like %len {shape = [128]} : tensor<f32>, tensor<?xi32> -> tensor<?x128xf32>
    ```
  }];
  let arguments = (ins Attn_Tensor:$x, Attn_AnyTensor:$ref, I64ArrayAttr:$shape);
  let results = (outs Attn_Tensor:$result);
  let assemblyFormat = [{
    $x `like` $ref attr-dict `:` type($x) `,` type($ref) `->` type($result)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$x, "::mlir::Value":$ref,
                   "::llvm::ArrayRef<int64_t>":$shape)>
  ];
}

//===----------------------------------------------------------------------===//
// attn.gather
//===----------------------------------------------------------------------===//

def Attn_GatherOp : Attn_Op<"gather"> {
  let summary = "embedding lookup: rows of a table selected by token ids";
  let description = [{
    `result[i..., j...] = table[ids[i...], j...]`: the result shape is the ids
    shape followed by the table shape without its first axis.

    ```mlir
    %e = attn.gather %table, %ids : (tensor<1000x64xf32>, tensor<?x?xi32>) -> tensor<?x?x64xf32>
    ```
  }];
  let arguments = (ins Attn_Tensor:$table, Attn_IdTensor:$ids);
  let results = (outs Attn_Tensor:$result);
  let assemblyFormat = [{
    $table `,` $ids attr-dict `:` functional-type(operands, results)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$table, "::mlir::Value":$ids)>
  ];
}

//===----------------------------------------------------------------------===//
// Attention: score, context, fused attention, head combination
//===----------------------------------------------------------------------===//

def Attn_ScoreOp : Attn_Op<"score"> {
  let summary = "attention scores between queries and keys";
  let description = [{
    `q` is `[N..., T, D]`, `k` is `[N..., S, D']` and the result is
    `[N..., T, S]`, where `N...` are leading batch/head axes shared by both.

    - `dot`: `e[n,t,s] = sum_d q[n,t,d] k[n,s,d]` (`D == D'`);
    - `scaled_dot`: `scale * dot`, `scale` required (e.g. `1/sqrt(D)`);
    - `general` (Luong): third operand `W : [D, D']`,
      `e = sum_{d,d'} q[n,t,d] W[d,d'] k[n,s,d']`;
    - `additive` (Bahdanau): third operand `w : [A]` with `D == D' == A`,
      `e = sum_a w[a] tanh(q[n,t,a] + k[n,s,a])`, with `q` and `k` already
      projected (`q = W1 h_t`, `k = W2 h_s`). Luong's `concat` score
      `v^T tanh(W [h_t; h_s])` is this form, since `W [h_t; h_s] = W1 h_t + W2 h_s`.

    `scale` is only allowed for `scaled_dot`; the third operand only for
    `general` and `additive`.

    ```mlir
    %e = attn.score scaled_dot %q, %k {scale = 1.250000e-01 : f32}
        : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x?xf32>
    %g = attn.score general %q, %k, %w
        : (tensor<?x?x64xf32>, tensor<?x?x32xf32>, tensor<64x32xf32>) -> tensor<?x?x?xf32>
    ```
  }];
  let arguments = (ins Attn_ScoreKindAttr:$kind, Attn_Tensor:$q,
                       Attn_Tensor:$k, Optional<Attn_Tensor>:$weight,
                       OptionalAttr<F32Attr>:$scale);
  let results = (outs Attn_Tensor:$result);
  let assemblyFormat = [{
    $kind $q `,` $k (`,` $weight^)? attr-dict `:` functional-type(operands, results)
  }];
  let builders = [
    // `weight` for general/additive, `scale` for scaled_dot.
    OpBuilder<(ins "::mlir::attn::ScoreKind":$kind, "::mlir::Value":$q,
                   "::mlir::Value":$k, CArg<"::mlir::Value", "{}">:$weight,
                   CArg<"::llvm::Optional<float>", "::llvm::None">:$scale)>
  ];
}

def Attn_ContextOp : Attn_Op<"context"> {
  let summary = "context vectors: alignment-weighted sum of values";
  let description = [{
    `alpha : [N..., T, S]` and `v : [N..., S, Dv]` give
    `c[n,t,e] = sum_s alpha[n,t,s] v[n,s,e]` of shape `[N..., T, Dv]`.

    ```mlir
    %c = attn.context %a, %v : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
    ```
  }];
  let arguments = (ins Attn_Tensor:$alpha, Attn_Tensor:$v);
  let results = (outs Attn_Tensor:$result);
  let assemblyFormat = [{
    $alpha `,` $v attr-dict `:` functional-type(operands, results)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$alpha, "::mlir::Value":$v)>
  ];
}

def Attn_AttentionOp : Attn_Op<"attention"> {
  let summary = "fused scaled dot-product attention";
  let description = [{
    `softmax_s(scale * q.k)` weighting `v`, in one op:
    `q : [N..., T, D]`, `k : [N..., S, D]`, `v : [N..., S, Dv]` give
    `[N..., T, Dv]`. Optional masks on the key positions `s`:
    `lengths(%len)` keeps `s < lengths[b]` (`b` along axis 0, so `N...` must
    not be empty); the unit attribute `causal` keeps `s <= t`. A query row
    with no kept key gives 0s. Equivalent to `attn.score scaled_dot`,
    `attn.align soft` over the last axis, `attn.context`.

    ```mlir
    %o = attn.attention %q, %k, %v lengths(%len) {causal, scale = 2.500000e-01 : f32}
        : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
    ```
  }];
  let arguments = (ins Attn_Tensor:$q, Attn_Tensor:$k, Attn_Tensor:$v,
                       Optional<Attn_Lengths>:$lengths, F32Attr:$scale,
                       UnitAttr:$causal);
  let results = (outs Attn_Tensor:$result);
  let assemblyFormat = [{
    $q `,` $k `,` $v (`lengths` `(` $lengths^ `)`)? attr-dict `:`
    `(` type($q) `,` type($k) `,` type($v) `)` `->` type($result)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$q, "::mlir::Value":$k, "::mlir::Value":$v,
                   "float":$scale, CArg<"::mlir::Value", "{}">:$lengths,
                   CArg<"bool", "false">:$causal)>
  ];
}

def Attn_AttentionGradOp : Attn_Op<"attention_grad"> {
  let summary = "the adjoint of attn.attention, fused";
  let description = [{
    The gradients `dq`, `dk`, `dv` (types of `q`, `k`, `v`) of
    `sum(dout * attn.attention(q, k, v))`, given the forward result `out` and
    its adjoint `dout`, with the same `lengths`, `scale` and `causal` as the
    forward op. Lowered to a kernel that recomputes the probabilities block
    by block (the T x S matrix is never stored): with `p` the masked softmax
    and `D[t] = sum_e dout[t, e] * out[t, e]`, `ds = p * (dout . v - D)`,
    `dq = scale * ds k`, `dk = scale * ds^T q`, `dv = p^T dout`.
    attn-differentiate emits it for a score -> soft alignment -> weighted sum
    that attn-fuse-attention would fuse.

    ```mlir
    %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %do lengths(%len) {scale = 2.500000e-01 : f32}
        : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>,
           tensor<?x4x?x16xf32>) -> (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>)
    ```
  }];
  let arguments = (ins Attn_Tensor:$q, Attn_Tensor:$k, Attn_Tensor:$v,
                       Attn_Tensor:$out, Attn_Tensor:$dout,
                       Optional<Attn_Lengths>:$lengths, F32Attr:$scale,
                       UnitAttr:$causal);
  let results = (outs Attn_Tensor:$dq, Attn_Tensor:$dk, Attn_Tensor:$dv);
  let assemblyFormat = [{
    $q `,` $k `,` $v `,` $out `,` $dout (`lengths` `(` $lengths^ `)`)? attr-dict `:`
    `(` type($q) `,` type($k) `,` type($v) `,` type($out) `,` type($dout) `)` `->`
    `(` type($dq) `,` type($dk) `,` type($dv) `)`
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$q, "::mlir::Value":$k, "::mlir::Value":$v,
                   "::mlir::Value":$out, "::mlir::Value":$dout, "float":$scale,
                   CArg<"::mlir::Value", "{}">:$lengths, CArg<"bool", "false">:$causal)>
  ];
}

def Attn_CombineHeadsOp : Attn_Op<"combine_heads"> {
  let summary = "combines attention heads by concatenation or averaging";
  let description = [{
    `x : [N..., H, K]` becomes `[N..., H*K]` (`concat`, heads in order) or
    `[N..., K]` (`average`, the mean over heads).

    ```mlir
    %y = attn.combine_heads concat %x : tensor<?x?x4x16xf32> -> tensor<?x?x64xf32>
    %z = attn.combine_heads average %x : tensor<?x?x4x16xf32> -> tensor<?x?x16xf32>
    ```
  }];
  let arguments = (ins Attn_CombineModeAttr:$mode, Attn_Tensor:$x);
  let results = (outs Attn_Tensor:$result);
  let assemblyFormat = "$mode $x attr-dict `:` type($x) `->` type($result)";
  let builders = [
    OpBuilder<(ins "::mlir::attn::CombineMode":$mode, "::mlir::Value":$x)>
  ];
}

//===----------------------------------------------------------------------===//
// Recurrence
//===----------------------------------------------------------------------===//

def Attn_RecurrenceOp : Attn_OpBase<"recurrence", [NoSideEffect,
    AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<ShapeInferenceOpInterface, ["inferShapes"]>]> {
  let summary = "a step function scanned over a time axis with carried state";
  let description = [{
    Runs the body once per time step `t` along `axis` of every sequence
    (`reverse`: from the last step to the first). The body's block arguments
    are the step slice of each sequence (its type without `axis`), then each
    carried state; `attn.yield` returns the next states, with the types of
    the `init` operands. Result `i` stacks state `i` after every step, with
    the time axis inserted at `axis` of the state type.

    With `lengths(%len)`, steps `t >= lengths[b]` of batch row `b` (axis 0)
    leave that row's state unchanged (its stacked value repeats the carried
    state); with `reverse` each row starts at its own last valid step.

    ```mlir
    %hs = attn.recurrence over %xs {axis = 1} init(%h0) lengths(%len)
        : (tensor<?x?x64xf32>, tensor<?x128xf32>, tensor<?xi32>) -> tensor<?x?x128xf32> {
    ^bb0(%x_t: tensor<?x64xf32>, %h: tensor<?x128xf32>):
      %p = attn.contract %x_t, %w {spec = "bd,de->be"} : (tensor<?x64xf32>, tensor<64x128xf32>) -> tensor<?x128xf32>
      %s = attn.add %p, %h : (tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<?x128xf32>
      %h_next = attn.unary tanh %s : tensor<?x128xf32>
      attn.yield %h_next : tensor<?x128xf32>
    }
    ```
  }];
  let arguments = (ins Variadic<Attn_Tensor>:$sequences,
                       Variadic<Attn_Tensor>:$inits,
                       Optional<Attn_Lengths>:$lengths, I64Attr:$axis,
                       UnitAttr:$reverse);
  let results = (outs Variadic<Attn_Tensor>:$outputs);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    `over` $sequences attr-dict `init` `(` $inits `)`
    (`lengths` `(` $lengths^ `)`)? `:` functional-type(operands, results) $body
  }];
  let skipDefaultBuilders = 1;
  let builders = [
    // Creates the body block with its arguments typed from the operands; the
    // caller fills it and ends it with attn.yield.
    OpBuilder<(ins "::mlir::ValueRange":$sequences, "::mlir::ValueRange":$inits,
                   "int64_t":$axis, CArg<"::mlir::Value", "{}">:$lengths,
                   CArg<"bool", "false">:$reverse)>
  ];
  let extraClassDeclaration = verifierDecl # [{
    ::mlir::Block *getBodyBlock() { return &getBody().front(); }
    /// The per-step slices of the sequences, then the carried states.
    ::mlir::Block::BlockArgListType getStepArguments() {
      return getBodyBlock()->getArguments().take_front(getSequences().size());
    }
    ::mlir::Block::BlockArgListType getStateArguments() {
      return getBodyBlock()->getArguments().drop_front(getSequences().size());
    }
    /// Block argument types implied by the operand types.
    ::llvm::SmallVector<::mlir::Type> inferBodyArgumentTypes();
  }];
}

def Attn_YieldOp : Op<Attn_Dialect, "yield", [NoSideEffect, ReturnLike,
    Terminator, HasParent<"RecurrenceOp">]> {
  let summary = "next carried states of an attn.recurrence step";
  let description = [{
    Terminates the body of `attn.recurrence`; one value per carried state,
    with the state's type.

    ```mlir
    attn.yield %h_next : tensor<?x128xf32>
    ```
  }];
  let arguments = (ins Variadic<Attn_Tensor>:$values);
  let assemblyFormat = "attr-dict ($values^ `:` type($values))?";
}


//===----------------------------------------------------------------------===//
// Training: the loss and the ops that gradients need
//===----------------------------------------------------------------------===//

def Attn_CrossEntropyOp : Attn_Op<"cross_entropy"> {
  let summary = "negative log-likelihood of target ids under softmax(logits)";
  let description = [{
    `result[i...] = logsumexp(logits[i..., :]) - (1 - s) logits[i..., y] -
    (s / V) sum_v logits[i..., v]`, with `y = ids[i...]`, `V` the size of the
    last axis of `logits` and `s` the label smoothing (0 when absent). An id
    outside `[0, V)` is clamped (the generated API checks ids before calling).

    ```mlir
    %l = attn.cross_entropy %logits, %tgt {smoothing = 1.000000e-01 : f32}
        : (tensor<?x?x40xf32>, tensor<?x?xi32>) -> tensor<?x?xf32>
    ```
  }];
  let arguments = (ins Attn_Tensor:$logits, Attn_IdTensor:$ids,
                       OptionalAttr<F32Attr>:$smoothing);
  let results = (outs Attn_Tensor:$result);
  let assemblyFormat = "$logits `,` $ids attr-dict `:` functional-type(operands, results)";
  let builders = [
    OpBuilder<(ins "::mlir::Value":$logits, "::mlir::Value":$ids, "float":$smoothing)>
  ];
}

def Attn_CrossEntropyGradOp : Attn_Op<"cross_entropy_grad"> {
  let summary = "adjoint of attn.cross_entropy with respect to the logits";
  let description = [{
    `result[i..., v] = d[i...] * (softmax(logits[i..., :])[v] - (1 - s) [v == y]
    - s / V)`, `y = ids[i...]`: the gradient of `d * cross_entropy`.

    ```mlir
    %g = attn.cross_entropy_grad %logits, %tgt, %d
        : (tensor<?x?x40xf32>, tensor<?x?xi32>, tensor<?x?xf32>) -> tensor<?x?x40xf32>
    ```
  }];
  let arguments = (ins Attn_Tensor:$logits, Attn_IdTensor:$ids, Attn_Tensor:$d,
                       OptionalAttr<F32Attr>:$smoothing);
  let results = (outs Attn_Tensor:$result);
  let assemblyFormat = "$logits `,` $ids `,` $d attr-dict `:` functional-type(operands, results)";
  let builders = [
    OpBuilder<(ins "::mlir::Value":$logits, "::mlir::Value":$ids,
                   "::mlir::Value":$d, "float":$smoothing)>
  ];
}

def Attn_ReduceGradOp : Attn_Op<"reduce_grad"> {
  let summary = "adjoint of attn.reduce: spreads the result's adjoint over the axis";
  let description = [{
    For `y = attn.reduce kind %x {axis}` and the adjoint `d` of `y`, the
    adjoint of `x`: `d` broadcast along `axis` at the kept positions (the
    same `lengths` / `rel` masks as the reduction) and 0 elsewhere; `mean`
    divides by the number of kept positions; `max` / `min` send it to the
    positions equal to `y`.

    ```mlir
    %dx = attn.reduce_grad sum %x, %y, %d lengths(%len) {axis = 1}
        : (tensor<?x?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x?x64xf32>
    ```
  }];
  let arguments = (ins Attn_ReduceKindAttr:$kind, Attn_Tensor:$x, Attn_Tensor:$y,
                       Attn_Tensor:$d, Optional<Attn_Lengths>:$lengths,
                       I64Attr:$axis, OptionalAttr<Attn_PositionRelAttr>:$rel,
                       OptionalAttr<I64Attr>:$rel_axis);
  let results = (outs Attn_Tensor:$result);
  let assemblyFormat = [{
    $kind $x `,` $y `,` $d (`lengths` `(` $lengths^ `)`)? attr-dict `:`
    functional-type(operands, results)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::attn::ReduceOp":$forward, "::mlir::Value":$d)>
  ];
}

def Attn_PadOp : Attn_Op<"pad"> {
  let summary = "zero padding along an axis (the adjoint of attn.slice)";
  let description = [{
    `before` zeros, then `x`, then `after` zeros along `axis`.

    ```mlir
    %p = attn.pad %x {axis = 1, before = 16, after = 32} : tensor<?x16xf32> -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Attn_Tensor:$x, I64Attr:$axis, I64Attr:$before,
                       I64Attr:$after);
  let results = (outs Attn_Tensor:$result);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($result)";
  let builders = [
    OpBuilder<(ins "::mlir::Value":$x, "int64_t":$axis, "int64_t":$before,
                   "int64_t":$after)>
  ];
}

def Attn_UnpickOp : Attn_Op<"unpick"> {
  let summary = "places values at the first or last valid position (adjoint of attn.pick)";
  let description = [{
    The inverse placement of `attn.pick`: the result has the type of `like`
    (whose values are not read), holds `x` at the position that `attn.pick`
    with the same `axis`, `last` and `lengths` would read, and 0 elsewhere.

    ```mlir
    %d = attn.unpick %g like %h lengths(%len) {axis = 1, last = true}
        : tensor<?x64xf32>, tensor<?x?x64xf32> -> tensor<?x?x64xf32>
    ```
  }];
  let arguments = (ins Attn_Tensor:$x, Attn_Tensor:$like,
                       Optional<Attn_Lengths>:$lengths, I64Attr:$axis,
                       BoolAttr:$last);
  let results = (outs Attn_Tensor:$result);
  let assemblyFormat = [{
    $x `like` $like (`lengths` `(` $lengths^ `)`)? attr-dict `:` type($x) `,`
    type($like) `->` type($result)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$x, "::mlir::Value":$like, "int64_t":$axis,
                   "bool":$last, CArg<"::mlir::Value", "{}">:$lengths)>
  ];
}

def Attn_ShiftOp : Attn_Op<"shift"> {
  let summary = "the previous states of a recurrence, from its results";
  let description = [{
    For the stacked states `seq` of a recurrence over `axis` and its initial
    state `init` (the type of `seq` without `axis`): the state each step
    read. Forward: `result[t] = t == 0 ? init : seq[t - 1]`. With `reverse`:
    `result[t] = t + 1 == end ? init : seq[t + 1]`, `end` the row's length
    (`lengths`) or the axis size. Backpropagation through time reads these.

    ```mlir
    %prev = attn.shift %hs, %h0 lengths(%len) {axis = 1, reverse}
        : tensor<?x?x64xf32>, tensor<?x64xf32> -> tensor<?x?x64xf32>
    ```
  }];
  let arguments = (ins Attn_Tensor:$seq, Attn_Tensor:$init,
                       Optional<Attn_Lengths>:$lengths, I64Attr:$axis,
                       UnitAttr:$reverse);
  let results = (outs Attn_Tensor:$result);
  let assemblyFormat = [{
    $seq `,` $init (`lengths` `(` $lengths^ `)`)? attr-dict `:` type($seq) `,`
    type($init) `->` type($result)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$seq, "::mlir::Value":$init, "int64_t":$axis,
                   "bool":$reverse, CArg<"::mlir::Value", "{}">:$lengths)>
  ];
}

def Attn_TruncateOp : Attn_Op<"truncate", [AllTypesMatch<["x", "result"]>]> {
  let summary = "cuts a carried adjoint at truncation boundaries (truncated BPTT)";
  let description = [{
    In the body of an `attn.recurrence` (a backward loop built by
    attn-differentiate with truncation): `x`, or zeros at the steps where
    backpropagation through time is cut. The cut lies before every position
    `p` with `p % every == 0` and `0 < p < length`: a loop running forward
    (`t` increasing) zeroes `x` at `t % every == 0`, `t > 0`; a reversed loop
    zeroes it at `(t + 1) % every == 0`, `t + 1 < length` of the row. Outside
    a recurrence it is `x`.

    ```mlir
    %cut = attn.truncate %dh {every = 20} : tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Attn_Tensor:$x, I64Attr:$every);
  let results = (outs Attn_Tensor:$result);
  let assemblyFormat = "$x attr-dict `:` type($x)";
  let builders = [OpBuilder<(ins "::mlir::Value":$x, "int64_t":$every)>];
}

def Attn_DropoutOp : Attn_Op<"dropout", [AllTypesMatch<["x", "result"]>]> {
  let summary = "inverted dropout, deterministic from a seed";
  let description = [{
    `control` holds two i32: whether dropout is on, and the seed. On, each
    element is kept with probability `1 - rate` and scaled by `1 / (1 - rate)`,
    or zeroed; off, the result is `x`. Whether an element is kept is a hash of
    the seed, `salt` (one per dropout in a model), the element's position and,
    in a recurrence step, the time step: the same seed gives the same mask, so
    the adjoint (an attn.dropout of the result's adjoint with the same
    attributes) drops exactly the elements the forward pass dropped. The
    language's `dropout(x, p)` becomes this op in the training entries only.

    ```mlir
    %y = attn.dropout %x, %ctl {rate = 1.000000e-01 : f32, salt = 0 : i64} : tensor<?x64xf32>, tensor<2xi32>
    ```
  }];
  let arguments = (ins Attn_Tensor:$x, Attn_IdTensor:$control, F32Attr:$rate,
                       I64Attr:$salt);
  let results = (outs Attn_Tensor:$result);
  let assemblyFormat = "$x `,` $control attr-dict `:` type($x) `,` type($control)";
  let builders = [OpBuilder<(ins "::mlir::Value":$x, "::mlir::Value":$control,
                                 "double":$rate, "int64_t":$salt)>];
}

def Attn_ScatterAddOp : Attn_Op<"scatter_add"> {
  let summary = "sums rows into a table by token ids (adjoint of attn.gather)";
  let description = [{
    `result[v, j...] = sum over i... with ids[i...] == v of x[i..., j...]`:
    the result has `rows` rows and the trailing shape of `x` after the ids'
    axes. Ids outside `[0, rows)` are skipped.

    ```mlir
    %dE = attn.scatter_add %d, %ids {rows = 1000} : (tensor<?x?x64xf32>, tensor<?x?xi32>) -> tensor<1000x64xf32>
    ```
  }];
  let arguments = (ins Attn_Tensor:$x, Attn_IdTensor:$ids, I64Attr:$rows);
  let results = (outs Attn_Tensor:$result);
  let assemblyFormat = "$x `,` $ids attr-dict `:` functional-type(operands, results)";
  let builders = [
    OpBuilder<(ins "::mlir::Value":$x, "::mlir::Value":$ids, "int64_t":$rows)>
  ];
}

#endif // ATTN_OPS_TD
