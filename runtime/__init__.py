"""Runtime side of stylecam: ONNX Runtime + numpy + OpenCV (+ PyAV for files). Never imports torch.

The ``.onnx`` file and its ``metadata_props`` are the only contract with training. Layers, lowest
first (a module imports only from its own subpackage or a lower layer; ``tests/test_layers.py``
pins it):

* ``config``, ``metrics``: settings dataclasses and counters shared by everything;
* ``inference`` (the model), ``media`` (sources and sinks of frames), ``temporal`` (smoothing and
  the stability metric): peers that do not import each other;
* ``live``: the window, its overlay and hotkeys, the style deck;
* ``pipeline``: the threads that move frames from a source through the model to a sink;
* ``bench``: benchmarks of the model and of the whole pipeline;
* ``cli``: the ``stylecam`` subcommands that run models (argparse lives only here).
"""
