"""Runtime configuration: frozen dataclasses validated on construction.

The CLI builds these from argparse; the library only ever sees the dataclasses. Invalid values raise
:class:`~stylecam.errors.UsageError` naming the valid values, so a typo fails before a model loads.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from stylecam.errors import UsageError

PROVIDERS = ("auto", "tensorrt", "cuda", "cpu")
CUDNN_SEARCH = ("HEURISTIC", "EXHAUSTIVE", "DEFAULT")
PROBE_MODES = ("auto", "always", "never")
SMOOTHING_MODES = ("none", "ema", "flow")
FLOW_PRESETS = ("ultrafast", "fast", "medium")  # OpenCV's DIS optical flow presets, cheapest first
# How the smoother finds the pixels its flow cannot explain: the one-way photometric check (one
# flow) or forward-backward consistency (two flows).
FLOW_CHECKS = ("one-way", "two-way")
MAX_FLOW_EVERY = 8
MAX_TEXTURE_RADIUS = 32  # keep_texture: the window radius, in pixels, of the contrast restore after a blend
# Measured on a synthetic flickering clip with exact flow (tools/measure_smoothing.py, README).
DEFAULT_ALPHA = {"none": 1.0, "ema": 0.5, "flow": 0.4}
MIN_ALPHA = 0.01  # the strongest smoothing: 1% of each new frame
# Processing resolution limits (--scale / --size): below 0.1 the strokes swallow the picture; above
# 4x the network has no detail to add and the memory grows with the square.
MIN_SCALE, MAX_SCALE = 0.1, 4.0
MIN_SIDE, MAX_SIDE = 16, 16384

# 3840x2160: a 4K UHD frame. Bigger frames (8K) are downscaled to this many pixels, stylized and
# upscaled back; the network has no detail to add at 8K and would need ~4x the memory and time.
DEFAULT_MAX_PIXELS = 3840 * 2160


def _choice(name: str, value: str, valid: tuple[str, ...]) -> str:
    if value not in valid:
        raise UsageError(f"{name} {value!r} is not valid; choose one of: {', '.join(valid)}")
    return value


def _in_range(name: str, value: float, low: float, high: float) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and low <= value <= high):
        raise UsageError(f"{name} must be a number between {low} and {high}, got {value!r}")


def _available_here() -> list[str]:
    # Imported only on this error path: building a config stays cheap.
    import onnxruntime

    from stylecam.runtime.inference.providers import short_names

    return short_names(onnxruntime.get_available_providers())


MAX_THREADS = 1024


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity mask; a container's CPU set)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class ThreadBudget:
    """How a stream shares the CPU between its stages (made by :func:`plan_threads`).

    Attributes:
        cores: the cores planned for.
        inference: ONNX Runtime intra-op threads (the model, on the main thread).
        opencv: OpenCV's worker threads (``cv2.setNumThreads``: optical flow, warps, resizing).
        decode: FFmpeg decoder threads (0: FFmpeg's choice, frame threads: one per core + 1).
        encode: FFmpeg encoder threads (0: FFmpeg's choice).
        spinning: ONNX Runtime's idle threads spin for work instead of sleeping (only matters
            with ``inference`` > 1): quicker hand-offs, but cycles stolen from the other stages.
        encoder_preset: the libx264/libx265 preset a file conversion uses when ``--preset`` is not
            given: ``veryfast`` on small machines, where ``medium`` would make the encoder the
            slowest stage; ``medium`` where there are cores to spare.
    """

    cores: int
    inference: int
    opencv: int
    decode: int
    encode: int
    spinning: bool
    encoder_preset: str = "medium"

    def as_dict(self) -> dict[str, Any]:
        """The budget as recorded in benchmark JSON."""
        return asdict(self)


SMALL_MACHINE_CORES = 4  # up to this many cores, the encoder takes a faster preset


def plan_threads(cores: int) -> ThreadBudget:
    """The thread budget for ``cores`` cores (measured on 2 cores: docs/benchmarks.md, "End to end").

    A stream keeps four threads busy besides the model's: the reader (decode), the flow thread,
    the writer (encode) and the main thread's blend. What mattered, end to end at 640x360 on a
    busy 2-core machine: ONNX Runtime's spinning threads (its default) burn the cycles those
    threads need (about a third fewer fps), so nothing spins and ONNX Runtime gets every core (two
    threads beat one by 15 % once they sleep when idle); OpenCV keeps one thread per caller (the
    flow runs on a thread of its own); FFmpeg picks its decoder threads (frame threads: one per
    core + 1; one decoder thread was 15 % slower) and the encoder gets one thread per core.
    Up to 4 cores the encoder runs x264's ``veryfast`` preset: on stylized 640x360 frames it is
    about 2.3x as fast as ``medium`` at the same file size and ~0.5 dB lower PSNR
    (benchmarks/results/encoder-presets-cpu.json), and ``medium`` held a 2-core conversion to
    15-18 fps where ``veryfast`` reached 30.
    """
    if not isinstance(cores, int) or cores < 1:
        raise UsageError(f"a thread budget needs at least 1 core, got {cores!r}")
    return ThreadBudget(
        cores=cores,
        inference=cores,
        opencv=1 if cores <= 4 else 2,
        decode=0,
        encode=min(cores, 16),
        spinning=False,
        encoder_preset="veryfast" if cores <= SMALL_MACHINE_CORES else "medium",
    )


@dataclass(frozen=True)
class RuntimeConfig:
    """How a :class:`~stylecam.runtime.inference.stylizer.Stylizer` loads and runs a model.

    Attributes:
        provider: ``auto`` (TensorRT -> CUDA -> CPU, whichever this onnxruntime build has),
            ``tensorrt``, ``cuda`` or ``cpu``.
        device_id: CUDA device index for the GPU providers.
        iobinding: run through ONNX Runtime IO binding (keeps the output on the GPU until one copy).
        require_gpu: fail instead of falling back to the CPU provider.
        max_pixels: frames with more pixels are downscaled before inference and upscaled back.
        trt_cache_dir: root of the TensorRT engine cache (default: ``~/.cache/stylecam/trt``).
        trt_fp16: let TensorRT build fp16 kernels (about 2x faster; style networks tolerate it).
        cudnn_conv_algo_search: cuDNN algorithm search. ``HEURISTIC`` is the default because
            ``EXHAUSTIVE`` re-benchmarks every new frame size, which stalls on a resolution change.
        intra_op_threads: ONNX Runtime CPU threads (0: from ``threads``, else its default, one per core).
        threads: CPU cores to plan the run's threads for (:func:`plan_threads`: ONNX Runtime,
            OpenCV, decoder, encoder); 0 leaves ONNX Runtime at its default (the stream commands
            and ``stylecam bench`` pass the cores this process may use unless ``--threads`` says).
        probe: load models in a throw-away subprocess first (``auto``: models without stylecam
            metadata, i.e. not made by ``stylecam export``).
    """

    provider: str = "auto"
    device_id: int = 0
    iobinding: bool = True
    require_gpu: bool = False
    max_pixels: int = DEFAULT_MAX_PIXELS
    trt_cache_dir: str | Path | None = None
    trt_fp16: bool = True
    cudnn_conv_algo_search: str = "HEURISTIC"
    intra_op_threads: int = 0
    threads: int = 0
    probe: str = "auto"

    @property
    def thread_budget(self) -> ThreadBudget | None:
        """The budget for ``threads`` cores (None when 0), ``intra_op_threads`` winning for ONNX Runtime."""
        if not self.threads:
            return None
        budget = plan_threads(self.threads)
        if self.intra_op_threads:
            budget = ThreadBudget(**{**asdict(budget), "inference": self.intra_op_threads})
        return budget

    def __post_init__(self) -> None:
        if self.provider not in PROVIDERS:
            raise UsageError(
                f"provider {self.provider!r} is not valid; choose one of: {', '.join(PROVIDERS)} "
                f"(this onnxruntime build has: {', '.join(_available_here())})"
            )
        _choice("cudnn_conv_algo_search", self.cudnn_conv_algo_search, CUDNN_SEARCH)
        _choice("probe", self.probe, PROBE_MODES)
        if not isinstance(self.device_id, int) or self.device_id < 0:
            raise UsageError(f"device_id must be a GPU index >= 0, got {self.device_id!r}")
        if not isinstance(self.max_pixels, int) or self.max_pixels < 64 * 64:
            raise UsageError(f"max_pixels must be an integer >= {64 * 64} (64x64), got {self.max_pixels!r}")
        if not isinstance(self.intra_op_threads, int) or self.intra_op_threads < 0:
            raise UsageError(f"intra_op_threads must be >= 0 (0: one per core), got {self.intra_op_threads!r}")
        if not isinstance(self.threads, int) or not 0 <= self.threads <= MAX_THREADS:
            raise UsageError(f"threads must be 0 (auto) to {MAX_THREADS} cores, got {self.threads!r}")
        if self.provider == "cpu" and self.require_gpu:
            raise UsageError("provider 'cpu' contradicts require_gpu; drop one of them")


@dataclass(frozen=True)
class SmoothingConfig:
    """Temporal smoothing of stylized video (see :mod:`stylecam.runtime.temporal.smoothing`).

    Attributes:
        mode: ``none``, ``ema`` (blend with the previous output; ghosts on motion) or ``flow``
            (warp the previous output along optical flow of the source, blend where not occluded).
        alpha: weight of the *current* stylized frame in the blend (1 = no smoothing). Default
            per mode, from tools/measure_smoothing.py: 0.4 for ``flow``, 0.5 for ``ema`` (which
            ghosts more when it smooths harder).
        flow_width: optical flow is computed on source frames downscaled to this width (never
            upscaled), so its cost stays about constant from 360p to 4K.
        flow_preset: DIS optical flow preset, ``ultrafast``, ``fast`` or ``medium`` (finer, slower).
        flow_check: ``one-way`` (one flow; a pixel its match in the previous frame does not
            resemble counts as occluded) or ``two-way`` (forward-backward consistency: two flows
            per frame). The same warping error on the research clips, one-way at 0.6x the cost.
        flow_every: compute the flow on every n-th frame and reuse the last one in between (1: every
            frame).
        photometric_tolerance: ``one-way`` check: grey levels (0-255) a pixel may differ from its
            match in the previous frame before it counts as occluded.
        occlusion_tolerance: forward-backward consistency slack in pixels² (Sundaram et al. use 0.5).
        scene_cut_threshold: mean absolute difference (0-255) of consecutive small grey source
            frames above which the smoother resets instead of blending across a cut.
    """

    mode: str = "flow"
    alpha: float | None = None
    flow_width: int = 320
    flow_preset: str = "fast"
    flow_check: str = "one-way"
    flow_every: int = 1
    photometric_tolerance: float = 25.0
    occlusion_tolerance: float = 0.5
    scene_cut_threshold: float = 30.0
    keep_texture: int = 0

    def __post_init__(self) -> None:
        _choice("smoothing mode", self.mode, SMOOTHING_MODES)
        if self.alpha is None:
            object.__setattr__(self, "alpha", DEFAULT_ALPHA[self.mode])
        _in_range("smoothing alpha", self.alpha, MIN_ALPHA, 1.0)
        if not isinstance(self.flow_width, int) or not 32 <= self.flow_width <= 4096:
            raise UsageError(f"flow_width must be an integer from 32 to 4096 pixels, got {self.flow_width!r}")
        _choice("flow_preset", self.flow_preset, FLOW_PRESETS)
        _choice("flow_check", self.flow_check, FLOW_CHECKS)
        if not isinstance(self.flow_every, int) or not 1 <= self.flow_every <= MAX_FLOW_EVERY:
            raise UsageError(f"flow_every must be a whole number from 1 to {MAX_FLOW_EVERY}, got {self.flow_every!r}")
        _in_range("occlusion_tolerance", self.occlusion_tolerance, 0.0, 100.0)
        _in_range("photometric_tolerance", self.photometric_tolerance, 1.0, 255.0)
        _in_range("scene_cut_threshold", self.scene_cut_threshold, 1.0, 255.0)
        if not isinstance(self.keep_texture, int) or not 0 <= self.keep_texture <= MAX_TEXTURE_RADIUS:
            raise UsageError(
                f"keep_texture must be a whole number of pixels from 0 (off) to {MAX_TEXTURE_RADIUS}, "
                f"got {self.keep_texture!r}"
            )

    @property
    def strength(self) -> float:
        """How strongly frames are smoothed, 0-1: ``1 - alpha`` (what ``--smooth-strength`` sets)."""
        assert self.alpha is not None  # set in __post_init__
        return 0.0 if self.mode == "none" else round(1.0 - self.alpha, 6)


_SPEC_KEYS = {
    "preset": "flow_preset",
    "width": "flow_width",
    "check": "flow_check",
    "every": "flow_every",
    "tolerance": "photometric_tolerance",
    "texture": "keep_texture",
}
_SPEC_NUMBERS = ("flow_width", "flow_every", "photometric_tolerance", "keep_texture")


def parse_smoothing(text: str) -> SmoothingConfig:
    """``MODE[:ALPHA][,KEY=VALUE...]`` -> SmoothingConfig, e.g. ``flow``, ``flow:0.3``,
    ``flow,preset=ultrafast,width=256``, ``flow,check=one-way,every=2``; UsageError names the valid form.

    Keys: ``preset`` (DIS preset), ``width`` (flow width), ``check`` (two-way / one-way),
    ``every`` (flow on every n-th frame), ``tolerance`` (the one-way check's grey levels).
    """
    head, *settings = text.split(",")
    mode, _, alpha = head.partition(":")
    try:
        value = float(alpha) if alpha else None
    except ValueError:
        raise UsageError(f"smoothing {text!r}: the alpha after ':' must be a number, e.g. flow:0.3") from None
    fields: dict[str, object] = {}
    for setting in settings:
        key, _, raw = setting.partition("=")
        if key.strip() not in _SPEC_KEYS or not raw.strip():
            raise UsageError(
                f"smoothing {text!r}: {setting!r} is not KEY=VALUE with KEY one of {', '.join(_SPEC_KEYS)}, "
                "e.g. flow,preset=ultrafast,width=256"
            )
        name, raw = _SPEC_KEYS[key.strip()], raw.strip()
        if name in _SPEC_NUMBERS and not raw.isdigit():
            raise UsageError(f"smoothing {text!r}: {key.strip()} must be a whole number, got {raw!r}")
        fields[name] = int(raw) if name in _SPEC_NUMBERS else raw
        if name == "photometric_tolerance":
            fields[name] = float(raw)
    return SmoothingConfig(mode=mode.strip(), alpha=value, **fields)  # type: ignore[arg-type]


def alpha_for_strength(strength: float) -> float:
    """The smoothing ``alpha`` for a strength of 0-1 (0: off; 1: the strongest, alpha 0.01)."""
    _in_range("smoothing strength", strength, 0.0, 1.0)
    return max(MIN_ALPHA, round(1.0 - strength, 6))


@dataclass(frozen=True)
class LookConfig:
    """How a model's output is adjusted before smoothing (numpy/OpenCV; see :mod:`stylecam.runtime.inference.look`).

    Attributes:
        strength: blend of the stylized frame with the original, 0 (original) to 1 (stylized only).
        preserve_color: keep the source's colours: luminance from the stylized frame, chroma from the source.
        scale: run the model at this fraction of the frame size (0.1-4); the output keeps the frame's
            size. Smaller means faster and bigger brush strokes.
        size: run the model at exactly (width, height) instead; the output keeps the frame's size.
    """

    strength: float = 1.0
    preserve_color: bool = False
    scale: float | None = None
    size: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        _in_range("strength", self.strength, 0.0, 1.0)
        if self.scale is not None:
            _in_range("processing scale", self.scale, MIN_SCALE, MAX_SCALE)
        if self.size is not None:
            if len(self.size) != 2 or not all(isinstance(s, int) and MIN_SIDE <= s <= MAX_SIDE for s in self.size):
                raise UsageError(
                    f"processing size must be WIDTHxHEIGHT with sides from {MIN_SIDE} to {MAX_SIDE} px, "
                    f"got {self.size!r}"
                )
            if self.scale is not None:
                raise UsageError("give a processing scale or a processing size, not both")

    @property
    def is_identity(self) -> bool:
        """True when the model's output is used as it is (nothing to adjust)."""
        return self.strength == 1.0 and not self.preserve_color and self.scale is None and self.size is None
