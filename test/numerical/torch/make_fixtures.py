#!/usr/bin/env python3
"""Writes the PyTorch fixtures of TorchInteropTest.cpp (run by hand; CI only reads the files).

Needs torch and safetensors (pip install torch safetensors). From the repository root:

    python3 test/numerical/torch/make_fixtures.py

For each of a bidirectional one-layer torch.nn.LSTM and a two-layer bidirectional torch.nn.GRU
(input 5, hidden 7, seeded), it writes
  <name>_weights.safetensors  the state dict of a module that holds the RNN as `encoder.rnn`
                              (plus a Linear head the import must ignore), as a user would save it
  <name>_io.safetensors       x [3, 6, 5] (padding filled with noise, which must not matter),
                              lengths [3] (I32: 6, 4, 1), y [3, 6, 2H] (pad_packed_sequence's
                              output: zero at padded positions), h_n [layers*2, 3, H] (and c_n for
                              the LSTM)
The batch runs through pack_padded_sequence, so each row stops at its length and the reverse
direction starts at the row's last valid step, as attnc's recurrences do.
"""
import os

import torch
from safetensors.torch import save_file
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

HERE = os.path.dirname(os.path.abspath(__file__))
D, H, S = 5, 7, 6
LENGTHS = [6, 4, 1]


class Encoder(torch.nn.Module):
    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn


class Model(torch.nn.Module):
    def __init__(self, rnn):
        super().__init__()
        self.encoder = Encoder(rnn)
        self.head = torch.nn.Linear(2 * H, 3)


def write(name, rnn, seed):
    torch.manual_seed(seed)
    model = Model(rnn)
    x = torch.randn(len(LENGTHS), S, D)
    lengths = torch.tensor(LENGTHS)
    with torch.no_grad():
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, state = model.encoder.rnn(packed)
        y, _ = pad_packed_sequence(out, batch_first=True, total_length=S)
    io = {"x": x, "lengths": lengths.to(torch.int32), "y": y}
    if isinstance(state, tuple):
        io["h_n"], io["c_n"] = state
    else:
        io["h_n"] = state
    sd = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(sd, os.path.join(HERE, name + "_weights.safetensors"),
              metadata={"torch": torch.__version__, "module": repr(rnn)})
    save_file({k: v.contiguous() for k, v in io.items()},
              os.path.join(HERE, name + "_io.safetensors"))
    print(name, {k: list(v.shape) for k, v in io.items()}, sorted(sd))


def main():
    torch.manual_seed(0)
    write("lstm", torch.nn.LSTM(D, H, batch_first=True, bidirectional=True), seed=1)
    torch.manual_seed(2)
    write("gru", torch.nn.GRU(D, H, num_layers=2, batch_first=True, bidirectional=True), seed=3)


if __name__ == "__main__":
    main()
