"""What the `results` subcommands share: the default key store and the exit code of an error."""

from __future__ import annotations

import os
from pathlib import Path

EXIT_ERROR = 1


def default_keys() -> str:
    """The key store folder when --keys is not given: under XDG_DATA_HOME."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "results-online" / "keys")
