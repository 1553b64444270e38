"""Fresh bad inputs for the reliability battery, written from scratch (not the unit tests' fixtures).

Every function writes one file (or folder) and returns its path. Videos are made with PyAV,
models with ``onnx.helper``, images with OpenCV; checkpoints with torch only where a case needs
one (imported inside the function, so the torch-free cases never load it).
"""

from __future__ import annotations

import pickle
import struct
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from stylecam.contract import INPUT_NAME, OUTPUT_NAME, ModelMetadata

# --------------------------------------------------------------------------------------- images


def scene(height: int, width: int, index: int = 0) -> np.ndarray:
    """A BGR test frame: diagonal bands, a moving disc and a sharp grid (shifts and crops show)."""
    y, x = np.mgrid[0:height, 0:width]
    image = np.dstack([(x * 2 + index * 7) % 256, (y * 3) % 256, ((x + y) // 2 + index * 3) % 256]).astype(np.uint8)
    image[(x % 16 == 0) | (y % 16 == 0)] = (250, 250, 250)
    centre = (int((index * 5) % max(width, 1)), height // 2)
    cv2.circle(image, centre, max(3, min(height, width) // 6), (20, 40, 230), -1)
    return image


def write_image(path: Path, image: np.ndarray) -> Path:
    if not cv2.imwrite(str(path), image):
        raise RuntimeError(f"OpenCV could not write {path}")
    return path


def write_png_bomb(path: Path, width: int = 60000, height: int = 60000) -> Path:
    """A valid-looking PNG whose header claims ``width x height`` (10 GB decoded) with almost no data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        import zlib

        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    import zlib

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = zlib.compress(b"\x00" * 64)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b""))
    return path


# --------------------------------------------------------------------------------------- videos


def write_video(
    path: Path,
    *,
    width: int = 96,
    height: int = 64,
    frames: int = 20,
    fps: int = 10,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    audio: bool = False,
    faststart: bool = False,
    color_trc: int | None = None,
    stamps: list[int] | None = None,
    gop: int = 10,
) -> Path:
    """Encode ``frames`` scene frames; ``stamps`` (in 1/1000 s) gives a variable frame rate."""
    container_options = {"movflags": "+faststart"} if faststart else {}
    options = {"g": str(gop)}
    if codec == "libx264":
        options["crf"] = "16"
    with av.open(str(path), "w", options=container_options) as container:
        stream = container.add_stream(codec, rate=fps, options=options)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        if color_trc is not None:
            stream.codec_context.color_trc = color_trc
        time_base = Fraction(1, 1000)
        if stamps is not None:
            stream.time_base = stream.codec_context.time_base = time_base
        sound = _add_audio(container) if audio else None
        for index in range(frames):
            bgra = cv2.cvtColor(scene(height, width, index), cv2.COLOR_BGR2BGRA)
            bgra[..., 3] = np.linspace(0, 255, width, dtype=np.uint8)[None, :]
            frame = av.VideoFrame.from_ndarray(bgra, format="bgra")
            if stamps is not None:
                frame.pts, frame.time_base = stamps[index], time_base
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
        if sound is not None:
            _write_tone(container, sound, frames / fps)
    return path


def _add_audio(container: av.container.OutputContainer) -> av.AudioStream:
    sound = container.add_stream("aac", rate=22050)
    sound.layout = "mono"
    return sound


def _write_tone(container: av.container.OutputContainer, sound: av.AudioStream, seconds: float) -> None:
    rate = 22050
    wave = (np.sin(2 * np.pi * 330 * np.arange(int(seconds * rate)) / rate) * 6000).astype(np.int16)
    for start in range(0, wave.size, 1024):
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(wave[None, start : start + 1024]), "s16", "mono")
        frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
        container.mux(sound.encode(frame))
    container.mux(sound.encode(None))


def top_level_boxes(data: bytes) -> dict[str, tuple[int, int]]:
    """{box type: (start, end)} of an MP4's top-level boxes."""
    boxes: dict[str, tuple[int, int]] = {}
    position = 0
    while position + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[position : position + 8])
        if size < 8:
            break
        boxes[kind.decode("latin-1")] = (position, position + size)
        position += size
    return boxes


def cut(source: Path, target: Path, *, fraction: float | None = None, at_box: str | None = None) -> Path:
    """Copy ``source`` cut off at a fraction of its length, or in the middle of box ``at_box``."""
    data = source.read_bytes()
    if at_box is not None:
        start, end = top_level_boxes(data)[at_box]
        length = (start + end) // 2
    else:
        length = max(1, int(len(data) * (fraction or 0.5)))
    target.write_bytes(data[:length])
    return target


def damage_media_data(source: Path, target: Path, *, hits: int, seed: int, width: int = 16) -> Path:
    """Overwrite ``hits`` runs of ``width`` random bytes inside the media data only (index intact)."""
    data = bytearray(source.read_bytes())
    start, end = top_level_boxes(bytes(data))["mdat"]
    rng = np.random.default_rng(seed)
    for offset in rng.integers(start + 8, end - width, hits):
        data[offset : offset + width] = rng.integers(0, 256, width, dtype=np.uint8).tobytes()
    target.write_bytes(bytes(data))
    return target


# --------------------------------------------------------------------------------------- models


def _model(
    nodes: list[onnx.NodeProto],
    inputs: list[onnx.ValueInfoProto],
    outputs: list[onnx.ValueInfoProto],
    initializers: list[onnx.TensorProto],
    *,
    opset: int = 17,
    ir_version: int = 8,
    metadata: bool = True,
    extra_opsets: tuple[tuple[str, int], ...] = (),
) -> onnx.ModelProto:
    opsets = [helper.make_opsetid("", opset), *(helper.make_opsetid(d, v) for d, v in extra_opsets)]
    model = helper.make_model(
        helper.make_graph(nodes, "battery", inputs, outputs, initializers),
        opset_imports=opsets,
        producer_name="stylecam-battery",
    )
    model.ir_version = ir_version
    if metadata:
        meta = ModelMetadata(arch="battery", stride=1, precision="fp32", opset=opset, style_name="battery")
        helper.set_model_props(model, meta.to_props())
    return model


def style_model_proto(*, opset: int = 17, ir_version: int = 8, metadata: bool = True) -> onnx.ModelProto:
    """A contract model (uint8 NHWC BGR in/out) computing a warm colour shift: cheap and visible."""
    shape = ["N", "H", "W", 3]
    gain = numpy_helper.from_array(np.array([0.6, 0.9, 1.2], np.float32), "gain")
    nodes = [
        helper.make_node("Cast", [INPUT_NAME], ["x"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["x", "gain"], ["y"]),
        helper.make_node("Clip", ["y", "lo", "hi"], ["c"]),
        helper.make_node("Cast", ["c"], [OUTPUT_NAME], to=TensorProto.UINT8),
    ]
    inits = [gain, numpy_helper.from_array(np.array(0, np.float32), "lo")]
    inits.append(numpy_helper.from_array(np.array(255, np.float32), "hi"))
    io_in = [helper.make_tensor_value_info(INPUT_NAME, TensorProto.UINT8, shape)]
    io_out = [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.UINT8, shape)]
    return _model(nodes, io_in, io_out, inits, opset=opset, ir_version=ir_version, metadata=metadata)


def apply_style(frame_bgr: np.ndarray) -> np.ndarray:
    """What :func:`style_model_proto` does to a BGR frame (for checking outputs)."""
    return np.clip(frame_bgr.astype(np.float32) * np.array([0.6, 0.9, 1.2], np.float32), 0, 255).astype(np.uint8)


def write_style_model(path: Path, **kwargs: object) -> Path:
    onnx.save(style_model_proto(**kwargs), str(path))  # type: ignore[arg-type]
    return path


def write_signature_model(path: Path, *, elem: int, shape: list[int | str]) -> Path:
    """An Identity model with a given input signature (float64, NCHW uint8, one channel...)."""
    io_in = [helper.make_tensor_value_info("x", elem, shape)]
    io_out = [helper.make_tensor_value_info("y", elem, shape)]
    onnx.save(_model([helper.make_node("Identity", ["x"], ["y"])], io_in, io_out, [], metadata=False), str(path))
    return path


def write_custom_op_model(path: Path) -> Path:
    """A contract-shaped model whose node needs a native plug-in from a foreign domain."""
    shape = ["N", "H", "W", 3]
    node = helper.make_node("Paint", [INPUT_NAME], [OUTPUT_NAME], domain="com.example.native")
    io_in = [helper.make_tensor_value_info(INPUT_NAME, TensorProto.UINT8, shape)]
    io_out = [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.UINT8, shape)]
    model = _model([node], io_in, io_out, [], extra_opsets=(("com.example.native", 1),))
    onnx.save(model, str(path))
    return path


def write_external_data_model(path: Path, location: str) -> Path:
    """A style model whose ``gain`` weights are declared to live at ``location`` (e.g. ``../../etc/passwd``)."""
    model = style_model_proto()
    gain = next(t for t in model.graph.initializer if t.name == "gain")
    gain.ClearField("raw_data")
    gain.ClearField("float_data")
    gain.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", "12")):
        entry = gain.external_data.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))
    return path


# ---------------------------------------------------------------------------------- checkpoints


class _Trap:
    """Unpickling this calls ``open(marker, "w")``: the marker file appears if the payload runs."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return open, (self.marker, "w")


def write_raw_pickle_trap(path: Path, marker: Path) -> Path:
    """A plain pickle (no torch zip) whose loading would create ``marker``."""
    path.write_bytes(pickle.dumps({"model": _Trap(marker)}, protocol=2))
    return path


def write_torch_trap(path: Path, marker: Path) -> Path:
    """A torch.save checkpoint (zip) that looks like ours but carries a code-running object."""
    import torch

    payload = {"schema": "stylecam-checkpoint", "schema_version": 1, "model": {"w": torch.zeros(2)}}
    payload["model_config"] = _Trap(marker)
    torch.save(payload, path)
    return path


def write_torch_checkpoint(path: Path, payload: dict[str, object]) -> Path:
    import torch

    torch.save(payload, path)
    return path


def zeros_tensor() -> object:
    import torch

    return torch.zeros(3)


# ----------------------------------------------------------------------------------- packaging


def fake_distribution(folder: Path, name: str, version: str) -> Path:
    """A ``*.dist-info`` folder that makes importlib.metadata report ``name`` as installed."""
    info = folder / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8")
    return folder
