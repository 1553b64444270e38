"""`stylecam train` refuses bad input before training: one line naming the problem, the right exit code."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

torch = pytest.importorskip("torch")

from stylecam.cli import main  # noqa: E402
from stylecam.train.config import RunOptions  # noqa: E402
from stylecam.train.loop.checkpoint import save_checkpoint  # noqa: E402
from stylecam.train.loop.runner import train  # noqa: E402
from stylecam.train.networks.model import ModelConfig, build_model  # noqa: E402

from ..conftest import make_painting  # noqa: E402
from .conftest import write_photos  # noqa: E402

TINY = ModelConfig(arch="tiny-test", channels=(4, 8, 8), residual_blocks=1)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Photos, a painting, a finished 1-step tiny run and a few broken inputs, shared by the table."""
    root = tmp_path_factory.mktemp("world")
    photos = root / "photos"
    write_photos(photos, 4)
    painting = root / "painting.png"
    cv2.imwrite(str(painting), make_painting(128, 128))
    done = root / "done.pt"
    torch.set_num_threads(1)
    options = RunOptions(style=str(painting), data=photos, output=done, sample_every=0, save_every=0, progress=False)
    settings = {"size": 32, "batch_size": 2, "steps": 1, "content_layers": ("relu1_1",), "style_layers": ("relu1_1",)}
    train(options, settings, model_config=TINY)
    examples = root / "examples.pth"  # a pytorch/examples state dict: weights, no training state
    torch.save(build_model("reference").state_dict(), examples)
    plain = root / "plain.pt"
    save_checkpoint(plain, {"model": build_model(TINY).state_dict(), "model_config": TINY.to_dict()})
    (root / "empty").mkdir()
    broken = root / "broken"
    broken.mkdir()
    for name in ("a.jpg", "b.png"):
        (broken / name).write_bytes(b"\xff\xd8\xff\xe0 cut off")
    (root / "notes.png").write_text("not an image")
    (root / "garbage.pt").write_bytes(b"\x00" * 64)
    return {"root": root, "photos": photos, "painting": painting, "done": done, "examples": examples, "plain": plain}


NO_CUDA = not torch.cuda.is_available()
CASES = [
    # (extra argv, exit code, message fragment); {x} is replaced by the fixture path
    (["--arch", "warp"], 2, "unknown architecture 'warp'; choose one of: reference"),
    (["--data", "{root}/missing"], 3, "does not exist"),
    (["--data", "{root}/empty"], 3, "holds no image files"),
    (["--data", "{root}/broken"], 3, "none of the 2 image files"),
    (["--style", "{root}/notes.png"], 3, "cannot be decoded"),
    (["--style", "monet_please"], 3, "bundled style"),
    (["-o", "{root}/no/such/folder/x.pt"], 4, "does not exist"),
    (["-o", "{root}"], 4, "is a folder"),
    (["-o", "{painting}"], 4, "is the input file"),
    (["--size", "30"], 2, "multiple of 4"),
    (["--content-layers", "relu9_1"], 2, "unknown content layer"),
    (["--batch", "5"], 2, "has 4 photos but one step needs 5"),
    (["--resume", "{done}", "--init", "{done}"], 2, "exclude each other"),
    (["--resume", "{done}", "--arch", "reference"], 2, "arch='reference'"),
    (["--resume", "{done}", "--lr", "0.01"], 2, "only --steps/--epochs/--lr-decay may change"),
    (["--resume", "{done}"], 2, "already trained 1 of 1 steps"),
    (["--resume", "{examples}", "--steps", "5"], 5, "--init"),
    (["--resume", "{plain}", "--steps", "5"], 5, "no training state"),
    (["--init", "{root}/garbage.pt"], 5, "corrupt"),
    (["--init", "{done}", "--arch", "reference"], 2, "holds a 'tiny-test' network"),
    (["--sample-every", "-1"], 2, "--sample-every"),
    (["--export", "{root}/model.txt"], 2, "must end in .onnx"),
    (["--export", "{root}/nowhere/model.onnx"], 4, "does not exist"),
    (["--export-fp16"], 2, "needs --export"),
]
if NO_CUDA:
    CASES += [(["--amp", "fp16"], 2, "needs a CUDA GPU"), (["--device", "cuda"], 6, "no CUDA GPU")]


@pytest.mark.parametrize(("extra", "code", "message"), CASES)
def test_bad_input_is_one_line_and_an_exit_code(
    world: dict[str, Path], extra: list[str], code: int, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    base = {"--style": str(world["painting"]), "--data": str(world["photos"]), "-o": str(world["root"] / "new.pt")}
    extra = [arg.format(**world) for arg in extra]
    for flag in list(base):
        if flag in extra or (flag in ("--style", "--data", "-o") and "--resume" in extra):
            base.pop(flag)
    argv = ["train", *(x for pair in base.items() for x in pair), "--size", "32", "--batch", "2", *extra]
    assert main(argv) == code
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]  # info lines may come first; the error is one line, last
    assert last.startswith("stylecam: error: ") and "Traceback" not in err
    assert message in last
    assert not (world["root"] / "new.pt").exists()


@pytest.mark.parametrize("missing", ["--style", "--data", "-o"])
def test_required_options_are_named(world: dict[str, Path], missing: str, capsys) -> None:
    given = {"--style": str(world["painting"]), "--data": str(world["photos"]), "-o": str(world["root"] / "n.pt")}
    given.pop(missing)
    assert main(["train", *(x for pair in given.items() for x in pair)]) == 2
    assert f"{missing if missing != '-o' else '-o/--output'} is required" in capsys.readouterr().err
