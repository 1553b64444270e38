"""Training throughput of `stylecam train` on this machine: images/s of full optimiser steps.

    python benchmarks/train_speed.py --size 256 --batch 16 --amp bf16            # GPU
    python benchmarks/train_speed.py --size 128 --batch 4 --steps 5 --warmup 2   # CPU
    python benchmarks/train_speed.py --arch lite --size 128 --batch 4 --recipe vgg distill distill+temporal

Recipes: ``vgg`` (the painting's VGG19 losses), ``distill`` (L1 to cached teacher outputs, no VGG19),
``distill+features`` (plus relu1_1/relu2_1 feature terms), ``distill+temporal`` / ``vgg+temporal``
(plus the trained-in temporal term: a second forward/backward on a warped crop).

Times network + VGG19 loss + backward + Adam on synthetic batches after untimed warm-up steps
(see stylecam.train.loop.benchmark) and prints one JSON line per configuration. Several sizes or
batches may be given: --size 128 256 --batch 8 16.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import sys
from pathlib import Path

import torch

from stylecam.runtime.bench.hostinfo import host_info, load_average
from stylecam.train.config import AMP_CHOICES, TrainConfig
from stylecam.train.loop.benchmark import bench_train_step

_DISTILL = {"teacher_sha256": "synthetic", "content_weight": 0.0, "style_weight": 0.0}
RECIPES = {
    "vgg": {},
    "vgg+temporal": {"temporal_weight": 0.02},
    "distill": _DISTILL,
    "distill+features": {**_DISTILL, "distill_feature_weight": 1.0},
    "distill+temporal": {**_DISTILL, "temporal_weight": 0.02},
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, nargs="+", default=[256])
    parser.add_argument("--batch", type=int, nargs="+", default=[8])
    parser.add_argument("--amp", choices=AMP_CHOICES, default="auto")
    parser.add_argument("--arch", default="reference")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--steps", type=int, default=20, help="timed steps")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first")
    parser.add_argument("--no-channels-last", action="store_true")
    parser.add_argument("--recipe", nargs="+", default=["vgg"], choices=sorted(RECIPES))
    parser.add_argument("--json", help="also append the rows (with this command) to a JSON file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rows = []
    load_start = load_average()
    for size, batch, recipe in itertools.product(args.size, args.batch, args.recipe):
        config = TrainConfig(arch=args.arch, size=size, batch_size=batch, amp=args.amp, **RECIPES[recipe])
        result = bench_train_step(
            config, device=args.device, steps=args.steps, warmup=args.warmup, channels_last=not args.no_channels_last
        )
        print(json.dumps(result.as_dict()), flush=True)
        rows.append(result.as_dict())
    if args.json:
        record = {
            "schema": "stylecam-train-speed",
            "command": "python " + " ".join(sys.argv),
            "host": host_info(),
            "load_start": load_start,
            "load_end": load_average(),
            "torch_threads": torch.get_num_threads(),
            "note": "compare rows of one run (same machine load), not across runs",
            "rows": rows,
        }
        Path(args.json).write_text(json.dumps(record, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
