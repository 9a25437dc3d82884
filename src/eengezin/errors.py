"""The exceptions eengezin raises.

Every error derives from :class:`EengezinError`, so a host can catch one type.
Problems in a definition are collected (not only the first) and raised together
as one :class:`DefinitionError`, each with its file, line and column.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs


@attrs.frozen(order=True)
class Location:
    """A place in a definition file (line and column are 1-based)."""

    file: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.col}"
        return self.file


@attrs.frozen
class Problem:
    """One thing wrong with a definition, with where it is."""

    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class EengezinError(Exception):
    """Root of every error raised by eengezin."""


class DefinitionError(EengezinError):
    """A definition could not be loaded; ``problems`` lists every problem found.

    >>> err = DefinitionError([Problem(Location("x.yaml", 3, 5), "onbekende staat 'foo'")])
    >>> str(err)
    "x.yaml:3:5: onbekende staat 'foo'"
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class DefinitionNotFoundError(DefinitionError):
    """A definition id or path that does not exist."""


class UnknownEventError(EengezinError):
    """An event id that the definition does not declare."""

    def __init__(self, event: str, definition_id: str) -> None:
        self.event = event
        self.definition_id = definition_id
        super().__init__(f"event {event!r} is not declared in definition {definition_id!r}")


class DefinitionMismatchError(EengezinError):
    """A traject was made under another definition (id, version or content hash).

    ``traject_id``, ``expected`` (the traject's ref) and ``actual`` (the ref offered)
    are set where known.
    """

    def __init__(self, message: str, *, traject_id: str | None = None,
                 expected: object = None, actual: object = None) -> None:
        self.traject_id = traject_id
        self.expected = expected
        self.actual = actual
        super().__init__(message)


class InputError(EengezinError):
    """Data from outside (an events file, a payload, JSON) that cannot be read safely: too
    deep, not UTF-8, not finite, lone surrogates. The message never quotes the data."""


class SerializationError(EengezinError):
    """A serialized traject could not be read (wrong shape or schema version)."""


class ConflictError(EengezinError):
    """Another writer appended to the traject first (optimistic concurrency).

    ``expected`` is the version the writer decided on, ``actual`` the stored one (None
    when unknown or when the traject is not stored).
    """

    def __init__(self, message: str, *, traject_id: str | None = None,
                 expected: int | None = None, actual: int | None = None) -> None:
        self.traject_id = traject_id
        self.expected = expected
        self.actual = actual
        super().__init__(message)


class IdempotencyConflictError(ConflictError):
    """An idempotency key was used before for a different request (other event or payload)."""


class ReplayError(EengezinError, ValueError):
    """A logged entry does not follow when replayed: it would now be refused, or it is out
    of order. ``traject_id``, ``version`` (of the entry) and ``event`` say which."""

    def __init__(self, traject_id: str, version: int, event: str, reason: str) -> None:
        self.traject_id = traject_id
        self.version = version
        self.event = event
        self.reason = reason
        super().__init__(f"traject {traject_id!r}: entry {version} ({event}) does not replay: {reason}")


class HostPredicateError(EengezinError):
    """A host predicate raised an exception; the event is refused (``predicaat.fout``).

    ``predicate`` is its name; the original exception is ``__cause__`` / ``original``.
    """

    def __init__(self, predicate: str, original: BaseException | None = None) -> None:
        self.predicate = predicate
        self.original = original
        super().__init__(f"host predicate {predicate!r} raised "
                         f"{type(original).__name__ if original else 'an error'}")


class NaiveDatetimeError(EengezinError, ValueError):
    """A moment without a time zone was given where the engine needs an exact instant."""
