"""The model card of a bundled style (Markdown), written from its ``catalog.json`` entry alone.

One card per painting (``stylecam/assets/models/<name>.md``): credits and public-domain status,
then per variant the file, the training recipe, the parity gate's figures, the style loss on the
bundled photos and the warping error on a clip. Torch-free, pure text.
"""

from __future__ import annotations

from typing import Any

from stylecam.paintings import Painting

# what stays in fp32 in an fp16 export, per architecture (the lite/fast networks fold their batch norms)
NORM_NOTE = {"reference": " (instance-norm statistics in fp32)"}
NOT_RECORDED = "not recorded (the checkpoint was gone or not a stylecam run when packaged)"


def _db(value: Any) -> str:
    return "identical" if value == "inf" else f"{float(value):.1f} dB"


def _g(value: Any) -> str:
    return "?" if value is None else format(float(value), "g")


def _number(value: Any, spec: str = ".1f") -> str:
    return "not measured" if value is None else format(float(value), spec)


def _header(painting: Painting, entry: dict[str, Any]) -> list[str]:
    names = ", ".join(f"`--model {key}`" for key in (painting.name, *painting.aliases))
    return [
        f"# {painting.title} ({painting.artist}, {painting.year}): bundled style `{painting.name}`",
        "",
        f"![The painting, and a bundled CC0 photo stylized by this model]({entry['thumbnail']})",
        "",
        "| | |",
        "|---|---|",
        f"| painting | {painting.title} |",
        f"| artist | {painting.artist} |",
        f"| year | {painting.year} |",
        f"| public-domain status | {painting.status} |",
        f"| use it | {names}, e.g. `stylecam --model {painting.aliases[0]} --source 0` |",
        "",
    ]


def _training(variant: dict[str, Any]) -> list[str]:
    train = variant.get("training") or {}
    config = train.get("config") or {}
    style = train.get("style_image") or {}
    wall = train.get("wall_seconds")
    start = f"fine-tuned from the `{train['init']}` network" if train.get("init") else "from scratch"
    layers = ", ".join(config.get("style_layers") or [])
    content_layers = ", ".join(config.get("content_layers") or [])
    lines = [
        "### Training recipe",
        "",
        f"Trained on {variant.get('trained_on') or 'a machine that was not recorded'}.",
    ]
    if variant.get("gpu_owed", True):
        lines.append(
            "**GPU training is still owed:** this is a short CPU schedule (small crops, few steps); the "
            "strokes are coarser and the colours less faithful than a full GPU run (about 40,000 steps at "
            "256 px) would give."
        )
    lines += [
        "",
        f"    {train.get('command', '(not recorded)')}",
        "",
        f"* schedule: {train.get('step', '?')} steps x batch {config.get('batch_size', '?')} = "
        f"{train.get('images_seen', '?')} crops of {config.get('size', '?')} px from {train.get('photos', '?')} "
        f"training photos (research datasets, not shipped), {start}",
        f"* loss weights: content {_g(config.get('content_weight'))} ({content_layers}), "
        f"style {_g(config.get('style_weight'))} ({layers}; `{config.get('style_norm', '?')}` normalised), "
        f"total variation {_g(config.get('tv_weight'))}; Adam, lr {_g(config.get('learning_rate'))}",
        f"* style image: `{style.get('file', '?')}` ({'x'.join(map(str, style.get('size') or [])) or '?'} px, "
        f"sha256 `{style.get('sha256', '')[:16]}...`), the painting at a long side of "
        f"{config.get('style_size') or 2 * int(config.get('size') or 0)} px",
        f"* wall time: {f'{wall:.0f} s ({wall / 60:.1f} min)' if wall else 'not recorded'}",
        *_earlier(train.get("earlier") or [], wall),
        "",
    ]
    return lines


def _earlier(stages: list[dict[str, Any]], wall: float | None) -> list[str]:
    """The runs before this one (its ``--init`` chain), oldest first: what the network learnt before."""
    if not stages:
        return []
    lines = [f"* before this run, {len(stages)} earlier run(s), oldest first, each started from the one before:"]
    walls = [wall]
    for stage in stages:
        name = stage.get("checkpoint", "?")
        if not stage.get("command"):
            origin = stage.get("origin")
            what = f"no training run: {origin}" if origin else NOT_RECORDED
            lines.append(f"  * `{name}`: {what}")
            walls.append(None)
            continue
        seconds = stage.get("wall_seconds")
        walls.append(seconds)
        took = f"{seconds / 60:.1f} min" if seconds else "wall time not recorded"
        step, planned = stage.get("step", "?"), stage.get("planned_steps")
        steps = f"{step} of {planned} planned steps" if planned and planned != step else f"{step} steps"
        lines.append(
            f"  * `{name}`: {steps} x batch {stage.get('batch_size', '?')} of "
            f"{stage.get('size', '?')} px, {took}: `{stage['command']}`"
        )
    if all(walls):
        lines.append(f"* wall time of all {len(walls)} runs together: {sum(walls) / 60:.1f} min")  # type: ignore[arg-type]
    return lines


def _gate(variant: dict[str, Any]) -> list[str]:
    gate = variant.get("gate") or {}
    rows = [
        f"| {check} | {_db(db)} | {gate.get('bars_db', {}).get(check, '?')} dB |"
        for check, db in gate.get("min_psnr_db", {}).items()
    ]
    sizes = ", ".join(gate.get("sizes") or [])
    fp16 = " --fp16" if variant.get("precision") == "fp16" else ""
    return [
        "### Parity gate",
        "",
        f"`stylecam export{fp16}` passed the gate on {', '.join(gate.get('providers') or ['?'])} "
        f"(onnx.checker full check, no NaN/Inf; frames N x H x W: {sizes}). Lowest PSNR per check:",
        "",
        "| check | lowest PSNR | bar |",
        "|---|---|---|",
        *rows,
        "",
        f"Report: `{variant.get('parity', '?')}` (shipped beside the model).",
        "",
    ]


def _photos(variant: dict[str, Any]) -> list[str]:
    photos = variant.get("photos") or {}
    rows = [f"| {name}.jpg | {_number(v.get('style'))} | {_number(v.get('content'))} |" for name, v in photos.items()]
    return [
        "### Style loss on the bundled photos",
        "",
        "The CC0 photos in `stylecam/assets/photos` (long side 512 px) through the exported model on "
        "ONNX Runtime CPU; losses as in training (VGG19, Gram matrices against the bundled painting "
        "thumbnail; lower is closer).",
        "",
        "| photo | style loss | content loss |",
        "|---|---|---|",
        *rows,
        "",
    ]


def _clip(variant: dict[str, Any]) -> list[str]:
    clip = variant.get("clip")
    if not clip:
        return ["### Warping error", "", "Not measured for this model.", ""]
    width, height = clip["size"]
    modes = clip["modes"]
    rows = [
        f"| {label} | {1000 * m['warp_error']:.3f} | {m['ratio']:.2f} | {_number(m['style_loss'])} |"
        for label, m in modes.items()
    ]
    return [
        "### Warping error (flicker)",
        "",
        f"`stylecam eval` on `{clip['clip']}` (a research clip, not shipped): the first {clip['frames']} frames "
        f"at {width}x{height}, style loss on {clip['loss_frames']} of them. The warping error is the mean "
        "colour change between consecutive frames after motion compensation, on a 0-1 pixel scale, x 1000 "
        f"(lower is steadier); the ratio divides it by the source's own ({1000 * clip['source_warp_error']:.3f}).",
        "",
        "| smoothing | warping error x 1e-3 | ratio to source | style loss |",
        "|---|---|---|---|",
        *rows,
        "",
    ]


def _variant(name: str, arch: str, variant: dict[str, Any]) -> list[str]:
    size = variant.get("size_bytes") or 0
    return [
        f"## Variant `{arch}`: `{variant['file']}`",
        "",
        f"* {size / 2**20:.2f} MB, {variant.get('precision', '?')}{NORM_NOTE.get(arch, '')}, "
        f"ONNX opset {variant.get('opset', '?')}, stylecam model contract (uint8 BGR frames in and out)",
        f"* sha256 `{variant.get('sha256', '')}`",
        f"* from checkpoint sha256 `{variant.get('checkpoint_sha256', '')}`",
        f"* run it: `stylecam --model {name}{'' if arch == 'reference' else f' --arch {arch}'} --source 0`",
        "",
        *_training(variant),
        *_gate(variant),
        *_photos(variant),
        *_clip(variant),
    ]


def render_model_card(painting: Painting, entry: dict[str, Any]) -> str:
    """The Markdown card of ``painting``'s bundled models, from its catalog entry."""
    lines = _header(painting, entry)
    for arch, variant in (entry.get("variants") or {}).items():
        lines += _variant(painting.name, arch, variant)
    lines.append(
        "Written by `tools/package_styles.py` from `catalog.json`; `stylecam styles --check` verifies that "
        "the files, their sha256 and this card agree."
    )
    return "\n".join(lines) + "\n"
