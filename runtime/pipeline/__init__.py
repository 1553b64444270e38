"""Moving frames: reader thread -> stylize + smooth on the main thread -> writer thread.

Also what a run writes (``plan``, ``sinks``), image batches and the bundled demo. May import
``live`` and everything below it; never ``bench`` or ``cli``.
"""
