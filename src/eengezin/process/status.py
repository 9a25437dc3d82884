"""Open deadlines as seen at a moment (pure; for hosts, the CLI and the engine)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import attrs

from ..traject import OpenDeadline
from .model import Definition

__all__ = ["DeadlineStatus", "deadline_statuses"]


@attrs.frozen(slots=True)
class DeadlineStatus:
    """A running deadline as seen at a moment."""

    id: str
    started: date
    due: date
    overdue: bool
    message: str
    source: str


def deadline_statuses(definition: Definition, open_deadlines: Iterable[OpenDeadline],
                      at: datetime | date) -> list[DeadlineStatus]:
    """Each open deadline at ``at``, sorted by due date."""
    out: list[DeadlineStatus] = []
    for d in sorted(open_deadlines, key=lambda d: (d.due, d.id)):
        spec = definition.deadlines.get(d.id)
        out.append(DeadlineStatus(
            id=d.id, started=d.started, due=d.due, overdue=d.overdue(at),
            message=spec.violation.message if spec else "", source=spec.violation.source if spec else "",
        ))
    return out
