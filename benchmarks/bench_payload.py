"""Benchmark: the payload check of single events (``EventSpec.validate``), CPU time.

Not a test: it prints µs per call for the payloads of the 13-event walk of
``bench_engine.py`` (the hot path of ``step``).

    .venv/bin/python benchmarks/bench_payload.py
"""

from __future__ import annotations

import time
from datetime import date

from bench_engine import TOESTEMMING, WALK  # type: ignore[import-not-found]

from eengezin import load_definition

CLOCK = time.process_time
DAY = date(2026, 3, 2)


def main() -> None:
    definition = load_definition("basis")
    cases = [(e, p) for e, p in WALK if e in ("aanmelden", "regie_starten", "plan_vaststellen",
                                               "afsluiten", "basischeck")]
    cases.append(("toestemming_vastleggen", TOESTEMMING))
    number = 20_000
    for event, payload in cases:
        validate = definition.events[event].validate
        assert validate is not None
        errors: list[str] = []
        validate(payload, "", errors, DAY)
        assert not errors, (event, errors)
        best = float("inf")
        for _ in range(5):
            start = CLOCK()
            for _ in range(number):
                validate(payload, "", errors, DAY)
            best = min(best, (CLOCK() - start) / number)
        print(f"{event:<24} {best * 1e6:6.2f} µs")


if __name__ == "__main__":
    main()
