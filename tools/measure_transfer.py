"""Measure what `stylecam train --init` buys: steps to reach the from-scratch final style loss.

    python tools/measure_transfer.py --data /path/to/photos --source great_wave --target starry_night \
        --size 128 --batch 4 --steps 300 --out /tmp/transfer

1. trains the --source style from scratch (the network to start from);
2. trains the --target style from scratch for --steps: its final style loss L is the mean
   weighted style term of the last --window steps;
3. trains the --target style from the source network (--init), with and without a frozen encoder,
   and reports the first step whose running mean (--window steps) of the style term is <= L.

Prints one JSON object with every figure; per-step losses are written to OUT/curves.json.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from stylecam.train.config import RunOptions
from stylecam.train.loop.runner import train


def run(name: str, out: Path, style: str, data: Path, settings: dict, init: Path | None = None) -> list[float]:
    losses: list[float] = []
    options = RunOptions(
        style=style, data=data, output=out / f"{name}.pt", init=init, sample_every=0, save_every=0, progress=True
    )
    train(options, settings, on_step=lambda _state, terms: losses.append(float(terms.style)))
    return losses


def steps_to_reach(curve: list[float], target: float, window: int) -> int | None:
    for end in range(window, len(curve) + 1):
        if sum(curve[end - window : end]) / window <= target:
            return end
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--source", default="great_wave")
    parser.add_argument("--target", default="starry_night")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--freeze", type=int, default=100, help="--freeze-encoder-steps of the third run")
    parser.add_argument("--window", type=int, default=20)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    args.out.mkdir(parents=True, exist_ok=True)
    settings = {"size": args.size, "batch_size": args.batch, "steps": args.steps}
    curves = {"source": run("source", args.out, args.source, args.data, settings)}
    curves["scratch"] = run("scratch", args.out, args.target, args.data, settings)
    source = args.out / "source.pt"
    curves["init"] = run("init", args.out, args.target, args.data, settings, init=source)
    frozen = {**settings, "freeze_encoder_steps": args.freeze}
    curves["init_frozen"] = run("init_frozen", args.out, args.target, args.data, frozen, init=source)
    target = sum(curves["scratch"][-args.window :]) / args.window
    report = {
        "source": args.source,
        "target": args.target,
        "size": args.size,
        "batch": args.batch,
        "steps": args.steps,
        "window": args.window,
        "scratch_final_style_loss": target,
        "scratch_steps_to_reach": steps_to_reach(curves["scratch"], target, args.window),
        "init_steps_to_reach": steps_to_reach(curves["init"], target, args.window),
        f"init_freeze{args.freeze}_steps_to_reach": steps_to_reach(curves["init_frozen"], target, args.window),
        "init_final_style_loss": sum(curves["init"][-args.window :]) / args.window,
    }
    (args.out / "curves.json").write_text(json.dumps(curves))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
