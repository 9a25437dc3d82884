"""What the search keeps of each abstract state it reached: how it got there.

A :class:`Node` records the parent state, the event (or a wait) that led from it, the
depth and the moment. From that the search rebuilds what it does not keep:

- :func:`trace`: the events from the new traject to a state (the shortest, breadth first);
- :func:`materialize`: the traject behind a state reached through a remembered outcome,
  replayed from the nearest ancestor that still has one;
- :func:`id_values`: the values of the facts payload ids come from, taken from the parent
  where the step changed none of them (so that the traject need not be built);
- :func:`inherited`: the parent's remembered outcomes per event, with the part of the state
  the step changed, so that an event whose footprint the step left alone is not looked up
  again.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from ..process.model import Definition
from ..process.step import perform, step
from ..traject import Event, Traject
from .analysis_model import Analysis
from .state import AbstractState, abstract
from .stepping import Remembered

__all__ = ["Node", "id_values", "inherited", "materialize", "trace"]


@attrs.define(slots=True)
class Node:
    """How the search reached an abstract state: from ``parent`` by ``event`` (None: by
    waiting for a deadline to run out), at moment ``at``."""

    traject: Traject | None  # None until expanded when reached through a remembered outcome
    parent: AbstractState | None
    event: Event | None
    depth: int
    at: datetime
    number: int  # its position in the order states were reached
    pending: int = 0  # successors it reached first that still need its traject
    ids: tuple[Any, ...] | None = None  # the values of the facts payload ids come from
    # once expanded, while states first reached from it wait for their turn: the remembered
    # outcomes it used, per event, which a successor with the same footprint uses again
    outcomes: dict[str, Remembered] | None = None
    heirs: int = 0  # states first reached from it that were not expanded yet


def trace(nodes: Mapping[AbstractState, Node], key: AbstractState) -> tuple[Event, ...]:
    """The events that lead from a new traject to ``key``."""
    events: list[Event] = []
    node = nodes[key]
    while node.parent is not None:
        if node.event is not None:
            events.append(node.event)
        node = nodes[node.parent]
    return tuple(reversed(events))


def materialize(definition: Definition, analysis: Analysis, nodes: Mapping[AbstractState, Node],
                key: AbstractState, verify: bool) -> Traject:
    """The traject behind ``key``: states reached through remembered outcomes get theirs
    only when something needs it, by replaying the steps from the nearest ancestor that has
    one. ``verify`` decides every replayed step again and compares the abstract states."""
    chain = []
    here = key
    while nodes[here].traject is None:
        chain.append(here)
        parent = nodes[here].parent
        assert parent is not None
        here = parent
    traject = nodes[here].traject
    assert traject is not None
    for child in reversed(chain):
        node = nodes[child]
        if node.event is not None:
            # a remembered outcome: decided before, in a traject that reads alike
            if verify:
                outcome = step(definition, traject, node.event)
                if not outcome.accepted:
                    raise AssertionError(f"remembered outcome refused: {node.event.name}")
                traject = outcome.traject
            else:
                traject = perform(definition, traject, node.event).traject
        node.traject = traject
        if verify and abstract(traject, analysis, node.at) != child:
            raise AssertionError(f"remembered outcome differs after {node.event}")
    return traject


def id_values(nodes: Mapping[AbstractState, Node], key: AbstractState, names: tuple[str, ...],
              writers: frozenset[str], build: Any) -> tuple[Any, ...]:
    """The values of the facts ``names`` in ``key``, without building its traject where the
    steps that led to it were none of ``writers`` (the events that may write one of them).
    ``build(key)`` builds a traject (:func:`materialize`)."""
    node = nodes[key]
    if node.ids is not None:
        return node.ids
    chain: list[Node] = []
    here, at = key, node
    while at.ids is None and at.traject is None and at.parent is not None and (
            at.event is None or at.event.name not in writers):
        chain.append(at)
        here = at.parent
        at = nodes[here]
    if at.ids is None:
        traject = at.traject if at.traject is not None else build(here)
        at.ids = tuple(traject.facts.get(n) for n in names)
    for link in chain:
        link.ids = at.ids
    return at.ids


def inherited(nodes: Mapping[AbstractState, Node], key: AbstractState, node: Node,
              id_bits: Mapping[str, int]) -> tuple[Mapping[str, Remembered], int] | None:
    """The parent's remembered outcomes per event, and the bits of ``key`` its step to
    ``key`` changed: fact positions, then tracks (``id_bits``: per event, the facts whose
    very values payload ids come from that it may write). None when there is nothing to
    take over: no parent, a wait between them, or other deadlines or earlier events."""
    if node.parent is None or node.event is None:
        return None
    parent_key = node.parent
    parent = nodes[parent_key]
    if parent.outcomes is None or parent.at is not node.at or (
            parent_key.deadlines != key.deadlines or parent_key.overdue != key.overdue
            or parent_key.seen != key.seen or parent_key.started != key.started):
        return None
    changed = id_bits[node.event.name]
    for i, (a, b) in enumerate(zip(parent_key.facts, key.facts, strict=True)):
        if a != b:
            changed |= 1 << i
    width = len(key.facts)
    for j, (before, after) in enumerate(zip(parent_key.tracks, key.tracks, strict=True)):
        if before != after:
            changed |= 1 << (width + j)
    return parent.outcomes, changed
