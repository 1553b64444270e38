"""The one runtime object: an ONNX style model you call on BGR frames.

>>> with Stylizer("starry.onnx", RuntimeConfig()) as stylizer:
...     out = stylizer(frame)          # (H, W, 3) uint8 BGR -> same shape and dtype
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import numpy.typing as npt

from stylecam.contract import K_CONTRACT, PIXEL_CONTRACT, ModelMetadata
from stylecam.errors import ModelLoadError, UsageError
from stylecam.runtime.config import RuntimeConfig
from stylecam.runtime.inference.memory import check_memory
from stylecam.runtime.inference.modelfile import ModelFile, load_model_file
from stylecam.runtime.inference.preprocess import (
    MIN_SIDE,
    check_batch,
    check_frame,
    from_legacy_output,
    pad_to_multiple,
    resize_batch,
    run_size,
    to_legacy_input,
)
from stylecam.runtime.inference.probe import probe_model
from stylecam.runtime.inference.providers import CPU, TENSORRT
from stylecam.runtime.inference.runner import SessionRunner, device_of
from stylecam.runtime.inference.session import create_session
from stylecam.runtime.inference.signature import LEGACY, STYLECAM, ModelIO, inspect_io

log = logging.getLogger(__name__)

LEGACY_PIXEL_CONTRACT = {"layout": "NCHW", "dtype": "float32", "range": [0, 255], "channels": "RGB"}
# pytorch/examples TransformerNet halves the size twice and doubles it twice: other sizes drift.
LEGACY_STRIDE = 4


class Stylizer:
    """An ONNX style model on ONNX Runtime, with its metadata and pre/post-processing.

    Args:
        model_path: the ``.onnx`` file (stylecam export, or a pytorch/examples-style float model).
        config: providers, IO binding, pixel cap (see :class:`RuntimeConfig`).

    Raises:
        InputError: the file is missing, empty or unreadable.
        ModelLoadError: corrupt, hostile, too new, or not a style model (message names the fix).
        DependencyError: the requested provider or GPU is unavailable.

    Inference runs on the calling thread; one Stylizer must not be called from two threads at once.
    """

    def __init__(self, model_path: str | Path, config: RuntimeConfig | None = None) -> None:
        self.config = config or RuntimeConfig()
        self._notes: set[str] = set()
        self._memory_checked: set[tuple[int, int, int]] = set()
        self.model: ModelFile = load_model_file(model_path)
        name = self.model.path.name
        untrusted = K_CONTRACT not in self.model.metadata_props
        if self.model.inputs:
            # A wrong signature is refused from the file itself, before the probe and the session
            # (seconds on a GPU) are spent on it; the session's own signature is checked below.
            props = self.model.metadata_props
            early = None if untrusted else ModelMetadata.from_props(props, source=name)
            inspect_io(self.model.inputs, self.model.outputs, metadata=early, source=name)
        if self.config.probe == "always" or (self.config.probe == "auto" and untrusted):
            probe_model(self.model.path)
        self._session, self._plan = create_session(self.model, self.config)
        # The file's own metadata_props (what ORT reports too): ORT's custom_metadata_map raises
        # UnicodeDecodeError on a value that is not UTF-8, the vetted copy is decoded safely.
        props = self.model.metadata_props
        declared = None if K_CONTRACT not in props else ModelMetadata.from_props(props, source=name)
        try:
            self.io: ModelIO = inspect_io(
                self._session.get_inputs(), self._session.get_outputs(), metadata=declared, source=name
            )
        except UnicodeDecodeError as exc:  # ORT's NodeArg.shape/name on text that is not UTF-8 (found by fuzzing)
            raise ModelLoadError(
                f"{name} has a graph input or output whose name or dimension is not valid text; the file is damaged, "
                "re-export it"
            ) from exc
        self.metadata: ModelMetadata = declared or _inferred_metadata(self.io, self.model.opset)
        # Contract graphs pad any frame size themselves; other models get tiny frames scaled up.
        self._min_side = 1 if declared is not None else MIN_SIDE
        if declared is None:
            _log_inferred(name, self.io)
        self.device = device_of(self.providers)
        self._run = SessionRunner(
            self._session,
            self.io.input_name,
            self.io.output_name,
            iobinding=self.config.iobinding,
            device=self.device,
            device_id=self.config.device_id,
        )
        log.info("loaded %s on %s (%s)", name, ", ".join(self.providers), self.precision)

    # -- public API -----------------------------------------------------------------------------

    @property
    def providers(self) -> list[str]:
        """The execution providers the session actually uses (``session.get_providers()``)."""
        return list(self._live_session().get_providers())

    @property
    def precision(self) -> str:
        """The model's precision, plus ``+trt-fp16`` when TensorRT may use fp16 kernels."""
        trt_fp16 = self.config.trt_fp16 and self.providers[:1] == [TENSORRT]
        return self.metadata.precision + ("+trt-fp16" if trt_fp16 else "")

    def __call__(self, frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        """Stylize one (H, W, 3) uint8 BGR frame (or (H, W) grayscale); returns (H, W, 3) uint8 BGR."""
        checked, gray = check_frame(frame)
        if gray:
            self._note_once("gray", "grayscale frames are converted to BGR before stylizing")
        return self._stylize(checked[None])[0]

    def stylize_batch(self, frames: npt.NDArray[np.uint8] | Sequence[npt.NDArray[np.uint8]]) -> npt.NDArray[np.uint8]:
        """Stylize a (N, H, W, 3) uint8 batch (or a list of same-size frames) in one call."""
        return self._stylize(check_batch(frames))

    def close(self) -> None:
        """Release the session (and its GPU memory). Calling the Stylizer afterwards is an error."""
        self._session = None

    def __enter__(self) -> Stylizer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Stylizer({str(self.model.path)!r}, providers={self._plan.providers}, contract={self.io.contract!r})"

    # -- internals ------------------------------------------------------------------------------

    def _live_session(self) -> Any:
        if self._session is None:
            raise UsageError("this Stylizer is closed; create a new one (or use it inside its `with` block)")
        return self._session

    def _note_once(self, key: str, message: str, *args: object) -> None:
        if key not in self._notes:
            self._notes.add(key)
            log.info(message, *args)

    def _stylize(self, batch: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        self._live_session()
        count, height, width = batch.shape[:3]
        run_h, run_w = run_size(height, width, self.config.max_pixels, self._min_side)
        if run_h * run_w < height * width:
            self._note_once(
                "cap",
                "frames of %dx%d (%.1f MP) exceed max_pixels (%.1f MP): stylizing at %dx%d and upscaling back; "
                "raise max_pixels to change this",
                width,
                height,
                height * width / 1e6,
                self.config.max_pixels / 1e6,
                run_w,
                run_h,
            )
        elif (run_h, run_w) != (height, width):
            self._note_once(
                "small", "frames of %dx%d are tiny: stylizing at %dx%d and scaling back", width, height, run_w, run_h
            )
        if self.io.fixed_hw is not None:
            run_h, run_w = self.io.fixed_hw
            self._note_once("fixed", "the model only takes %dx%d frames: resizing to it and back", run_w, run_h)
        feed = resize_batch(batch, run_h, run_w)
        self._check_memory(count, run_h, run_w)
        chunks = [self._infer(chunk) for chunk in self._chunks(feed)]
        out = chunks[0] if len(chunks) == 1 else np.concatenate(chunks)[:count]
        if out.shape[1:3] != (height, width):
            out = resize_batch(out, height, width)
        return out

    def _chunks(self, feed: npt.NDArray[np.uint8]) -> list[npt.NDArray[np.uint8]]:
        size = self.io.batch
        if size is None or size == len(feed):
            return [feed]
        self._note_once("batch", "the model takes batches of exactly %d: splitting", size)
        padded = np.concatenate([feed, np.repeat(feed[-1:], -len(feed) % size, axis=0)])
        return [padded[i : i + size] for i in range(0, len(padded), size)]

    def _infer(self, batch: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        height, width = batch.shape[1:3]
        try:
            if self.io.contract == STYLECAM:
                out = self._run(batch)
            else:
                padded = batch if self.io.fixed_hw else pad_to_multiple(batch, LEGACY_STRIDE)
                out = from_legacy_output(self._run(to_legacy_input(padded, self.io.dtype)))[:, :height, :width]
        except (RuntimeError, ValueError) as exc:  # ORT raises these for kernel failures and shape mismatches
            reason = str(exc).strip().splitlines()[-1][:300]
            fix = (
                "out of memory: lower max_pixels (--max-pixels) or the batch size"
                if "allocat" in reason.lower()
                else "the model cannot run this frame size: re-export it or resize the input"
            )
            raise ModelLoadError(
                f"{self.model.path.name} failed on a {len(batch)}x{height}x{width} input ({reason}); {fix}"
            ) from exc
        if out.ndim != 4 or out.shape[0] != len(batch) or out.shape[3] != 3:
            raise ModelLoadError(
                f"{self.model.path.name} returned an output of shape {out.shape} for an input of shape "
                f"{batch.shape}; expected (N, H, W, 3) for N frames: the model is broken, re-export it"
            )
        if out.shape[1:3] != (height, width) or out.dtype != np.uint8:
            self._note_once(
                "size", "the model returned %s for a %dx%d input; resizing (re-export it)", out.shape, width, height
            )
            out = resize_batch(np.clip(out, 0, 255).astype(np.uint8), height, width)
        return out

    def _check_memory(self, count: int, height: int, width: int) -> None:
        # Host memory matters when ORT runs on CPU; GPU memory is ORT's to report.
        key = (count, height, width)
        if key not in self._memory_checked and self.providers[:1] == [CPU]:
            check_memory(count, height, width)
            self._memory_checked.add(key)


def _inferred_metadata(io: ModelIO, opset: int) -> ModelMetadata:
    legacy = io.contract == LEGACY
    return ModelMetadata(
        arch="unknown",
        stride=LEGACY_STRIDE if legacy else 1,
        precision="fp16" if io.dtype is np.float16 else "fp32",
        pixel_contract=dict(LEGACY_PIXEL_CONTRACT if legacy else PIXEL_CONTRACT),
        opset=opset,
        input_name=io.input_name,
        output_name=io.output_name,
        extra={"stylecam.inferred_contract": io.contract},
    )


def _log_inferred(name: str, io: ModelIO) -> None:
    if io.contract == LEGACY:
        log.warning(
            "%s has no stylecam metadata; running it as a float NCHW RGB 0-255 model (pytorch/examples "
            "convention, converted in numpy). If colours look wrong it uses another convention",
            name,
        )
    else:
        log.info("%s has no stylecam metadata; its uint8 NHWC input matches the stylecam contract", name)
