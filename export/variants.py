"""Exportable forms of a network: fp16 with fp32 instance norm, and the TensorRT-friendly form.

Each variant is a deep copy with some modules swapped; parameter names stay the same (so the
parity gate can rebuild the torch network from the ONNX initializers), only shapes may change
from ``(C,)`` to ``(1, C, 1, 1)`` where an op needs a broadcastable constant.

*fp16.* Weights and activations are float16, except instance normalization: its input is cast to
float32, normalised with float32 statistics and affine parameters, and cast back. Measured on a
reference network trained on CPU, run on photos and video frames (docs/export.md, fp16): activations
entering the first norm reach 475 and their squared deviations 71,904, above float16's maximum
(65504), so a variance computed op by op in float16 overflows to inf and flattens the channel
(42.3 dB min vs fp32); with float32 statistics fp16 gives 61.9 dB min (bar: 40 dB). Kernels that
accumulate in float32 internally (torch's) are fine either way, but the graph must not depend on
which kernel a backend picks. TensorRT's InstanceNormalization importer also needs input, scale
and bias of one type, which the float32 island satisfies.

*Folded.* Compact networks (``lite``, ``fast``) normalise with batch norm, which in eval mode is
a per-channel affine map: it is folded into the convolution before it (:func:`fold_batch_norms`,
torch's ``fuse_conv_bn_eval``), so the exported graph has no normalization op at all. Training-time
gains (``stylecam.train.networks.blocks.SubPixelHead``) are multiplied into the weights (``bake_gain``).
The folded layers keep their parameter names (``...conv.weight``, plus a ``...conv.bias``);
:mod:`stylecam.export.rebuild` folds a fresh network the same way (:func:`fold_for_export`)
before loading a file's initializers into it.

*TensorRT-friendly.* ``InstanceNormalization`` becomes ReduceMean/Sub/Mul/Add/Sqrt/Div and
``Pad(reflect)`` becomes Slice/Concat, so the graph needs nothing beyond elementwise, reduce,
slice and concat layers (for TensorRT builds without the instance-norm plugin, TensorRT < 8.2
without reflect padding, and other compilers). The parity gate proves it equal to the standard form.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

# Instance-norm epsilon of nn.InstanceNorm2d, kept by the decomposed form.
_EPS = 1e-5


class Float32InstanceNorm(nn.Module):
    """Affine instance norm computed in float32 whatever the input dtype (the fp16 graph's island)."""

    keeps_float32 = True

    def __init__(self, norm: nn.InstanceNorm2d) -> None:
        super().__init__()
        self.weight = nn.Parameter(norm.weight.detach().float().clone())
        self.bias = nn.Parameter(norm.bias.detach().float().clone())
        self.eps = norm.eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.instance_norm(x.float(), weight=self.weight, bias=self.bias, eps=self.eps).to(x.dtype)


class DecomposedInstanceNorm(nn.Module):
    """Instance norm as ReduceMean/Sub/Mul/Add/Sqrt/Div; parameters stored as ``(1, C, 1, 1)``.

    Args:
        norm: the ``nn.InstanceNorm2d`` to replace (affine).
        float32_statistics: compute in float32 and cast back (the fp16 graph).
    """

    def __init__(self, norm: nn.InstanceNorm2d, *, float32_statistics: bool = False) -> None:
        super().__init__()
        self.weight = nn.Parameter(norm.weight.detach().reshape(1, -1, 1, 1).clone())
        self.bias = nn.Parameter(norm.bias.detach().reshape(1, -1, 1, 1).clone())
        self.eps = norm.eps
        self.float32_statistics = float32_statistics
        self.keeps_float32 = float32_statistics

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x.float() if self.float32_statistics else x
        mean = y.mean(dim=(2, 3), keepdim=True)
        centered = y - mean
        variance = (centered * centered).mean(dim=(2, 3), keepdim=True)
        y = centered / torch.sqrt(variance + self.eps) * self.weight + self.bias
        return y.to(x.dtype)


class SliceReflectionPad2d(nn.Module):
    """Reflection padding built from one-row/column slices and a concat (no ``Pad`` op)."""

    def __init__(self, pad: int) -> None:
        super().__init__()
        self.pad = pad

    def _reflect(self, x: torch.Tensor, dim: int) -> torch.Tensor:
        size = x.shape[dim]
        before = [x.narrow(dim, i, 1) for i in range(self.pad, 0, -1)]
        after = [x.narrow(dim, size - 1 - i, 1) for i in range(1, self.pad + 1)]
        return torch.cat([*before, x, *after], dim=dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._reflect(self._reflect(x, 2), 3)


def _swap(net: nn.Module, kind: type[nn.Module], factory: Callable[[nn.Module], nn.Module]) -> None:
    # Collect first: replacing children while iterating named_modules() would skip some.
    targets = [(name, module) for name, module in net.named_modules() if isinstance(module, kind) and name]
    for name, module in targets:
        parent_name, _, child = name.rpartition(".")
        parent = net.get_submodule(parent_name) if parent_name else net
        setattr(parent, child, factory(module))


def _reflection_pad_size(module: nn.Module) -> int:
    pads = set(module.padding)  # type: ignore[attr-defined]
    if len(pads) != 1:
        raise ValueError(f"only symmetric reflection padding can be decomposed, got {module.padding}")
    return pads.pop()


def fold_batch_norms(net: nn.Module) -> int:
    """Fold every eval-mode ``BatchNorm2d`` into the ``Conv2d`` of its unit, in place; returns how many.

    A unit is a module with ``conv`` and ``norm`` children (``stylecam.train.networks.blocks.ConvNormAct``);
    its norm becomes ``nn.Identity``. A ``BatchNorm2d`` anywhere else is refused (ValueError): it
    would stay in the graph as a separate op.
    """
    folded = 0
    for module in net.modules():
        conv, norm = getattr(module, "conv", None), getattr(module, "norm", None)
        if isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d):
            module.conv = fuse_conv_bn_eval(conv.eval(), norm.eval())
            module.norm = nn.Identity()
            folded += 1
    left = [name for name, module in net.named_modules() if isinstance(module, nn.BatchNorm2d)]
    if left:
        raise ValueError(f"batch norm {left[0]} does not follow a conv it could fold into")
    return folded


def fold_for_export(net: nn.Module) -> nn.Module:
    """Bake training-time gains and fold batch norms, in place (eval mode); returns ``net``."""
    net.eval()
    for module in net.modules():
        bake = getattr(module, "bake_gain", None)
        if callable(bake):
            bake()
    fold_batch_norms(net)
    return net


def _half_except_float32_islands(net: nn.Module) -> None:
    # Module by module (recurse=False) so the fp32 norm islands keep their float32 parameters.
    for module in net.modules():
        if getattr(module, "keeps_float32", False):
            continue
        for tensor in [*module.parameters(recurse=False), *module.buffers(recurse=False)]:
            if tensor.is_floating_point():
                tensor.data = tensor.data.half()


def prepare_network(
    net: nn.Module, *, fp16: bool = False, trt_friendly: bool = False, norm_fp32: bool = True
) -> nn.Module:
    """Return an eval-mode copy of ``net`` in the requested export form (``net`` is not modified).

    Args:
        net: a float32 training network.
        fp16: convert weights to float16.
        trt_friendly: decompose instance norm and reflection padding into basic ops.
        norm_fp32: with ``fp16``, keep instance-norm statistics and parameters in float32.
    """
    variant = fold_for_export(copy.deepcopy(net).float())
    keep_fp32 = fp16 and norm_fp32
    if trt_friendly:
        _swap(variant, nn.ReflectionPad2d, lambda m: SliceReflectionPad2d(_reflection_pad_size(m)))
        _swap(variant, nn.InstanceNorm2d, lambda m: DecomposedInstanceNorm(m, float32_statistics=keep_fp32))
    elif keep_fp32:
        _swap(variant, nn.InstanceNorm2d, Float32InstanceNorm)
    if fp16:
        _half_except_float32_islands(variant)
    return variant.requires_grad_(False)
