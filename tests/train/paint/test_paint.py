"""`stylecam paint`: the Gatys quality reference, end to end on tiny synthetic images."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from stylecam.cli import main  # noqa: E402
from stylecam.errors import UsageError  # noqa: E402
from stylecam.train.paint.config import PaintConfig  # noqa: E402
from stylecam.train.paint.optimize import paint  # noqa: E402

from ..conftest import make_painting, make_photo  # noqa: E402


def test_paint_96px_20_steps_changes_the_image_towards_the_style() -> None:
    content, style = make_photo(96, 96), make_painting(96, 96)
    result = paint(content, style, PaintConfig(size=96, steps=20), device="cpu", progress=False)
    assert result.image.shape == (96, 96, 3) and result.image.dtype == np.uint8
    change = np.abs(result.image.astype(np.int16) - content.astype(np.int16)).mean()
    assert change > 8, f"mean pixel change only {change:.1f}"
    styles = [h["style"] for h in result.history]
    assert len(styles) == 20 and styles[-1] < 0.5 * styles[0]


def test_preserve_color_keeps_the_photo_colours() -> None:
    content, style = make_photo(64, 64), make_painting(64, 64)
    plain = paint(content, style, PaintConfig(size=64, steps=15), device="cpu", progress=False).image
    kept = paint(content, style, PaintConfig(size=64, steps=15, preserve_color=True), device="cpu", progress=False)
    chroma = lambda img: cv2.cvtColor(img, cv2.COLOR_BGR2YCrCb)[:, :, 1:].astype(np.float32)  # noqa: E731
    assert np.abs(chroma(kept.image) - chroma(content)).mean() < np.abs(chroma(plain) - chroma(content)).mean()


def test_adam_and_noise_init_run() -> None:
    config = PaintConfig(size=48, steps=5, optimizer="adam", init="noise")
    result = paint(make_photo(48, 48), make_painting(), config, device="cpu", progress=False)
    assert result.image.shape == (48, 48, 3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"size": 4}, "size"), ({"optimizer": "sgd"}, "lbfgs"), ({"steps": 0}, "steps"), ({"init": "x"}, "content")],
)
def test_bad_config_values(kwargs, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        PaintConfig(**kwargs)


def test_cli_writes_the_result(tmp_path: Path, photo_file: Path, painting_file: Path, capsys) -> None:
    out = tmp_path / "out.png"
    code = main(["paint", str(photo_file), str(painting_file), "-o", str(out), "--size", "64", "--steps", "3", "-q"])
    assert code == 0
    assert cv2.imread(str(out)).shape[1] == 64
    assert f"wrote {out}" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png", "painting.jpg", "photo.png"]


@pytest.mark.parametrize(
    ("argv_tail", "message", "code"),
    [
        (["missing.png", "STYLE", "-o", "OUT/x.png"], "does not exist", 3),
        (["CONTENT", "STYLE", "-o", "OUT/nofolder/x.png"], "does not exist", 4),
        (["CONTENT", "STYLE", "-o", "CONTENT"], "is the input", 4),
        (["CONTENT", "STYLE", "-o", "OUT/x.gif"], "cannot write images", 2),
        (["CONTENT", "STYLE", "-o", "OUT/x.png", "--size", "3"], "size", 2),
        (["CONTENT", "STYLE", "-o", "OUT/x.png", "--device", "tpu"], "unknown device", 2),
    ],
)
def test_cli_errors_are_one_line_and_leave_nothing(
    tmp_path: Path, photo_file: Path, painting_file: Path, capsys, argv_tail, message, code
) -> None:
    before = photo_file.read_bytes()
    subst = {"CONTENT": str(photo_file), "STYLE": str(painting_file), "OUT": str(tmp_path)}
    argv = ["paint"] + [next((a.replace(k, v) for k, v in subst.items() if k in a), a) for a in argv_tail]
    assert main([*argv, "--steps", "1"]) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("stylecam: error:") and message in err
    assert "Traceback" not in err
    assert photo_file.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["painting.jpg", "photo.png"]


def test_cli_bad_style_file(tmp_path: Path, photo_file: Path, capsys) -> None:
    style = tmp_path / "style.jpg"
    style.write_text("I am text")
    assert main(["paint", str(photo_file), str(style), "-o", str(tmp_path / "o.png"), "--steps", "1"]) == 3
    assert "cannot be decoded" in capsys.readouterr().err
