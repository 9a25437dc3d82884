"""Errors raised by the stores (all subclasses of :class:`~eengezin.errors.EengezinError`).

A concurrent writer gets :class:`~eengezin.errors.ConflictError` (defined with the
other core errors); a traject under another definition gets
:class:`~eengezin.errors.DefinitionMismatchError`.
"""

from __future__ import annotations

from ..errors import DefinitionError, EengezinError


class StoreError(EengezinError):
    """Something went wrong in a store (root of the store errors)."""


class StoreOpenError(StoreError):
    """The store cannot be opened: bad URL, unreachable server, foreign or corrupt file.

    >>> str(StoreOpenError("x.db: not an eengezin store"))
    'x.db: not an eengezin store'
    """


class StoreCorruptError(StoreError):
    """Stored data cannot be read back, or a history does not replay to its snapshot."""


class TrajectNotFoundError(StoreError):
    """No traject with this id in the store."""

    def __init__(self, traject_id: str) -> None:
        self.traject_id = traject_id
        super().__init__(f"traject {traject_id!r} is not in the store")


class TrajectErasedError(StoreError):
    """The traject's personal data was erased (its data key destroyed): nothing can be
    appended to it any more."""

    def __init__(self, traject_id: str) -> None:
        self.traject_id = traject_id
        super().__init__(f"traject {traject_id!r}: de persoonsgegevens zijn gewist; er kan "
                         "niets meer aan worden toegevoegd")


class RetentionError(StoreError):
    """An erasure the statutory retention term does not allow yet (give a documented
    exception to erase anyway)."""


class StoreKeyError(StoreError):
    """A key needed to read or write the store is missing or does not match."""


class MigrationError(DefinitionError):
    """A migration file is invalid or incomplete; ``problems`` lists every problem found."""
