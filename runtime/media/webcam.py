"""WebcamSource: a capture thread that always holds the newest camera frame.

Cameras buffer frames and lie about their frame rate, so a thread reads continuously (the driver
queue never fills with stale frames), measures the real intervals, and keeps only the newest
frame; the consumer takes whatever is newest when it is ready (frames replaced unseen are counted
as dropped). An unplugged camera is retried with backoff ("camera lost, retrying") and resumes
when it comes back; after ``lost_timeout`` a SourceError ends the run. Every wait has a timeout,
so a camera that blocks inside the driver cannot hang the program.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import replace
from fractions import Fraction

import cv2
import numpy as np
import numpy.typing as npt

from stylecam.errors import SourceError
from stylecam.runtime.media.cameras import Capture, CaptureFactory, cannot_open, opencv_capture
from stylecam.runtime.media.sources import Frame, fit_within
from stylecam.runtime.media.video_info import VideoInfo

log = logging.getLogger(__name__)

MS = Fraction(1, 1000)  # live frames carry their capture time in milliseconds


# What WebcamSource opens devices with when given no factory (tests and embedders may replace it).
default_capture_factory: CaptureFactory = opencv_capture


def _as_bgr(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return np.ascontiguousarray(image[:, :, :3])
    return image


class WebcamSource:
    """A live camera. Iterating yields the newest frame each time; stale frames are dropped.

    Args:
        device: camera index or device path.
        width, height, fps: requested capture mode (the camera may pick another; it is logged).
        max_size: shrink frames whose longer side exceeds this.
        capture_factory: opens the device (default: OpenCV); tests pass a fake camera.
        open_timeout: seconds to wait for the first frame.
        lost_timeout: seconds a lost camera is retried before the run stops with an error.
    """

    live = True
    corrupt = 0

    def __init__(
        self,
        device: int | str = 0,
        *,
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
        max_size: int | None = None,
        capture_factory: CaptureFactory | None = None,
        open_timeout: float = 5.0,
        lost_timeout: float = 10.0,
        max_backoff: float = 2.0,
    ) -> None:
        self.device = device
        self.name = f"camera {device}"
        self._factory = capture_factory or default_capture_factory
        self._request = {cv2.CAP_PROP_FRAME_WIDTH: width, cv2.CAP_PROP_FRAME_HEIGHT: height, cv2.CAP_PROP_FPS: fps}
        self._max_size = max_size
        self.lost_timeout = lost_timeout
        self._max_backoff = max_backoff
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._latest: tuple[npt.NDArray[np.uint8], int, float] | None = None
        self._seq = -1
        self._unread = False
        self._error: SourceError | None = None
        self._stamps: deque[float] = deque(maxlen=90)
        self.dropped = 0
        self.reconnects = 0
        self._capture = self._open()
        declared = self._capture.get(cv2.CAP_PROP_FPS) or None
        self._declared_fps = declared
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._capture_loop, name=f"stylecam-{self.name}", daemon=True)
        self._thread.start()
        first = self._wait_first(open_timeout)
        height_px, width_px = first.shape[:2]
        self._info = VideoInfo(width=width_px, height=height_px, fps=declared, codec="camera", time_base=MS)
        log.info("%s: %dx%d, declares %s fps", self.name, width_px, height_px, f"{declared:g}" if declared else "no")

    # -- opening -------------------------------------------------------------------------------
    def _open(self) -> Capture:
        capture = self._factory(self.device)
        if not capture.isOpened():
            capture.release()
            raise cannot_open(
                self.device, self._factory, "cannot be opened (not connected, or busy in another program)"
            )
        self._apply_request(capture)
        return capture

    def _apply_request(self, capture: Capture) -> None:
        for prop, value in self._request.items():
            if value is not None:
                capture.set(prop, float(value))

    def _wait_first(self, timeout: float) -> npt.NDArray[np.uint8]:
        with self._cond:
            self._cond.wait_for(lambda: self._latest is not None or self._error is not None, timeout)
            latest, error = self._latest, self._error
        if latest is None:
            self.close()
            if error is not None:
                raise error
            raise cannot_open(
                self.device, self._factory, f"opened but sent no frame within {timeout:g} s (busy in another program?)"
            )
        return latest[0]

    # -- the capture thread --------------------------------------------------------------------
    def _capture_loop(self) -> None:
        capture = self._capture
        lost_since: float | None = None
        backoff = 0.1
        try:
            while not self._stop.is_set():
                ok, image = capture.read()
                now = time.monotonic()
                if ok and image is not None and image.size:
                    if lost_since is not None:
                        log.warning("%s is back after %.1f s", self.name, now - lost_since)
                        lost_since, backoff = None, 0.1
                    self._publish(fit_within(_as_bgr(image), self._max_size), now)
                    continue
                if lost_since is None:
                    lost_since = now
                    if self._latest is not None:
                        log.warning("%s lost, retrying for up to %g s", self.name, self.lost_timeout)
                if now - lost_since > self.lost_timeout:
                    self._fail(
                        SourceError(
                            f"{self.name} was lost and did not come back within {self.lost_timeout:g} s; "
                            "check its cable or USB port, then start again"
                        )
                    )
                    return
                if self._stop.wait(backoff):
                    return
                backoff = min(backoff * 2, self._max_backoff)
                capture = self._reopen(capture)
        finally:
            capture.release()

    def _reopen(self, capture: Capture) -> Capture:
        capture.release()
        self.reconnects += 1
        fresh = self._factory(self.device)
        self._apply_request(fresh)
        self._capture = fresh
        return fresh

    def _publish(self, image: npt.NDArray[np.uint8], now: float) -> None:
        with self._cond:
            if self._latest is not None and self._latest[0].shape != image.shape:
                old = self._latest[0].shape
                log.warning(
                    "%s changed resolution %dx%d -> %dx%d", self.name, old[1], old[0], image.shape[1], image.shape[0]
                )
            if self._unread:
                self.dropped += 1
            self._seq += 1
            self._latest = (image, self._seq, now)
            self._unread = True
            self._stamps.append(now)
            self._cond.notify_all()

    def _fail(self, error: SourceError) -> None:
        with self._cond:
            self._error = error
            self._cond.notify_all()

    # -- the consumer side ---------------------------------------------------------------------
    @property
    def measured_fps(self) -> float | None:
        """Frames per second the camera really delivers (over the last ~90 frames)."""
        with self._cond:
            stamps = list(self._stamps)
        if len(stamps) < 3 or stamps[-1] <= stamps[0]:
            return None
        return (len(stamps) - 1) / (stamps[-1] - stamps[0])

    @property
    def info(self) -> VideoInfo:
        """VideoInfo with the current measured rate and the size of the newest frame."""
        with self._cond:
            shape = self._latest[0].shape if self._latest is not None else None
        info = replace(self._info, measured_fps=self.measured_fps)
        return info if shape is None else replace(info, width=shape[1], height=shape[0])

    def _ready(self, seen: int) -> bool:
        return self._seq > seen or self._error is not None or self._stop.is_set()

    def __iter__(self) -> Iterator[Frame]:
        seen = -1
        # The capture thread gives up after lost_timeout; the margin covers a read() stuck in the driver.
        patience = self.lost_timeout + 2.0
        while True:
            with self._cond:
                arrived = self._cond.wait_for(lambda last=seen: self._ready(last), patience)
                if self._error is not None:
                    raise self._error
                if self._stop.is_set():
                    return
                if not arrived:
                    raise SourceError(
                        f"{self.name} sent no frame for {patience:g} s and does not respond; "
                        "unplug and reconnect it, then start again"
                    )
                assert self._latest is not None
                image, seen, stamp = self._latest
                self._unread = False
            elapsed = stamp - self._t0
            yield Frame(image=image, index=seen, time=elapsed, pts=round(elapsed * 1000), time_base=MS, captured=stamp)

    def close(self) -> None:
        """Stop the capture thread and release the camera (waits at most ~1 s for a stuck driver)."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=1.0)
            if self._thread.is_alive():
                log.debug("%s: capture thread still inside read(); left to exit on its own", self.name)
        declared, measured = self._declared_fps, self.measured_fps
        if declared and measured and abs(measured - declared) > 0.2 * declared:
            log.info("%s declared %g fps but delivered %.1f fps (measured)", self.name, declared, measured)

    def __enter__(self) -> WebcamSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
