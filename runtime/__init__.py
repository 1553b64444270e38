"""Runtime side of stylecam: ONNX Runtime + numpy + OpenCV (+ PyAV for files). Never imports torch.

The ``.onnx`` file and its ``metadata_props`` are the only contract with training.
"""
