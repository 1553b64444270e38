"""Budget and quality of ``stylecam learn``: style loss on held-apart photos vs minutes of learning.

    python benchmarks/learn_quality.py run --painting mosaic.jpg --minutes 15 --work /tmp/lq/mosaic-15
    python benchmarks/learn_quality.py run --painting mosaic.jpg --minutes 60 --work /tmp/lq/mosaic-60
    python benchmarks/learn_quality.py eval --held /path/to/photos --out benchmarks/results/learn-cpu.json \
        /tmp/lq/mosaic-15 /tmp/lq/mosaic-60

``run`` is one ``stylecam learn`` job (the library call behind the command, default settings but
the budget), with a hook that saves the network as it is every ``--snapshot-every`` seconds, the
training loss of every step and the machine's load average every 30 s. ``eval`` scores, on
held-apart photos (never seen in training), the bundled network the job started from (minute 0),
the snapshots (the curve) and the exported models the job delivered (ONNX Runtime, CPU):
mean style and content loss against the painting (VGG19, as in training: painting at the job's
style size). It writes figures only, no images.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

HELD_COUNT = 8


def _load_sampler(samples: list[tuple[float, float]], stop: threading.Event, t0: float) -> None:
    while not stop.wait(30.0):
        samples.append((round(time.monotonic() - t0, 1), os.getloadavg()[0]))


def run(args: argparse.Namespace) -> int:
    import torch

    from stylecam.train.learn.job import learn
    from stylecam.train.learn.settings import LearnRequest

    work: Path = args.work
    snapshots = work / "snapshots"
    snapshots.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    curve: list[dict[str, Any]] = []
    last = {"t": -1e9}

    def hook(phase: str, state: Any, terms: Any, planned: int) -> None:
        now = time.monotonic() - t0
        arch = "reference" if phase == "reference" else "lite"  # the lite network learns in two phases
        value = float(terms.distill if phase == "lite-pixel" else terms.style)
        curve.append({"t": round(now, 1), "arch": arch, "phase": phase, "step": state.step, "loss": round(value, 2)})
        if now - last["t"] >= args.snapshot_every:
            last["t"] = now
            model = state.model.module if hasattr(state.model, "module") else state.model
            torch.save(
                {"arch": arch, "step": state.step, "t": now, "model": model.state_dict()},
                snapshots / f"{now:07.1f}-{arch}.pt",
            )

    load: list[tuple[float, float]] = [(0.0, os.getloadavg()[0])]
    stop = threading.Event()
    sampler = threading.Thread(target=_load_sampler, args=(load, stop, t0), daemon=True)
    sampler.start()
    request = LearnRequest(
        painting=args.painting, name="bench", minutes=args.minutes, out=work / "models", overwrite=True, progress=False
    )
    try:
        result = learn(request, on_step=hook)
    finally:
        stop.set()
    record = {
        "painting": str(args.painting),
        "minutes": args.minutes,
        "wall_seconds": round(time.monotonic() - t0, 1),
        "job_seconds": round(result.seconds, 1),
        "start": result.start,
        "models": {arch: str(path) for arch, path in result.models.items()},
        "steps": {c["phase"]: c["step"] for c in curve},  # the last step of each phase
        "load_average_1min": load,
        "training_curve": curve,
        "command": " ".join([sys.executable, *sys.argv]),
    }
    (work / "run.json").write_text(json.dumps(record, indent=1))
    print(json.dumps({k: v for k, v in record.items() if k not in ("training_curve", "load_average_1min")}, indent=1))
    return 0


def held_photos(folder: Path, count: int = HELD_COUNT) -> list[Path]:
    """``count`` photos spread evenly over the sorted folder (every source tag gets some)."""
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    step = max(1, len(files) // count)
    return files[::step][:count]


def _crop8(image: np.ndarray) -> np.ndarray:
    height, width = image.shape[:2]
    return np.ascontiguousarray(image[: height - height % 8, : width - width % 8])


class Scorer:
    """Mean style/content loss of a stylizer over the held-apart photos, for one painting."""

    def __init__(self, painting: Path, photos: list[np.ndarray], style_size: int) -> None:
        from stylecam.images import read_image
        from stylecam.train.losses.perceptual import PerceptualScorer

        self.scorer = PerceptualScorer(read_image(painting).bgr, device="cpu", style_size=style_size)
        self.photos = photos

    def __call__(self, stylize: Any) -> dict[str, float]:
        styles, contents = [], []
        for photo in self.photos:
            (losses,) = self.scorer.score(photo, [stylize(photo)])
            styles.append(losses.style)
            contents.append(losses.content)
        return {"style": round(statistics.mean(styles), 1), "content": round(statistics.mean(contents), 1)}


def _torch_stylizer(snapshot: Path) -> Any:
    import torch

    from stylecam.train.networks.model import build_model, get_config

    data = torch.load(snapshot, map_location="cpu", weights_only=True)
    model = build_model(get_config(data["arch"]))
    model.load_state_dict(data["model"])
    model.eval()

    @torch.no_grad()
    def stylize(bgr: np.ndarray) -> np.ndarray:
        rgb = torch.from_numpy(np.ascontiguousarray(bgr[:, :, ::-1])).permute(2, 0, 1)[None].float()
        out = model(rgb).clamp(0, 255).round().byte()[0].permute(1, 2, 0).numpy()
        return np.ascontiguousarray(out[:, :, ::-1])

    return stylize, data


def _pick(snapshots: list[Path], every: float) -> list[Path]:
    picked, last = [], -1e9
    for path in snapshots:
        t = float(path.name.split("-")[0])
        if t - last >= every:
            picked.append(path)
            last = t
    return picked


def evaluate(args: argparse.Namespace) -> int:
    from stylecam.images import read_image
    from stylecam.runtime.config import RuntimeConfig
    from stylecam.runtime.inference.models import resolve_model
    from stylecam.runtime.inference.stylizer import Stylizer
    from stylecam.train.learn.settings import QUALITIES

    held = held_photos(args.held)
    photos = [_crop8(read_image(p).bgr) for p in held]
    cpu = RuntimeConfig(provider="cpu", probe="never")
    style_size = QUALITIES["good"].style_size
    runs = []
    for work in args.works:
        record = json.loads((work / "run.json").read_text())
        score = Scorer(Path(record["painting"]), photos, style_size)
        with Stylizer(resolve_model(record["start"], arch="reference"), cpu) as start:
            baseline = score(start)
        finals = {}
        for arch, path in record["models"].items():
            with Stylizer(Path(path), cpu) as stylizer:
                finals[arch] = score(stylizer)
        curve = [{"minutes": 0.0, "arch": "reference", "step": 0, **baseline}]
        snaps = sorted((work / "snapshots").glob("*.pt"))
        for arch in ("reference", "lite"):
            mine = [p for p in snaps if p.name.endswith(f"-{arch}.pt")]
            for path in _pick(mine, args.curve_every * 60)[: args.max_points] + mine[-1:]:
                stylize, data = _torch_stylizer(path)
                point = {"minutes": round(data["t"] / 60, 2), "arch": arch, "step": data["step"], **score(stylize)}
                if point not in curve:
                    curve.append(point)
                print(json.dumps(point), flush=True)
        loads = [value for _, value in record["load_average_1min"]]
        runs.append({
            "painting": Path(record["painting"]).name,
            "minutes": record["minutes"],
            "job_minutes": round(record["job_seconds"] / 60, 2),
            "started_from": record["start"],
            "steps": record["steps"],
            "load_average_1min": {"mean": round(statistics.mean(loads), 2), "min": min(loads), "max": max(loads)},
            "start_network": baseline,
            "final": finals,
            "curve": sorted(curve, key=lambda c: (c["arch"], c["minutes"])),
            "command": record["command"],
        })  # fmt: skip
    result = {
        "schema": "stylecam-learn",
        "date": time.strftime("%Y-%m-%d"),
        "device": f"cpu ({platform.processor() or platform.machine()}, {os.cpu_count()} cores shared with other jobs)",
        "held_apart_photos": [p.name for p in held],
        "style_size": style_size,
        "eval_command": " ".join([sys.executable, *sys.argv]),
        "runs": runs,
        "comparisons": compare(runs),
    }
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result["comparisons"], indent=1))
    return 0


def compare(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """For each painting with a short and a 4x longer run: the style-loss ratio and the content check."""
    found = []
    for short in runs:
        for long in runs:
            if long["painting"] != short["painting"] or long["minutes"] != 4 * short["minutes"]:
                continue
            for arch in short["final"]:
                a, b = short["final"][arch], long["final"].get(arch)
                if b is None:
                    continue
                ratio = a["style"] / b["style"]
                found.append({
                    "painting": short["painting"], "arch": arch, "minutes": [short["minutes"], long["minutes"]],
                    "conditions": [short.get("conditions"), long.get("conditions")],
                    "style": [a["style"], b["style"]], "content": [a["content"], b["content"]],
                    "style_ratio": round(ratio, 3), "within_20_percent": ratio <= 1.2,
                    "content_same_or_lower": a["content"] <= b["content"] * 1.02,
                })  # fmt: skip
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("run", help="one learn job with snapshots")
    one.add_argument("--painting", type=Path, required=True)
    one.add_argument("--minutes", type=float, required=True)
    one.add_argument("--work", type=Path, required=True)
    one.add_argument("--snapshot-every", type=float, default=60.0, help="seconds between network snapshots")
    many = sub.add_parser("eval", help="score runs on held-apart photos and write the results JSON")
    many.add_argument("works", type=Path, nargs="+")
    many.add_argument("--held", type=Path, required=True, help="folder of photos never used in training")
    many.add_argument("--out", type=Path, required=True)
    many.add_argument("--curve-every", type=float, default=3.0, help="minutes between curve points")
    many.add_argument("--max-points", type=int, default=12)
    args = parser.parse_args()
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    return run(args) if args.command == "run" else evaluate(args)


if __name__ == "__main__":
    raise SystemExit(main())
