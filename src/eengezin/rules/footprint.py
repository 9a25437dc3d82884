"""What a compiled condition reads: its footprint.

Every built-in predicate declares, when it is compiled, what it reads of a traject and
the event under test (paths into the payload and the facts, the literals they are
compared with, track states, open and overdue deadlines, earlier events, the actor, the
event's moment). A compiled condition keeps the tree it was written as
(``all``/``any``/``not`` over predicates), each node with its :class:`Reads`, so that
tools that reason about a definition (the model checker) read what a condition looks at
from the compiled model instead of parsing the condition language again.

A predicate whose factory declares nothing (a host predicate) is *opaque*: it may read
anything, and tools must assume it does.

>>> from eengezin.rules.footprint import Reads
>>> inner = Reads(paths=frozenset({"item.wie"}))
>>> sorted(inner.within("facts.plan.acties[]").paths)
['facts.plan.acties[].wie']
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import attrs

Check = Callable[[Any], bool]


def _resolve(path: str, item: str) -> str:
    if path == "item":
        return item
    if path.startswith("item."):
        return item + path[4:]
    return path


@attrs.frozen(slots=True)
class Reads:
    """The footprint of a predicate (or, for ``all``/``any``/``not``, of its parts).

    Paths are written as in a definition (``data.…``, ``facts.…``, ``state.…``,
    ``actor.…``, ``event.…``, ``params.…``); inside a quantifier (``every``, ``some``,
    ``find``, ``count_where``) ``item.…`` is resolved to the collection it iterates
    (``facts.leden[].geboortedatum``). An ``item.…`` path left over is read outside any
    quantifier (it reads nothing).
    """

    paths: frozenset[str] = frozenset()
    literals: tuple[tuple[str, Any], ...] = ()
    """``(path, value)``: the path is compared with this literal (``equals``, ``one_of``, …)."""
    only_literals: frozenset[str] = frozenset()
    """Of ``paths``, those whose value is read only as being equal to one of the text
    literals the path is compared with, or to none of them (``equals`` and ``one_of`` with
    text literals): for such a path an absent value, an empty text, any other text or a
    list all read alike. Combined reads keep a path here only when every part that reads it
    does (a ``present`` of the same path elsewhere reads more)."""
    only_members: frozenset[str] = frozenset()
    """Of ``paths``, those read only as a collection in which a value is looked up
    (``contains``): for such a path an absent value, an empty list or mapping and anything
    that is no list or mapping all read alike (they contain nothing). Combined as
    ``only_literals``."""
    compared: tuple[tuple[str, str], ...] = ()
    """``(path, other)``: two paths compared with each other (``other:``)."""
    states: tuple[tuple[str, frozenset[str]], ...] = ()
    """``in_state``: per track, the leaves the predicate is true in."""
    seen: frozenset[str] = frozenset()
    """Events whose earlier acceptance is read (``event_seen``)."""
    deadlines: frozenset[str] = frozenset()
    """Deadlines whose being open is read (``deadline_open``, ``deadline_overdue``)."""
    overdue: frozenset[str] = frozenset()
    """Deadlines whose having run out is read (``deadline_overdue``)."""
    bounds: tuple[tuple[str, int], ...] = ()
    """``(path, bound)``: the number of elements at ``path`` is compared with ``bound``."""
    actor: bool = False
    clock: bool = False
    """The event's moment is read (an age, an overdue deadline)."""
    dated: frozenset[str] = frozenset()
    """Of ``paths``, those read against the event's moment (a birth date, for an age): two
    different values may read differently on any day, so tools keep them as they are."""
    opaque: bool = False
    """A predicate that declared nothing (a host predicate): it may read anything."""

    def __or__(self, other: Reads) -> Reads:
        return Reads(
            paths=self.paths | other.paths,
            literals=_merge(self.literals, other.literals),
            only_literals=(self.only_literals | other.only_literals)
            - self._deep() - other._deep() - self.only_members - other.only_members,
            only_members=(self.only_members | other.only_members)
            - self._deep() - other._deep() - self.only_literals - other.only_literals,
            compared=_merge(self.compared, other.compared),
            states=self.states + other.states,
            seen=self.seen | other.seen,
            deadlines=self.deadlines | other.deadlines,
            overdue=self.overdue | other.overdue,
            bounds=_merge(self.bounds, other.bounds),
            actor=self.actor or other.actor,
            clock=self.clock or other.clock,
            dated=self.dated | other.dated,
            opaque=self.opaque or other.opaque,
        )

    def _deep(self) -> frozenset[str]:
        """The paths read as they are (neither only against literals nor only for members)."""
        return self.paths - self.only_literals - self.only_members

    def within(self, item: str) -> Reads:
        """These reads with ``item.…`` resolved to ``item`` (a path ending in ``[]``)."""
        return attrs.evolve(
            self,
            paths=frozenset(_resolve(p, item) for p in self.paths),
            literals=tuple((_resolve(p, item), v) for p, v in self.literals),
            only_literals=frozenset(_resolve(p, item) for p in self.only_literals),
            only_members=frozenset(_resolve(p, item) for p in self.only_members),
            compared=tuple((_resolve(a, item), _resolve(b, item)) for a, b in self.compared),
            bounds=tuple((_resolve(p, item), n) for p, n in self.bounds),
            dated=frozenset(_resolve(p, item) for p in self.dated),
        )


def _merge(a: tuple[Any, ...], b: tuple[Any, ...]) -> tuple[Any, ...]:
    return a + tuple(x for x in b if x not in a)


OPAQUE = Reads(opaque=True)
NOTHING = Reads()


@attrs.frozen(slots=True)
class Declared:
    """What a built-in predicate factory returns: its check and what it reads."""

    check: Check
    reads: Reads


@attrs.frozen(slots=True, eq=False)
class Condition:
    """A compiled condition: a function of a context, and the tree it was written as.

    ``op`` is ``all``, ``any``, ``not``, ``true`` or the predicate's name; ``parts`` are the
    sub-conditions of ``all``/``any``/``not``; ``reads`` is the predicate's footprint, or the
    union of its parts'. ``text`` is the condition as written (canonical JSON), to tell two
    identical predicates apart from two different ones. Calling a condition runs ``check``.
    """

    check: Check
    op: str
    reads: Reads
    parts: tuple[Condition, ...] = ()
    text: str = ""

    def __call__(self, ctx: Any) -> bool:
        return self.check(ctx)

    def units(self, polarity: int = 1) -> Iterator[tuple[Condition, int]]:
        """The predicates of this condition (``all``/``any``/``not`` opened up), each with its
        polarity: ``+1`` where the predicate being true makes the whole truer, ``-1`` under
        an odd number of ``not``."""
        if self.op in ("all", "any"):
            for part in self.parts:
                yield from part.units(polarity)
        elif self.op == "not":
            yield from self.parts[0].units(-polarity)
        elif self.op != "true":
            yield self, polarity

    def conjuncts(self) -> Iterator[Condition]:
        """The parts that must all be true (``all`` opened up, nothing else)."""
        if self.op == "all":
            for part in self.parts:
                yield from part.conjuncts()
        else:
            yield self


def fact_names(reads: Reads) -> frozenset[str]:
    """The facts ``reads`` looks at (``facts.plan.doelen[]`` -> ``plan``)."""
    return frozenset(
        p.split(".")[1].removesuffix("[]") for p in reads.paths
        if p.startswith("facts.") and len(p.split(".")) > 1)
