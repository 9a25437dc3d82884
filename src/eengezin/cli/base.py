"""Exit codes and the usage error, shared by every command (imported at start-up: keep light)."""

from __future__ import annotations

from ..errors import EengezinError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class UsageError(EengezinError):
    """Bad input to the command line (exit 2)."""
