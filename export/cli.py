"""``stylecam export CKPT -o MODEL.onnx``: a checked ONNX model with metadata and a parity report."""

from __future__ import annotations

import argparse
import logging

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", help="training checkpoint (.pt) or a pytorch/examples fast_neural_style .pth")
    parser.add_argument("-o", "--output", required=True, help="the .onnx file to write")
    parser.add_argument("--fp16", action="store_true", help="float16 weights/activations (norm statistics stay fp32)")
    parser.add_argument("--opset", type=int, default=17, help="ONNX opset, 17..21 (17 = TensorRT 8.6 and newer)")
    parser.add_argument(
        "--trt-friendly",
        action="store_true",
        help="decompose InstanceNormalization and reflect Pad into basic ops (older TensorRT, other compilers)",
    )
    parser.add_argument(
        "--no-verify", dest="verify", action="store_false", help="skip the parity gate (not recommended)"
    )
    parser.add_argument("--style-license", help="licence of the style image, recorded in the metadata")
    parser.add_argument(
        "--smooth-strength",
        type=float,
        metavar="S",
        help="recommended temporal smoothing for this model, 0-1 (the runtime's default unless the user sets one); "
        "e.g. lower for a network trained with --temporal-weight",
    )
    parser.add_argument(
        "--triton", metavar="DIR", help="also write a Triton Inference Server model repository into DIR"
    )
    parser.add_argument("--triton-name", help="model name in the Triton repository (default: the output's stem)")
    parser.add_argument("--triton-max-batch", type=int, default=8, help="Triton max_batch_size")
    parser.add_argument("--triton-instances", type=int, default=1, help="Triton model instances per GPU")


def run(args: argparse.Namespace) -> int:
    from stylecam.errors import require_torch

    require_torch("stylecam export")
    from stylecam.export.onnx import check_opset, export_checkpoint

    check_opset(args.opset)
    if args.smooth_strength is not None and not 0 <= args.smooth_strength <= 1:
        from stylecam.errors import UsageError

        raise UsageError(f"--smooth-strength must be between 0 and 1, got {args.smooth_strength:g}")
    triton_dir = None
    if args.triton:
        from stylecam.export.targets.triton import check_triton_target

        triton_dir = check_triton_target(args.triton, args.triton_name or _stem(args.output))
    result = export_checkpoint(
        args.checkpoint,
        args.output,
        fp16=args.fp16,
        opset=args.opset,
        verify=args.verify,
        trt_friendly=args.trt_friendly,
        style_license=args.style_license,
        smooth_strength=args.smooth_strength,
    )
    print(f"wrote {result.path} ({result.metadata.precision}, opset {result.metadata.opset})")
    if result.report is not None:
        lows = ", ".join(
            f"{check}: {'identical' if db == float('inf') else f'{db:.1f} dB'}"
            for check, db in result.report.min_psnr().items()
        )
        print(f"parity gate passed on {', '.join(result.report.providers)} ({lows}); report: {result.report_path}")
    else:
        print("parity gate skipped (--no-verify)")
    if triton_dir is not None:
        from stylecam.export.targets.triton import write_triton_repository

        model_dir = write_triton_repository(
            result.path,
            args.triton,
            name=args.triton_name,
            max_batch_size=args.triton_max_batch,
            instances=args.triton_instances,
        )
        print(f"wrote Triton model repository {model_dir} (see README: serving with Triton)")
    print(f"next: stylecam --model {result.path} --source 0")
    return 0


def _stem(path: str) -> str:
    from pathlib import Path

    return Path(path).stem
