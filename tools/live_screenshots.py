"""Screenshots for docs/live.md: the live window under a virtual X server, and the serve page in headless Chromium.

Needs Debian's xvfb, x11-utils, xdotool, imagemagick and chromium (apt-get install -y xvfb x11-utils
xdotool imagemagick chromium) and the dev extra (playwright, never a downloaded browser):

    python tools/live_screenshots.py docs/images

The "camera" is a slow pan over the bundled chelsea photo: an image sequence for the window, and a
.y4m file Chromium's fake capture device plays for the page.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT / "stylecam" / "assets" / "photos" / "chelsea.jpg"
DISPLAY = ":97"
SCREEN = (1280, 800)
STYLECAM = [sys.executable, "-m", "stylecam"]


def pan_frames(width: int, height: int, count: int) -> list[np.ndarray]:
    photo = cv2.imread(str(PHOTO))
    big = cv2.resize(photo, None, fx=width / photo.shape[1] * 1.15, fy=width / photo.shape[1] * 1.15)
    span_x, span_y = big.shape[1] - width, max(0, big.shape[0] - height)
    return [
        big[span_y // 2 : span_y // 2 + height, i * span_x // count : i * span_x // count + width] for i in range(count)
    ]


def write_y4m(path: Path, frames: list[np.ndarray], fps: int = 15) -> None:
    height, width = frames[0].shape[:2]
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            out.write(b"FRAME\n" + cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())


def x(*command: str) -> str:
    return subprocess.run(command, env={**os.environ, "DISPLAY": DISPLAY}, capture_output=True, text=True).stdout


def grab_window(window: str, target: Path) -> None:
    info = x("xwininfo", "-id", window)
    left, top = (int(re.search(rf"Absolute upper-left {axis}:\s+(\d+)", info).group(1)) for axis in "XY")
    width, height = (int(re.search(rf"{name}:\s+(\d+)", info).group(1)) for name in ("Width", "Height"))
    # JPEG, quality 85: a tenth of the PNG's size for a painted photo.
    x("import", "-window", "root", "-crop", f"{width}x{height}+{left}+{top}", "+repage", "-quality", "85", str(target))
    print("wrote", target)


def window_shots(out: Path, work: Path) -> None:
    frames = work / "frames"
    frames.mkdir()
    for index, frame in enumerate(pan_frames(1280, 854, 40)):
        cv2.imwrite(str(frames / f"{index:03d}.png"), frame)
    xvfb = subprocess.Popen(["Xvfb", DISPLAY, "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24"])
    env = {**os.environ, "DISPLAY": DISPLAY}
    live = None
    try:
        time.sleep(1)
        command = [*STYLECAM, "live", "--model", "starry_night", "--source", str(frames), "--fps", "2"]
        live = subprocess.Popen([*command, "--scale", "0.4", "--smooth", "none", "-q"], env=env)
        window = ""
        for _ in range(120):
            window = next(iter(x("xdotool", "search", "--name", "stylecam").split()), "")
            if window:
                break
            time.sleep(0.5)
        time.sleep(8)
        grab_window(window, out / "live_window.jpg")
        x("xdotool", "key", "--window", window, "o")
        time.sleep(6)
        grab_window(window, out / "live_split.jpg")
        x("xdotool", "key", "--window", window, "o", "o", "h")
        time.sleep(6)
        grab_window(window, out / "live_help.jpg")
        x("xdotool", "key", "--window", window, "q")
        live.wait(30)
    finally:
        if live is not None and live.poll() is None:
            live.kill()
        xvfb.send_signal(signal.SIGTERM)
        xvfb.wait(10)


def page_shot(out: Path, work: Path) -> None:
    from playwright.sync_api import sync_playwright

    from tests.runtime.serve.test_browser import CHROMIUM, CHROMIUM_FLAGS

    camera = work / "camera.y4m"
    write_y4m(camera, pan_frames(640, 480, 150))
    serve = subprocess.Popen(
        [*STYLECAM, "serve", "--model", "starry_night", "--model", "great_wave", "--model", "udnie", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert serve.stdout is not None
        url = ""
        while not url:
            match = re.search(r"open (\S+) in a browser", serve.stdout.readline())
            url = match.group(1) if match else ""
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch_persistent_context(
                str(work / "profile"),
                executable_path=CHROMIUM,
                headless=True,
                args=[*CHROMIUM_FLAGS, f"--use-file-for-fake-video-capture={camera}"],
                viewport={"width": 1180, "height": 760},
            )
            page = browser.new_page()
            page.goto(url)
            page.wait_for_function(
                "() => Number(document.getElementById('frames-shown').textContent) >= 4", timeout=120_000
            )
            page.screenshot(path=str(out / "serve_page.jpg"), quality=85, type="jpeg")
            print("wrote", out / "serve_page.jpg")
            browser.close()
    finally:
        serve.send_signal(signal.SIGINT)
        serve.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, nargs="?", default=ROOT / "docs" / "images")
    parser.add_argument("--only", choices=("window", "page"))
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as work:
        if args.only != "page":
            window_shots(args.out, Path(work))
        if args.only != "window":
            page_shot(args.out, Path(work))


if __name__ == "__main__":
    main()
