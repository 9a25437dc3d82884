"""Retention terms: when a stored traject closed and until when its personal data is kept.

Reads a store only through the :class:`~eengezin.store.Store` protocol (``load``,
``iter_history``, ``erased``), so the engine can check a term before it erases.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import attrs

from .process.model import Definition
from .traject import MIGRATION_EVENT

if TYPE_CHECKING:
    from .store.contract import Store


@attrs.frozen(slots=True)
class RetentionStatus:
    """Where a traject stands in its retention term.

    ``closed`` is the moment its first track reached a final state (None while open);
    ``until`` the last day its personal data must be kept (None while open); ``passed``
    is True when ``until`` lies before the moment asked about.
    """

    traject_id: str
    closed: datetime | None
    until: date | None
    passed: bool
    statutory: bool
    ground: str
    erased: bool = False


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def closed_at(definition: Definition, store: Store, traject_id: str) -> datetime | None:
    """When the traject's first track entered the final state it is in (None if open)."""
    track_id = next(iter(definition.tracks))
    track = definition.tracks[track_id]
    current = store.load(traject_id).state.get(track_id)
    if current not in track.finals:
        return None
    found: datetime | None = None
    for entry in store.iter_history(traject_id):
        change = entry.change
        if change is None or entry.event == MIGRATION_EVENT:
            continue
        if change.state.get(track_id) == current:
            found = entry.at
    return found


def retention_status(definition: Definition, store: Store, traject_id: str,
                     at: datetime) -> RetentionStatus:
    """The retention status of a stored traject at ``at``."""
    term = definition.retention
    closed = closed_at(definition, store, traject_id)
    until = None if closed is None else _add_years(
        closed.astimezone(definition.timezone).date(), term.years)
    moment = at.astimezone(definition.timezone).date()
    return RetentionStatus(traject_id, closed, until, until is not None and until < moment,
                           term.statutory, term.ground, store.erased(traject_id))


__all__ = ["RetentionStatus", "closed_at", "retention_status"]
