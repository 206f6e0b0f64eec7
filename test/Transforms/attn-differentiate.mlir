// RUN: attn-opt %s -attn-differentiate -split-input-file -verify-diagnostics | FileCheck %s
// attn-differentiate adds <model>_grad next to every <model>_loss
// (attn.entry = "loss"): the forward ops recomputed, then their adjoints in
// reverse order, seeded with d_loss.

// A contraction's adjoints are two contractions of the result's adjoint with
// the other operand. Only float inputs and parameters get gradients, in
// argument order after the losses.

// CHECK-LABEL: func @lin_loss(
// CHECK-SAME: attributes {attn.entry = "loss"}
// CHECK-NOT: reduce_grad
// CHECK-LABEL: func @lin_grad(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<?x4xf32> {attn.dims = ["B", "D"], attn.name = "x", attn.role = "input"}
// CHECK-SAME: %[[W:[a-z0-9]+]]: tensor<4x3xf32> {attn.dims = ["D", "E"], attn.name = "w", attn.role = "param"}
// CHECK-SAME: %[[D:[a-z0-9]+]]: tensor<?xf32> {attn.dims = ["B"], attn.name = "d_loss", attn.role = "seed"}
// CHECK-SAME: -> (tensor<?xf32> {attn.dims = ["B"], attn.name = "loss"}, tensor<?x4xf32> {attn.dims = ["B", "D"], attn.name = "d_x"}, tensor<4x3xf32> {attn.dims = ["D", "E"], attn.name = "d_w"})
// CHECK-SAME: attributes {attn.entry = "grad"}
// CHECK: %[[Y:.*]] = attn.contract %[[X]], %[[W]] {spec = "bd,de->be"}
// CHECK: %[[T:.*]] = attn.unary tanh %[[Y]]
// CHECK: %[[L:.*]] = attn.reduce sum %[[T]] {axis = 1 : i64}
// CHECK: %[[DT:.*]] = attn.reduce_grad sum %[[T]], %[[L]], %[[D]] {axis = 1 : i64}
// tanh' = 1 - tanh^2
// CHECK: %[[SQ:.*]] = attn.mul %[[T]], %[[T]]
// CHECK: %[[ONE:.*]] = attn.constant 1.000000e+00
// CHECK: %[[DER:.*]] = attn.sub %[[ONE]], %[[SQ]] {spec = ",ab->ab"}
// CHECK: %[[DY:.*]] = attn.mul %[[DT]], %[[DER]]
// CHECK: %[[DX:.*]] = attn.contract %[[DY]], %[[W]] {spec = "be,de->bd"} : (tensor<?x3xf32>, tensor<4x3xf32>) -> tensor<?x4xf32>
// CHECK: %[[DW:.*]] = attn.contract %[[DY]], %[[X]] {spec = "be,bd->de"} : (tensor<?x3xf32>, tensor<?x4xf32>) -> tensor<4x3xf32>
// CHECK: return %[[L]], %[[DX]], %[[DW]]
func @lin_loss(%x: tensor<?x4xf32> {attn.role = "input", attn.name = "x", attn.dims = ["B", "D"]},
               %w: tensor<4x3xf32> {attn.role = "param", attn.name = "w", attn.dims = ["D", "E"]})
    -> (tensor<?xf32> {attn.name = "loss", attn.dims = ["B"]}) attributes {attn.entry = "loss"} {
  %y = attn.contract %x, %w {spec = "bd,de->be"} : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  %t = attn.unary tanh %y : tensor<?x3xf32>
  %l = attn.reduce sum %t {axis = 1} : tensor<?x3xf32> -> tensor<?xf32>
  return %l : tensor<?xf32>
}

// A function that is not a loss gets no gradient.
// CHECK-LABEL: func @lin_forward(
// CHECK-NOT: func @lin_forward_grad
func @lin_forward(%x: tensor<?x4xf32> {attn.role = "input", attn.name = "x", attn.dims = ["B", "D"]}) -> tensor<?xf32> attributes {attn.entry = "forward"} {
  %l = attn.reduce sum %x {axis = 1} : tensor<?x4xf32> -> tensor<?xf32>
  return %l : tensor<?xf32>
}

// -----

// Backpropagation through time: the adjoint of a forward recurrence is a
// reversed recurrence over the forward sequences, the states each step read
// (attn.shift of the stacked states and the initial state) and the adjoint
// of the stacked states, and the forward values the adjoint reads (here the
// tanh, which is the state: the stacked states themselves), so its step
// recomputes nothing of the forward step and carries the state adjoint; the
// weight's gradient is one contraction over batch and time after the loop,
// of the masked per-step pieces it stacks.

// CHECK-LABEL: func @rnn_grad(
// CHECK-SAME: %[[XS:[a-z0-9]+]]: tensor<?x?x4xf32> {{[^}]*}}attn.name = "xs"
// CHECK-SAME: %[[LEN:[a-z0-9]+]]: tensor<?xi32> {{[^}]*}}attn.role = "lengths"
// CHECK-SAME: %[[U:[a-z0-9]+]]: tensor<4x4xf32> {{[^}]*}}attn.name = "u"
// CHECK-SAME: %[[H0:[a-z0-9]+]]: tensor<?x4xf32> {{[^}]*}}attn.name = "h0"
// CHECK-SAME: -> (tensor<?xf32> {{.*}}, tensor<?x?x4xf32> {{[^}]*}}attn.name = "d_xs"}, tensor<4x4xf32> {{[^}]*}}attn.name = "d_u"}, tensor<?x4xf32> {{[^}]*}}attn.name = "d_h0"})
// CHECK: %[[HS:.*]] = attn.recurrence over %[[XS]] {axis = 1 : i64} init(%[[H0]]) lengths(%[[LEN]])
// CHECK: %[[LAST:.*]] = attn.pick %[[HS]] lengths(%[[LEN]]) {axis = 1 : i64, last = true}
// CHECK: %[[DLAST:.*]] = attn.reduce_grad sum %[[LAST]]
// CHECK: %[[DHS:.*]] = attn.unpick %[[DLAST]] like %[[HS]] lengths(%[[LEN]]) {axis = 1 : i64, last = true}
// CHECK: %[[PREV:.*]] = attn.shift %[[HS]], %[[H0]] lengths(%[[LEN]]) {axis = 1 : i64} :
// CHECK: %[[BW:.*]]:2 = attn.recurrence over %[[XS]], %[[PREV]], %[[DHS]], %[[HS]] {axis = 1 : i64, reverse} init({{.*}}) lengths(%[[LEN]])
// CHECK-NEXT: ^bb0(%[[XT:[a-z0-9]+]]: tensor<?x4xf32>, %[[HT:[a-z0-9]+]]: tensor<?x4xf32>, %[[DHT:[a-z0-9]+]]: tensor<?x4xf32>, %[[NT:[a-z0-9]+]]: tensor<?x4xf32>, %[[CARRY:[a-z0-9]+]]: tensor<?x4xf32>, %{{.*}}: tensor<?x4xf32>):
// CHECK-NEXT: %[[DN:.*]] = attn.add %[[CARRY]], %[[DHT]]
// CHECK-NEXT: %{{.*}} = attn.mul %[[NT]], %[[NT]]
// CHECK-NOT: attn.unary tanh
// CHECK: %[[DS:.*]] = attn.mul %[[DN]], %{{.*}}
// CHECK-NEXT: %[[DH:.*]] = attn.contract %[[DS]], %[[U]] {spec = "be,de->bd"}
// CHECK-NEXT: attn.yield %[[DH]], %[[DS]]
// CHECK: %[[DXS:.*]] = attn.mask %[[BW]]#1 lengths(%[[LEN]]) {axis = 1 : i64}
// CHECK: %[[DH0:.*]] = attn.pick %[[BW]]#0 lengths(%[[LEN]]) {axis = 1 : i64, last = false}
// CHECK: %[[PIECES:.*]] = attn.mask %[[BW]]#1 lengths(%[[LEN]]) {axis = 1 : i64}
// CHECK: %[[DU:.*]] = attn.contract %[[PIECES]], %[[PREV]] {spec = "bae,bad->de"} : (tensor<?x?x4xf32>, tensor<?x?x4xf32>) -> tensor<4x4xf32>
// CHECK: return %{{.*}}, %[[DXS]], %[[DU]], %[[DH0]]
func @rnn_loss(%xs: tensor<?x?x4xf32> {attn.role = "input", attn.name = "xs", attn.dims = ["B", "S", "H"]},
               %len: tensor<?xi32> {attn.role = "lengths", attn.name = "S", attn.dims = ["B"]},
               %u: tensor<4x4xf32> {attn.role = "param", attn.name = "u", attn.dims = ["H", "H"]},
               %h0: tensor<?x4xf32> {attn.role = "input", attn.name = "h0", attn.dims = ["B", "H"]})
    -> (tensor<?xf32> {attn.name = "loss", attn.dims = ["B"]}) attributes {attn.entry = "loss"} {
  %hs = attn.recurrence over %xs {axis = 1} init(%h0) lengths(%len) : (tensor<?x?x4xf32>, tensor<?x4xf32>, tensor<?xi32>) -> tensor<?x?x4xf32> {
  ^bb0(%x_t: tensor<?x4xf32>, %h: tensor<?x4xf32>):
    %p = attn.contract %h, %u {spec = "bd,de->be"} : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
    %s = attn.add %x_t, %p : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
    %n = attn.unary tanh %s : tensor<?x4xf32>
    attn.yield %n : tensor<?x4xf32>
  }
  %last = attn.pick %hs lengths(%len) {axis = 1, last = true} : tensor<?x?x4xf32> -> tensor<?x4xf32>
  %l = attn.reduce sum %last {axis = 1} : tensor<?x4xf32> -> tensor<?xf32>
  return %l : tensor<?xf32>
}

// -----

// A reversed recurrence: the shift reads the next step's state, the
// backward loop runs forward, and the initial state's adjoint is what the
// loop carries after each row's last valid step. A parameter broadcast over
// the batch sums its adjoint over the batch.

// CHECK-LABEL: func @rev_grad(
// CHECK-SAME: %[[XS:[a-z0-9]+]]: tensor<?x?x4xf32>
// CHECK-SAME: %[[LEN:[a-z0-9]+]]: tensor<?xi32>
// CHECK-SAME: %[[W:[a-z0-9]+]]: tensor<4x4xf32>
// CHECK-SAME: %[[C0:[a-z0-9]+]]: tensor<4xf32>
// CHECK: %[[H0:.*]] = attn.batch_broadcast %[[C0]] like %[[LEN]]
// The forward loop also stacks x * h, which w's adjoint reads.
// CHECK: %[[HS:.*]]:2 = attn.recurrence over %[[XS]] {axis = 1 : i64, reverse} init(%[[H0]], %{{.*}}) lengths(%[[LEN]])
// CHECK: %[[P:.*]] = attn.mul
// CHECK: attn.yield %{{.*}}, %[[P]]
// CHECK: %[[M:.*]] = attn.reduce mean %[[HS]]#0 lengths(%[[LEN]]) {axis = 1 : i64}
// CHECK: %[[DHS:.*]] = attn.reduce_grad mean %[[HS]]#0, %[[M]], %{{.*}} lengths(%[[LEN]]) {axis = 1 : i64}
// CHECK: %[[NEXT:.*]] = attn.shift %[[HS]]#0, %[[H0]] lengths(%[[LEN]]) {axis = 1 : i64, reverse}
// CHECK: %[[BW:.*]]:3 = attn.recurrence over %[[XS]], %[[NEXT]], %[[DHS]], %[[HS]]#1, %[[HS]]#0 {axis = 1 : i64} init(
// sigmoid' = s (1 - s) from the stored sigmoid: nothing of the forward step
// is recomputed
// CHECK-NOT: attn.unary sigmoid
// CHECK: attn.sub %{{.*}}, %{{.*}} {spec = ",ab->ab"}
// CHECK: attn.yield
// CHECK: %[[DINIT:.*]] = attn.pick %[[BW]]#0 lengths(%[[LEN]]) {axis = 1 : i64, last = true}
// CHECK: %[[DW:.*]] = attn.contract %{{.*}}, %[[HS]]#1 {spec = "bae,bad->de"}
// CHECK: %[[DC0:.*]] = attn.reduce sum %[[DINIT]] {axis = 0 : i64} : tensor<?x4xf32> -> tensor<4xf32>
// CHECK: return %{{.*}}, %{{.*}}, %[[DW]], %[[DC0]]
func @rev_loss(%xs: tensor<?x?x4xf32> {attn.role = "input", attn.name = "xs", attn.dims = ["B", "S", "H"]},
               %len: tensor<?xi32> {attn.role = "lengths", attn.name = "S", attn.dims = ["B"]},
               %w: tensor<4x4xf32> {attn.role = "param", attn.name = "w", attn.dims = ["H", "H"]},
               %c0: tensor<4xf32> {attn.role = "param", attn.name = "c0", attn.dims = ["H"]})
    -> (tensor<?xf32> {attn.name = "loss", attn.dims = ["B"]}) attributes {attn.entry = "loss"} {
  %h0 = attn.batch_broadcast %c0 like %len {shape = [4]} : tensor<4xf32>, tensor<?xi32> -> tensor<?x4xf32>
  %hs = attn.recurrence over %xs {axis = 1, reverse} init(%h0) lengths(%len) : (tensor<?x?x4xf32>, tensor<?x4xf32>, tensor<?xi32>) -> tensor<?x?x4xf32> {
  ^bb0(%x_t: tensor<?x4xf32>, %h: tensor<?x4xf32>):
    %p = attn.mul %x_t, %h : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
    %q = attn.contract %p, %w {spec = "bd,de->be"} : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
    %n = attn.unary sigmoid %q : tensor<?x4xf32>
    attn.yield %n : tensor<?x4xf32>
  }
  %m = attn.reduce mean %hs lengths(%len) {axis = 1} : tensor<?x?x4xf32> -> tensor<?x4xf32>
  %l = attn.reduce sum %m {axis = 1} : tensor<?x4xf32> -> tensor<?xf32>
  return %l : tensor<?xf32>
}

// -----

// The training ops' adjoints: cross_entropy -> cross_entropy_grad (same
// smoothing), a masked reduction -> reduce_grad with the mask, relu -> step,
// slice -> pad, a masked contraction -> contractions, masked (attn.mask)
// where the masked letter is kept, softmax -> p (d - sum(d p)), gather -> scatter_add into the
// table. Token ids (input or target) get no gradient. (The softmax runs over
// axis 1, so this is not the attention pattern: the generic rules apply.)

// CHECK-LABEL: func @ops_grad(
// CHECK-SAME: %[[IDS:[a-z0-9]+]]: tensor<?x?xi32>
// CHECK-SAME: %[[TGT:[a-z0-9]+]]: tensor<?x?xi32> {{[^}]*}}attn.role = "target"
// CHECK-SAME: %[[LEN:[a-z0-9]+]]: tensor<?xi32>
// CHECK-SAME: %[[E:[a-z0-9]+]]: tensor<10x8xf32>
// CHECK-SAME: %[[W:[a-z0-9]+]]: tensor<4x10xf32>
// CHECK-SAME: %[[D:[a-z0-9]+]]: tensor<?xf32> {{[^}]*}}attn.role = "seed"
// CHECK-SAME: -> (tensor<?xf32> {{.*}}, tensor<10x8xf32> {attn.dims = ["V", "D"], attn.name = "d_E"}, tensor<4x10xf32> {attn.dims = ["K", "V"], attn.name = "d_W"})
// CHECK: %[[X:.*]] = attn.gather %[[E]], %[[IDS]]
// CHECK: %[[A:.*]] = attn.align soft
// CHECK: %[[H:.*]] = attn.slice
// CHECK: %[[R:.*]] = attn.unary relu %[[H]]
// CHECK: %[[LOGITS:.*]] = attn.contract %[[R]], %[[W]]
// CHECK: %[[CE:.*]] = attn.cross_entropy %[[LOGITS]], %[[TGT]] {smoothing = 1.000000e-01 : f32}
// CHECK: %[[L:.*]] = attn.reduce sum %[[CE]] lengths(%[[LEN]]) {axis = 1 : i64}
// CHECK: %[[DCE:.*]] = attn.reduce_grad sum %[[CE]], %[[L]], %[[D]] lengths(%[[LEN]]) {axis = 1 : i64}
// CHECK: %[[DLOGITS:.*]] = attn.cross_entropy_grad %[[LOGITS]], %[[TGT]], %[[DCE]] {smoothing = 1.000000e-01 : f32} : (tensor<?x?x10xf32>, tensor<?x?xi32>, tensor<?x?xf32>) -> tensor<?x?x10xf32>
// CHECK: %[[DR:.*]] = attn.contract %[[DLOGITS]], %[[W]] {spec = "bsv,kv->bsk"}
// CHECK: %[[DW:.*]] = attn.contract %[[DLOGITS]], %[[R]] {spec = "bsv,bsk->kv"}
// CHECK: %[[STEP:.*]] = attn.unary step %[[H]]
// CHECK: %[[DH:.*]] = attn.mul %[[DR]], %[[STEP]]
// CHECK: %[[DC:.*]] = attn.pad %[[DH]] {after = 2 : i64, axis = 2 : i64, before = 2 : i64} : tensor<?x?x4xf32> -> tensor<?x?x8xf32>
// CHECK: %[[DA0:.*]] = attn.contract %[[DC]], %[[X]] {spec = "bjd,bid->bij"}
// CHECK: %[[DA:.*]] = attn.mask %[[DA0]] lengths(%[[LEN]]) {axis = 1 : i64}
// CHECK: %[[DX0:.*]] = attn.contract %[[DC]], %[[A]] {spec = "bjd,bij->bid"}
// CHECK: attn.mask %[[DX0]] lengths(%[[LEN]]) {axis = 1 : i64}
// CHECK: %[[PD:.*]] = attn.mul %[[DA]], %[[A]]
// CHECK: %[[SUM:.*]] = attn.reduce sum %[[PD]] lengths(%[[LEN]]) {axis = 1 : i64}
// CHECK: %[[CENTRED:.*]] = attn.sub %[[DA]], %[[SUM]] {spec = "abc,ac->abc"}
// CHECK: %[[DSC:.*]] = attn.mul %[[A]], %[[CENTRED]]
// The scores' adjoint reaches x through both operands of q.k.
// CHECK: attn.contract %[[DSC]], %[[X]] {spec = "bij,bjd->bid"}
// CHECK: attn.contract %[[DSC]], %[[X]] {spec = "bij,bid->bjd"}
// CHECK-NEXT: %[[DX:.*]] = attn.add
// CHECK-NEXT: %[[DE:.*]] = attn.scatter_add %[[DX]], %[[IDS]] {rows = 10 : i64} : (tensor<?x?x8xf32>, tensor<?x?xi32>) -> tensor<10x8xf32>
// CHECK: return %[[L]], %[[DE]], %[[DW]]
func @ops_loss(%ids: tensor<?x?xi32> {attn.role = "input", attn.name = "ids", attn.dims = ["B", "S"]},
               %tgt: tensor<?x?xi32> {attn.role = "target", attn.name = "tgt", attn.dims = ["B", "S"]},
               %len: tensor<?xi32> {attn.role = "lengths", attn.name = "S", attn.dims = ["B"]},
               %E: tensor<10x8xf32> {attn.role = "param", attn.name = "E", attn.dims = ["V", "D"]},
               %W: tensor<4x10xf32> {attn.role = "param", attn.name = "W", attn.dims = ["K", "V"]})
    -> (tensor<?xf32> {attn.name = "loss", attn.dims = ["B"]}) attributes {attn.entry = "loss"} {
  %x = attn.gather %E, %ids : (tensor<10x8xf32>, tensor<?x?xi32>) -> tensor<?x?x8xf32>
  %e = attn.contract %x, %x {spec = "bid,bjd->bij"} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x?xf32>
  %a = attn.align soft %e lengths(%len) {axis = 1} : tensor<?x?x?xf32>
  %c = attn.contract %a, %x lengths(%len) {spec = "bij,bid->bjd", masked = "i"} : (tensor<?x?x?xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  %h = attn.slice %c {axis = 2, start = 2, size = 4} : tensor<?x?x8xf32> -> tensor<?x?x4xf32>
  %r = attn.unary relu %h : tensor<?x?x4xf32>
  %logits = attn.contract %r, %W {spec = "bsk,kv->bsv"} : (tensor<?x?x4xf32>, tensor<4x10xf32>) -> tensor<?x?x10xf32>
  %ce = attn.cross_entropy %logits, %tgt {smoothing = 0.1 : f32} : (tensor<?x?x10xf32>, tensor<?x?xi32>) -> tensor<?x?xf32>
  %l = attn.reduce sum %ce lengths(%len) {axis = 1} : tensor<?x?xf32> -> tensor<?xf32>
  return %l : tensor<?xf32>
}

// -----

// Errors. Ops of the raised forms have no gradient rule.

func @score_loss(%q: tensor<?x?x4xf32> {attn.role = "input", attn.name = "q", attn.dims = ["B", "T", "D"]}) -> tensor<?xf32> attributes {attn.entry = "loss"} {
  // expected-error @+1 {{'attn.score' op has no gradient rule (differentiate before attn-raise)}}
  %e = attn.score dot %q, %q : (tensor<?x?x4xf32>, tensor<?x?x4xf32>) -> tensor<?x?x?xf32>
  %s = attn.reduce sum %e {axis = 2} : tensor<?x?x?xf32> -> tensor<?x?xf32>
  %l = attn.reduce sum %s {axis = 1} : tensor<?x?xf32> -> tensor<?xf32>
  return %l : tensor<?xf32>
}

// -----

func @concat_loss(%a: tensor<?x?xf32> {attn.role = "input", attn.name = "a", attn.dims = ["B", "S"]}) -> tensor<?xf32> attributes {attn.entry = "loss"} {
  // expected-error @+1 {{cannot differentiate a concatenation along a run-time axis}}
  %c = attn.concat %a, %a {axis = 1} : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %l = attn.reduce sum %c {axis = 1} : tensor<?x?xf32> -> tensor<?xf32>
  return %l : tensor<?xf32>
}

// -----

func @slice_loss(%a: tensor<?x?xf32> {attn.role = "input", attn.name = "a", attn.dims = ["B", "S"]}) -> tensor<?xf32> attributes {attn.entry = "loss"} {
  // expected-error @+1 {{cannot differentiate a slice of a run-time axis}}
  %c = attn.slice %a {axis = 1, start = 0, size = 2} : tensor<?x?xf32> -> tensor<?x2xf32>
  %l = attn.reduce sum %c {axis = 1} : tensor<?x2xf32> -> tensor<?xf32>
  return %l : tensor<?xf32>
}

// -----

// A lookup into a per-example table (a decoder's memory) has no gradient.
func @gather_loss(%t: tensor<?x4xf32> {attn.role = "input", attn.name = "t", attn.dims = ["B", "D"]}, %ids: tensor<?xi32> {attn.role = "input", attn.name = "ids", attn.dims = ["B"]}) -> tensor<?xf32> attributes {attn.entry = "loss"} {
  // expected-error @+1 {{cannot differentiate this lookup: only lookups into a parameter table outside recurrences have gradients}}
  %g = attn.gather %t, %ids : (tensor<?x4xf32>, tensor<?xi32>) -> tensor<?x4xf32>
  %l = attn.reduce sum %g {axis = 1} : tensor<?x4xf32> -> tensor<?xf32>
  return %l : tensor<?xf32>
}

// -----

func @axis_loss(%xs: tensor<?x4x?xf32> {attn.role = "input", attn.name = "xs", attn.dims = ["B", "D", "S"]}, %h0: tensor<?x4xf32> {attn.role = "input", attn.name = "h0", attn.dims = ["B", "D"]}) -> tensor<?xf32> attributes {attn.entry = "loss"} {
  // expected-error @+1 {{'attn.recurrence' op gradients need the time axis at 1}}
  %hs = attn.recurrence over %xs {axis = 2} init(%h0) : (tensor<?x4x?xf32>, tensor<?x4xf32>) -> tensor<?x4x?xf32> {
  ^bb0(%x_t: tensor<?x4xf32>, %h: tensor<?x4xf32>):
    %n = attn.add %x_t, %h : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
    attn.yield %n : tensor<?x4xf32>
  }
  %s = attn.reduce sum %hs {axis = 2} : tensor<?x4x?xf32> -> tensor<?x4xf32>
  %l = attn.reduce sum %s {axis = 1} : tensor<?x4xf32> -> tensor<?xf32>
  return %l : tensor<?xf32>
}

// -----

// expected-error @+1 {{a loss function (attn.entry = "loss") returns one f32 loss per example, as tensor<?xf32>; 'bad_result' has type '(tensor<?x4xf32>) -> tensor<?x4xf32>'}}
func @bad_result(%x: tensor<?x4xf32> {attn.role = "input", attn.name = "x", attn.dims = ["B", "D"]}) -> tensor<?x4xf32> attributes {attn.entry = "loss"} {
  return %x : tensor<?x4xf32>
}

// -----

// expected-error @+1 {{argument #0 of 'no_name' (attn.role = "input") needs a ranked type and an attn.name (its gradient is the result d_<name>)}}
func @no_name(%x: tensor<?x4xf32> {attn.role = "input"}, %w: tensor<4xf32> {attn.role = "param", attn.name = "w"}) -> tensor<?xf32> attributes {attn.entry = "loss"} {
  %l = attn.contract %x, %w {spec = "bd,d->b"} : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?xf32>
  return %l : tensor<?xf32>
}

// -----

// Without attn.dims the gradient result has only its name.
// CHECK-LABEL: func @no_dims_grad(
// CHECK-SAME: -> (tensor<?xf32>, tensor<4xf32> {attn.name = "d_w"})
// CHECK: attn.contract %{{.*}}, %{{.*}} {spec = "b,bd->d"}
func @no_dims_loss(%x: tensor<?x4xf32> {attn.role = "target", attn.name = "x"}, %w: tensor<4xf32> {attn.role = "param", attn.name = "w"}) -> tensor<?xf32> attributes {attn.entry = "loss"} {
  %l = attn.contract %x, %w {spec = "bd,d->b"} : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?xf32>
  return %l : tensor<?xf32>
}
