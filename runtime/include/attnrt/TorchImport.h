// Weights of torch.nn.LSTM / torch.nn.GRU into an attnc model that uses the lstm / gru cells of
// stdlib/rnn.attn (see "Weights from PyTorch" in docs/runtime.md).
//
//   # Python: a model with  self.rnn = nn.LSTM(5, 7, bidirectional=True, batch_first=True)
//   safetensors.torch.save_file(model.state_dict(), "model.safetensors")
//
//   // C++: one mapping per layer and direction, torch prefix + suffix -> attnc parameters
//   attnrt::importTorchRNN(model.params(), "model.safetensors", {
//       attnrt::TorchRNNMapping::lstm("rnn.", "l0", "Wf", "Uf", "bf"),
//       attnrt::TorchRNNMapping::lstm("rnn.", "l0_reverse", "Wb", "Ub", "bb"),
//   });
//
// For layer/direction suffix s ("l0", "l1", "l0_reverse", ...) and G gates (LSTM 4: i, f, g, o;
// GRU 3: r, z, n, both in torch's order, which is also rnn.attn's):
//
//   torch tensor              shape       attnc parameter
//   <prefix>weight_ih_<s>     [G*H, D]    W  [D, G*H]   transposed
//   <prefix>weight_hh_<s>     [G*H, H]    U  [H, G*H]   transposed
//   <prefix>bias_ih_<s>       [G*H]       LSTM: b [G*H] = bias_ih + bias_hh;  GRU: bi [G*H]
//   <prefix>bias_hh_<s>       [G*H]       GRU: bh [G*H]
//
// Tensors may be F32, F16, BF16 or F64 (converted to F32); the other tensors of the file (the rest
// of a model's state dict) are not read. Everything is checked before any parameter changes.
#ifndef ATTNRT_TORCHIMPORT_H
#define ATTNRT_TORCHIMPORT_H

#include "attnrt/ParamStore.h"

#include <string>
#include <vector>

namespace attnrt {

enum class TorchCell { LSTM, GRU };

/// One layer and direction of a torch.nn.LSTM or torch.nn.GRU and the attnc parameters it fills.
struct TorchRNNMapping {
  TorchCell cell = TorchCell::LSTM;
  /// State-dict prefix of the module, with its trailing dot: "" for a bare nn.LSTM, "encoder.rnn."
  std::string prefix;
  /// Layer and direction as torch names them: "l0", "l1", "l0_reverse".
  std::string suffix;
  /// attnc parameters. W [D, G*H] and U [H, G*H] always; LSTM: b [4H]; GRU: bi, bh [3H].
  std::string W, U, b, bi, bh;
  /// false for a module built with bias=False: the file has no biases and b (bi, bh) become zero.
  bool bias = true;

  static TorchRNNMapping lstm(std::string prefix, std::string suffix, std::string W, std::string U,
                              std::string b);
  static TorchRNNMapping gru(std::string prefix, std::string suffix, std::string W, std::string U,
                             std::string bi, std::string bh);
};

struct TorchImportOptions {
  /// By default a layer or direction of a mapped module (same prefix, with weight_ih_<s> in the
  /// file) that no mapping reads is an error: a forgotten "l0_reverse" would leave its parameters
  /// at their initial values. true: ignore such layers.
  bool allowUnmappedLayers = false;
};

/// Fills the mapped parameters of `params` from the torch state dict in the safetensors file at
/// `path`. The parameters must be F32 and of the cell's shapes (W [D, G*H], U [H, G*H], biases
/// [G*H]); the torch tensors must have the transposed shapes.
///  - std::invalid_argument: a mapping that does not fit the model (unknown or repeated parameter
///    name, a parameter whose shape is not that of the cell, a name set that the cell does not
///    use, no mappings).
///  - attnrt::Error naming the file: unreadable file; missing tensors (listing what the file has
///    under the prefix); tensors of the wrong shape (naming tensor, expected and actual shape) or
///    of a dtype other than F32/F16/BF16/F64; an LSTM with projections (weight_hr); unmapped
///    layers (see TorchImportOptions). Every problem found is listed in one message.
/// If it throws, every parameter keeps its previous value.
void importTorchRNN(ParamStore &params, const std::string &path,
                    const std::vector<TorchRNNMapping> &mappings,
                    const TorchImportOptions &options = {});

} // namespace attnrt

#endif // ATTNRT_TORCHIMPORT_H
