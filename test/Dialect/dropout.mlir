// RUN: attn-opt %s -split-input-file -verify-diagnostics | FileCheck %s
// attn.dropout prints and parses back; the rate must be in [0, 1) and the
// control two i32 (on/off, seed).

// CHECK-LABEL: func @dropout
func @dropout(%x: tensor<?x?x64xf32>, %ctl: tensor<2xi32>) -> tensor<?x?x64xf32> {
  // CHECK: attn.dropout %{{.*}}, %{{.*}} {rate = 1.000000e-01 : f32, salt = 3 : i64} : tensor<?x?x64xf32>, tensor<2xi32>
  %y = attn.dropout %x, %ctl {rate = 0.1 : f32, salt = 3} : tensor<?x?x64xf32>, tensor<2xi32>
  return %y : tensor<?x?x64xf32>
}

// -----

func @dropout_rate_one(%x: tensor<?x64xf32>, %ctl: tensor<2xi32>) {
  // expected-error @+1 {{rate 1.000000e+00 must be in [0, 1)}}
  %y = attn.dropout %x, %ctl {rate = 1.0 : f32, salt = 0} : tensor<?x64xf32>, tensor<2xi32>
  return
}

// -----

func @dropout_rate_negative(%x: tensor<?x64xf32>, %ctl: tensor<2xi32>) {
  // expected-error @+1 {{rate -5.000000e-01 must be in [0, 1)}}
  %y = attn.dropout %x, %ctl {rate = -0.5 : f32, salt = 0} : tensor<?x64xf32>, tensor<2xi32>
  return
}

// -----

func @dropout_control_shape(%x: tensor<?x64xf32>, %ctl: tensor<3xi32>) {
  // expected-error @+1 {{control must be tensor<2xi32> (on/off, seed), not 'tensor<3xi32>'}}
  %y = attn.dropout %x, %ctl {rate = 0.5 : f32, salt = 0} : tensor<?x64xf32>, tensor<3xi32>
  return
}
