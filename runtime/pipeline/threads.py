"""Applying a :class:`~stylecam.runtime.config.ThreadBudget` to the process-wide OpenCV setting.

ONNX Runtime's threads are set per session (``RuntimeConfig.threads``) and the codecs' per
container (``decode_threads`` / ``encode_threads``); OpenCV has one global thread pool, set here
for the length of a run and restored afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import cv2

from stylecam.runtime.config import ThreadBudget

log = logging.getLogger(__name__)


@contextmanager
def opencv_threads(budget: ThreadBudget | None) -> Iterator[None]:
    """OpenCV runs ``budget.opencv`` worker threads inside the block (None: leave OpenCV alone)."""
    if budget is None:
        yield
        return
    previous = cv2.getNumThreads()
    cv2.setNumThreads(budget.opencv)
    log.debug("threads for %d cores: %s", budget.cores, budget.as_dict())
    try:
        yield
    finally:
        cv2.setNumThreads(previous)
