// RUN: attn-opt %s -attn-raise -split-input-file | FileCheck %s

// (a) q.k^T as a contraction over the feature letter is a dot score.
// CHECK-LABEL: func @dot_score
// CHECK-SAME: (%[[Q:.*]]: tensor<?x4x?x16xf32>, %[[K:.*]]: tensor<?x4x?x16xf32>)
func @dot_score(%q: tensor<?x4x?x16xf32>, %k: tensor<?x4x?x16xf32>) -> tensor<?x4x?x?xf32> {
  // CHECK: %[[E:.*]] = attn.score dot %[[Q]], %[[K]] : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x?xf32>
  // CHECK-NEXT: return %[[E]]
  %e = attn.contract %q, %k {spec = "bhtd,bhsd->bhts"} : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x?xf32>
  return %e : tensor<?x4x?x?xf32>
}

// -----

// The query is whichever operand gives the first of the two result axes.
// CHECK-LABEL: func @dot_score_swapped
// CHECK-SAME: (%[[K:.*]]: tensor<?x?x16xf32>, %[[Q:.*]]: tensor<?x?x16xf32>)
func @dot_score_swapped(%k: tensor<?x?x16xf32>, %q: tensor<?x?x16xf32>) -> tensor<?x?x?xf32> {
  // CHECK: attn.score dot %[[Q]], %[[K]]
  %e = attn.contract %k, %q {spec = "bsd,btd->bts"} : (tensor<?x?x16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x?xf32>
  return %e : tensor<?x?x?xf32>
}

// -----

// Near misses of (a): not raised.
// CHECK-LABEL: func @not_dot_score
func @not_dot_score(%q: tensor<?x?x16xf32>, %kt: tensor<?x16x?xf32>, %k: tensor<?x?x16xf32>, %hq: tensor<?x4x?x16xf32>, %hk: tensor<4x?x?x16xf32>, %len: tensor<?xi32>) -> (tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?xf32>, tensor<?x4x?x?xf32>) {
  // k stored transposed: the summed letter is not last in both terms.
  // CHECK: attn.contract {{.*}} {spec = "btd,bds->bts"}
  %0 = attn.contract %q, %kt {spec = "btd,bds->bts"} : (tensor<?x?x16xf32>, tensor<?x16x?xf32>) -> tensor<?x?x?xf32>
  // Masked contraction.
  // CHECK: attn.contract {{.*}} lengths
  %1 = attn.contract %q, %k lengths(%len) {spec = "btd,bsd->bts", masked = "d"} : (tensor<?x?x16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x?xf32>
  // Sums two letters.
  // CHECK: attn.contract {{.*}} {spec = "btd,bsd->bt"}
  %2 = attn.contract %q, %k {spec = "btd,bsd->bt"} : (tensor<?x?x16xf32>, tensor<?x?x16xf32>) -> tensor<?x?xf32>
  // Leading letters in another order.
  // CHECK: attn.contract {{.*}} {spec = "bhtd,hbsd->bhts"}
  %3 = attn.contract %hq, %hk {spec = "bhtd,hbsd->bhts"} : (tensor<?x4x?x16xf32>, tensor<4x?x?x16xf32>) -> tensor<?x4x?x?xf32>
  return %0, %1, %2, %3 : tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?xf32>, tensor<?x4x?x?xf32>
}

// -----

// (b) A dot score times a scalar constant is a scaled score; so is a score
// divided by one, and a scaled score scaled again.
// CHECK-LABEL: func @scaled_score
// CHECK-SAME: (%[[Q:.*]]: tensor<?x?x16xf32>, %[[K:.*]]: tensor<?x?x16xf32>)
func @scaled_score(%q: tensor<?x?x16xf32>, %k: tensor<?x?x16xf32>) -> (tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?x?xf32>) {
  %c = attn.constant 0.25 : tensor<f32>
  %four = attn.constant 4.0 : tensor<f32>
  // CHECK: %[[A:.*]] = attn.score scaled_dot %[[Q]], %[[K]] {scale = 2.500000e-01 : f32}
  %e = attn.contract %q, %k {spec = "btd,bsd->bts"} : (tensor<?x?x16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x?xf32>
  %s = attn.mul %e, %c {spec = "bts,->bts"} : (tensor<?x?x?xf32>, tensor<f32>) -> tensor<?x?x?xf32>
  // CHECK: %[[B:.*]] = attn.score scaled_dot %[[Q]], %[[K]] {scale = 2.500000e-01 : f32}
  %e2 = attn.score dot %q, %k : (tensor<?x?x16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x?xf32>
  %s2 = attn.div %e2, %four {spec = "bts,->bts"} : (tensor<?x?x?xf32>, tensor<f32>) -> tensor<?x?x?xf32>
  // CHECK: %[[C:.*]] = attn.score scaled_dot %[[Q]], %[[K]] {scale = 1.000000e+00 : f32}
  %e3 = attn.score scaled_dot %q, %k {scale = 0.25 : f32} : (tensor<?x?x16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x?xf32>
  %s3 = attn.mul %four, %e3 {spec = ",bts->bts"} : (tensor<f32>, tensor<?x?x?xf32>) -> tensor<?x?x?xf32>
  // CHECK-NOT: attn.mul
  // CHECK-NOT: attn.div
  // CHECK: return %[[A]], %[[B]], %[[C]]
  return %s, %s2, %s3 : tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?x?xf32>
}

// -----

// Near misses of (b): the score has another use, the factor is not a
// constant, the constant is the divisor's numerator, or the score is general.
// CHECK-LABEL: func @not_scaled_score
func @not_scaled_score(%q: tensor<?x?x16xf32>, %k: tensor<?x?x16xf32>, %f: tensor<f32>, %w: tensor<16x16xf32>) -> (tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?x?xf32>) {
  %c = attn.constant 0.25 : tensor<f32>
  %e = attn.score dot %q, %k : (tensor<?x?x16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x?xf32>
  // CHECK: attn.mul
  %s = attn.mul %e, %c {spec = "bts,->bts"} : (tensor<?x?x?xf32>, tensor<f32>) -> tensor<?x?x?xf32>
  %e2 = attn.score dot %q, %k : (tensor<?x?x16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x?xf32>
  // CHECK: attn.mul
  %s2 = attn.mul %e2, %f {spec = "bts,->bts"} : (tensor<?x?x?xf32>, tensor<f32>) -> tensor<?x?x?xf32>
  %e3 = attn.score dot %q, %k : (tensor<?x?x16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x?xf32>
  // CHECK: attn.div
  %s3 = attn.div %c, %e3 {spec = ",bts->bts"} : (tensor<f32>, tensor<?x?x?xf32>) -> tensor<?x?x?xf32>
  %e4 = attn.score general %q, %k, %w : (tensor<?x?x16xf32>, tensor<?x?x16xf32>, tensor<16x16xf32>) -> tensor<?x?x?xf32>
  // CHECK: attn.mul
  %s4 = attn.mul %e4, %c {spec = "bts,->bts"} : (tensor<?x?x?xf32>, tensor<f32>) -> tensor<?x?x?xf32>
  return %e, %s, %s2, %s3, %s4 : tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?x?xf32>
}

// -----

// (c) A contraction of soft alignment weights with values is a context.
// CHECK-LABEL: func @context
// CHECK-SAME: (%[[E:.*]]: tensor<?x4x?x?xf32>, %[[V:.*]]: tensor<?x4x?x16xf32>, %[[L:.*]]: tensor<?xi32>)
func @context(%e: tensor<?x4x?x?xf32>, %v: tensor<?x4x?x16xf32>, %len: tensor<?xi32>) -> tensor<?x4x?x16xf32> {
  // CHECK: %[[A:.*]] = attn.align soft %[[E]] lengths(%[[L]]) {axis = 3 : i64}
  // CHECK: %[[C:.*]] = attn.context %[[A]], %[[V]] : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  // CHECK: return %[[C]]
  %a = attn.align soft %e lengths(%len) {axis = 3} : tensor<?x4x?x?xf32>
  %c = attn.contract %a, %v {spec = "bhts,bhse->bhte"} : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  return %c : tensor<?x4x?x16xf32>
}

// -----

// (c) with the padding mask on the summed keys: implied by an alignment that
// masks the same keys with the same lengths, so the context drops it.
// CHECK-LABEL: func @masked_context
func @masked_context(%e: tensor<?x?x?xf32>, %v: tensor<?x?x16xf32>, %len: tensor<?xi32>, %other: tensor<?xi32>) -> (tensor<?x?x16xf32>, tensor<?x?x16xf32>) {
  // CHECK: attn.context
  // CHECK: attn.contract {{.*}} lengths
  // CHECK-NOT: attn.context
  %a = attn.align soft %e lengths(%len) {axis = 2} : tensor<?x?x?xf32>
  %0 = attn.contract %a, %v lengths(%len) {spec = "bts,bse->bte", masked = "s"} : (tensor<?x?x?xf32>, tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %b = attn.align soft %e lengths(%len) {axis = 2} : tensor<?x?x?xf32>
  %1 = attn.contract %b, %v lengths(%other) {spec = "bts,bse->bte", masked = "s"} : (tensor<?x?x?xf32>, tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  return %0, %1 : tensor<?x?x16xf32>, tensor<?x?x16xf32>
}

// -----

// Near misses of (c): hard alignment, alignment over another axis, weights
// that are not an alignment, and a spec summing another letter.
// CHECK-LABEL: func @not_context
func @not_context(%e: tensor<?x?x?xf32>, %v: tensor<?x?x16xf32>) -> (tensor<?x?x16xf32>, tensor<?x?x16xf32>, tensor<?x?x16xf32>, tensor<?x?x?xf32>) {
  // CHECK-NOT: attn.context
  %h = attn.align hard %e {axis = 2} : tensor<?x?x?xf32>
  %0 = attn.contract %h, %v {spec = "bts,bse->bte"} : (tensor<?x?x?xf32>, tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %t = attn.align soft %e {axis = 1} : tensor<?x?x?xf32>
  %1 = attn.contract %t, %v {spec = "bts,bse->bte"} : (tensor<?x?x?xf32>, tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %2 = attn.contract %e, %v {spec = "bts,bse->bte"} : (tensor<?x?x?xf32>, tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %s = attn.align soft %e {axis = 2} : tensor<?x?x?xf32>
  %3 = attn.contract %s, %e {spec = "bts,btu->bsu"} : (tensor<?x?x?xf32>, tensor<?x?x?xf32>) -> tensor<?x?x?xf32>
  return %0, %1, %2, %3 : tensor<?x?x16xf32>, tensor<?x?x16xf32>, tensor<?x?x16xf32>, tensor<?x?x?xf32>
}

// -----

// (d) Bahdanau's sum_a w[a] tanh(q[t,a] + k[s,a]) is an additive score.
// CHECK-LABEL: func @additive_score
// CHECK-SAME: (%[[Q:.*]]: tensor<?x?x32xf32>, %[[K:.*]]: tensor<?x?x32xf32>, %[[W:.*]]: tensor<32xf32>)
func @additive_score(%q: tensor<?x?x32xf32>, %k: tensor<?x?x32xf32>, %w: tensor<32xf32>) -> tensor<?x?x?xf32> {
  // CHECK: %[[E:.*]] = attn.score additive %[[Q]], %[[K]], %[[W]] : (tensor<?x?x32xf32>, tensor<?x?x32xf32>, tensor<32xf32>) -> tensor<?x?x?xf32>
  // CHECK-NEXT: return %[[E]]
  %sum = attn.add %q, %k {spec = "bta,bsa->btsa"} : (tensor<?x?x32xf32>, tensor<?x?x32xf32>) -> tensor<?x?x?x32xf32>
  %t = attn.unary tanh %sum : tensor<?x?x?x32xf32>
  %m = attn.mul %w, %t {spec = "a,btsa->btsa"} : (tensor<32xf32>, tensor<?x?x?x32xf32>) -> tensor<?x?x?x32xf32>
  %e = attn.reduce sum %m {axis = 3} : tensor<?x?x?x32xf32> -> tensor<?x?x?xf32>
  return %e : tensor<?x?x?xf32>
}

// -----

// Near misses of (d): relu instead of tanh, a mean, and an intermediate
// with a second use.
// CHECK-LABEL: func @not_additive_score
func @not_additive_score(%q: tensor<?x?x32xf32>, %k: tensor<?x?x32xf32>, %w: tensor<32xf32>) -> (tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?x?x32xf32>) {
  // CHECK-NOT: attn.score
  %sum = attn.add %q, %k {spec = "bta,bsa->btsa"} : (tensor<?x?x32xf32>, tensor<?x?x32xf32>) -> tensor<?x?x?x32xf32>
  %r = attn.unary relu %sum : tensor<?x?x?x32xf32>
  %m = attn.mul %r, %w {spec = "btsa,a->btsa"} : (tensor<?x?x?x32xf32>, tensor<32xf32>) -> tensor<?x?x?x32xf32>
  %0 = attn.reduce sum %m {axis = 3} : tensor<?x?x?x32xf32> -> tensor<?x?x?xf32>

  %sum1 = attn.add %q, %k {spec = "bta,bsa->btsa"} : (tensor<?x?x32xf32>, tensor<?x?x32xf32>) -> tensor<?x?x?x32xf32>
  %t1 = attn.unary tanh %sum1 : tensor<?x?x?x32xf32>
  %m1 = attn.mul %t1, %w {spec = "btsa,a->btsa"} : (tensor<?x?x?x32xf32>, tensor<32xf32>) -> tensor<?x?x?x32xf32>
  %1 = attn.reduce mean %m1 {axis = 3} : tensor<?x?x?x32xf32> -> tensor<?x?x?xf32>

  %sum2 = attn.add %q, %k {spec = "bta,bsa->btsa"} : (tensor<?x?x32xf32>, tensor<?x?x32xf32>) -> tensor<?x?x?x32xf32>
  %t2 = attn.unary tanh %sum2 : tensor<?x?x?x32xf32>
  %m2 = attn.mul %t2, %w {spec = "btsa,a->btsa"} : (tensor<?x?x?x32xf32>, tensor<32xf32>) -> tensor<?x?x?x32xf32>
  %2 = attn.reduce sum %m2 {axis = 3} : tensor<?x?x?x32xf32> -> tensor<?x?x?xf32>
  return %0, %1, %2, %t2 : tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?x?x32xf32>
}
