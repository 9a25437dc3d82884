"""Test helpers for hosts and definition authors (hypothesis strategies and more).

The public face of the testing kit (see ``docs/testing.md``):

- :func:`histories` — a hypothesis strategy of event sequences a definition can decide;
- :func:`traject_state_machine` — a ``RuleBasedStateMachine`` class that fires the
  definition's events and checks its invariants; subclass it to add your own.

Both accept a loaded definition, a bundled id such as ``"basis"`` or a path to a YAML file.
"""

from .statemachine import TrajectMachine, invariant_holds, traject_state_machine
from .strategies import accepted_prefix, histories, possible_events

__all__ = [
    "TrajectMachine",
    "accepted_prefix",
    "histories",
    "invariant_holds",
    "possible_events",
    "traject_state_machine",
]
