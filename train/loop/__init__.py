"""The training loop: run planning, the engine, checkpoints, resume, distributed runs, interrupts.

Monitoring (TensorBoard, sample grids) and the training-throughput benchmark too. May import
``losses``, ``networks`` and lower; never ``paint``, ``evaluation`` or ``cli``.
"""
