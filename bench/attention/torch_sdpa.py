#!/usr/bin/env python3
"""Times torch.nn.functional.scaled_dot_product_attention on the CPU (fp32, forward,
no mask, non-causal) for bench/attention. Prints one line:
  RESULT torch=<version> threads=<n> best_ms=<x> median_ms=<y>
or TORCH_MISSING when torch cannot be imported (install it with: pip install torch)."""
import argparse
import statistics
import sys
import time

try:
    import torch
except ImportError:
    print("TORCH_MISSING")
    sys.exit(0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--length", type=int, default=512)
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--reps", type=int, default=10)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    q, k, v = (torch.randn(a.batch, a.heads, a.length, a.dim) for _ in range(3))
    sdpa = torch.nn.functional.scaled_dot_product_attention
    times = []
    with torch.inference_mode():
        for _ in range(2):
            sdpa(q, k, v)
        for _ in range(a.reps):
            t0 = time.perf_counter()
            sdpa(q, k, v)
            times.append(time.perf_counter() - t0)
    print(f"RESULT torch={torch.__version__} threads={torch.get_num_threads()} "
          f"best_ms={min(times) * 1e3:.3f} median_ms={statistics.median(times) * 1e3:.3f}")


if __name__ == "__main__":
    main()
