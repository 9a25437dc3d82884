"""Model checker benchmark: every bundled definition, checked completely.

Run:

    .venv/bin/python benchmarks/bench_checker.py [--repeat 3] [--json]

For each definition it prints the abstract states explored, the distinct transitions, and
the best and median wall-clock time of ``check_definition`` (loading the YAML excluded; the
issue's target is 5 s per definition). It only reports; nothing asserts a time.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys

from eengezin import bundled_ids, load_definition
from eengezin.checker import check_definition


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    rows = []
    for def_id in bundled_ids():
        times = []
        result = None
        for _ in range(args.repeat):
            definition = load_definition(def_id)  # a fresh definition: no warm caches
            result = check_definition(definition)
            times.append(result.seconds)
        assert result is not None
        rows.append({
            "definition": def_id, "states": result.states, "transitions": result.transitions,
            "sound": result.sound, "best_s": min(times), "median_s": statistics.median(times),
        })
    if args.json:
        json.dump({"python": platform.python_version(), "rows": rows}, sys.stdout, indent=2)
        print()
        return 0
    print(f"python {platform.python_version()}, {platform.machine()}, repeat {args.repeat}")
    print(f"{'definition':18} {'states':>8} {'transitions':>12} {'sound':>6} {'best':>8} "
          f"{'median':>8}")
    for row in rows:
        print(f"{row['definition']:18} {row['states']:>8,} {row['transitions']:>12,} "
              f"{'yes' if row['sound'] else 'NO':>6} {row['best_s']:>7.2f}s "
              f"{row['median_s']:>7.2f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
