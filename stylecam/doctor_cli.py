"""``stylecam doctor``: check Python, OpenCV, PyAV encoders, ONNX Runtime, GPU libraries and cameras."""

from __future__ import annotations

import argparse
import json

_MARK = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the results as JSON")


def run(args: argparse.Namespace) -> int:
    from stylecam.doctor import run_checks

    results = run_checks()
    if args.json:
        print(json.dumps([r.__dict__ for r in results], indent=2))
    else:
        width = max(len(r.name) for r in results)
        for r in results:
            print(f"[{_MARK[r.status]}] {r.name.ljust(width)}  {r.detail}")
            if r.fix and r.status != "ok":
                print(f"       {''.ljust(width)}  fix: {r.fix}")
        failed = sum(r.status == "fail" for r in results)
        warned = sum(r.status == "warn" for r in results)
        print(f"{failed} problem(s), {warned} warning(s)" if failed or warned else "everything looks good")
    # Non-zero only for what is broken; warnings (no GPU, no camera) leave a working setup.
    return 1 if any(r.status == "fail" for r in results) else 0
