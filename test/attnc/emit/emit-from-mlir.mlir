// RUN: attnc %s --emit=mlir-opt | FileCheck %s --check-prefix=OPT
// RUN: rm -rf %t.dir && attnc %s -o %t.dir && FileCheck %s --check-prefix=HEADER < %t.dir/rnn.h
// RUN: not attnc %s --emit=ast 2>&1 | FileCheck %s --check-prefix=AST
// attnc also starts from the attn dialect: a recurrence compiles into a step
// kernel driven by attnrt::runRecurrenceKernel in the generated header.

// OPT: attn.recurrence over %{{.*}} {axis = 1 : i64} init(%{{.*}}) lengths(%{{.*}})
// HEADER: extern "C" int rnn_forward_step0_argv(void **args);
// HEADER: extern "C" int rnn_forward(struct halide_buffer_t *x, struct halide_buffer_t *h0, struct halide_buffer_t *S_lengths, struct halide_buffer_t *W, struct halide_buffer_t *in4, struct halide_buffer_t *out_h);
// HEADER: r0.sequences.push_back(&x);
// HEADER: r0.inits.push_back(&h0);
// HEADER: r0.captured.push_back(&params_.get("W"));
// HEADER: attnrt::runRecurrenceKernel("rnn_forward_step0", rnn_forward_step0_argv, r0);
// AST: error: --emit=ast needs a .attn file
module attributes {attn.model = "rnn"} {
  func @rnn_forward(
      %x: tensor<?x?x4xf32> {attn.role = "input", attn.name = "x", attn.dims = ["B", "S", "4"]},
      %h0: tensor<?x4xf32> {attn.role = "input", attn.name = "h0", attn.dims = ["B", "4"]},
      %len: tensor<?xi32> {attn.role = "lengths", attn.name = "S", attn.dims = ["B"]},
      %W: tensor<4x4xf32> {attn.role = "param", attn.name = "W", attn.dims = ["4", "4"], attn.init = "xavier", attn.init_args = []})
      -> (tensor<?x?x4xf32> {attn.name = "h", attn.dims = ["B", "S", "4"]}) {
    %hs = attn.recurrence over %x {axis = 1} init(%h0) lengths(%len) : (tensor<?x?x4xf32>, tensor<?x4xf32>, tensor<?xi32>) -> tensor<?x?x4xf32> {
    ^bb0(%xt: tensor<?x4xf32>, %h: tensor<?x4xf32>):
      %c = attn.contract %h, %W {spec = "bk,kh->bh"} : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
      %s = attn.add %xt, %c : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
      %n = attn.unary tanh %s : tensor<?x4xf32>
      attn.yield %n : tensor<?x4xf32>
    }
    return %hs : tensor<?x?x4xf32>
  }
}
