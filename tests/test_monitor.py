"""Verantwoording (PROCESS.md 7.7): ``eengezin monitor`` over a period, with the indicators the
definitions declare, on a store filled with known trajecten."""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from eengezin import Engine, bundled_ids, load_definition
from eengezin.cli import main
from eengezin.process.model import Definition
from eengezin.store import open_store
from eengezin.store.monitor import compute_figures, compute_monitor, replay_history
from eengezin.traject import HistoryEntry

from conftest import AMS

VAN, TOT = date(2026, 1, 1), date(2026, 3, 31)
OUDER = {"id": "m1", "naam": "Sanne", "geboortedatum": "1988-06-14", "rol": "ouder",
         "gezag": ["k1"]}
KIND = {"id": "k1", "naam": "Daan", "geboortedatum": "2015-09-01", "rol": "kind"}
PLAN = {"doelen": [{"omschrijving": "Overzicht over geldzaken",
                    "acties": [{"wie": "schuldhulp", "wat": "budgetplan", "wanneer": "april"}]}]}
VP = {"veiligheidsschaal": 5, "veiligheidsafspraken": [
    {"wie": "Sanne", "wat": "belt haar zus", "wanneer": "direct", "toezicht": "Rita"}]}


def aanmelden(gemeente: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {"huishouden": {"leden": [OUDER, KIND]}, "vraag": "hulp"}
    if gemeente:
        data["gemeente"] = gemeente
    return data


def regisseur(organisatie: str) -> dict[str, Any]:
    return {"regisseur": {"id": "r1", "naam": "Rita", "soort": "professional",
                          "organisatie": organisatie}}


def consent(cid: str) -> dict[str, Any]:
    return {"id": cid, "van": ["m1"], "over": "m1", "doel": "overleg", "informatie": "situatie",
            "met": ["b1"], "vorm": "schriftelijk", "onderwerp": "overleg"}


Step = tuple[str, str, dict[str, Any]]

TRAJECTEN: dict[str, list[Step]] = {
    # closed in the period, with a signal and a safety plan; one evaluation on time
    "A": [("2026-01-05", "aanmelden", aanmelden("Leiden")),
          ("2026-01-07", "vraag_verhelderen", {}),
          ("2026-01-12", "regie_starten", regisseur("Sociaal team")),
          ("2026-01-13", "signaal_melden", {"id": "s1", "soort": "acute_onveiligheid",
                                            "omschrijving": "x", "wie": "y"}),
          ("2026-01-19", "overleg_voorbereid", {}),
          ("2026-01-20", "toestemming_vastleggen", consent("t1")),
          ("2026-01-20", "veiligheidsplan_vaststellen", {"plan": VP}),
          ("2026-01-20", "plan_vaststellen", {"plan": PLAN}),
          ("2026-01-20", "startoverleg_afronden", {}),
          ("2026-02-10", "voortgangsoverleg_plannen", {}),
          ("2026-02-19", "overleg_voorbereid", {}),
          ("2026-02-20", "toestemming_vastleggen", consent("t2")),
          ("2026-02-20", "plan_evalueren", {"evaluatie": "gaat goed"}),
          ("2026-02-20", "veiligheidsplan_evalueren", {"evaluatie": "rustig",
                                                       "veiligheidsschaal": 9}),
          ("2026-02-21", "signaal_opheffen", {"id": "s1", "onderbouwing": "rustig"}),
          ("2026-02-21", "afronden", {}),
          ("2026-03-01", "afsluiten", {"afsluitdatum": "2026-03-01", "evaluatie": "ok",
                                       "vervolg": False, "terecht_bij": "wijkteam",
                                       "doelen_behaald": "alle"})],
    # handled without 1G1P1R in the period
    "B": [("2026-01-10", "aanmelden", aanmelden("Gouda")),
          ("2026-01-11", "vraag_verhelderen", {}),
          ("2026-01-12", "regie_niet_starten", {"reden": "enkelvoudige vraag"})],
    # its evaluation date passes unevaluated
    "E": [("2026-01-02", "aanmelden", aanmelden("Leiden")),
          ("2026-01-03", "vraag_verhelderen", {}),
          ("2026-01-04", "regie_starten", regisseur("Jeugdteam")),
          ("2026-01-05", "overleg_voorbereid", {}),
          ("2026-01-05", "toestemming_vastleggen", consent("t1")),
          ("2026-01-05", "plan_vaststellen", {"plan": PLAN, "evaluatie_op": "2026-01-20"})],
    # registered after the period: not active in it
    "C": [("2026-04-10", "aanmelden", aanmelden("Leiden"))],
    # ended before the period: not active in it
    "D": [("2025-12-01", "aanmelden", aanmelden("Gouda")),
          ("2025-12-02", "vraag_verhelderen", {}),
          ("2025-12-05", "regie_niet_starten", {"reden": "opgelost"})],
}


def moment(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=10)


def entries(definition: Definition, steps: list[Step]) -> list[HistoryEntry]:
    return [HistoryEntry(name, moment(day), data, None, definition.ref)
            for day, name, data in steps]


@pytest.fixture(scope="module")
def basis_figures() -> dict[str, Any]:
    basis = load_definition("basis")
    runs = [replay_history(basis, tid, entries(basis, steps)) for tid, steps in TRAJECTEN.items()]
    assert all(len(r.moments) == len(TRAJECTEN[r.id]) for r in runs)  # every step accepted
    return compute_figures(basis, runs, VAN, TOT)


def test_only_trajecten_active_in_the_period_count(basis_figures: dict[str, Any]) -> None:
    assert basis_figures["trajecten"] == 3  # A, B and E; not C (later) nor D (ended before)
    ind = basis_figures["indicators"]
    assert ind["einde"]["states"] == {"gesloten": 1, "zonder_regie": 1}


def test_figures_of_basis(basis_figures: dict[str, Any]) -> None:
    ind = basis_figures["indicators"]
    assert ind["regie_door"]["values"] == {"professional": 2}
    assert ind["signalen"]["count"] == 1 and ind["veiligheidsplannen"]["count"] == 1
    assert ind["veiligheidsschaal_bij_afsluiten"]["values"] == {"9": 1}
    assert ind["veiligheidsschaal_bij_afsluiten"]["median"] == 9
    assert ind["doelen_behaald"]["values"] == {"alle": 1}
    # A evaluated on time; E's evaluation date passed before the end of the period
    assert ind["termijnen"]["deadlines"]["plan.evaluatie"] == {
        "gehaald": 1, "gemist": 1, "lopend": 0}


def test_days_per_phase_in_the_definitions_order(basis_figures: dict[str, Any]) -> None:
    phases = basis_figures["indicators"]["dagen_per_fase"]["phases"]
    assert list(phases) == ["aanmelding", "vraagverheldering", "startoverleg", "voortgang",
                            "voortgangsoverleg", "afronding"]
    # aanmelding: A 2 days, B 1 day, E 1 day
    assert phases["aanmelding"] == {"median": 1.0, "afgerond": 3, "lopend": 0}
    assert phases["afronding"] == {"median": 8.0, "afgerond": 1, "lopend": 0}
    assert phases["startoverleg"]["lopend"] == 1  # E is still there


def test_per_gemeente_and_organisation(basis_figures: dict[str, Any]) -> None:
    assert {g: v["trajecten"] for g, v in basis_figures["per_gemeente"].items()} == {
        "Gouda": 1, "Leiden": 2}
    assert {o: v["trajecten"] for o, v in basis_figures["per_organisatie"].items()} == {
        "(onbekend)": 1, "Jeugdteam": 1, "Sociaal team": 1}
    leiden = basis_figures["per_gemeente"]["Leiden"]["indicators"]
    assert leiden["einde"]["states"] == {"gesloten": 1, "zonder_regie": 0}


def test_a_later_period_sees_what_is_still_running() -> None:
    basis = load_definition("basis")
    runs = [replay_history(basis, tid, entries(basis, steps)) for tid, steps in TRAJECTEN.items()]
    later = compute_figures(basis, runs, date(2026, 4, 1), date(2026, 4, 30))
    assert later["trajecten"] == 2  # E still open, C registered
    assert later["indicators"]["einde"]["states"] == {"gesloten": 0, "zonder_regie": 0}


@pytest.mark.parametrize("def_id", sorted(bundled_ids()))
def test_every_bundled_definition_gets_figures(def_id: str) -> None:
    definition = load_definition(def_id)
    assert definition.indicators
    run = replay_history(definition, "X", [HistoryEntry(
        "aanmelden", moment("2026-01-05"), aanmelden("Leiden"), None, definition.ref)])
    figures = compute_figures(definition, [run], VAN, TOT)
    assert figures["trajecten"] == 1
    assert {i.id for i in definition.indicators} == set(figures["indicators"])


def test_zuid_limburg_familiegroepsplan_share_and_levels(tmp_path: Path) -> None:
    zl = load_definition("zuid-limburg")
    runs = []
    for tid, plan in (("Z1", True), ("Z2", False), ("Z3", None)):
        steps: list[Step] = [("2026-01-05", "aanmelden", aanmelden("Heerlen"))]
        if plan is not None:
            steps.append(("2026-01-06", "familiegroepsplan_vastleggen", {"opgesteld": plan}))
        runs.append(replay_history(zl, tid, entries(zl, steps)))
    figures = compute_figures(zl, runs, VAN, TOT)["indicators"]
    share = figures["familiegroepsplan"]
    assert (share["ja"], share["nee"], share["niet_vastgelegd"]) == (1, 1, 1)
    assert share["target"] == 0.5 and share["meets_target"] is False
    assert list(figures["stagnaties"]["levels"]) == ["niveau_1", "niveau_2", "niveau_3",
                                                     "niveau_4"]


def fill(url: str) -> None:
    with open_store(url) as store:
        engine = Engine("basis", store=store)
        for tid, steps in TRAJECTEN.items():
            for day, name, data in steps:
                out = engine.fire(tid, name, data, at=moment(day).replace(tzinfo=AMS))
                assert out.accepted, (tid, name)


def test_monitor_reads_the_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    fill(url)
    with open_store(url) as store:
        monitor = compute_monitor(store, van=VAN, tot=TOT)
    (figures,) = monitor.definitions
    assert figures["id"] == "basis" and figures["trajecten"] == 3
    text = monitor.to_text()
    assert "Monitor over 2026-01-01 tot en met 2026-03-31" in text
    table = text[text.index("Dagen per fase"):]
    assert table.index("aanmelding") < table.index("vraagverheldering") < table.index("afronding")
    assert "Per gemeente: Leiden (2 trajecten)" in text


def test_monitor_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    fill(url)
    out = io.StringIO()
    assert main(["monitor", "--store", url, "--van", "2026-01-01", "--tot", "2026-03-31",
                 "--json"], out=out) == 0
    data = json.loads(out.getvalue())
    assert data["van"] == "2026-01-01" and data["definitions"][0]["trajecten"] == 3
    out = io.StringIO()
    assert main(["monitor", "--store", url, "--van", "2026-04-01", "--tot", "2026-03-01"],
                out=out) != 0
    early = io.StringIO()
    assert main(["monitor", "--store", url, "--van", "2025-01-01", "--tot", "2025-11-30",
                 "--json"], out=early) == 0
    assert json.loads(early.getvalue())["definitions"][0]["trajecten"] == 0
