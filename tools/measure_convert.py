"""Time `stylecam convert` itself, end to end, in interleaved rounds (issue 17's file-conversion bar).

Each round runs every variant once (e.g. default vs --preset medium, none vs flow smoothing), so a
noisy shared machine hits every variant alike; fps is read from convert's own summary line
(frames / time from the first frame read to the last written). The JSON keeps the command, the
load average before each run and the host.

    python tools/measure_convert.py clip640.mp4 --model lite.onnx --rounds 3 \\
        --variant "default none=--smooth none" --variant "default flow=--smooth flow" \\
        --variant "medium flow=--smooth flow --preset medium" --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from stylecam.runtime.bench.hostinfo import host_info

SUMMARY = re.compile(r"(\d+) frames in ([\d.]+) s \(([\d.]+) fps\)")


def run_once(clip: Path, model: str, extra: list[str], target: Path) -> dict[str, object]:
    command = [sys.executable, "-m", "stylecam", "convert", str(clip), "-o", str(target), "--model", model]
    command += ["--provider", "cpu", "--overwrite", *extra]
    load = os.getloadavg()[0]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    match = SUMMARY.search(done.stdout + done.stderr)
    if done.returncode != 0 or match is None:
        raise SystemExit(f"convert failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return {
        "load_1min": round(load, 2),
        "frames": int(match.group(1)),
        "seconds": float(match.group(2)),
        "fps": float(match.group(3)),
        "bytes": target.stat().st_size,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", type=Path)
    parser.add_argument("--model", required=True)
    parser.add_argument("--variant", action="append", required=True, help='"LABEL=convert options"')
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--note", default="")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    variants = [(label.strip(), shlex.split(options)) for label, _, options in (v.partition("=") for v in args.variant)]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for round_number in range(1, args.rounds + 1):
            for label, extra in variants:
                row = {"variant": label, "options": " ".join(extra), "round": round_number}
                row.update(run_once(args.clip, args.model, extra, Path(folder) / "out.mp4"))
                rows.append(row)
                print(f"round {round_number} {label:>20}: {row['fps']:6.1f} fps (load {row['load_1min']})")
    summary = {}
    for label, _ in variants:
        values = sorted(row["fps"] for row in rows if row["variant"] == label)
        summary[label] = {"fps_median": values[len(values) // 2], "fps_min": values[0], "fps_max": values[-1]}
        print(f"{label:>20}: median {summary[label]['fps_median']} fps ({values[0]}-{values[-1]})")
    if args.json:
        result = {
            "schema": "stylecam-convert-timing",
            "version": 2,
            "command": "python " + " ".join([sys.argv[0], *(argv if argv is not None else sys.argv[1:])]),
            "note": args.note,
            "host": host_info(),
            "clip": args.clip.name,
            "model": Path(args.model).name,
            "summary": summary,
            "rounds": rows,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
