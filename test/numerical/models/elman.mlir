// An Elman RNN written directly in the attn dialect (the language's
// recurrences are the next step): h_t = tanh(x_t U + h_{t-1} W + b), over a
// padded batch, forward and reversed. Compiled by `attnc elman.mlir`.
module attributes {attn.model = "elman"} {
  func @elman_forward(
      %x: tensor<?x?x6xf32> {attn.role = "input", attn.name = "x", attn.dims = ["B", "S", "6"]},
      %h0: tensor<?x8xf32> {attn.role = "input", attn.name = "h0", attn.dims = ["B", "8"]},
      %len: tensor<?xi32> {attn.role = "lengths", attn.name = "S", attn.dims = ["B"]},
      %U: tensor<6x8xf32> {attn.role = "param", attn.name = "U", attn.dims = ["6", "8"], attn.init = "xavier", attn.init_args = []},
      %W: tensor<8x8xf32> {attn.role = "param", attn.name = "W", attn.dims = ["8", "8"], attn.init = "xavier", attn.init_args = []},
      %b: tensor<8xf32> {attn.role = "param", attn.name = "b", attn.dims = ["8"], attn.init = "normal", attn.init_args = [0.5]})
      -> (tensor<?x?x8xf32> {attn.name = "h", attn.dims = ["B", "S", "8"]},
          tensor<?x?x8xf32> {attn.name = "hr", attn.dims = ["B", "S", "8"]}) {
    %hs = attn.recurrence over %x {axis = 1} init(%h0) lengths(%len) : (tensor<?x?x6xf32>, tensor<?x8xf32>, tensor<?xi32>) -> tensor<?x?x8xf32> {
    ^bb0(%xt: tensor<?x6xf32>, %h: tensor<?x8xf32>):
      %a = attn.contract %xt, %U {spec = "bd,dh->bh"} : (tensor<?x6xf32>, tensor<6x8xf32>) -> tensor<?x8xf32>
      %c = attn.contract %h, %W {spec = "bk,kh->bh"} : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
      %s = attn.add %a, %c : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
      %t = attn.add %s, %b {spec = "bh,h->bh"} : (tensor<?x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
      %n = attn.unary tanh %t : tensor<?x8xf32>
      attn.yield %n : tensor<?x8xf32>
    }
    %rs = attn.recurrence over %x {axis = 1, reverse} init(%h0) lengths(%len) : (tensor<?x?x6xf32>, tensor<?x8xf32>, tensor<?xi32>) -> tensor<?x?x8xf32> {
    ^bb0(%xt: tensor<?x6xf32>, %h: tensor<?x8xf32>):
      %a = attn.contract %xt, %U {spec = "bd,dh->bh"} : (tensor<?x6xf32>, tensor<6x8xf32>) -> tensor<?x8xf32>
      %c = attn.contract %h, %W {spec = "bk,kh->bh"} : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
      %s = attn.add %a, %c : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
      %t = attn.add %s, %b {spec = "bh,h->bh"} : (tensor<?x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
      %n = attn.unary tanh %t : tensor<?x8xf32>
      attn.yield %n : tensor<?x8xf32>
    }
    %m = attn.mask %hs lengths(%len) {axis = 1} : tensor<?x?x8xf32>
    %mr = attn.mask %rs lengths(%len) {axis = 1} : tensor<?x?x8xf32>
    return %m, %mr : tensor<?x?x8xf32>, tensor<?x?x8xf32>
  }
}
