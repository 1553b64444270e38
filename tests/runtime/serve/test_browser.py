"""`stylecam serve` in a real browser: Debian's headless Chromium with its fake camera, driven by Playwright.

The page gets the fake camera, sends frames, and shows what comes back (the page's own frame
counter, and the server's counters, both rise); switching the style in the page changes what the
server runs and what the page shows. A screenshot is kept (in ``STYLECAM_SCREENSHOT_DIR`` when set).
Skipped only when no Chromium is installed (``make test`` installs Debian's on a Debian CI machine).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from stylecam.runtime.serve.server import StyleServer

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM = next((found for name in CHROMIUM_CANDIDATES if (found := shutil.which(name))), None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium found (Debian: apt-get install -y chromium; `make test` does it as root)"
)
CHROMIUM_FLAGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",  # a synthetic camera ...
    "--use-fake-ui-for-media-stream",  # ... granted without the permission prompt
]
FRAMES_SHOWN = "Number(document.getElementById('frames-shown').textContent)"
# Mean brightness of what the page shows, and of the camera frame it last sent.
MEANS = """() => {
  const mean = (canvas) => {
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let sum = 0;
    for (let i = 0; i < data.length; i += 4) sum += data[i] + data[i + 1] + data[i + 2];
    return sum / (data.length / 4) / 3;
  };
  return [mean(document.getElementById('output')), mean(document.getElementById('grab'))];
}"""


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _client(server: StyleServer) -> dict:
    (client,) = server.state.stats()["clients"]
    return client


def test_the_page_paints_the_fake_camera_and_switches_styles(
    start_server: Callable[..., StyleServer], tmp_path: Path
) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extra")
    server = start_server()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1000, "height": 640},
        )
        try:
            page = browser.new_page()
            problems: list[str] = []
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.goto(server.url)
            page.wait_for_function(f"() => {FRAMES_SHOWN} >= 5", timeout=60_000)
            assert _client(server)["sent"] >= 5 and _client(server)["style"] == "first_invert"
            shown, camera = page.evaluate(MEANS)
            assert abs(shown - (255 - camera)) < 25, (shown, camera)  # the invert style: a negative

            page.select_option("#style", "1")
            _wait(lambda: _client(server)["style"] == "second_identity", 30, "the server to switch styles")
            before = page.evaluate(f"() => {FRAMES_SHOWN}")
            page.wait_for_function(f"() => {FRAMES_SHOWN} >= {before + 5}", timeout=30_000)
            shown, camera = page.evaluate(MEANS)
            assert abs(shown - camera) < 25, (shown, camera)  # the identity style: the camera itself
            assert "frames" in page.inner_text("#readout") or page.inner_text("#fps") != ""
            assert float(page.inner_text("#fps")) > 0 and page.inner_text("#latency") != "-"

            shot = tmp_path / "serve.png"
            page.screenshot(path=str(shot))
            keep = os.environ.get("STYLECAM_SCREENSHOT_DIR")
            if keep:
                shutil.copy(shot, Path(keep) / "serve_test.png")
            assert shot.stat().st_size > 10_000 and problems == []
        finally:
            browser.close()
    stats = server.state.stats()
    assert stats["frames"] >= 10 and stats["failures"] == 0
