"""The result of analysing a definition before the search (built by :mod:`.analysis`):
what every other checker module reads. Apart from the builder so that the modules the
builder uses can name it without an import cycle."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ..rules.predicates import Check
from .reads import Gathered, RefGroup

__all__ = ["Analysis", "Obligations", "SideTrack", "Where"]


Where = Mapping[str, frozenset[str]]


Link = tuple[str, Any, tuple[str, ...], tuple[tuple[str, int], ...]]


@attrs.frozen
class SideTrack:
    """A track the rest of the process only waits for (see :mod:`.side`)."""

    track: str
    home: str
    facts: frozenset[str]  # its own decisive facts
    events: frozenset[str]  # entries and internal events
    internal: frozenset[str]  # its events that read only the track and its facts
    invariants: frozenset[str]  # the invariants that read the track


@attrs.frozen
class Obligations:
    """Facts the search keeps empty, and the events around them (see :mod:`.obligations`)."""

    facts: frozenset[str]
    rules: frozenset[str]  # the blocking rules that read them
    events: frozenset[str]  # the waiting events: those rules' events
    clearers: tuple[str, ...]  # the events that write them and nothing else decisive


@attrs.define
class Analysis:
    """What the checker needs to know about a definition before it explores."""

    fact_trie: dict[str, Any]
    data_tries: dict[str, dict[str, Any]]
    keyed_facts: frozenset[str]
    seen_events: tuple[str, ...]
    cap: int
    caps: dict[str, int]
    deadlines_read: frozenset[str]
    overdue_read: frozenset[str]
    event_reads: dict[str, Gathered]
    actor_events: frozenset[str]
    fact_items: tuple[tuple[str, Any], ...] = ()
    fact_readers: dict[str, frozenset[str]] = attrs.Factory(dict)
    always_live: frozenset[str] = frozenset()
    reach: dict[str, dict[str, frozenset[str]]] = attrs.Factory(dict)
    fact_reach: dict[str, dict[str, dict[str, frozenset[str]]]] = attrs.Factory(dict)
    closed: dict[str, tuple[Check, ...]] = attrs.Factory(dict)
    eager: dict[str, tuple[tuple[int, ...], tuple[str, ...]]] = attrs.Factory(dict)
    params: Mapping[str, Any] = attrs.Factory(dict)
    constraints: dict[str, tuple[tuple[str, frozenset[str]], ...]] = attrs.Factory(dict)
    live_cache: dict[Any, frozenset[str]] = attrs.Factory(dict)
    dead_cache: dict[Any, tuple[int, ...]] = attrs.Factory(dict)
    event_facts: dict[str, frozenset[str]] = attrs.Factory(dict)
    # fact values -> their numbers, and groups' facts -> their label tables (see .state)
    memo: dict[tuple[Any, ...], tuple[Any, ...]] = attrs.Factory(dict)
    codes: list[dict[Any, int]] = attrs.Factory(list)  # per fact position: canon -> number
    values: list[list[Any]] = attrs.Factory(list)  # per fact position: number -> canon
    written: dict[str, frozenset[str]] = attrs.Factory(dict)  # event -> facts it may write
    uses: dict[tuple[str, str], tuple[Where, ...]] = attrs.Factory(dict)
    refs: tuple[RefGroup, ...] = ()  # reference groups (.reads.ref_groups)
    ref_facts: dict[str, tuple[int, ...]] = attrs.Factory(dict)  # fact -> its groups
    # event -> the groups it copies into, each with the fact it copies into
    copy_refs: dict[str, tuple[tuple[int, str], ...]] = attrs.Factory(dict)
    own_facts: dict[str, frozenset[str]] = attrs.Factory(dict)  # facts its conditions read
    # event -> elements whose fields it compares with two payload fields, one a reference:
    # (element path, its walk, the fields, per compared payload field the element field it
    # takes its id from) (see .payloads._links)
    link_paths: dict[str, tuple[Link, ...]] = attrs.Factory(dict)
    # facts only observers read, left out of every started abstract state, and those
    # observers (see .reductions.observed_facts); empty when the search keeps everything
    observed: frozenset[str] = frozenset()
    observers: frozenset[str] = frozenset()
    # tracks the search keeps at home, whose own events are explored apart (.side)
    side: tuple[SideTrack, ...] = ()
    # facts the search keeps empty (.obligations); None when it keeps them as they are
    obligations: Obligations | None = None

    def index(self) -> dict[str, int]:
        """Fact name -> its position in an abstract state."""
        return {name: i for i, (name, _sub) in enumerate(self.fact_items)}
