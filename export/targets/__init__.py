"""Deployment targets beyond a plain ONNX file (a Triton model repository)."""
