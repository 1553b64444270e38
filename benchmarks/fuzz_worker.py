"""The fuzz run's worker: loads each file it is given the way ``stylecam run`` would, and says how it went.

    python benchmarks/fuzz_worker.py onnx|video      # reads file paths on stdin, one per line

For each path it prints ``{"stage": ...}`` before each step and ``{"done": {stage: outcome}}`` at
the end, one JSON object per line, so the parent knows where it was if this process dies. The
address space is capped (4 GiB): a file that asks for petabytes fails as a full memory would.
"""

from __future__ import annotations

import json
import re
import resource
import sys
import traceback
from collections.abc import Callable

MEMORY_LIMIT = 4 << 30


def _say(message: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _reason(message: str) -> str:
    """The gist of an error message, for counting: no file names, numbers or details."""
    named = re.sub(r"\S*(case|replay)\d*\.\w+:?", "FILE", message)
    gist = re.split(r"[;(:]", named)[0]
    return re.sub(r"\d+", "N", gist).strip()[:90]


def _attempt(stage: str, action: Callable[[], object], results: dict[str, str]) -> object:
    from stylecam.errors import StylecamError

    _say({"stage": stage})
    try:
        value = action()
    except StylecamError as exc:
        results[stage] = f"refused:{type(exc).__name__}"
        results[f"{stage}.reason"] = _reason(str(exc))
        return None
    except Exception as exc:
        results[stage] = f"unexpected:{type(exc).__name__}"
        results[f"{stage}.detail"] = "".join(traceback.format_exception_only(exc)).strip()[:400]
        return None
    results[stage] = "ok"
    return value if value is not None else True


def onnx_targets(path: str, results: dict[str, str]) -> None:
    import numpy as np

    from stylecam.runtime.inference.stylizer import Stylizer

    frame = np.random.default_rng(0).integers(0, 256, (24, 40, 3), dtype=np.uint8)

    def stylize() -> object:
        with Stylizer(path) as stylizer:
            return stylizer(frame)

    _attempt("stylizer", stylize, results)
    try:  # `stylecam info`, where it exists: the description, as text and as JSON
        from stylecam.info_cli import format_info
        from stylecam.modelinfo import describe_model
    except ImportError:
        return

    def info() -> object:
        described = describe_model(path)
        return format_info(described) + json.dumps(described.to_dict())

    _attempt("info", info, results)


def video_targets(path: str, results: dict[str, str]) -> None:
    from stylecam.runtime.media.video_file import VideoFileSource
    from stylecam.runtime.media.video_probe import probe_video

    info = _attempt("probe", lambda: probe_video(path, isolate=False), results)
    if info is None:
        return

    def decode() -> object:
        source = VideoFileSource(path, info=info)  # type: ignore[arg-type]
        count = 0
        for count, _frame in enumerate(source, 1):
            if count >= 300:
                break
        return count

    _attempt("decode", decode, results)


def worker_main(kind: str) -> int:
    """Read file paths from stdin, one per line; answer each with stage lines and a result line."""
    import logging

    logging.disable(logging.CRITICAL)  # stylecam's warnings are not the point here
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    targets = onnx_targets if kind == "onnx" else video_targets
    for line in sys.stdin:
        results: dict[str, str] = {}
        targets(line.strip(), results)
        _say({"done": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(worker_main(sys.argv[1]))
