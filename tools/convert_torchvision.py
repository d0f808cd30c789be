#!/usr/bin/python3
"""Convert PyTorch ResNet / SCorrSAN weights into a scorr weights file.

Input, one of:
  * a torchvision ResNet state dict (.pth), e.g. resnet101-63fe2227.pth from
    the torchvision model zoo: its keys (conv1.weight, layer3.22.bn2.bias, ...)
    get the prefix `feature_extraction.backbone.` (--prefix to change);
  * a reference SCorrSAN checkpoint (.pth with a 'state_dict' entry, or a bare
    SCorrSAN state dict): keys are kept as they are, a DataParallel `module.`
    prefix is stripped; the SCE weights and the trained soft-argmax grid
    (x_normal, y_normal, nn.Parameters the official AdamW trains) come along,
    and scorr_eval / scorr_match take the output as it is (docs/weights.md);
  * --arch resnetNN --pretrained: torchvision's ImageNet weights, read from the
    local torch hub cache (no download happens if they are cached; see
    docs/weights.md for fetching them on a machine with internet access).

Output: HDF5 with root attributes format = "scorr-weights", version = 1,
arch, source, and one dataset per tensor at /params/<name>, in PyTorch shape.
Floating tensors are stored as float32; integer buffers (num_batches_tracked)
are kept as int64 and ignored by scorr's loader, as are tensors its network
does not have (layer4, fc). The file is written to a temporary name and
renamed, so an interrupted run leaves no partial file.

Run with Debian's interpreter (python3-torch):
    /usr/bin/python3 tools/convert_torchvision.py resnet101-63fe2227.pth -o weights/resnet101.h5
    /usr/bin/python3 tools/convert_torchvision.py --arch resnet101 --pretrained -o weights/resnet101.h5
    /usr/bin/python3 tools/convert_torchvision.py snapshots/exp/model_best.pth -o weights/scorrsan.h5
"""
import argparse
import os
import re
import sys

import h5py
import numpy as np

FORMAT = "scorr-weights"
VERSION = 1
DEFAULT_PREFIX = "feature_extraction.backbone."
ARCHS = ("resnet18", "resnet34", "resnet50", "resnet101")


def guess_arch(keys, prefix=""):
    """resnetNN from the block counts of a torchvision-style key set, or 'unknown'."""
    counts = []
    bottleneck = any(k.startswith(prefix + "layer1.0.conv3.") for k in keys)
    for layer in (1, 2, 3, 4):
        pat = re.compile(re.escape(prefix) + r"layer%d\.(\d+)\." % layer)
        ids = {int(m.group(1)) for k in keys for m in [pat.match(k)] if m}
        counts.append(max(ids) + 1 if ids else 0)
    table = {(2, 2, 2, 2, False): "resnet18", (3, 4, 6, 3, False): "resnet34",
             (3, 4, 6, 3, True): "resnet50", (3, 4, 23, 3, True): "resnet101"}
    return table.get(tuple(counts) + (bottleneck,), "unknown")


def strip_module(state):
    if state and all(k.startswith("module.") for k in state):
        return {k[len("module."):]: v for k, v in state.items()}
    return state


def to_scorr_names(state, prefix=DEFAULT_PREFIX):
    """(renamed state dict, kind): SCorrSAN keys stay, torchvision keys get `prefix`."""
    state = strip_module(dict(state))
    if any(k.startswith("feature_extraction.") for k in state):
        return state, "scorrsan"
    if "conv1.weight" in state and any(k.startswith("layer1.") for k in state):
        return {prefix + k: v for k, v in state.items()}, "torchvision"
    raise ValueError("not a torchvision ResNet or SCorrSAN state dict (no 'conv1.weight' or "
                     "'feature_extraction.*' keys); first keys: %s" % ", ".join(list(state)[:5]))


def write_weights(path, state, arch, source):
    """Write name -> tensor/array as a scorr weights file at path (atomic)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = "%s.tmp.%d" % (path, os.getpid())
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs["format"] = FORMAT
            f.attrs["version"] = np.int64(VERSION)
            f.attrs["arch"] = arch
            f.attrs["source"] = source
            g = f.create_group("params")
            for name, t in state.items():
                a = t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)
                if np.issubdtype(a.dtype, np.floating):
                    a = a.astype(np.float32)
                elif np.issubdtype(a.dtype, np.integer) or a.dtype == np.bool_:
                    a = a.astype(np.int64)
                else:
                    raise ValueError("tensor %s has unsupported dtype %s" % (name, a.dtype))
                g.create_dataset(name, data=np.ascontiguousarray(a))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load_input(args):
    import torch
    if args.pretrained:
        import torchvision
        try:
            weights = torchvision.models.get_model_weights(args.arch).IMAGENET1K_V1
            model = getattr(torchvision.models, args.arch)(weights=weights)
        except Exception as e:  # no cache and no network, most likely
            raise SystemExit("error: cannot get torchvision's pretrained %s weights: %s\n"
                             "HINT: download %s on a machine with internet access and pass "
                             "the .pth file (docs/weights.md)" % (args.arch, e, args.arch))
        return model.state_dict(), "torchvision %s IMAGENET1K_V1" % args.arch
    try:
        obj = torch.load(args.input, map_location="cpu")
    except Exception as e:  # missing file, not a torch file, truncated download
        raise SystemExit("error: cannot read %s as a PyTorch .pth file: %s" % (args.input, e))
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if hasattr(obj, "state_dict") and not isinstance(obj, dict):
        obj = obj.state_dict()
    if not isinstance(obj, dict):
        raise SystemExit("error: %s holds a %s, not a state dict" % (args.input, type(obj).__name__))
    return obj, os.path.basename(args.input)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("input", nargs="?", help="torchvision or SCorrSAN .pth file")
    p.add_argument("-o", "--output", required=True, help="scorr weights file to write (.h5)")
    p.add_argument("--arch", choices=ARCHS, help="architecture (with --pretrained; otherwise "
                   "guessed from the keys and stored as information)")
    p.add_argument("--pretrained", action="store_true",
                   help="use torchvision's ImageNet weights for --arch from the local cache")
    p.add_argument("--prefix", default=DEFAULT_PREFIX,
                   help="name prefix for bare torchvision keys (default %(default)s)")
    args = p.parse_args(argv)
    if args.pretrained == (args.input is not None):
        p.error("give either an input .pth file or --arch ... --pretrained")
    if args.pretrained and not args.arch:
        p.error("--pretrained needs --arch")
    state, source = load_input(args)
    try:
        named, kind = to_scorr_names(state, args.prefix)
    except ValueError as e:
        raise SystemExit("error: %s: %s" % (args.input or args.arch, e))
    prefix = args.prefix if kind == "torchvision" else DEFAULT_PREFIX
    arch = args.arch or guess_arch(named.keys(), prefix)
    write_weights(args.output, named, arch, source)
    nfloat = sum(1 for v in named.values() if v.dtype.is_floating_point)
    print("%s: %d tensors (%d float32) from %s (%s, %s)" % (args.output, len(named), nfloat,
                                                           source, kind, arch))
    if kind == "scorrsan" and "x_normal" in named:
        lin = np.linspace(-1, 1, named["x_normal"].numel())
        moved = max(float(np.abs(named[k].detach().cpu().numpy() - lin).max())
                    for k in ("x_normal", "y_normal") if k in named)
        print("  trained soft-argmax grid x_normal/y_normal (%d values, at most %.3g from "
              "linspace): scorr uses it (model.learn_grid)" % (named["x_normal"].numel(), moved))
    return 0


if __name__ == "__main__":
    sys.exit(main())
