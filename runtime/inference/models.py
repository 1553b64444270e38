"""Bundled style models: ``--model starry`` finds ``stylecam/assets/models/<name>.onnx``.

``catalog.json`` beside the models lists each style (written by ``tools/package_styles.py``). A
style may ship several variants of its network, one per architecture (``reference`` now; ``lite``
for CPUs and ``fast`` for GPUs later):

    {"schema": "stylecam-model-catalog", "version": 2,
     "models": {"starry_night": {
         "aliases": ["starry", "van_gogh"], "title": "The Starry Night", "artist": "Vincent van Gogh",
         "year": "1889", "license": "public domain (...)", "card": "starry_night.md",
         "thumbnail": "starry_night.jpg",
         "variants": {"reference": {"file": "starry_night.onnx", "sha256": "...", "precision": "fp16",
                                    "parity": "starry_night.parity.json", ...}}}}}

Version 1 entries (``file`` at the top, no ``variants``) still load as one ``reference`` variant,
and a ``.onnx`` file in that folder without a catalog entry is found by its file name too.

Styles made by ``stylecam learn`` live in the user model folder (:func:`user_models_dir`), one
folder per style holding a ``catalog.json`` of the same schema; a name that is not bundled is
looked up there, so ``--model my_style`` works like a bundled name.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from stylecam.errors import InputError, ModelLoadError, UsageError
from stylecam.paths import check_input_file

log = logging.getLogger(__name__)

USER_MODELS_ENV = "STYLECAM_MODELS"  # the user model folder, instead of the XDG data folder
CATALOG_SCHEMA = "stylecam-model-catalog"
CATALOG_VERSION = 2
DEFAULT_ARCH = "reference"
# Which variant a bundled style runs as when the user does not say: the small network where only a
# CPU runs it, the fast one where a GPU does, the reference network otherwise.
CPU_PREFERENCE = ("lite", "reference")
GPU_PREFERENCE = ("fast", "reference")
ARCH_CHOICES = ("reference", "lite", "fast")


@dataclass(frozen=True)
class ModelVariant:
    """One network of a bundled style (its architecture, file and the figures the catalog records)."""

    arch: str
    path: Path
    sha256: str = ""
    precision: str = ""
    parity: Path | None = None  # the parity gate's report (MODEL.parity.json)
    details: dict[str, Any] | None = None  # training recipe and measurements (for the model card)


@dataclass(frozen=True)
class BundledModel:
    """A style shipped with stylecam, with one or more variants."""

    name: str
    variants: tuple[ModelVariant, ...]
    aliases: tuple[str, ...] = ()
    title: str = ""
    license: str = ""
    artist: str = ""
    year: str = ""
    card: Path | None = None  # the model card (Markdown) beside the model
    thumbnail: Path | None = None  # painting | stylized photo, a small JPEG

    @property
    def credit(self) -> str:
        """``The Starry Night (Vincent van Gogh, 1889)``, or what of it the catalog knows."""
        who = ", ".join(part for part in (self.artist, self.year) if part)
        return f"{self.title} ({who})" if self.title and who else self.title or who

    @property
    def default(self) -> ModelVariant:
        """The reference variant, or the first one when there is none."""
        return self.variant(DEFAULT_ARCH) or self.variants[0]

    @property
    def path(self) -> Path:
        """The file of the default variant."""
        return self.default.path

    def variant(self, arch: str) -> ModelVariant | None:
        return next((v for v in self.variants if v.arch == arch), None)

    def pick(self, arch: str | None = None, *, gpu: bool = False) -> ModelVariant:
        """The variant to run: ``arch`` if given, else the best one for a GPU or a CPU (see module doc).

        Raises:
            UsageError: this style has no ``arch`` variant (the message lists those it has).
        """
        if arch is not None:
            found = self.variant(arch)
            if found is None:
                have = ", ".join(v.arch for v in self.variants)
                raise UsageError(f"style {self.name!r} has no {arch} variant; it ships: {have}")
            return found
        for wanted in GPU_PREFERENCE if gpu else CPU_PREFERENCE:
            found = self.variant(wanted)
            if found is not None:
                return found
        return self.default


def models_dir() -> Path:
    """The folder of bundled models inside the installed package."""
    return Path(str(resources.files("stylecam") / "assets" / "models"))


def model_key(name: str) -> str:
    """How names and aliases are compared: lower case, ``-`` and spaces as ``_``."""
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def read_catalog(folder: Path) -> dict[str, dict[str, Any]]:
    """The raw ``models`` table of ``folder/catalog.json`` ({} when there is none); ModelLoadError if damaged."""
    catalog = folder / "catalog.json"
    if not catalog.is_file():
        return {}
    try:
        data = json.loads(catalog.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("schema") != CATALOG_SCHEMA:
            raise ValueError(f"not a {CATALOG_SCHEMA} file")
        if not isinstance(data.get("models"), dict):
            raise ValueError(f"not a {CATALOG_SCHEMA} file")
        for name, entry in data["models"].items():
            if not isinstance(entry, dict) or not isinstance(entry.get("aliases", []), list):
                raise ValueError(f"the entry {name!r} is not an object with a list of aliases")
            variants = entry.get("variants", {})
            if not isinstance(variants, dict) or not all(isinstance(v, dict) for v in variants.values()):
                raise ValueError(f"the variants of {name!r} are not a table of objects")
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ModelLoadError(f"the bundled model catalog {catalog} is damaged ({exc}); reinstall stylecam") from exc
    return data["models"]


def _variant(root: Path, name: str, arch: str, entry: dict[str, Any]) -> ModelVariant:
    parity = entry.get("parity")
    return ModelVariant(
        arch=arch,
        path=root / str(entry.get("file") or f"{name}.onnx"),
        sha256=str(entry.get("sha256") or ""),
        precision=str(entry.get("precision") or ""),
        parity=root / str(parity) if parity else None,
        details={k: v for k, v in entry.items() if k not in ("file", "sha256", "precision", "parity")},
    )


def _from_entry(root: Path, name: str, entry: dict[str, Any]) -> BundledModel:
    def text(key: str) -> str:
        return str(entry.get(key) or "")

    def beside(key: str) -> Path | None:
        return root / text(key) if text(key) else None

    table = entry.get("variants") or {DEFAULT_ARCH: entry}  # version 1: the entry is its only variant
    return BundledModel(
        name=model_key(name),
        variants=tuple(_variant(root, name, arch, spec) for arch, spec in table.items()),
        aliases=tuple(model_key(str(alias)) for alias in entry.get("aliases", ())),
        title=text("title"),
        license=text("license"),
        artist=text("artist"),
        year=text("year"),
        card=beside("card"),
        thumbnail=beside("thumbnail"),
    )


def bundled_models(folder: Path | None = None) -> list[BundledModel]:
    """Every bundled style (catalog entries first, then loose ``.onnx`` files), sorted by name."""
    root = folder or models_dir()
    found: dict[str, BundledModel] = {}
    for name, entry in read_catalog(root).items():
        found[model_key(name)] = _from_entry(root, name, entry)
    if root.is_dir():
        listed = {variant.path.name for model in found.values() for variant in model.variants}
        for file in sorted(root.glob("*.onnx")):
            if file.name not in listed:
                loose = BundledModel(model_key(file.stem), (ModelVariant("", file),))
                found.setdefault(loose.name, loose)
    return sorted(found.values(), key=lambda model: model.name)


def user_models_dir() -> Path:
    """Where ``stylecam learn`` keeps the styles it makes: ``$STYLECAM_MODELS``, else
    ``$XDG_DATA_HOME/stylecam/models``, else ``~/.local/share/stylecam/models``."""
    chosen = os.environ.get(USER_MODELS_ENV, "").strip()
    if chosen:
        return Path(chosen).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME", "").strip()
    base = Path(data_home).expanduser() if data_home else Path.home() / ".local" / "share"
    return base / "stylecam" / "models"


def user_model_folders(root: Path | None = None) -> list[Path]:
    """The folder of each finished or usable learned style under ``root`` (those with a catalog.json)."""
    base = root if root is not None else user_models_dir()
    if not base.is_dir():
        return []
    return sorted(
        folder
        for folder in base.iterdir()
        if folder.is_dir() and not folder.name.startswith(".") and (folder / "catalog.json").is_file()
    )


def user_models(root: Path | None = None) -> list[BundledModel]:
    """The styles made by ``stylecam learn`` (see :func:`user_models_dir`); a damaged one is skipped."""
    found: list[BundledModel] = []
    for folder in user_model_folders(root):
        try:
            # catalog entries only: a stray .onnx file in a style's folder is not a style
            found += [model for model in bundled_models(folder) if model.variants[0].arch]
        except ModelLoadError as exc:
            log.warning("skipping the learned style in %s: %s", folder, exc)
    return found


def find_bundled(name: str, models: list[BundledModel]) -> BundledModel | None:
    """The style called ``name`` (or one of its aliases; ``starry.onnx`` counts as ``starry``)."""
    key = model_key(name[: -len(".onnx")] if name.lower().endswith(".onnx") else name)
    return next((m for m in models if key == m.name or key in m.aliases), None)


def gpu_available() -> bool:
    """Whether ONNX Runtime here can run on a GPU (the CUDA or TensorRT provider is installed)."""
    import onnxruntime as ort

    return bool({"CUDAExecutionProvider", "TensorrtExecutionProvider"} & set(ort.get_available_providers()))


def _has_separator(text: str) -> bool:
    return os.sep in text or "/" in text


def _choices(models: list[BundledModel], mine: list[BundledModel] | None = None) -> str:
    yours = f"; your styles: {', '.join(model.name for model in mine)}" if mine else ""
    if not models:
        return f"no models are bundled yet{yours}; pass the path of an .onnx file made by `stylecam export`"
    names = ", ".join(model.name for model in models)
    return f"bundled models: {names}{yours}; or pass the path of an .onnx file"


def resolve_model(
    name_or_path: str | os.PathLike[str],
    *,
    folder: Path | None = None,
    arch: str | None = None,
    gpu: bool | None = None,
    user_folder: Path | None = None,
) -> Path:
    """Return the ``.onnx`` file for a path or a bundled model name (aliases included).

    A name that is not bundled may be a style made by ``stylecam learn`` (in ``user_folder``,
    default :func:`user_models_dir`); bundled names win, and ``learn`` refuses names they use.

    Args:
        name_or_path: a model file, or a bundled or learned style's name or alias.
        folder: where bundled models live (default :func:`models_dir`).
        arch: the variant of a bundled style (``reference``, ``lite``, ``fast``); None picks the
            best one for this machine (see :meth:`BundledModel.pick`). Not allowed with a path.
        gpu: whether the model will run on a GPU (None: whether ONNX Runtime has a GPU provider);
            only consulted when a style ships more than one variant.
        user_folder: where learned styles live (default :func:`user_models_dir`).

    Raises:
        InputError: a path (or ``*.onnx`` name) that does not exist, is empty or unreadable.
        UsageError: an unknown name (the message lists the bundled ones), a missing variant, or
            ``arch`` with a path.
        ModelLoadError: a catalog entry whose file is missing from the installation.
    """
    text = os.fspath(name_or_path)
    if not text.strip():
        raise UsageError("--model is empty; give a model file or a bundled model name")
    if Path(text).expanduser().exists():
        if arch is not None:
            raise UsageError(f"--arch picks a variant of a bundled style; {text} is a model file: leave out --arch")
        return check_input_file(text, what="model")
    models = bundled_models(folder)
    model = None if _has_separator(text) else find_bundled(text, models)
    mine: list[BundledModel] = []
    if model is None and not _has_separator(text):
        mine = user_models(user_folder)
        model = find_bundled(text, mine)
    learned = model is not None and model in mine
    if model is not None:
        several = len(model.variants) > 1 and arch is None
        variant = model.pick(arch, gpu=(gpu_available() if gpu is None else gpu) if several else False)
        if not variant.path.is_file():
            if learned:
                raise ModelLoadError(
                    f"your style {model.name!r} is missing its model file {variant.path}; "
                    f"make it again: stylecam learn PAINTING --name {model.name} --overwrite"
                )
            raise ModelLoadError(
                f"bundled model {model.name!r} is missing from this installation ({variant.path}); reinstall stylecam"
            )
        return variant.path
    if _has_separator(text) or text.lower().endswith(".onnx"):
        raise InputError(f"model {text} does not exist; check the path ({_choices(models, mine)})")
    raise UsageError(f"unknown model {text!r}; {_choices(models, mine)}")
