"""The thin shell around the pure core: clock, logging, convenience.

``Engine`` holds one compiled definition (shared by all trajecten) and calls
:func:`eengezin.process.step`. It logs one structlog event per decision and
leaves logging configuration to the host.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import attrs
import structlog

from .definition import load_definition
from .errors import DefinitionMismatchError
from .process import available_events, evaluate, new_traject, replay, step
from .process.model import Definition
from .rules.predicates import PredicateRegistry
from .rules.verdict import Verdict
from .traject import Actor, Event, OpenDeadline, Outcome, Traject

log = structlog.get_logger("eengezin")


def _utcnow() -> datetime:
    return datetime.now(UTC)


@attrs.frozen(slots=True)
class DeadlineStatus:
    """A running deadline as seen at a moment."""

    id: str
    started: date
    due: date
    overdue: bool
    message: str
    source: str


class Engine:
    """Create trajecten, decide events, ask what is allowed, replay histories.

    ``definition`` is a compiled :class:`Definition`, a bundled id or a path.
    ``clock`` supplies the moment when a call passes no ``at`` (default: UTC now).
    """

    def __init__(
        self,
        definition: Definition | str | Path,
        *,
        predicates: PredicateRegistry | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.definition = load_definition(definition, predicates=predicates)
        self.clock = clock

    def _event(self, name: str, data: Mapping[str, Any] | None, actor: Actor | None,
               at: datetime | None) -> Event:
        return Event(name=name, at=at if at is not None else self.clock(),
                     data=data if data is not None else {}, actor=actor)

    def _check(self, traject: Traject) -> None:
        if traject.definition != self.definition.ref:
            raise DefinitionMismatchError(
                f"traject {traject.id!r} was started under {traject.definition.id} "
                f"v{traject.definition.version} ({traject.definition.hash[:12]}), this engine runs "
                f"{self.definition.id} v{self.definition.version} ({self.definition.hash[:12]}); "
                "migrate it first"
            )

    def new(self, traject_id: str) -> Traject:
        """An empty traject, before its start event."""
        return new_traject(self.definition, traject_id)

    def start(self, traject_id: str, data: Mapping[str, Any], *, actor: Actor | None = None,
              at: datetime | None = None) -> Outcome:
        """Fire the start event (``aanmelden``) on a new traject."""
        return self.fire(self.new(traject_id), self.definition.start_event, data, actor=actor, at=at)

    def fire(self, traject: Traject, event: str, data: Mapping[str, Any] | None = None, *,
             actor: Actor | None = None, at: datetime | None = None) -> Outcome:
        """Decide ``event``; the outcome holds the verdict and the traject after it.

        A refused event returns the same traject. Raises
        :class:`~eengezin.errors.UnknownEventError` for an undeclared event.
        """
        self._check(traject)
        outcome = step(self.definition, traject, self._event(event, data, actor, at))
        log.info(
            "eengezin.decision",
            traject=traject.id,
            event_id=event,
            accepted=outcome.accepted,
            rules=list(outcome.verdict.rule_ids),
            state=dict(outcome.traject.state),
            effects=list(outcome.effects),
        )
        return outcome

    def evaluate(self, traject: Traject, event: str, data: Mapping[str, Any] | None = None, *,
                 actor: Actor | None = None, at: datetime | None = None) -> Verdict:
        """Would ``event`` pass now? Changes nothing."""
        self._check(traject)
        return evaluate(self.definition, traject, self._event(event, data, actor, at))

    def allowed(self, traject: Traject, *, at: datetime | None = None) -> dict[str, Verdict]:
        """Events possible in the current state, each with the state-level rules it meets
        (rules that read the payload are left out: they depend on the data sent)."""
        return available_events(self.definition, traject, at if at is not None else self.clock())

    def deadlines(self, traject: Traject, *, at: datetime | date | None = None
                  ) -> list[DeadlineStatus]:
        """Running deadlines at ``at``, sorted by due date, each marked overdue or not."""
        moment = at if at is not None else self.clock()
        return deadline_statuses(self.definition, traject.deadlines.values(), moment)

    def replay(self, traject_id: str, history: Any) -> Traject:
        """Rebuild a traject from its history (raises ValueError if it does not replay)."""
        return replay(self.definition, traject_id, tuple(history))


def deadline_statuses(definition: Definition, open_deadlines: Any, at: datetime | date
                      ) -> list[DeadlineStatus]:
    out: list[DeadlineStatus] = []
    for d in sorted(open_deadlines, key=lambda d: (d.due, d.id)):
        assert isinstance(d, OpenDeadline)
        spec = definition.deadlines.get(d.id)
        out.append(DeadlineStatus(
            id=d.id, started=d.started, due=d.due, overdue=d.overdue(at),
            message=spec.violation.message if spec else "", source=spec.violation.source if spec else "",
        ))
    return out
