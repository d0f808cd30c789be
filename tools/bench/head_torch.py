"""PyTorch timing of the SCorrSAN head (forward + backward), the counterpart of
bench/bench_head.c: same sizes, same thread count.

    OMP_NUM_THREADS=1 /usr/bin/python3 tools/bench/head_torch.py --threads 1

The head is written as the reference model computes it (tools/fixtures/head.py:
SCE on source and target, L2 norm, correlation, MNN filter, two
F.interpolate calls, softmax_with_temperature, soft-argmax); backward is
autograd of (flow * dflow).sum() into the features and the SCE weights.
"""
import argparse
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from head import head  # noqa: E402  (the reference-style ops)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--size", type=int, default=16)
    ap.add_argument("--channels", type=int, default=1024)
    ap.add_argument("--sce-out", type=int, default=2048)
    ap.add_argument("--kernel", type=int, default=7)
    ap.add_argument("--up", type=int, default=4)
    ap.add_argument("--iters", type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    b, h, c = a.batch, a.size, a.channels
    src = torch.randn(b, c, h, h, requires_grad=True)
    trg = torch.randn(b, c, h, h, requires_grad=True)
    conv = torch.nn.Conv2d(c + 4 * a.kernel, a.sce_out, 1, bias=True)
    dflow = torch.randn(b, 2, h * a.up, h * a.up)

    def step():
        t0 = time.perf_counter()
        flow, _, _ = head(src, trg, conv, a.kernel, h, h, a.up, 0.02)
        t1 = time.perf_counter()
        torch.autograd.grad((flow * dflow).sum(), [src, trg, conv.weight, conv.bias])
        t2 = time.perf_counter()
        return t1 - t0, t2 - t1

    step()  # warm-up
    fw, bw = zip(*(step() for _ in range(a.iters)))
    print(f"torch {torch.__version__} head: B={b} h=w={h} C={c} k={a.kernel} O={a.sce_out} "
          f"up={a.up} | threads {torch.get_num_threads()}")
    print(f"forward  {1e3 * statistics.mean(fw):8.1f} ms (best {1e3 * min(fw):.1f})")
    print(f"backward {1e3 * statistics.mean(bw):8.1f} ms (best {1e3 * min(bw):.1f})")
    print(f"total    {1e3 * (statistics.mean(fw) + statistics.mean(bw)):8.1f} ms")


if __name__ == "__main__":
    main()
