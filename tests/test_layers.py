"""The import directions of the layout: nothing imports upward from a lower layer.

Packages, lowest first: ``stylecam`` core < ``stylecam.runtime`` < ``stylecam.train`` <
``stylecam.export``. Inside runtime and train, subpackages are ranked too (see each package's
docstring); subpackages of equal rank are peers and may not import each other. A function-level
import may reach upward only where it is listed in ``LAZY_EXCEPTIONS`` with its reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {name: ROOT / name for name in ("stylecam", "runtime", "train", "export")}
PACKAGE_RANK = {"stylecam": 0, "runtime": 1, "train": 2, "export": 3}
# Rank of each subpackage (or top-level module) inside a package; absent: the package's top level (0).
SUB_RANK = {
    "runtime": {"inference": 1, "media": 1, "temporal": 1, "live": 2, "pipeline": 3, "bench": 4, "serve": 4, "cli": 5},
    "train": {"networks": 1, "losses": 2, "loop": 3, "paint": 4, "evaluation": 4, "learn": 4, "cli": 5},
    "export": {"bundle": 1, "targets": 1, "cli": 2},
}
# Modules that sit above everything by design: the dispatcher and the public API facades.
TOP = {
    "stylecam.cli",
    "stylecam.__main__",
    "stylecam.__init__",
    "stylecam.api",
    "stylecam.train.__init__",
    "stylecam.info_cli",
    "stylecam.doctor_cli",
}
# Function-level imports that reach upward, each with why it is acceptable.
LAZY_EXCEPTIONS = {
    # random-weight benchmark models are built with torch by the export package, only on request
    ("stylecam.runtime.bench.random_models", "stylecam.export.benchmodels"),
    # `stylecam train --export OUT.onnx` exports the finished checkpoint
    ("stylecam.train.loop.runner", "stylecam.export.onnx"),
    # the config's error messages list the providers this ONNX Runtime build offers
    ("stylecam.runtime.config", "stylecam.runtime.inference.providers"),
    # `stylecam learn` starts from a bundled style, which ships only as .onnx: its torch network is rebuilt
    ("stylecam.train.learn.nearest", "stylecam.export.rebuild"),
    # `stylecam learn` exports what it trained (same path and parity gate as `stylecam export`)
    ("stylecam.train.learn.publish", "stylecam.export.onnx"),
}


def _module_name(package: str, path: Path) -> str:
    rel = path.relative_to(FOLDERS[package]).with_suffix("")
    parts = [p for p in rel.parts]
    return ".".join(["stylecam"] + ([] if package == "stylecam" else [package]) + parts)


def _modules() -> list[tuple[str, Path]]:
    found = []
    for package, folder in FOLDERS.items():
        for path in sorted(folder.rglob("*.py")):
            if package == "stylecam" and "assets" in path.parts:
                continue
            found.append((_module_name(package, path), path))
    return found


def _position(module: str) -> tuple[int, str, int] | None:
    """(package rank, subpackage, rank inside the package) of a stylecam module, None if not ours."""
    parts = module.split(".")
    if parts[0] != "stylecam":
        return None
    package = parts[1] if len(parts) > 1 and parts[1] in ("runtime", "train", "export") else "stylecam"
    if package == "stylecam":
        return (0, "", 0)
    sub = parts[2] if len(parts) > 2 else ""
    if sub not in SUB_RANK[package]:  # a module at the package's top level: the shared base layer
        sub = ""
    return (PACKAGE_RANK[package], sub, SUB_RANK[package].get(sub, 0))


def _is_upward(here: tuple[int, str, int], there: tuple[int, str, int]) -> bool:
    """A higher package, or another subpackage of the same package at the same or a higher rank."""
    if there[0] != here[0]:
        return there[0] > here[0]
    return there[1] not in ("", here[1]) and there[2] >= here[2]


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(imported stylecam module, at module level?) for every import in the file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    top_level = {id(node) for node in tree.body}
    for node in tree.body:  # imports under `if TYPE_CHECKING:` count as module level
        if isinstance(node, ast.If):
            top_level.update(id(child) for child in node.body)
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            if name.startswith("stylecam"):
                found.append((name, id(node) in top_level))
    return found


def _excused(module: str, target: str) -> bool:
    return any(
        module == lazy_module and (target.startswith(lazy_target) or lazy_target.startswith(target + "."))
        for lazy_module, lazy_target in LAZY_EXCEPTIONS
    )


def violations() -> list[str]:
    problems = []
    for module, path in _modules():
        if module.removesuffix(".__init__") in TOP or module in TOP:
            continue
        here = _position(module)
        assert here is not None
        for target, module_level in _imports(path):
            there = _position(target)
            if there is None or target in (module, module.removesuffix(".__init__")):
                continue
            if _is_upward(here, there) and not (not module_level and _excused(module, target)):
                problems.append(f"{module} imports {target}")
    return sorted(set(problems))


def test_no_module_imports_upward() -> None:
    assert violations() == []


@pytest.mark.parametrize(
    ("module", "target", "allowed"),
    [
        ("stylecam.runtime.inference.stylizer", "stylecam.runtime.config", True),
        ("stylecam.runtime.inference.stylizer", "stylecam.runtime.media.sources", False),  # peers
        ("stylecam.runtime.media.sinks", "stylecam.runtime.live.window", False),
        ("stylecam.runtime.pipeline.sinks", "stylecam.runtime.live.window", True),
        ("stylecam.runtime.live.window", "stylecam.runtime.pipeline.threaded", False),
        ("stylecam.runtime.cli.run", "stylecam.train.config", False),
        ("stylecam.train.evaluation.evaluate", "stylecam.runtime.inference.stylizer", True),
        ("stylecam.train.networks.model", "stylecam.train.losses.vgg", False),
        ("stylecam.onnxfile", "stylecam.runtime.config", False),
    ],
)
def test_the_rule_itself(module: str, target: str, allowed: bool) -> None:
    here, there = _position(module), _position(target)
    assert here is not None and there is not None
    assert _is_upward(here, there) is not allowed


def test_every_subpackage_says_what_it_owns() -> None:
    for folder in FOLDERS.values():
        for init in folder.rglob("__init__.py"):
            if "assets" in init.parts:
                continue
            doc = ast.get_docstring(ast.parse(init.read_text()))
            assert doc and len(doc.split()) >= 8, f"{init.relative_to(ROOT)} needs a docstring saying what it owns"


def test_each_folder_stays_small() -> None:
    """About a dozen entries per folder's top level (modules and subpackages, not __init__)."""
    for name in ("runtime", "train", "export"):
        for folder in [FOLDERS[name], *[p.parent for p in FOLDERS[name].glob("*/__init__.py")]]:
            entries = [p for p in folder.iterdir() if p.name != "__init__.py" and (p.suffix == ".py" or p.is_dir())]
            entries = [p for p in entries if p.name != "__pycache__"]
            assert len(entries) <= 15, f"{folder.relative_to(ROOT)} holds {len(entries)} entries"
