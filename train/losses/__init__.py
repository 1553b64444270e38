"""Losses: frozen VGG19 features, pure loss functions, the training criterion, the perceptual scorer.

Also the painting (style image) loader. May import ``train.networks`` and lower; never ``loop``.
"""
