// RUN: attn-opt %s | attn-opt | FileCheck %s
// Every attn op prints in its custom form and parses back.

// CHECK-LABEL: func @constant
func @constant() -> tensor<f32> {
  // CHECK: %[[C:.*]] = attn.constant 1.250000e-01 : tensor<f32>
  %c = attn.constant 0.125 : tensor<f32>
  // CHECK: return %[[C]]
  return %c : tensor<f32>
}

// CHECK-LABEL: func @binary
func @binary(%a: tensor<?x64xf32>, %b: tensor<?x?x64xf32>, %c: tensor<?x64xf32>) -> tensor<?x?x64xf32> {
  // CHECK: attn.add %{{.*}}, %{{.*}} {spec = "bd,bsd->bsd"} : (tensor<?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  %0 = attn.add %a, %b {spec = "bd,bsd->bsd"} : (tensor<?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  // CHECK: attn.sub %{{.*}}, %{{.*}} : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  %1 = attn.sub %a, %c : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  // CHECK: attn.mul {{.*}} {spec = "bsd,bd->bsd"}
  %2 = attn.mul %0, %1 {spec = "bsd,bd->bsd"} : (tensor<?x?x64xf32>, tensor<?x64xf32>) -> tensor<?x?x64xf32>
  // CHECK: attn.div
  %3 = attn.div %2, %b : (tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  // CHECK: attn.max
  %4 = attn.max %3, %b : (tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  // CHECK: attn.min {{.*}} {spec = "bsd,->bsd"} : (tensor<?x?x64xf32>, tensor<f32>) -> tensor<?x?x64xf32>
  %z = attn.constant 0.0 : tensor<f32>
  %5 = attn.min %4, %z {spec = "bsd,->bsd"} : (tensor<?x?x64xf32>, tensor<f32>) -> tensor<?x?x64xf32>
  return %5 : tensor<?x?x64xf32>
}

// CHECK-LABEL: func @unranked_result
func @unranked_result(%a: tensor<?x64xf32>) -> tensor<*xf32> {
  // CHECK: attn.add %{{.*}}, %{{.*}} : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<*xf32>
  %0 = attn.add %a, %a : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// CHECK-LABEL: func @unary
func @unary(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // CHECK: attn.unary tanh %{{.*}} : tensor<?x64xf32>
  %0 = attn.unary "tanh" %x : tensor<?x64xf32>
  // CHECK: attn.unary leaky_relu %{{.*}} {alpha = 2.000000e-01 : f32} : tensor<?x64xf32>
  %1 = attn.unary leaky_relu %0 {alpha = 0.2 : f32} : tensor<?x64xf32>
  // CHECK: attn.unary neg
  %2 = attn.unary neg %1 : tensor<?x64xf32>
  // CHECK: attn.unary exp
  %3 = attn.unary exp %2 : tensor<?x64xf32>
  // CHECK: attn.unary log
  %4 = attn.unary log %3 : tensor<?x64xf32>
  // CHECK: attn.unary sqrt
  %5 = attn.unary sqrt %4 : tensor<?x64xf32>
  // CHECK: attn.unary rsqrt
  %6 = attn.unary rsqrt %5 : tensor<?x64xf32>
  // CHECK: attn.unary sigmoid
  %7 = attn.unary sigmoid %6 : tensor<?x64xf32>
  // CHECK: attn.unary relu
  %8 = attn.unary relu %7 : tensor<?x64xf32>
  // CHECK: attn.unary abs
  %9 = attn.unary abs %8 : tensor<?x64xf32>
  return %9 : tensor<?x64xf32>
}

// CHECK-LABEL: func @layout
func @layout(%x: tensor<?x?x64xf32>, %y: tensor<?x?x32xf32>, %ids: tensor<?x?xi32>) -> tensor<?x?x16xf32> {
  // CHECK: attn.transpose %{{.*}} {perm = [0, 2, 1]} : tensor<?x?x64xf32> -> tensor<?x64x?xf32>
  %t = attn.transpose %x {perm = [0, 2, 1]} : tensor<?x?x64xf32> -> tensor<?x64x?xf32>
  // CHECK: attn.reshape %{{.*}} : tensor<?x?x64xf32> -> tensor<?x?x4x16xf32>
  %r = attn.reshape %x : tensor<?x?x64xf32> -> tensor<?x?x4x16xf32>
  // CHECK: attn.concat %{{.*}}, %{{.*}} {axis = 2 : i64} : (tensor<?x?x64xf32>, tensor<?x?x32xf32>) -> tensor<?x?x96xf32>
  %c = attn.concat %x, %y {axis = 2} : (tensor<?x?x64xf32>, tensor<?x?x32xf32>) -> tensor<?x?x96xf32>
  // CHECK: attn.slice %{{.*}} {axis = 2 : i64, size = 16 : i64, start = 8 : i64} : tensor<?x?x96xf32> -> tensor<?x?x16xf32>
  %s = attn.slice %c {axis = 2, start = 8, size = 16} : tensor<?x?x96xf32> -> tensor<?x?x16xf32>
  // CHECK: attn.transpose %{{.*}} {perm = [1, 0]} : tensor<?x?xi32> -> tensor<?x?xi32>
  %it = attn.transpose %ids {perm = [1, 0]} : tensor<?x?xi32> -> tensor<?x?xi32>
  return %s : tensor<?x?x16xf32>
}

// CHECK-LABEL: func @gather
func @gather(%table: tensor<1000x64xf32>, %ids: tensor<?x?xi32>) -> tensor<?x?x64xf32> {
  // CHECK: attn.gather %{{.*}}, %{{.*}} : (tensor<1000x64xf32>, tensor<?x?xi32>) -> tensor<?x?x64xf32>
  %e = attn.gather %table, %ids : (tensor<1000x64xf32>, tensor<?x?xi32>) -> tensor<?x?x64xf32>
  return %e : tensor<?x?x64xf32>
}

// CHECK-LABEL: func @contract
func @contract(%x: tensor<?x?x64xf32>, %w: tensor<64x4x16xf32>, %a: tensor<?x?x?xf32>, %len: tensor<?xi32>) -> tensor<?x?x64xf32> {
  // CHECK: attn.contract %{{.*}}, %{{.*}} {spec = "bsd,dhk->bshk"} : (tensor<?x?x64xf32>, tensor<64x4x16xf32>) -> tensor<?x?x4x16xf32>
  %y = attn.contract %x, %w {spec = "bsd,dhk->bshk"} : (tensor<?x?x64xf32>, tensor<64x4x16xf32>) -> tensor<?x?x4x16xf32>
  // CHECK: attn.contract %{{.*}}, %{{.*}} lengths(%{{.*}}) {masked = "s", spec = "bts,bsd->btd"} : (tensor<?x?x?xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  %c = attn.contract %a, %x lengths(%len) {spec = "bts,bsd->btd", masked = "s"} : (tensor<?x?x?xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  return %c : tensor<?x?x64xf32>
}

// CHECK-LABEL: func @reduce
func @reduce(%x: tensor<?x?x64xf32>, %e: tensor<?x?x?xf32>, %len: tensor<?xi32>) -> tensor<?x?xf32> {
  // CHECK: attn.reduce sum %{{.*}} {axis = 2 : i64} : tensor<?x?x64xf32> -> tensor<?x?xf32>
  %0 = attn.reduce sum %x {axis = 2} : tensor<?x?x64xf32> -> tensor<?x?xf32>
  // CHECK: attn.reduce mean %{{.*}} lengths(%{{.*}}) {axis = 1 : i64} : tensor<?x?x64xf32> -> tensor<?x64xf32>
  %1 = attn.reduce mean %x lengths(%len) {axis = 1} : tensor<?x?x64xf32> -> tensor<?x64xf32>
  // CHECK: attn.reduce max %{{.*}} lengths(%{{.*}}) {axis = 2 : i64, rel = "le", rel_axis = 1 : i64} : tensor<?x?x?xf32> -> tensor<?x?xf32>
  %2 = attn.reduce max %e lengths(%len) {axis = 2, rel = "le", rel_axis = 1} : tensor<?x?x?xf32> -> tensor<?x?xf32>
  // CHECK: attn.reduce min
  %3 = attn.reduce min %x {axis = 0} : tensor<?x?x64xf32> -> tensor<?x64xf32>
  return %2 : tensor<?x?xf32>
}

// CHECK-LABEL: func @align
func @align(%e: tensor<?x4x?x?xf32>, %len: tensor<?xi32>) -> tensor<?x4x?x?xf32> {
  // CHECK: attn.align soft %{{.*}} lengths(%{{.*}}) {axis = 3 : i64} : tensor<?x4x?x?xf32>
  %0 = attn.align soft %e lengths(%len) {axis = 3} : tensor<?x4x?x?xf32>
  // CHECK: attn.align hard %{{.*}} {axis = 3 : i64, rel = "lt", rel_axis = 2 : i64} : tensor<?x4x?x?xf32>
  %1 = attn.align hard %0 {axis = 3, rel = "lt", rel_axis = 2} : tensor<?x4x?x?xf32>
  return %1 : tensor<?x4x?x?xf32>
}

// CHECK-LABEL: func @mask
func @mask(%x: tensor<?x?x64xf32>, %len: tensor<?xi32>) -> tensor<?x?x64xf32> {
  // CHECK: attn.mask %{{.*}} lengths(%{{.*}}) {axis = 1 : i64} : tensor<?x?x64xf32>
  %0 = attn.mask %x lengths(%len) {axis = 1} : tensor<?x?x64xf32>
  return %0 : tensor<?x?x64xf32>
}

// CHECK-LABEL: func @pick
func @pick(%x: tensor<?x?x64xf32>, %len: tensor<?xi32>) -> (tensor<?x64xf32>, tensor<?x?xf32>) {
  // CHECK: attn.pick %{{.*}} lengths(%{{.*}}) {axis = 1 : i64, last = true} : tensor<?x?x64xf32> -> tensor<?x64xf32>
  %0 = attn.pick %x lengths(%len) {axis = 1, last = true} : tensor<?x?x64xf32> -> tensor<?x64xf32>
  // CHECK: attn.pick %{{.*}} {axis = 2 : i64, last = false} : tensor<?x?x64xf32> -> tensor<?x?xf32>
  %1 = attn.pick %x {axis = 2, last = false} : tensor<?x?x64xf32> -> tensor<?x?xf32>
  return %0, %1 : tensor<?x64xf32>, tensor<?x?xf32>
}

// CHECK-LABEL: func @score
func @score(%q: tensor<?x4x?x16xf32>, %k: tensor<?x4x?x16xf32>, %h: tensor<?x?x64xf32>, %s: tensor<?x?x32xf32>, %W: tensor<64x32xf32>, %w: tensor<64xf32>, %hk: tensor<?x?x64xf32>) -> tensor<?x4x?x?xf32> {
  // CHECK: attn.score dot %{{.*}}, %{{.*}} : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x?xf32>
  %0 = attn.score dot %q, %k : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x?xf32>
  // CHECK: attn.score scaled_dot %{{.*}}, %{{.*}} {scale = 2.500000e-01 : f32} : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x?xf32>
  %1 = attn.score scaled_dot %q, %k {scale = 0.25 : f32} : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x?xf32>
  // CHECK: attn.score general %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x?x64xf32>, tensor<?x?x32xf32>, tensor<64x32xf32>) -> tensor<?x?x?xf32>
  %2 = attn.score general %h, %s, %W : (tensor<?x?x64xf32>, tensor<?x?x32xf32>, tensor<64x32xf32>) -> tensor<?x?x?xf32>
  // CHECK: attn.score additive %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x?xf32>
  %3 = attn.score additive %h, %hk, %w : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x?xf32>
  return %1 : tensor<?x4x?x?xf32>
}

// CHECK-LABEL: func @context_attention
func @context_attention(%a: tensor<?x4x?x?xf32>, %q: tensor<?x4x?x16xf32>, %k: tensor<?x4x?x16xf32>, %v: tensor<?x4x?x16xf32>, %len: tensor<?xi32>) -> tensor<?x4x?x16xf32> {
  // CHECK: attn.context %{{.*}}, %{{.*}} : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %c = attn.context %a, %v : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  // CHECK: attn.attention %{{.*}}, %{{.*}}, %{{.*}} lengths(%{{.*}}) {causal, scale = 2.500000e-01 : f32} : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %o = attn.attention %q, %k, %v lengths(%len) {scale = 0.25 : f32, causal} : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  // CHECK: attn.attention %{{.*}}, %{{.*}}, %{{.*}} {scale = 1.000000e+00 : f32} :
  %p = attn.attention %q, %k, %v {scale = 1.0 : f32} : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

// CHECK-LABEL: func @combine_heads
func @combine_heads(%x: tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32> {
  // CHECK: attn.combine_heads concat %{{.*}} : tensor<?x?x4x16xf32> -> tensor<?x?x64xf32>
  %0 = attn.combine_heads concat %x : tensor<?x?x4x16xf32> -> tensor<?x?x64xf32>
  // CHECK: attn.combine_heads average %{{.*}} : tensor<?x?x4x16xf32> -> tensor<?x?x16xf32>
  %1 = attn.combine_heads average %x : tensor<?x?x4x16xf32> -> tensor<?x?x16xf32>
  return %0 : tensor<?x?x64xf32>
}

// CHECK-LABEL: func @recurrence
func @recurrence(%xs: tensor<?x?x64xf32>, %h0: tensor<?x128xf32>, %len: tensor<?xi32>, %w: tensor<64x128xf32>) -> tensor<?x?x128xf32> {
  // CHECK: %{{.*}} = attn.recurrence over %{{.*}} {axis = 1 : i64} init(%{{.*}}) lengths(%{{.*}}) : (tensor<?x?x64xf32>, tensor<?x128xf32>, tensor<?xi32>) -> tensor<?x?x128xf32> {
  // CHECK-NEXT: ^bb0(%[[X:.*]]: tensor<?x64xf32>, %[[H:.*]]: tensor<?x128xf32>):
  // CHECK: attn.yield %{{.*}} : tensor<?x128xf32>
  // CHECK-NEXT: }
  %hs = attn.recurrence over %xs {axis = 1} init(%h0) lengths(%len) : (tensor<?x?x64xf32>, tensor<?x128xf32>, tensor<?xi32>) -> tensor<?x?x128xf32> {
  ^bb0(%x_t: tensor<?x64xf32>, %h: tensor<?x128xf32>):
    %p = attn.contract %x_t, %w {spec = "bd,de->be"} : (tensor<?x64xf32>, tensor<64x128xf32>) -> tensor<?x128xf32>
    %s = attn.add %p, %h : (tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<?x128xf32>
    %h_next = attn.unary tanh %s : tensor<?x128xf32>
    attn.yield %h_next : tensor<?x128xf32>
  }
  return %hs : tensor<?x?x128xf32>
}

// CHECK-LABEL: func @recurrence_multi
func @recurrence_multi(%xs: tensor<?x?x64xf32>, %ys: tensor<?x?x8xf32>, %h0: tensor<?x64xf32>, %c0: tensor<?x64xf32>) -> (tensor<?x?x64xf32>, tensor<?x?x64xf32>) {
  // CHECK: attn.recurrence over %{{.*}}, %{{.*}} {axis = 1 : i64, reverse} init(%{{.*}}, %{{.*}}) : (tensor<?x?x64xf32>, tensor<?x?x8xf32>, tensor<?x64xf32>, tensor<?x64xf32>) -> (tensor<?x?x64xf32>, tensor<?x?x64xf32>)
  %hs:2 = attn.recurrence over %xs, %ys {axis = 1, reverse} init(%h0, %c0) : (tensor<?x?x64xf32>, tensor<?x?x8xf32>, tensor<?x64xf32>, tensor<?x64xf32>) -> (tensor<?x?x64xf32>, tensor<?x?x64xf32>) {
  ^bb0(%x_t: tensor<?x64xf32>, %y_t: tensor<?x8xf32>, %h: tensor<?x64xf32>, %c: tensor<?x64xf32>):
    %n = attn.add %x_t, %h : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
    attn.yield %n, %c : tensor<?x64xf32>, tensor<?x64xf32>
  }
  return %hs#0, %hs#1 : tensor<?x?x64xf32>, tensor<?x?x64xf32>
}

// -----

// CHECK-LABEL: func @batch_broadcast
func @batch_broadcast(%z: tensor<f32>, %w: tensor<8xf32>, %len: tensor<?xi32>) -> (tensor<?x8xf32>, tensor<?x8xf32>) {
  // CHECK: attn.batch_broadcast %{{.*}} like %{{.*}} {shape = [8]} : tensor<f32>, tensor<?xi32> -> tensor<?x8xf32>
  %0 = attn.batch_broadcast %z like %len {shape = [8]} : tensor<f32>, tensor<?xi32> -> tensor<?x8xf32>
  // CHECK: attn.batch_broadcast %{{.*}} like %{{.*}} {shape = [8]} : tensor<8xf32>, tensor<?xi32> -> tensor<?x8xf32>
  %1 = attn.batch_broadcast %w like %len {shape = [8]} : tensor<8xf32>, tensor<?xi32> -> tensor<?x8xf32>
  return %0, %1 : tensor<?x8xf32>, tensor<?x8xf32>
}
