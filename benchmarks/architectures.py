"""Size and cost of every registered architecture, and random-weight ONNX files to time them with.

    python benchmarks/architectures.py                       # results/architectures.json
    python benchmarks/architectures.py --export-dir /tmp/archs   # also DIR/<arch>-random.onnx

Parameters are counted on the training network and on the exported (folded) one. GFLOP are
counted by ``torch.utils.flop_counter.FlopCounterMode`` (2 per multiply-add) on the folded network
at the size the exported graph really runs it: the frame plus the reflected ``border`` on every
side, rounded up to the network's stride. The speed figures come from ``stylecam bench`` on the
exported files (see benchmarks/README.md, "Architectures").
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from stylecam.export.benchmodels import export_random
from stylecam.export.variants import fold_for_export
from stylecam.runtime.bench.hostinfo import host_info
from stylecam.train.networks.model import ARCHITECTURES, build_model, count_parameters

RESULTS = Path(__file__).resolve().parent / "results"
SIZES = ((640, 360), (1280, 720), (1920, 1080))


def padded(side: int, border: int, stride: int) -> int:
    return math.ceil((side + 2 * border) / stride) * stride


def gflop(net: torch.nn.Module, width: int, height: int) -> float:
    """GFLOP of one frame at the size the exported graph feeds the network."""
    border, stride = getattr(net, "border", 0), net.stride
    # On the meta device: shapes only, nothing is computed (a 1080p reference frame is 638 GFLOP).
    frame = torch.zeros(1, 3, padded(height, border, stride), padded(width, border, stride), device="meta")
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net.to("meta")(frame)
    return counter.get_total_flops() / 1e9


def describe(arch: str) -> dict[str, Any]:
    net = build_model(arch).eval()
    folded = fold_for_export(build_model(arch))
    return {
        "arch": arch,
        "model_config": ARCHITECTURES[arch].to_dict(),
        "parameters": count_parameters(net),
        "parameters_exported": count_parameters(folded),
        "stride": net.stride,
        "border": getattr(net, "border", 0),
        "gflop": {f"{w}x{h}": round(gflop(folded, w, h), 3) for w, h in SIZES},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--export-dir", type=Path, help="also export <arch>-random.onnx files here")
    parser.add_argument("--json", type=Path, default=RESULTS / "architectures.json")
    args = parser.parse_args()
    rows = [describe(arch) for arch in ARCHITECTURES]
    record = {"schema": "stylecam-architectures", "version": 1, "host": host_info(), "architectures": rows}
    args.json.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {args.json}")
    for row in rows:
        cost = ", ".join(f"{size} {value:g} GFLOP" for size, value in row["gflop"].items())
        print(
            f"{row['arch']:10s} {row['parameters']:>9,d} parameters ({row['parameters_exported']:,d} exported); {cost}"
        )
    if args.export_dir is not None:
        args.export_dir.mkdir(parents=True, exist_ok=True)
        for arch in ARCHITECTURES:
            path = export_random(arch, args.export_dir / f"{arch}-random.onnx")
            print(f"exported {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
