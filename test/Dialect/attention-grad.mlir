// RUN: attn-opt %s -split-input-file -verify-diagnostics | FileCheck %s
// attn.attention_grad prints and parses back; its operands are checked like
// attn.attention's, and `out`/`dout` must have the attention's result type.

// CHECK-LABEL: func @attention_grad
func @attention_grad(%q: tensor<?x4x?x16xf32>, %k: tensor<?x4x?x16xf32>, %v: tensor<?x4x?x8xf32>,
                     %o: tensor<?x4x?x8xf32>, %do: tensor<?x4x?x8xf32>, %len: tensor<?xi32>)
    -> (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>, tensor<?x4x?x8xf32>) {
  // CHECK: attn.attention_grad %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} lengths(%{{.*}}) {causal, scale = 2.500000e-01 : f32}
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %do lengths(%len) {causal, scale = 0.25 : f32}
      : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>, tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32>,
         tensor<?x4x?x8xf32>) -> (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>, tensor<?x4x?x8xf32>)
  return %dq, %dk, %dv : tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>, tensor<?x4x?x8xf32>
}

// -----

func @attention_grad_bad_dout(%q: tensor<?x?x16xf32>, %k: tensor<?x?x16xf32>, %v: tensor<?x?x8xf32>,
                              %o: tensor<?x?x8xf32>, %do: tensor<?x?x16xf32>) {
  // expected-error @+1 {{'dout' is 'tensor<?x?x16xf32>', the attention's result is 'tensor<?x?x8xf32>'}}
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %do {scale = 1.0 : f32}
      : (tensor<?x?x16xf32>, tensor<?x?x16xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>,
         tensor<?x?x16xf32>) -> (tensor<?x?x16xf32>, tensor<?x?x16xf32>, tensor<?x?x8xf32>)
  return
}

// -----

func @attention_grad_bad_keys(%q: tensor<?x?x16xf32>, %k: tensor<?x?x12xf32>, %v: tensor<?x?x8xf32>,
                              %o: tensor<?x?x8xf32>, %do: tensor<?x?x8xf32>) {
  // expected-error @+1 {{the feature size D}}
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %do {scale = 1.0 : f32}
      : (tensor<?x?x16xf32>, tensor<?x?x12xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>,
         tensor<?x?x8xf32>) -> (tensor<?x?x16xf32>, tensor<?x?x12xf32>, tensor<?x?x8xf32>)
  return
}
