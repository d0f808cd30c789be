"""PyTorch side of bench/bench_step.c: one training step of SCorrSAN (forward,
sparse end-point-error loss, backward, AdamW) as the reference trains it.

The model is tools/fixtures/model.py's (its SCE module, L2 norm and the
SCorrSAN forward: the backbone called once per side, correlation, mutual NN
filter, two bilinear align_corners=True upsamplings, soft-argmax), at the
paper's size: torchvision ResNet-<depth> cut after layer3 before the last
ReLU, SCE k = 7 to 2048 channels, upsampling 4, beta 0.02. The optimiser is
torch.optim.AdamW with two parameter groups (head lr 3e-5, backbone 3e-6,
weight decay 0.05), zero_grad() then step(), as the reference's train loop.

    OMP_NUM_THREADS=1 /usr/bin/python3 tools/bench/step_torch.py --threads 1

Prints one "ITER i fwd loss bwd opt total" line per timed iteration (seconds)
and a final "TORCH ..." line with the version; bench_step parses these. If
torch cannot be imported it prints "TORCH_MISSING <reason>" and exits 3.
"""
import argparse
import os
import sys
import time

try:
    import torch
    import torch.nn as nn
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
    """model.py's SCorrSAN (same forward) with a full-size backbone and SCE."""

    def __init__(self, depth, k, sce_out):
        nn.Module.__init__(self)
        self.feature_extraction = nn.Module()
        self.feature_extraction.backbone = ResNetCut(depth)
        cin = self.feature_extraction.backbone.out_channels
        self.SCEs = nn.ModuleList([ref.SCE(k, cin, sce_out)])


def main():
    p = argparse.ArgumentParser()
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
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    ref.UP, ref.BETA = a.up, 0.02  # the forward reads these module constants
    model = PaperSCorrSAN(a.depth, a.kernel, a.sce_out)
    # frozen: running statistics (eval-mode batch norm); batch: training mode
    model.train(a.bn == "batch")
    head = [q for n, q in model.named_parameters() if "feature_extraction" not in n]
    back = [q for n, q in model.named_parameters() if "feature_extraction" in n]
    opt = torch.optim.AdamW([{"params": head, "lr": 3e-5}, {"params": back, "lr": 3e-6}],
                            weight_decay=0.05)
    B, S, G = a.batch, a.size, a.size // 16 * a.up
    src = torch.randn(B, 3, S, S)
    trg = torch.randn(B, 3, S, S)
    gt = torch.randn(B, 2, G, G) * 4
    mask = torch.rand(B, G, G) < 0.02  # sparse labels, a few percent of the grid

    def step():
        t0 = time.perf_counter()
        flow = model(trg, src)
        t1 = time.perf_counter()
        epe = torch.norm(flow - gt, 2, 1)
        loss = epe[mask].sum() / mask.sum()
        t2 = time.perf_counter()
        loss.backward()
        t3 = time.perf_counter()
        opt.step()
        opt.zero_grad()
        t4 = time.perf_counter()
        return t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0

    opt.zero_grad()
    for _ in range(a.warmup):
        step()
    for i in range(a.iters):
        f, l, b, o, t = step()
        print("ITER %d %.6f %.6f %.6f %.6f %.6f" % (i, f, l, b, o, t), flush=True)
    print("TORCH %s threads %d resnet%d batch %d size %d bn %s"
          % (torch.__version__, torch.get_num_threads(), a.depth, B, S, a.bn), flush=True)


if __name__ == "__main__":
    main()
