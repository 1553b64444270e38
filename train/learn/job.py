"""``learn()``: one painting to a ready-to-run style within a time budget (the library entry of ``stylecam learn``).

Stages, each recorded in the job's state so that running the same job again continues it:

1. check the painting, the name and the folder (nothing is created when a check fails);
2. pick the closest bundled style and rebuild its reference network as the starting checkpoint;
3. prepare the training photos;
4. fine-tune the reference network on the painting until ``reference_share`` of the budget;
5. export it (parity gate), write the catalog, card and thumbnail: from here ``--model NAME`` works;
6. distil the lite network from it until the budget, less the final export, in two stages:
   ``lite-pixel`` (L1 to the cached teacher outputs: cheap steps; from the starting style's bundled
   lite network when it ships one, rebuilt as in 2, else from scratch) for ``lite_pixel_share`` of that
   time, then ``lite-style`` (``--init`` from it: the painting's content and style losses plus the
   pixel term, VGG19 steps). Pixel distillation alone averages the brush texture away (issue 15:
   style loss +366 % vs the teacher); the second stage brings it back;
7. export the lite network (the ``lite-style`` checkpoint; ``lite-pixel``'s if the second stage has
   no step), finish the catalog and card, delete the work folder.

Ctrl-C (or SIGTERM) during a training stops after the current step, exports the network as it is
then (so a usable model exists), records the state and raises :class:`Stopped`. An error in a
fresh job removes its folder; a resumed job's folder is left as it was.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from stylecam.errors import ModelLoadError, OutputError, UsageError
from stylecam.runtime.inference.models import bundled_models, find_bundled, user_models_dir
from stylecam.train.config import RunOptions
from stylecam.train.learn.budget import Clock, Phase, PhaseRunner, StepHook
from stylecam.train.learn.nearest import nearest_style, write_init_checkpoint
from stylecam.train.learn.painting import Painting, check_painting
from stylecam.train.learn.photos import data_kind, prepare_photos
from stylecam.train.learn.progress import JobProgress, Preview
from stylecam.train.learn.publish import discard_work, export_variant, read_entry, write_entry, write_thumbnail
from stylecam.train.learn.settings import DEFAULT_QUALITY, LearnRequest, LearnSettings, quality_settings
from stylecam.train.learn.store import (
    Layout,
    check_root,
    existing_job,
    refuse_bundled_name,
    remove_folder,
    style_name,
    write_state,
)
from stylecam.train.loop.checkpoint import load_checkpoint
from stylecam.train.networks.model import get_config

log = logging.getLogger(__name__)

FINISH_SECONDS = 10.0  # card, thumbnail and clean-up after the last export
CALIBRATION_PHOTOS = 16  # crops that measure the batch-norm statistics of a bundled lite network (one pass)
DEFAULT_LICENSE = "not recorded (the user's own painting)"

# The trainings of a job, in order, each with its checkpoint and its entry in the state's "phases";
# the network each one trains; what the progress bar says while it runs.
REFERENCE, LITE_PIXEL, LITE_STYLE = "reference", "lite-pixel", "lite-style"
PHASE_ARCH = {REFERENCE: "reference", LITE_PIXEL: "lite", LITE_STYLE: "lite"}
PHASE_LABEL = {
    REFERENCE: "fine-tuning the reference network",
    LITE_PIXEL: "distilling the lite network (pixel)",
    LITE_STYLE: "distilling the lite network (painting losses)",
}


@dataclass(frozen=True)
class LearnResult:
    """A learned style: where it is and how it was made."""

    name: str
    folder: Path
    models: dict[str, Path]  # arch -> .onnx
    start: str  # the bundled style it was fine-tuned from
    seconds: float  # wall time of the whole job (every session)
    budget_seconds: float
    complete: bool
    resumed: bool
    preview: Path


class Stopped(KeyboardInterrupt):
    """Ctrl-C/SIGTERM stopped the job; ``message`` says what was kept and how to continue."""

    def __init__(self, message: str, result: LearnResult | None) -> None:
        super().__init__(message)
        self.message, self.result = message, result


def resume_command(request: LearnRequest, name: str) -> str:
    words = ["stylecam learn", str(request.painting), "--name", name]
    if request.out is not None:
        words += ["--out", str(request.out)]
    return " ".join(words)


class _Job:
    """The stages of one job (see the module doc) over its layout, settings and saved state."""

    def __init__(
        self,
        request: LearnRequest,
        settings: LearnSettings,
        painting: Painting,
        layout: Layout,
        state: dict[str, Any],
        on_step: StepHook | None,
    ) -> None:
        self.request, self.settings, self.painting, self.layout = request, settings, painting, layout
        self.state, self.user_hook = state, on_step
        self.budget = settings.minutes * 60.0
        self.clock = Clock(float(state.get("spent", 0.0)))
        self.progress = JobProgress(name=layout.name, budget=self.budget, clock=self.clock, enabled=request.progress)
        self.preview: Preview | None = None

    # -- bookkeeping -------------------------------------------------------------------------------
    def save(self) -> None:
        self.state["spent"] = round(self.clock.now(), 1)
        write_state(self.layout, self.state)

    def phase_state(self, name: str) -> dict[str, Any]:
        return self.state.setdefault("phases", {}).setdefault(name, {"step": 0, "done": False})

    def checkpoint_step(self, name: str) -> int:
        path = self.layout.checkpoint(name)
        return int(load_checkpoint(path).get("step") or 0) if path.is_file() else 0

    def lite_phase(self) -> str:
        """The training whose checkpoint is the lite network: the second stage once it has a step."""
        return LITE_STYLE if self.checkpoint_step(LITE_STYLE) > 0 else LITE_PIXEL

    @property
    def painting_copy(self) -> Path:
        return self.layout.work / f"painting{self.painting.path.suffix.lower()}"

    # -- stages ------------------------------------------------------------------------------------
    def select(self) -> None:
        if self.state.get("start") and self.layout.init.is_file():
            return
        self.progress.stage("choosing the closest bundled style")
        start = nearest_style(self.painting.bgr, size=self.settings.select_size)
        write_init_checkpoint(start.model, self.layout.init, style=start.name)
        self.state["start"] = {"name": start.name, "distance": start.distance, "distances": start.distances}
        self.save()

    def photos(self) -> None:
        if self.state.get("photos") and self.layout.photos.is_dir():
            return
        self.progress.stage("preparing training photos")
        settings = self.settings
        needed = 2 * max(settings.batch, settings.lite_batch)
        made = prepare_photos(
            self.request.data, self.layout.photos, count=settings.photos, side=settings.photo_side, at_least=needed
        )
        self.state["photos"] = {"count": made.count, "description": made.description}
        self.save()

    def lite_start(self) -> None:
        """Before the pixel stage's first step: the starting style's bundled lite network becomes its ``--init``
        (rebuilt from the .onnx as the reference's in :meth:`select`), when the style ships one of the
        architecture ``--arch lite`` builds; else the lite network learns from scratch. Recorded in the state
        (``lite_start``) for the card. A resumed stage continues its own checkpoint instead."""
        if self.checkpoint_step(LITE_PIXEL) > 0:  # resumed: the stage started before (from scratch before this was)
            self.state.setdefault("lite_start", {"from": "scratch", "reason": "started by an earlier stylecam"})
            return
        self.layout.lite_init.unlink(missing_ok=True)
        name = (self.state.get("start") or {}).get("name") or ""
        bundled = find_bundled(name, bundled_models()) if name else None
        variant = bundled.variant("lite") if bundled is not None else None
        start: dict[str, Any] = {"from": "scratch", "reason": f"the bundled {name or '?'} ships no lite network"}
        if variant is not None and variant.path.is_file():
            self.progress.stage(f"rebuilding the bundled {name} lite network")
            try:
                config = _lite_config(variant.path)
                write_init_checkpoint(
                    variant.path, self.layout.lite_init, style=name, expect=config, images=self._calibration_crops()
                )
                start = {"from": "bundled", "name": name, "file": variant.path.name, "norm": config.norm}
            except (ModelLoadError, UsageError, ValueError, RuntimeError) as exc:
                log.warning(
                    "the bundled %s lite network cannot start the lite network (%s): it learns from scratch", name, exc
                )
                self.layout.lite_init.unlink(missing_ok=True)
                start = {"from": "scratch", "reason": f"the bundled {name} lite network did not load: {exc}"[:300]}
        log.info("the lite network starts %s", lite_start_text(start))
        self.state["lite_start"] = start
        self.save()

    def _calibration_crops(self) -> Any:
        """A few training photos as the lite network sees them (crops of ``lite_crop``), float RGB 0..255."""
        import numpy as np

        from stylecam.train.data import decode, list_images, random_crop
        from stylecam.train.losses.perceptual import to_tensor

        rng = np.random.default_rng(0)
        files = list_images(self.layout.photos)[:CALIBRATION_PHOTOS]
        photos = [image for image in map(decode, files) if image is not None]
        if not photos:
            return None
        return to_tensor([random_crop(image, self.settings.lite_crop, rng) for image in photos])

    def _make_preview(self) -> Preview:
        from stylecam.train.data import decode, list_images

        files = list_images(self.layout.photos)
        chosen = [files[0], files[len(files) // 2]] if len(files) > 1 else files  # two different scenes, likely
        photos = [image for image in (decode(p) for p in chosen) if image is not None]
        return Preview(self.layout.preview, self.painting.bgr, photos, seconds=self.settings.preview_seconds)

    def _hook(self, name: str, state: Any, terms: Any, planned: int) -> None:
        losses = []
        if name != LITE_PIXEL:
            losses.append(f"style {float(terms.style):.3g}")
        if name != REFERENCE:
            losses.append(f"distill {float(terms.distill):.3g}")
        self.progress.stage(f"{PHASE_LABEL[name]}: step {state.step}/{planned}, {', '.join(losses)}")
        self.phase_state(name)["step"] = state.step
        if self.preview is not None and self.preview.due():
            self.preview.write(state.model, f"{name} step {state.step}")
        if self.user_hook is not None:
            self.user_hook(name, state, terms, planned)

    def _options(self, name: str, **extra: Any) -> RunOptions:
        return RunOptions(
            style=str(self.painting_copy),
            data=self.layout.photos,
            output=self.layout.checkpoint(name),
            style_name=self.layout.name,
            style_license=self.state.get("license") or DEFAULT_LICENSE,
            log_dir=self.layout.logs(name),
            device=self.request.device,
            sample_every=0,
            progress=False,
            **extra,
        )

    def _phase(self, name: str) -> Phase:
        s = self.settings
        painting = {"content_weight": s.content_weight, "style_weight": s.style_weight, "style_size": s.style_size}
        if name == REFERENCE:
            options = self._options(name, init=self.layout.init, save_every=s.save_every)
            settings = {"size": s.crop, "batch_size": s.batch, "learning_rate": s.learning_rate, **painting}
            return Phase(name, options, settings, s.lr_decay, s.calibration_steps, s.min_steps, s.max_steps)
        teacher = {"teacher": self.layout.checkpoint(REFERENCE), "teacher_cache": self.layout.teacher_cache}
        # The lite network keeps the normalisation of the bundled lite network it starts from (batch, or
        # hybrid for a style whose lite network was retrained with instance norm in its residual blocks).
        start = self.state.get("lite_start") or {}
        lite = {"arch": "lite", "norm": start.get("norm") if start.get("norm") != get_config("lite").norm else None}
        if name == LITE_PIXEL:  # the painting's losses stay 0 (the default with a teacher): no VGG19
            init = self.layout.lite_init if start.get("from") == "bundled" else None
            options = self._options(name, init=init, save_every=s.lite_save_every, **teacher)
            settings = {**lite, "size": s.lite_crop, "batch_size": s.lite_batch}
            settings |= {"learning_rate": s.lite_learning_rate, "style_size": s.style_size}
            settings["temporal_weight"] = s.temporal_weight
            settings["calibrate_norm"] = s.lite_norm_size
            return Phase(name, options, settings, s.lite_lr_decay, s.lite_calibration_steps, s.min_steps, s.max_steps)
        # LITE_STYLE: from the pixel stage's weights; VGG19 steps, so timed and saved like the reference's.
        # The temporal term keeps its ratio to the pixel term (0.02 at 1 is 24 at 1200).
        options = self._options(name, init=self.layout.checkpoint(LITE_PIXEL), save_every=s.save_every, **teacher)
        settings = {**lite, "size": s.lite_crop, "batch_size": s.lite_style_batch}
        settings |= {"learning_rate": s.lite_style_learning_rate, **painting}
        settings |= {"distill_pixel_weight": s.lite_style_pixel_weight}
        settings["temporal_weight"] = s.temporal_weight * s.lite_style_pixel_weight
        settings["calibrate_norm"] = s.lite_norm_size
        return Phase(name, options, settings, s.lite_lr_decay, s.calibration_steps, s.min_steps, s.max_steps)

    def train(self, name: str, deadline: float) -> None:
        phase = self.phase_state(name)
        if phase["done"]:
            return
        if name == LITE_PIXEL:
            self.lite_start()
        self.progress.stage("painting teacher targets" if name == LITE_PIXEL else PHASE_LABEL[name])
        runner = PhaseRunner(self._phase(name), self.clock, step=self.checkpoint_step(name), on_step=self._hook)
        runner.run(deadline)
        phase.update(step=runner.step, done=True)
        if self.preview is not None:
            self.preview.write(self._final_model(name), f"{name} step {runner.step}")
        self.save()

    def _final_model(self, name: str) -> Any:
        from stylecam.train.loop.checkpoint import load_model

        return load_model(self.layout.checkpoint(name))[0]

    def publish(self, name: str, *, complete: bool) -> None:
        """Export the checkpoint of the training ``name`` as its network and rewrite the catalog and card
        (skipped when that step is already out)."""
        step = self.checkpoint_step(name)
        if step == 0 or self.state.setdefault("exported", {}).get(name) == step:
            return
        arch = PHASE_ARCH[name]
        self.progress.stage(f"exporting the {arch} network (parity gate)")
        started = time.monotonic()
        variant = export_variant(
            self.layout,
            arch,
            checkpoint=self.layout.checkpoint(name),
            style_license=self.state.get("license") or DEFAULT_LICENSE,
            complete=complete,
        )
        if name == LITE_STYLE:
            variant["pixel_steps"] = self.checkpoint_step(LITE_PIXEL)
        if arch == "lite":
            variant["start"] = lite_start_text(self.state.get("lite_start") or {})
        self.state["exported"][name] = step
        self.state.setdefault("export_seconds", {})[arch] = round(time.monotonic() - started, 1)
        entry = read_entry(self.layout)
        entry["variants"] = {**(entry.get("variants") or {}), arch: variant}
        self.write_entry(entry, complete=False)
        thumbnail = self.layout.folder / f"{self.layout.name}.jpg"
        write_thumbnail(thumbnail, self.painting.bgr, self.layout.folder / variant["file"])
        self.save()

    def write_entry(self, entry: dict[str, Any], *, complete: bool) -> None:
        state = self.state
        entry |= {
            "aliases": [],
            "title": self.painting.path.name,
            "license": state.get("license") or DEFAULT_LICENSE,
            "card": f"{self.layout.name}.md",
            "thumbnail": f"{self.layout.name}.jpg",
            "learned": {
                "painting": state["painting"],
                "start": state.get("start") or {},
                "photos": (state.get("photos") or {}).get("description", "?"),
                "quality": state["quality"],
                "minutes": state["minutes"],
                "seconds": round(self.clock.now(), 1),
                "device": self.request.device if self.request.device != "auto" else _device_name(),
                "complete": complete,
                "resume_command": resume_command(self.request, self.layout.name),
            },
        }
        write_entry(self.layout, entry)

    def lite_deadlines(self) -> tuple[float, float]:
        """When the pixel stage and the lite network end: the budget less the lite export (about half the
        reference's) and the finish; the pixel stage has ``lite_pixel_share`` of the time from the lite
        network's start (recorded, so that a resumed job keeps the split)."""
        reference_export = float((self.state.get("export_seconds") or {}).get("reference", 60.0))
        end = self.budget - 0.5 * reference_export - FINISH_SECONDS
        if "lite_started" not in self.state:
            self.state["lite_started"] = round(self.clock.now(), 1)
            self.save()
        start = float(self.state["lite_started"])
        return start + self.settings.lite_pixel_share * max(0.0, end - start), end

    def run(self) -> LearnResult:
        self.select()
        self.photos()
        self.preview = self._make_preview()
        self.train(REFERENCE, self.settings.reference_share * self.budget)
        self.publish(REFERENCE, complete=True)
        pixel_end, lite_end = self.lite_deadlines()
        self.train(LITE_PIXEL, pixel_end)
        self.train(LITE_STYLE, lite_end)
        self.publish(self.lite_phase(), complete=True)
        self.progress.stage("writing the model card")
        entry = read_entry(self.layout)
        self.state["spent"] = round(self.clock.now(), 1)
        self.write_entry(entry, complete=True)
        discard_work(self.layout)
        self.progress.close(done=True)
        return self.result(complete=True)

    def result(self, *, complete: bool) -> LearnResult:
        variants = read_entry(self.layout).get("variants") or {}
        return LearnResult(
            name=self.layout.name,
            folder=self.layout.folder,
            models={arch: self.layout.folder / v["file"] for arch, v in variants.items()},
            start=(self.state.get("start") or {}).get("name", ""),
            seconds=self.clock.now(),
            budget_seconds=self.budget,
            complete=complete,
            resumed=int(self.state.get("sessions", 1)) > 1,
            preview=self.layout.preview,
        )

    def keep(self) -> Stopped:
        """After Ctrl-C: export what was trained (a usable model), save the state, say how to continue."""
        self.progress.close(done=False)
        again = resume_command(self.request, self.layout.name)
        try:
            for name, last in ((REFERENCE, REFERENCE), (self.lite_phase(), LITE_STYLE)):
                step = self.checkpoint_step(name)
                if step > 0 and (self.state.get("exported") or {}).get(name) != step:
                    arch = PHASE_ARCH[name]
                    log.warning("stopping: exporting the %s network as it is now (Ctrl-C again to skip)", arch)
                    self.publish(name, complete=bool(self.phase_state(last)["done"]))
        except KeyboardInterrupt:
            self.save()
            return Stopped(f"stopped; the last network was not exported; continue with: {again}", None)
        self.save()
        variants = read_entry(self.layout).get("variants") or {}
        if not variants:
            return Stopped(f"stopped before the first network was trained; continue with: {again}", None)
        kept = ", ".join(f"{arch} at step {v.get('step')}" for arch, v in variants.items())
        return Stopped(
            f"stopped after {self.clock.now() / 60:.1f} min; kept a usable model {self.layout.name!r} ({kept}) in "
            f"{self.layout.folder}; continue with: {again}",
            self.result(complete=False),
        )


def _lite_config(model: Path) -> Any:
    """The network config of a bundled lite ``model``, the one ``--arch lite`` builds with its norm (batch, hybrid
    or instance) and its guide (``--guide``): what the job's lite network is then trained as. Anything else is
    the lite preset, which :func:`write_init_checkpoint` then refuses (ModelLoadError: the lite network learns
    from scratch)."""
    from stylecam.onnxfile import load_onnx_safely, metadata_of
    from stylecam.train.networks.model import ModelConfig

    preset = get_config("lite")
    meta = metadata_of(load_onnx_safely(model, load_external_data=False), source=str(model))
    config = ModelConfig.from_dict(meta.model_config) if meta.model_config else preset
    return config if replace(config, norm=preset.norm, guide=preset.guide) == preset else preset


def lite_start_text(start: dict[str, Any]) -> str:
    """Where the lite network started: ``from the bundled starry_night lite network`` or ``from scratch``."""
    if start.get("from") == "bundled":
        return f"from the bundled {start.get('name', '?')} lite network"
    return "from scratch"


def _device_name() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _disk_full(exc: BaseException, root: Path) -> bool:
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    if isinstance(exc, RuntimeError) and "write" in str(exc).lower():  # torch.save reports ENOSPC this way
        try:
            return shutil.disk_usage(root).free < 16 * 2**20
        except OSError:
            return False
    return False


def _new_state(request: LearnRequest, painting: Painting, name: str, minutes: float) -> dict[str, Any]:
    return {
        "name": name,
        "painting": {"file": painting.path.name, "sha256": painting.sha256, "size": painting.size_text},
        "quality": request.quality,
        "minutes": minutes,
        "data": request.data,
        "license": request.license,
        "sessions": 0,
        "spent": 0.0,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def _upgrade(state: dict[str, Any], layout: Layout) -> None:
    """A job saved before the lite network learned in two stages has one ``lite`` training: it is trained
    again in the new stages (its exported lite network stays usable until then)."""
    if "lite" not in (state.get("phases") or {}):
        return
    log.warning("this job was started by an earlier stylecam: its lite network is distilled again, in two stages")
    del state["phases"]["lite"]
    (state.get("exported") or {}).pop("lite", None)
    layout.checkpoint("lite").unlink(missing_ok=True)
    shutil.rmtree(layout.logs("lite"), ignore_errors=True)


def _check_resumable(state: dict[str, Any], request: LearnRequest, layout: Layout) -> LearnRequest:
    """The request with the unfinished job's quality and data; UsageError when the user asked for others."""
    for field, flag in (("quality", "--quality"), ("data", "--data")):
        given = getattr(request, field)
        if given is not None and given != state.get(field):
            was = f"{flag} {state.get(field)}" if state.get(field) is not None else f"no {flag}"
            raise UsageError(
                f"the unfinished style {layout.name!r} was started with {was}; run it again the same way to "
                "continue, or pass --overwrite to start over"
            )
    return replace(request, quality=state.get("quality"), data=state.get("data"))


def learn(
    request: LearnRequest,
    *,
    settings: LearnSettings | None = None,
    on_step: StepHook | None = None,
) -> LearnResult:
    """Learn ``request.painting`` (see the module doc). ``settings`` overrides the quality preset (tests);
    ``on_step(phase, state, terms, planned_steps)`` is called after every training step (``phase``:
    ``reference``, ``lite-pixel`` or ``lite-style``).

    Raises:
        InputError, UsageError, OutputError: a check failed (nothing was created).
        Stopped: Ctrl-C/SIGTERM; a usable model was kept where one had been trained.
    """
    painting = check_painting(request.painting, allow_grey=request.allow_grey)
    name = style_name(painting.path, request.name)
    refuse_bundled_name(name, explicit=request.name is not None)
    root = Path(request.out).expanduser() if request.out is not None else user_models_dir()
    layout = Layout(root, name)
    saved = existing_job(layout, painting.sha256, overwrite=request.overwrite)
    if saved is not None:
        request = _check_resumable(saved, request, layout)
    quality = request.quality or DEFAULT_QUALITY
    request = replace(request, quality=quality)
    data_kind(request.data)
    check_root(root)
    minutes = request.minutes or (saved or {}).get("minutes") or quality_settings(quality).minutes
    settings = replace(settings or quality_settings(quality), minutes=minutes)
    fresh = saved is None
    if fresh:
        remove_folder(layout.folder)  # only reachable with --overwrite when it exists
    made_root = not root.exists()
    layout.work.mkdir(parents=True, exist_ok=True)
    state = saved or _new_state(request, painting, name, minutes)
    _upgrade(state, layout)
    state.update(minutes=minutes, sessions=int(state.get("sessions", 0)) + 1)
    if request.license is not None:
        state["license"] = request.license
    job = _Job(request, settings, painting, layout, state, on_step)
    try:
        if fresh or not job.painting_copy.is_file():
            shutil.copyfile(painting.path, job.painting_copy)
        job.save()
        if saved is not None:
            log.info("continuing the unfinished style %s (%.1f of %.0f min spent)", name, job.clock.now() / 60, minutes)
        return job.run()
    except KeyboardInterrupt:
        raise job.keep() from None
    except BaseException as exc:
        job.progress.close(done=False)
        if fresh:  # nothing left behind: the style's folder, and the model folder if this job made it
            remove_folder(layout.folder)
            if made_root:
                with contextlib.suppress(OSError):
                    root.rmdir()
        if _disk_full(exc, root):
            raise OutputError(
                f"the disk of {root} filled up while learning; free some space and run the command again"
                + ("" if fresh else f" ({resume_command(request, name)} continues)")
            ) from exc
        raise
