"""``eengezin check DEF``: the model checker's command."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from ..checker import check_command
from ..checker.explore import MAX_STATES


def cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    """0 sound, 1 with findings, 2 for an unusable definition."""
    limit = args.max_states if args.max_states is not None else MAX_STATES
    return check_command(args.definition, out, sys.stderr, max_states=limit, as_json=args.json)
