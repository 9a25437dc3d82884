"""Rows to values and back: history entries, snapshots and definitions as JSON text."""

from __future__ import annotations

import json
from typing import Any

import cattrs

from ..decision import Decision
from ..errors import SerializationError
from ..serialization import converter, traject_from_dict, traject_to_dict
from ..traject import MIGRATION_EVENT, DefinitionRef, HistoryEntry, Traject
from .errors import StoreCorruptError

__all__ = ["MIGRATION_EVENT", "decision_from_json", "decision_to_json", "dumps", "entry_from_json",
           "entry_to_json", "ref_dict", "snapshot_from_json", "snapshot_to_json"]


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
    except (ValueError, TypeError, KeyError, RecursionError, cattrs.BaseValidationError):
        raise StoreCorruptError("unreadable history entry") from None


def snapshot_to_json(traject: Traject) -> str:
    """The traject (a snapshot: its log lives in its own rows)."""
    return dumps(traject_to_dict(traject))


def snapshot_from_json(text: str) -> Traject:
    """Read a snapshot; raise :class:`StoreCorruptError`."""
    try:
        return traject_from_dict(json.loads(text))
    except (ValueError, SerializationError, RecursionError):
        raise StoreCorruptError("unreadable snapshot") from None


def decision_to_json(decision: Decision) -> str:
    """An outbox record's body."""
    return dumps(converter.unstructure(decision))


def decision_from_json(text: str) -> Decision:
    """Read an outbox record's body; raise :class:`StoreCorruptError`."""
    try:
        return converter.structure(json.loads(text), Decision)
    except (ValueError, TypeError, KeyError, RecursionError, cattrs.BaseValidationError):
        raise StoreCorruptError("unreadable outbox record") from None


def ref_dict(ref: DefinitionRef) -> dict[str, str]:
    """A definition reference as a JSON object."""
    return {"id": ref.id, "version": ref.version, "hash": ref.hash}
