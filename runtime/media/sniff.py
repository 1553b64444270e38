"""What a file really is, from its first bytes, and whether an MP4/MOV file is complete.

Pure Python on a few bytes of the file: safe to run on anything before FFmpeg sees it. Used to
turn "Invalid data found when processing input" into "in.mp4 is a JPEG image, not a video".
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

# (offset, magic bytes, description, is_video_container)
_MAGIC: tuple[tuple[int, bytes, str, bool], ...] = (
    (0, b"\xff\xd8\xff", "a JPEG image", False),
    (0, b"\x89PNG\r\n\x1a\n", "a PNG image", False),
    (0, b"GIF87a", "a GIF image", True),  # FFmpeg decodes (animated) GIFs as video
    (0, b"GIF89a", "a GIF image", True),
    (0, b"II*\x00", "a TIFF image", False),
    (0, b"MM\x00*", "a TIFF image", False),
    (0, b"%PDF", "a PDF document", False),
    (0, b"PK\x03\x04", "a ZIP archive", False),
    (0, b"\x1f\x8b", "a gzip archive", False),
    (0, b"BZh", "a bzip2 archive", False),
    (0, b"\xfd7zXZ\x00", "an xz archive", False),
    (0, b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", False),
    (0, b"Rar!\x1a\x07", "a RAR archive", False),
    (0, b"\x7fELF", "a Linux program (ELF)", False),
    (0, b"SQLite format 3\x00", "an SQLite database", False),
    (0, b"ID3", "an MP3 audio file", False),
    (0, b"fLaC", "a FLAC audio file", False),
    (0, b"\x1a\x45\xdf\xa3", "a Matroska/WebM video", True),
    (0, b"OggS", "an Ogg file", True),
    (0, b"FLV", "an FLV video", True),
    (0, b"\x00\x00\x01\xba", "an MPEG program stream", True),
    (0, b"\x00\x00\x01\xb3", "an MPEG video stream", True),
    (257, b"ustar", "a tar archive", False),
)
_RIFF_KINDS = {b"WAVE": ("a WAV audio file", False), b"AVI ": ("an AVI video", True), b"WEBP": ("a WebP image", False)}
_ISO_IMAGE_BRANDS = {
    b"heic": "a HEIC image",
    b"heix": "a HEIC image",
    b"mif1": "a HEIF image",
    b"avif": "an AVIF image",
}
_ISO_AUDIO_BRANDS = {b"M4A ": "an M4A audio file", b"M4B ": "an M4B audiobook"}


@dataclass(frozen=True)
class FileKind:
    """What the first bytes say: a description ("a JPEG image") and whether it can hold video."""

    description: str
    is_video: bool
    is_iso_media: bool = False  # MP4/MOV family: its box structure can be checked


def sniff(head: bytes) -> FileKind | None:
    """Identify a file from its first bytes (at least 512 for tar); None when unknown."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _ISO_IMAGE_BRANDS:
            return FileKind(_ISO_IMAGE_BRANDS[brand], False, True)
        if brand in _ISO_AUDIO_BRANDS:
            return FileKind(_ISO_AUDIO_BRANDS[brand], False, True)
        return FileKind("an MP4/MOV video", True, True)
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] in _RIFF_KINDS:
        return FileKind(*_RIFF_KINDS[head[8:12]])
    for offset, magic, description, is_video in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return FileKind(description, is_video)
    if len(head) >= 4 and head[:2] == b"BM" and head[6:10] == b"\x00\x00\x00\x00":
        return FileKind("a BMP image", False)
    if len(head) >= 377 and head[0] == 0x47 and head[188] == 0x47 and head[376] == 0x47:
        return FileKind("an MPEG transport stream", True)
    if head[:4] in (b"moov", b"mdat", b"free", b"wide", b"skip") or head[4:8] in (b"moov", b"mdat", b"wide", b"free"):
        return FileKind("an MP4/MOV video", True, True)  # old QuickTime files start without ftyp
    return _sniff_text(head)


def _sniff_text(head: bytes) -> FileKind | None:
    if not head:
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # a multi-byte character cut at the end of the sample still counts as text
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return None
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    if printable < 0.95 * max(len(text), 1):
        return None
    lowered = text.lstrip().lower()
    if lowered.startswith(("<!doctype html", "<html")):
        return FileKind("an HTML page (a failed download?)", False)
    if lowered.startswith("<?xml"):
        return FileKind("an XML text file", False)
    if lowered.startswith(("{", "[")):
        return FileKind("a JSON text file", False)
    return FileKind("a text file", False)


def sniff_file(path: str | os.PathLike[str]) -> FileKind | None:
    """Read the first 512 bytes of ``path`` and identify them (see :func:`sniff`)."""
    with open(path, "rb") as handle:
        return sniff(handle.read(512))


def _box_header(handle: BinaryIO, position: int, file_size: int) -> tuple[bytes, int, int] | None:
    """Return (type, header size, box size) of the box at ``position``; None at a clean end."""
    handle.seek(position)
    header = handle.read(8)
    if len(header) < 8:
        return None
    size, kind = struct.unpack(">I4s", header)
    header_size = 8
    if size == 1:  # 64-bit size follows
        extended = handle.read(8)
        if len(extended) < 8:
            return kind, 16, file_size - position + 1  # cut inside the header: reported as truncated
        size = struct.unpack(">Q", extended)[0]
        header_size = 16
    elif size == 0:  # box runs to the end of the file
        size = file_size - position
    return kind, header_size, size


def check_iso_media(path: str | os.PathLike[str]) -> str | None:
    """Walk the top-level boxes of an MP4/MOV file; return what is wrong, or None if it looks whole.

    Catches the two ways a recording or copy gets cut off: the index (``moov``) never written,
    or the file ending inside a box (usually the media data, ``mdat``), i.e. mid-frame.
    """
    file = Path(path)
    file_size = file.stat().st_size
    seen: set[bytes] = set()
    position = 0
    with open(file, "rb") as handle:
        while position < file_size:
            box = _box_header(handle, position, file_size)
            if box is None:
                break
            kind, header_size, size = box
            if size < header_size:
                return f"is damaged: a box header at byte {position} is invalid (size {size})"
            seen.add(kind)
            end = position + size
            if end > file_size:
                name = kind.decode("latin-1", "replace").strip()
                missing = 100.0 * (end - file_size) / max(size, 1)
                where = "its media data ('mdat')" if kind == b"mdat" else f"its {name!r} box"
                index = "" if b"moov" in seen or kind == b"moov" else " and it has no index ('moov' atom)"
                return (
                    f"is truncated: it ends at byte {file_size} inside {where}, which should run to byte {end} "
                    f"({missing:.0f} % of that box is missing){index}"
                )
            position = end
    if b"moov" not in seen:
        return (
            "has no index ('moov' atom): the recording or copy was cut off before the file was finalised "
            "(e.g. the camera or app stopped while writing)"
        )
    return None
