// RUN: attn-opt %s -attn-fuse-attention -split-input-file | FileCheck %s

// score -> masked softmax -> context is one fused attention.
// CHECK-LABEL: func @fuse_scaled
// CHECK-SAME: (%[[Q:.*]]: tensor<?x4x?x16xf32>, %[[K:.*]]: tensor<?x4x?x16xf32>, %[[V:.*]]: tensor<?x4x?x32xf32>, %[[L:.*]]: tensor<?xi32>)
func @fuse_scaled(%q: tensor<?x4x?x16xf32>, %k: tensor<?x4x?x16xf32>, %v: tensor<?x4x?x32xf32>, %len: tensor<?xi32>) -> tensor<?x4x?x32xf32> {
  // CHECK: %[[O:.*]] = attn.attention %[[Q]], %[[K]], %[[V]] lengths(%[[L]]) {scale = 2.500000e-01 : f32} : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>, tensor<?x4x?x32xf32>) -> tensor<?x4x?x32xf32>
  // CHECK-NEXT: return %[[O]]
  %e = attn.score scaled_dot %q, %k {scale = 0.25 : f32} : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x?xf32>
  %a = attn.align soft %e lengths(%len) {axis = 3} : tensor<?x4x?x?xf32>
  %c = attn.context %a, %v : (tensor<?x4x?x?xf32>, tensor<?x4x?x32xf32>) -> tensor<?x4x?x32xf32>
  return %c : tensor<?x4x?x32xf32>
}

// -----

// A dot score fuses with scale 1; `rel = "le"` against the query axis is the
// causal mask.
// CHECK-LABEL: func @fuse_dot_causal
// CHECK-SAME: (%[[Q:.*]]: tensor<?x?x16xf32>, %[[K:.*]]: tensor<?x?x16xf32>, %[[V:.*]]: tensor<?x?x16xf32>)
func @fuse_dot_causal(%q: tensor<?x?x16xf32>, %k: tensor<?x?x16xf32>, %v: tensor<?x?x16xf32>) -> tensor<?x?x16xf32> {
  // CHECK: attn.attention %[[Q]], %[[K]], %[[V]] {causal, scale = 1.000000e+00 : f32}
  // CHECK-NOT: attn.score
  %e = attn.score dot %q, %k : (tensor<?x?x16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x?xf32>
  %a = attn.align soft %e {axis = 2, rel = "le", rel_axis = 1} : tensor<?x?x?xf32>
  %c = attn.context %a, %v : (tensor<?x?x?xf32>, tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  return %c : tensor<?x?x16xf32>
}

// -----

// The weights are also returned (to be displayed): no fusion.
// CHECK-LABEL: func @weights_escape
func @weights_escape(%q: tensor<?x?x16xf32>, %k: tensor<?x?x16xf32>, %v: tensor<?x?x16xf32>) -> (tensor<?x?x16xf32>, tensor<?x?x?xf32>) {
  // CHECK-NOT: attn.attention
  // CHECK: attn.score
  // CHECK: attn.align
  // CHECK: attn.context
  %e = attn.score dot %q, %k : (tensor<?x?x16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x?xf32>
  %a = attn.align soft %e {axis = 2} : tensor<?x?x?xf32>
  %c = attn.context %a, %v : (tensor<?x?x?xf32>, tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  return %c, %a : tensor<?x?x16xf32>, tensor<?x?x?xf32>
}

// -----

// The scores have a second use: no fusion.
// CHECK-LABEL: func @scores_escape
func @scores_escape(%q: tensor<?x?x16xf32>, %k: tensor<?x?x16xf32>, %v: tensor<?x?x16xf32>) -> (tensor<?x?x16xf32>, tensor<?x?x?xf32>) {
  // CHECK-NOT: attn.attention
  %e = attn.score dot %q, %k : (tensor<?x?x16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x?xf32>
  %a = attn.align soft %e {axis = 2} : tensor<?x?x?xf32>
  %c = attn.context %a, %v : (tensor<?x?x?xf32>, tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  return %c, %e : tensor<?x?x16xf32>, tensor<?x?x?xf32>
}

// -----

// Masks the fused op cannot express, a hard alignment, a softmax over the
// query axis, and a score that is not a (scaled) dot product.
// CHECK-LABEL: func @unsupported
func @unsupported(%q: tensor<?x?x16xf32>, %k: tensor<?x?x16xf32>, %v: tensor<?x?x16xf32>, %w: tensor<16xf32>) -> (tensor<?x?x16xf32>, tensor<?x?x16xf32>, tensor<?x?x16xf32>, tensor<?x?x16xf32>, tensor<?x?x16xf32>) {
  // CHECK-NOT: attn.attention
  %e0 = attn.score dot %q, %k : (tensor<?x?x16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x?xf32>
  %a0 = attn.align soft %e0 {axis = 2, rel = "lt", rel_axis = 1} : tensor<?x?x?xf32>
  %c0 = attn.context %a0, %v : (tensor<?x?x?xf32>, tensor<?x?x16xf32>) -> tensor<?x?x16xf32>

  %e1 = attn.score dot %q, %k : (tensor<?x?x16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x?xf32>
  %a1 = attn.align soft %e1 {axis = 2, rel = "le", rel_axis = 0} : tensor<?x?x?xf32>
  %c1 = attn.context %a1, %v : (tensor<?x?x?xf32>, tensor<?x?x16xf32>) -> tensor<?x?x16xf32>

  %e2 = attn.score dot %q, %k : (tensor<?x?x16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x?xf32>
  %a2 = attn.align hard %e2 {axis = 2} : tensor<?x?x?xf32>
  %c2 = attn.context %a2, %v : (tensor<?x?x?xf32>, tensor<?x?x16xf32>) -> tensor<?x?x16xf32>

  %e3 = attn.score dot %q, %k : (tensor<?x?x16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x?xf32>
  %a3 = attn.align soft %e3 {axis = 1} : tensor<?x?x?xf32>
  %c3 = attn.context %a3, %v : (tensor<?x?x?xf32>, tensor<?x?x16xf32>) -> tensor<?x?x16xf32>

  %e4 = attn.score additive %q, %k, %w : (tensor<?x?x16xf32>, tensor<?x?x16xf32>, tensor<16xf32>) -> tensor<?x?x?xf32>
  %a4 = attn.align soft %e4 {axis = 2} : tensor<?x?x?xf32>
  %c4 = attn.context %a4, %v : (tensor<?x?x?xf32>, tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  return %c0, %c1, %c2, %c3, %c4 : tensor<?x?x16xf32>, tensor<?x?x16xf32>, tensor<?x?x16xf32>, tensor<?x?x16xf32>, tensor<?x?x16xf32>
}
