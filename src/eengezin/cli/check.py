"""``eengezin check DEF``: the model checker's command.

Exit 0 when the definition is sound, 1 with findings, 2 when it cannot be loaded.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TextIO

from ..checker import check_definition, result_json, write_report
from ..checker.settings import MAX_STATES
from ..errors import DefinitionError
from .progress import Progress

_EXIT_OK, _EXIT_FINDINGS, _EXIT_UNUSABLE = 0, 1, 2


def check_command(ref: str, out: TextIO, err: TextIO | None = None, *,
                  max_states: int = MAX_STATES, as_json: bool = False, jobs: int = 1,
                  reduce: bool = True) -> int:
    """Run ``eengezin check DEF``: 0 sound, 1 with findings, 2 for an unusable definition.

    >>> import io
    >>> check_command("basis", io.StringIO())
    0
    """
    try:
        with Progress("check: toestanden") as progress:
            result = check_definition(ref, max_states=max_states, jobs=jobs, reduce=reduce,
                                      progress=lambda n: progress.advance(n - progress.done))
    except DefinitionError as exc:
        stream = err if err is not None else out
        for problem in exc.problems:
            stream.write(f"{problem}\n")
        return _EXIT_UNUSABLE
    if as_json:
        out.write(json.dumps(result_json(result), ensure_ascii=False, indent=2) + "\n")
    else:
        write_report(result, out)
    return _EXIT_OK if result.sound else _EXIT_FINDINGS


def cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    """0 sound, 1 with findings, 2 for an unusable definition."""
    limit = args.max_states if args.max_states is not None else MAX_STATES
    jobs = args.jobs if args.jobs is not None else cpus()
    return check_command(args.definition, out, sys.stderr, max_states=limit, as_json=args.json,
                         jobs=max(1, jobs), reduce=not args.no_reduce)


def cpus() -> int:
    """The processors this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
