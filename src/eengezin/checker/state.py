"""The abstract state: what the checker keeps of a traject.

A traject is folded into an :class:`AbstractState`: the state of each track, a canonical
summary of every fact that decides something (each a small number, one table per fact),
the open deadlines that conditions read (and which of them ran out), and the events that
``event_seen`` asks about. The history itself is not kept, so the search ends.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from ..rules.context import Context
from ..traject import Traject
from .liveness import live
from .reads import texts_at
from .settings import AT, LITERALS, MASKED, MEMBERS, RAW, REF, TEXT, WHOLE

if TYPE_CHECKING:
    from .analysis_model import Analysis

Tracks = tuple[tuple[str, str], ...]


class AbstractState(NamedTuple):
    """One abstract state; a tuple, so that it hashes and compares quickly."""

    started: bool
    tracks: Tracks
    """``(track, leaf)`` for every track, sorted by track."""
    facts: tuple[int, ...]
    """The canonical value of each decisive fact, as its number (``MASKED`` when dead)."""
    deadlines: tuple[str, ...]
    """Open deadlines that conditions read, sorted."""
    overdue: tuple[str, ...]
    """Of those, the ones whose last day has passed (read by ``deadline_overdue``)."""
    seen: tuple[str, ...]
    """Events ``event_seen`` asks about that were accepted."""

    def same_but_fact(self, other: AbstractState, i: int) -> bool:
        """Equal to ``other`` in everything except, perhaps, fact ``i`` (both not masked)."""
        return (self.tracks == other.tracks and self.deadlines == other.deadlines
                and self.overdue == other.overdue and self.seen == other.seen
                and self.started == other.started
                and self.facts[:i] == other.facts[:i] and self.facts[i + 1:] == other.facts[i + 1:]
                and self.facts[i] != MASKED and other.facts[i] != MASKED)


_new = tuple.__new__  # AbstractState(...) without the Python-level __new__ (hot path)


def assemble(analysis: Analysis, started: bool, tracks: Tracks, parts: Sequence[int],
             deadlines: tuple[str, ...], overdue: tuple[str, ...], seen: tuple[str, ...]
             ) -> AbstractState:
    """The abstract state; a fact that no event still possible from here reads cannot decide
    anything more, so its value is masked, and so is a fact only observers read
    (:func:`.reductions.observed_facts`)."""
    if started:
        dead = analysis.dead_cache.get(tracks)
        if dead is None:
            alive = live(analysis, dict(tracks))
            observed = analysis.observed
            dead = analysis.dead_cache[tracks] = tuple(
                i for i, (name, _sub) in enumerate(analysis.fact_items)
                if name not in alive or name in observed)
        if dead:
            masked = list(parts)
            for i in dead:
                masked[i] = MASKED
            parts = masked
    return _new(AbstractState, (started, tracks, tuple(parts), deadlines, overdue, seen))


def deadline_parts(analysis: Analysis, traject: Traject, at: datetime
                   ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The open deadlines conditions read, and those of them that ran out by ``at``."""
    if not traject.deadlines or not analysis.deadlines_read:
        return (), ()
    open_ = tuple(sorted(d for d in traject.deadlines if d in analysis.deadlines_read))
    day = at.date()
    overdue = tuple(d for d in open_ if d in analysis.overdue_read
                    and day > traject.deadlines[d].due)
    return open_, overdue


def abstract(traject: Traject, analysis: Analysis, at: datetime = AT) -> AbstractState:
    """``traject`` at moment ``at``, folded."""
    seen = tuple(
        e for e in analysis.seen_events if e in traject.seen
    ) if analysis.seen_events else ()
    return assemble(analysis, traject.started, tuple(sorted(traject.state.items())),
                    fact_parts(traject, analysis), *deadline_parts(analysis, traject, at), seen)


def fact_parts(traject: Traject, analysis: Analysis) -> list[int]:
    """The canonical value of every decisive fact, before masking what is dead, each as a
    small number (one table per fact), so that abstract states hash and compare quickly."""
    memo = analysis.memo
    parts: list[int] = []
    tables = ref_tables(traject.facts, analysis) if analysis.refs else None
    for position, (name, sub) in enumerate(analysis.fact_items):
        value = traject.facts.get(name)
        groups = analysis.ref_facts.get(name) if tables is not None else None
        if groups and tables is not None:
            # a fact of a reference group reads as its own value and the group's labels
            used = tuple(tables[k] for k in groups)
            hit = memo.get((name, id(value), *map(id, used)))
            if hit is None or hit[0] is not value or any(
                    a is not b for a, b in zip(hit[2], used, strict=True)):
                code = _code(analysis, position, canon_value(
                    value, sub, analysis.caps.get(name, 2), name in analysis.keyed_facts,
                    tables))
                hit = (value, code, used)
                memo[(name, id(value), *map(id, used))] = hit
            parts.append(hit[1])
            continue
        hit = memo.get((name, id(value)))
        if hit is None or hit[0] is not value:
            # trajecten share unchanged fact values, so most lookups hit; the memo keeps
            # the value alive, which keeps its id unique
            tests = analysis.closed.get(name)
            if tests is not None:
                ctx = Context(data={}, facts={name: value} if value is not None else {},
                              state={}, event="", at=AT, params=analysis.params)
                canon: Any = tuple(bool(test(ctx)) for test in tests)
            else:
                canon = canon_value(value, sub, analysis.caps.get(name, 2),
                                    name in analysis.keyed_facts)
            hit = (value, _code(analysis, position, canon))
            memo[(name, id(value))] = hit
        parts.append(hit[1])
    return parts


def _code(analysis: Analysis, position: int, canon: Any) -> int:
    """The number of canonical value ``canon`` of the fact at ``position``."""
    codes = analysis.codes[position]
    code = codes.get(canon)
    if code is None:
        code = codes[canon] = len(analysis.values[position])
        analysis.values[position].append(canon)
    return code


Labels = Sequence[Mapping[str, int]]


def ref_tables(facts: Mapping[str, Any], analysis: Analysis) -> Labels:
    """Per reference group (:func:`.reads.ref_groups`), the labels of the texts that occur
    more than once at its paths in ``facts``.

    The conditions compare a group's texts with one another (a consent's ``over`` must be
    a member's id and be in a voogd's ``voor``), so the abstract state keeps which texts are
    equal, not what they are: a text that occurs at two or more places of the group (a
    member's id that a ``voor`` names) is labelled by where it first occurs (its path, the
    group's paths sorted, and its place there: the third member), a text that occurs once
    is just "some text"
    (a ``voor`` that names no member, an id nothing names), and the payloads' plain text
    (:data:`.settings.TEXT`) and a path's literals stay as they are. Two trajecten with the
    same labels differ only by a renaming of the group's texts that keeps every equality
    between them, and between them and the plain text and the literals; the payloads are
    built from the traject's own ids (renamed alike), fresh ids (equal to none of them) and
    that plain text and those literals. So every comparison (``contains``, ``find``,
    ``equals``/``all_in`` with ``other:``) has the same outcome in both, and they behave
    alike. Texts a group holds that no condition compares across its paths are not part of
    any group and stay folded as before.
    """
    memo = analysis.memo
    out: list[Mapping[str, int]] = []
    for k, group in enumerate(analysis.refs):
        values = tuple(facts.get(n) for n in group.facts)
        key = ("\x00refs", k, *map(id, values))
        hit = memo.get(key)
        if hit is None or any(a is not b for a, b in zip(hit[0], values, strict=True)):
            seen: dict[str, int] = {}
            first: dict[str, int] = {}
            for number, walk in enumerate(group.walks):
                for place, text in enumerate(texts_at(facts, walk)):
                    if text != TEXT:
                        seen[text] = seen.get(text, 0) + 1
                        first.setdefault(text, number * 1024 + place)
            hit = (values, {text: first[text] for text, n in seen.items() if n > 1})
            memo[key] = hit  # keeps the values alive, so their ids stay unique
        out.append(hit[1])
    return out


def _group(literals: frozenset[str]) -> int | None:
    for marker in literals:
        if marker.startswith(REF):
            return int(marker[len(REF):])
    return None


def _member(text: str, literals: frozenset[str], raw: bool, labels: Mapping[str, int] | None
            ) -> Any:
    """A text as the abstract state keeps it, or None when it is just "some text"."""
    if raw or text in literals:
        return ("=", text)
    if labels is not None:
        if text == TEXT:
            return ("=", text)
        label = labels.get(text)
        if label is not None:
            return ("#", label)
    return None


def _shallow(value: Any, literals: frozenset[str], cap: int, keyed: bool,
             tables: Labels | None = None) -> Any:
    raw = RAW in literals
    labels: Mapping[str, int] | None = None
    group = _group(literals)
    if group is not None:
        if tables is None:
            raw = True  # a payload: its ids are compared with the traject's as they are
        elif not raw:
            labels = tables[group]
    if WHOLE not in literals:
        if LITERALS in literals and MEMBERS not in literals and not raw and labels is None:
            # compared only with these text literals: any other value reads alike
            return ("=", value) if isinstance(value, str) and value in literals else "≠"
        if MEMBERS in literals and LITERALS not in literals and not (
                isinstance(value, list | Mapping) and value):
            return "∅"  # only looked into, and it holds nothing
    if value is None:
        return None
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        kept = _member(value, literals, raw, labels)
        if kept is not None:
            return kept
        return "·" if value.strip() else ""
    if isinstance(value, list):
        members = sorted({m for v in value if isinstance(v, str)
                          and (m := _member(v, literals, raw, labels)) is not None})
        return ("L", min(len(value), cap), tuple(members))
    if isinstance(value, Mapping):
        count = ("M", min(len(value), cap)) if keyed else ("D", bool(value))
        if raw or labels is not None:  # the keys are compared: keep them
            return (*count, tuple(sorted({m for v in value if isinstance(v, str)
                                          and (m := _member(v, literals, raw, labels))
                                          is not None})))
        return count
    return type(value).__name__


def canon_value(value: Any, trie: Mapping[str, Any], cap: int, keyed: bool = False,
                tables: Labels | None = None) -> Any:
    """The part of ``value`` that ``trie`` says is read, with collections counted up to ``cap``.
    ``tables``: the labels of the reference groups (:func:`ref_tables`) in the traject the
    value is from; without them (a payload) the texts at reference paths are kept as they
    are."""
    parts: list[Any] = []
    if "" in trie:
        parts.append(_shallow(value, trie[""], cap, keyed, tables))
    for key, sub in sorted(trie.items()):
        if key == "":
            continue
        if key == "[]":
            items: list[Any] = []
            if isinstance(value, Mapping):
                items = list(value.values())
            elif isinstance(value, list):
                items = value
            counted: dict[str, int] = {}
            for item in items:
                text = repr(canon_value(item, sub, cap, False, tables))
                counted[text] = min(cap, counted.get(text, 0) + 1)
            parts.append(("[]", tuple(sorted(counted.items()))))
        else:
            child = value.get(key) if isinstance(value, Mapping) else None
            parts.append((key, canon_value(child, sub, cap, False, tables)))
    return tuple(parts)

