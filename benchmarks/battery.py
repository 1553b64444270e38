"""Reliability battery: fresh bad inputs through the real CLI, checked for clean errors and no damage.

    python benchmarks/battery.py                 # every case; table + benchmarks/results/battery.json
    python benchmarks/battery.py --quick         # the subset the test suite runs
    python benchmarks/battery.py --only disk-full,ctrl-c --keep /tmp/battery

Each case writes its inputs into its own folder, runs ``python -m stylecam ...`` in a subprocess
and checks: the exit code; no traceback; stderr holds only stylecam's own lines and exactly one
``error:`` line naming the problem and the fix (for refusals before any work, that line is all of
stderr); every file that was there before is byte-identical (inputs untouched); no new file
appeared except the expected output (no half-written target, no leftover temp file); and, for
cases that must work, that the output is right (size, timestamps, audio, alpha).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import battery_live
import battery_media
import battery_models
from battery_build import Case
from battery_checks import Invocation

# by row of the reliability table; the order within a row is kept
CASES: tuple[Case, ...] = tuple(
    sorted((*battery_media.CASES, *battery_live.CASES, *battery_models.CASES), key=lambda case: case.row)
)
RESULTS = Path(__file__).resolve().parent / "results" / "battery.json"
TIMEOUT_S = 120.0

# A fake camera bus in place of OpenCV's capture, then the real CLI (sys.argv: scenario JSON, args).
CAMERA_LAUNCHER = r"""
import json, sys, threading, time
from stylecam.cli import main
from stylecam.runtime.media import webcam
from stylecam.runtime.media.synthetic import SyntheticCamera, SyntheticCameraBus
spec = json.loads(sys.argv[1])
cameras = {int(k): SyntheticCamera(**v) for k, v in spec["cameras"].items()}
webcam.default_capture_factory = SyntheticCameraBus(cameras).open
def play():
    for event in spec["events"]:
        camera = cameras[int(event["camera"])]
        start = time.monotonic()
        while camera.frames_served < event.get("after_frames", 0) or time.monotonic() - start < event.get(
            "after_seconds", 0.0):
            time.sleep(0.01)
        if "resize" in event:
            camera.resize(*event["resize"])
        if "plugged" in event:
            camera.plugged = event["plugged"]
threading.Thread(target=play, daemon=True).start()
sys.exit(main(sys.argv[2:]))
"""

# Inside a user+mount namespace: a tiny tmpfs at ./tiny, the command run there, then its listing.
TINYFS_SCRIPT = r"""
set -u
mount -t tmpfs -o "size=$1" tmpfs tiny || exit 97
if [ -n "$2" ]; then cp "$2" tiny/out.mp4; fi
if [ "$3" = ro ]; then mount -o remount,ro tiny || exit 97; fi
find tiny -type f -exec sha256sum {} + | sed 's#  tiny/#  #' | sort -k2 > before.lst
shift 3
(cd tiny && "$@")
code=$?
find tiny -type f -exec sha256sum {} + | sed 's#  tiny/#  #' | sort -k2 > after.lst
exit $code
"""


@dataclass
class Result:
    key: str
    row: int
    title: str
    command: str
    exit_code: int | None
    message: str
    verdict: str  # pass | FAIL | skip
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    launcher: str = "cli"  # cli | camera (fake camera injected) | tinyfs (tiny filesystem) | interrupt (a signal)
    stderr_tail: list[str] = field(default_factory=list)


def snapshot(folder: Path) -> dict[str, str]:
    """{relative path: sha256} of every file under ``folder``, hidden ones included."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            found[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _listing(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    entries = (line.split("  ", 1) for line in path.read_text().splitlines() if line.strip())
    return {name: digest for digest, name in entries}


def _command(invocation: Invocation, folder: Path) -> tuple[list[str], Path]:
    """The argv to run and the folder it runs in."""
    stylecam = [sys.executable, "-m", "stylecam", *invocation.args]
    if invocation.launcher == "camera":
        scenario = json.dumps(invocation.scenario)
        return [sys.executable, "-c", CAMERA_LAUNCHER, scenario, *invocation.args], folder
    if invocation.launcher == "tinyfs":
        (folder / "tiny").mkdir(exist_ok=True)
        seed = str(invocation.scenario.get("seed", ""))
        mode = "ro" if invocation.scenario.get("readonly") else "rw"
        size = str(invocation.scenario["size"])
        return ["unshare", "-rm", "sh", "-c", TINYFS_SCRIPT, "sh", size, seed, mode, *stylecam], folder
    return stylecam, folder


def _interrupt(process: subprocess.Popen[str], folder: Path, signum: int) -> None:
    """Send ``signum`` once the conversion has written for a moment (its temp file exists)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if any(p.name.startswith(".out.") and ".tmp" in p.name for p in folder.iterdir()):
            time.sleep(1.0)
            break
        time.sleep(0.05)
    if process.poll() is None:
        process.send_signal(signum)


def execute(invocation: Invocation, folder: Path) -> tuple[int | None, str, str]:
    """Run the case; returns (exit code or None on a hang, stdout, stderr)."""
    argv, cwd = _command(invocation, folder)
    env = {**os.environ, **invocation.env, "PYTHONUNBUFFERED": "1"}
    # the environment's own site-packages stay visible next to an injected PYTHONPATH
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if invocation.launcher == "interrupt":
        _interrupt(process, folder, int(invocation.scenario.get("signal", signal.SIGINT)))
    try:
        out, err = process.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        return None, out, err
    return process.returncode, out, err


def _lines(text: str) -> list[str]:
    return [line.strip() for line in re.split(r"[\r\n]+", text) if line.strip()]


def judge(
    invocation: Invocation, code: int | None, out: str, err: str, before: dict[str, str], after: dict[str, str]
) -> list[str]:
    """Every way the case fell short (empty: it passed)."""
    expect = invocation.expect
    if code is None:
        return [f"hung: no exit within {TIMEOUT_S:.0f} s"]
    problems = []
    if code != expect.code:
        problems.append(f"exit code {code}, expected {expect.code}")
    if "Traceback" in err:
        problems.append("a traceback was printed")
    lines = _lines(err)
    foreign = [line for line in lines if not line.startswith("stylecam:")]
    if foreign:
        problems.append(f"{len(foreign)} stray stderr line(s), e.g. {foreign[0][:80]!r}")
    errors = [line for line in lines if line.startswith("stylecam: error:")]
    if expect.code != 0:
        if len(errors) != 1:
            problems.append(f"{len(errors)} error lines, expected exactly one")
        elif not re.search(expect.problem, errors[0]) or not re.search(expect.fix, errors[0].split(";", 1)[-1]):
            problems.append("the error line does not name the problem and the fix")
        if expect.one_line and len(lines) != 1:
            problems.append(f"stderr has {len(lines)} lines; a refusal before work should be one")
    elif expect.problem and not re.search(expect.problem, out + err):
        problems.append(f"the output does not match {expect.problem!r}")
    if expect.notice and not re.search(expect.notice, "\n".join(lines)):
        problems.append(f"no notice matching {expect.notice!r}")
    changed = sorted(n for n, d in before.items() if after.get(n) != d and n not in expect.changed)
    if changed:
        problems.append(f"files changed or removed: {', '.join(changed)}")
    new = sorted(set(after) - set(before))
    if sorted(new) != sorted(expect.new_files):
        problems.append(f"new files {new}, expected {list(expect.new_files)}")
    if invocation.marker is not None and invocation.marker.exists():
        problems.append("the hostile payload RAN (its marker file exists)")
    return problems


def _private_outputs(folder: Path, new: list[str]) -> list[str]:
    """Outputs must get the permissions any new file gets here (0o666 minus the umask), not 0o600."""
    umask = os.umask(0)
    os.umask(umask)
    usual = 0o666 & ~umask
    odd = [n for n in new if (folder / n).is_file() and (folder / n).stat().st_mode & 0o777 != usual]
    return (
        [f"{', '.join(odd)} got mode {oct((folder / odd[0]).stat().st_mode & 0o777)}, not {oct(usual)}"] if odd else []
    )


def run_case(case: Case, work: Path) -> Result:
    folder = work / case.key
    folder.mkdir(parents=True)
    try:
        invocation = case.build(folder)
    except Exception as exc:  # the battery's own generator failed: report it, keep going
        return Result(case.key, case.row, case.title, "", None, "", "FAIL", [f"could not build the input: {exc!r}"])
    before = snapshot(folder)
    start = time.monotonic()
    code, out, err = execute(invocation, folder)
    seconds = time.monotonic() - start
    after = snapshot(folder)
    if invocation.launcher == "tinyfs":
        if code == 97:
            return Result(case.key, case.row, case.title, "", None, "", "skip", ["no unprivileged tmpfs here"])
        inner_before, inner_after = _listing(folder / "before.lst"), _listing(folder / "after.lst")
        outer = {n: d for n, d in after.items() if n not in ("before.lst", "after.lst")}
        before = {**{n: d for n, d in before.items()}, **{f"tiny/{n}": d for n, d in inner_before.items()}}
        after = {**outer, **{f"tiny/{n}": d for n, d in inner_after.items()}}
    problems = judge(invocation, code, out, err, before, after)
    problems += _private_outputs(folder, sorted(set(after) - set(before)))
    if not problems and invocation.check is not None:
        problem = invocation.check(folder)
        problems += [problem] if problem else []
    lines = _lines(err)
    message = next((line for line in lines if "error:" in line), (_lines(out) or lines or [""])[-1])
    shown = " ".join(invocation.args).replace(str(folder) + "/", "")
    verdict = "pass" if not problems else "FAIL"
    command = f"stylecam {shown}"
    return Result(
        case.key,
        case.row,
        case.title,
        command,
        code,
        message,
        verdict,
        problems,
        seconds,
        invocation.launcher,
        lines[-6:],
    )


def print_table(results: list[Result]) -> None:
    print(f"{'#':>2}  {'case':<28} {'exit':>4}  {'verdict':<7} message / problems")
    for r in results:
        text = r.message.removeprefix("stylecam: ")
        print(f"{r.row:>2}  {r.key:<28} {r.exit_code!s:>4}  {r.verdict:<7} {text[:150]}")
        for problem in r.problems:
            print(f"{'':>46}!! {problem}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the cases the test suite runs")
    parser.add_argument("--no-torch", action="store_true", help="skip cases that start the training CLI")
    parser.add_argument("--only", help="comma-separated case keys")
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: a temporary one)")
    parser.add_argument("--json", type=Path, default=RESULTS, help="where to write the results")
    args = parser.parse_args(argv)
    chosen = [c for c in CASES if (not args.quick or c.quick) and not (args.no_torch and c.torch)]
    if args.only:
        keys = set(args.only.split(","))
        chosen = [c for c in CASES if c.key in keys]
    with tempfile.TemporaryDirectory(prefix="stylecam-battery-") as scratch:
        work = args.keep or Path(scratch)
        results = []
        for case in chosen:
            results.append(run_case(case, work))
            print(f"{results[-1].verdict:>4}  {case.key} ({results[-1].seconds:.1f} s)", file=sys.stderr, flush=True)
    print_table(results)
    ran = [r for r in results if r.verdict != "skip"]
    passed = sum(r.verdict == "pass" for r in ran)
    print(
        f"\nscore: {passed}/{len(ran)} passed"
        + (f", {len(results) - len(ran)} skipped" if len(ran) < len(results) else "")
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    summary = {
        "schema": "stylecam-battery",
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "passed": passed,
        "ran": len(ran),
        "total": len(results),
        "results": [asdict(r) for r in results],
    }
    args.json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return 0 if passed == len(ran) else 1


if __name__ == "__main__":
    raise SystemExit(main())
