"""What the rule engine says about an event: violations and the verdict."""

from __future__ import annotations

from typing import Literal

import attrs

Severity = Literal["block", "warn"]


@attrs.frozen(slots=True)
class Violation:
    """One rule that an event does not satisfy.

    ``message`` is Dutch (shown to professionals); ``source`` cites the method's
    document the rule comes from (``"002 fase 6 toelichting"``); ``next`` names the
    events that resolve it (the way forward a host can offer), in the definition's order.
    """

    rule: str
    severity: Severity
    message: str
    source: str = ""
    next: tuple[str, ...] = ()

    @property
    def blocks(self) -> bool:
        return self.severity == "block"


@attrs.frozen(slots=True)
class Verdict:
    """Every violated rule for one event. ``accepted`` is False iff one of them blocks."""

    violations: tuple[Violation, ...] = ()

    @property
    def accepted(self) -> bool:
        # a loop, not any(): asked for every event (hot path)
        for v in self.violations:  # noqa: SIM110
            if v.severity == "block":
                return False
        return True

    @property
    def blocking(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.severity == "block")

    @property
    def warnings(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.severity == "warn")

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(v.rule for v in self.violations)
