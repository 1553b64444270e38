"""The work behind ``stylecam run``, ``live`` and ``convert``: source -> stylize/adjust/smooth -> sink.

The three commands differ only in their options and in what they accept (a camera, a file, an
output kind); this module is the one place that plans the output, opens the source, loads the
model(s), picks the sink, runs :func:`stylecam.runtime.pipeline.threaded.run` and prints the summary line.
Everything that can be checked is checked before the source opens and the model loads.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
from pathlib import Path
from typing import Any

from stylecam.errors import UsageError
from stylecam.runtime.cli.options import (
    camera_options,
    check_numbers,
    look_config,
    recommended_smooth_strength,
    runtime_config,
    smoothing_config,
)

log = logging.getLogger(__name__)

ALL_MODELS = "all"


def resolve_models(names: str | list[str], *, arch: str | None = None, gpu: bool | None = None) -> list[Path]:
    """The model files for ``--model`` values (paths or bundled names; ``all``: every bundled style).

    ``arch`` picks a variant of bundled styles and ``gpu`` says where they will run (see
    :func:`stylecam.runtime.inference.models.resolve_model`).
    """
    from stylecam.runtime.inference.models import bundled_models, resolve_model

    found: list[Path] = []
    for name in [names] if isinstance(names, str) else names:
        if name.strip().lower() == ALL_MODELS:
            bundled = bundled_models()
            if not bundled:
                raise UsageError("--model all: no style models are bundled with this installation; give .onnx files")
            found += [resolve_model(model.name, arch=arch, gpu=gpu) for model in bundled]
        else:
            found.append(resolve_model(name, arch=arch, gpu=gpu))
    return list(dict.fromkeys(found))  # the same model twice is one style


def source_inputs(source: str, models: list[Path]) -> list[Path]:
    """Files an output must never be: the models, and the source when it is a local file."""
    from stylecam.runtime.media.sources import classify_source

    local = classify_source(source) in ("video", "image") and "://" not in source
    return [*models, *([Path(source)] if local else [])]


def plan(args: argparse.Namespace, models: list[Path], *, preview: bool = False) -> tuple[Any, list[Path]]:
    """Check the numbers and plan the output (see :func:`stylecam.runtime.pipeline.plan.plan_output`)."""
    from stylecam.runtime.pipeline.plan import plan_output

    check_numbers(args)
    inputs = source_inputs(args.source, models)
    output_plan = plan_output(
        args.source,
        args.output,
        style=models[0].stem,
        no_window=args.no_window,
        max_frames=args.frames,
        inputs=inputs,
        overwrite=args.overwrite,
        preview=preview,
    )
    return output_plan, inputs


def execute(args: argparse.Namespace, models: list[Path], output_plan: Any, inputs: list[Path]) -> int:
    """Open the source, load the model(s), run the pipeline into the planned sink, print the summary."""
    from stylecam.runtime.media.sources import open_source

    budget = runtime_config(args).thread_budget
    with contextlib.ExitStack() as stack:
        source = open_source(
            args.source,
            max_size=args.max_size,
            camera_options=camera_options(args),
            decode_threads=budget.decode if budget is not None else 0,
        )
        stack.callback(source.close)
        summary, sink, provider = _stylize(args, models, source, output_plan, inputs, stack)
    _print_summary(summary, output_plan, sink, provider)
    return 0


def _stylize(
    args: argparse.Namespace, models: list[Path], source: Any, output_plan: Any, inputs: list[Path], stack: Any
) -> tuple[Any, Any, str]:
    from stylecam.runtime.inference.stylizer import Stylizer
    from stylecam.runtime.live.controls import LiveControls
    from stylecam.runtime.live.style_deck import StyleDeck
    from stylecam.runtime.pipeline.pacing import Pacer
    from stylecam.runtime.pipeline.plan import check_buffer_memory, queue_size_for
    from stylecam.runtime.pipeline.threaded import run as run_pipeline
    from stylecam.runtime.pipeline.threads import opencv_threads

    info = source.info
    queue_size = queue_size_for(info.width, info.height)
    check_buffer_memory(info.width, info.height, queue_size)
    sink = _make_sink(args, output_plan, source, inputs, models[0].stem, queue_size)  # checks the encoder first
    if getattr(args, "virtual_camera", False):  # `live --virtual-camera`: a missing backend fails here, early
        from stylecam.runtime.live.virtual_camera import with_virtual_camera

        sink = with_virtual_camera(sink, info.width, info.height, info.fps)
        stack.callback(sink.camera.close)  # also when a model fails to load before the run starts
    config = runtime_config(args)
    stack.enter_context(opencv_threads(config.thread_budget))
    deck = stack.enter_context(StyleDeck(models, lambda path: Stylizer(path, config)))
    smoothing = smoothing_config(args, still=info.frame_count == 1, recommended=recommended_smooth_strength(models[0]))
    controls = LiveControls(deck, look_config(args), smoothing)
    window = getattr(sink, "window", sink)
    if hasattr(window, "controls"):
        window.controls = controls
    pacer = Pacer() if plays_in_real_time(args, source, output_plan) else None
    with sink:
        summary = run_pipeline(
            source,
            controls,
            sink,
            max_frames=output_plan.max_frames,
            queue_size=queue_size,
            progress=not args.quiet,
            pacer=pacer,
        )
        if hasattr(sink, "source_complete"):
            sink.source_complete = summary.stopped_by == "end"  # the audio tail is kept only then
    return summary, sink, deck.current.providers[0]


def plays_in_real_time(args: argparse.Namespace, source: Any, output_plan: Any) -> bool:
    """``live`` plays a file (or image sequence) at its frame rate when someone watches it.

    Watched: a window, or a virtual camera. ``--no-pace`` (and ``--no-window`` without a virtual
    camera: a throughput run) read it as fast as it can be stylized; cameras pace themselves.
    """
    if not getattr(args, "pace", False) or source.live:
        return False
    window = output_plan.kind == "window" or (output_plan.kind == "video" and output_plan.preview)
    return window or bool(getattr(args, "virtual_camera", False))


def _make_sink(
    args: argparse.Namespace, output_plan: Any, source: Any, inputs: list[Path], style: str, queue_size: int
) -> Any:
    from stylecam.runtime.pipeline.sinks import ImageSink, NullSink, TeeSink, VideoFileSink, WindowSink

    title = f"stylecam - {style}"
    overlay = not getattr(args, "no_overlay", False)
    if output_plan.kind == "video":
        audio = None if args.no_audio else getattr(source, "audio_source", None)
        recorder = VideoFileSink(
            output_plan.path,
            source.info,
            codec=args.codec,
            crf=args.crf,
            audio_from=audio,
            inputs=inputs,
            realtime=source.live,
            encode_threads=_encode_threads(args),
            preset=_encoder_preset(args),
        )
        return (
            TeeSink(WindowSink(title, overlay=overlay), recorder, queue_size=queue_size)
            if output_plan.preview
            else recorder
        )
    if output_plan.kind == "image":
        return ImageSink(output_plan.path, inputs=inputs)
    if output_plan.kind == "window":
        return WindowSink(title, overlay=overlay)
    return NullSink()


def _encoder_preset(args: argparse.Namespace) -> str | None:
    """``--preset``, else the thread budget's (veryfast on small machines), else the encoder's default."""
    if getattr(args, "preset", None):
        return str(args.preset)
    budget = runtime_config(args).thread_budget
    return budget.encoder_preset if budget is not None else None


def _encode_threads(args: argparse.Namespace) -> int:
    budget = runtime_config(args).thread_budget
    return budget.encode if budget is not None else 0


def _print_summary(summary: Any, output_plan: Any, sink: Any, provider: str) -> None:
    path = output_plan.path
    where = str(path) if path is not None else ("window" if output_plan.kind == "window" else "nowhere")
    if path is not None and output_plan.preview:
        where += " (and a window)"
    first = f"{summary.frames_out} frame{'s' if summary.frames_out != 1 else ''} in {summary.seconds:.1f} s"
    if summary.frames_out > 1:
        first += f" ({summary.fps:.1f} fps)"
    parts = [f"{first} on {provider}"]
    if summary.dropped:
        parts.append(f"{summary.dropped} stale camera frames dropped")
    if summary.corrupt:
        parts.append(f"{summary.corrupt} damaged frames skipped or repeated")
    audio = getattr(sink, "audio", None)
    if audio is not None:
        parts.append(f"audio {audio.description}")
    if summary.stopped_by == "user":
        parts.append("stopped by the user")
    print(f"stylecam: {', '.join(parts)} -> {where}")
