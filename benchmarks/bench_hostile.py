"""Benchmark: how long loading a hostile (or just large) definition file takes.

Not a test (tests assert budgets, never times): it writes files of up to 2 MB and prints
the seconds ``load_definition`` takes to refuse or accept each, wall clock and CPU time of
this process (issue 13: every file of up to 2 MB in under 1 s on a quiet machine; on a shared
one, the CPU time is the steadier figure).

    .venv/bin/python benchmarks/bench_hostile.py
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from eengezin import DefinitionError, load_definition
from eengezin.definition import bundled_dir

SIZE = 1_980_000
HEAD = "id: x\nversion: '1'\n"


def block_list() -> str:
    return HEAD + "l:\n" + "- a\n" * ((SIZE - 30) // 4)


def flow_list(size: int = 380_000) -> str:
    return HEAD + "l: [" + "a," * ((size - 30) // 2) + "a]\n"


def long_scalar() -> str:
    return HEAD + "description: " + "xx yy " * ((SIZE - 40) // 6) + "\n"


def blank_lines() -> str:
    return HEAD + "\n" * (SIZE - 30)


def comments() -> str:
    return HEAD + "# commentaar commentaar\n" * ((SIZE - 30) // 24)


def deep_flow() -> str:
    return HEAD + "l: " + "[" * ((SIZE - 30) // 2) + "]" * ((SIZE - 30) // 2) + "\n"


def alias_bomb() -> str:
    lines = [HEAD.strip(), 'l0: &l0 ["ha", "ha", "ha", "ha", "ha", "ha", "ha"]']
    for i in range(1, 9):
        lines.append(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]")
    return "\n".join(lines) + "\n"


def huge_integer() -> str:
    return HEAD + "params:\n  n: " + "9" * (SIZE - 40) + "\n"


def block_list_yaml12(size: int = SIZE) -> str:
    """libyaml refuses ``{a?: 1}`` (YAML 1.1): up to 200,000 characters, the text is read
    again by the pure YAML 1.2 parser (at most 15,000 nodes); larger, it is refused."""
    return HEAD + "t: {a?: 1}\nl:\n" + "- a\n" * ((size - 50) // 4)


def blank_lines_then_error() -> str:
    return HEAD + "\n" * (SIZE - 40) + "x: [a, b\n"


def many_rules() -> str:
    """A valid definition extending basis with rules up to the node budget (accepted)."""
    rules = ["rules:"]
    for i in range(2_500):
        rules.append(f"  - id: extra.r{i}\n    severity: warn\n    on: afronden\n"
                     f"    require: {{in_state: {{regie: afronding}}}}\n    message: m{i}\n"
                     f"    source: s\n")
    return "id: veel\nversion: '1'\nextends: basis\n" + "\n".join(rules)


def zuid_limburg() -> str:
    return (bundled_dir() / "zuid-limburg.yaml").read_text("utf-8")


CASES: list[tuple[str, Callable[[], str]]] = [
    ("block list, 1.98 MB", block_list),
    ("flow list, 380 KB", flow_list),
    ("flow list, 1.98 MB", lambda: flow_list(SIZE)),
    ("one long plain scalar, 1.98 MB", long_scalar),
    ("blank lines, 1.98 MB", blank_lines),
    ("comment lines, 1.98 MB", comments),
    ("nested flow lists, 1.98 MB", deep_flow),
    ("alias bomb (10^8 nodes)", alias_bomb),
    ("block list after {a?: 1}, 1.98 MB", block_list_yaml12),
    ("same, 199 KB (pure parser)", lambda: block_list_yaml12(199_000)),
    ("flow list after {a?: 1}, 199 KB (pure)", lambda: "t: {a?: 1}\n" + flow_list(199_000)),
    ("blank lines, then a syntax error", blank_lines_then_error),
    ("integer of 1.98 million digits", huge_integer),
    ("valid: basis + 2,500 rules", many_rules),
    ("valid: zuid-limburg (bundled)", zuid_limburg),
]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in CASES:
            text = make()
            path = Path(tmp) / "d.yaml"
            path.write_text(text, "utf-8")
            start, cpu = time.perf_counter(), time.process_time()
            try:
                load_definition(path)
                verdict = "accepted"
            except DefinitionError as exc:
                verdict = "refused: " + exc.problems[0].message[:48]
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
            print(f"{name:<40} {len(text.encode()):>9,} B  {seconds:5.2f} s wall  {cpu:5.2f} s cpu"
                  f"  {verdict}")


if __name__ == "__main__":
    main()
