"""The one shell around the pure core: it loads, decides, appends, retries, logs and notifies.

``Engine`` holds one compiled definition (shared by all trajecten) and calls
:func:`eengezin.process.step`. Two ways to use it:

- **without a store**, ``start``/``fire`` take and return plain :class:`Traject` values;
  each accepted outcome carries the new log entry (``outcome.entry``) for the host to keep;
- **with a store** (:class:`~eengezin.store.MemoryStore`, SQLite, PostgreSQL),
  ``start(traject_id, …)`` and ``fire(traject_id, …)`` load the snapshot, decide, append
  the entry and the snapshot in one transaction (with the decision in the store's outbox),
  retry on a write conflict with jittered backoff, and return the same outcome.

After every accepted (and, with a store, committed) decision the engine logs one
``eengezin.decision`` record and calls each listener with a :class:`~eengezin.Decision`.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from .decision import Decision, Listener, TrackChange
from .definition import load_definition
from .errors import (
    ConflictError,
    DefinitionMismatchError,
    EengezinError,
    IdempotencyConflictError,
    NaiveDatetimeError,
    UnknownEventError,
)
from .log import get_logger
from .process import available_events, evaluate, new_traject, replay, step
from .process.model import Definition
from .process.status import DeadlineStatus, deadline_statuses
from .process.step import NOT_AVAILABLE, NOT_STARTED, apply, availability, restore
from .rules.predicates import HOST_CALLS, PredicateRegistry
from .rules.verdict import Verdict, Violation
from .store.errors import TrajectNotFoundError
from .traject import MIGRATION_EVENT, Actor, Event, HistoryEntry, Outcome, Traject

if TYPE_CHECKING:
    from .store.contract import Store

log = get_logger("eengezin")

DEFAULT_MAX_ATTEMPTS = 40


def _utcnow() -> datetime:
    return datetime.now(UTC)


@attrs.frozen(slots=True)
class VerifyFinding:
    """One thing :meth:`Engine.verify` found.

    ``kind`` is ``"host_predicate"`` (deciding the entry again gives another outcome, and
    a host predicate took part: the host's data changed since, which the determinism
    contract allows; not corruption), ``"corrupt"`` (pure rules no longer give the logged
    outcome, or the log cannot be read), or ``"snapshot"`` (the stored snapshot is not
    what the log leads to).
    """

    kind: str
    version: int
    event: str
    detail: str


@attrs.frozen(slots=True)
class VerifyReport:
    """What :meth:`Engine.verify` found for one traject; ``ok`` when no corruption."""

    traject_id: str
    version: int
    findings: tuple[VerifyFinding, ...] = ()

    @property
    def ok(self) -> bool:
        return not any(f.kind != "host_predicate" for f in self.findings)


def request_hash(event: str, data: Mapping[str, Any], actor: Actor | None) -> str:
    """The hash an idempotency key is bound to: event, payload and actor."""
    body = json.dumps({"event": event, "data": data,
                       "actor": None if actor is None else [actor.id, actor.role]},
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()


def decision_of(traject: Traject, outcome: Outcome) -> Decision:
    """The :class:`Decision` record of an accepted outcome (``traject`` is the one before)."""
    entry = outcome.entry
    if entry is None:
        raise ValueError("only an accepted outcome with a log entry is a decision")
    after = outcome.traject
    changes: list[TrackChange] = []
    if traject.version == 0:  # the start event: every track enters its first state
        for track, state in after.state.items():
            parts = state.split(".")
            entered = tuple(".".join(parts[:i]) for i in range(1, len(parts) + 1))
            changes.append(TrackChange(track, "", state, (), entered))
    for track, state in after.state.items():
        if traject.version == 0:
            break
        before = traject.state.get(track, "")
        prefix = f"{track}:"
        entered = tuple(label[len(prefix):] for label in outcome.entered if label.startswith(prefix))
        exited = tuple(label[len(prefix):] for label in outcome.exited if label.startswith(prefix))
        if before != state or entered or exited:
            changes.append(TrackChange(track, before, state, exited, entered))
    change = entry.change
    return Decision(
        traject_id=after.id, version=after.version, event=entry.event, at=entry.at,
        actor=entry.actor, definition=entry.definition, data=entry.data, state=dict(after.state),
        changes=tuple(changes), effects=outcome.effects,
        deadlines_started=change.started if change else (),
        deadlines_ended=change.ended if change else (),
        warnings=entry.warnings, backdated=entry.backdated,
    )


class Engine:
    """Create trajecten, decide events, ask what is allowed, store and replay logs.

    ``definition`` is a compiled :class:`Definition`, a bundled id or a path.
    ``store`` is any :class:`~eengezin.store.Store` (or None: plain trajecten).
    ``clock`` supplies the moment when a call passes no ``at`` (default: UTC now); every
    moment must carry a time zone. ``listeners`` are called with each committed
    :class:`~eengezin.Decision`. The engine is thread-safe.
    """

    def __init__(
        self,
        definition: Definition | str | Path,
        *,
        store: Store | None = None,
        predicates: PredicateRegistry | None = None,
        clock: Callable[[], datetime] = _utcnow,
        listeners: Iterable[Listener] = (),
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ) -> None:
        self.definition = load_definition(definition, predicates=predicates)
        self.store = store
        self.clock = clock
        self.max_attempts = max(1, int(max_attempts))
        self._listeners: tuple[Listener, ...] = tuple(listeners)
        self._lock = threading.Lock()

    # ------------------------------------------------------------ helpers

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener`` with every later committed decision."""
        with self._lock:
            self._listeners = (*self._listeners, listener)

    def _moment(self, at: datetime | None) -> datetime:
        moment = at if at is not None else self.clock()
        if not isinstance(moment, datetime):
            raise NaiveDatetimeError("at: expected a datetime with a time zone")
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise NaiveDatetimeError(
                "at: a moment needs a time zone (e.g. datetime(..., tzinfo=ZoneInfo("
                "'Europe/Amsterdam')) or timezone.utc); dates are taken on the definition's "
                "calendar")
        return moment

    def _event(self, name: str, data: Mapping[str, Any] | None, actor: Actor | None,
               at: datetime | None, backdated: bool = False) -> Event:
        if name not in self.definition.events:
            raise UnknownEventError(name, self.definition.id)
        return Event(name=name, at=self._moment(at), data=data if data is not None else {},
                     actor=actor, backdated=backdated)

    def _check(self, traject: Traject) -> None:
        if traject.definition != self.definition.ref:
            raise DefinitionMismatchError(
                f"traject {traject.id!r} was started under {traject.definition.id} "
                f"v{traject.definition.version} ({traject.definition.hash[:12]}), this engine runs "
                f"{self.definition.id} v{self.definition.version} ({self.definition.hash[:12]}); "
                "migrate it first", traject_id=traject.id, expected=traject.definition,
                actual=self.definition.ref)

    def _need_store(self) -> Store:
        if self.store is None:
            raise EengezinError("this engine has no store: pass store=… to Engine, or pass "
                                "trajecten instead of ids")
        return self.store

    def _notify(self, decision: Decision) -> None:
        for listener in self._listeners:
            try:
                listener(decision)
            except Exception as exc:  # a host's listener must not undo a committed decision
                log.error("eengezin.listener_failed", traject=decision.traject_id,
                          version=decision.version, error=type(exc).__name__)

    def _log(self, traject_id: str, outcome: Outcome, attempts: int = 1) -> None:
        log.info(
            "eengezin.decision",
            traject=traject_id,
            event_id=outcome.event.name,
            accepted=outcome.accepted,
            rules=list(outcome.verdict.rule_ids),
            state=dict(outcome.traject.state),
            version=outcome.traject.version,
            effects=list(outcome.effects),
            attempts=attempts,
        )

    # ------------------------------------------------------------ deciding

    def new(self, traject_id: str) -> Traject:
        """An empty traject, before its start event."""
        return new_traject(self.definition, traject_id)

    def start(self, traject: str | Traject, data: Mapping[str, Any], *, actor: Actor | None = None,
              at: datetime | None = None, idempotency_key: str | None = None) -> Outcome:
        """Fire the start event (``aanmelden``) on a new traject (an id or an empty traject)."""
        if isinstance(traject, str) and self.store is None:
            traject = self.new(traject)
        return self.fire(traject, self.definition.start_event, data, actor=actor, at=at,
                         idempotency_key=idempotency_key)

    def fire(self, traject: str | Traject, event: str, data: Mapping[str, Any] | None = None, *,
             actor: Actor | None = None, at: datetime | None = None, backdated: bool = False,
             idempotency_key: str | None = None) -> Outcome:
        """Decide ``event``; the outcome holds the verdict, the traject after it and the new
        log entry.

        Without a store ``traject`` is a :class:`Traject` and a refused event returns it
        unchanged. With a store ``traject`` is an id (or a traject, whose id is used): the
        stored traject is loaded, the event decided and, when accepted, appended; a write
        conflict makes the engine load and decide again (bounded, with jittered backoff; from
        the second attempt on it holds the traject's write lock, so it cannot be starved).
        Without ``at`` the moment is the engine's clock, never earlier than the traject's
        last event.
        ``idempotency_key`` (store only) makes a retried request a no-op
        (``outcome.duplicate``); reusing it for another request raises
        :class:`~eengezin.errors.IdempotencyConflictError`. Raises
        :class:`~eengezin.errors.UnknownEventError` for an undeclared event and
        :class:`~eengezin.errors.NaiveDatetimeError` for a moment without a time zone.
        """
        ev = self._event(event, data, actor, at, backdated)
        if self.store is None:
            if not isinstance(traject, Traject):
                raise EengezinError("this engine has no store: pass a Traject (engine.new(id))")
            self._check(traject)
            outcome = step(self.definition, traject, ev)
            self._log(traject.id, outcome)
            if outcome.accepted:
                self._notify(decision_of(traject, outcome))
            return outcome
        traject_id = traject.id if isinstance(traject, Traject) else traject
        return self._fire_stored(self.store, traject_id, ev, idempotency_key, clocked=at is None)

    def _current(self, store: Store, traject_id: str) -> Traject:
        try:
            return store.load(traject_id, self.definition)
        except TrajectNotFoundError:
            return self.new(traject_id)

    def _fire_stored(self, store: Store, traject_id: str, ev: Event, key: str | None,
                     clocked: bool = False) -> Outcome:
        """Load, decide, append. The first attempt is optimistic; after a write conflict the
        next attempts hold the traject's write lock (``store.exclusive``) from load to append,
        so a writer next to a busy one always gets its turn. When the moment came from the
        clock, each attempt reads the clock again (the event happens when it is decided)."""
        digest = request_hash(ev.name, ev.data, ev.actor) if key is not None else None
        for attempt in range(1, self.max_attempts + 1):
            if clocked and attempt > 1:
                ev = attrs.evolve(ev, at=self._moment(None))
            try:
                if attempt == 1:
                    done = self._attempt(store, traject_id, ev, key, digest, attempt, clocked)
                else:
                    with store.exclusive(traject_id):
                        done = self._attempt(store, traject_id, ev, key, digest, attempt,
                                             clocked)
            except IdempotencyConflictError:
                raise
            except ConflictError as exc:
                log.info("eengezin.conflict", traject=traject_id, event_id=ev.name,
                         attempt=attempt, expected=exc.expected, actual=exc.actual)
                time.sleep(random.uniform(0, min(0.05, 0.001 * 2 ** min(attempt, 10))))
                continue
            outcome, decision = done
            if decision is not None:
                self._notify(decision)
            return outcome
        log.warning("eengezin.conflict_gave_up", traject=traject_id, event_id=ev.name,
                    attempts=self.max_attempts)
        raise ConflictError(f"traject {traject_id!r}: still conflicting after "
                            f"{self.max_attempts} attempts", traject_id=traject_id)

    def _attempt(self, store: Store, traject_id: str, ev: Event, key: str | None,
                 digest: str | None, attempt: int, clocked: bool = False
                 ) -> tuple[Outcome, Decision | None]:
        if key is not None and store.applied(traject_id, key) is not None:
            return self._duplicate(store, traject_id, ev, key, digest, attempt), None
        before = self._current(store, traject_id)
        if clocked and before.last_at is not None and ev.at < before.last_at:
            # the engine's own clock: now, but never before the traject's last event (a
            # faster writer, or another host's clock a little ahead, refuses nothing)
            ev = attrs.evolve(ev, at=before.last_at)
        outcome = step(self.definition, before, ev)
        if not outcome.accepted or outcome.entry is None:
            self._log(traject_id, outcome, attempt)
            return attrs.evolve(outcome, attempts=attempt), None
        decision = decision_of(before, outcome)
        result = store.append(self.definition, outcome.traject, (outcome.entry,),
                              expected_version=before.version, idempotency_key=key,
                              request_hash=digest, decisions=(decision,))
        if not result.applied:
            return self._duplicate(store, traject_id, ev, key, digest, attempt), None
        self._log(traject_id, outcome, attempt)
        return attrs.evolve(outcome, attempts=attempt), decision

    def _duplicate(self, store: Store, traject_id: str, ev: Event, key: str | None,
                   digest: str | None, attempt: int) -> Outcome:
        if key is not None and digest is not None:
            version = store.applied(traject_id, key)
            entries = store.history(traject_id, start=(version or 1) - 1, limit=1)
            if entries and request_hash(entries[0].event, entries[0].data, entries[0].actor) != digest:
                raise IdempotencyConflictError(
                    f"traject {traject_id!r}: idempotency key was used before for another request",
                    traject_id=traject_id, actual=version)
        current = store.load(traject_id)
        log.info("eengezin.duplicate", traject=traject_id, event_id=ev.name)
        return Outcome(event=ev, verdict=Verdict(), traject=current, duplicate=True,
                       attempts=attempt)

    def migrate(self, traject_id: str, source: Definition,
                move: Callable[[Traject], tuple[Traject, HistoryEntry]]) -> Traject:
        """Move a stored traject from ``source`` to this engine's definition with ``move``
        (which returns the traject after it and the journal entry), retrying on conflicts.
        The move is told to listeners and written to the outbox like any decision.
        Used by :func:`eengezin.migration.migrate_store`."""
        store = self._need_store()
        for attempt in range(1, self.max_attempts + 1):
            try:
                if attempt == 1:
                    after, decision = self._migrate_once(store, traject_id, source, move)
                else:
                    with store.exclusive(traject_id):
                        after, decision = self._migrate_once(store, traject_id, source, move)
            except IdempotencyConflictError:
                raise
            except ConflictError:
                log.info("eengezin.conflict", traject=traject_id, event_id=MIGRATION_EVENT,
                         attempt=attempt)
                time.sleep(random.uniform(0, min(0.05, 0.001 * 2 ** min(attempt, 10))))
                continue
            log.info("eengezin.migrated", traject=traject_id, source=source.ref.id,
                     source_version=source.ref.version, target=self.definition.id,
                     target_version=self.definition.version)
            self._notify(decision)
            return after
        raise ConflictError(f"traject {traject_id!r}: still conflicting after "
                            f"{self.max_attempts} attempts", traject_id=traject_id)

    def erase(self, traject_id: str, reason: str, by: str, *, exception: str | None = None,
              at: datetime | None = None) -> None:
        """Erase the traject's personal data (crypto-shredding: its data key is destroyed)
        and record who (``by``), when and why (``reason``) in the store's ledger.

        The process history, indexes, rules and monitor figures stay usable; personal values
        read back as ``"[gewist]"``. A statutory retention term (the definition's
        ``bewaartermijn``) that has not passed blocks the erasure with
        :class:`~eengezin.store.RetentionError` unless ``exception`` documents why it is
        allowed (e.g. a written request under the Jeugdwet, and its date). The log record
        names the traject, who and when, never the reason's text (it may hold personal
        data: the ledger keeps it).
        """
        from .retention import retention_status
        from .store.errors import RetentionError

        store = self._need_store()
        if not reason.strip() or not by.strip():
            raise RetentionError("wissen: geef een reden en wie het doet")
        moment = self._moment(at)
        traject = store.load(traject_id)
        definition = self.definition if traject.definition == self.definition.ref \
            else store.definition(traject.definition)
        status = retention_status(definition, store, traject_id, moment)
        if status.statutory and not status.passed and not (exception and exception.strip()):
            until = f"loopt tot en met {status.until.isoformat()}" if status.until \
                else "begint pas als het traject is afgesloten"
            raise RetentionError(f"traject {traject_id!r}: de wettelijke bewaartermijn {until} "
                                 f"({status.ground}); wissen kan alleen met een vastgelegde "
                                 "uitzondering")
        store.erase(traject_id, reason=reason, by=by, exception=exception, at=moment)
        log.info("eengezin.erased", traject=traject_id, by=by, at=moment.isoformat(),
                 exception=bool(exception), retention="verstreken" if status.passed else "lopend")
    def _migrate_once(self, store: Store, traject_id: str, source: Definition,
                      move: Callable[[Traject], tuple[Traject, HistoryEntry]]
                      ) -> tuple[Traject, Decision]:
        before = store.load(traject_id, source)
        after, entry = move(before)
        changes = tuple(TrackChange(track, before.state.get(track, ""), state)
                        for track, state in after.state.items()
                        if before.state.get(track) != state)
        decision = Decision(
            traject_id=after.id, version=after.version, event=entry.event, at=entry.at,
            actor=entry.actor, definition=entry.definition, data=entry.data,
            state=dict(after.state), changes=changes)
        store.append(self.definition, after, (entry,), expected_version=before.version,
                     decisions=(decision,))
        return after, decision

    # ------------------------------------------------------------ reading

    def load(self, traject_id: str) -> Traject:
        """The stored traject (its snapshot; nothing is decided again)."""
        return self._need_store().load(traject_id, self.definition)

    def history(self, traject_id: str, *, start: int = 0, limit: int | None = None
                ) -> list[HistoryEntry]:
        """The stored log after version ``start``, at most ``limit`` entries (paged)."""
        return self._need_store().history(traject_id, start=start, limit=limit)

    def _resolve(self, traject: str | Traject) -> Traject:
        if isinstance(traject, Traject):
            self._check(traject)
            return traject
        return self.load(traject)

    def evaluate(self, traject: str | Traject, event: str, data: Mapping[str, Any] | None = None, *,
                 actor: Actor | None = None, at: datetime | None = None) -> Verdict:
        """Would ``event`` pass now? Changes nothing."""
        return evaluate(self.definition, self._resolve(traject), self._event(event, data, actor, at))

    def allowed(self, traject: str | Traject, *, actor: Actor | None = None,
                at: datetime | None = None) -> dict[str, Verdict]:
        """Every declared event with its verdict now, for a UI: an empty verdict means
        "ok"; otherwise the reasons (not possible in this state, the actor's role, rules on
        the state). Rules that read the payload are left out: they depend on what is sent
        (:meth:`evaluate` checks a concrete payload)."""
        current = self._resolve(traject)
        moment = self._moment(at)
        possible = available_events(self.definition, current, moment)
        out: dict[str, Verdict] = {}
        for name, spec in self.definition.events.items():
            reasons: list[Violation] = []
            if name in possible:
                reasons.extend(possible[name].violations)
            elif not current.started and name != self.definition.start_event:
                reasons.append(Violation(NOT_STARTED, "block", "het traject is nog niet aangemeld"))
            else:
                blocked = availability(self.definition, current, name)
                reasons.append(blocked if blocked is not None else Violation(
                    NOT_AVAILABLE, "block", f"'{spec.title}' kan nu niet"))
            if actor is not None and spec.roles is not None and spec.role_violation is not None \
                    and actor.role not in spec.roles:
                reasons.append(spec.role_violation)
            out[name] = Verdict(tuple(reasons))
        return out

    def payload_schema(self, event: str) -> dict[str, Any]:
        """The JSON Schema of ``event``'s payload (draft 2020-12), to build forms; the
        engine's own check stays the authority (it also knows relative date bounds)."""
        from .definition.payload_schema import payload_json_schema

        if event not in self.definition.events:
            raise UnknownEventError(event, self.definition.id)
        return payload_json_schema(self.definition, event)

    def deadlines(self, traject: str | Traject, *, at: datetime | date | None = None
                  ) -> list[DeadlineStatus]:
        """Running deadlines at ``at``, sorted by due date, each marked overdue or not."""
        moment = at if at is not None else self.clock()
        return deadline_statuses(self.definition, self._resolve(traject).deadlines.values(), moment)

    def replay(self, traject_id: str, history: Iterable[HistoryEntry | Event]) -> Traject:
        """Rebuild a traject by deciding its entries again (raises
        :class:`~eengezin.errors.ReplayError` when one is now refused)."""
        return replay(self.definition, traject_id, tuple(history))

    def restore(self, traject_id: str, history: Iterable[HistoryEntry]) -> Traject:
        """Rebuild a traject by applying its log as recorded (no rule runs)."""
        return restore(self.definition, traject_id, history)

    def verify(self, traject_id: str, *, definitions: Callable[[Any], Definition] | None = None
               ) -> VerifyReport:
        """Decide every logged entry again and compare with what the log recorded.

        Reports, per entry, a host predicate that now answers differently
        (``host_predicate``, not corruption: see the determinism contract in
        docs/embedding.md) apart from pure rules that no longer give the logged outcome
        (``corrupt``), and a snapshot that differs from where the log leads (``snapshot``).
        ``definitions`` resolves the definition of each log segment (default: the store's
        copies), so trajecten that were migrated verify across their migrations.
        """
        store = self._need_store()
        resolve = definitions if definitions is not None else store.definition
        # an erased traject's personal values read back as a marker: its entries are applied
        # as recorded (the hash chains prove them), not decided again
        erased = store.erased(traject_id)
        findings: list[VerifyFinding] = []
        trusted: Traject | None = None
        decided: Traject | None = None
        definition: Definition | None = None
        version = 0
        for entry in store.iter_history(traject_id):
            version += 1
            if definition is None or (entry.definition != definition.ref):
                try:
                    definition = self.definition if entry.definition == self.definition.ref \
                        else resolve(entry.definition)
                except EengezinError as exc:
                    findings.append(VerifyFinding("corrupt", version, entry.event,
                                                  f"definition not available: {exc}"))
                    return VerifyReport(traject_id, version, tuple(findings))
            if trusted is None:
                trusted = new_traject(definition, traject_id)
                decided = trusted
            assert decided is not None
            try:
                after = apply(definition, trusted, entry)
            except EengezinError as exc:
                findings.append(VerifyFinding("corrupt", version, entry.event, str(exc)))
                return VerifyReport(traject_id, version, tuple(findings))
            if entry.event == MIGRATION_EVENT or erased:
                trusted = decided = after
                continue
            calls: list[str] = []
            token = HOST_CALLS.set(calls)
            try:
                redo = step(definition, decided, Event(entry.event, entry.at, entry.data,
                                                       entry.actor, entry.backdated))
            finally:
                HOST_CALLS.reset(token)
            same = redo.accepted and redo.traject == after and redo.entry is not None and (
                redo.entry.change == entry.change)
            if not same:
                kind = "host_predicate" if calls else "corrupt"
                what = ("refused now: " + ", ".join(redo.verdict.rule_ids)) if not redo.accepted \
                    else "decided again, it gives another outcome"
                hosts = f" (host predicates: {', '.join(sorted(set(calls)))})" if calls else ""
                findings.append(VerifyFinding(kind, version, entry.event, what + hosts))
            trusted = after
            decided = after  # go on from the logged outcome: one divergence is reported once
        if trusted is None:
            raise TrajectNotFoundError(traject_id)
        try:
            stored = store.load(traject_id)
        except EengezinError as exc:
            findings.append(VerifyFinding("snapshot", version, "", str(exc)))
        else:
            if stored != trusted:
                findings.append(VerifyFinding("snapshot", stored.version, "",
                                              "the stored snapshot is not what the log leads to"))
        return VerifyReport(traject_id, version, tuple(findings))


__all__ = [
    "DeadlineStatus",
    "Engine",
    "VerifyFinding",
    "VerifyReport",
    "deadline_statuses",
    "decision_of",
    "request_hash",
]
