"""Fuzz the model and video loaders with seeded mutations; the process that loads them must never die.

    python benchmarks/fuzz.py --count 500                 # 500 ONNX + 500 video mutations
    python benchmarks/fuzz.py --count 200 --kind onnx --seed 3 --cli 20 --json out.json
    python benchmarks/fuzz.py --replay onnx 3 17          # rerun mutation 17 of seed 3 here, with the traceback

Each mutated file goes to a worker process (:mod:`fuzz_worker`) that does with it what
``stylecam run`` does, in process:

* ONNX: ``Stylizer(path)`` with the default configuration (vetting, the isolated probe for models
  without metadata, the session) and one 24x40 frame through it; then ``stylecam info``'s
  ``describe_model`` where that command exists;
* video: the probe (``inspect_video``, the code stylecam's isolated probe child runs) and every
  frame of ``VideoFileSource`` (at most 300).

Outcomes per stage: ``ok``; ``refused:<StylecamError subclass>``; ``unexpected:<type>`` (an
exception that is not a StylecamError: a defect); ``crash:<signal>`` (the worker died: a defect,
except in the probe stage, which stylecam runs in a child process: ``contained``); ``hang`` (no
answer within the time limit: a defect). ``--cli K`` also runs the first K mutants of each kind
through the real ``python -m stylecam run`` and checks its exit code, stderr and leftovers.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import battery_inputs
import fuzz_mutate
import fuzz_onnx
import fuzz_worker

WORKER = Path(fuzz_worker.__file__)
TIMEOUT_S = 120.0
CONTAINED_STAGES = ("probe",)  # stylecam runs these in a child process: a crash there is reported, not fatal
CLEAN_EXITS = (0, 2, 3, 4, 5, 6)  # success, or a StylecamError's exit code


@dataclass
class Report:
    kind: str
    seed: int
    tried: int = 0
    seconds: float = 0.0
    outcomes: dict[str, int] = field(default_factory=dict)  # "stage outcome" -> count
    by_mutation: dict[str, dict[str, int]] = field(default_factory=dict)
    defects: list[dict[str, object]] = field(default_factory=list)  # crash / hang / unexpected, with replay info
    cli: dict[str, int] = field(default_factory=dict)  # "exit N" -> count, for the --cli pass
    reasons: dict[str, int] = field(default_factory=dict)  # "stage: gist of the refusal" -> count
    stray_output: list[dict[str, object]] = field(default_factory=list)  # stdout lines not from the worker


class Worker:
    """One :mod:`fuzz_worker` process; restarted after it dies or hangs."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.process: subprocess.Popen[bytes] | None = None
        self._pending = b""
        self.stray: list[str] = []  # non-JSON lines the worker printed (native libraries writing to stdout)

    def _line(self, deadline: float) -> bytes | None:
        """The next line from the worker; b"" when it died, None on timeout (raw reads: no hidden buffer)."""
        assert self.process is not None and self.process.stdout is not None
        descriptor = self.process.stdout.fileno()
        while b"\n" not in self._pending:
            with selectors.DefaultSelector() as selector:
                selector.register(descriptor, selectors.EVENT_READ)
                if not selector.select(max(0.0, deadline - time.monotonic())):
                    return None
            chunk = os.read(descriptor, 65536)
            if not chunk:
                return b""
            self._pending += chunk
        line, self._pending = self._pending.split(b"\n", 1)
        return line

    def run(self, path: Path, timeout: float) -> dict[str, str]:
        """Outcome by stage; a death or hang is reported for the stage the worker was in."""
        if self.process is None or self.process.poll() is not None:
            command = [sys.executable, str(WORKER), self.kind]
            self.process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
            )
            self._pending = b""
        process = self.process
        assert process.stdin is not None
        process.stdin.write(f"{path}\n".encode())
        process.stdin.flush()
        stage, deadline = "start", time.monotonic() + timeout
        while True:
            line = self._line(deadline)
            if line is None:
                self.stop()
                return {stage: "hang"}
            if not line:
                code = process.wait()
                self.process = None
                return {stage: f"crash:{_signal_name(code)}"}
            try:
                message = json.loads(line)
            except ValueError:  # something in the product printed to stdout: worth knowing
                self.stray.append(line[:200].decode("utf-8", "replace"))
                continue
            if "done" in message:
                return message["done"]
            stage = str(message["stage"])

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


def _signal_name(code: int) -> str:
    if code >= 0:
        return f"exit {code}"
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


def seeds(kind: str, folder: Path) -> dict[str, bytes]:
    """The valid files mutations start from."""
    if kind == "onnx":
        return {"model.onnx": fuzz_onnx.seed_model()}
    files = {
        "clip.mp4": battery_inputs.write_video(folder / "seed.mp4", width=64, height=48, frames=12, audio=True),
        "faststart.mp4": battery_inputs.write_video(folder / "seed_fs.mp4", width=48, height=32, faststart=True),
        "clip.mkv": battery_inputs.write_video(folder / "seed.mkv", width=64, height=48, frames=10),
    }
    return {name: path.read_bytes() for name, path in files.items()}


def mutant(kind: str, seed: int, index: int, originals: dict[str, bytes]) -> tuple[str, str, bytes]:
    """Mutation ``index`` of run ``seed``: (seed file name, mutation name, bytes); reproducible."""
    rng = random.Random(f"{kind}-{seed}-{index}")
    name = rng.choice(sorted(originals))
    table = fuzz_onnx.ONNX_MUTATIONS if kind == "onnx" else fuzz_mutate.VIDEO_MUTATIONS
    try:
        mutation, data = fuzz_mutate.mutate(originals[name], table, rng)
    except (ValueError, IndexError, StopIteration):  # a structural edit that does not fit: flip bits instead
        mutation, data = "flip_bits", fuzz_mutate.flip_bits(originals[name], rng)
    return name, mutation, data


def is_defect(stage: str, outcome: str) -> bool:
    if outcome == "hang" or outcome.startswith("unexpected:"):
        return True
    return outcome.startswith("crash:") and stage not in CONTAINED_STAGES


def _record(report: Report, index: int, name: str, mutation: str, results: dict[str, str]) -> None:
    report.tried += 1
    family = report.by_mutation.setdefault(mutation.split("+")[0], {})
    for stage, outcome in results.items():
        if stage.endswith(".reason"):
            key = f"{stage.removesuffix('.reason')}: {outcome}"
            report.reasons[key] = report.reasons.get(key, 0) + 1
        if "." in stage:
            continue
        contained = outcome.startswith("crash:") and stage in CONTAINED_STAGES
        label = f"{stage} {outcome}" + (" (contained)" if contained else "")
        report.outcomes[label] = report.outcomes.get(label, 0) + 1
        family[label] = family.get(label, 0) + 1
        if is_defect(stage, outcome):
            detail = results.get(f"{stage}.detail", "")
            defect = {"index": index, "seed_file": name, "mutation": mutation, "stage": stage, "outcome": outcome}
            report.defects.append({**defect, "detail": detail})


def fuzz(kind: str, count: int, seed: int = 0, *, timeout: float = TIMEOUT_S, cli: int = 0) -> Report:
    """Try ``count`` mutations of the ``kind`` seeds ("onnx" or "video"); see the module doc."""
    report = Report(kind=kind, seed=seed)
    worker = Worker(kind)
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"stylecam-fuzz-{kind}-") as scratch:
        folder = Path(scratch)
        originals = seeds(kind, folder)
        try:
            for index in range(count):
                name, mutation, data = mutant(kind, seed, index, originals)
                path = folder / f"case{index}{Path(name).suffix}"
                path.write_bytes(data)
                _record(report, index, name, mutation, worker.run(path, timeout))
                if worker.stray:
                    report.stray_output.append({"index": index, "mutation": mutation, "lines": worker.stray[:3]})
                    worker.stray = []
                if index < cli:
                    _cli_pass(report, kind, path, folder, index, mutation)
                path.unlink()
        finally:
            worker.stop()
    report.seconds = round(time.monotonic() - start, 1)
    return report


def _cli_pass(report: Report, kind: str, path: Path, folder: Path, index: int, mutation: str) -> None:
    """Run the mutant through the real ``stylecam run``: a clean exit code, no traceback, no leftovers."""
    work = folder / f"cli{index}"
    work.mkdir()
    if kind == "onnx":
        model, source = path, battery_inputs.write_video(work / "clip.mp4", width=40, height=24, frames=4)
    else:
        model, source = work / "model.onnx", path
        model.write_bytes(fuzz_onnx.seed_model())
    command = [sys.executable, "-m", "stylecam", "run", "--model", str(model), "--source", str(source)]
    command += ["-o", str(work / "out.mp4"), "--smooth", "none", "-q"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False, cwd=work)
        code, err = done.returncode, done.stderr
    except subprocess.TimeoutExpired:
        code, err = None, "hang"
    label = "hang" if code is None else f"exit {code}"
    report.cli[label] = report.cli.get(label, 0) + 1
    leftovers = [p.name for p in work.iterdir() if p.name.startswith(".")]
    if code not in CLEAN_EXITS or "Traceback" in err or leftovers:
        last = err.strip().splitlines()[-1:] or [""]
        problem = {"index": index, "mutation": mutation, "stage": "cli", "outcome": label, "detail": last[0][:300]}
        report.defects.append({**problem, "leftovers": leftovers})


def replay(kind: str, seed: int, index: int) -> int:
    """Rebuild one mutation and run its targets in this process (for debugging a defect)."""
    with tempfile.TemporaryDirectory() as scratch:
        name, mutation, data = mutant(kind, seed, index, seeds(kind, Path(scratch)))
        path = Path(scratch) / f"replay{Path(name).suffix}"
        path.write_bytes(data)
        print(f"{kind} seed {seed} #{index}: {mutation} of {name}", file=sys.stderr)
        results: dict[str, str] = {}
        (fuzz_worker.onnx_targets if kind == "onnx" else fuzz_worker.video_targets)(str(path), results)
        print(json.dumps(results, indent=2))
    return 0


def print_report(report: Report) -> None:
    print(f"\n{report.kind}: {report.tried} mutations in {report.seconds:.0f} s, {len(report.defects)} defects")
    for label, number in sorted(report.outcomes.items(), key=lambda item: -item[1]):
        print(f"  {number:6d}  {label}")
    print("  refusals, by reason:")
    for label, number in sorted(report.reasons.items(), key=lambda item: -item[1]):
        print(f"  {number:6d}  {label}")
    if report.cli:
        print("  stylecam run: " + ", ".join(f"{label} x{n}" for label, n in sorted(report.cli.items())))
    for defect in report.defects:
        print(f"  DEFECT {defect}")
    for stray in report.stray_output[:10]:
        print(f"  STRAY STDOUT {stray}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200, help="mutations per kind")
    parser.add_argument("--kind", choices=("onnx", "video", "both"), default="both")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cli", type=int, default=0, metavar="K", help="also run the first K through stylecam run")
    parser.add_argument("--json", type=Path, help="write the reports here")
    parser.add_argument("--replay", nargs=3, metavar=("KIND", "SEED", "INDEX"), help="rerun one mutation here")
    args = parser.parse_args(argv)
    if args.replay:
        return replay(args.replay[0], int(args.replay[1]), int(args.replay[2]))
    kinds = ("onnx", "video") if args.kind == "both" else (args.kind,)
    reports = [fuzz(kind, args.count, args.seed, cli=args.cli) for kind in kinds]
    for report in reports:
        print_report(report)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        record = {"schema": "stylecam-fuzz", "date": time.strftime("%Y-%m-%d %H:%M"), "command": sys.argv[1:]}
        record["reports"] = [asdict(r) for r in reports]
        args.json.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return 1 if any(r.defects for r in reports) else 0


if __name__ == "__main__":
    raise SystemExit(main())
