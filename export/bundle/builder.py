"""Package a trained checkpoint as a bundled style: export with the parity gate, figures, card, catalog.

For one checkpoint of a bundled public-domain painting (:data:`stylecam.paintings.PAINTINGS`):
``stylecam export --fp16`` (fp32 where that runs faster: :func:`export_precision`; the gate must pass),
the style loss on the bundled photos and the warping error on a clip (:mod:`stylecam.export.bundle.measure`),
a thumbnail (painting | stylized photo), then the model, its parity report, the catalog entry and the model
card are written into the bundle folder. Re-running on the same checkpoint changes nothing but the card text; the
variant (reference, lite, fast) comes from the checkpoint's architecture.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stylecam.atomic import atomic_output
from stylecam.errors import UsageError, VerificationError
from stylecam.export.bundle.catalog import set_variant, style_entry, variant_file, write_catalog
from stylecam.export.bundle.measure import ClipSettings, measure_style
from stylecam.export.bundle.model_card import render_model_card
from stylecam.export.bundle.record import training_record
from stylecam.paintings import PAINTINGS, Painting
from stylecam.runtime.inference.catalog import file_sha256
from stylecam.runtime.inference.models import read_catalog

log = logging.getLogger(__name__)

MAX_MODEL_BYTES = 8 * 2**20  # the wheel carries seven of these
THUMB_HEIGHT = 144
CPU_NOTE = "a 2-core x86_64 CPU shared with other work (no GPU)"


@dataclass(frozen=True)
class PackageSettings:
    """Where the bundle goes and what to measure."""

    dest: Path
    photos: tuple[Path, ...]
    clip: ClipSettings | None = None
    trained_on: str = CPU_NOTE
    gpu_owed: bool = True
    force: bool = False  # export and measure again even if the catalog already has this checkpoint


@dataclass(frozen=True)
class PackageResult:
    """What happened to one checkpoint."""

    checkpoint: Path
    style: str
    arch: str
    status: str  # "packaged", "up to date" or "skipped: <why>"


def painting_image(name: str) -> Path:
    """The bundled thumbnail of the painting (``stylecam/assets/styles/<name>.jpg``)."""
    import stylecam

    return Path(stylecam.__file__).resolve().parent / "assets" / "styles" / f"{name}.jpg"


def bundled_painting(data: dict[str, Any], checkpoint: Path) -> Painting:
    """The public-domain painting the checkpoint was trained on; UsageError for any other style."""
    name = str((data.get("style") or {}).get("name") or "")
    if name not in PAINTINGS:
        raise UsageError(
            f"{checkpoint} was trained on style {name or '(unnamed)'!r}; only the bundled public-domain paintings "
            f"may ship ({', '.join(PAINTINGS)}); train with --style-name set to one of them"
        )
    return PAINTINGS[name]


def _up_to_date(dest: Path, old: dict[str, Any] | None, digest: str) -> bool:
    if not old or old.get("checkpoint_sha256") != digest:
        return False
    model = dest / str(old.get("file", ""))
    return model.is_file() and file_sha256(model) == old.get("sha256") and (dest / str(old.get("parity"))).is_file()


def _gate_figures(report: Any) -> dict[str, Any]:
    bars = {c.check: c.bar_db for c in report.comparisons}
    sizes = sorted({tuple(c.shape[:3]) for c in report.comparisons}, key=lambda s: (-s[1] * s[2], s))
    low = {k: "inf" if v == float("inf") else round(v, 2) for k, v in report.min_psnr().items()}
    return {
        "passed": report.passed,
        "min_psnr_db": low,
        "bars_db": bars,
        "providers": list(report.providers),
        "sizes": ["x".join(map(str, s)) for s in sizes],
    }


def _write_thumbnail(target: Path, painting: Path, stylized: Any) -> None:
    from stylecam.images import read_image
    from stylecam.sheets import grid, write_jpeg

    write_jpeg(target, grid([[read_image(painting).bgr, stylized]], height=THUMB_HEIGHT), quality=82)


def export_precision(arch: str, norm: str | None) -> str:
    """The precision a network of ``arch`` with ``norm`` ships in: fp16, except a compact network with instance
    norm (``hybrid``, ``instance``), which ships in fp32.

    Its instance norms stay in fp32 in an fp16 export, each between two Casts, and on ONNX Runtime's CPU
    provider (the lite networks' target) those cost more than fp16 saves: the hybrid lite great_wave at
    640x360 on a 2-core AMD EPYC ran 12.6 ms p50 in fp16 and 9.4 ms in fp32, as fast as the batch-norm lite
    network in fp16 (9.3 ms), measured side by side (docs/models.md).
    """
    return "fp32" if arch != "reference" and norm in ("instance", "hybrid") else "fp16"


def _export_and_measure(
    checkpoint: Path, painting: Painting, arch: str, precision: str, settings: PackageSettings, scratch: Path
) -> tuple[dict[str, Any], Any]:
    from stylecam.export.onnx import export_checkpoint

    model = scratch / variant_file(painting.name, arch)
    result = export_checkpoint(checkpoint, model, fp16=precision == "fp16", style_license=painting.status)
    size = model.stat().st_size
    if size > MAX_MODEL_BYTES:
        raise VerificationError(f"{model.name} is {size / 2**20:.1f} MB; bundled models must stay under 8 MB")
    measured, stylized = measure_style(model, painting_image(painting.name), list(settings.photos), settings.clip)
    figures = {"size_bytes": size, "opset": result.metadata.opset, "gate": _gate_figures(result.report), **measured}
    return figures, next(iter(stylized.values()))[1]


def _publish(scratch: Path, dest: Path, names: list[str]) -> None:
    for name in names:  # same filesystem as dest (the scratch folder is inside it): a rename each
        os.replace(scratch / name, dest / name)


def write_card(dest: Path, painting: Painting, entry: dict[str, Any]) -> Path:
    target = dest / entry["card"]
    with atomic_output(target) as tmp:
        tmp.write_text(render_model_card(painting, entry), encoding="utf-8")
    return target


def _refreshed(old: dict[str, Any], checkpoint: Path, data: dict[str, Any], name: str) -> dict[str, Any]:
    """The training record read again from the checkpoint (what it can tell may have grown, e.g. the
    earlier runs of its ``--init`` chain); what the old record knew and this reading cannot is kept."""
    before = old.get("training") or {}
    record = training_record(checkpoint, data, output_name=f"{name}.pt")
    for key in ("wall_seconds", "earlier"):
        if not record.get(key) and before.get(key):
            record[key] = before[key]
    return record


def package_checkpoint(checkpoint: Path, settings: PackageSettings) -> PackageResult:
    """Package one checkpoint into ``settings.dest`` (see the module doc)."""
    from stylecam.train.loop.checkpoint import load_checkpoint

    data = load_checkpoint(checkpoint)
    painting = bundled_painting(data, checkpoint)
    arch = str(data.get("arch") or (data.get("model_config") or {}).get("arch") or "reference")
    if not data.get("complete"):
        steps = (data.get("train_config") or {}).get("steps", "?")
        why = f"skipped: training has not finished (step {data.get('step', '?')} of {steps})"
        return PackageResult(checkpoint, painting.name, arch, why)
    dest = settings.dest
    digest = file_sha256(checkpoint)
    models = read_catalog(dest)
    old = ((models.get(painting.name) or {}).get("variants") or {}).get(arch)
    if _up_to_date(dest, old, digest) and not settings.force:
        variants = dict(models[painting.name]["variants"])
        variants[arch] = {**variants[arch], "training": _refreshed(old or {}, checkpoint, data, painting.name)}
        entry = style_entry(painting, variants)  # credits may have been edited
        models[painting.name] = entry
        write_catalog(dest, models)
        write_card(dest, painting, entry)
        return PackageResult(checkpoint, painting.name, arch, "up to date")
    file = variant_file(painting.name, arch)
    parity = f"{Path(file).stem}.parity.json"
    with tempfile.TemporaryDirectory(prefix=".package-", dir=dest) as scratch:
        precision = export_precision(arch, (data.get("model_config") or {}).get("norm"))
        figures, sample = _export_and_measure(checkpoint, painting, arch, precision, settings, Path(scratch))
        _publish(Path(scratch), dest, [file, parity])
    variant = {
        "file": file,
        "sha256": file_sha256(dest / file),
        "precision": precision,
        "parity": parity,
        **figures,
        "checkpoint_sha256": digest,
        "training": training_record(checkpoint, data, output_name=f"{painting.name}.pt"),
        "trained_on": settings.trained_on,
        "gpu_owed": settings.gpu_owed,
    }
    entry = set_variant(dest, painting, arch, variant)
    if arch == "reference" or not (dest / entry["thumbnail"]).is_file():
        _write_thumbnail(dest / entry["thumbnail"], painting_image(painting.name), sample)
    write_card(dest, painting, entry)
    log.info("%s (%s): packaged %s", painting.name, arch, file)
    return PackageResult(checkpoint, painting.name, arch, "packaged")
