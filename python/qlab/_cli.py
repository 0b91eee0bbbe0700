"""The ``qlab`` console command that ``pip install`` puts on the PATH."""

from __future__ import annotations

import signal
import sys

from qlab import _core


def main() -> None:
    """Runs the ``qlab`` command line, as the cargo-built binary does, and exits with its
    status."""
    # The command handles SIGINT, SIGTERM and SIGHUP itself (`qlab train` stops cleanly on the
    # first), as the binary does: Python's handlers would hold them until the command returns.
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    sys.stdout.flush()
    sys.exit(_core.cli(["qlab", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
