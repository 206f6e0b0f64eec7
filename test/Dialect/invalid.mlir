// RUN: attn-opt %s -split-input-file -verify-diagnostics
// One case per verifier diagnostic of the attn dialect.

// -----

// elementwise binary ops

func @binary_shapes(%a: tensor<?x64xf32>, %b: tensor<?x32xf32>) {
  // expected-error @+1 {{operands must have the same shape when there is no spec, but got 'tensor<?x64xf32>' and 'tensor<?x32xf32>'}}
  %0 = attn.add %a, %b : (tensor<?x64xf32>, tensor<?x32xf32>) -> tensor<?x64xf32>
  return
}

// -----

func @spec_no_arrow(%a: tensor<?x64xf32>) {
  // expected-error @+1 {{spec 'bd,bd' must have the form 'in,in->out'}}
  %0 = attn.add %a, %a {spec = "bd,bd"} : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  return
}

// -----

func @spec_bad_char(%a: tensor<?x64xf32>) {
  // expected-error @+1 {{spec 'bD,bd->bd' has the character 'D'; terms are lowercase letters only}}
  %0 = attn.add %a, %a {spec = "bD,bd->bd"} : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  return
}

// -----

func @spec_repeat(%a: tensor<?x64xf32>) {
  // expected-error @+1 {{spec 'bb,bd->bd' repeats the letter 'b' in the term 'bb'}}
  %0 = attn.add %a, %a {spec = "bb,bd->bd"} : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  return
}

// -----

func @spec_terms(%a: tensor<?x64xf32>) {
  // expected-error @+1 {{spec 'bd->bd' has 1 input terms for 2 operands}}
  %0 = attn.add %a, %a {spec = "bd->bd"} : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  return
}

// -----

func @spec_rank(%a: tensor<?x64xf32>, %b: tensor<?x?x64xf32>) {
  // expected-error @+1 {{spec term 'bd' has 2 letters but operand #1 has rank 3}}
  %0 = attn.add %a, %b {spec = "bd,bd->bd"} : (tensor<?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x64xf32>
  return
}

// -----

func @spec_sizes(%a: tensor<?x64xf32>, %b: tensor<?x?x32xf32>) {
  // expected-error @+1 {{letter 'd' has size 64 in operand #0 but size 32 in operand #1}}
  %0 = attn.add %a, %b {spec = "bd,bsd->bsd"} : (tensor<?x64xf32>, tensor<?x?x32xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func @spec_result_letter(%a: tensor<?x64xf32>) {
  // expected-error @+1 {{result letter 'x' of spec 'bd,bd->bxd' appears in no input}}
  %0 = attn.mul %a, %a {spec = "bd,bd->bxd"} : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func @spec_sums(%a: tensor<?x64xf32>) {
  // expected-error @+1 {{input letter 'd' of spec 'bd,bd->b' is missing from the result; elementwise ops do not sum (use attn.contract)}}
  %0 = attn.mul %a, %a {spec = "bd,bd->b"} : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?xf32>
  return
}

// -----

func @spec_result_rank(%a: tensor<?x64xf32>, %b: tensor<?x?x64xf32>) {
  // expected-error @+1 {{result term 'bsd' has 3 letters but the result has rank 2}}
  %0 = attn.sub %a, %b {spec = "bd,bsd->bsd"} : (tensor<?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x64xf32>
  return
}

// -----

func @binary_result(%a: tensor<?x64xf32>) {
  // expected-error @+1 {{result type 'tensor<?x32xf32>' is incompatible with the type inferred from the operands, 'tensor<?x64xf32>'}}
  %0 = attn.div %a, %a : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x32xf32>
  return
}

// -----

func @binary_element(%a: tensor<?x64xi32>) {
  // expected-error @+1 {{operand #0 must be tensor of 32-bit float values}}
  %0 = attn.max %a, %a : (tensor<?x64xi32>, tensor<?x64xi32>) -> tensor<?x64xi32>
  return
}

// -----

// attn.constant, attn.unary

func @constant_type() {
  // expected-error @+1 {{result #0 must be 0D tensor of 32-bit float values}}
  %c = attn.constant 1.0 : tensor<2xf32>
  return
}

// -----

func @unary_alpha(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{'alpha' is only allowed for leaky_relu, not tanh}}
  %0 = attn.unary tanh %x {alpha = 0.1 : f32} : tensor<?x64xf32>
  return
}

// -----

func @unary_fn(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{expected string or keyword containing one of the following enum values for attribute 'fn'}}
  %0 = attn.unary gelu %x : tensor<?x64xf32>
  return
}

// -----

// attn.transpose

func @transpose_size(%x: tensor<?x?x64xf32>) {
  // expected-error @+1 {{perm [1, 0] has 2 entries for an operand of rank 3}}
  %0 = attn.transpose %x {perm = [1, 0]} : tensor<?x?x64xf32> -> tensor<?x?xf32>
  return
}

// -----

func @transpose_perm(%x: tensor<?x?x64xf32>) {
  // expected-error @+1 {{perm [0, 2, 2] is not a permutation of 0..2}}
  %0 = attn.transpose %x {perm = [0, 2, 2]} : tensor<?x?x64xf32> -> tensor<?x64x64xf32>
  return
}

// -----

func @transpose_result(%x: tensor<?x8x64xf32>) {
  // expected-error @+1 {{result type 'tensor<?x8x64xf32>' is incompatible with the type inferred from the operands, 'tensor<?x64x8xf32>'}}
  %0 = attn.transpose %x {perm = [0, 2, 1]} : tensor<?x8x64xf32> -> tensor<?x8x64xf32>
  return
}

// -----

// attn.reshape

func @reshape_prefix(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{the operand 'tensor<?x64xf32>' has 1 leading dynamic sizes but the result 'tensor<?x?x16xf32>' has 2; they must share one dynamic prefix}}
  %0 = attn.reshape %x : tensor<?x64xf32> -> tensor<?x?x16xf32>
  return
}

// -----

func @reshape_count(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{the static sizes hold 64 elements in the operand 'tensor<?x64xf32>' but 60 in the result 'tensor<?x4x15xf32>'}}
  %0 = attn.reshape %x : tensor<?x64xf32> -> tensor<?x4x15xf32>
  return
}

// -----

func @reshape_result_order(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{result type 'tensor<4x?xf32>' has a dynamic size after a static one; dynamic sizes must lead}}
  %0 = attn.reshape %x : tensor<?x64xf32> -> tensor<4x?xf32>
  return
}

// -----

func @reshape_operand_order(%x: tensor<4x?xf32>) {
  // expected-error @+1 {{operand type 'tensor<4x?xf32>' has a dynamic size after a static one; dynamic sizes must lead}}
  %0 = attn.reshape %x : tensor<4x?xf32> -> tensor<?xf32>
  return
}

// -----

func @reshape_element(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{cannot change the element type: 'tensor<?x64xf32>' to 'tensor<?x64xi32>'}}
  %0 = attn.reshape %x : tensor<?x64xf32> -> tensor<?x64xi32>
  return
}

// -----

func @reshape_unranked_result(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{result #0 must be ranked tensor}}
  %0 = attn.reshape %x : tensor<?x64xf32> -> tensor<*xf32>
  return
}

// -----

// attn.concat, attn.slice

func @concat_empty() {
  // expected-error @+1 {{needs at least one operand}}
  %0 = attn.concat {axis = 0} : () -> tensor<?xf32>
  return
}

// -----

func @concat_element(%a: tensor<?x4xf32>, %b: tensor<?x4xi32>) {
  // expected-error @+1 {{operand #1 has element type 'i32' but operand #0 'f32'}}
  %0 = attn.concat %a, %b {axis = 1} : (tensor<?x4xf32>, tensor<?x4xi32>) -> tensor<?x8xf32>
  return
}

// -----

func @concat_rank(%a: tensor<?x4xf32>, %b: tensor<?x4x2xf32>) {
  // expected-error @+1 {{operand #1 has rank 3 but operand #0 has rank 2}}
  %0 = attn.concat %a, %b {axis = 1} : (tensor<?x4xf32>, tensor<?x4x2xf32>) -> tensor<?x8xf32>
  return
}

// -----

func @concat_sizes(%a: tensor<2x4xf32>, %b: tensor<3x4xf32>) {
  // expected-error @+1 {{operand #1 has size 3 along axis 0 but operand #0 has size 2; only the concatenation axis 1 may differ}}
  %0 = attn.concat %a, %b {axis = 1} : (tensor<2x4xf32>, tensor<3x4xf32>) -> tensor<2x8xf32>
  return
}

// -----

func @concat_axis(%a: tensor<?x4xf32>) {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = attn.concat %a, %a {axis = 2} : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  return
}

// -----

func @concat_result(%a: tensor<?x4xf32>, %b: tensor<?x6xf32>) {
  // expected-error @+1 {{result type 'tensor<?x8xf32>' is incompatible with the type inferred from the operands, 'tensor<?x10xf32>'}}
  %0 = attn.concat %a, %b {axis = 1} : (tensor<?x4xf32>, tensor<?x6xf32>) -> tensor<?x8xf32>
  return
}

// -----

func @slice_negative(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{start -1 and size 4 must be non-negative}}
  %0 = attn.slice %x {axis = 1, start = -1, size = 4} : tensor<?x64xf32> -> tensor<?x4xf32>
  return
}

// -----

func @slice_window(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{the window [60, 68) exceeds size 64 of axis 1}}
  %0 = attn.slice %x {axis = 1, start = 60, size = 8} : tensor<?x64xf32> -> tensor<?x8xf32>
  return
}

// -----

func @slice_axis(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = attn.slice %x {axis = 2, start = 0, size = 8} : tensor<?x64xf32> -> tensor<?x8xf32>
  return
}

// -----

// attn.gather

func @gather_table(%t: tensor<f32>, %ids: tensor<?xi32>) {
  // expected-error @+1 {{the table 'tensor<f32>' must have rank >= 1 (rows are looked up)}}
  %0 = attn.gather %t, %ids : (tensor<f32>, tensor<?xi32>) -> tensor<?xf32>
  return
}

// -----

func @gather_result(%t: tensor<1000x64xf32>, %ids: tensor<?x?xi32>) {
  // expected-error @+1 {{result type 'tensor<?x64xf32>' is incompatible with the type inferred from the operands, 'tensor<?x?x64xf32>'}}
  %0 = attn.gather %t, %ids : (tensor<1000x64xf32>, tensor<?x?xi32>) -> tensor<?x64xf32>
  return
}

// -----

func @gather_ids(%t: tensor<1000x64xf32>, %ids: tensor<?x?xf32>) {
  // expected-error @+1 {{operand #1 must be tensor of 32-bit signless integer values}}
  %0 = attn.gather %t, %ids : (tensor<1000x64xf32>, tensor<?x?xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

// attn.contract

func @contract_sizes(%x: tensor<?x?x64xf32>, %w: tensor<32x16xf32>) {
  // expected-error @+1 {{letter 'd' has size 64 in operand #0 but size 32 in operand #1}}
  %0 = attn.contract %x, %w {spec = "bsd,de->bse"} : (tensor<?x?x64xf32>, tensor<32x16xf32>) -> tensor<?x?x16xf32>
  return
}

// -----

func @contract_result_letter(%x: tensor<?x?x64xf32>, %w: tensor<64x16xf32>) {
  // expected-error @+1 {{result letter 'z' of spec 'bsd,de->bsz' appears in no input}}
  %0 = attn.contract %x, %w {spec = "bsd,de->bsz"} : (tensor<?x?x64xf32>, tensor<64x16xf32>) -> tensor<?x?x?xf32>
  return
}

// -----

func @contract_result_rank(%x: tensor<?x?x64xf32>, %w: tensor<64x16xf32>) {
  // expected-error @+1 {{result term 'bse' has 3 letters but the result has rank 2}}
  %0 = attn.contract %x, %w {spec = "bsd,de->bse"} : (tensor<?x?x64xf32>, tensor<64x16xf32>) -> tensor<?x16xf32>
  return
}

// -----

func @contract_result(%x: tensor<?x?x64xf32>, %w: tensor<64x16xf32>) {
  // expected-error @+1 {{result type 'tensor<?x?x32xf32>' is incompatible with the type inferred from the operands, 'tensor<?x?x16xf32>'}}
  %0 = attn.contract %x, %w {spec = "bsd,de->bse"} : (tensor<?x?x64xf32>, tensor<64x16xf32>) -> tensor<?x?x32xf32>
  return
}

// -----

func @contract_masked_alone(%a: tensor<?x?x?xf32>, %v: tensor<?x?x64xf32>) {
  // expected-error @+1 {{'masked' and 'lengths' must be given together}}
  %0 = attn.contract %a, %v {spec = "bts,bsd->btd", masked = "s"} : (tensor<?x?x?xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func @contract_masked_letters(%a: tensor<?x?x?xf32>, %v: tensor<?x?x64xf32>, %len: tensor<?xi32>) {
  // expected-error @+1 {{masked must name one letter, got 'st'}}
  %0 = attn.contract %a, %v lengths(%len) {spec = "bts,bsd->btd", masked = "st"} : (tensor<?x?x?xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func @contract_masked_lhs(%w: tensor<64x16xf32>, %x: tensor<?x?x64xf32>, %len: tensor<?xi32>) {
  // expected-error @+1 {{masked letter 's' must appear in the lhs term 'de'}}
  %0 = attn.contract %w, %x lengths(%len) {spec = "de,bsd->be", masked = "s"} : (tensor<64x16xf32>, tensor<?x?x64xf32>) -> tensor<?x16xf32>
  return
}

// -----

func @contract_masked_kept(%x: tensor<?x?x64xf32>, %w: tensor<64x16xf32>, %len: tensor<?xi32>) {
  // expected-error @+1 {{masked letter 's' must be summed, but the result term 'bse' keeps it}}
  %0 = attn.contract %x, %w lengths(%len) {spec = "bsd,de->bse", masked = "s"} : (tensor<?x?x64xf32>, tensor<64x16xf32>) -> tensor<?x?x16xf32>
  return
}

// -----

func @contract_masked_batch(%x: tensor<?x?x64xf32>, %y: tensor<?x?x64xf32>, %len: tensor<?xi32>) {
  // expected-error @+1 {{masked letter 'b' is the batch (axis 0 of the lhs)}}
  %0 = attn.contract %x, %y lengths(%len) {spec = "bsd,bsd->sd", masked = "b"} : (tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x64xf32>
  return
}

// -----

func @contract_lengths_type(%a: tensor<?x?x?xf32>, %v: tensor<?x?x64xf32>, %len: tensor<4xi32>) {
  // expected-note @-1 {{prior use here}}
  // expected-error @+1 {{use of value '%len' expects different type than prior uses: 'tensor<?xi32>' vs 'tensor<4xi32>'}}
  %0 = attn.contract %a, %v lengths(%len) {spec = "bts,bsd->btd", masked = "s"} : (tensor<?x?x?xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

// attn.reduce, attn.align, attn.mask

func @reduce_batch(%x: tensor<?x?x64xf32>, %len: tensor<?xi32>) {
  // expected-error @+1 {{cannot mask axis 0 with lengths: axis 0 is the batch}}
  %0 = attn.reduce sum %x lengths(%len) {axis = 0} : tensor<?x?x64xf32> -> tensor<?x64xf32>
  return
}

// -----

func @reduce_rel_alone(%x: tensor<?x?x?xf32>) {
  // expected-error @+1 {{'rel' and 'rel_axis' must be given together}}
  %0 = attn.reduce max %x {axis = 2, rel = "le"} : tensor<?x?x?xf32> -> tensor<?x?xf32>
  return
}

// -----

func @reduce_rel_same(%x: tensor<?x?x?xf32>) {
  // expected-error @+1 {{rel_axis 2 must differ from axis 2}}
  %0 = attn.reduce max %x {axis = 2, rel = "le", rel_axis = 2} : tensor<?x?x?xf32> -> tensor<?x?xf32>
  return
}

// -----

func @reduce_rel_kind(%x: tensor<?x?x?xf32>) {
  // expected-error @+1 {{attribute 'rel' failed to satisfy constraint: relation `p REL q`}}
  %0 = attn.reduce max %x {axis = 2, rel = "eq", rel_axis = 1} : tensor<?x?x?xf32> -> tensor<?x?xf32>
  return
}

// -----

func @reduce_axis(%x: tensor<?x?x64xf32>) {
  // expected-error @+1 {{axis 3 is out of range for rank 3}}
  %0 = attn.reduce sum %x {axis = 3} : tensor<?x?x64xf32> -> tensor<?x?xf32>
  return
}

// -----

func @reduce_rel_axis(%x: tensor<?x?x64xf32>) {
  // expected-error @+1 {{rel_axis 5 is out of range for rank 3}}
  %0 = attn.reduce sum %x {axis = 1, rel = "ge", rel_axis = 5} : tensor<?x?x64xf32> -> tensor<?x64xf32>
  return
}

// -----

func @reduce_result(%x: tensor<?x?x64xf32>) {
  // expected-error @+1 {{result type 'tensor<?x32xf32>' is incompatible with the type inferred from the operands, 'tensor<?x64xf32>'}}
  %0 = attn.reduce mean %x {axis = 1} : tensor<?x?x64xf32> -> tensor<?x32xf32>
  return
}

// -----

func @align_batch(%e: tensor<?x?x?xf32>, %len: tensor<?xi32>) {
  // expected-error @+1 {{cannot mask axis 0 with lengths: axis 0 is the batch}}
  %0 = attn.align soft %e lengths(%len) {axis = 0} : tensor<?x?x?xf32>
  return
}

// -----

func @align_axis(%e: tensor<?x?x?xf32>) {
  // expected-error @+1 {{axis 3 is out of range for rank 3}}
  %0 = attn.align hard %e {axis = 3} : tensor<?x?x?xf32>
  return
}

// -----

func @mask_batch(%x: tensor<?x?x64xf32>, %len: tensor<?xi32>) {
  // expected-error @+1 {{cannot mask axis 0 with lengths: axis 0 is the batch}}
  %0 = attn.mask %x lengths(%len) {axis = 0} : tensor<?x?x64xf32>
  return
}

// -----

func @mask_axis(%x: tensor<?x?x64xf32>, %len: tensor<?xi32>) {
  // expected-error @+1 {{axis 3 is out of range for rank 3}}
  %0 = attn.mask %x lengths(%len) {axis = 3} : tensor<?x?x64xf32>
  return
}

// -----

// attn.score

func @score_rank(%q: tensor<16xf32>, %k: tensor<?x16xf32>) {
  // expected-error @+1 {{q 'tensor<16xf32>' must have rank >= 2 ([N..., positions, features])}}
  %0 = attn.score dot %q, %k : (tensor<16xf32>, tensor<?x16xf32>) -> tensor<?x?xf32>
  return
}

// -----

func @score_ranks(%q: tensor<?x?x16xf32>, %k: tensor<?x4x?x16xf32>) {
  // expected-error @+1 {{q has rank 3 but k has rank 4}}
  %0 = attn.score dot %q, %k : (tensor<?x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x?x?xf32>
  return
}

// -----

func @score_leading(%q: tensor<?x4x?x16xf32>, %k: tensor<?x8x?x16xf32>) {
  // expected-error @+1 {{q and k disagree on leading axis 1: 4 vs 8}}
  %0 = attn.score dot %q, %k : (tensor<?x4x?x16xf32>, tensor<?x8x?x16xf32>) -> tensor<?x4x?x?xf32>
  return
}

// -----

func @score_scale_on_dot(%q: tensor<?x?x16xf32>) {
  // expected-error @+1 {{'scale' is only allowed for scaled_dot, not dot}}
  %0 = attn.score dot %q, %q {scale = 0.25 : f32} : (tensor<?x?x16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x?xf32>
  return
}

// -----

func @score_scale_missing(%q: tensor<?x?x16xf32>) {
  // expected-error @+1 {{scaled_dot needs a 'scale' attribute}}
  %0 = attn.score scaled_dot %q, %q : (tensor<?x?x16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x?xf32>
  return
}

// -----

func @score_weight_missing(%q: tensor<?x?x16xf32>) {
  // expected-error @+1 {{general score needs a weight operand}}
  %0 = attn.score general %q, %q : (tensor<?x?x16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x?xf32>
  return
}

// -----

func @score_weight_extra(%q: tensor<?x?x16xf32>, %w: tensor<16xf32>) {
  // expected-error @+1 {{dot score takes no weight operand}}
  %0 = attn.score dot %q, %q, %w : (tensor<?x?x16xf32>, tensor<?x?x16xf32>, tensor<16xf32>) -> tensor<?x?x?xf32>
  return
}

// -----

func @score_features(%q: tensor<?x?x16xf32>, %k: tensor<?x?x32xf32>) {
  // expected-error @+1 {{the feature size differs: q has 16 but k has 32}}
  %0 = attn.score dot %q, %k : (tensor<?x?x16xf32>, tensor<?x?x32xf32>) -> tensor<?x?x?xf32>
  return
}

// -----

func @score_general_rank(%q: tensor<?x?x16xf32>, %k: tensor<?x?x32xf32>, %w: tensor<16xf32>) {
  // expected-error @+1 {{general score needs a weight of rank 2 [D, D'], got 'tensor<16xf32>'}}
  %0 = attn.score general %q, %k, %w : (tensor<?x?x16xf32>, tensor<?x?x32xf32>, tensor<16xf32>) -> tensor<?x?x?xf32>
  return
}

// -----

func @score_general_sizes(%q: tensor<?x?x16xf32>, %k: tensor<?x?x32xf32>, %w: tensor<16x30xf32>) {
  // expected-error @+1 {{D' differs: k has 32 but weight has 30}}
  %0 = attn.score general %q, %k, %w : (tensor<?x?x16xf32>, tensor<?x?x32xf32>, tensor<16x30xf32>) -> tensor<?x?x?xf32>
  return
}

// -----

func @score_additive_size(%q: tensor<?x?x16xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{A differs: q has 16 but weight has 8}}
  %0 = attn.score additive %q, %q, %w : (tensor<?x?x16xf32>, tensor<?x?x16xf32>, tensor<8xf32>) -> tensor<?x?x?xf32>
  return
}

// -----

func @score_result(%q: tensor<?x5x16xf32>, %k: tensor<?x7x16xf32>) {
  // expected-error @+1 {{result type 'tensor<?x7x5xf32>' is incompatible with the type inferred from the operands, 'tensor<?x5x7xf32>'}}
  %0 = attn.score dot %q, %k : (tensor<?x5x16xf32>, tensor<?x7x16xf32>) -> tensor<?x7x5xf32>
  return
}

// -----

// attn.context, attn.attention, attn.combine_heads

func @context_positions(%a: tensor<?x?x10xf32>, %v: tensor<?x12x64xf32>) {
  // expected-error @+1 {{the number of positions S differs: alpha has 10 but v has 12}}
  %0 = attn.context %a, %v : (tensor<?x?x10xf32>, tensor<?x12x64xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func @attention_features(%q: tensor<?x?x16xf32>, %k: tensor<?x?x32xf32>, %v: tensor<?x?x32xf32>) {
  // expected-error @+1 {{the feature size D differs: q has 16 but k has 32}}
  %0 = attn.attention %q, %k, %v {scale = 1.0 : f32} : (tensor<?x?x16xf32>, tensor<?x?x32xf32>, tensor<?x?x32xf32>) -> tensor<?x?x32xf32>
  return
}

// -----

func @attention_positions(%q: tensor<?x?x16xf32>, %k: tensor<?x10x16xf32>, %v: tensor<?x12x32xf32>) {
  // expected-error @+1 {{the number of positions S differs: k has 10 but v has 12}}
  %0 = attn.attention %q, %k, %v {scale = 1.0 : f32} : (tensor<?x?x16xf32>, tensor<?x10x16xf32>, tensor<?x12x32xf32>) -> tensor<?x?x32xf32>
  return
}

// -----

func @attention_lengths_batch(%q: tensor<?x16xf32>, %len: tensor<?xi32>) {
  // expected-error @+1 {{lengths need a batch axis: operands of rank >= 3 ([B, ..., positions, features]), got 'tensor<?x16xf32>'}}
  %0 = attn.attention %q, %q, %q lengths(%len) {scale = 1.0 : f32} : (tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x16xf32>) -> tensor<?x16xf32>
  return
}

// -----

func @attention_scale(%q: tensor<?x?x16xf32>) {
  // expected-error @+1 {{requires attribute 'scale'}}
  %0 = attn.attention %q, %q, %q : (tensor<?x?x16xf32>, tensor<?x?x16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  return
}

// -----

func @combine_rank(%x: tensor<?xf32>) {
  // expected-error @+1 {{operand 'tensor<?xf32>' must have rank >= 2 ([N..., heads, features])}}
  %0 = attn.combine_heads concat %x : tensor<?xf32> -> tensor<?xf32>
  return
}

// -----

func @combine_result(%x: tensor<?x4x16xf32>) {
  // expected-error @+1 {{result type 'tensor<?x16xf32>' is incompatible with the type inferred from the operands, 'tensor<?x64xf32>'}}
  %0 = attn.combine_heads concat %x : tensor<?x4x16xf32> -> tensor<?x16xf32>
  return
}

// -----

// attn.recurrence, attn.yield

func @recurrence_no_sequence(%h0: tensor<?x8xf32>) {
  // expected-error @+1 {{needs at least one sequence}}
  %0 = attn.recurrence over {axis = 1} init(%h0) : (tensor<?x8xf32>) -> tensor<?x?x8xf32> {
  ^bb0(%h: tensor<?x8xf32>):
    attn.yield %h : tensor<?x8xf32>
  }
  return
}

// -----

func @recurrence_no_state(%xs: tensor<?x?x8xf32>) {
  // expected-error @+1 {{needs at least one carried state (init)}}
  attn.recurrence over %xs {axis = 1} init() : (tensor<?x?x8xf32>) -> () {
  ^bb0(%x: tensor<?x8xf32>):
    attn.yield
  }
  return
}

// -----

func @recurrence_batch(%xs: tensor<?x?x8xf32>, %h0: tensor<?x8xf32>, %len: tensor<?xi32>) {
  // expected-error @+1 {{with lengths the time axis cannot be axis 0, the batch}}
  %0 = attn.recurrence over %xs {axis = 0} init(%h0) lengths(%len) : (tensor<?x?x8xf32>, tensor<?x8xf32>, tensor<?xi32>) -> tensor<?x?x8xf32> {
  ^bb0(%x: tensor<?x8xf32>, %h: tensor<?x8xf32>):
    attn.yield %h : tensor<?x8xf32>
  }
  return
}

// -----

func @recurrence_axis(%xs: tensor<?x?x8xf32>, %h0: tensor<?x8xf32>) {
  // expected-error @+1 {{axis 3 is out of range for sequence #0 of rank 3}}
  %0 = attn.recurrence over %xs {axis = 3} init(%h0) : (tensor<?x?x8xf32>, tensor<?x8xf32>) -> tensor<?x?x8xf32> {
  ^bb0(%x: tensor<?x?x8xf32>, %h: tensor<?x8xf32>):
    attn.yield %h : tensor<?x8xf32>
  }
  return
}

// -----

func @recurrence_steps(%xs: tensor<?x5x8xf32>, %ys: tensor<?x6x8xf32>, %h0: tensor<?x8xf32>) {
  // expected-error @+1 {{sequence #1 has 6 steps but an earlier sequence has 5}}
  %0 = attn.recurrence over %xs, %ys {axis = 1} init(%h0) : (tensor<?x5x8xf32>, tensor<?x6x8xf32>, tensor<?x8xf32>) -> tensor<?x5x8xf32> {
  ^bb0(%x: tensor<?x8xf32>, %y: tensor<?x8xf32>, %h: tensor<?x8xf32>):
    attn.yield %h : tensor<?x8xf32>
  }
  return
}

// -----

func @recurrence_state_axis(%xs: tensor<?x?x?x8xf32>, %h0: tensor<8xf32>) {
  // expected-error @+1 {{cannot insert the time axis at 2 into state #0 of rank 1}}
  %0 = attn.recurrence over %xs {axis = 2} init(%h0) : (tensor<?x?x?x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32> {
  ^bb0(%x: tensor<?x?x8xf32>, %h: tensor<8xf32>):
    attn.yield %h : tensor<8xf32>
  }
  return
}

// -----

func @recurrence_results(%xs: tensor<?x?x8xf32>, %h0: tensor<?x8xf32>) {
  // expected-error @+1 {{has 2 results for 1 carried states}}
  %0:2 = attn.recurrence over %xs {axis = 1} init(%h0) : (tensor<?x?x8xf32>, tensor<?x8xf32>) -> (tensor<?x?x8xf32>, tensor<?x?x8xf32>) {
  ^bb0(%x: tensor<?x8xf32>, %h: tensor<?x8xf32>):
    attn.yield %h : tensor<?x8xf32>
  }
  return
}

// -----

func @recurrence_arg_count(%xs: tensor<?x?x8xf32>, %h0: tensor<?x8xf32>) {
  // expected-error @+1 {{body has 1 arguments but needs 2 (1 step slices, then 1 states)}}
  %0 = attn.recurrence over %xs {axis = 1} init(%h0) : (tensor<?x?x8xf32>, tensor<?x8xf32>) -> tensor<?x?x8xf32> {
  ^bb0(%h: tensor<?x8xf32>):
    attn.yield %h : tensor<?x8xf32>
  }
  return
}

// -----

func @recurrence_step_type(%xs: tensor<?x?x8xf32>, %h0: tensor<?x8xf32>) {
  // expected-error @+1 {{body argument #0 has type 'tensor<?x?x8xf32>' but the step slice of sequence #0 has type 'tensor<?x8xf32>'}}
  %0 = attn.recurrence over %xs {axis = 1} init(%h0) : (tensor<?x?x8xf32>, tensor<?x8xf32>) -> tensor<?x?x8xf32> {
  ^bb0(%x: tensor<?x?x8xf32>, %h: tensor<?x8xf32>):
    attn.yield %h : tensor<?x8xf32>
  }
  return
}

// -----

func @recurrence_state_type(%xs: tensor<?x?x8xf32>, %h0: tensor<?x8xf32>) {
  // expected-error @+1 {{body argument #1 has type 'tensor<?x4xf32>' but carried state #0 has type 'tensor<?x8xf32>'}}
  %0 = attn.recurrence over %xs {axis = 1} init(%h0) : (tensor<?x?x8xf32>, tensor<?x8xf32>) -> tensor<?x?x8xf32> {
  ^bb0(%x: tensor<?x8xf32>, %h: tensor<?x4xf32>):
    attn.yield %x : tensor<?x8xf32>
  }
  return
}

// -----

func @recurrence_yield_count(%xs: tensor<?x?x8xf32>, %h0: tensor<?x8xf32>) {
  // expected-error @+1 {{body yields 2 values for 1 carried states}}
  %0 = attn.recurrence over %xs {axis = 1} init(%h0) : (tensor<?x?x8xf32>, tensor<?x8xf32>) -> tensor<?x?x8xf32> {
  ^bb0(%x: tensor<?x8xf32>, %h: tensor<?x8xf32>):
    attn.yield %h, %x : tensor<?x8xf32>, tensor<?x8xf32>
  }
  return
}

// -----

func @recurrence_yield_type(%xs: tensor<?x?x8xf32>, %h0: tensor<?x8xf32>, %z: tensor<?x4xf32>) {
  // expected-error @+1 {{yielded value #0 has type 'tensor<?x4xf32>' but carried state #0 has type 'tensor<?x8xf32>'}}
  %0 = attn.recurrence over %xs {axis = 1} init(%h0) : (tensor<?x?x8xf32>, tensor<?x8xf32>) -> tensor<?x?x8xf32> {
  ^bb0(%x: tensor<?x8xf32>, %h: tensor<?x8xf32>):
    attn.yield %z : tensor<?x4xf32>
  }
  return
}

// -----

func @recurrence_no_yield(%xs: tensor<?x?x8xf32>, %h0: tensor<?x8xf32>) {
  // expected-error @+1 {{body must end with attn.yield}}
  %0 = attn.recurrence over %xs {axis = 1} init(%h0) : (tensor<?x?x8xf32>, tensor<?x8xf32>) -> tensor<?x?x8xf32> {
  ^bb0(%x: tensor<?x8xf32>, %h: tensor<?x8xf32>):
    %y = attn.unary neg %h : tensor<?x8xf32>
  }
  return
}

// -----

func @recurrence_result(%xs: tensor<?x7x8xf32>, %h0: tensor<?x8xf32>) {
  // expected-error @+1 {{result type 'tensor<?x6x8xf32>' is incompatible with the type inferred from the operands, 'tensor<?x7x8xf32>'}}
  %0 = attn.recurrence over %xs {axis = 1} init(%h0) : (tensor<?x7x8xf32>, tensor<?x8xf32>) -> tensor<?x6x8xf32> {
  ^bb0(%x: tensor<?x8xf32>, %h: tensor<?x8xf32>):
    attn.yield %h : tensor<?x8xf32>
  }
  return
}

// -----

func @yield_outside(%h: tensor<?x8xf32>) {
  // expected-error @+1 {{'attn.yield' op expects parent op 'attn.recurrence'}}
  attn.yield %h : tensor<?x8xf32>
}

// -----

func @batch_broadcast_shape(%w: tensor<4xf32>, %len: tensor<?xi32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{x has shape 4 but rows of shape 8 were asked for}}
  %0 = attn.batch_broadcast %w like %len {shape = [8]} : tensor<4xf32>, tensor<?xi32> -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

func @batch_broadcast_ref(%z: tensor<f32>, %r: tensor<f32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{needs a ref with a batch axis}}
  %0 = attn.batch_broadcast %z like %r {shape = [8]} : tensor<f32>, tensor<f32> -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

func @pick_batch(%x: tensor<?x?x64xf32>) {
  // expected-error @+1 {{cannot pick along axis 0: axis 0 is the batch}}
  %0 = attn.pick %x {axis = 0, last = true} : tensor<?x?x64xf32> -> tensor<?x64xf32>
  return
}

// -----

func @pick_result(%x: tensor<?x?x64xf32>, %len: tensor<?xi32>) {
  // expected-error @+1 {{result type 'tensor<?x?x64xf32>' is incompatible with the type inferred from the operands, 'tensor<?x64xf32>'}}
  %0 = attn.pick %x lengths(%len) {axis = 1, last = true} : tensor<?x?x64xf32> -> tensor<?x?x64xf32>
  return
}

// -----

func @pick_empty(%x: tensor<?x0x64xf32>) {
  // expected-error @+1 {{axis 1 is empty: no position to pick}}
  %0 = attn.pick %x {axis = 1, last = true} : tensor<?x0x64xf32> -> tensor<?x64xf32>
  return
}
