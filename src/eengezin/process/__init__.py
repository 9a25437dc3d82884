"""The compiled process and the pure core: ``step``, ``evaluate``, ``replay``."""

from .model import Definition, EventSpec, Track
from .step import available_events, evaluate, new_traject, replay, step

__all__ = [
    "Definition",
    "EventSpec",
    "Track",
    "available_events",
    "evaluate",
    "new_traject",
    "replay",
    "step",
]
