"""Progress on stderr for long commands, only when stderr is a terminal (silent in pipes,
logs and CI)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """``with Progress("verify", total) as p: p.advance()`` draws ``verify 120/4000`` in place."""

    def __init__(self, label: str, total: int | None = None, *, stream: TextIO | None = None,
                 every: float = 0.2) -> None:
        self.label = label
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.done = 0
        self.every = every
        self._last = 0.0

    def __enter__(self) -> Progress:
        return self

    def advance(self, n: int = 1) -> None:
        self.done += n
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last >= self.every:
            self._last = now
            of = f"/{self.total}" if self.total is not None else ""
            self.stream.write(f"\r{self.label} {self.done}{of}")
            self.stream.flush()

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * (len(self.label) + 24) + "\r")
            self.stream.flush()
