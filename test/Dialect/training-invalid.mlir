// RUN: attn-opt %s -split-input-file -verify-diagnostics
// One case per verifier diagnostic of the training ops (TrainingOps.cpp).

// -----

// attn.cross_entropy

func @ce_smoothing(%l: tensor<?x40xf32>, %y: tensor<?xi32>) {
  // expected-error @+1 {{smoothing 1.000000e+00 is outside [0, 1)}}
  %0 = attn.cross_entropy %l, %y {smoothing = 1.0 : f32} : (tensor<?x40xf32>, tensor<?xi32>) -> tensor<?xf32>
  return
}

// -----

func @ce_smoothing_negative(%l: tensor<?x40xf32>, %y: tensor<?xi32>) {
  // expected-error @+1 {{smoothing -5.000000e-01 is outside [0, 1)}}
  %0 = attn.cross_entropy %l, %y {smoothing = -0.5 : f32} : (tensor<?x40xf32>, tensor<?xi32>) -> tensor<?xf32>
  return
}

// -----

func @ce_ids_rank(%l: tensor<?x?x40xf32>, %y: tensor<?x?x40xi32>) {
  // expected-error @+1 {{ids 'tensor<?x?x40xi32>' must have the shape of the logits 'tensor<?x?x40xf32>' without the last axis}}
  %0 = attn.cross_entropy %l, %y : (tensor<?x?x40xf32>, tensor<?x?x40xi32>) -> tensor<?x?xf32>
  return
}

// -----

func @ce_scalar_logits(%l: tensor<f32>, %y: tensor<i32>) {
  // expected-error @+1 {{ids 'tensor<i32>' must have the shape of the logits 'tensor<f32>' without the last axis}}
  %0 = attn.cross_entropy %l, %y : (tensor<f32>, tensor<i32>) -> tensor<f32>
  return
}

// -----

func @ce_ids_size(%l: tensor<4x7x40xf32>, %y: tensor<4x5xi32>) {
  // expected-error @+1 {{axis 1 of ids 'tensor<4x5xi32>' does not match the logits 'tensor<4x7x40xf32>'}}
  %0 = attn.cross_entropy %l, %y : (tensor<4x7x40xf32>, tensor<4x5xi32>) -> tensor<4x7xf32>
  return
}

// -----

func @ce_dynamic_classes(%l: tensor<?x?xf32>, %y: tensor<?xi32>) {
  // expected-error @+1 {{the classes (last axis of 'tensor<?x?xf32>') must have a static size}}
  %0 = attn.cross_entropy %l, %y : (tensor<?x?xf32>, tensor<?xi32>) -> tensor<?xf32>
  return
}

// -----

func @ce_result(%l: tensor<?x?x40xf32>, %y: tensor<?x?xi32>) {
  // expected-error @+1 {{result type 'tensor<?x?x40xf32>' is incompatible with the type inferred from the operands, 'tensor<?x?xf32>'}}
  %0 = attn.cross_entropy %l, %y : (tensor<?x?x40xf32>, tensor<?x?xi32>) -> tensor<?x?x40xf32>
  return
}

// -----

func @ce_float_ids(%l: tensor<?x40xf32>, %y: tensor<?xf32>) {
  // expected-error @+1 {{operand #1 must be tensor of 32-bit signless integer values}}
  %0 = attn.cross_entropy %l, %y : (tensor<?x40xf32>, tensor<?xf32>) -> tensor<?xf32>
  return
}

// -----

// attn.cross_entropy_grad: the checks of cross_entropy, then the adjoint.

func @ceg_smoothing(%l: tensor<?x40xf32>, %y: tensor<?xi32>, %d: tensor<?xf32>) {
  // expected-error @+1 {{smoothing 2.000000e+00 is outside [0, 1)}}
  %0 = attn.cross_entropy_grad %l, %y, %d {smoothing = 2.0 : f32} : (tensor<?x40xf32>, tensor<?xi32>, tensor<?xf32>) -> tensor<?x40xf32>
  return
}

// -----

func @ceg_ids(%l: tensor<?x40xf32>, %y: tensor<?x?xi32>, %d: tensor<?xf32>) {
  // expected-error @+1 {{ids 'tensor<?x?xi32>' must have the shape of the logits 'tensor<?x40xf32>' without the last axis}}
  %0 = attn.cross_entropy_grad %l, %y, %d : (tensor<?x40xf32>, tensor<?x?xi32>, tensor<?xf32>) -> tensor<?x40xf32>
  return
}

// -----

func @ceg_ids_size(%l: tensor<3x40xf32>, %y: tensor<2xi32>, %d: tensor<3xf32>) {
  // expected-error @+1 {{axis 0 of ids 'tensor<2xi32>' does not match the logits 'tensor<3x40xf32>'}}
  %0 = attn.cross_entropy_grad %l, %y, %d : (tensor<3x40xf32>, tensor<2xi32>, tensor<3xf32>) -> tensor<3x40xf32>
  return
}

// -----

func @ceg_dynamic_classes(%l: tensor<?x?xf32>, %y: tensor<?xi32>, %d: tensor<?xf32>) {
  // expected-error @+1 {{the classes (last axis of 'tensor<?x?xf32>') must have a static size}}
  %0 = attn.cross_entropy_grad %l, %y, %d : (tensor<?x?xf32>, tensor<?xi32>, tensor<?xf32>) -> tensor<?x?xf32>
  return
}

// -----

func @ceg_adjoint(%l: tensor<?x?x40xf32>, %y: tensor<?x?xi32>, %d: tensor<?xf32>) {
  // expected-error @+1 {{the adjoint 'tensor<?xf32>' must have the shape of the ids 'tensor<?x?xi32>'}}
  %0 = attn.cross_entropy_grad %l, %y, %d : (tensor<?x?x40xf32>, tensor<?x?xi32>, tensor<?xf32>) -> tensor<?x?x40xf32>
  return
}

// -----

func @ceg_result(%l: tensor<?x40xf32>, %y: tensor<?xi32>, %d: tensor<?xf32>) {
  // expected-error @+1 {{result type 'tensor<?x30xf32>' is incompatible with the type inferred from the operands, 'tensor<?x40xf32>'}}
  %0 = attn.cross_entropy_grad %l, %y, %d : (tensor<?x40xf32>, tensor<?xi32>, tensor<?xf32>) -> tensor<?x30xf32>
  return
}

// -----

// attn.reduce_grad: the masks of attn.reduce, then the reduced operands.

func @rg_lengths_batch(%x: tensor<?x?x64xf32>, %y: tensor<?x64xf32>, %len: tensor<?xi32>) {
  // expected-error @+1 {{cannot mask axis 0 with lengths: axis 0 is the batch}}
  %0 = attn.reduce_grad sum %x, %y, %y lengths(%len) {axis = 0} : (tensor<?x?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>, tensor<?xi32>) -> tensor<?x?x64xf32>
  return
}

// -----

func @rg_rel_alone(%e: tensor<?x?x?xf32>, %m: tensor<?x?xf32>) {
  // expected-error @+1 {{'rel' and 'rel_axis' must be given together}}
  %0 = attn.reduce_grad max %e, %m, %m {axis = 2, rel = "le"} : (tensor<?x?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?x?xf32>
  return
}

// -----

func @rg_rel_axis_same(%e: tensor<?x?x?xf32>, %m: tensor<?x?xf32>) {
  // expected-error @+1 {{rel_axis 2 must differ from axis 2}}
  %0 = attn.reduce_grad max %e, %m, %m {axis = 2, rel = "le", rel_axis = 2} : (tensor<?x?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?x?xf32>
  return
}

// -----

func @rg_axis_range(%x: tensor<?x?x64xf32>, %y: tensor<?x64xf32>) {
  // expected-error @+1 {{axis 3 is out of range for rank 3}}
  %0 = attn.reduce_grad sum %x, %y, %y {axis = 3} : (tensor<?x?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func @rg_rel_axis_range(%e: tensor<?x?x?xf32>, %m: tensor<?x?xf32>) {
  // expected-error @+1 {{rel_axis 5 is out of range for rank 3}}
  %0 = attn.reduce_grad max %e, %m, %m {axis = 2, rel = "le", rel_axis = 5} : (tensor<?x?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?x?xf32>
  return
}

// -----

func @rg_y_type(%x: tensor<?x?x64xf32>, %y: tensor<?xf32>, %d: tensor<?x64xf32>) {
  // expected-error @+1 {{'tensor<?xf32>' is not the reduced type 'tensor<?x64xf32>'}}
  %0 = attn.reduce_grad sum %x, %y, %d {axis = 1} : (tensor<?x?x64xf32>, tensor<?xf32>, tensor<?x64xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func @rg_d_type(%x: tensor<?x?x64xf32>, %y: tensor<?x64xf32>, %d: tensor<?x32xf32>) {
  // expected-error @+1 {{'tensor<?x32xf32>' is not the reduced type 'tensor<?x64xf32>'}}
  %0 = attn.reduce_grad sum %x, %y, %d {axis = 1} : (tensor<?x?x64xf32>, tensor<?x64xf32>, tensor<?x32xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func @rg_result(%x: tensor<?x?x64xf32>, %y: tensor<?x64xf32>) {
  // expected-error @+1 {{result type 'tensor<?x64xf32>' is incompatible with the type inferred from the operands, 'tensor<?x?x64xf32>'}}
  %0 = attn.reduce_grad sum %x, %y, %y {axis = 1} : (tensor<?x?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  return
}

// -----

// attn.pad

func @pad_negative(%x: tensor<?x16xf32>) {
  // expected-error @+1 {{padding sizes must be >= 0, got -1 and 32}}
  %0 = attn.pad %x {axis = 1, before = -1, after = 32} : tensor<?x16xf32> -> tensor<?x47xf32>
  return
}

// -----

func @pad_axis(%x: tensor<?x16xf32>) {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = attn.pad %x {axis = 2, before = 1, after = 1} : tensor<?x16xf32> -> tensor<?x18xf32>
  return
}

// -----

func @pad_result(%x: tensor<?x16xf32>) {
  // expected-error @+1 {{result type 'tensor<?x16xf32>' is incompatible with the type inferred from the operands, 'tensor<?x64xf32>'}}
  %0 = attn.pad %x {axis = 1, before = 16, after = 32} : tensor<?x16xf32> -> tensor<?x16xf32>
  return
}

// -----

// attn.unpick

func @unpick_batch(%g: tensor<?x64xf32>, %h: tensor<?x?x64xf32>) {
  // expected-error @+1 {{cannot place along axis 0: axis 0 is the batch}}
  %0 = attn.unpick %g like %h {axis = 0, last = true} : tensor<?x64xf32>, tensor<?x?x64xf32> -> tensor<?x?x64xf32>
  return
}

// -----

func @unpick_axis(%g: tensor<?x64xf32>, %h: tensor<?x?x64xf32>) {
  // expected-error @+1 {{axis 3 is out of range for rank 3}}
  %0 = attn.unpick %g like %h {axis = 3, last = true} : tensor<?x64xf32>, tensor<?x?x64xf32> -> tensor<?x?x64xf32>
  return
}

// -----

func @unpick_shape(%g: tensor<?x32xf32>, %h: tensor<?x?x64xf32>) {
  // expected-error @+1 {{'tensor<?x32xf32>' is not 'tensor<?x?x64xf32>' without axis 1}}
  %0 = attn.unpick %g like %h {axis = 1, last = true} : tensor<?x32xf32>, tensor<?x?x64xf32> -> tensor<?x?x64xf32>
  return
}

// -----

func @unpick_result(%g: tensor<?x64xf32>, %h: tensor<?x?x64xf32>) {
  // expected-error @+1 {{result type 'tensor<?x64xf32>' is incompatible with the type inferred from the operands, 'tensor<?x?x64xf32>'}}
  %0 = attn.unpick %g like %h {axis = 1, last = false} : tensor<?x64xf32>, tensor<?x?x64xf32> -> tensor<?x64xf32>
  return
}

// -----

// attn.shift

func @shift_batch(%hs: tensor<?x?x64xf32>, %h0: tensor<?x64xf32>) {
  // expected-error @+1 {{cannot shift along axis 0: axis 0 is the batch}}
  %0 = attn.shift %hs, %h0 {axis = 0} : tensor<?x?x64xf32>, tensor<?x64xf32> -> tensor<?x?x64xf32>
  return
}

// -----

func @shift_axis(%hs: tensor<?x?x64xf32>, %h0: tensor<?x64xf32>) {
  // expected-error @+1 {{axis 4 is out of range for rank 3}}
  %0 = attn.shift %hs, %h0 {axis = 4} : tensor<?x?x64xf32>, tensor<?x64xf32> -> tensor<?x?x64xf32>
  return
}

// -----

func @shift_init(%hs: tensor<?x?x64xf32>, %h0: tensor<?x32xf32>) {
  // expected-error @+1 {{the initial state 'tensor<?x32xf32>' is not 'tensor<?x?x64xf32>' without axis 1}}
  %0 = attn.shift %hs, %h0 {axis = 1} : tensor<?x?x64xf32>, tensor<?x32xf32> -> tensor<?x?x64xf32>
  return
}

// -----

func @shift_result(%hs: tensor<?x?x64xf32>, %h0: tensor<?x64xf32>) {
  // expected-error @+1 {{result type 'tensor<?x?x32xf32>' is incompatible with the type inferred from the operands, 'tensor<?x?x64xf32>'}}
  %0 = attn.shift %hs, %h0 {axis = 1, reverse} : tensor<?x?x64xf32>, tensor<?x64xf32> -> tensor<?x?x32xf32>
  return
}

// -----

// attn.scatter_add

func @scatter_rows(%d: tensor<?x?x64xf32>, %ids: tensor<?x?xi32>) {
  // expected-error @+1 {{rows must be >= 1, got 0}}
  %0 = attn.scatter_add %d, %ids {rows = 0} : (tensor<?x?x64xf32>, tensor<?x?xi32>) -> tensor<0x64xf32>
  return
}

// -----

func @scatter_rows_negative(%d: tensor<?x?x64xf32>, %ids: tensor<?x?xi32>) {
  // expected-error @+1 {{rows must be >= 1, got -3}}
  %0 = attn.scatter_add %d, %ids {rows = -3} : (tensor<?x?x64xf32>, tensor<?x?xi32>) -> tensor<?x64xf32>
  return
}

// -----

func @scatter_ids_rank(%d: tensor<?x64xf32>, %ids: tensor<?x?x?xi32>) {
  // expected-error @+1 {{ids 'tensor<?x?x?xi32>' have more axes than 'tensor<?x64xf32>'}}
  %0 = attn.scatter_add %d, %ids {rows = 10} : (tensor<?x64xf32>, tensor<?x?x?xi32>) -> tensor<10x64xf32>
  return
}

// -----

func @scatter_ids_size(%d: tensor<4x6x64xf32>, %ids: tensor<4x5xi32>) {
  // expected-error @+1 {{axis 1 of ids 'tensor<4x5xi32>' does not match 'tensor<4x6x64xf32>'}}
  %0 = attn.scatter_add %d, %ids {rows = 10} : (tensor<4x6x64xf32>, tensor<4x5xi32>) -> tensor<10x64xf32>
  return
}

// -----

func @scatter_result(%d: tensor<?x?x64xf32>, %ids: tensor<?x?xi32>) {
  // expected-error @+1 {{result type 'tensor<10x64xf32>' is incompatible with the type inferred from the operands, 'tensor<1000x64xf32>'}}
  %0 = attn.scatter_add %d, %ids {rows = 1000} : (tensor<?x?x64xf32>, tensor<?x?xi32>) -> tensor<10x64xf32>
  return
}

// -----

// attn.unary step takes no slope.

func @step_alpha(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{'alpha' is only allowed for leaky_relu, not step}}
  %0 = attn.unary step %x {alpha = 0.1 : f32} : tensor<?x64xf32>
  return
}

// -----

// attn.truncate: a negative `every` is rejected too (the attribute is read
// as unsigned).

func @truncate_every_negative(%dh: tensor<?x64xf32>) {
  // expected-error @+1 {{cuts every -2 steps: it must be at least 1}}
  %cut = attn.truncate %dh {every = -2} : tensor<?x64xf32>
  return
}
