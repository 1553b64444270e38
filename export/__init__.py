"""Export side of stylecam: trained checkpoints to checked ONNX files with metadata (needs torch).

Top level: the export itself (``onnx``, ``wrapper``, ``metadata``, ``opset``, ``variants``), the
parity gate (``verify``, ``frames``, ``rebuild``) and the CLI. ``bundle``: packaging the bundled
styles (model cards, catalog, measurements). ``targets``: serving targets (Triton). May import
``train`` and ``runtime``; nothing imports export (except lazy, listed exceptions).
"""
