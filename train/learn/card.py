"""The model card of a learned style (Markdown), written from its catalog entry alone (torch-free)."""

from __future__ import annotations

from typing import Any


def _db(value: Any) -> str:
    return "identical" if value == "inf" else f"{float(value):.1f} dB"


def _losses(losses: dict[str, Any]) -> str:
    shown = [f"{name} {float(value):.4g}" for name, value in losses.items() if name != "total" and float(value)]
    return ", ".join(shown) or "not recorded"


def _header(name: str, entry: dict[str, Any]) -> list[str]:
    learned = entry.get("learned") or {}
    painting = learned.get("painting") or {}
    start = learned.get("start") or {}
    minutes = float(learned.get("seconds") or 0) / 60
    status = (
        "ready"
        if learned.get("complete")
        else f"unfinished (stopped early); `{learned.get('resume_command', 'stylecam learn PAINTING')}` continues it"
    )
    others = ", ".join(
        f"{style} {value:.3g}" for style, value in sorted((start.get("distances") or {}).items(), key=lambda i: i[1])
    )
    return [
        f"# `{name}`: a style learned from your painting `{painting.get('file', '?')}`",
        "",
        f"![The painting, and a bundled CC0 photo stylized by this model]({entry.get('thumbnail', '')})",
        "",
        "| | |",
        "|---|---|",
        f"| painting | `{painting.get('file', '?')}`, {painting.get('size', '?')} px, "
        f"sha256 `{str(painting.get('sha256', ''))[:16]}...` |",
        f"| licence | {entry.get('license') or 'not recorded'} |",
        f"| started from | the bundled `{start.get('name', '?')}` network: the closest painting "
        f"(Gram distance in VGG19 space: {others or '?'}) |",
        f"| training photos | {learned.get('photos', '?')} |",
        f"| quality, budget | `{learned.get('quality', '?')}`, {learned.get('minutes', '?')} min; the job took "
        f"{minutes:.1f} min on {learned.get('device', '?')} |",
        f"| status | {status} |",
        f"| use it | `stylecam --model {name} --source 0` (the lite network on a CPU; `--arch reference` for the "
        f"other), `stylecam image photo.jpg --model {name}` |",
        "",
    ]


def _how(variant: dict[str, Any]) -> str:
    """How the network learned: fine-tuned on the painting, or distilled in one or two stages."""
    config = variant.get("config") or {}
    if not variant.get("distilled"):
        return "fine-tuned on the painting (VGG19 content and Gram style loss)"
    if not config.get("style_weight"):  # the pixel stage's checkpoint: the second stage has not trained yet
        return "distilled from the reference network, pixel stage only (L1 to its cached outputs)"
    weight = config.get("distill_pixel_weight")
    return (
        f"distilled from the reference network: {variant.get('pixel_steps', '?')} steps of L1 to its cached "
        "outputs (pixel stage), then the painting's VGG19 content and Gram style loss plus L1 to those outputs"
        + (f" x{float(weight):g}" if weight is not None else "")
        + " (painting-losses stage)"
    )


def _variant(arch: str, variant: dict[str, Any]) -> list[str]:
    config = variant.get("config") or {}
    gate = variant.get("gate") or {}
    how = _how(variant)
    checks = "; ".join(f"{check} {_db(db)}" for check, db in (gate.get("min_psnr_db") or {}).items())
    return [
        f"## Variant `{arch}`: `{variant.get('file', '?')}`",
        "",
        f"* {float(variant.get('size_bytes') or 0) / 2**20:.2f} MB, {variant.get('precision', '?')}, ONNX opset "
        f"{variant.get('opset', '?')}, sha256 `{variant.get('sha256', '')}`",
        f"* {how}: {variant.get('step', '?')} steps x batch {config.get('batch_size', '?')} crops of "
        f"{config.get('size', '?')} px ({variant.get('images_seen', '?')} crops), Adam lr "
        f"{config.get('learning_rate', '?')}" + ("" if variant.get("complete") else " (stopped early)"),
        *([f"* started {variant['start']}"] if variant.get("start") else []),
        f"* last training losses: {_losses(variant.get('losses') or {})}",
        f"* parity gate {'passed' if gate.get('passed') else 'FAILED'} on "
        f"{', '.join(gate.get('providers') or ['?'])}: lowest PSNR {checks or '?'} "
        f"(report `{variant.get('parity', '?')}`)",
        "",
    ]


def render_card(name: str, entry: dict[str, Any]) -> str:
    """The Markdown card of the learned style ``name`` from its catalog entry."""
    lines = _header(name, entry)
    for arch, variant in (entry.get("variants") or {}).items():
        lines += _variant(arch, variant)
    lines.append("Written by `stylecam learn` from `catalog.json`.")
    return "\n".join(lines) + "\n"
