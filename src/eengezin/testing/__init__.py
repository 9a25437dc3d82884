"""Test helpers for hosts and definition authors (hypothesis strategies and more).

The public face of the testing kit (see ``docs/testing.md``):

- :func:`histories` — a hypothesis strategy of event sequences a definition can decide;
- :class:`TrajectMachine` — a ``RuleBasedStateMachine`` that fires the events of its
  ``definition`` class attribute and checks its invariants; subclass it, set
  ``definition`` and add your own (:func:`traject_state_machine` makes such a class);
- :func:`coverage` — the states, transitions, effects and rules a set of histories
  reaches (:func:`sample_histories` draws them outside a test).

Both accept a loaded definition, a bundled id such as ``"basis"`` or a path to a YAML file.
"""

from .coverage import Coverage, coverage, sample_histories
from .statemachine import TrajectMachine, invariant_holds, traject_state_machine
from .strategies import accepted_prefix, histories, possible_events

__all__ = [
    "Coverage",
    "TrajectMachine",
    "accepted_prefix",
    "coverage",
    "histories",
    "invariant_holds",
    "possible_events",
    "sample_histories",
    "traject_state_machine",
]
