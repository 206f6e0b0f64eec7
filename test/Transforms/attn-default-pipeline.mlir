// RUN: attn-opt %s -attn-default-pipeline | FileCheck %s
// The driver's pipeline: shape inference, canonicalize, raise, fuse,
// canonicalize. Multi-head self-attention written with generic ops and
// unranked intermediate types becomes one fused attn.attention.

// CHECK-LABEL: func @self_attention
// CHECK-SAME: -> tensor<?x?x64xf32>
func @self_attention(%x: tensor<?x?x64xf32>, %len: tensor<?xi32>, %wq: tensor<64x4x16xf32>, %wk: tensor<64x4x16xf32>, %wv: tensor<64x4x16xf32>) -> tensor<*xf32> {
  // CHECK: %[[Q:.*]] = attn.contract {{.*}} {spec = "bsd,dhk->bhsk"} : (tensor<?x?x64xf32>, tensor<64x4x16xf32>) -> tensor<?x4x?x16xf32>
  // CHECK: %[[K:.*]] = attn.contract {{.*}} -> tensor<?x4x?x16xf32>
  // CHECK: %[[V:.*]] = attn.contract {{.*}} -> tensor<?x4x?x16xf32>
  // CHECK: %[[O:.*]] = attn.attention %[[Q]], %[[K]], %[[V]] lengths(%{{.*}}) {causal, scale = 2.500000e-01 : f32} : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  // CHECK: %[[T:.*]] = attn.transpose %[[O]] {perm = [0, 2, 1, 3]} : tensor<?x4x?x16xf32> -> tensor<?x?x4x16xf32>
  // CHECK: %[[H:.*]] = attn.combine_heads concat %[[T]] : tensor<?x?x4x16xf32> -> tensor<?x?x64xf32>
  // CHECK: return %[[H]] : tensor<?x?x64xf32>
  %q = attn.contract %x, %wq {spec = "bsd,dhk->bhsk"} : (tensor<?x?x64xf32>, tensor<64x4x16xf32>) -> tensor<*xf32>
  %k = attn.contract %x, %wk {spec = "bsd,dhk->bhsk"} : (tensor<?x?x64xf32>, tensor<64x4x16xf32>) -> tensor<*xf32>
  %v = attn.contract %x, %wv {spec = "bsd,dhk->bhsk"} : (tensor<?x?x64xf32>, tensor<64x4x16xf32>) -> tensor<*xf32>
  %e = attn.contract %q, %k {spec = "bhtk,bhsk->bhts"} : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  %c = attn.constant 0.25 : tensor<f32>
  %one = attn.constant 1.0 : tensor<f32>
  %s = attn.mul %e, %c {spec = "bhts,->bhts"} : (tensor<*xf32>, tensor<f32>) -> tensor<*xf32>
  %a = attn.align soft %s lengths(%len) {axis = 3, rel = "le", rel_axis = 2} : tensor<*xf32>
  %o = attn.contract %a, %v {spec = "bhts,bhsk->bhtk"} : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  %o1 = attn.mul %o, %one {spec = "bhtk,->bhtk"} : (tensor<*xf32>, tensor<f32>) -> tensor<*xf32>
  %t = attn.transpose %o1 {perm = [0, 2, 1, 3]} : tensor<*xf32> -> tensor<*xf32>
  %h = attn.combine_heads concat %t : tensor<*xf32> -> tensor<*xf32>
  return %h : tensor<*xf32>
}
