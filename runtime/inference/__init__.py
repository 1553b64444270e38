"""The model: a ``Stylizer`` over one ONNX Runtime session and everything it needs.

Owns model files and names (bundled catalog, paths), the session and its execution providers,
pre/post-processing of frames, the look controls and the crash-safe probe. Imports only
``stylecam`` core and ``runtime.config``/``runtime.metrics``; never ``media``, ``temporal`` or above.
"""
