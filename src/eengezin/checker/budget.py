"""The budget of abstract states a check may explore, shared by its parts.

While one part is searched, ``reserve`` states stay kept back for every part not begun yet,
so that a budget too small for the whole space still looks at the start of every part.
One process counts in plain numbers. Parts searched in parallel processes count in an
array they share (states taken, parts not begun): a part takes its reserve when it begins,
and more a chunk at a time so that the processes seldom wait for one another; a part that
ends gives back what it did not use.
"""

from __future__ import annotations

from typing import Any

CHUNK = 1024


class Budget:
    """``take()`` says whether one more state may be explored; ``used`` is how many this
    process explored. ``shared``: a ``multiprocessing.Array("q", [0, parts])`` (with its
    lock) when parts run in several processes."""

    def __init__(self, total: int, *, parts: int = 0, reserve: int = 0,
                 shared: Any = None) -> None:
        self.total = total
        self.reserve = reserve
        self.shared = shared
        self.unstarted = parts  # one process: the parts not begun yet
        self.used = 0
        self._left = 0  # taken from the shared counter, not yet used

    def begin_part(self) -> None:
        """A part begins: its reserve is its own now."""
        if self.shared is None:
            self.unstarted = max(0, self.unstarted - 1)
            return
        with self.shared.get_lock():
            if self.shared[1] > 0:
                # its reserve is taken at once, so that the parts running next to it cannot
                # use it up first
                self.shared[1] -= 1
                self.shared[0] += self.reserve
                self._left += self.reserve

    def take(self) -> bool:
        if self.shared is None:
            if self.used >= self.total - self.reserve * self.unstarted:
                return False
            self.used += 1
            return True
        if not self._left:
            with self.shared.get_lock():
                free = self.total - self.shared[0] - self.reserve * self.shared[1]
                grant = min(CHUNK, free)
                if grant <= 0:
                    return False
                self.shared[0] += grant
            self._left = grant
        self._left -= 1
        self.used += 1
        return True

    def give_back(self) -> None:
        """Return what was taken from the shared counter and not used."""
        if self.shared is not None and self._left:
            with self.shared.get_lock():
                self.shared[0] -= self._left
            self._left = 0
