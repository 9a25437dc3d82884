"""How much of a definition a set of histories exercises: states, transitions, rules.

>>> result = coverage("basis", sample_histories("basis", examples=5, max_size=10))
>>> result.states_total > 0 and 0 < result.accepted <= result.events
True
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
from hypothesis import HealthCheck, Phase, given, settings

from ..process.model import Definition, Transition
from ..process.step import new_traject, step
from ..traject import Event
from .strategies import DefinitionRef, event_possible, histories, resolve

__all__ = ["Coverage", "coverage", "sample_histories"]


@attrs.frozen
class Coverage:
    """What a set of histories reached. Each counter maps an item to the number of
    histories that reached it; items never reached are in the counter with 0.

    - ``states``: ``"track:state"`` for every state, compound states included, that a
      traject of a history was in;
    - ``transitions``: every declared transition, ``"event track: from -> to"``, taken
      (the event was accepted in one of its source states and its track entered its target);
    - ``effects``: every effect that ran;
    - ``rules``: every rule of the definition that refused or warned at least once;
    - ``rules_checked``: every rule whose event was decided while it was possible.
    """

    definition: str
    histories: int
    events: int
    accepted: int
    states: Mapping[str, int]
    transitions: Mapping[str, int]
    effects: Mapping[str, int]
    rules: Mapping[str, int]
    rules_checked: Mapping[str, int]

    @property
    def states_total(self) -> int:
        return len(self.states)

    @staticmethod
    def _hit(counter: Mapping[str, int]) -> int:
        return sum(1 for n in counter.values() if n)

    @staticmethod
    def _missed(counter: Mapping[str, int]) -> list[str]:
        return sorted(k for k, n in counter.items() if not n)

    @property
    def missed_states(self) -> list[str]:
        return self._missed(self.states)

    @property
    def missed_transitions(self) -> list[str]:
        return self._missed(self.transitions)

    @property
    def missed_rules(self) -> list[str]:
        return self._missed(self.rules)

    def summary(self) -> str:
        """A few lines for a test log or the docs."""
        def part(name: str, counter: Mapping[str, int]) -> str:
            return f"{name} {self._hit(counter)}/{len(counter)}"

        lines = [
            f"{self.definition}: {self.histories} histories, {self.events} events "
            f"({self.accepted} accepted)",
            ", ".join([part("states", self.states), part("transitions", self.transitions),
                       part("effects", self.effects), part("rules checked", self.rules_checked),
                       part("rules refused/warned", self.rules)]),
        ]
        if self.missed_states:
            lines.append("states not reached: " + ", ".join(self.missed_states))
        return "\n".join(lines)


def _label(event_id: str, tr: Transition) -> str:
    return f"{event_id} {tr.track}: {'|'.join(sorted(tr.sources))} -> {tr.target}"


def _under(path: str, target: str) -> bool:
    return path == target or path.startswith(target + ".")


def coverage(definition: DefinitionRef, histories: Iterable[Sequence[Event]]) -> Coverage:
    """Decide every history from a new traject (with :func:`eengezin.step`) and count what
    it reached; see :class:`Coverage`."""
    loaded = resolve(definition)
    states: Counter[str] = Counter({f"{tid}:{path}": 0 for tid, track in loaded.tracks.items()
                                    for path in track.nodes})
    transitions: Counter[str] = Counter({_label(eid, tr): 0 for eid, spec in loaded.events.items()
                                         for tr in spec.transitions})
    effects: Counter[str] = Counter({effect.id: 0 for effect in loaded.effects})
    rules: Counter[str] = Counter({rule.id: 0 for rule in loaded.rules})
    checked: Counter[str] = Counter({rule.id: 0 for rule in loaded.rules})
    count = events = accepted = 0
    for history in histories:
        count += 1
        seen: set[tuple[str, str]] = set()
        traject = new_traject(loaded, "dekking")
        seen.update(("state", f"{tid}:{path}") for tid, leaf in traject.state.items()
                    for path in loaded.tracks[tid].ancestors.get(leaf, (leaf,)))
        for event in history:
            events += 1
            if event.name not in loaded.events:
                continue
            possible = event_possible(loaded, traject, event.name)
            outcome = step(loaded, traject, event)
            spec = loaded.events[event.name]
            if possible:
                seen.update(("checked", rule.id) for rule in spec.rules)
            seen.update(("rule", rid) for rid in outcome.verdict.rule_ids if rid in rules)
            if not outcome.accepted:
                continue
            accepted += 1
            before, after = traject.state, outcome.traject.state
            entered = set(outcome.entered)
            moved: set[str] = set()
            for tr in spec.transitions:
                if tr.track in moved or before.get(tr.track) not in tr.sources:
                    continue
                if f"{tr.track}:{tr.target}" in entered or _under(after[tr.track], tr.target):
                    moved.add(tr.track)
                    seen.add(("transition", _label(event.name, tr)))
            seen.update(("effect", eid) for eid in outcome.effects)
            traject = outcome.traject
            seen.update(("state", f"{tid}:{path}") for tid, leaf in traject.state.items()
                        for path in loaded.tracks[tid].ancestors.get(leaf, (leaf,)))
        for kind, key in seen:
            {"state": states, "transition": transitions, "effect": effects, "rule": rules,
             "checked": checked}[kind][key] += 1
    return Coverage(loaded.id, count, events, accepted, dict(states), dict(transitions),
                    dict(effects), dict(rules), dict(checked))


def sample_histories(definition: DefinitionRef, examples: int = 100, **options: Any
                     ) -> list[list[Event]]:
    """``examples`` histories drawn by :func:`~eengezin.testing.histories` (``options`` are
    its keyword arguments), the same ones on every run (derandomized): for
    :func:`coverage`, outside a hypothesis test."""
    loaded: Definition = resolve(definition)
    drawn: list[list[Event]] = []

    @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(histories(loaded, **options))
    def draw(events: list[Event]) -> None:
        drawn.append(events)

    draw()
    return drawn
