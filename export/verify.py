"""The parity gate: onnx.checker full check, ONNX Runtime vs PyTorch, fp16 vs fp32, no NaN/Inf.

Every provider that is available (CPU always, CUDA where present) runs the model on natural
images (crops of the bundled CC0 photos) at several sizes, odd and tiny ones included, and the
uint8 outputs are compared by PSNR with the bars below. The float tensor just before the final
clamp is also fetched and must be finite everywhere: after the uint8 cast a NaN would be
invisible. The result is a :class:`ParityReport`, written as ``MODEL.parity.json`` beside the model.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
import torch
from torch import nn

from stylecam import __version__
from stylecam.atomic import atomic_output
from stylecam.contract import INPUT_NAME
from stylecam.errors import VerificationError
from stylecam.export.frames import sample_frames
from stylecam.export.wrapper import ExportWrapper
from stylecam.onnxfile import load_onnx_safely, metadata_of

log = logging.getLogger(__name__)

ORT_VS_TORCH_DB = 45.0  # same precision, different engine: only rounding-boundary flips allowed
FP16_VS_FP32_DB = 40.0
# (batch, height, width): the bar sizes, a batch, and tiny frames below the network's minimum side.
DEFAULT_SIZES: tuple[tuple[int, int, int], ...] = ((1, 77, 101), (1, 64, 64), (1, 130, 90), (2, 48, 40), (1, 3, 5))
PARITY_PROVIDERS = ("CUDAExecutionProvider", "CPUExecutionProvider")


@dataclass(frozen=True)
class Comparison:
    """One model output compared with a reference at one size on one provider."""

    check: str
    provider: str
    shape: tuple[int, ...]
    psnr_db: float
    max_abs_diff: int
    bar_db: float
    finite: bool
    passed: bool


@dataclass(frozen=True)
class ParityReport:
    """The gate's verdict and every figure behind it."""

    model: str
    sha256: str
    precision: str
    opset: int
    providers: tuple[str, ...]
    comparisons: tuple[Comparison, ...]
    versions: dict[str, str] = field(default_factory=dict)
    checker: str = "onnx.checker full_check passed"

    @property
    def passed(self) -> bool:
        return bool(self.comparisons) and all(c.passed for c in self.comparisons)

    def min_psnr(self) -> dict[str, float]:
        """Lowest PSNR per check (inf when every output was identical)."""
        lows: dict[str, float] = {}
        for c in self.comparisons:
            lows[c.check] = min(lows.get(c.check, math.inf), c.psnr_db)
        return lows

    def failures(self) -> list[str]:
        return [
            f"{c.check} on {c.provider} at {'x'.join(map(str, c.shape))}: "
            + (f"{c.psnr_db:.1f} dB < {c.bar_db:.0f} dB" if c.finite else "NaN/Inf in the output")
            for c in self.comparisons
            if not c.passed
        ]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["passed"] = self.passed
        data["min_psnr_db"] = {k: _json_db(v) for k, v in self.min_psnr().items()}
        for item in data["comparisons"]:
            item["psnr_db"] = _json_db(item["psnr_db"])
        return data

    def raise_if_failed(self, report_path: Path | None = None) -> None:
        if self.passed:
            return
        where = f"; details in {report_path}" if report_path else ""
        first = "; ".join(self.failures()[:3])
        raise VerificationError(
            f"{self.model} failed the parity gate ({first}){where}. The model was not written; "
            "fix the network or export with --no-verify to keep it anyway"
        )


def _json_db(value: float) -> float | str:
    # JSON has no infinity; "inf" means the outputs were identical.
    return "inf" if math.isinf(value) else round(value, 2)


def psnr(output: npt.NDArray[np.uint8], reference: npt.NDArray[np.uint8]) -> float:
    """PSNR in dB of two uint8 images (inf when identical)."""
    mse = float(np.mean((output.astype(np.float64) - reference.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(255.0**2 / mse)


def _with_preclamp_output(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy whose second output is the float tensor entering the final Clip (for NaN/Inf)."""
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    rounds = [n for n in copy.graph.node if n.op_type == "Round"]
    producers = {out: n for n in copy.graph.node for out in n.output}
    clip = producers.get(rounds[-1].input[0]) if rounds else None
    if clip is None or clip.op_type != "Clip":
        raise VerificationError("the graph has no final Clip -> Round; it was not exported by stylecam export")
    precision = metadata_of(model).precision
    elem = onnx.TensorProto.FLOAT16 if precision == "fp16" else onnx.TensorProto.FLOAT
    copy.graph.output.append(onnx.helper.make_tensor_value_info(clip.input[0], elem, None))
    return copy


class OnnxRunner:
    """An ORT session on one provider returning (uint8 frames, pre-clamp floats)."""

    def __init__(self, model: onnx.ModelProto, provider: str) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3
        data = _with_preclamp_output(model).SerializeToString()
        self.session = ort.InferenceSession(data, options, providers=[provider])
        self.provider = provider

    def __call__(self, frames: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.floating]]:
        out, raw = self.session.run(None, {INPUT_NAME: frames})
        return out, raw


def available_parity_providers() -> tuple[str, ...]:
    import onnxruntime as ort

    available = set(ort.get_available_providers())
    return tuple(p for p in PARITY_PROVIDERS if p in available)


def _compare(check: str, provider: str, out: np.ndarray, raw: np.ndarray, ref: np.ndarray, bar: float) -> Comparison:
    finite = bool(np.isfinite(raw).all())
    same = out.shape == ref.shape and out.dtype == np.uint8
    value = psnr(out, ref) if same else -math.inf
    diff = int(np.abs(out.astype(np.int16) - ref.astype(np.int16)).max()) if same else 255
    return Comparison(check, provider, tuple(ref.shape), value, diff, bar, finite, finite and same and value >= bar)


def _torch_reference(net: nn.Module) -> ExportWrapper:
    return ExportWrapper(net.float().eval()).eval()


def _versions() -> dict[str, str]:
    import onnxruntime as ort

    return {
        "stylecam": __version__,
        "onnx": onnx.__version__,
        "onnxruntime": ort.__version__,
        "torch": torch.__version__,
    }


def verify_parity(
    model_path: str | Path,
    net: nn.Module,
    *,
    fp32_model: str | Path | None = None,
    sizes: tuple[tuple[int, int, int], ...] | None = None,
    providers: tuple[str, ...] | None = None,
    name: str | None = None,
) -> ParityReport:
    """Run the gate on an exported model against the float32 torch network it came from.

    Args:
        model_path: the exported ``.onnx``.
        net: the float32 training network (the reference; wrapped in the same frame contract).
        fp32_model: for an fp16 model, its fp32 export: fp32 vs torch must reach 45 dB and fp16
            vs fp32 40 dB. Without it, the model itself is held to 45 dB (fp32) or 40 dB (fp16).
        sizes: ``(batch, height, width)`` list; default :data:`DEFAULT_SIZES`.
        providers: ORT providers; default every available one of CUDA and CPU.
        name: model name for the report (default the file name).
    """
    model = load_onnx_safely(model_path)
    meta = metadata_of(model, source=str(model_path))
    onnx.checker.check_model(model, full_check=True)
    providers = providers or available_parity_providers()
    reference = _torch_reference(net)
    fp32 = load_onnx_safely(fp32_model) if fp32_model else None
    bar = ORT_VS_TORCH_DB if meta.precision == "fp32" else FP16_VS_FP32_DB
    comparisons: list[Comparison] = []
    for provider in providers:
        runner = OnnxRunner(model, provider)
        runner32 = OnnxRunner(fp32, provider) if fp32 is not None else None
        for index, (batch, height, width) in enumerate(sizes or DEFAULT_SIZES):
            frames = sample_frames(batch, height, width, seed=index)
            with torch.no_grad():
                ref = reference(torch.from_numpy(frames)).numpy()
            out, raw = runner(frames)
            if runner32 is None:
                comparisons.append(_compare(f"{meta.precision} onnxruntime vs torch", provider, out, raw, ref, bar))
                continue
            out32, raw32 = runner32(frames)
            comparisons.append(_compare("fp32 onnxruntime vs torch", provider, out32, raw32, ref, ORT_VS_TORCH_DB))
            comparisons.append(_compare("fp16 vs fp32 onnxruntime", provider, out, raw, out32, FP16_VS_FP32_DB))
    digest = hashlib.sha256(Path(model_path).read_bytes()).hexdigest()
    report = ParityReport(
        model=name or Path(model_path).name,
        sha256=digest,
        precision=meta.precision,
        opset=meta.opset,
        providers=tuple(providers),
        comparisons=tuple(comparisons),
        versions=_versions(),
    )
    log.info("parity %s: %s", "passed" if report.passed else "FAILED", _summary(report))
    return report


def _summary(report: ParityReport) -> str:
    return ", ".join(f"{check} >= {_json_db(db)} dB" for check, db in report.min_psnr().items())


def report_path_for(model_path: str | Path) -> Path:
    """``MODEL.parity.json`` beside ``MODEL.onnx``."""
    path = Path(model_path)
    return path.with_name(f"{path.stem}.parity.json")


def write_report(report: ParityReport, model_path: str | Path) -> Path:
    """Write the report beside the model (atomically) and return its path."""
    target = report_path_for(model_path)
    with atomic_output(target) as tmp:
        tmp.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    return target
