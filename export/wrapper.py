"""The in-graph frame contract: raw uint8 BGR frames in, uint8 BGR frames of the same size out.

:class:`ExportWrapper` puts everything the runtime would otherwise do per frame into the graph
(see :mod:`stylecam.contract`), so a runtime hands decoded frames straight to the accelerator
(uint8 is 4x less to copy than float32) and every provider pads and crops the same way:

1. ``Cast`` uint8 -> float first: TensorRT takes uint8 only at network inputs and outputs, so no
   other op may touch a uint8 tensor;
2. NHWC -> NCHW and BGR -> RGB (the training networks' RGB 0-255 convention);
3. pad height and width up to a multiple of the network stride, and to at least ``min_side``, by
   reflection, plus ``border`` reflected pixels on every side for networks that pad with zeros
   inside (so their zero border falls outside the picture); where a side is too short to reflect
   (reflection needs pad < size) the last reflected row/column is repeated (edge). Each axis is
   one ``Concat`` of the frame with the few rows/columns ``Gather``-ed for the margins, computed
   from the size: it works for any size >= 1 and has no data-dependent branch;
4. the network; crop back to the input size; RGB -> BGR, NCHW -> NHWC;
5. clamp to 0..255, round half to even, ``Cast`` to uint8 last.

Speed (ORT CPU, 640x360, measured while designing the ``lite`` network): a ``Gather`` of the whole
frame along the width copies one float at a time, and a reversed ``Slice`` (``flip``) does too;
they took 12 and 11 ms per frame, more than the whole ``lite`` network. Gathering channels on the
channel axis (whole planes) and concatenating only the margins does the same in about 1 ms.
"""

from __future__ import annotations

import torch
from torch import nn

from stylecam.train.networks.model import STRIDE

# The reference network halves the size twice and its 3x3 convolutions at 1/4 scale reflect-pad
# by one pixel, which needs at least 2 pixels there: 2 * STRIDE at full scale. Smaller frames
# (1x1, 3x5) are padded up to it and cropped back. Networks declare their own (``min_side``).
MIN_SIDE = 2 * STRIDE
# BGR <-> RGB as a Gather of whole channel planes (the same permutation both ways).
_SWAP_RB = (2, 1, 0)


def reflect_indices(size: int | torch.SymInt, target: int | torch.SymInt, device: torch.device) -> torch.Tensor:
    """Indices ``0..target-1`` into an axis of ``size``: identity, then reflection, then edge.

    For ``size=5, target=8``: ``0 1 2 3 4 3 2 1``. For ``size=2, target=8``: ``0 1 0 0 0 0 0 0``
    (reflection runs out after one row; the rest repeats the edge it reached).
    """
    index = torch.arange(target, device=device)
    mirrored = (2 * size - 2) - index
    return torch.where(index < size, index, mirrored).clamp_min(0)


def padded_size(size: int | torch.SymInt, stride: int, min_side: int) -> int | torch.SymInt:
    """Smallest multiple of ``stride`` that is >= ``size`` and >= ``min_side`` (no guards on SymInts)."""
    rounded = ((size + stride - 1) // stride) * stride
    return torch.sym_max(rounded, min_side)


def pad_axis(x: torch.Tensor, dim: int, before: int, target: int | torch.SymInt) -> torch.Tensor:
    """Reflect-pad ``x`` along ``dim`` by ``before`` in front and up to ``target`` in all.

    Equal to ``x.index_select(dim, indices)`` with :func:`reflect_indices` extended to the front
    (row ``-k`` reads row ``min(k, size - 1)``), but only the margins are gathered.
    """
    size = x.shape[dim]
    tail = torch.arange(size, target - before, device=x.device)
    parts = [x, x.index_select(dim, ((2 * size - 2) - tail).clamp_min(0))]
    if before:
        head = torch.arange(before, 0, -1, device=x.device).clamp_max(size - 1)
        parts.insert(0, x.index_select(dim, head))
    return torch.cat(parts, dim)


class ExportWrapper(nn.Module):
    """A network wrapped in the uint8 NHWC BGR frame contract of :mod:`stylecam.contract`.

    Args:
        net: a network with the training pixel contract (float RGB NCHW 0-255, H and W multiples
            of ``stride``).
        stride: the network's size multiple (default: ``net.stride``, else 4).
        min_side: smallest padded height/width the network accepts (default: ``net.min_side``).
        border: reflected pixels added on every side and cropped off again (default: ``net.border``, else 0).
        compute_dtype: dtype the frames are cast to (float16 for fp16 exports).
    """

    def __init__(
        self,
        net: nn.Module,
        *,
        stride: int | None = None,
        min_side: int | None = None,
        border: int | None = None,
        compute_dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__()
        self.net = net
        self.stride = int(stride if stride is not None else getattr(net, "stride", STRIDE))
        min_side = min_side if min_side is not None else getattr(net, "min_side", MIN_SIDE)
        self.min_side = max(int(min_side), self.stride)
        self.border = int(border if border is not None else getattr(net, "border", 0))
        self.compute_dtype = compute_dtype

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        swap = torch.tensor(_SWAP_RB, device=frames.device)
        x = frames.to(self.compute_dtype).permute(0, 3, 1, 2).index_select(1, swap)
        height, width = x.shape[2], x.shape[3]
        b = self.border
        x = pad_axis(x, 2, b, padded_size(height + 2 * b, self.stride, self.min_side))
        x = pad_axis(x, 3, b, padded_size(width + 2 * b, self.stride, self.min_side))
        y = self.net(x)[:, :, b : b + height, b : b + width]
        y = y.index_select(1, swap).permute(0, 2, 3, 1)
        return y.clamp(0, 255).round().to(torch.uint8)
