"""``stylecam eval``: warping error (flicker) and style/content loss of a model on a video.

Runs exported models through ``stylecam.runtime`` and scores them with ``train.losses``.
"""
