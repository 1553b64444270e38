"""Rebuild the torch network of an exported model from its initializers, and gate shipped models.

Shipped models come without checkpoints, yet CI must still prove them against PyTorch. The
metadata holds the ``model_config``, and the dynamo exporter names initializers after the
parameters (``net.conv1.conv2d.weight``), so the float32 torch network can be rebuilt from the
file itself (fp16 weights are widened; merged duplicates are found through
``stylecam.param_aliases``). ONNX Runtime then runs against that network.
"""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import torch
from onnx import numpy_helper

from stylecam.errors import ModelLoadError
from stylecam.export.metadata import K_PARAM_ALIASES, ZEROS_ALIAS
from stylecam.export.variants import fold_for_export
from stylecam.export.verify import ParityReport, verify_parity, write_report
from stylecam.onnxfile import load_onnx_safely, metadata_of
from stylecam.train.networks.model import ModelConfig, build_model

PREFIX = "net."  # ExportWrapper holds the network as `net`


def network_from_onnx(model: onnx.ModelProto, *, source: str = "model") -> torch.nn.Module:
    """The float32 torch network whose weights are the model's initializers.

    Batch norms were folded into their convolutions (and parametrizations baked) at export, so
    the network is folded the same way before the weights are loaded (a no-op for the reference).
    """
    meta = metadata_of(model, source=source)
    if not meta.model_config:
        raise ModelLoadError(f"{source} has no stylecam.model_config metadata; re-export it with stylecam export")
    try:
        net = build_model(ModelConfig.from_dict(meta.model_config))
    except Exception as exc:  # UsageError from an unknown config: a model from a newer stylecam
        raise ModelLoadError(f"{source} has a model config this stylecam cannot build ({exc}); upgrade") from exc
    fold_for_export(net)
    aliases = json.loads(meta.extra.get(K_PARAM_ALIASES, "{}"))
    inits = {init.name: init for init in model.graph.initializer}
    state = {}
    for key, param in net.state_dict().items():
        name = aliases.get(PREFIX + key, PREFIX + key)
        if name == ZEROS_ALIAS:
            state[key] = torch.zeros_like(param)
            continue
        if name not in inits:
            raise ModelLoadError(f"{source} has no weights for {key}; it was not exported by stylecam export")
        value = torch.from_numpy(numpy_helper.to_array(inits[name]).copy()).float()
        if value.numel() != param.numel():
            raise ModelLoadError(f"{source}: {key} has {value.numel()} values, the config needs {param.numel()}")
        state[key] = value.reshape(param.shape)
    net.load_state_dict(state)
    return net.eval()


def verify_onnx_model(
    path: str | Path,
    *,
    sizes: tuple[tuple[int, int, int], ...] | None = None,
    write: bool = True,
) -> ParityReport:
    """Run the parity gate on an exported model without its checkpoint; write ``MODEL.parity.json``.

    Returns the report (check ``.passed`` or call ``.raise_if_failed()``).
    """
    model = load_onnx_safely(path)
    net = network_from_onnx(model, source=str(path))
    report = verify_parity(path, net, sizes=sizes)
    if write:
        write_report(report, path)
    return report
