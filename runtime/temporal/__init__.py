"""Temporal stability: optical flow, the output smoother and the warping-error metric.

Imports only ``stylecam`` core and ``runtime.config``/``runtime.metrics``.
"""
