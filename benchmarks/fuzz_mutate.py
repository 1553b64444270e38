"""Seeded byte-level mutations (any format) and MP4-aware ones, for the fuzz run.

Blind to the format: bit flips, byte insertions and deletions, truncation, a chunk overwritten
or duplicated; for video also aimed at the index (``moov``) or the media data (``mdat``), and box
sizes overwritten with absurd values. Structure-level ONNX mutations are in :mod:`fuzz_onnx`.
Every mutation is a pure function of (seed bytes, random generator): the same seed gives the
same file, so a failure found by the fuzz run is reproduced from its seed and index.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable

Mutation = Callable[[bytes, random.Random], bytes]


# ------------------------------------------------------------------------------- byte level


def flip_bits(data: bytes, rng: random.Random, start: int = 0, end: int | None = None) -> bytes:
    out = bytearray(data)
    end = len(out) if end is None else end
    for _ in range(rng.randint(1, 8)):
        position = rng.randrange(start, max(start + 1, end))
        out[position] ^= 1 << rng.randrange(8)
    return bytes(out)


def insert_bytes(data: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(data))
    return data[:at] + rng.randbytes(rng.randint(1, 64)) + data[at:]


def delete_bytes(data: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(data))
    return data[:at] + data[at + rng.randint(1, 64) :]


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(1, len(data))]


def overwrite_chunk(data: bytes, rng: random.Random, start: int = 0, end: int | None = None) -> bytes:
    out = bytearray(data)
    end = len(out) if end is None else end
    at = rng.randrange(start, max(start + 1, end))
    size = rng.randint(4, 256)
    out[at : at + size] = rng.randbytes(min(size, len(out) - at))
    return bytes(out)


def duplicate_chunk(data: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(data))
    chunk = data[at : at + rng.randint(8, 512)]
    where = rng.randrange(len(data))
    return data[:where] + chunk + data[where:]


BYTE_MUTATIONS: dict[str, Mutation] = {
    "flip_bits": flip_bits,
    "insert_bytes": insert_bytes,
    "delete_bytes": delete_bytes,
    "truncate": truncate,
    "overwrite_chunk": overwrite_chunk,
    "duplicate_chunk": duplicate_chunk,
}


# ------------------------------------------------------------------------------- video boxes


def _boxes(data: bytes) -> dict[bytes, tuple[int, int]]:
    found, position = {}, 0
    while position + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[position : position + 8])
        if size < 8:
            break
        found[kind] = (position, min(position + size, len(data)))
        position += size
    return found


def _in_box(box: bytes, mutate: Callable[..., bytes]) -> Mutation:
    def mutation(data: bytes, rng: random.Random) -> bytes:
        start, end = _boxes(data).get(box, (0, len(data)))
        return mutate(data, rng, start + 8, end)

    return mutation


def break_box_size(data: bytes, rng: random.Random) -> bytes:
    """Overwrite the 32-bit size of a top-level or nested box with an absurd value."""
    kinds = [b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsz", b"stco", b"avcC", b"mdat", b"tkhd"]
    kind = rng.choice(kinds)
    at = data.find(kind)
    if at < 4:
        return flip_bits(data, rng)
    value = rng.choice([0, 1, 7, 0xFFFFFFFF, 0x7FFFFFFF, rng.randrange(1 << 32)])
    return data[: at - 4] + struct.pack(">I", value) + data[at:]


VIDEO_MUTATIONS: dict[str, Mutation] = {
    **BYTE_MUTATIONS,
    "flip_bits_in_moov": _in_box(b"moov", flip_bits),
    "flip_bits_in_mdat": _in_box(b"mdat", flip_bits),
    "overwrite_in_moov": _in_box(b"moov", overwrite_chunk),
    "overwrite_in_mdat": _in_box(b"mdat", overwrite_chunk),
    "break_box_size": break_box_size,
}


def mutate(data: bytes, table: dict[str, Mutation], rng: random.Random) -> tuple[str, bytes]:
    """Apply one randomly chosen mutation (sometimes two in a row); returns (name, new bytes)."""
    name = rng.choice(sorted(table))
    out = table[name](data, rng)
    if rng.random() < 0.2:
        second = rng.choice(sorted(BYTE_MUTATIONS))
        out, name = BYTE_MUTATIONS[second](out, rng), f"{name}+{second}"
    return name, out
