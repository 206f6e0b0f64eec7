// RUN: attn-opt %s -split-input-file -verify-diagnostics | FileCheck %s
// attn.truncate (truncated backpropagation through time) prints and parses
// back; `every` must be at least 1.

// CHECK-LABEL: func @truncate
func @truncate(%dh: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // CHECK: attn.truncate %{{.*}} {every = 20 : i64} : tensor<?x64xf32>
  %cut = attn.truncate %dh {every = 20} : tensor<?x64xf32>
  return %cut : tensor<?x64xf32>
}

// -----

func @truncate_every_zero(%dh: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{cuts every 0 steps: it must be at least 1}}
  %cut = attn.truncate %dh {every = 0} : tensor<?x64xf32>
  return %cut : tensor<?x64xf32>
}
