// RUN: attn-opt %s -canonicalize -split-input-file | FileCheck %s
// Folders and canonicalization patterns of the attn ops.

// CHECK-LABEL: func @identities
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xf32>)
func @identities(%x: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>) {
  %one = attn.constant 1.0 : tensor<f32>
  %zero = attn.constant 0.0 : tensor<f32>
  %0 = attn.mul %x, %one {spec = "bd,->bd"} : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
  %1 = attn.mul %one, %x {spec = ",bd->bd"} : (tensor<f32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  %2 = attn.add %x, %zero {spec = "bd,->bd"} : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
  %3 = attn.add %zero, %x {spec = ",bd->bd"} : (tensor<f32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  %4 = attn.sub %x, %zero {spec = "bd,->bd"} : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
  %5 = attn.div %x, %one {spec = "bd,->bd"} : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
  // CHECK-NOT: attn.
  // CHECK: return %[[X]], %[[X]], %[[X]], %[[X]], %[[X]], %[[X]]
  return %0, %1, %2, %3, %4, %5 : tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>
}

// -----

// Not identities: 0 - x, 1 / x, x * 2, and x + 0 whose result type differs
// from x's (replacing it would change the type seen by its users).
// CHECK-LABEL: func @not_identities
func @not_identities(%x: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>) {
  %one = attn.constant 1.0 : tensor<f32>
  %two = attn.constant 2.0 : tensor<f32>
  %zero = attn.constant 0.0 : tensor<f32>
  // CHECK: attn.sub
  %0 = attn.sub %zero, %x {spec = ",bd->bd"} : (tensor<f32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  // CHECK: attn.div
  %1 = attn.div %one, %x {spec = ",bd->bd"} : (tensor<f32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  // CHECK: attn.mul
  %2 = attn.mul %x, %two {spec = "bd,->bd"} : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
  // CHECK: attn.add {{.*}} -> tensor<*xf32>
  %3 = attn.add %x, %zero {spec = "bd,->bd"} : (tensor<?x64xf32>, tensor<f32>) -> tensor<*xf32>
  %4 = attn.reshape %3 : tensor<*xf32> -> tensor<?x64xf32>
  return %0, %1, %2, %4 : tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>
}

// -----

// CHECK-LABEL: func @double_negation
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xf32>)
func @double_negation(%x: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  %0 = attn.unary neg %x : tensor<?x64xf32>
  %1 = attn.unary neg %0 : tensor<?x64xf32>
  // CHECK: %[[T:.*]] = attn.unary tanh %[[X]]
  // CHECK: %[[A:.*]] = attn.unary abs %[[T]]
  %2 = attn.unary tanh %x : tensor<?x64xf32>
  %3 = attn.unary abs %2 : tensor<?x64xf32>
  // CHECK: return %[[X]], %[[A]]
  return %1, %3 : tensor<?x64xf32>, tensor<?x64xf32>
}

// -----

// CHECK-LABEL: func @transposes
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>)
func @transposes(%x: tensor<2x3x4xf32>) -> (tensor<2x3x4xf32>, tensor<4x2x3xf32>, tensor<2x3x4xf32>) {
  // Identity permutation.
  %0 = attn.transpose %x {perm = [0, 1, 2]} : tensor<2x3x4xf32> -> tensor<2x3x4xf32>
  // Two transposes compose: [1,2,0] then [1,2,0] is [2,0,1].
  // CHECK: %[[T:.*]] = attn.transpose %[[X]] {perm = [2, 0, 1]} : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
  %1 = attn.transpose %x {perm = [1, 2, 0]} : tensor<2x3x4xf32> -> tensor<3x4x2xf32>
  %2 = attn.transpose %1 {perm = [1, 2, 0]} : tensor<3x4x2xf32> -> tensor<4x2x3xf32>
  // A transpose and its inverse vanish.
  %3 = attn.transpose %x {perm = [0, 2, 1]} : tensor<2x3x4xf32> -> tensor<2x4x3xf32>
  %4 = attn.transpose %3 {perm = [0, 2, 1]} : tensor<2x4x3xf32> -> tensor<2x3x4xf32>
  // CHECK: return %[[X]], %[[T]], %[[X]]
  return %0, %2, %4 : tensor<2x3x4xf32>, tensor<4x2x3xf32>, tensor<2x3x4xf32>
}

// -----

// CHECK-LABEL: func @reshapes
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xf32>)
func @reshapes(%x: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x8x8xf32>, tensor<?x64xf32>) {
  %0 = attn.reshape %x : tensor<?x64xf32> -> tensor<?x64xf32>
  // CHECK: %[[R:.*]] = attn.reshape %[[X]] : tensor<?x64xf32> -> tensor<?x8x8xf32>
  %1 = attn.reshape %x : tensor<?x64xf32> -> tensor<?x4x16xf32>
  %2 = attn.reshape %1 : tensor<?x4x16xf32> -> tensor<?x8x8xf32>
  // Back to the start: both reshapes vanish.
  %3 = attn.reshape %1 : tensor<?x4x16xf32> -> tensor<?x64xf32>
  // CHECK: return %[[X]], %[[R]], %[[X]]
  return %0, %2, %3 : tensor<?x64xf32>, tensor<?x8x8xf32>, tensor<?x64xf32>
}

// -----

// Unused attn ops are side-effect free and vanish; constants are uniqued.
// CHECK-LABEL: func @dead_and_constants
func @dead_and_constants(%x: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  // CHECK: %[[C:.*]] = attn.constant 2.000000e+00 : tensor<f32>
  // CHECK-NOT: attn.constant
  %c0 = attn.constant 2.0 : tensor<f32>
  %c1 = attn.constant 2.0 : tensor<f32>
  %dead = attn.unary exp %x : tensor<?x64xf32>
  // CHECK-NOT: attn.unary
  %0 = attn.mul %x, %c0 {spec = "bd,->bd"} : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
  %1 = attn.mul %x, %c1 {spec = "bd,->bd"} : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
  // CHECK: attn.mul %{{.*}}, %[[C]]
  // CHECK: attn.mul %{{.*}}, %[[C]]
  return %0, %1 : tensor<?x64xf32>, tensor<?x64xf32>
}
