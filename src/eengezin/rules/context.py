"""The read-only view a condition gets of a traject and the event under test."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any


class Context:
    """What predicates read. Cheap to build: roots are computed on demand.

    Attributes a host predicate may use: ``data`` (payload), ``facts``,
    ``state`` (track -> dotted state), ``actor_id``, ``actor_role``, ``event``
    (its id), ``at`` (the event's moment), ``params``, ``seen`` (ids of the
    events accepted before in this traject), ``deadlines`` (open deadlines by id) and ``item``.
    """

    __slots__ = (
        "actor_id",
        "actor_role",
        "at",
        "data",
        "deadlines",
        "event",
        "facts",
        "item",
        "params",
        "seen",
        "state",
    )

    def __init__(
        self,
        *,
        data: Mapping[str, Any],
        facts: Mapping[str, Any],
        state: Mapping[str, str],
        event: str,
        at: datetime,
        actor_id: str | None = None,
        actor_role: str | None = None,
        params: Mapping[str, Any],
        seen: frozenset[str] = frozenset(),
        deadlines: Mapping[str, Any] | None = None,
    ) -> None:
        self.data = data
        self.facts = facts
        self.state = state
        self.event = event
        self.at = at
        self.actor_id = actor_id
        self.actor_role = actor_role
        self.params = params
        self.seen = seen
        self.deadlines = deadlines if deadlines is not None else {}
        self.item: Any = None

    def root(self, name: str) -> Any:
        if name == "data":
            return self.data
        if name == "facts":
            return self.facts
        if name == "item":
            return self.item
        if name == "state":
            return self.state
        if name == "params":
            return self.params
        if name == "actor":
            return {"id": self.actor_id, "role": self.actor_role}
        if name == "event":
            return {"name": self.event, "at": self.at.isoformat(), "date": self.at.date().isoformat()}
        raise KeyError(name)
