"""Bundled style models: ``--model starry`` finds ``stylecam/assets/models/<name>.onnx``.

``catalog.json`` beside the models lists each one with its file, aliases, title and licence:

    {"schema": "stylecam-model-catalog", "version": 1,
     "models": {"starry_night": {"file": "starry_night.onnx", "aliases": ["starry"],
                                 "title": "The Starry Night (Van Gogh, 1889)", "license": "..."}}}

A ``.onnx`` file in that folder without a catalog entry is found by its file name too.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from stylecam.errors import InputError, ModelLoadError, UsageError
from stylecam.paths import check_input_file

CATALOG_SCHEMA = "stylecam-model-catalog"


@dataclass(frozen=True)
class BundledModel:
    """A model shipped with stylecam."""

    name: str
    path: Path
    aliases: tuple[str, ...] = ()
    title: str = ""
    license: str = ""


def models_dir() -> Path:
    """The folder of bundled models inside the installed package."""
    return Path(str(resources.files("stylecam") / "assets" / "models"))


def _key(name: str) -> str:
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def _read_catalog(folder: Path) -> dict[str, dict[str, object]]:
    catalog = folder / "catalog.json"
    if not catalog.is_file():
        return {}
    try:
        data = json.loads(catalog.read_text(encoding="utf-8"))
        if data.get("schema") != CATALOG_SCHEMA or not isinstance(data.get("models"), dict):
            raise ValueError(f"not a {CATALOG_SCHEMA} file")
    except ValueError as exc:
        raise ModelLoadError(f"the bundled model catalog {catalog} is damaged ({exc}); reinstall stylecam") from exc
    return data["models"]


def bundled_models(folder: Path | None = None) -> list[BundledModel]:
    """Every bundled model (catalog entries first, then loose ``.onnx`` files), sorted by name."""
    root = folder or models_dir()
    found: dict[str, BundledModel] = {}
    for name, entry in _read_catalog(root).items():
        file = root / str(entry.get("file", f"{name}.onnx"))
        aliases = tuple(_key(str(alias)) for alias in entry.get("aliases", ()))  # type: ignore[union-attr]
        found[_key(name)] = BundledModel(
            _key(name), file, aliases, str(entry.get("title", "")), str(entry.get("license", ""))
        )
    if root.is_dir():
        listed = {model.path.name for model in found.values()}
        for file in root.glob("*.onnx"):
            if file.name not in listed:
                found.setdefault(_key(file.stem), BundledModel(_key(file.stem), file))
    return sorted(found.values(), key=lambda model: model.name)


def _has_separator(text: str) -> bool:
    return os.sep in text or "/" in text


def _choices(models: list[BundledModel]) -> str:
    if not models:
        return "no models are bundled yet; pass the path of an .onnx file made by `stylecam export`"
    names = ", ".join(model.name for model in models)
    return f"bundled models: {names}; or pass the path of an .onnx file"


def resolve_model(name_or_path: str | os.PathLike[str], *, folder: Path | None = None) -> Path:
    """Return the ``.onnx`` file for a path or a bundled model name (aliases included).

    Raises:
        InputError: a path (or ``*.onnx`` name) that does not exist, is empty or unreadable.
        UsageError: an unknown name (the message lists the bundled ones).
        ModelLoadError: a catalog entry whose file is missing from the installation.
    """
    text = os.fspath(name_or_path)
    if not text.strip():
        raise UsageError("--model is empty; give a model file or a bundled model name")
    if Path(text).expanduser().exists():
        return check_input_file(text, what="model")
    models = bundled_models(folder)
    if not _has_separator(text):
        key = _key(text[: -len(".onnx")] if text.lower().endswith(".onnx") else text)
        for model in models:
            if key == model.name or key in model.aliases:
                if not model.path.is_file():
                    raise ModelLoadError(
                        f"bundled model {model.name!r} is missing from this installation ({model.path}); "
                        "reinstall stylecam"
                    )
                return model.path
    if _has_separator(text) or text.lower().endswith(".onnx"):
        raise InputError(f"model {text} does not exist; check the path ({_choices(models)})")
    raise UsageError(f"unknown model {text!r}; {_choices(models)}")
