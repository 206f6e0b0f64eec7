#!/usr/bin/env python3
"""PyTorch reference for bench/decode: greedy and beam-search decoding of the Bahdanau model of
bench/decode/bahdanau.attn in torch eager (CPU, fp32), with the weights and the source batch that
decode_bench saved (safetensors; weights under the .attn names, [in, out], GRU gates r, z, n as in
PyTorch).

The model is written out with torch / torch.nn.functional, batched:
  encoder   x @ W for all positions in one product, then a time loop of h @ U + GRU gates in each
            direction; a row keeps its state past its length (as attnc's recurrences do);
  decoder   s0 = tanh([f_last; b_first] @ Wi); keys h @ Ua once per batch; per step
            e = va . tanh(s @ Wa + keys) masked past each length, a = softmax(e), c = a . h,
            s' = GRU([Et[y]; c], s), logits = [s'; c] @ Wo + bo.
Greedy: argmax per row. Beam: B*K rows (B at the first step), log_softmax + the hypotheses'
scores, topk over K*V per sentence, states gathered by the parent beam, tokens back-tracked at
the end. EOS is not handled: decode_bench makes it impossible (bias -1e4), so every sentence
decodes exactly --steps tokens, as in attnc.

Prints, per search:
  RESULT torch=<version> mode=<greedy|beam> threads=<n> encode_s=<x> step_s=<x> search_s=<x>
         median_total_s=<x> cpu_s=<x> calls=<steps> rows=<hypothesis-steps>
for the run with the smallest total (step: the model's step; search: log-softmax / argmax / topk
and the beam bookkeeping; cpu: the process CPU time of that run), and writes the best hypothesis
of each sentence and its log-probability to --out. Prints TORCH_MISSING when torch or
safetensors cannot be imported (pip install torch safetensors).
"""
import argparse
import statistics
import sys
import time

try:
    import torch
    import torch.nn.functional as F
    from safetensors.torch import load_file
except ImportError:
    print("TORCH_MISSING")
    sys.exit(0)


def gru(x, h, W, U, bi, bh):
    """PyTorch's GRU cell: n = tanh(x Wn + bin + r * (h Un + bhn)); W [in, 3H], U [H, 3H]."""
    xr, xz, xn = torch.addmm(bi, x, W).chunk(3, dim=-1)
    hr, hz, hn = torch.addmm(bh, h, U).chunk(3, dim=-1)
    r = torch.sigmoid(xr + hr)
    z = torch.sigmoid(xz + hz)
    n = torch.tanh(xn + r * hn)
    return n + z * (h - n)  # (1 - z) * n + z * h


def gru_from_projection(xw, h, U, bh):
    """The GRU cell given x @ W + bi, computed beforehand for all positions."""
    xr, xz, xn = xw.chunk(3, dim=-1)
    hr, hz, hn = torch.addmm(bh, h, U).chunk(3, dim=-1)
    r = torch.sigmoid(xr + hr)
    z = torch.sigmoid(xz + hz)
    n = torch.tanh(xn + r * hn)
    return n + z * (h - n)


class Bahdanau:
    def __init__(self, w):
        self.w = w

    def encode(self, src, lengths):
        w = self.w
        B, S = src.shape
        H = w["Uf"].shape[0]
        x = F.embedding(src, w["Es"])  # [B, S, E]
        valid = torch.arange(S)[None, :] < lengths[:, None]  # [B, S]

        def direction(W, U, bi, bh, order):
            xw = torch.addmm(bi, x.reshape(B * S, -1), W).view(B, S, -1)
            h = torch.zeros(B, H)
            out = torch.empty(B, S, H)
            for t in order:
                nxt = gru_from_projection(xw[:, t], h, U, bh)
                h = torch.where(valid[:, t, None], nxt, h)
                out[:, t] = h
            return out, h

        f, f_last = direction(w["Wf"], w["Uf"], w["bif"], w["bhf"], range(S))
        b, b_first = direction(w["Wb"], w["Ub"], w["bib"], w["bhb"], range(S - 1, -1, -1))
        h = torch.cat([f, b], dim=-1)  # [B, S, 2H]
        keys = (h.reshape(B * S, -1) @ w["Ua"]).view(B, S, -1)  # [B, S, A]
        s0 = torch.tanh(torch.cat([f_last, b_first], dim=-1) @ w["Wi"])
        return {"h": h, "keys": keys, "valid": valid}, s0

    def step(self, memory, K, y, s):
        """One step for B*K hypotheses, K per sentence (rows grouped by sentence): y [B*K] tokens,
        s [B*K, H] states. Memory is read through broadcast views, never copied per beam."""
        w = self.w
        h, keys, valid = memory["h"], memory["keys"], memory["valid"]
        B, S, A = keys.shape
        q = (s @ w["Wa"]).view(B, K, 1, A)
        e = torch.tanh(q + keys[:, None]) @ w["va"]  # [B, K, S]
        e = e.masked_fill(~valid[:, None, :], float("-inf"))
        a = torch.softmax(e, dim=-1)
        c = torch.bmm(a, h).view(B * K, -1)  # [B*K, 2H]
        x = torch.cat([F.embedding(y, w["Et"]), c], dim=-1)
        s2 = gru(x, s, w["Wd"], w["Ud"], w["bid"], w["bhd"])
        logits = torch.addmm(w["bo"], torch.cat([s2, c], dim=-1), w["Wo"])
        return s2, logits


def greedy(model, src, lengths, steps, bos):
    t = {"encode": 0.0, "step": 0.0, "search": 0.0, "rows": 0, "cpu": time.process_time()}
    t0 = time.perf_counter()
    memory, s = model.encode(src, lengths)
    t["encode"] = time.perf_counter() - t0
    B = src.shape[0]
    y = torch.full((B,), bos, dtype=torch.long)
    tokens = []
    logp = torch.zeros(B, dtype=torch.float64)
    for _ in range(steps):
        t0 = time.perf_counter()
        s, logits = model.step(memory, 1, y, s)
        t1 = time.perf_counter()
        best, y = logits.max(dim=-1)
        logp += (best - torch.logsumexp(logits, dim=-1)).double()
        tokens.append(y)
        t["search"] += time.perf_counter() - t1
        t["step"] += t1 - t0
        t["rows"] += B
    t["cpu"] = time.process_time() - t["cpu"]
    return t, torch.stack(tokens, dim=1), logp


def beam_search(model, src, lengths, steps, bos, K):
    t = {"encode": 0.0, "step": 0.0, "search": 0.0, "rows": 0, "cpu": time.process_time()}
    t0 = time.perf_counter()
    memory, s = model.encode(src, lengths)
    t["encode"] = time.perf_counter() - t0
    B = src.shape[0]
    y = torch.full((B,), bos, dtype=torch.long)
    scores = None  # [B, K] log-probabilities of the live hypotheses, best first
    parents, chosen = [], []
    for i in range(steps):
        k = 1 if i == 0 else K  # the first step has one hypothesis per sentence
        t0 = time.perf_counter()
        s, logits = model.step(memory, k, y, s)
        t1 = time.perf_counter()
        logp = torch.log_softmax(logits, dim=-1).view(B, k, -1)
        V = logp.shape[-1]
        if scores is not None:
            logp = logp + scores[:, :, None]
        scores, index = logp.view(B, k * V).topk(K, dim=-1)  # sorted, best first
        parent = torch.div(index, V, rounding_mode="floor")  # [B, K] beam within the sentence
        y = (index % V).view(B * K)
        rows = (parent + torch.arange(B)[:, None] * k).view(B * K)
        s = s.index_select(0, rows)
        parents.append(parent)
        chosen.append(y.view(B, K))
        t["search"] += time.perf_counter() - t1
        t["step"] += t1 - t0
        t["rows"] += B * k
    # Back-track the best hypothesis of each sentence (beam 0: topk is sorted).
    t0 = time.perf_counter()
    beam = torch.zeros(B, dtype=torch.long)
    out = []
    for i in range(steps - 1, -1, -1):
        out.append(chosen[i].gather(1, beam[:, None])[:, 0])
        beam = parents[i].gather(1, beam[:, None])[:, 0]
    t["search"] += time.perf_counter() - t0
    t["cpu"] = time.process_time() - t["cpu"]
    return t, torch.stack(out[::-1], dim=1), scores[:, 0].double()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--weights", required=True)
    p.add_argument("--source", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--beam", type=int, default=5)
    p.add_argument("--bos", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--reps", type=int, default=3)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    w = load_file(a.weights)
    source = load_file(a.source)
    src = source["src"].long()
    lengths = source["lengths"].long()
    model = Bahdanau(w)

    results = {}
    with torch.inference_mode():
        for mode, run in (("greedy", lambda: greedy(model, src, lengths, a.steps, a.bos)),
                          ("beam", lambda: beam_search(model, src, lengths, a.steps, a.bos,
                                                       a.beam))):
            _, tokens, logp = run()  # untimed
            times = [run()[0] for _ in range(a.reps)]
            best = min(times, key=lambda t: t["encode"] + t["step"] + t["search"])
            median = statistics.median(t["encode"] + t["step"] + t["search"] for t in times)
            print(f"RESULT torch={torch.__version__} mode={mode} threads={torch.get_num_threads()}"
                  f" encode_s={best['encode']:.6f} step_s={best['step']:.6f}"
                  f" search_s={best['search']:.6f} median_total_s={median:.6f}"
                  f" cpu_s={best['cpu']:.6f}"
                  f" calls={a.steps} rows={best['rows']}", flush=True)
            results[mode] = (tokens, logp)

    with open(a.out, "w") as f:
        for mode in ("greedy", "beam"):
            tokens, logp = results[mode]
            f.write(f"{mode} {tokens.shape[0]} {tokens.shape[1]}\n")
            for b in range(tokens.shape[0]):
                f.write(repr(float(logp[b])) + " " + " ".join(str(int(v)) for v in tokens[b])
                        + "\n")


if __name__ == "__main__":
    main()
