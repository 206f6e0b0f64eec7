// RUN: attn-opt %s -attn-shape-inference -split-input-file -verify-diagnostics | FileCheck %s

// Unranked results are refined in program order; the function type follows
// the returned values.
// CHECK-LABEL: func @chain
// CHECK-SAME: -> tensor<?x8x32xf32>
func @chain(%x: tensor<?x8x64xf32>, %w: tensor<64x32xf32>, %b: tensor<32xf32>) -> tensor<*xf32> {
  // CHECK: attn.contract {{.*}} -> tensor<?x8x32xf32>
  %y = attn.contract %x, %w {spec = "bsd,de->bse"} : (tensor<?x8x64xf32>, tensor<64x32xf32>) -> tensor<*xf32>
  // CHECK: attn.add {{.*}} : (tensor<?x8x32xf32>, tensor<32xf32>) -> tensor<?x8x32xf32>
  %z = attn.add %y, %b {spec = "bse,e->bse"} : (tensor<*xf32>, tensor<32xf32>) -> tensor<*xf32>
  // CHECK: attn.unary tanh %{{.*}} : tensor<?x8x32xf32>
  %t = attn.unary tanh %z : tensor<*xf32>
  // CHECK: return %{{.*}} : tensor<?x8x32xf32>
  return %t : tensor<*xf32>
}

// -----

// Partially dynamic results get the static sizes the operands give.
// CHECK-LABEL: func @refine_dynamic
func @refine_dynamic(%x: tensor<2x5x64xf32>) -> tensor<?x?xf32> {
  // CHECK: attn.reduce sum %{{.*}} {axis = 2 : i64} : tensor<2x5x64xf32> -> tensor<2x5xf32>
  %r = attn.reduce sum %x {axis = 2} : tensor<2x5x64xf32> -> tensor<?x?xf32>
  // CHECK: return %{{.*}} : tensor<2x5xf32>
  return %r : tensor<?x?xf32>
}

// -----

// Every op kind infers a ranked type from ranked operands.
// CHECK-LABEL: func @attention_ops
func @attention_ops(%ids: tensor<?x?xi32>, %table: tensor<1000x64xf32>, %wq: tensor<64x4x16xf32>, %len: tensor<?xi32>) -> (tensor<?x?x8x9xf32>, tensor<*xf32>) {
  // CHECK: attn.gather {{.*}} -> tensor<?x?x64xf32>
  %e = attn.gather %table, %ids : (tensor<1000x64xf32>, tensor<?x?xi32>) -> tensor<*xf32>
  // CHECK: attn.contract {{.*}} -> tensor<?x?x4x16xf32>
  %p = attn.contract %e, %wq {spec = "bsd,dhk->bshk"} : (tensor<*xf32>, tensor<64x4x16xf32>) -> tensor<*xf32>
  // CHECK: attn.transpose {{.*}} : tensor<?x?x4x16xf32> -> tensor<?x4x?x16xf32>
  %q = attn.transpose %p {perm = [0, 2, 1, 3]} : tensor<*xf32> -> tensor<*xf32>
  // CHECK: attn.score scaled_dot {{.*}} -> tensor<?x4x?x?xf32>
  %s = attn.score scaled_dot %q, %q {scale = 0.25 : f32} : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  // CHECK: attn.align soft {{.*}} : tensor<?x4x?x?xf32>
  %a = attn.align soft %s lengths(%len) {axis = 3} : tensor<*xf32>
  // CHECK: attn.context {{.*}} -> tensor<?x4x?x16xf32>
  %c = attn.context %a, %q : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  // CHECK: attn.attention {{.*}} -> tensor<?x4x?x16xf32>
  %o = attn.attention %q, %q, %q lengths(%len) {scale = 0.25 : f32, causal} : (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  // CHECK: attn.transpose {{.*}} -> tensor<?x?x4x16xf32>
  %ot = attn.transpose %o {perm = [0, 2, 1, 3]} : tensor<*xf32> -> tensor<*xf32>
  // CHECK: attn.combine_heads concat {{.*}} -> tensor<?x?x64xf32>
  %h = attn.combine_heads concat %ot : tensor<*xf32> -> tensor<*xf32>
  // CHECK: attn.combine_heads average {{.*}} -> tensor<?x?x16xf32>
  %av = attn.combine_heads average %ot : tensor<*xf32> -> tensor<*xf32>
  // CHECK: attn.mask {{.*}} : tensor<?x?x64xf32>
  %m = attn.mask %h lengths(%len) {axis = 1} : tensor<*xf32>
  // CHECK: attn.slice {{.*}} -> tensor<?x?x8xf32>
  %sl = attn.slice %m {axis = 2, start = 0, size = 8} : tensor<*xf32> -> tensor<*xf32>
  // CHECK: attn.concat {{.*}} -> tensor<?x?x72xf32>
  %cat = attn.concat %m, %sl {axis = 2} : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  // CHECK: attn.reshape {{.*}} : tensor<?x?x72xf32> -> tensor<?x?x8x9xf32>
  %rs = attn.reshape %cat : tensor<*xf32> -> tensor<?x?x8x9xf32>
  // CHECK: return {{.*}} : tensor<?x?x8x9xf32>, tensor<?x?x16xf32>
  return %rs, %av : tensor<?x?x8x9xf32>, tensor<*xf32>
}

// -----

// The recurrence types its body block arguments from its operands; the body
// is then inferred like any region.
// CHECK-LABEL: func @recurrence
// CHECK-SAME: -> tensor<?x7x16xf32>
func @recurrence(%xs: tensor<?x7x16xf32>, %h0: tensor<?x16xf32>) -> tensor<*xf32> {
  // CHECK: attn.recurrence {{.*}} -> tensor<?x7x16xf32> {
  // CHECK-NEXT: ^bb0(%{{.*}}: tensor<?x16xf32>, %{{.*}}: tensor<?x16xf32>):
  // CHECK-NEXT: attn.add {{.*}} -> tensor<?x16xf32>
  // CHECK-NEXT: attn.yield %{{.*}} : tensor<?x16xf32>
  %hs = attn.recurrence over %xs {axis = 1} init(%h0) : (tensor<?x7x16xf32>, tensor<?x16xf32>) -> tensor<*xf32> {
  ^bb0(%x: tensor<*xf32>, %h: tensor<*xf32>):
    %n = attn.add %x, %h : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
    attn.yield %n : tensor<*xf32>
  }
  return %hs : tensor<*xf32>
}

// -----

// An unranked function argument leaves nothing to infer from.
func @unranked_argument(%x: tensor<*xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'attn.unary' op cannot infer a ranked result type from the operand types 'tensor<*xf32>'}}
  %y = attn.unary tanh %x : tensor<*xf32>
  return %y : tensor<*xf32>
}
