"""Shared fixtures: a driver that walks a traject through events with a moving clock, and the
hypothesis profiles.

Two profiles (see the README, "Run the whole test suite"):

- ``default``: few examples, derandomized (the same examples on every run, so a test passes or
  fails regardless of the machine or its load), no deadlines, no timing health checks, and a
  reproduction blob printed with every failure. This is what ``python -m pytest`` runs.
- ``deep``: many more examples for the long fuzzing and differential runs (still derandomized,
  so a CI run is steady too). Select it with ``EENGEZIN_PROFILE=deep`` or ``pytest --deep``.

A test that runs a long search takes its size from :func:`examples`, so the profile decides.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, settings

from eengezin import Actor, Definition, Engine, Event, Outcome, Traject, new_traject, step
from eengezin.checker import CheckResult, check_definition
from eengezin.checker import parts as checker_parts
from eengezin.checker.analysis_model import Analysis
from eengezin.checker.parts import explore_states

AMS = ZoneInfo("Europe/Amsterdam")

# the tests write many small definitions: keep their cache entries out of the user's cache
os.environ.setdefault("EENGEZIN_CACHE_DIR", tempfile.mkdtemp(prefix="eengezin-test-cache-"))
# PostgreSQL stores keep their default key files under XDG_DATA_HOME: not in the user's home
os.environ.setdefault("XDG_DATA_HOME", tempfile.mkdtemp(prefix="eengezin-test-data-"))
# Machine-independent by construction: no deadline, no health check that times generation.
_STEADY = {"derandomize": True, "deadline": None, "print_blob": True,
           "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("default", max_examples=100, **_STEADY)
settings.register_profile("deep", max_examples=1000, **_STEADY)
PROFILES = ("default", "deep")
_profile = ["default"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--deep", action="store_true",
                     help="run the long fuzzing and differential tests with many more examples "
                          "(the same as EENGEZIN_PROFILE=deep)")


def pytest_configure(config: pytest.Config) -> None:
    name = os.environ.get("EENGEZIN_PROFILE") or "default"
    if config.getoption("--deep", default=False):
        name = "deep"
    elif config.getoption("hypothesis_profile", default=None) in PROFILES:
        name = config.getoption("hypothesis_profile")
    if name not in PROFILES:
        raise pytest.UsageError(f"EENGEZIN_PROFILE={name!r}: choose one of {', '.join(PROFILES)}")
    _profile[0] = name
    settings.load_profile(name)


def pytest_report_header(config: pytest.Config) -> str:
    return f"eengezin test profile: {_profile[0]} (EENGEZIN_PROFILE=deep or --deep for the long runs)"


def is_deep() -> bool:
    """Whether the deep profile runs."""
    return _profile[0] == "deep"


def examples(default: int, *, deep: int) -> int:
    """The size of a long search (examples, corpus size): ``default`` normally, ``deep`` in the
    deep profile. Call it when the test module is imported (at collection), as in
    ``@settings(max_examples=examples(40, deep=2000))``."""
    return deep if is_deep() else default


def write(tmp_path: Path, name: str, text: str) -> Path:
    """Write a definition (or scenario) file for a test."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def findings(result: CheckResult) -> list[tuple[str, str, frozenset[str]]]:
    """A check's findings as (kind, subject, causes), sorted: to compare two searches."""
    return sorted((f.kind, f.subject, frozenset(f.causes)) for f in result.findings)


def searches(monkeypatch: pytest.MonkeyPatch, reduced: Callable[[Analysis], bool]
             ) -> list[bool]:
    """Record, per search a check makes, whether ``reduced`` holds for its analysis (a check
    whose reductions cannot settle something searches a second time without them)."""
    found: list[bool] = []
    search = checker_parts._search

    def spy(definition, analysis, *rest):  # type: ignore[no-untyped-def]
        found.append(reduced(analysis))
        return search(definition, analysis, *rest)

    monkeypatch.setattr(checker_parts, "_search", spy)
    return found


def against_the_whole(definition: Definition, monkeypatch: pytest.MonkeyPatch,
                      reduced: Callable[[Analysis], bool]
                      ) -> tuple[CheckResult, CheckResult, list[bool]]:
    """Check ``definition`` and search it without the reductions; the findings must be the
    same. Returns both results and, per search the check made, whether ``reduced`` held
    (see :func:`searches`)."""
    kept = searches(monkeypatch, reduced)
    result = check_definition(definition)
    whole, _analysis, _states = explore_states(definition, reduce=False)
    assert findings(result) == findings(whole)
    return result, whole, kept


def run_trace(definition: Definition, trace: tuple[Event, ...]) -> Traject:
    """Replay a checker counterexample: every event in it must be accepted."""
    traject = new_traject(definition, "spoor")
    for event in trace:
        out = step(definition, traject, event)
        assert out.accepted, (event.name, out.verdict.rule_ids)
        traject = out.traject
    return traject


LEDEN = [
    {"id": "m1", "naam": "Sanne", "geboortedatum": "1988-06-14", "rol": "ouder"},
    {"id": "k1", "naam": "Daan", "geboortedatum": "2015-09-01", "rol": "kind"},
]
AANMELDEN = {"huishouden": {"leden": LEDEN}, "vraag": "Schulden en opvoedvragen"}
REGISSEUR = {"id": "r1", "naam": "Rita", "soort": "professional", "organisatie": "Sociaal team"}
PLAN = {"doelen": [{"omschrijving": "Overzicht over geldzaken",
                    "acties": [{"wie": "schuldhulp", "wat": "budgetplan", "wanneer": "april"}]}]}
VEILIGHEIDSPLAN = {"veiligheidsschaal": 4, "veiligheidsafspraken": [
    {"wie": "Sanne", "wat": "belt haar zus bij ruzie", "wanneer": "direct", "toezicht": "Rita"}]}


def toestemming(cid: str = "t1", onderwerp: str | None = "overleg") -> dict[str, Any]:
    data: dict[str, Any] = {"id": cid, "van": ["m1"], "over": "m1", "doel": "overleg",
                            "informatie": "gezinssituatie", "met": ["b1"], "vorm": "schriftelijk"}
    if onderwerp is not None:
        data["onderwerp"] = onderwerp
    return data


def signaal(sid: str = "s1", soort: str = "acute_onveiligheid") -> dict[str, Any]:
    return {"id": sid, "soort": soort, "omschrijving": "ruzie gehoord", "wie": "buurvrouw"}


class Walk:
    """Drives one traject; every call moves the clock one hour on."""

    def __init__(self, engine: Engine, start: datetime = datetime(2026, 3, 2, 9, 0, tzinfo=AMS)
                 ) -> None:
        self.engine = engine
        self.at = start if start.tzinfo is not None else start.replace(tzinfo=AMS)
        self.traject: Traject = engine.new("T-test")
        self.outcomes: list[Outcome] = []

    def fire(self, event: str, data: Mapping[str, Any] | None = None, *,
             actor: Actor | None = None, expect: bool | None = True) -> Outcome:
        self.at += timedelta(hours=1)
        out = self.engine.fire(self.traject, event, data, actor=actor, at=self.at)
        self.outcomes.append(out)
        if expect is not None:
            assert out.accepted is expect, (event, [v.rule for v in out.violations])
        self.traject = out.traject
        return out

    def refused(self, event: str, data: Mapping[str, Any] | None = None, **kw: Any) -> set[str]:
        before = self.traject
        out = self.fire(event, data, expect=False, **kw)
        assert out.traject is before
        return {v.rule for v in out.violations if v.severity == "block"}

    def warnings(self, event: str, data: Mapping[str, Any] | None = None) -> set[str]:
        out = self.fire(event, data)
        return {v.rule for v in out.violations if v.severity == "warn"}

    @property
    def state(self) -> dict[str, str]:
        return dict(self.traject.state)

    # --- common stretches of the process
    def aangemeld(self) -> Walk:
        self.fire("aanmelden", AANMELDEN)
        return self

    def tot_vraagverheldering(self) -> Walk:
        self.aangemeld()
        self.fire("basischeck", {"basiszorg_voldoende": True, "acuut_onveilig": False})
        self.fire("vraag_verhelderen")
        return self

    def tot_startoverleg(self) -> Walk:
        self.tot_vraagverheldering()
        self.fire("regie_starten", {"regisseur": REGISSEUR})
        self.fire("overleg_voorbereid")
        return self

    def tot_voortgang(self) -> Walk:
        self.tot_startoverleg()
        self.fire("toestemming_vastleggen", toestemming())
        if self.state["veiligheid"] == "signalen":
            self.fire("veiligheidsplan_vaststellen", {"plan": VEILIGHEIDSPLAN})
        self.fire("plan_vaststellen", {"plan": PLAN})
        self.fire("startoverleg_afronden")
        return self

    def startoverleg_met_signaal(self) -> Walk:
        """From vraagverheldering: a signal, regie started, consent and the safety plan adopted."""
        self.fire("signaal_melden", signaal())
        self.fire("regie_starten", {"regisseur": REGISSEUR})
        self.fire("overleg_voorbereid")
        self.fire("toestemming_vastleggen", toestemming())
        self.fire("veiligheidsplan_vaststellen", {"plan": VEILIGHEIDSPLAN})
        return self

    def voortgang_tot_afronding(self, evaluatie: str = "loopt goed") -> Walk:
        """From voortgang: share the plan, hold a voortgangsoverleg, evaluate, go to afronding."""
        self.fire("plan_delen", {"met": ["m1", "b1"]})
        self.fire("voortgangsoverleg_plannen")
        self.fire("overleg_voorbereid")
        self.fire("toestemming_vastleggen", toestemming("t2"))
        self.fire("plan_evalueren", {"evaluatie": evaluatie})
        self.fire("afronden")
        return self

    def tot_voortgangsoverleg(self) -> Walk:
        self.tot_voortgang()
        self.fire("plan_delen", {"met": ["m1"]})
        self.fire("voortgangsoverleg_plannen")
        self.fire("overleg_voorbereid")
        return self

    def overleg_evalueren(self, cid: str = "t2") -> Walk:
        self.fire("toestemming_vastleggen", toestemming(cid))
        self.fire("plan_evalueren", {"evaluatie": "loopt goed"})
        if "veiligheidsplan" in self.traject.facts:
            self.fire("veiligheidsplan_evalueren", {"evaluatie": "afspraken nagekomen",
                                                    "veiligheidsschaal": 8})
        return self

    def tot_afronding(self) -> Walk:
        self.tot_voortgangsoverleg()
        self.overleg_evalueren()
        self.fire("afronden")
        return self


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine("basis")


@pytest.fixture
def walk(engine: Engine) -> Walk:
    return Walk(engine)
