"""``stylecam info MODEL.onnx``: metadata, inputs/outputs, opset, size and parameters (no torch)."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stylecam.modelinfo import ModelInfo


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="an .onnx file written by stylecam export")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")


def _shape(shape: tuple[int | str, ...]) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def _size(size: int) -> str:
    return f"{size / 1e6:.2f} MB" if size >= 1e5 else f"{size / 1e3:.1f} kB"


def format_info(info: ModelInfo) -> str:
    lines = [
        f"model       {info.path} ({_size(info.size_bytes)}, sha256 {info.sha256[:16]}…)",
        f"format      ONNX IR {info.ir_version}, opset {info.opset}, producer {info.producer or '?'}",
    ]
    lines += [f"input       {t.name}  {t.dtype}  {_shape(t.shape)}" for t in info.inputs]
    lines += [f"output      {t.name}  {t.dtype}  {_shape(t.shape)}" for t in info.outputs]
    lines.append(f"parameters  {info.parameters:,}" + ("  (weights in external data)" if info.external_data else ""))
    lines.append("ops         " + ", ".join(f"{op} x{n}" for op, n in info.ops.items()))
    trt = "no problems found (ONNX-side check)" if not info.tensorrt_problems else "; ".join(info.tensorrt_problems)
    lines.append(f"tensorrt    {trt}")
    if info.metadata_problem:
        lines.append(f"metadata    {info.metadata_problem}")
    if info.props:
        lines.append("metadata_props:")
        width = max(len(k) for k in info.props)
        lines += [f"  {key.ljust(width)}  {value}" for key, value in sorted(info.props.items())]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from stylecam.modelinfo import describe_model

    info = describe_model(args.model)
    print(json.dumps(info.to_dict(), indent=2) if args.json else format_info(info))
    return 0
