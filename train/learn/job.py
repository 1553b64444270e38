"""``learn()``: one painting to a ready-to-run style within a time budget (the library entry of ``stylecam learn``).

Stages, each recorded in the job's state so that running the same job again continues it:

1. check the painting, the name and the folder (nothing is created when a check fails);
2. pick the closest bundled style and rebuild its reference network as the starting checkpoint;
3. prepare the training photos;
4. fine-tune the reference network on the painting until ``reference_share`` of the budget;
5. export it (parity gate), write the catalog, card and thumbnail: from here ``--model NAME`` works;
6. distil the lite network from it (cached teacher outputs) until the budget, less the final export;
7. export the lite network, finish the catalog and card, delete the work folder.

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

from stylecam.errors import OutputError, UsageError
from stylecam.runtime.inference.models import user_models_dir
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

log = logging.getLogger(__name__)

FINISH_SECONDS = 10.0  # card, thumbnail and clean-up after the last export
DEFAULT_LICENSE = "not recorded (the user's own painting)"


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

    def phase_state(self, arch: str) -> dict[str, Any]:
        return self.state.setdefault("phases", {}).setdefault(arch, {"step": 0, "done": False})

    def checkpoint_step(self, arch: str) -> int:
        path = self.layout.checkpoint(arch)
        return int(load_checkpoint(path).get("step") or 0) if path.is_file() else 0

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

    def _make_preview(self) -> Preview:
        from stylecam.train.data import decode, list_images

        files = list_images(self.layout.photos)
        chosen = [files[0], files[len(files) // 2]] if len(files) > 1 else files  # two different scenes, likely
        photos = [image for image in (decode(p) for p in chosen) if image is not None]
        return Preview(self.layout.preview, self.painting.bgr, photos, seconds=self.settings.preview_seconds)

    def _hook(self, arch: str, state: Any, terms: Any, planned: int) -> None:
        label = "fine-tuning the reference network" if arch == "reference" else "distilling the lite network"
        loss = f"style {float(terms.style):.3g}" if arch == "reference" else f"distill {float(terms.distill):.3g}"
        self.progress.stage(f"{label}: step {state.step}/{planned}, {loss}")
        self.phase_state(arch)["step"] = state.step
        if self.preview is not None and self.preview.due():
            self.preview.write(state.model, f"{arch} step {state.step}")
        if self.user_hook is not None:
            self.user_hook(arch, state, terms, planned)

    def _options(self, arch: str, **extra: Any) -> RunOptions:
        return RunOptions(
            style=str(self.painting_copy),
            data=self.layout.photos,
            output=self.layout.checkpoint(arch),
            style_name=self.layout.name,
            style_license=self.state.get("license") or DEFAULT_LICENSE,
            log_dir=self.layout.logs(arch),
            device=self.request.device,
            sample_every=0,
            progress=False,
            **extra,
        )

    def _phase(self, arch: str) -> Phase:
        s = self.settings
        if arch == "reference":
            options = self._options(arch, init=self.layout.init, save_every=s.save_every)
            settings = {"size": s.crop, "batch_size": s.batch, "learning_rate": s.learning_rate}
            settings["style_size"] = s.style_size
            decay = s.lr_decay
        else:
            teacher = self.layout.checkpoint("reference")
            cache = self.layout.teacher_cache
            options = self._options(arch, teacher=teacher, teacher_cache=cache, save_every=s.lite_save_every)
            settings = {"arch": "lite", "size": s.lite_crop, "batch_size": s.lite_batch}
            settings |= {"learning_rate": s.lite_learning_rate, "style_size": s.style_size}
            settings["temporal_weight"] = s.temporal_weight
            decay = s.lite_lr_decay
        calibration = s.calibration_steps if arch == "reference" else s.lite_calibration_steps
        return Phase(arch, options, settings, decay, calibration, s.min_steps, s.max_steps)

    def train(self, arch: str, deadline: float) -> None:
        phase = self.phase_state(arch)
        if phase["done"]:
            return
        self.progress.stage("fine-tuning the reference network" if arch == "reference" else "painting teacher targets")
        runner = PhaseRunner(self._phase(arch), self.clock, step=self.checkpoint_step(arch), on_step=self._hook)
        runner.run(deadline)
        phase.update(step=runner.step, done=True)
        if self.preview is not None:
            self.preview.write(self._final_model(arch), f"{arch} step {runner.step}")
        self.save()

    def _final_model(self, arch: str) -> Any:
        from stylecam.train.loop.checkpoint import load_model

        return load_model(self.layout.checkpoint(arch))[0]

    def publish(self, arch: str, *, complete: bool) -> None:
        """Export ``arch`` and rewrite the catalog and card (skipped when that step is already out)."""
        step = self.checkpoint_step(arch)
        if step == 0 or self.state.setdefault("exported", {}).get(arch) == step:
            return
        self.progress.stage(f"exporting the {arch} network (parity gate)")
        started = time.monotonic()
        variant = export_variant(
            self.layout, arch, style_license=self.state.get("license") or DEFAULT_LICENSE, complete=complete
        )
        self.state["exported"][arch] = step
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

    def lite_deadline(self) -> float:
        """The budget less the lite export (about half the reference's) and the finish."""
        reference_export = float((self.state.get("export_seconds") or {}).get("reference", 60.0))
        return self.budget - 0.5 * reference_export - FINISH_SECONDS

    def run(self) -> LearnResult:
        self.select()
        self.photos()
        self.preview = self._make_preview()
        self.train("reference", self.settings.reference_share * self.budget)
        self.publish("reference", complete=True)
        self.train("lite", self.lite_deadline())
        self.publish("lite", complete=True)
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
            for arch in ("reference", "lite"):
                step = self.checkpoint_step(arch)
                if step > 0 and (self.state.get("exported") or {}).get(arch) != step:
                    log.warning("stopping: exporting the %s network as it is now (Ctrl-C again to skip)", arch)
                    self.publish(arch, complete=bool(self.phase_state(arch)["done"]))
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
    ``on_step(arch, state, terms, planned_steps)`` is called after every training step.

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
