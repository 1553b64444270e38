"""A rough free-memory check before a huge inference allocation.

ONNX Runtime on CPU allocates the activations of the whole network for the frame size; at 8K a
Johnson-style network needs tens of GB, and running out of memory gets the process killed by the
OS with no message. Checking first turns that into an error naming the fix.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from stylecam.errors import UsageError

log = logging.getLogger(__name__)

# Peak bytes per input pixel for a Johnson-style network in fp32 on ORT's CPU provider. Measured:
# the reference TransformerNet raises peak RSS by 865-874 B/px at 640x360, 1280x720 and 1920x1080
# (ORT 1.32). Rounded up; it only has to catch the impossible, not predict exactly.
BYTES_PER_PIXEL = 1024
# Refuse when the estimate exceeds this share of the memory currently available.
SHARE_OF_AVAILABLE = 0.8


def available_memory_bytes() -> int | None:
    """MemAvailable on Linux (free + reclaimable cache), else free physical pages; None if unknown."""
    meminfo = Path("/proc/meminfo")
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(
    batch: int,
    height: int,
    width: int,
    *,
    bytes_per_pixel: int = BYTES_PER_PIXEL,
    available: int | None = None,
) -> None:
    """UsageError when stylizing a (batch, height, width) input would not fit in free memory."""
    available = available_memory_bytes() if available is None else available
    if available is None:
        return
    needed = batch * height * width * bytes_per_pixel
    log.debug(
        "memory estimate for %dx%dx%d: %.1f GB of %.1f GB available",
        batch,
        height,
        width,
        needed / 1e9,
        available / 1e9,
    )
    if needed > SHARE_OF_AVAILABLE * available:
        fitting = int(SHARE_OF_AVAILABLE * available / (batch * bytes_per_pixel))
        raise UsageError(
            f"stylizing {batch} frame(s) of {width}x{height} needs about {needed / 1e9:.1f} GB of memory but only "
            f"{available / 1e9:.1f} GB is free; lower max_pixels (--max-pixels {fitting}), use a smaller batch, "
            "or free memory"
        )
