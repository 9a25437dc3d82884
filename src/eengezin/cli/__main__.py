"""``python -m eengezin.cli``."""

import sys

from . import entry

sys.exit(entry())
