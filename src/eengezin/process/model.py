"""The compiled definition: frozen tables shared by every traject.

Built once by :func:`eengezin.definition.load` and never changed afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import tzinfo
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

import attrs

from ..deadlines import Unit
from ..rules.footprint import Condition
from ..rules.predicates import Check
from ..rules.verdict import Severity, Violation
from ..traject import DefinitionRef
from .zgw import ZgwModel

if TYPE_CHECKING:
    from ..definition.payload import PayloadType, Validator

DEFAULT_TIMEZONE = "Europe/Amsterdam"


@attrs.frozen(slots=True)
class StateNode:
    """A state of a track; compound states have children and an initial child."""

    path: str
    title: str
    parent: str | None
    children: tuple[str, ...]
    final: bool
    initial_leaf: str
    on_enter: tuple[Record, ...] = ()

    @property
    def compound(self) -> bool:
        return bool(self.children)


@attrs.frozen(slots=True)
class Track:
    """One parallel region (``regie``, ``veiligheid``, ``escalatie``)."""

    id: str
    title: str
    initial: str
    nodes: Mapping[str, StateNode]
    leaves: frozenset[str]
    finals: frozenset[str]
    ancestors: Mapping[str, tuple[str, ...]]  # leaf -> (leaf, parent, grandparent, …)

    def leaves_under(self, path: str) -> frozenset[str]:
        return frozenset(leaf for leaf in self.leaves if path in self.ancestors[leaf])

    @property
    def active(self) -> frozenset[str]:
        """Leaves that are not final."""
        return self.leaves - self.finals


RecordOp = Literal["set", "put", "remove", "append", "unset"]


@attrs.frozen(slots=True)
class Record:
    """A declarative update of the traject's facts."""

    op: RecordOp
    fact: str
    value: Callable[[Any], Any] | None = None
    key: Callable[[Any], Any] | None = None
    when: Check | None = None
    condition: Condition | None = None
    """``when`` as a compiled tree, with what it reads."""
    source: str | None = None
    """The path the value is copied from (``data``, ``data.x``, ``facts.y``); None for a literal."""
    key_source: str | None = None
    """The path the key is read from (``put``/``remove``); None for a literal key."""


@attrs.frozen(slots=True)
class Transition:
    """``sources`` are leaves; ``target`` is the leaf the track ends in; ``to`` is the state
    the definition names (a compound state is entered through its initial child)."""

    track: str
    sources: frozenset[str]
    target: str
    when: Check | None = None
    condition: Condition | None = None
    to: str = ""


@attrs.frozen(slots=True)
class Rule:
    id: str
    severity: Severity
    message: str
    source: str
    events: tuple[str, ...]
    applies: Check | None
    require: Check
    violation: Violation
    reads_data: bool = False
    if_condition: Condition | None = None
    require_condition: Condition | None = None
    next_when: tuple[tuple[str, Check | None], ...] = ()  # only when some ``next`` has an ``if``

    def violation_for(self, ctx: Any) -> Violation:
        """The violation for one decision: ``next`` keeps the events whose ``if`` holds."""
        if not self.next_when:
            return self.violation
        events = tuple(e for e, cond in self.next_when if cond is None or cond(ctx))
        return attrs.evolve(self.violation, next=events)


@attrs.frozen(slots=True)
class Effect:
    id: str
    events: tuple[str, ...]
    when: Check | None
    moves: tuple[tuple[str, str], ...]
    records: tuple[Record, ...]
    source: str
    description: str
    condition: Condition | None = None
    move_to: tuple[tuple[str, str], ...] = ()  # the states ``moves`` name (compound or leaf)


@attrs.frozen(slots=True)
class DeadlineSpec:
    id: str
    start_events: tuple[str, ...]
    start_when: Check | None
    amount: int
    unit: Unit
    satisfied_by: tuple[str, ...]
    cancelled_by: tuple[str, ...]
    violation: Violation
    description: str
    start_condition: Condition | None = None
    due_from: Callable[[Any], Any] | None = None  # a payload date that, when given, is the due date


@attrs.frozen(slots=True)
class Indicator:
    """A monitor figure the definition declares (``indicators:``); computed by the monitor."""

    id: str
    title: str
    kind: str
    events: tuple[str, ...] = ()
    field: str | None = None
    fact: str | None = None
    track: str | None = None
    target: float | None = None
    source: str = ""


@attrs.frozen(slots=True)
class Invariant:
    id: str
    condition: Check
    message: str
    source: str
    raw: Any
    always: Condition | None = None
    """The ``always`` condition, compiled; None for a ``reachable_final`` invariant."""
    reachable_final: bool = False


@attrs.frozen(slots=True)
class EventSpec:
    id: str
    title: str
    validate: Validator | None
    available: tuple[tuple[str, frozenset[str]], ...] | None
    transitions: tuple[Transition, ...]
    records: tuple[Record, ...]
    rules: tuple[Rule, ...]
    effects: tuple[Effect, ...]
    roles: frozenset[str] | None
    role_violation: Violation | None
    deadline_starts: tuple[DeadlineSpec, ...]
    deadline_ends: tuple[DeadlineSpec, ...]
    payload_spec: Any = None
    payload: PayloadType | None = None
    """The compiled payload type (an object with no fields when none is declared)."""


DEFAULT_RETENTION_GROUND = ("Jeugdwet: het dossier wordt ten minste 20 jaar na het einde van "
                            "de hulp bewaard (rijksoverheid.nl, dossier jeugdhulp bewaartermijn)")


@attrs.frozen(slots=True)
class Retention:
    """How long a closed traject's personal data is kept (``bewaartermijn``).

    ``years`` after the traject closed (its first track reached a final state);
    ``statutory`` terms block an earlier erasure unless a documented exception is given.
    """

    years: int = 20
    statutory: bool = True
    ground: str = DEFAULT_RETENTION_GROUND


@attrs.frozen(slots=True)
class Definition:
    """A compiled process definition. Immutable; share one instance between all trajecten."""

    id: str
    version: str
    title: str
    ref: DefinitionRef
    start_event: str
    tracks: Mapping[str, Track]
    events: Mapping[str, EventSpec]
    rules: tuple[Rule, ...]
    effects: tuple[Effect, ...]
    deadlines: Mapping[str, DeadlineSpec]
    invariants: tuple[Invariant, ...]
    params: Mapping[str, Any]
    roles: Mapping[str, str]
    source: str
    raw: Mapping[str, Any] = attrs.field(eq=False, repr=False)
    initial_state: Mapping[str, str] = attrs.field(eq=False, repr=False)
    timezone: tzinfo = attrs.field(eq=False, repr=False, factory=lambda: ZoneInfo(DEFAULT_TIMEZONE))
    """The calendar on which event moments become dates (terms, werkdagen, payload dates)."""
    types: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)
    """The named payload types (``types:``), as written; ``EventSpec.payload_spec`` names them."""
    retention: Retention = attrs.field(factory=Retention, eq=False, repr=False)
    """The retention term (``bewaartermijn``; default 20 years, Jeugdwet)."""
    zgw: ZgwModel | None = attrs.field(default=None, eq=False, repr=False)
    """What the definition says about Zaakgericht werken (None only without tracks)."""
    indicators: tuple[Indicator, ...] = attrs.field(default=(), eq=False, repr=False)

    def role_title(self, role: str) -> str:
        """The role's title for messages (its declared title, else its id in words)."""
        spec = self.raw.get("roles", {}).get(role)
        if isinstance(spec, Mapping) and isinstance(spec.get("title"), str):
            return str(spec["title"])
        return role.replace("_", " ")

    @property
    def hash(self) -> str:
        return self.ref.hash
