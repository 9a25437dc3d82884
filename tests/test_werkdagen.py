"""Working days (Algemene termijnenwet art. 3) and the terms built on them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eengezin.deadlines import add_term, add_werkdagen, is_werkdag


def _easter(year: int) -> date:
    """Gregorian Easter Sunday (anonymous algorithm): an oracle independent of `holidays`."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    lw = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * lw) // 451
    month, day = divmod(h + lw - 7 * m + 114, 31)
    return date(year, month, day + 1)


def atw_feestdagen(year: int) -> set[date]:
    easter = _easter(year)
    koningsdag = date(year, 4, 27)
    if koningsdag.weekday() == 6:
        koningsdag = date(year, 4, 26)
    return {
        date(year, 1, 1), easter - timedelta(days=2), easter + timedelta(days=1), koningsdag,
        date(year, 5, 5), easter + timedelta(days=39), easter + timedelta(days=50),
        date(year, 12, 25), date(year, 12, 26),
    }


@pytest.mark.parametrize("year", range(2020, 2031))
def test_non_working_weekdays_are_exactly_the_atw_days(year: int):
    days = [date(year, 1, 1) + timedelta(days=i) for i in range(366)]
    off = {d for d in days if d.year == year and d.weekday() < 5 and not is_werkdag(d)}
    assert off == {d for d in atw_feestdagen(year) if d.weekday() < 5}


@pytest.mark.parametrize(("day", "werkdag"), [
    (date(2025, 4, 18), False),   # Goede Vrijdag
    (date(2025, 4, 21), False),   # Tweede Paasdag
    (date(2025, 4, 22), True),
    (date(2025, 4, 25), True),    # Friday before Koningsdag on Saturday 26 April 2025
    (date(2025, 4, 28), True),    # the Saturday Koningsdag does not move to Monday
    (date(2026, 4, 27), False),   # Koningsdag 2026, a Monday
    (date(2025, 5, 5), False),    # Bevrijdingsdag counts every year (Atw), not every fifth
    (date(2026, 5, 5), False),
    (date(2026, 5, 14), False),   # Hemelvaartsdag
    (date(2026, 5, 15), True),    # the Friday after is a working day for the Atw
    (date(2026, 5, 25), False),   # Tweede Pinksterdag
    (date(2025, 12, 25), False),
    (date(2025, 12, 26), False),
    (date(2026, 1, 1), False),
    (date(2026, 1, 2), True),
    (date(2026, 3, 7), False),    # Saturday
    (date(2026, 3, 8), False),    # Sunday
])
def test_is_werkdag(day: date, werkdag: bool):
    assert is_werkdag(day) is werkdag


def test_koningsdag_2025_is_the_saturday():
    import holidays

    nl = holidays.country_holidays("NL", years=2025, categories=("public", "optional"))
    assert date(2025, 4, 26) in nl and date(2025, 4, 27) not in nl


@pytest.mark.parametrize(("start", "n", "due"), [
    (date(2026, 4, 2), 1, date(2026, 4, 7)),     # Thursday -> Good Friday, Easter Monday
    (date(2025, 4, 17), 2, date(2025, 4, 23)),
    (date(2025, 4, 25), 1, date(2025, 4, 28)),   # Koningsdag on Saturday costs nothing
    (date(2026, 4, 24), 1, date(2026, 4, 28)),   # Koningsdag on Monday
    (date(2026, 5, 4), 1, date(2026, 5, 6)),     # Bevrijdingsdag
    (date(2026, 5, 13), 1, date(2026, 5, 15)),   # Hemelvaartsdag
    (date(2026, 5, 22), 1, date(2026, 5, 26)),   # Tweede Pinksterdag
    (date(2025, 12, 24), 1, date(2025, 12, 29)),  # both Kerstdagen
    (date(2025, 12, 31), 1, date(2026, 1, 2)),   # Nieuwjaarsdag
    (date(2026, 12, 24), 1, date(2026, 12, 28)),  # Christmas on Friday/Saturday
    (date(2026, 4, 20), 15, date(2026, 5, 13)),  # the ronde tafel term across 27 April and 5 May
    (date(2026, 3, 2), 0, date(2026, 3, 2)),
])
def test_add_werkdagen(start: date, n: int, due: date):
    assert add_werkdagen(start, n) == due
    assert add_term(start, n, "werkdagen") == due


def test_calendar_terms():
    assert add_term(date(2026, 2, 20), 14, "kalenderdagen") == date(2026, 3, 6)
    assert add_term(date(2026, 4, 20), 1, "weken") == date(2026, 4, 27)  # holidays do not count
    assert add_term(date(2026, 3, 2), 6, "weken") == date(2026, 4, 13)


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        add_werkdagen(date(2026, 1, 5), -1)
    with pytest.raises(ValueError):
        add_term(date(2026, 1, 5), 1, "jaren")  # type: ignore[arg-type]


def test_months_keep_the_day_or_take_the_last_day_of_a_shorter_month():
    assert add_term(date(2026, 3, 2), 3, "maanden") == date(2026, 6, 2)
    assert add_term(date(2026, 1, 31), 1, "maanden") == date(2026, 2, 28)
    assert add_term(date(2026, 11, 30), 3, "maanden") == date(2027, 2, 28)
    assert add_term(date(2026, 12, 15), 1, "maanden") == date(2027, 1, 15)


@given(start=st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)),
       n=st.integers(min_value=1, max_value=40))
def test_the_due_date_is_the_nth_working_day(start: date, n: int):
    due = add_werkdagen(start, n)
    assert is_werkdag(due)
    between = [start + timedelta(days=i) for i in range(1, (due - start).days + 1)]
    assert sum(is_werkdag(d) for d in between) == n
    assert add_werkdagen(start, n + 1) > due
