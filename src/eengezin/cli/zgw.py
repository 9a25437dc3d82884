"""The ``zgw`` commands; they live in :mod:`eengezin.zgw.cli` (see docs/zgw.md)."""

from __future__ import annotations

from ..zgw.cli import cmd_relay, cmd_zaaktype

__all__ = ["cmd_relay", "cmd_zaaktype"]
