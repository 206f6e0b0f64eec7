// RUN: attn-opt %s | attn-opt | FileCheck %s
// The training ops (the loss and the adjoints that gradients use) print in
// their custom form and parse back.

// CHECK-LABEL: func @cross_entropy
func @cross_entropy(%logits: tensor<?x?x40xf32>, %ids: tensor<?x?xi32>, %d: tensor<?x?xf32>) -> (tensor<?x?xf32>, tensor<?x?x40xf32>) {
  // CHECK: attn.cross_entropy %{{.*}}, %{{.*}} : (tensor<?x?x40xf32>, tensor<?x?xi32>) -> tensor<?x?xf32>
  %0 = attn.cross_entropy %logits, %ids : (tensor<?x?x40xf32>, tensor<?x?xi32>) -> tensor<?x?xf32>
  // CHECK: attn.cross_entropy %{{.*}}, %{{.*}} {smoothing = 1.000000e-01 : f32} : (tensor<?x?x40xf32>, tensor<?x?xi32>) -> tensor<?x?xf32>
  %1 = attn.cross_entropy %logits, %ids {smoothing = 0.1 : f32} : (tensor<?x?x40xf32>, tensor<?x?xi32>) -> tensor<?x?xf32>
  // CHECK: attn.cross_entropy_grad %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x?x40xf32>, tensor<?x?xi32>, tensor<?x?xf32>) -> tensor<?x?x40xf32>
  %2 = attn.cross_entropy_grad %logits, %ids, %d : (tensor<?x?x40xf32>, tensor<?x?xi32>, tensor<?x?xf32>) -> tensor<?x?x40xf32>
  // CHECK: attn.cross_entropy_grad %{{.*}}, %{{.*}}, %{{.*}} {smoothing = 2.500000e-01 : f32} : (tensor<?x?x40xf32>, tensor<?x?xi32>, tensor<?x?xf32>) -> tensor<?x?x40xf32>
  %3 = attn.cross_entropy_grad %logits, %ids, %d {smoothing = 0.25 : f32} : (tensor<?x?x40xf32>, tensor<?x?xi32>, tensor<?x?xf32>) -> tensor<?x?x40xf32>
  return %1, %3 : tensor<?x?xf32>, tensor<?x?x40xf32>
}

// A rank-1 loss per example: logits [B, V], ids [B].
// CHECK-LABEL: func @cross_entropy_rows
func @cross_entropy_rows(%logits: tensor<?x12xf32>, %ids: tensor<?xi32>) -> tensor<?xf32> {
  // CHECK: attn.cross_entropy %{{.*}}, %{{.*}} : (tensor<?x12xf32>, tensor<?xi32>) -> tensor<?xf32>
  %0 = attn.cross_entropy %logits, %ids : (tensor<?x12xf32>, tensor<?xi32>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// CHECK-LABEL: func @reduce_grad
func @reduce_grad(%x: tensor<?x?x64xf32>, %y: tensor<?x64xf32>, %d: tensor<?x64xf32>, %e: tensor<?x?x?xf32>, %m: tensor<?x?xf32>, %dm: tensor<?x?xf32>, %len: tensor<?xi32>) -> (tensor<?x?x64xf32>, tensor<?x?x?xf32>) {
  // CHECK: attn.reduce_grad sum %{{.*}}, %{{.*}}, %{{.*}} lengths(%{{.*}}) {axis = 1 : i64} : (tensor<?x?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>, tensor<?xi32>) -> tensor<?x?x64xf32>
  %0 = attn.reduce_grad sum %x, %y, %d lengths(%len) {axis = 1} : (tensor<?x?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>, tensor<?xi32>) -> tensor<?x?x64xf32>
  // CHECK: attn.reduce_grad mean %{{.*}}, %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<?x?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x?x64xf32>
  %1 = attn.reduce_grad mean %x, %y, %d {axis = 1} : (tensor<?x?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x?x64xf32>
  // CHECK: attn.reduce_grad max %{{.*}}, %{{.*}}, %{{.*}} lengths(%{{.*}}) {axis = 2 : i64, rel = "le", rel_axis = 1 : i64} : (tensor<?x?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?xi32>) -> tensor<?x?x?xf32>
  %2 = attn.reduce_grad max %e, %m, %dm lengths(%len) {axis = 2, rel = "le", rel_axis = 1} : (tensor<?x?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?xi32>) -> tensor<?x?x?xf32>
  // CHECK: attn.reduce_grad min
  %3 = attn.reduce_grad min %e, %m, %dm {axis = 2} : (tensor<?x?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?x?xf32>
  return %0, %2 : tensor<?x?x64xf32>, tensor<?x?x?xf32>
}

// CHECK-LABEL: func @pad
func @pad(%x: tensor<?x16xf32>, %y: tensor<?x?x8xf32>) -> (tensor<?x64xf32>, tensor<?x?x8xf32>) {
  // CHECK: attn.pad %{{.*}} {after = 32 : i64, axis = 1 : i64, before = 16 : i64} : tensor<?x16xf32> -> tensor<?x64xf32>
  %0 = attn.pad %x {axis = 1, before = 16, after = 32} : tensor<?x16xf32> -> tensor<?x64xf32>
  // A run-time axis stays run-time.
  // CHECK: attn.pad %{{.*}} {after = 0 : i64, axis = 1 : i64, before = 2 : i64} : tensor<?x?x8xf32> -> tensor<?x?x8xf32>
  %1 = attn.pad %y {axis = 1, before = 2, after = 0} : tensor<?x?x8xf32> -> tensor<?x?x8xf32>
  return %0, %1 : tensor<?x64xf32>, tensor<?x?x8xf32>
}

// CHECK-LABEL: func @unpick
func @unpick(%g: tensor<?x64xf32>, %h: tensor<?x?x64xf32>, %len: tensor<?xi32>) -> (tensor<?x?x64xf32>, tensor<?x?x64xf32>) {
  // CHECK: attn.unpick %{{.*}} like %{{.*}} lengths(%{{.*}}) {axis = 1 : i64, last = true} : tensor<?x64xf32>, tensor<?x?x64xf32> -> tensor<?x?x64xf32>
  %0 = attn.unpick %g like %h lengths(%len) {axis = 1, last = true} : tensor<?x64xf32>, tensor<?x?x64xf32> -> tensor<?x?x64xf32>
  // CHECK: attn.unpick %{{.*}} like %{{.*}} {axis = 1 : i64, last = false} : tensor<?x64xf32>, tensor<?x?x64xf32> -> tensor<?x?x64xf32>
  %1 = attn.unpick %g like %h {axis = 1, last = false} : tensor<?x64xf32>, tensor<?x?x64xf32> -> tensor<?x?x64xf32>
  return %0, %1 : tensor<?x?x64xf32>, tensor<?x?x64xf32>
}

// CHECK-LABEL: func @shift
func @shift(%hs: tensor<?x?x64xf32>, %h0: tensor<?x64xf32>, %len: tensor<?xi32>) -> (tensor<?x?x64xf32>, tensor<?x?x64xf32>) {
  // CHECK: attn.shift %{{.*}}, %{{.*}} {axis = 1 : i64} : tensor<?x?x64xf32>, tensor<?x64xf32> -> tensor<?x?x64xf32>
  %0 = attn.shift %hs, %h0 {axis = 1} : tensor<?x?x64xf32>, tensor<?x64xf32> -> tensor<?x?x64xf32>
  // CHECK: attn.shift %{{.*}}, %{{.*}} lengths(%{{.*}}) {axis = 1 : i64, reverse} : tensor<?x?x64xf32>, tensor<?x64xf32> -> tensor<?x?x64xf32>
  %1 = attn.shift %hs, %h0 lengths(%len) {axis = 1, reverse} : tensor<?x?x64xf32>, tensor<?x64xf32> -> tensor<?x?x64xf32>
  return %0, %1 : tensor<?x?x64xf32>, tensor<?x?x64xf32>
}

// CHECK-LABEL: func @scatter_add
func @scatter_add(%d: tensor<?x?x64xf32>, %ids: tensor<?x?xi32>, %rowids: tensor<?xi32>) -> (tensor<1000x64xf32>, tensor<1000x?x64xf32>) {
  // CHECK: attn.scatter_add %{{.*}}, %{{.*}} {rows = 1000 : i64} : (tensor<?x?x64xf32>, tensor<?x?xi32>) -> tensor<1000x64xf32>
  %0 = attn.scatter_add %d, %ids {rows = 1000} : (tensor<?x?x64xf32>, tensor<?x?xi32>) -> tensor<1000x64xf32>
  // Ids with fewer axes keep the remaining axes of x.
  // CHECK: attn.scatter_add %{{.*}}, %{{.*}} {rows = 1000 : i64} : (tensor<?x?x64xf32>, tensor<?xi32>) -> tensor<1000x?x64xf32>
  %1 = attn.scatter_add %d, %rowids {rows = 1000} : (tensor<?x?x64xf32>, tensor<?xi32>) -> tensor<1000x?x64xf32>
  return %0, %1 : tensor<1000x64xf32>, tensor<1000x?x64xf32>
}

// CHECK-LABEL: func @unary_step
func @unary_step(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // CHECK: attn.unary step %{{.*}} : tensor<?x64xf32>
  %0 = attn.unary step %x : tensor<?x64xf32>
  // CHECK: attn.unary step %{{.*}} : tensor<?x64xf32>
  %1 = attn.unary "step" %0 : tensor<?x64xf32>
  return %1 : tensor<?x64xf32>
}
