"""Training throughput of `stylecam train` on this machine: images/s of full optimiser steps.

    python benchmarks/train_speed.py --size 256 --batch 16 --amp bf16            # GPU
    python benchmarks/train_speed.py --size 128 --batch 4 --steps 5 --warmup 2   # CPU

Times network + VGG19 loss + backward + Adam on synthetic batches after untimed warm-up steps
(see stylecam.train.loop.benchmark) and prints one JSON line per configuration. Several sizes or
batches may be given: --size 128 256 --batch 8 16.
"""

from __future__ import annotations

import argparse
import json
import logging

from stylecam.train.config import AMP_CHOICES, TrainConfig
from stylecam.train.loop.benchmark import bench_train_step


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
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    for size in args.size:
        for batch in args.batch:
            config = TrainConfig(arch=args.arch, size=size, batch_size=batch, amp=args.amp)
            result = bench_train_step(
                config,
                device=args.device,
                steps=args.steps,
                warmup=args.warmup,
                channels_last=not args.no_channels_last,
            )
            print(json.dumps(result.as_dict()), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
