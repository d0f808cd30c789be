"""PyTorch side of bench/bench_backbone.c: forward + backward of torchvision's
ResNet cut after layer3 (the reference FeatureExtraction: last block without
its final ReLU), weight gradients on, no input gradient.

    /usr/bin/python3 tools/bench/backbone_torch.py [--depth 101] [--batch 4]
        [--size 256] [--iters 5] [--threads 1] [--bn frozen|batch] [--channels-last]

--bn frozen: eval-mode batch norm (running statistics), as scorr's FROZEN;
--bn batch: train-mode batch norm over the whole batch, two calls of half
the batch as the reference (source, target) does. Prints best and median times.
"""
import argparse
import time

import torch
import torchvision


def cut_forward(m, x):
    x = m.maxpool(m.relu(m.bn1(m.conv1(x))))
    blocks = list(m.layer1) + list(m.layer2) + list(m.layer3)
    for blk in blocks[:-1]:
        x = blk(x)
    blk = blocks[-1]
    idt = blk.downsample(x) if blk.downsample is not None else x
    out = blk.relu(blk.bn1(blk.conv1(x)))
    if hasattr(blk, "conv3"):
        out = blk.relu(blk.bn2(blk.conv2(out)))
        out = blk.bn3(blk.conv3(out))
    else:
        out = blk.bn2(blk.conv2(out))
    return out + idt


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--depth", type=int, default=101)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--bn", choices=["frozen", "batch"], default="frozen")
    p.add_argument("--channels-last", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    m = getattr(torchvision.models, "resnet%d" % a.depth)()
    m.layer4, m.fc = None, None
    m.train(a.bn == "batch")
    x = torch.randn(a.batch, 3, a.size, a.size)
    if a.channels_last:
        m = m.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    halves = 2 if a.bn == "batch" and a.batch % 2 == 0 else 1

    def step():
        c0 = time.process_time()
        t0 = time.perf_counter()
        per = a.batch // halves
        out = torch.cat([cut_forward(m, x[i:i + per]) for i in range(0, a.batch, per)])
        t1 = time.perf_counter()
        (out * dout).sum().backward()
        t2 = time.perf_counter()
        cpu.append(time.process_time() - c0)
        return t1 - t0, t2 - t1

    with torch.no_grad():
        dout = torch.randn_like(cut_forward(m, x[:1]).expand(a.batch, -1, -1, -1).contiguous())
    cpu = []
    step()  # warm-up
    cpu.clear()
    times = []
    for i in range(a.iters):
        m.zero_grad(set_to_none=False)
        f, b = step()
        times.append((f, b))
        print("  iter %d: forward %.3f s, backward %.3f s, total %.3f s (cpu %.3f s)"
              % (i, f, b, f + b, cpu[-1]))
    tot = sorted(f + b for f, b in times)
    print("torch %s resnet%d batch %d %dx%d bn %s%s threads %d: best forward %.3f s, backward "
          "%.3f s, total %.3f s; median total %.3f s; best cpu %.3f s"
          % (torch.__version__, a.depth, a.batch, a.size, a.size, a.bn,
             " channels_last" if a.channels_last else "", a.threads,
             min(f for f, _ in times), min(b for _, b in times), tot[0], tot[len(tot) // 2],
             min(cpu)))


if __name__ == "__main__":
    main()
