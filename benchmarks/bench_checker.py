"""Model checker benchmark: every bundled definition, checked completely.

Run:

    .venv/bin/python benchmarks/bench_checker.py [--repeat 3] [--only DEF,DEF] [--jobs N]
        [--no-reduce] [--json]

For each definition it prints the abstract states explored, the distinct transitions, the
best and median wall-clock time of ``check_definition`` (loading the YAML excluded; the
target is 3 s for zuid-limburg on a quiet 2-core machine), and the best CPU time of the
process (steadier than wall-clock time on a shared machine), the process's peak resident
memory after that definition (it only grows, so for the largest definition it is that
definition's), with the load average before and after. With ``--jobs N`` the parts of a
check run in N processes (see ``eengezin.checker.parts``): the CPU column then adds the
worker processes' time and the peak column is the largest worker's when that is larger. It
only reports; nothing asserts a time. ``--no-reduce`` checks without observed facts,
side tracks and obligations (``check_definition(reduce=False)``: the same findings, more states), to compare
in the same run; zuid-limburg then takes minutes and over a gigabyte per process.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
from pathlib import Path

from eengezin import bundled_ids, load_definition
from eengezin.checker import check_definition


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--only", default="", help="bundled ids, comma-separated")
    parser.add_argument("--jobs", type=int, default=1, help="parts searched at a time")
    parser.add_argument("--no-reduce", action="store_true",
                        help="without observed facts and side tracks, to compare")
    args = parser.parse_args(argv)
    rows = []
    load_before = _load()
    chosen = [d for d in args.only.split(",") if d] or list(bundled_ids())
    for def_id in chosen:
        times = []
        cpu = []
        result = None
        for _ in range(args.repeat):
            definition = load_definition(def_id)  # a fresh definition: no warm caches
            started = _cpu()
            result = check_definition(definition, jobs=args.jobs, reduce=not args.no_reduce)
            cpu.append(_cpu() - started)
            times.append(result.seconds)
        assert result is not None
        rows.append({
            "definition": def_id, "states": result.states, "transitions": result.transitions,
            "sound": result.sound, "best_s": min(times), "median_s": statistics.median(times),
            "cpu_best_s": min(cpu), "peak_rss_mb": _peak_mb(),
        })
    load = {"before": load_before, "after": _load()}
    if args.json:
        json.dump({"python": platform.python_version(), "load": load, "rows": rows}, sys.stdout,
                  indent=2)
        print()
        return 0
    print(f"python {platform.python_version()}, {platform.machine()}, repeat {args.repeat}, "
          f"jobs {args.jobs}{', without reductions' if args.no_reduce else ''}, "
          f"load average {load['before']} before, {load['after']} after")
    print(f"{'definition':18} {'states':>10} {'transitions':>12} {'sound':>6} {'best':>8} "
          f"{'median':>8} {'cpu':>8} {'peak':>8}")
    for row in rows:
        print(f"{row['definition']:18} {row['states']:>10,} {row['transitions']:>12,} "
              f"{'yes' if row['sound'] else 'NO':>6} {row['best_s']:>7.2f}s "
              f"{row['median_s']:>7.2f}s {row['cpu_best_s']:>7.2f}s {row['peak_rss_mb']:>6} MB")
    return 0


def _cpu() -> float:
    """CPU time of this process and of the worker processes it waited for."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def _peak_mb() -> int:
    """The peak resident memory so far of this process or of its largest worker, in MB
    (Linux: ru_maxrss is in kB)."""
    import resource

    return max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) // 1024


def _load() -> str:
    """The one-minute load average (Linux), or '?'."""
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


if __name__ == "__main__":
    raise SystemExit(main())
