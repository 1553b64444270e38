"""Checkpoint or network -> checked ONNX file with stylecam metadata (and the parity gate).

The graph follows :mod:`stylecam.contract` (uint8 NHWC BGR ``frames`` in, ``stylized`` out, same
size, any N/H/W): see :mod:`stylecam.export.wrapper`. It is traced with torch's dynamo exporter
(``torch.export`` + onnxscript), which gives a clean graph with symbolic N/H/W; opset 17 is
rewritten from its opset 18 (:mod:`stylecam.export.opset`).
"""

from __future__ import annotations

import json
import logging
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import onnx
import torch
from onnx import numpy_helper
from torch import nn

from stylecam import __version__
from stylecam.atomic import atomic_output, check_output_path
from stylecam.contract import INPUT_NAME, K_SMOOTH_STRENGTH, OUTPUT_NAME, ModelMetadata
from stylecam.errors import UsageError, VerificationError
from stylecam.export.metadata import (
    K_BORDER,
    K_FOLDED_NORMS,
    K_MIN_SIDE,
    K_NORM_PRECISION,
    K_PARAM_ALIASES,
    K_PARAMETERS,
    K_TRT_FRIENDLY,
    ZEROS_ALIAS,
    metadata_from_checkpoint,
)
from stylecam.export.opset import downgrade_to_opset17
from stylecam.export.variants import prepare_network
from stylecam.export.verify import ParityReport, verify_parity, write_report
from stylecam.export.wrapper import ExportWrapper
from stylecam.train.networks.model import count_parameters

log = logging.getLogger(__name__)

DEFAULT_OPSET = 17
MAX_OPSET = 21
# Odd, non-multiple-of-4 example sizes (and batch 2) so tracing cannot specialise any dimension.
_EXAMPLE_SHAPE = (2, 67, 61, 3)


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_checkpoint` produced."""

    path: Path
    metadata: ModelMetadata
    report: ParityReport | None = None
    report_path: Path | None = None


def check_opset(opset: int) -> int:
    if not DEFAULT_OPSET <= opset <= MAX_OPSET:
        raise UsageError(
            f"--opset {opset} is not supported; choose {DEFAULT_OPSET}..{MAX_OPSET} (default {DEFAULT_OPSET})"
        )
    return opset


def _trace(wrapper: ExportWrapper, opset: int) -> onnx.ModelProto:
    example = torch.randint(0, 256, _EXAMPLE_SHAPE, dtype=torch.uint8)
    dims = {0: torch.export.Dim("batch"), 1: torch.export.Dim("height"), 2: torch.export.Dim("width")}
    program = torch.onnx.export(
        wrapper,
        (example,),
        input_names=[INPUT_NAME],
        output_names=[OUTPUT_NAME],
        opset_version=max(opset, 18),
        dynamo=True,
        dynamic_shapes={"frames": dims},
        verbose=False,
    )
    return program.model_proto


def _tidy_graph(model: onnx.ModelProto) -> None:
    graph = model.graph
    # The output has the input's size by construction; say so instead of the tracer's Min(...) formula.
    in_dims = graph.input[0].type.tensor_type.shape.dim
    out_dims = graph.output[0].type.tensor_type.shape.dim
    for src, dst in zip(in_dims, out_dims):
        dst.CopyFrom(src)
    # Shape ops read the uint8 input directly; point them at the Cast output (same shape), so that
    # uint8 appears only at graph I/O, as TensorRT requires.
    casts = [n for n in graph.node if n.op_type == "Cast" and list(n.input) == [INPUT_NAME]]
    if len(casts) == 1:
        cast = onnx.NodeProto()
        cast.CopyFrom(casts[0])
        graph.node.remove(casts[0])
        graph.node.insert(0, cast)  # keep the topological order: the Cast now runs first
        for node in graph.node:
            if node.op_type == "Shape" and list(node.input) == [INPUT_NAME]:
                node.input[0] = cast.output[0]
    del model.metadata_props[:]
    graph.doc_string = "stylecam style network: uint8 NHWC BGR frames in, stylized frames of the same size out"
    model.producer_name = "stylecam"
    model.producer_version = __version__


def _parameter_aliases(wrapper: nn.Module, model: onnx.ModelProto) -> dict[str, str]:
    """Parameters the exporter merged into an identical initializer -> that initializer's name.

    An all-zero parameter may be dropped altogether (a zero conv bias is optional): ``ZEROS_ALIAS``.
    """
    inits = {init.name: init for init in model.graph.initializer}
    aliases: dict[str, str] = {}
    for name, param in wrapper.named_parameters():
        if name in inits:
            continue
        value = param.detach().cpu().numpy()
        match = next(
            (
                other
                for other, init in inits.items()
                if tuple(init.dims) == value.shape and (numpy_helper.to_array(init) == value).all()
            ),
            None,
        )
        if match is None and not value.any():
            match = ZEROS_ALIAS
        if match is None:
            raise VerificationError(f"exported graph lost parameter {name}; please report this stylecam bug")
        aliases[name] = match
    return aliases


def export_onnx(
    model: nn.Module,
    path: str | Path,
    *,
    metadata: ModelMetadata,
    opset: int = DEFAULT_OPSET,
    fp16: bool = False,
    trt_friendly: bool = False,
    norm_fp32: bool = True,
) -> Path:
    """Export a training network to ``path`` as a contract graph; checker full check passes or it raises.

    Args:
        model: a float32 network with the training pixel contract (see ``stylecam.train.networks.model``).
        path: the ``.onnx`` file to write (atomically).
        metadata: what to record; precision, opset and the export extras are filled in here.
        opset: ONNX opset, 17 (default, TensorRT 8.6) .. 21.
        fp16: float16 weights and activations (instance-norm statistics stay float32).
        trt_friendly: decompose instance norm and reflection padding into basic ops.
        norm_fp32: with ``fp16``, keep instance norm in float32 (the measured default).
    """
    check_opset(opset)
    variant = prepare_network(model, fp16=fp16, trt_friendly=trt_friendly, norm_fp32=norm_fp32)
    wrapper = ExportWrapper(variant, compute_dtype=torch.float16 if fp16 else torch.float32).eval()
    proto = _trace(wrapper, opset)
    _tidy_graph(proto)
    if opset == 17:
        downgrade_to_opset17(proto)
    aliases = _parameter_aliases(wrapper, proto)
    extra = dict(metadata.extra)
    extra.setdefault(K_PARAMETERS, str(count_parameters(model)))
    extra[K_TRT_FRIENDLY] = "true" if trt_friendly else "false"
    extra[K_NORM_PRECISION] = "fp32" if (not fp16 or norm_fp32) else "fp16"
    extra[K_MIN_SIDE] = str(wrapper.min_side)
    extra[K_BORDER] = str(wrapper.border)
    folded = sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    if folded:
        extra[K_FOLDED_NORMS] = str(folded)
    if aliases:
        extra[K_PARAM_ALIASES] = json.dumps(aliases, sort_keys=True)
    final = replace(metadata, stride=wrapper.stride, precision="fp16" if fp16 else "fp32", opset=opset, extra=extra)
    onnx.helper.set_model_props(proto, final.to_props())
    try:
        onnx.checker.check_model(proto, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        raise VerificationError(f"the exported graph fails onnx.checker full check: {exc}") from exc
    with atomic_output(path) as tmp:
        onnx.save(proto, str(tmp))
    log.debug("wrote %s (opset %d, %s)", path, opset, final.precision)
    return Path(path)


def export_checkpoint(
    checkpoint: str | Path,
    output: str | Path,
    *,
    fp16: bool = False,
    opset: int = DEFAULT_OPSET,
    verify: bool = True,
    trt_friendly: bool = False,
    style_license: str | None = None,
    sizes: tuple[tuple[int, int, int], ...] | None = None,
    smooth_strength: float | None = None,
) -> ExportResult:
    """Export a checkpoint to a checked ONNX model; with ``verify`` the parity gate must pass first.

    The model reaches ``output`` only after the gate passed (else VerificationError, and the
    report ``MODEL.parity.json`` says why). An fp16 export is also compared with an fp32 export.
    """
    from stylecam.train.loop.checkpoint import load_model

    check_opset(opset)
    target = check_output_path(output, inputs=[checkpoint])
    net, data = load_model(checkpoint)
    metadata = metadata_from_checkpoint(data, source=checkpoint, style_license_override=style_license)
    if smooth_strength is not None:  # a measured recommendation: the runtime's default smoothing
        metadata = replace(metadata, extra={**metadata.extra, K_SMOOTH_STRENGTH: f"{smooth_strength:g}"})
    report = report_path = None
    with (
        tempfile.TemporaryDirectory(prefix="stylecam-export-") as scratch,
        atomic_output(target, inputs=[checkpoint]) as tmp,
    ):
        export_onnx(net, tmp, metadata=metadata, opset=opset, fp16=fp16, trt_friendly=trt_friendly)
        if verify:
            fp32_path = None
            if fp16:
                fp32_path = Path(scratch) / "fp32.onnx"
                export_onnx(net, fp32_path, metadata=metadata, opset=opset, trt_friendly=trt_friendly)
            report = verify_parity(tmp, net, fp32_model=fp32_path, sizes=sizes, name=target.name)
            report_path = write_report(report, target)
            report.raise_if_failed(report_path)
    final = metadata_from_file(target)
    return ExportResult(path=target, metadata=final, report=report, report_path=report_path)


def metadata_from_file(path: str | Path) -> ModelMetadata:
    """Read back the stylecam metadata of an exported file."""
    from stylecam.onnxfile import load_onnx_safely, metadata_of

    return metadata_of(load_onnx_safely(path, load_external_data=False), source=str(path))
