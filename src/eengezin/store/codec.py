"""Rows to values and back: history entries, snapshots and definitions as JSON text."""

from __future__ import annotations

import json
from typing import Any

import attrs
import cattrs

from ..errors import SerializationError
from ..serialization import converter, traject_from_dict, traject_to_dict
from ..traject import DefinitionRef, HistoryEntry, Traject
from .errors import StoreCorruptError

MIGRATION_EVENT = "definitie_migreren"
"""Name of the history entry a migration journals (never a definition's own event)."""


def dumps(value: Any) -> str:
    """Compact, key-sorted JSON (stable, so equal values give equal text)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def entry_to_json(entry: HistoryEntry) -> str:
    """One history entry as JSON text."""
    return dumps(converter.unstructure(entry))


def entry_from_json(text: str) -> HistoryEntry:
    """Read an entry written by :func:`entry_to_json`; raise :class:`StoreCorruptError`."""
    try:
        return converter.structure(json.loads(text), HistoryEntry)
    except (ValueError, TypeError, KeyError, cattrs.BaseValidationError) as exc:
        raise StoreCorruptError(f"unreadable history entry: {exc}") from None


def snapshot_to_json(traject: Traject) -> str:
    """The traject without its history (the history lives in its own rows)."""
    return dumps(traject_to_dict(attrs.evolve(traject, history=())))


def snapshot_from_json(text: str, history: tuple[HistoryEntry, ...]) -> Traject:
    """Read a snapshot and attach ``history``; raise :class:`StoreCorruptError`."""
    try:
        snap = traject_from_dict(json.loads(text))
    except (ValueError, SerializationError) as exc:
        raise StoreCorruptError(f"unreadable snapshot: {exc}") from None
    return attrs.evolve(snap, history=history)


def ref_dict(ref: DefinitionRef) -> dict[str, str]:
    """A definition reference as a JSON object."""
    return {"id": ref.id, "version": ref.version, "hash": ref.hash}
