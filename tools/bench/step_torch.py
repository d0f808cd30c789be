"""PyTorch side of bench/bench_step.c: one training step of SCorrSAN (forward,
sparse end-point-error loss, backward, AdamW), written as a PyTorch user
would run it as fast as CPU PyTorch allows for the same computation.

The model is tools/fixtures/model.py's (its SCE module, L2 norm and the
SCorrSAN forward: correlation, mutual NN filter, two bilinear
align_corners=True upsamplings, soft-argmax), at the paper's size:
torchvision ResNet-<depth> cut after layer3 before the last ReLU, SCE k = 7
to 2048 channels, upsampling 4, beta 0.02. The optimiser is
torch.optim.AdamW with two parameter groups (head lr 3e-5, backbone 3e-6,
weight decay 0.05), as the reference's train loop.

How the step is run (each choice gives the same computation; docs/performance.md
has the measurements behind the default):
  --memory-format channels_last|contiguous  activations and conv weights in
        NHWC (oneDNN runs on them without reorders) or PyTorch's NCHW
  --backbone-calls 1|2  frozen batch norm: one backbone call over the 2B
        source and target images (one batch) or one per side as the reference
        code does; batch norm "batch" always makes two calls (statistics per
        side, as scorr's two batch-norm groups)
  --zero-grad none|zeros  optimizer.zero_grad(set_to_none=True) or zero-filled
  --adamw foreach|loop   torch.optim.AdamW(foreach=True) or the per-tensor loop
  --head softmax|reference  the soft-argmax as torch.softmax + one matmul for
        the expectations, or model.py's exp / sum / divide / view-sums
  --mkldnn on|off        torch.backends.mkldnn.enabled
  --precision fp32|bf16  bf16: the forward under torch.autocast("cpu",
        dtype=torch.bfloat16) (convolutions and matmuls in bf16, weights,
        gradients, optimiser and loss fp32)
  --search  time every candidate configuration (one warm-up + one step each)
        and run the fastest; the chosen one is printed.
  --variant baseline|mt  mt: two networks (seeds 0 and 1), each with its own
        AdamW; each network's loss adds lambda (10) times the mean EPE to the
        peer's detached flow at the positions kept by the crossed small-loss
        selection (ratio 0.2) among the candidates (the label mask dilated by
        7 x 7), as scorr_train's mt step on one rank; backward and AdamW per
        network
  --memory  run --iters steps without warm-up and print "MAXRSS <kB>", the
        process's peak resident memory (resource.getrusage RUSAGE_SELF
        ru_maxrss) after them (bench/bench_memory.c)

    OMP_NUM_THREADS=1 /usr/bin/python3 tools/bench/step_torch.py --threads 1

Prints one "ITER i fwd loss bwd opt total" line per timed iteration (seconds)
and a final "TORCH ..." line with the version and the configuration that ran;
bench_step parses these. --profile prints torch.profiler's table of the
operators of one step instead. If torch cannot be imported it prints
"TORCH_MISSING <reason>" and exits 3.
"""
import argparse
import os
import resource
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torchvision
except ImportError as e:  # reported by bench_step as "PyTorch missing"
    print("TORCH_MISSING %s" % e, flush=True)
    sys.exit(3)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import model as ref  # noqa: E402  (the reference-style SCorrSAN of the fixtures)
from backbone_torch import cut_forward  # noqa: E402  (the same cut as bench_backbone's)


class ResNetCut(nn.Module):
    """torchvision ResNet cut after layer3; the feature is the last block's
    output after its residual add and before its final ReLU (as model.py's
    Backbone, for Bottleneck and BasicBlock layouts)."""

    def __init__(self, depth):
        super().__init__()
        net = getattr(torchvision.models, "resnet%d" % depth)()
        self.conv1, self.bn1, self.relu, self.maxpool = net.conv1, net.bn1, net.relu, net.maxpool
        self.layer1, self.layer2, self.layer3 = net.layer1, net.layer2, net.layer3
        self.out_channels = 1024 if depth >= 50 else 256

    def forward(self, x):
        return cut_forward(self, x)


class PaperSCorrSAN(ref.SCorrSAN):
    """model.py's SCorrSAN with a full-size backbone and SCE; `calls` = 1 runs
    the backbone once over both sides (the same result with frozen batch norm)."""

    def __init__(self, depth, k, sce_out, calls, head):
        nn.Module.__init__(self)
        self.fused_head = head == "softmax"
        self.feature_extraction = nn.Module()
        self.feature_extraction.backbone = ResNetCut(depth)
        cin = self.feature_extraction.backbone.out_channels
        self.SCEs = nn.ModuleList([ref.SCE(k, cin, sce_out)])
        self.calls = calls

    def forward(self, trg, src):
        if self.calls == 2:
            return super().forward(trg, src)
        bb = self.feature_extraction.backbone
        fs, ft = bb(torch.cat([src, trg])).chunk(2)
        return self.head(fs, ft)

    def head(self, fs, ft):
        if not self.fused_head:
            return super().head(fs, ft)
        # model.py's head with the soft-argmax as a user writes it: the
        # softmax over sources is torch.softmax (the same max-shifted
        # exponentials, one op forward and one backward), and both
        # expectations are one matmul of the probabilities with the (2, G*G)
        # coordinate table, instead of exp / sum / divide / view-sums
        gs, gt = ref.l2norm(self.SCEs[0](fs)), ref.l2norm(self.SCEs[0](ft))
        b, c, h, w = gs.shape
        corr = gs.flatten(2).transpose(1, 2) @ gt.flatten(2)
        mx_t = corr.max(dim=2, keepdim=True)[0]
        mx_s = corr.max(dim=1, keepdim=True)[0]
        mx_t = torch.where(mx_t == 0, torch.full_like(mx_t, 1e-30), mx_t)
        mx_s = torch.where(mx_s == 0, torch.full_like(mx_s, 1e-30), mx_s)
        corr = corr * (corr / mx_t) * (corr / mx_s)
        G = h * ref.UP
        c1 = corr.transpose(1, 2).reshape(b, h * w, h, w)
        c1 = F.interpolate(c1, G, mode="bilinear", align_corners=True)
        c2 = c1.reshape(b, h * w, G * G).transpose(1, 2).reshape(b, G * G, h, w)
        c2 = F.interpolate(c2, G, mode="bilinear", align_corners=True)
        p = torch.softmax(c2.reshape(b, G * G, G * G) * (1.0 / ref.BETA), dim=1)
        lin = torch.linspace(-1, 1, G)
        table = torch.stack([lin.repeat(G), lin.repeat_interleave(G)])  # x, y of source s
        e = torch.matmul(table.to(p.dtype), p).view(b, 2, G, G)           # (b, 2, yt, xt)
        xx = torch.arange(G).view(1, 1, G).float()
        yy = torch.arange(G).view(1, G, 1).float()
        mx = (e[:, 0] + 1) * (G - 1) / 2
        my = (e[:, 1] + 1) * (G - 1) / 2
        return torch.stack([mx - xx, my - yy], 1)


# the order in which --search tries configurations: (memory format, calls,
# zero grad, adamw); fp32/bf16, bn, mkldnn are fixed by the command line
CANDIDATES = [("channels_last", 1, "none", "foreach"), ("contiguous", 1, "none", "foreach"),
              ("channels_last", 2, "none", "foreach"), ("contiguous", 2, "zeros", "loop")]


def describe(a):
    return ("format=%s calls=%d zero_grad=%s adamw=%s head=%s mkldnn=%s precision=%s"
            % (a.memory_format, a.backbone_calls, a.zero_grad, a.adamw, a.head, a.mkldnn,
               a.precision))


def make_net(a):
    """One network (frozen batch norm: eval mode, running statistics; batch:
    training mode) in the bench's memory format, and its AdamW at the paper's
    two rates."""
    model = PaperSCorrSAN(a.depth, a.kernel, a.sce_out, a.backbone_calls, a.head)
    model.train(a.bn == "batch")
    if a.memory_format == "channels_last":
        model = model.to(memory_format=torch.channels_last)
    head = [q for n, q in model.named_parameters() if "feature_extraction" not in n]
    back = [q for n, q in model.named_parameters() if "feature_extraction" in n]
    opt = torch.optim.AdamW([{"params": head, "lr": 3e-5}, {"params": back, "lr": 3e-6}],
                            weight_decay=0.05, foreach=a.adamw == "foreach")
    return model, opt


def make_inputs(a):
    """Random images, a flow target and sparse labels (a few percent of the
    grid), in the bench's memory format."""
    B, S, G = a.batch, a.size, a.size // 16 * a.up
    src = torch.randn(B, 3, S, S)
    trg = torch.randn(B, 3, S, S)
    if a.memory_format == "channels_last":
        src = src.contiguous(memory_format=torch.channels_last)
        trg = trg.contiguous(memory_format=torch.channels_last)
    gt = torch.randn(B, 2, G, G) * 4
    mask = torch.rand(B, G, G) < 0.02
    return src, trg, gt, mask


def build(a):
    """Model, optimiser, inputs and the step function for configuration a."""
    torch.manual_seed(0)
    torch.backends.mkldnn.enabled = a.mkldnn == "on"
    ref.UP, ref.BETA = a.up, 0.02  # the forward reads these module constants
    if a.bn == "batch":
        a.backbone_calls = 2
    model, opt = make_net(a)
    src, trg, gt, mask = make_inputs(a)
    bf16 = a.precision == "bf16"
    none = a.zero_grad == "none"

    def step():
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            flow = model(trg, src)
        t1 = time.perf_counter()
        epe = torch.norm(flow.float() - gt, 2, 1)
        loss = epe[mask].sum() / mask.sum()
        t2 = time.perf_counter()
        loss.backward()
        t3 = time.perf_counter()
        opt.step()
        opt.zero_grad(set_to_none=none)
        t4 = time.perf_counter()
        return t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0

    opt.zero_grad(set_to_none=none)
    return step


def build_mt(a, lam=10.0, ratio=0.2, dilation=7):
    """The mt step: two networks trained on each other's detached flows."""
    torch.backends.mkldnn.enabled = a.mkldnn == "on"
    ref.UP, ref.BETA = a.up, 0.02
    if a.bn == "batch":
        a.backbone_calls = 2
    nets, opts = [], []
    for seed in (0, 1):
        torch.manual_seed(seed)
        model, opt = make_net(a)
        nets.append(model)
        opts.append(opt)
    torch.manual_seed(0)
    src, trg, gt, mask = make_inputs(a)
    cand = F.max_pool2d(mask.float()[:, None], dilation, 1, dilation // 2)[:, 0] > 0
    bf16 = a.precision == "bf16"
    none = a.zero_grad == "none"

    def step():
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            flows = [net(trg, src).float() for net in nets]
        t1 = time.perf_counter()
        losses = []
        for k in (0, 1):
            me, peer = flows[k], flows[1 - k].detach()
            loss = torch.norm(me - gt, 2, 1)[mask].sum() / mask.sum()
            own = torch.norm(me - peer, 2, 1)[cand]           # this network's pseudo loss
            rank = torch.norm(peer - me.detach(), 2, 1)[cand]  # what the selection ranks
            keep = torch.topk(rank, max(1, int(ratio * rank.numel())), largest=False).indices
            losses.append(loss + lam * own[keep].mean())
        t2 = time.perf_counter()
        for loss in losses:
            loss.backward()
        t3 = time.perf_counter()
        for opt in opts:
            opt.step()
            opt.zero_grad(set_to_none=none)
        t4 = time.perf_counter()
        return t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0

    for opt in opts:
        opt.zero_grad(set_to_none=none)
    return step


def search(a):
    """Time every candidate (one warm-up step and one timed step each) and set
    a to the fastest."""
    best = None
    for fmt, calls, zg, adamw in CANDIDATES:
        if a.bn == "batch" and calls == 1:
            continue
        a.memory_format, a.backbone_calls, a.zero_grad, a.adamw = fmt, calls, zg, adamw
        step = build(a)
        step()
        t = step()[4]
        print("SEARCH %.4f %s" % (t, describe(a)), flush=True)
        if best is None or t < best[0]:
            best = (t, fmt, calls, zg, adamw)
        del step
    _, a.memory_format, a.backbone_calls, a.zero_grad, a.adamw = best


def profile(a, step):
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as prof
    step()
    with prof(activities=[ProfilerActivity.CPU]) as p:
        step()
    print(p.key_averages().table(sort_by="self_cpu_time_total", row_limit=30), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--iters", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--batch", type=int, default=2, help="pairs per step")
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--depth", type=int, default=101)
    p.add_argument("--kernel", type=int, default=7)
    p.add_argument("--sce-out", type=int, default=2048)
    p.add_argument("--up", type=int, default=4)
    p.add_argument("--bn", choices=["frozen", "batch"], default="frozen")
    p.add_argument("--memory-format", choices=["channels_last", "contiguous"],
                   default="channels_last")
    p.add_argument("--backbone-calls", type=int, choices=[1, 2], default=1)
    p.add_argument("--zero-grad", choices=["none", "zeros"], default="none")
    p.add_argument("--adamw", choices=["foreach", "loop"], default="foreach")
    p.add_argument("--head", choices=["softmax", "reference"], default="softmax")
    p.add_argument("--mkldnn", choices=["on", "off"], default="on")
    p.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    p.add_argument("--search", action="store_true")
    p.add_argument("--profile", action="store_true")
    p.add_argument("--variant", choices=["baseline", "mt"], default="baseline")
    p.add_argument("--memory", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    if a.search:
        search(a)
    step = build_mt(a) if a.variant == "mt" else build(a)
    if a.profile:
        profile(a, step)
        return
    if a.memory:
        for i in range(a.iters):
            step()
        print("MAXRSS %d" % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, flush=True)
        print("TORCH %s threads %d resnet%d batch %d size %d bn %s variant %s %s"
              % (torch.__version__, torch.get_num_threads(), a.depth, a.batch, a.size, a.bn,
                 a.variant, describe(a)), flush=True)
        return
    for _ in range(a.warmup):
        step()
    for i in range(a.iters):
        f, l, b, o, t = step()
        print("ITER %d %.6f %.6f %.6f %.6f %.6f" % (i, f, l, b, o, t), flush=True)
    print("TORCH %s threads %d resnet%d batch %d size %d bn %s %s%s"
          % (torch.__version__, torch.get_num_threads(), a.depth, a.batch, a.size, a.bn,
             describe(a), " (searched)" if a.search else ""), flush=True)


if __name__ == "__main__":
    main()
