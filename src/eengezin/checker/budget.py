"""The budget of abstract states a check may explore, shared by its parts.

One process counts in a plain number. Parts searched in parallel processes take states
from a counter they share, a chunk at a time, so that they seldom wait for one another; a
part that ends gives back what it did not use.
"""

from __future__ import annotations

from typing import Any

CHUNK = 1024


class Budget:
    """``take()`` says whether one more state may be explored; ``used`` is how many were,
    by this process (all processes together: ``shared.value``, give or take a chunk each)."""

    def __init__(self, total: int, shared: Any = None) -> None:
        self.total = total
        self.shared = shared  # a multiprocessing.Value("q") with a lock, or None
        self.used = 0
        self._left = 0  # taken from the shared counter, not yet used

    def take(self) -> bool:
        if self.shared is None:
            if self.used >= self.total:
                return False
            self.used += 1
            return True
        if not self._left:
            with self.shared.get_lock():
                grant = min(CHUNK, self.total - self.shared.value)
                if grant <= 0:
                    return False
                self.shared.value += grant
            self._left = grant
        self._left -= 1
        self.used += 1
        return True

    def give_back(self) -> None:
        """Return what was taken from the shared counter and not used."""
        if self.shared is not None and self._left:
            with self.shared.get_lock():
                self.shared.value -= self._left
            self._left = 0
