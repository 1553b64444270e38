"""``stylecam serve``: a local web page whose camera is painted live by this machine's models.

Owns the server's configuration and security checks, the frame codec with its size limits, the
per-browser client state, the one inference worker that serves every client in turn, the
Starlette/uvicorn app and the page's static files. May import ``inference``, ``media``,
``temporal`` and ``live`` (and lower); never ``pipeline``, ``bench`` or ``cli``.
"""
