"""Pure date arithmetic for terms: werkdagen, kalenderdagen and weken.

Working days skip Saturdays, Sundays and the days of the Algemene termijnenwet
art. 3 (Nieuwjaarsdag, Goede Vrijdag, Tweede Paasdag, Koningsdag, Bevrijdingsdag
every year, Hemelvaartsdag, Tweede Pinksterdag, both Kerstdagen). The ``holidays``
package gives exactly those for NL with the categories ``public`` + ``optional``
(``public`` alone has 5 May only every fifth year).

>>> from datetime import date
>>> add_term(date(2026, 4, 24), 1, "werkdagen")   # Friday -> Tuesday (27 April is Koningsdag)
datetime.date(2026, 4, 28)
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import Literal

Unit = Literal["werkdagen", "kalenderdagen", "weken"]
UNITS: tuple[Unit, ...] = ("werkdagen", "kalenderdagen", "weken")


@lru_cache(maxsize=256)
def _feestdagen(year: int) -> frozenset[date]:
    import holidays as _holidays  # loaded on first use: most commands never count werkdagen

    cal = _holidays.country_holidays("NL", years=year, categories=("public", "optional"))
    # Eerste Paasdag and Eerste Pinksterdag are Sundays anyway; keep the set to the Atw list
    return frozenset(cal.keys())


def is_werkdag(day: date) -> bool:
    """True for Monday–Friday that is not a Dutch public holiday (Atw art. 3).

    >>> is_werkdag(date(2025, 12, 25))
    False
    """
    return day.weekday() < 5 and day not in _feestdagen(day.year)


def add_werkdagen(start: date, n: int) -> date:
    """The n-th working day after ``start`` (``start`` itself does not count).

    >>> add_werkdagen(date(2025, 12, 24), 1)  # Christmas days skipped
    datetime.date(2025, 12, 29)
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    day = start
    while n:
        day += timedelta(days=1)
        if is_werkdag(day):
            n -= 1
    return day


def add_term(start: date, amount: int, unit: Unit) -> date:
    """The due date of a term of ``amount`` ``unit`` that starts on ``start``.

    A due date past the calendar's end is ``date.max`` (the term never runs out):

    >>> add_term(date(9999, 12, 31), 10, "werkdagen")
    datetime.date(9999, 12, 31)
    """
    try:
        if unit == "werkdagen":
            return add_werkdagen(start, amount)
        if unit == "kalenderdagen":
            return start + timedelta(days=amount)
        if unit == "weken":
            return start + timedelta(weeks=amount)
    except OverflowError:
        return date.max
    raise ValueError(f"unknown unit {unit!r}")
