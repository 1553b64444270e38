"""``python -m stylecam`` is the same as the ``stylecam`` command."""

from stylecam.cli import main

raise SystemExit(main())
