"""Output planning: defaults, refusals before work, buffer sizing for huge frames."""

from __future__ import annotations

from pathlib import Path

import pytest

from stylecam.errors import OutputError, UsageError
from stylecam.runtime.pipeline.plan import check_buffer_memory, default_output, plan_output, queue_size_for, unused_path


@pytest.mark.parametrize(
    ("source", "output", "kind", "frames"),
    [
        ("in.mp4", "out.mkv", "video", None),
        ("in.mp4", "still.png", "image", 1),
        ("photo.jpg", "out.png", "image", None),
        ("0", "rec.mp4", "video", None),
        ("rtsp://cam.local/stream", "rec.mp4", "video", None),
    ],
)
def test_output_kind_follows_the_suffix(
    tmp_path: Path, source: str, output: str, kind: str, frames: int | None
) -> None:
    plan = plan_output(source, str(tmp_path / output), style="s", no_window=False, max_frames=None, inputs=[])
    assert (plan.kind, plan.max_frames, plan.path) == (kind, frames, tmp_path / output)


def test_image_source_cannot_make_a_video(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is an image; write an image"):
        plan_output("photo.jpg", str(tmp_path / "out.mp4"), style="s", no_window=False, max_frames=None, inputs=[])


def test_camera_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPLAY", ":0")
    assert plan_output("0", None, style="s", no_window=False, max_frames=None, inputs=[]).kind == "window"
    assert plan_output("0", None, style="s", no_window=True, max_frames=5, inputs=[]).kind == "none"


def test_default_output_sits_beside_the_source_and_never_overwrites(tmp_path: Path) -> None:
    source = tmp_path / "clip.mov"
    assert default_output(source, "starry", "video") == tmp_path / "clip.starry.mp4"
    (tmp_path / "clip.starry.mp4").write_bytes(b"x")
    (tmp_path / "clip.starry-1.mp4").write_bytes(b"x")
    assert default_output(source, "starry", "video") == tmp_path / "clip.starry-2.mp4"
    assert default_output(tmp_path / "p.JPG", "starry", "image") == tmp_path / "p.starry.jpg"
    assert unused_path(tmp_path / "new.png") == tmp_path / "new.png"


def test_default_output_in_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        plan_output(str(tmp_path / "gone" / "in.mp4"), None, style="s", no_window=False, max_frames=None, inputs=[])


@pytest.mark.parametrize(
    ("size", "queue"), [((64, 48), 8), ((1920, 1080), 8), ((3840, 2160), 8), ((7680, 4320), 2), ((15360, 8640), 2)]
)
def test_queues_shrink_for_huge_frames(size: tuple[int, int], queue: int) -> None:
    assert queue_size_for(*size) == queue


def test_buffers_that_cannot_fit_are_refused() -> None:
    check_buffer_memory(7680, 4320, 2, available=16 * 2**30)
    with pytest.raises(UsageError, match=r"frames of 7680x4320 need about 1\.0 GB of buffers .* --max-size"):
        check_buffer_memory(7680, 4320, 2, available=1 * 2**30)
