"""``stylecam styles``: the style models bundled with stylecam, and how to use one.

    stylecam styles              # table: name, aliases, painting, variant, size, precision, parity
    stylecam styles --lite       # only the lite variants (also --arch reference|lite|fast)
    stylecam styles --json       # the same as JSON (paths, sha256, parity figures per check)
    stylecam styles --check      # verify the bundle: catalog, files, sha256, cards, parity reports

Styles made by ``stylecam learn`` (the user model folder) are listed after the bundled ones, as
"your styles"; in ``--json`` their rows carry ``"user": true``. ``--check`` covers the bundle only.
Torch-free: it reads ``catalog.json``, the parity reports and file sizes only.
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``stylecam styles``."""
    parser.add_argument("--json", action="store_true", help="print the list as JSON")
    parser.add_argument(
        "--arch", choices=("reference", "lite", "fast"), help="list only this variant of each style's network"
    )
    parser.add_argument("--lite", dest="arch", action="store_const", const="lite", help="same as --arch lite")
    parser.add_argument(
        "--check",
        action="store_true",
        help="verify that catalog, model files (sha256), model cards and parity reports agree; exit 7 if not",
    )


def _size(size: int | None) -> str:
    return "missing" if size is None else f"{size / 2**20:.1f} MB"


def _parity(entry: Any) -> str:
    low = entry.lowest_db
    if entry.parity_passed is None or low is None:
        return "no report"
    verdict = "" if entry.parity_passed else " FAILED"
    return ("identical" if math.isinf(low) else f"{low:.1f} dB") + verdict


def render_table(entries: list[Any]) -> str:
    """The bundled styles as an aligned text table."""
    header = ["name", "aliases", "painting", "variant", "size", "precision", "parity (min)"]
    rows = [
        [
            e.model.name,
            ", ".join(e.model.aliases) or "-",
            e.model.credit or "-",
            e.variant.arch or "-",
            _size(e.size_bytes),
            e.precision or "-",
            _parity(e),
        ]
        for e in entries
    ]
    widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in [header, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _usage_hint(entries: list[Any]) -> str:
    first = entries[0].model
    short = first.aliases[0] if first.aliases else first.name
    folder = first.path.parent
    styles = len({entry.model.name for entry in entries})
    networks = f" ({len(entries)} networks)" if len(entries) != styles else ""
    return (
        f"{styles} bundled style{'s' if styles != 1 else ''}{networks} in {folder}\n"
        f"use one:  stylecam --model {short} --source 0            (webcam)\n"
        f"          stylecam --model {first.name} --source in.mp4 -o out.mp4\n"
        f"          stylecam demo --style {short}                (the bundled demo clip)\n"
        "a style with several variants runs as lite on a CPU and fast on a GPU unless --arch says otherwise\n"
        f"model cards (painting, licence, training recipe, parity, style loss, warping error): {folder}/<name>.md"
    )


def run(args: argparse.Namespace) -> int:
    """Run ``stylecam styles``; returns the exit code."""
    from stylecam.errors import VerificationError
    from stylecam.runtime.inference.catalog import catalog_problems, style_entries
    from stylecam.runtime.inference.models import models_dir, user_model_folders, user_models_dir

    if args.check:
        problems = catalog_problems()
        if problems:
            shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
            raise VerificationError(f"the bundled models are not consistent: {shown}; reinstall stylecam")
    entries = style_entries(arch=args.arch)
    mine = [entry for folder in user_model_folders() for entry in style_entries(folder, arch=args.arch)]
    if args.json:
        rows = [entry.to_dict() for entry in entries] + [{**entry.to_dict(), "user": True} for entry in mine]
        print(json.dumps(rows, indent=2))
        return 0
    if not entries:
        which = f"{args.arch} style models" if args.arch else "style models"
        print(
            f"no {which} are bundled with this installation ({models_dir()} has none); "
            "pass the path of an .onnx file made by `stylecam export` to --model"
        )
    else:
        print(render_table(entries))
        print()
        print(_usage_hint(entries))
    if mine:
        print()
        print(f"your styles (made by stylecam learn, in {user_models_dir()}):")
        print(render_table(mine))
        print(f"use one like a bundled style:  stylecam --model {mine[0].model.name} --source 0")
    if args.check:
        print("check: catalog, model files (sha256), model cards and parity reports agree")
    return 0
