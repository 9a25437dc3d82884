"""A compiled definition laid out as a ``transitions`` statechart (the one place that does).

``transitions`` gives the statechart semantics: nested states entered through their
initial child, parallel regions that each take an event, guards, ``on_enter`` callbacks
in entry order. Two users:

- the compiler asks :func:`entry_chains` where entering each state of a track settles
  and through which states (the initial-child descent), and takes each state's
  ``initial_leaf`` (so every compiled target and every new traject's state) from it;
- the reference decision of the testing kit (:mod:`eengezin.testing.reference`) fires
  events on a :class:`Statechart` to check that :func:`eengezin.step` picks the same
  transitions, enters the same states and moves the parallel tracks alike.

Layout of the machine::

    traject                      (root, parallel)
    ├── regie                    (one region per track)
    │   ├── aanmelding
    │   ├── startoverleg
    │   │   ├── voorbereiding    -> full name "traject.regie.startoverleg.voorbereiding"
    …

The separator is ``"."``. transitions' default is ``"_"``, which silently turns a
state named ``geen_signalen`` into ``geen`` -> ``signalen``; the definition compiler
refuses a ``.`` in a state name, so ``.`` can never occur inside one of our ids.

Only the compiled model is read: each event's transitions go from their source leaves
to the state the definition names (``Transition.to``: a compound state is entered through
its initial child by transitions itself), ``when_in`` becomes a trigger per allowed leaf,
and an effect's move a trigger from every leaf to the state it names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from transitions.extensions.nesting import HierarchicalMachine, NestedState

from ..errors import EengezinError
from .model import Definition, EventSpec, StateNode

SEPARATOR = "."
ROOT = "traject"
AVAILABLE = "?"  # prefix of the triggers that encode ``when_in`` (availability only)
EFFECT = "!"  # prefix of the triggers that carry out an effect's move
_OUTSIDE = "\x00buiten"  # a state outside the track's tree, for :func:`entry_chains`

Guard = Callable[[Any], bool]


class MachineBuildError(EengezinError):
    """A definition that cannot be laid out as a transitions machine."""


class DottedState(NestedState):
    """A transitions state whose nested names are joined with ``.`` instead of ``_``."""

    separator = SEPARATOR


class DottedMachine(HierarchicalMachine):
    """A HierarchicalMachine over :class:`DottedState`."""

    state_cls = DottedState


def full_name(track: str, path: str) -> str:
    """The transitions name of a dotted state ``path`` in ``track``.

    >>> full_name("regie", "startoverleg.voorbereiding")
    'traject.regie.startoverleg.voorbereiding'
    """
    return SEPARATOR.join((ROOT, track, path))


def split_name(name: str) -> tuple[str, str]:
    """Inverse of :func:`full_name`.

    >>> split_name("traject.veiligheid.geen_signalen")
    ('veiligheid', 'geen_signalen')
    """
    root, track, path = name.split(SEPARATOR, 2)
    if root != ROOT:
        raise ValueError(f"{name!r} is not a state of this machine")
    return track, path


def _flatten(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    out: list[str] = []
    for item in value:
        out.extend(_flatten(item))
    return out


def _tree(nodes: Mapping[str, StateNode], initials: Mapping[str, str], path: str,
          entered: Callable[[str], Callable[[Any], None]]) -> dict[str, Any]:
    """The transitions spec of state ``path`` and its children."""
    node = nodes[path]
    spec: dict[str, Any] = {"name": path.rsplit(".", 1)[-1], "final": node.final,
                            "on_enter": [entered(path)]}
    if node.children:
        spec["children"] = [_tree(nodes, initials, c, entered) for c in node.children]
        spec["initial"] = initials[path].rsplit(".", 1)[-1]
    return spec


class _Scratch:
    """A transitions model that only records."""

    state: Any  # set by transitions


def entry_chains(nodes: Mapping[str, StateNode], initials: Mapping[str, str]
                 ) -> dict[str, tuple[str, ...]]:
    """For each state of a track, the states entered, in order, when a transition from
    outside the track's tree enters it: the state itself, then its initial child, and so
    on down to a leaf (the last element). ``nodes`` are the track's states (their parent
    and children), ``initials`` the declared initial child of each compound state.

    The compiler takes every state's ``initial_leaf`` from here, so the initial-child
    semantics is the one of transitions.

    >>> from eengezin.process.model import StateNode
    >>> nodes = {
    ...     "a": StateNode("a", "A", None, (), False, "a"),
    ...     "b": StateNode("b", "B", None, ("b.x", "b.y"), False, "b"),
    ...     "b.x": StateNode("b.x", "X", "b", (), False, "b.x"),
    ...     "b.y": StateNode("b.y", "Y", "b", (), True, "b.y"),
    ... }
    >>> entry_chains(nodes, {"b": "b.x"})["b"]
    ('b', 'b.x')
    """
    log: list[str] = []

    def entered(path: str) -> Callable[[Any], None]:
        return lambda *args: log.append(path)

    top = [p for p, n in nodes.items() if n.parent is None]
    model = _Scratch()
    machine = DottedMachine(
        model=model, states=[_OUTSIDE, *(_tree(nodes, initials, p, entered) for p in top)],
        initial=_OUTSIDE, auto_transitions=False, ignore_invalid_triggers=False)
    chains: dict[str, tuple[str, ...]] = {}
    for i, path in enumerate(nodes):
        trigger = f"enter{i}"
        machine.add_transition(trigger, _OUTSIDE, path)
        machine.set_state(_OUTSIDE, model)
        log.clear()
        machine.trigger_event(model, trigger)
        chains[path] = tuple(log)
    return chains


class Statechart:
    """A definition laid out as one transitions HierarchicalMachine with one model.

    ``guard(check)`` turns a compiled condition into a transitions condition, ``allowed``
    guards every event and effect trigger (a refused event moves nothing), and
    ``entered(track, path)`` is called for each state entered, in entry order.
    """

    def __init__(self, definition: Definition, *, guard: Callable[[Any], Guard],
                 allowed: Guard, entered: Callable[[str, str], None]) -> None:
        self.definition = definition
        self.model = _Scratch()
        for tid in definition.tracks:
            if SEPARATOR in tid:
                raise MachineBuildError(f"track id {tid!r} contains {SEPARATOR!r}")
        self._entered = entered
        regions = []
        for track in definition.tracks.values():
            # the initial child of a compound state: the child on the way to its initial leaf
            firsts = {p: next(c for c in n.children if _under(n.initial_leaf, c))
                      for p, n in track.nodes.items() if n.children}
            top = [p for p, n in track.nodes.items() if n.parent is None]
            regions.append({
                "name": track.id,
                "children": [_tree(track.nodes, firsts, p, self._callback(track.id)) for p in top],
                "initial": next(p for p in top if _under(track.initial, p)),
            })
        self.machine = DottedMachine(
            model=self.model, states=[{"name": ROOT, "parallel": regions}], initial=ROOT,
            auto_transitions=False, ignore_invalid_triggers=True, send_event=True,
            model_attribute="state")
        for spec in definition.events.values():
            self._add_event(spec, guard, allowed)
        for effect in definition.effects:
            for track_id, target in effect.move_to or effect.moves:
                track = definition.tracks[track_id]
                leaf = track.nodes[target].initial_leaf
                sources = [full_name(track_id, s) for s in sorted(track.leaves) if s != leaf]
                self.machine.add_transition(self.effect_trigger(effect.id, track_id), sources,
                                            full_name(track_id, target), conditions=[allowed])

    def _callback(self, track: str) -> Callable[[str], Callable[[Any], None]]:
        def for_path(path: str) -> Callable[[Any], None]:
            return lambda *args: self._entered(track, path)

        return for_path

    def _add_event(self, spec: EventSpec, guard: Callable[[Any], Guard], allowed: Guard) -> None:
        for tr in spec.transitions:
            conditions: list[str | Callable[..., bool | None]] = [allowed]
            if tr.when is not None:
                conditions.append(guard(tr.when))
            self.machine.add_transition(
                spec.id, [full_name(tr.track, s) for s in sorted(tr.sources)],
                full_name(tr.track, tr.to or tr.target), conditions=conditions)
        for track_id, leaves in spec.available or ():
            self.machine.add_transition(AVAILABLE + spec.id,
                                        [full_name(track_id, s) for s in sorted(leaves)], None)

    @staticmethod
    def effect_trigger(effect_id: str, track_id: str) -> str:
        return f"{EFFECT}{effect_id}{SEPARATOR}{track_id}"

    # ------------------------------------------------------------ queries and moves
    def state_names(self) -> list[str]:
        """Every state of the machine by its full name (compound states included)."""
        return list(self.machine.get_nested_state_names())

    def load(self, state: Mapping[str, str]) -> None:
        self.machine.set_state([full_name(t, state[t]) for t in self.definition.tracks],
                               self.model)

    def read(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for name in _flatten(self.model.state):
            track, path = split_name(name)
            out[track] = path
        return out

    def handles(self, trigger: str, state: Mapping[str, str], tracks: Sequence[str] = ()) -> bool:
        """Does some track (of ``tracks``, else any) have ``trigger`` in its state?"""
        return any(trigger in self.machine.get_triggers(full_name(t, state[t]))
                   for t in tracks or self.definition.tracks)

    def blocked_by(self, spec: EventSpec, state: Mapping[str, str]) -> str | None:
        """None when ``spec`` may happen in ``state``, else the first track that stops it."""
        if spec.available is not None:
            for track, _leaves in spec.available:
                if not self.handles(AVAILABLE + spec.id, state, [track]):
                    return track
            return None
        if self.handles(spec.id, state):
            return None
        return spec.transitions[0].track if spec.transitions else next(iter(self.definition.tracks))

    def fire(self, trigger: str) -> None:
        self.machine.trigger_event(self.model, trigger)


def _under(leaf: str, path: str) -> bool:
    return leaf == path or leaf.startswith(path + SEPARATOR)
