"""tools/package_styles.py: tiny checkpoints -> a bundle the runtime accepts (catalog, cards, parity, figures)."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import cv2
import pytest

from stylecam.export.bundle.catalog import style_entry, variant_file
from stylecam.export.bundle.model_card import _earlier, render_model_card
from stylecam.export.bundle.record import earlier_stages, train_command
from stylecam.paintings import PAINTINGS
from stylecam.runtime.inference.catalog import catalog_problems, style_entries
from stylecam.runtime.inference.models import read_catalog, resolve_model
from stylecam.train.loop.checkpoint import save_checkpoint
from tests.conftest import make_photo
from tests.export.conftest import tiny_net
from tests.runtime.clips import write_clip
from tests.runtime.synthetic_clip import make_clip

ROOT = Path(__file__).resolve().parents[3]


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("package_styles", ROOT / "tools" / "package_styles.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _checkpoint(path: Path, style: str, *, complete: bool = True, step: int = 30) -> Path:
    net = tiny_net()
    return save_checkpoint(
        path,
        {
            "model": net.state_dict(),
            "model_config": net.config.to_dict(),
            "arch": net.config.arch,
            "train_config": {"arch": "reference", "size": 64, "batch_size": 2, "steps": 30, "style_weight": 1e5},
            "step": step,
            "images_seen": 2 * step,
            "style": {"name": style, "sha256": "ab" * 32, "license": "", "source": f"/data/styles/{style}.jpg"},
            "data": {"root": "/data/train", "images": 9},
            "init": {"checkpoint": "/models/starry_night.pt", "style": "starry_night"},
            "losses": {"content": 1.5, "style": 2.5},
            "complete": complete,
        },
    )


@dataclass(frozen=True)
class Packaged:
    models: Path
    dest: Path
    code: int
    out: str


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Packaged:
    """The tool run once over a finished, an unfinished and an unmarked checkpoint."""
    root = tmp_path_factory.mktemp("package")
    models, dest = root / "checkpoints", root / "bundle"
    models.mkdir()
    dest.mkdir()
    _checkpoint(models / "starry_night.pt", "starry_night")
    (models / "starry_night.done").touch()
    _checkpoint(models / "great_wave.pt", "great_wave", complete=False, step=10)
    (models / "great_wave.done").touch()
    _checkpoint(models / "the_scream.pt", "the_scream")  # finished but no .done marker yet
    moving = make_clip(48, 64, 6)  # continuous motion: the warping error needs trackable frame pairs
    clip = write_clip(root / "clip.mp4", width=64, height=48, frames=6, painter=lambda h, w, i: moving[i].source)
    photo = root / "photo.jpg"
    cv2.imwrite(str(photo), make_photo(48, 64))
    tool = _tool()
    tool.PHOTOS = root  # the bundled 512 px photos cost seconds of VGG on a CPU; one tiny photo instead
    argv = ["--models", str(models), "--dest", str(dest), "--clip", str(clip), "--frames", "5", "--require-done"]
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), _logging_restored():
        code = tool.main([*argv, "-q"])
    return Packaged(models, dest, code, buffer.getvalue())


@contextlib.contextmanager
def _logging_restored() -> Iterator[None]:
    """The tool sets the stylecam logger's level (it owns its process); other tests' caplog needs it back."""
    logger = logging.getLogger("stylecam")
    level = logger.level
    try:
        yield
    finally:
        logger.setLevel(level)


def test_finished_checkpoints_are_packaged_others_skipped(packaged: Packaged) -> None:
    assert packaged.code == 0
    lines = packaged.out.splitlines()
    assert "starry_night.pt: starry_night (reference): packaged" in lines
    assert "great_wave.pt: great_wave (reference): skipped: training has not finished (step 10 of 30)" in lines
    assert "the_scream.pt: skipped: no the_scream.done yet" in lines
    assert sorted(p.name for p in packaged.dest.iterdir()) == [
        "catalog.json",
        "starry_night.jpg",
        "starry_night.md",
        "starry_night.onnx",
        "starry_night.parity.json",
    ]


def test_the_runtime_accepts_the_bundle(packaged: Packaged) -> None:
    assert catalog_problems(packaged.dest) == []
    assert resolve_model("starry", folder=packaged.dest) == packaged.dest / "starry_night.onnx"
    (entry,) = style_entries(packaged.dest)
    assert entry.precision == "fp16" and entry.parity_passed is True
    assert entry.parity_min_db["fp16 vs fp32 onnxruntime"] >= 40.0


def test_catalog_entry_records_credits_figures_and_recipe(packaged: Packaged) -> None:
    entry = read_catalog(packaged.dest)["starry_night"]
    painting = PAINTINGS["starry_night"]
    assert (entry["title"], entry["artist"], entry["year"]) == (painting.title, painting.artist, painting.year)
    assert entry["aliases"] == list(painting.aliases) and entry["license"] == painting.status
    variant = entry["variants"]["reference"]
    assert variant["size_bytes"] == (packaged.dest / "starry_night.onnx").stat().st_size
    assert variant["gate"]["passed"] is True and variant["gpu_owed"] is True
    assert set(variant["photos"]) == {"photo"} and variant["photos"]["photo"]["style"] > 0
    clip = variant["clip"]
    assert clip["clip"] == "clip.mp4" and clip["frames"] == 5 and set(clip["modes"]) == {"none", "flow"}
    assert clip["modes"]["flow"]["warp_error"] >= 0
    training = variant["training"]
    assert training["step"] == 30 and training["init"] == "starry_night" and training["wall_seconds"] is None
    report = json.loads((packaged.dest / "starry_night.parity.json").read_text())
    assert report["sha256"] == variant["sha256"] and report["passed"] is True


def test_card_is_the_catalog_rendered(packaged: Packaged) -> None:
    entry = read_catalog(packaged.dest)["starry_night"]
    card = (packaged.dest / "starry_night.md").read_text()
    assert card == render_model_card(PAINTINGS["starry_night"], entry)
    for text in ("Vincent van Gogh", "public domain", "GPU training is still owed", "fp16 vs fp32 onnxruntime"):
        assert text in card
    assert "--steps 30" in card and "--init models/starry_night.pt" in card and "clip.mp4" in card
    # the --init checkpoint was not on disk when packaged: the card says its schedule is not recorded
    assert "`models/starry_night.pt`: not recorded" in card


def test_rerun_is_idempotent_and_refuses_foreign_styles(packaged: Packaged, capsys) -> None:
    model = packaged.dest / "starry_night.onnx"
    before = (model.stat().st_mtime_ns, model.read_bytes())
    _checkpoint(packaged.models / "la_muse.pt", "la_muse")  # a copyrighted painting: must never ship
    argv = ["--models", str(packaged.models), "--dest", str(packaged.dest), "--only", "starry_night", "la_muse"]
    with _logging_restored():
        code = _tool().main([*argv, "-q"])
    captured = capsys.readouterr()
    assert code == 1
    assert "starry_night.pt: starry_night (reference): up to date" in captured.out
    assert "la_muse.pt: FAILED: " in captured.err and "only the bundled public-domain paintings" in captured.err
    assert (model.stat().st_mtime_ns, model.read_bytes()) == before
    assert not (packaged.dest / "la_muse.onnx").exists()


@pytest.mark.parametrize(("arch", "file"), [("reference", "udnie.onnx"), ("lite", "udnie.lite.onnx")])
def test_variant_files(arch: str, file: str) -> None:
    assert variant_file("udnie", arch) == file


def test_train_command_lists_what_differs_from_the_defaults() -> None:
    data = {
        "train_config": {
            "size": 128,
            "batch_size": 4,
            "steps": 200,
            "style_weight": 3e5,
            "content_layers": ["relu2_2"],
        },
        "style": {"name": "udnie", "source": "/work/shared/data/styles/udnie.jpg"},
        "data": {"root": "/work/shared/data/train"},
        "init": {"checkpoint": "/work/models/starry_night.pt"},
    }
    assert train_command(data, output="udnie.pt") == (
        "stylecam train --style styles/udnie.jpg --style-name udnie --data train -o udnie.pt "
        "--size 128 --batch 4 --steps 200 --init starry_night.pt"
    )


def test_every_training_setting_has_its_flag_in_the_card_command_and_the_cli() -> None:
    """A setting added to TrainConfig without a flag here would vanish from the model card's command."""
    from dataclasses import fields

    from stylecam.export.bundle.record import FLAGS
    from stylecam.train.cli import _SETTINGS
    from stylecam.train.config import TrainConfig

    settings = {f.name for f in fields(TrainConfig)} - {"teacher_sha256"}  # --teacher is a path, named apart
    assert set(FLAGS) == settings
    assert set(_SETTINGS.values()) == settings
    assert {flag.removeprefix("--").replace("-", "_") for flag in FLAGS.values()} == set(_SETTINGS)


def test_train_command_names_the_gram_distillation_weight() -> None:
    data = {"train_config": {"distill_gram_weight": 0.5}, "style": {"name": "udnie", "source": "udnie.jpg"}}
    assert "--distill-gram-weight 0.5" in train_command(data, output="udnie.pt")


def test_variants_are_listed_reference_first() -> None:
    entry = style_entry(PAINTINGS["udnie"], {"x9": {}, "lite": {}, "fast": {}, "reference": {}})
    assert list(entry["variants"]) == ["reference", "lite", "fast", "x9"]


def test_a_start_that_is_no_training_run_says_what_it_is_and_keeps_the_chain_behind_it(tmp_path: Path) -> None:
    from stylecam.train.loop.checkpoint import load_checkpoint
    from stylecam.train.loop.lineage import init_record

    net = tiny_net()
    weights = {"model": net.state_dict(), "model_config": net.config.to_dict()}
    origin = "the network of bundled model udnie.lite.onnx (sha256 0123456789abcdef), rebuilt from the file"
    rebuilt = save_checkpoint(tmp_path / "udnie.lite.pt", {**weights, "origin": origin})
    trained = tmp_path / "trained.pt"
    _checkpoint(trained, "udnie")  # a training run (its own --init file is not on disk)
    converted = save_checkpoint(
        tmp_path / "converted.pt",
        {**weights, "origin": "its weights in another layout", "init": init_record(trained, load_checkpoint(trained))},
    )
    for start, stages in (
        (rebuilt, [("udnie.lite.pt", origin)]),
        (
            converted,
            [("starry_night.pt", None), ("trained.pt", None), ("converted.pt", "its weights in another layout")],
        ),
    ):
        found = earlier_stages({"init": {"checkpoint": str(start), "style": "udnie"}})
        assert [(Path(st["checkpoint"]).name, st.get("origin")) for st in found] == stages
        assert (found[-2]["command"] or "").startswith("stylecam train") if len(found) > 1 else True
        card = "\n".join(_earlier(found, None))
        assert f"`{Path(start).parent.name}/{Path(start).name}`: no training run: {stages[-1][1]}" in card

    # recorded when the run started, before the converted file said where it came from: read from the file now
    recorded = {
        "checkpoint": "hy.pt",
        "style": "udnie",
        "stages": [{"checkpoint": str(converted), "train_config": None}],
    }
    found = earlier_stages({"init": recorded})
    assert [Path(st["checkpoint"]).name for st in found] == ["starry_night.pt", "trained.pt", "converted.pt"]

    rebuilt.unlink()  # gone when packaged: nothing to say but its name
    (stage,) = earlier_stages({"init": {"checkpoint": str(rebuilt), "style": "udnie"}})
    assert "origin" not in stage and "not recorded" in "\n".join(_earlier([stage], None))


@pytest.mark.parametrize(
    ("config", "precision"),
    [
        ({"arch": "reference", "norm": "instance"}, "fp16"),  # its norms' fp32 islands are worth it on GPUs too
        ({"arch": "lite", "norm": "batch"}, "fp16"),  # folded into the convs: no norm op left
        ({"arch": "lite", "norm": "hybrid"}, "fp32"),  # Cast pairs around every norm cost more than fp16 saves
        ({"arch": "fast", "norm": "instance"}, "fp32"),
    ],
)
def test_export_precision(config: dict[str, str], precision: str) -> None:
    from stylecam.export.bundle.builder import export_precision

    assert export_precision(config["arch"], config["norm"]) == precision


def test_an_fp32_variant_card_names_the_export_it_passed() -> None:
    from stylecam.export.bundle.model_card import _gate

    gate = {"providers": ["CPUExecutionProvider"], "min_psnr_db": {"fp32 onnxruntime vs torch": 90.0}, "sizes": []}
    assert "`stylecam export` passed the gate" in "\n".join(_gate({"precision": "fp32", "gate": gate}))
    assert "`stylecam export --fp16` passed the gate" in "\n".join(_gate({"precision": "fp16", "gate": gate}))


def test_train_command_of_a_distillation_names_the_painting_weights_it_used() -> None:
    """--teacher turns the painting's losses off: a weight equal to the plain default was asked for."""
    data = {
        "train_config": {"content_weight": 1.0, "style_weight": 1.0, "distill_pixel_weight": 1200.0},
        "style": {"name": "udnie", "source": "udnie.jpg"},
        "teacher": {"name": "udnie.onnx"},
    }
    command = train_command(data, output="udnie.pt")
    assert "--content-weight 1 " in command and "--style-weight 1 " in command
    off = {"train_config": {"content_weight": 0.0, "style_weight": 0.0}, "style": {"name": "u", "source": "u.jpg"}}
    off["teacher"] = {"name": "udnie.onnx"}
    assert "weight" not in train_command(off, output="u.pt")
    # without a teacher the defaults stay unsaid
    plain = {"train_config": {"content_weight": 1.0}, "style": {"name": "u", "source": "u.jpg"}}
    assert "--content-weight" not in train_command(plain, output="u.pt")
