"""Rebuild the torch network of an exported model from its initializers, and gate shipped models.

Shipped models come without checkpoints, yet CI must still prove them against PyTorch. The
metadata holds the ``model_config``, and the dynamo exporter names initializers after the
parameters (``net.conv1.conv2d.weight``), so the float32 torch network can be rebuilt from the
file itself (fp16 weights are widened; merged duplicates are found through
``stylecam.param_aliases``). ONNX Runtime then runs against that network.

That network is the export's form (batch norms folded, gains baked). :func:`trainable_network`
turns it back into the form training builds, to start a training from a shipped model.
"""

from __future__ import annotations

import json
from collections.abc import Callable
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


def _units(net: torch.nn.Module) -> dict[str, torch.nn.Module]:
    """The conv + batch-norm units of a training network (what :func:`fold_for_export` folds), by name."""
    return {
        name: module
        for name, module in net.named_modules()
        if isinstance(getattr(module, "conv", None), torch.nn.Conv2d)
        and isinstance(getattr(module, "norm", None), torch.nn.BatchNorm2d)
    }


@torch.no_grad()
def trainable_network(
    folded: torch.nn.Module, config: ModelConfig, images: torch.Tensor | None = None
) -> torch.nn.Module:
    """The network that training builds for ``config``, computing what ``folded`` (from
    :func:`network_from_onnx`) computes: the inverse of :func:`fold_for_export`.

    A folded unit is a convolution with a bias ``b``; its training form is the convolution without
    bias (``z = W x``) and a batch norm. Any running statistics ``(m, v)`` with scale ``sqrt(v + eps)``
    and shift ``m + b`` give ``z + b`` in eval mode. In training mode batch norm uses the batch's own
    statistics, so ``(m, v)`` are measured: the per-channel mean and variance of ``z`` over
    ``images`` (float RGB ``(N, 3, H, W)``, 0..255, sizes the network accepts; a few training
    photos). Without images they are (0, 1 - eps): exact in eval mode only. Baked gains are divided out
    again. A network with nothing folded (the reference) comes back with the same weights.

    Raises:
        ModelLoadError: the weights do not fit ``config``'s network.
    """
    net = build_model(config)
    units = _units(net)
    source = folded.state_dict()
    state = {}
    for key, value in net.state_dict().items():
        unit, _, rest = key.rpartition(".norm.")
        if unit in units and rest:  # filled in below from the folded conv's bias
            state[key] = value.clone()
        elif key in source:
            state[key] = source[key].detach().clone()
        else:
            raise ModelLoadError(f"the rebuilt network has no weights for {key}; it does not fit {config.arch}")
    for name, unit in units.items():
        bias = source.get(f"{name}.conv.bias")
        if bias is None:
            raise ModelLoadError(f"the rebuilt network's {name} is not folded; it does not fit {config.arch}")
        eps = unit.norm.eps
        state[f"{name}.norm.running_mean"] = torch.zeros_like(bias)
        state[f"{name}.norm.running_var"] = torch.full_like(bias, 1.0 - eps)
        state[f"{name}.norm.weight"] = torch.ones_like(bias)
        state[f"{name}.norm.bias"] = bias.detach().clone()
    for name, module in net.named_modules():
        for key, factor in getattr(module, "BAKED", {}).items():  # GuideHead: stored / factor
            state[f"{name}.{key}"] = state[f"{name}.{key}"] / factor
        gain = getattr(module, "gain", 1.0)
        if callable(getattr(module, "bake_gain", None)) and gain != 1.0:  # SubPixelHead: stored / gain
            for key in (f"{name}.conv.weight", f"{name}.conv.bias"):
                state[key] = state[key] / gain
    extra = sorted(set(source) - set(state) - {f"{name}.conv.bias" for name in units})
    if extra:
        raise ModelLoadError(f"the rebuilt network has weights {extra[:3]} that {config.arch} does not have")
    try:
        net.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0][:200]
        raise ModelLoadError(f"the rebuilt network's weights do not fit {config.arch} ({first})") from exc
    net.eval()
    if images is not None and units:
        _measure_batch_norms(net, units, images)
    return net


def _measure_batch_norms(net: torch.nn.Module, units: dict[str, torch.nn.Module], images: torch.Tensor) -> None:
    """Set each unit's statistics to those of its conv output over ``images``, keeping the eval-mode output."""
    seen: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    def hook(name: str) -> Callable[[torch.nn.Module, tuple[torch.Tensor, ...]], None]:
        def record(module: torch.nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
            z = inputs[0].double()
            seen[name] = (z.mean(dim=(0, 2, 3)), z.var(dim=(0, 2, 3), unbiased=False))

        return record

    handles = [unit.norm.register_forward_pre_hook(hook(name)) for name, unit in units.items()]
    try:
        net(images.float())  # eval mode: every unit's output is exact whatever the statistics, so one pass
    finally:
        for handle in handles:
            handle.remove()
    for name, unit in units.items():
        norm = unit.norm
        mean, var = seen[name]
        bias = norm.bias.double()  # the folded conv's bias (set above, statistics (0, 1 - eps))
        norm.running_mean.copy_(mean)
        norm.running_var.copy_(var)
        norm.weight.copy_(torch.sqrt(var + norm.eps))
        norm.bias.copy_(mean + bias)


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
