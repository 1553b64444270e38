"""``stylecam paint``: optimisation-based style transfer of one image (Gatys et al.).

May import ``losses`` and lower.
"""
