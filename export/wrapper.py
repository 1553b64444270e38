"""The in-graph frame contract: raw uint8 BGR frames in, uint8 BGR frames of the same size out.

:class:`ExportWrapper` puts everything the runtime would otherwise do per frame into the graph
(see :mod:`stylecam.contract`), so a runtime hands decoded frames straight to the accelerator
(uint8 is 4x less to copy than float32) and every provider pads and crops the same way:

1. ``Cast`` uint8 -> float first: TensorRT takes uint8 only at network inputs and outputs, so no
   other op may touch a uint8 tensor;
2. NHWC -> NCHW and BGR -> RGB (the training networks' RGB 0-255 convention);
3. pad height and width up to a multiple of the network stride, and to at least ``min_side``, by
   reflection; where a side is too short to reflect (reflection needs pad < size) the last
   reflected row/column is repeated (edge). Done as one ``Gather`` per axis with computed
   indices, which works for any size >= 1 and has no data-dependent branch;
4. the network; crop back to the input size; RGB -> BGR, NCHW -> NHWC;
5. clamp to 0..255, round half to even, ``Cast`` to uint8 last.
"""

from __future__ import annotations

import torch
from torch import nn

from stylecam.train.model import STRIDE

# The reference network halves the size twice and its 3x3 convolutions at 1/4 scale reflect-pad
# by one pixel, which needs at least 2 pixels there: 2 * STRIDE at full scale. Smaller frames
# (1x1, 3x5) are padded up to it and cropped back.
MIN_SIDE = 2 * STRIDE


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


class ExportWrapper(nn.Module):
    """A network wrapped in the uint8 NHWC BGR frame contract of :mod:`stylecam.contract`.

    Args:
        net: a network with the training pixel contract (float RGB NCHW 0-255, H and W multiples
            of ``stride``).
        stride: the network's size multiple.
        min_side: smallest padded height/width the network accepts.
        compute_dtype: dtype the frames are cast to (float16 for fp16 exports).
    """

    def __init__(
        self,
        net: nn.Module,
        *,
        stride: int = STRIDE,
        min_side: int = MIN_SIDE,
        compute_dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__()
        self.net = net
        self.stride = stride
        self.min_side = max(min_side, stride)
        self.compute_dtype = compute_dtype

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        x = frames.to(self.compute_dtype).permute(0, 3, 1, 2).flip(1)
        height, width = x.shape[2], x.shape[3]
        rows = reflect_indices(height, padded_size(height, self.stride, self.min_side), x.device)
        cols = reflect_indices(width, padded_size(width, self.stride, self.min_side), x.device)
        x = x.index_select(2, rows).index_select(3, cols)
        y = self.net(x)[:, :, :height, :width]
        y = y.flip(1).permute(0, 2, 3, 1)
        return y.clamp(0, 255).round().to(torch.uint8)
