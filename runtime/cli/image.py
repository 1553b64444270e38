"""``stylecam image``: stylize image files or folders, any size, transparency kept.

    stylecam image photo.jpg -o painted.png --model starry.onnx     # one file -> one file
    stylecam image photos/ -o painted/ --model starry.onnx          # a folder -> a folder, names kept
    stylecam image a.jpg b.png --model starry.onnx                  # a.starry.jpg, b.starry.png beside them

A file that cannot be read is reported by name and skipped; the others are still written, and the
exit code is non-zero at the end. Existing outputs are refused unless ``--overwrite``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from stylecam.errors import InputError, ModelLoadError, StylecamError
from stylecam.runtime.cli import options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``stylecam image`` (argparse only)."""
    parser.add_argument("inputs", nargs="+", metavar="IN", help="image files, folders of images, or quoted patterns")
    io = parser.add_argument_group("input and output")
    options.add_model(io)
    io.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="one input: the image to write (.png keeps transparency); several or a folder: the folder to write "
        "into (created if its parent exists); default: beside the input as <name>.<style>.<ext>",
    )
    options.add_overwrite(io)
    options.add_look(parser, video=False)
    options.add_provider(parser)
    options.add_arch(parser)


def run(args: argparse.Namespace) -> int:
    """Run ``stylecam image``; returns the exit code (errors are raised as StylecamError)."""
    from stylecam.runtime.cli.stream import resolve_models
    from stylecam.runtime.pipeline.image_batch import plan_images, prepare_targets

    options.check_numbers(args)
    model = resolve_models(args.model, **options.model_choice(args))[0]
    batch = plan_images(args.inputs, args.output, style=model.stem, model=model, overwrite=args.overwrite)
    failures = [(spec, error) for spec, error in batch.refused]
    for spec, error in failures:
        _report(spec, error)
    if not batch.jobs:
        raise failures[0][1] if failures else InputError("no images to stylize")
    prepare_targets(batch, model)
    started = time.perf_counter()
    done, provider = _stylize_all(args, model, batch.jobs, failures)
    where = batch.folder or (batch.jobs[0].target if len(batch.jobs) == 1 else "beside the inputs")
    count = f"{done} of {done + len(failures)} images" if failures else f"{done} image{'s' if done != 1 else ''}"
    print(f"stylecam: {count} in {time.perf_counter() - started:.1f} s on {provider} -> {where}")
    if failures:
        names = ", ".join(str(spec) for spec, _ in failures[:5]) + (", ..." if len(failures) > 5 else "")
        print(f"stylecam: error: {len(failures)} failed: {names}", file=sys.stderr)
        return failures[0][1].exit_code
    return 0


def _report(spec: object, error: StylecamError) -> None:
    text = str(error)
    print(f"stylecam: error: {text if str(spec) in text else f'{spec}: {text}'}", file=sys.stderr)


def _stylize_all(
    args: argparse.Namespace, model: Path, jobs: list[Any], failures: list[tuple[Any, StylecamError]]
) -> tuple[int, str]:
    """Stylize every job with one model session; failures are reported and collected, not raised."""
    from tqdm import tqdm

    from stylecam.runtime.inference.look import Look
    from stylecam.runtime.inference.stylizer import Stylizer
    from stylecam.runtime.media.sources import ImageSource
    from stylecam.runtime.pipeline.sinks import ImageSink

    # One image is read before the model loads: an unreadable file fails in a second, not after the load.
    first = next(iter(ImageSource(jobs[0].source, max_size=args.max_size))) if len(jobs) == 1 else None
    done = 0
    with Stylizer(model, options.runtime_config(args)) as stylizer:
        look = Look(stylizer, options.look_config(args))
        bar = tqdm(jobs, unit="image", disable=args.quiet or len(jobs) < 2, desc="stylecam", dynamic_ncols=True)
        for job in bar:
            try:
                frame = first or next(iter(ImageSource(job.source, max_size=args.max_size)))
                with ImageSink(job.target, inputs=[model, job.source]) as sink:
                    sink.write(frame.with_image(look(frame.image)))
                done += 1
            except (InputError, ModelLoadError) as error:  # this file is the problem: go on with the others
                failures.append((job.source, error))
                bar.clear()
                _report(job.source, error)
        return done, stylizer.providers[0]
