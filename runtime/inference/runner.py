"""One inference call on a session: plain ``session.run`` or IO binding.

With IO binding the input is bound from host memory and the output is bound to the session's
device, so on CUDA/TensorRT the result stays on the GPU until one explicit copy back (no extra
host round trip inside ORT). On CPU both paths compute the same thing; a test pins that.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from stylecam.runtime.inference.providers import GPU_PROVIDERS


def device_of(providers: Sequence[str]) -> str:
    """``cuda`` when the session's first provider runs on the GPU, else ``cpu``."""
    return "cuda" if providers and providers[0] in GPU_PROVIDERS else "cpu"


class SessionRunner:
    """Callable running one input through ``session``; not thread-safe (one binding object reused)."""

    def __init__(
        self, session: Any, input_name: str, output_name: str, *, iobinding: bool, device: str, device_id: int = 0
    ) -> None:
        self._session = session
        self._input = input_name
        self._output = output_name
        self._device = device
        self._device_id = device_id if device != "cpu" else 0
        self._binding = session.io_binding() if iobinding else None

    @property
    def uses_iobinding(self) -> bool:
        return self._binding is not None

    def __call__(self, feed: npt.NDArray[Any]) -> npt.NDArray[Any]:
        if self._binding is None:
            return self._session.run([self._output], {self._input: feed})[0]
        binding = self._binding
        binding.bind_cpu_input(self._input, feed)
        # Output shape depends on the input size, so let ORT allocate it on the device.
        binding.bind_output(self._output, self._device, self._device_id)
        self._session.run_with_iobinding(binding)
        result = binding.copy_outputs_to_cpu()[0]
        binding.clear_binding_outputs()
        return np.asarray(result)
