"""A Triton Inference Server model repository for an exported model.

Layout (Triton's model repository convention)::

    DIR/<name>/config.pbtxt
    DIR/<name>/1/model.onnx

The config serves the model with the ONNX Runtime backend, dynamic batch/height/width (``-1``),
the dynamic batcher (Triton only batches requests of the same frame size together), GPU
instances, and the TensorRT execution accelerator in FP16 with an engine cache (a TensorRT engine
is built per new input shape range; the cache keeps it across restarts). Torch-free.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from stylecam.atomic import atomic_output
from stylecam.contract import INPUT_NAME, OUTPUT_NAME
from stylecam.errors import OutputError, UsageError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
TRT_PRECISIONS = ("FP16", "FP32")


def check_triton_target(repository: str | os.PathLike[str], name: str) -> Path:
    """Validate a repository folder and model name before any work; return ``DIR/<name>``."""
    if not _NAME.match(name):
        raise UsageError(f"Triton model name {name!r} must be letters, digits, '_', '.', '-' (e.g. starry_night)")
    root = Path(repository).expanduser()
    if root.exists() and not root.is_dir():
        raise OutputError(f"Triton repository {root} is a file; give a folder (it is created if missing)")
    parent = root if root.exists() else root.parent
    if not parent.is_dir():
        raise OutputError(f"folder {parent} does not exist; create it first (mkdir -p {parent})")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"folder {parent} is not writable; choose another Triton repository folder")
    return root / name


def triton_config(
    name: str,
    *,
    max_batch_size: int = 8,
    instances: int = 1,
    precision: str = "FP16",
    cache_path: str = "/tmp/stylecam_trt_cache",
    queue_delay_us: int = 2000,
) -> str:
    """The ``config.pbtxt`` text (protobuf text format of Triton's ModelConfig)."""
    if max_batch_size < 1 or instances < 1:
        raise UsageError("Triton max batch size and instance count must be >= 1")
    if precision not in TRT_PRECISIONS:
        raise UsageError(f"TensorRT precision {precision!r}; choose one of: {', '.join(TRT_PRECISIONS)}")
    accelerator = {
        "precision_mode": precision,
        "max_workspace_size_bytes": str(1 << 30),
        "trt_engine_cache_enable": "1",
        "trt_engine_cache_path": cache_path,
        "trt_timing_cache_enable": "1",
        "trt_timing_cache_path": cache_path,
    }
    parameters = "\n".join(
        f'        parameters {{ key: "{key}" value: "{value}" }}' for key, value in accelerator.items()
    )
    tensor = 'name: "{}"\n    data_type: TYPE_UINT8\n    dims: [ -1, -1, 3 ]'
    return f"""# Written by stylecam export. uint8 NHWC BGR frames in, stylized frames of the same size out.
name: "{name}"
backend: "onnxruntime"
max_batch_size: {max_batch_size}
input [
  {{
    {tensor.format(INPUT_NAME)}
  }}
]
output [
  {{
    {tensor.format(OUTPUT_NAME)}
  }}
]
instance_group [
  {{
    count: {instances}
    kind: KIND_GPU
  }}
]
dynamic_batching {{
  max_queue_delay_microseconds: {queue_delay_us}
}}
optimization {{
  execution_accelerators {{
    gpu_execution_accelerator [
      {{
        name: "tensorrt"
{parameters}
      }}
    ]
  }}
}}
"""


def write_triton_repository(
    model: str | os.PathLike[str],
    repository: str | os.PathLike[str],
    *,
    name: str | None = None,
    max_batch_size: int = 8,
    instances: int = 1,
    precision: str = "FP16",
) -> Path:
    """Copy ``model`` into ``repository/<name>/1/model.onnx`` and write its config; return the model folder."""
    model = Path(model)
    name = name or model.stem
    model_dir = check_triton_target(repository, name)
    config = triton_config(name, max_batch_size=max_batch_size, instances=instances, precision=precision)
    (model_dir / "1").mkdir(parents=True, exist_ok=True)
    with atomic_output(model_dir / "1" / "model.onnx", inputs=[model]) as tmp:
        shutil.copyfile(model, tmp)
    with atomic_output(model_dir / "config.pbtxt") as tmp:
        tmp.write_text(config)
    return model_dir
