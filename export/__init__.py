"""Export side of stylecam: trained checkpoints to checked ONNX files with metadata (needs torch)."""
