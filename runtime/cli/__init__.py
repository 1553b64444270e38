"""The runtime subcommands (``live``, ``convert``, ``image``, ``run``, ``bench``, ``styles``, ``demo``).

The only place in the runtime with argparse; it maps options to the config dataclasses and calls
the layers below. Errors stay typed here: only ``stylecam.cli`` turns them into exit codes.
"""
