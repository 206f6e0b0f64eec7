#!/usr/bin/env python3
"""PyTorch reference for bench/train: the date-normalisation model of examples/dates/dates.attn
trained in torch eager (CPU, fp32) on the batches, initial weights and held-out set that
train_bench wrote (safetensors).

The model, with torch.nn modules:
  encoder   Embedding Es, nn.GRU(E, H, bidirectional) over pack_padded_sequence (a row's forward
            state ends at its last position, its backward state starts there from zeros, as
            attnc's recurrences with lengths); h = [f; b] per position, zeros past the length
  init      s0 = tanh([f_last; b_first] @ Wi)  (nn.GRU's h_n: [last fwd; first bwd])
  decoder   teacher-forced, per step: e_j = va . tanh(s @ Wa + h_j @ Ua) masked past the source
            length, a = softmax(e), c = sum_j a_j h_j, s = GRUCell([Et[y]; c], s); the logits of
            all steps at once: [s; c] @ Wo + bo
  loss      sum of the cross-entropies of the valid target tokens / their number
nn.GRU and nn.GRUCell compute r = sigmoid(x Wr + bir + h Ur + bhr), z likewise,
n = tanh(x Wn + bin + r * (h Un + bhn)), h' = (1 - z) * n + z * h: stdlib/rnn.attn's gru, gates in
the order r, z, n. attnc's weights are [in, out]: torch's Linear / GRU weights are their
transposes.

A training step: loss, backward, clip_grad_norm_(5), lr = lr0 * 0.5^(step // decay), Adam.
Greedy decoding (evaluation): 256 sources at a time, at most 12 steps, argmax; a date is right if
its tokens before the first EOS are the target's.

Modes (each prints lines that train_bench parses):
  check       loss and gradients of batch 0 from the initial weights, compared with attnc's
              (--attnc-grads): CHECK ... and GRAD <name> ... lines
  throughput  --steps batches per repetition, --reps repetitions after one untimed pass:
              RESULT mode=throughput threads= total_s= median_s= fwd_s= bwd_s= opt_s= tokens=
  converge    trains from the initial weights over the batches in order, evaluating every
              --eval-every steps until --target: EVAL step= acc= and
              RESULT mode=converge threads= steps= reached= wall_s= train_s= eval_s= cpu_s= acc=
Prints TORCH_MISSING when torch or safetensors cannot be imported (pip install torch safetensors).
"""
import argparse
import statistics
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from safetensors.torch import load_file
except ImportError:
    print("TORCH_MISSING")
    sys.exit(0)

BOS, EOS = 1, 2


class Dates(nn.Module):
    def __init__(self, V=99, E=32, H=64, D=128, A=64):
        super().__init__()
        self.Es = nn.Embedding(V, E)
        self.Et = nn.Embedding(V, E)
        self.enc = nn.GRU(E, H, batch_first=True, bidirectional=True)
        self.Wi = nn.Linear(2 * H, D, bias=False)
        self.Wa = nn.Linear(D, A, bias=False)
        self.Ua = nn.Linear(2 * H, A, bias=False)
        self.va = nn.Parameter(torch.zeros(A))
        self.dec = nn.GRUCell(E + 2 * H, D)
        self.out = nn.Linear(D + 2 * H, V)

    # attnc name -> (torch parameter, transposed?)
    def mapping(self):
        g = self.enc
        return {
            "Es": (self.Es.weight, False), "Et": (self.Et.weight, False),
            "Wf": (g.weight_ih_l0, True), "Uf": (g.weight_hh_l0, True),
            "bif": (g.bias_ih_l0, False), "bhf": (g.bias_hh_l0, False),
            "Wb": (g.weight_ih_l0_reverse, True), "Ub": (g.weight_hh_l0_reverse, True),
            "bib": (g.bias_ih_l0_reverse, False), "bhb": (g.bias_hh_l0_reverse, False),
            "Wi": (self.Wi.weight, True), "Wa": (self.Wa.weight, True),
            "Ua": (self.Ua.weight, True), "va": (self.va, False),
            "Wd": (self.dec.weight_ih, True), "Ud": (self.dec.weight_hh, True),
            "bid": (self.dec.bias_ih, False), "bhd": (self.dec.bias_hh, False),
            "Wo": (self.out.weight, True), "bo": (self.out.bias, False),
        }

    def load_attnc(self, weights):
        with torch.no_grad():
            for name, (p, t) in self.mapping().items():
                w = weights[name]
                p.copy_(w.t() if t else w)

    def encode(self, src, src_len):
        B, S = src.shape
        x = self.Es(src)
        packed = nn.utils.rnn.pack_padded_sequence(x, src_len, batch_first=True,
                                                   enforce_sorted=False)
        out, hn = self.enc(packed)
        h, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=S)
        s0 = torch.tanh(self.Wi(torch.cat([hn[0], hn[1]], dim=-1)))
        keys = self.Ua(h)  # [B, S, A]
        valid = torch.arange(S)[None, :] < src_len[:, None]
        return h, keys, valid, s0

    def attend(self, s, h, keys, valid):
        e = torch.tanh(self.Wa(s)[:, None, :] + keys) @ self.va  # [B, S]
        a = torch.softmax(e.masked_fill(~valid, float("-inf")), dim=-1)
        return torch.bmm(a[:, None, :], h)[:, 0]  # [B, 2H]

    def loss(self, src, src_len, tgt, tgt_len):
        """Sum over the valid target tokens of the cross-entropy, and the number of those tokens."""
        B, T = tgt.shape
        h, keys, valid, s = self.encode(src, src_len)
        tgt_in = torch.cat([torch.full((B, 1), BOS, dtype=tgt.dtype), tgt[:, :-1]], dim=1)
        emb = self.Et(tgt_in)
        outs = []
        for t in range(T):
            c = self.attend(s, h, keys, valid)
            s = self.dec(torch.cat([emb[:, t], c], dim=-1), s)
            outs.append(torch.cat([s, c], dim=-1))
        logits = self.out(torch.stack(outs, dim=1))  # [B, T, V]
        mask = torch.arange(T)[None, :] < tgt_len[:, None]
        target = tgt.masked_fill(~mask, -100)
        return F.cross_entropy(logits.reshape(B * T, -1), target.reshape(-1), reduction="sum")

    @torch.no_grad()
    def greedy(self, src, src_len, max_length):
        B = src.shape[0]
        h, keys, valid, s = self.encode(src, src_len)
        y = torch.full((B,), BOS, dtype=torch.long)
        done = torch.zeros(B, dtype=torch.bool)
        tokens = []
        for _ in range(max_length):
            c = self.attend(s, h, keys, valid)
            s = self.dec(torch.cat([self.Et(y), c], dim=-1), s)
            y = self.out(torch.cat([s, c], dim=-1)).argmax(dim=-1)
            tokens.append(y)
            done |= y == EOS
            if bool(done.all()):
                break
        return torch.stack(tokens, dim=1)


def load_batches(path):
    """The batches train_bench wrote: flat id arrays and per-batch shapes."""
    d = load_file(path)
    shapes = d["shapes"].long()  # [N, 3]: B, S, T
    src, tgt = d["src"].long(), d["tgt"].long()
    src_len, tgt_len = d["src_len"].long(), d["tgt_len"].long()
    batches = []
    so = to = ro = 0
    for B, S, T in shapes.tolist():
        batches.append((src[so:so + B * S].view(B, S), src_len[ro:ro + B],
                        tgt[to:to + B * T].view(B, T), tgt_len[ro:ro + B]))
        so += B * S
        to += B * T
        ro += B
    return batches


def train_step(model, opt, batch, step, a, t=None):
    src, src_len, tgt, tgt_len = batch
    tokens = int(tgt_len.sum())
    t0 = time.perf_counter()
    loss = model.loss(src, src_len, tgt, tgt_len)
    t1 = time.perf_counter()
    opt.zero_grad(set_to_none=False)
    (loss / tokens).backward()
    t2 = time.perf_counter()
    nn.utils.clip_grad_norm_(model.parameters(), a.clip)
    for g in opt.param_groups:
        g["lr"] = a.lr * 0.5 ** (step // a.decay_every)
    opt.step()
    t3 = time.perf_counter()
    if t is not None:
        t["fwd"] += t1 - t0
        t["bwd"] += t2 - t1
        t["opt"] += t3 - t2
    return float(loss.detach()), tokens


def make_model(a):
    torch.manual_seed(0)
    model = Dates()
    model.load_attnc(load_file(a.weights))
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, betas=(0.9, 0.999), eps=1e-8)
    return model, opt


def evaluate(model, held, max_length):
    src, src_len, tgt = held["src"].long(), held["src_len"].long(), held["tgt"].long()
    correct = 0
    for first in range(0, src.shape[0], 256):
        n = min(256, src.shape[0] - first)
        lens = src_len[first:first + n]
        S = int(lens.max())
        out = model.greedy(src[first:first + n, :S], lens, max_length)
        for i in range(n):
            row = out[i].tolist()
            if EOS in row:
                row = row[:row.index(EOS)]
            correct += row == tgt[first + i].tolist()
    return correct / src.shape[0]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mode", choices=["check", "throughput", "converge"], required=True)
    p.add_argument("--weights", required=True)
    p.add_argument("--batches", required=True)
    p.add_argument("--held-out")
    p.add_argument("--attnc-grads")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--decay-every", type=int, default=1500)
    p.add_argument("--clip", type=float, default=5.0)
    p.add_argument("--eval-every", type=int, default=200)
    p.add_argument("--target", type=float, default=0.99)
    p.add_argument("--max-steps", type=int, default=0)
    p.add_argument("--max-length", type=int, default=12)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    batches = load_batches(a.batches)

    if a.mode == "check":
        model, _ = make_model(a)
        src, src_len, tgt, tgt_len = batches[0]
        tokens = int(tgt_len.sum())
        loss = model.loss(src, src_len, tgt, tgt_len) / tokens
        loss.backward()
        ref = load_file(a.attnc_grads)
        print(f"CHECK torch={torch.__version__} loss_torch={float(loss.detach()):.9g}", flush=True)
        for name, (param, t) in model.mapping().items():
            g = param.grad.t() if t else param.grad
            r = ref[name]
            scale = float(g.abs().max())
            diff = float((g - r).abs().max())
            # Element-wise relative difference over the elements that are not tiny.
            big = g.abs() > 1e-3 * scale
            rel = float(((g - r).abs()[big] / g.abs()[big]).max()) if bool(big.any()) else 0.0
            print(f"GRAD {name} max_abs={scale:.6g} max_diff={diff:.6g} "
                  f"rel_to_max={diff / max(scale, 1e-30):.6g} max_rel={rel:.6g}", flush=True)
        return

    if a.mode == "throughput":
        model, opt = make_model(a)
        use = batches[:a.steps]
        tokens = sum(int(b[3].sum()) for b in use)
        for i, b in enumerate(use):  # untimed
            train_step(model, opt, b, i, a)
        runs = []
        for _ in range(a.reps):
            t = {"fwd": 0.0, "bwd": 0.0, "opt": 0.0, "cpu": time.process_time()}
            start = time.perf_counter()
            for i, b in enumerate(use):
                train_step(model, opt, b, i, a, t)
            t["total"] = time.perf_counter() - start
            t["cpu"] = time.process_time() - t["cpu"]
            runs.append(t)
        best = min(runs, key=lambda t: t["total"])
        median = statistics.median(t["total"] for t in runs)
        print(f"RESULT torch={torch.__version__} mode=throughput threads={torch.get_num_threads()}"
              f" total_s={best['total']:.6f} median_s={median:.6f} fwd_s={best['fwd']:.6f}"
              f" bwd_s={best['bwd']:.6f} opt_s={best['opt']:.6f} cpu_s={best['cpu']:.6f}"
              f" tokens={tokens}", flush=True)
        return

    # converge
    held = load_file(a.held_out)
    model, opt = make_model(a)
    limit = min(len(batches), a.max_steps) if a.max_steps > 0 else len(batches)
    train_s = eval_s = 0.0
    acc, reached, steps = 0.0, False, 0
    cpu = time.process_time()
    start = time.perf_counter()
    for step in range(limit):
        t0 = time.perf_counter()
        loss, _ = train_step(model, opt, batches[step], step, a)
        train_s += time.perf_counter() - t0
        steps = step + 1
        if steps % a.eval_every == 0:
            t0 = time.perf_counter()
            model.eval()
            acc = evaluate(model, held, a.max_length)
            model.train()
            eval_s += time.perf_counter() - t0
            print(f"EVAL step={steps} acc={acc:.4f} elapsed_s={time.perf_counter() - start:.3f}",
                  flush=True)
            if acc >= a.target:
                reached = True
                break
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu
    print(f"RESULT torch={torch.__version__} mode=converge threads={torch.get_num_threads()}"
          f" steps={steps} reached={int(reached)} wall_s={wall:.6f} train_s={train_s:.6f}"
          f" eval_s={eval_s:.6f} cpu_s={cpu:.6f} acc={acc:.6f}", flush=True)


if __name__ == "__main__":
    main()
