"""The ZGW relay against a real HTTP server (tests/zgw_fake_api.py) that validates every body."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eengezin import Engine
from eengezin.decision import Decision
from eengezin.engine import decision_of
from eengezin.store import open_store
from eengezin.zgw.client import ZgwClient
from eengezin.zgw.export import catalogue_urls, load_zaaktype, zaaktype_requests
from eengezin.zgw.outbox import MemoryOutbox
from eengezin.zgw.relay import JsonFileRelayState, MemoryRelayState, Relay, RelayTarget

from conftest import LEDEN, REGISSEUR, Walk
from zgw_fake_api import CLIENT_ID, SECRET, FakeZgw, serve

RSIN = "002220647"
SELECTIELIJST = {
    "selectielijstklasse": "https://selectielijst.example.nl/api/v1/resultaten/1",
    "resultaattypeomschrijving": "https://selectielijst.example.nl/api/v1/resultaattypeomschrijvingen/1",
}
PHASES = [f"statustype:{k}" for k in (
    "aanmelding", "vraagverheldering", "startoverleg", "voortgang", "voortgangsoverleg", "afronding", "eind")]
OPVOLGER = {"id": "r2", "naam": "Ravi", "soort": "professional", "organisatie": "Wijkteam"}


class Killed(BaseException):
    """The relay process dies (not an error the relay could handle)."""


class _Dying:
    """A Zaken client whose process dies right after its n-th write reached the server."""

    def __init__(self, inner: ZgwClient, after: int) -> None:
        self.inner, self.left = inner, after

    def list(self, path: str, params: Mapping[str, str]) -> list[Any]:
        return self.inner.list(path, params)

    def _wrote(self) -> None:
        self.left -= 1
        if self.left == 0:
            raise Killed

    def post(self, path: str, body: Mapping[str, Any]) -> Any:
        answer = self.inner.post(path, body)
        self._wrote()
        return answer

    def delete(self, path: str) -> None:
        self.inner.delete(path)
        self._wrote()



def _dying(inner: Any, after: int) -> _Dying:
    return _Dying(inner, after)


@pytest.fixture
def api() -> Iterator[FakeZgw]:
    yield from serve(page_size=2)


def client(api: FakeZgw, name: str, **kw: Any) -> ZgwClient:
    kw.setdefault("sleep", api.wait_idle)
    return ZgwClient(api.root(name), client_id=CLIENT_ID, secret=SECRET, **kw)


@pytest.fixture
def target(api: FakeZgw, engine: Engine) -> RelayTarget:
    """The basis zaaktype loaded into the fake Catalogi API through the export."""
    catalogi = client(api, "catalogi")
    requests = zaaktype_requests(engine.definition, f"{api.root('catalogi')}/catalogussen/1",
                                 begin_geldigheid=date(2026, 1, 1), **SELECTIELIJST)
    urls = load_zaaktype(requests, lambda resource, body: str(catalogi.post(resource, body)["url"]))
    assert engine.definition.zgw is not None
    return RelayTarget(engine.definition.zgw, urls)


def decisions(engine: Engine, walk: Walk) -> list[Decision]:
    """The decisions of every accepted event of a walk, as an engine reports them."""
    before = engine.new(walk.traject.id)
    out: list[Decision] = []
    for outcome in walk.outcomes:
        if outcome.accepted:
            out.append(decision_of(before, outcome))
            before = outcome.traject
    return out


def household_to_closure(engine: Engine, traject_id: str = "T-test") -> list[Decision]:
    walk = Walk(engine)
    walk.traject = engine.new(traject_id)
    walk.tot_voortgang()
    walk.fire("regisseur_wijzigen", {"regisseur": OPVOLGER})
    walk.voortgang_tot_afronding()
    walk.fire("afsluiten", {"afsluitdatum": "2026-06-01", "evaluatie": "doelen bereikt", "vervolg": False})
    assert walk.state["regie"] == "gesloten"
    return decisions(engine, walk)


def outbox_of(items: list[Decision]) -> MemoryOutbox:
    outbox = MemoryOutbox()
    for d in items:
        outbox.add(d)
    return outbox


def relay(api: FakeZgw, outbox: MemoryOutbox, target: RelayTarget, zaken: Any = None, **kw: Any) -> Relay:
    kw.setdefault("sleep", api.wait_idle)
    return Relay(outbox, zaken or client(api, "zaken"), {"basis": target}, bronorganisatie=RSIN, batch=4, **kw)


def summary(api: FakeZgw, target: RelayTarget) -> dict[str, Any]:
    """What the Zaken API holds, in the terms of the definition (keys, not URLs)."""
    by_url = {url: key for key, url in target.types.items()}
    zaken = api.all("zaken", "zaken")
    out: dict[str, Any] = {}
    for zaak in zaken:
        statussen = sorted((s for s in api.all("zaken", "statussen") if s["zaak"] == zaak["url"]),
                           key=lambda s: s["datumStatusGezet"])
        rollen = [r for r in api.all("zaken", "rollen") if r["zaak"] == zaak["url"]]
        out[zaak["identificatie"]] = {
            "statussen": [by_url[s["statustype"]] for s in statussen],
            "rollen": sorted((by_url[r["roltype"]], r["roltoelichting"],
                              json.dumps(r.get("betrokkeneIdentificatie"), sort_keys=True)) for r in rollen),
            "resultaten": [by_url[r["resultaattype"]] for r in api.all("zaken", "resultaten")
                           if r["zaak"] == zaak["url"]],
            "einddatum": zaak.get("einddatum"),
        }
    return out


def test_a_household_from_aanmelden_to_gesloten(api: FakeZgw, target: RelayTarget) -> None:
    outbox = MemoryOutbox()  # without a SQL store: fed by the engine as a listener
    items = household_to_closure(Engine("basis", listeners=[outbox.add]))
    assert [r.decision for r in outbox.claim(100)] == items
    result = relay(api, outbox, target).run()
    assert result.error is None and result.acked == len(items) and len(outbox) == 0
    assert api.rejected == []
    (zaak,) = api.all("zaken", "zaken")
    assert (zaak["identificatie"], zaak["bronorganisatie"]) == ("T-test", RSIN)
    assert zaak["zaaktype"] == target.types["zaaktype"]
    assert zaak["startdatum"] == items[0].at.date().isoformat()
    got = summary(api, target)["T-test"]
    assert got["statussen"] == PHASES
    assert got["resultaten"] == ["resultaattype:gesloten"]
    assert got["einddatum"] == items[-1].at.date().isoformat()
    # one rol per household member, and only the current regisseur (the first was replaced)
    roles = got["rollen"]
    assert [r[:2] for r in roles] == [("roltype:huishoudlid", "kind"), ("roltype:huishoudlid", "ouder"),
                                      ("roltype:regisseur", "Regisseur (professional), Wijkteam")]
    assert '"identificatie": "r2"' in roles[2][2]
    rollen = api.all("zaken", "rollen")
    assert {r.get("afwijkendeNaamBetrokkene") for r in rollen} == {"Sanne", "Daan", "Ravi"}
    # personal data only in the rol fields meant for it: not in the zaak, statussen or resultaat
    elsewhere = json.dumps([api.all("zaken", "zaken"), api.all("zaken", "statussen"),
                            api.all("zaken", "resultaten")])
    for lid in LEDEN:
        assert str(lid["naam"]) not in elsewhere and str(lid["geboortedatum"]) not in elsewhere
    assert REGISSEUR["naam"] not in json.dumps(rollen)  # the replaced regisseur is gone


def test_a_record_relayed_twice_creates_nothing_twice(api: FakeZgw, engine: Engine,
                                                      target: RelayTarget) -> None:
    items = household_to_closure(engine)
    assert relay(api, outbox_of(items), target).run().error is None
    expected, writes = summary(api, target), api.writes()
    # another traject:: every record offered twice in a row, by relays without state
    twice = MemoryOutbox()
    for d in household_to_closure(engine, "T-twice"):
        twice.add(d)
        twice.add(d)
    result = relay(api, twice, target, state=MemoryRelayState()).run()
    assert result.error is None and len(twice) == 0
    assert summary(api, target)["T-twice"] == expected["T-test"]
    assert api.writes() == 2 * writes


def test_replaying_everything_without_state_changes_nothing(api: FakeZgw, engine: Engine,
                                                           target: RelayTarget) -> None:
    items = household_to_closure(engine)
    assert relay(api, outbox_of(items), target).run().error is None
    before = summary(api, target)
    posts = [p for m, p, _ in api.requests if m == "POST"]
    # an outbox that offers the whole history again, to a relay that lost its state: the
    # zaak, statussen, household rollen and resultaat are found, not made again
    assert relay(api, outbox_of(items), target).run().error is None
    assert summary(api, target) == before
    again = [p for m, p, _ in api.requests if m == "POST"][len(posts):]
    assert all(p.endswith("/rollen") for p in again)  # only the regisseur changes are replayed


def test_a_relay_killed_at_any_write_loses_and_doubles_nothing(api: FakeZgw, engine: Engine,
                                                              target: RelayTarget) -> None:
    reference = household_to_closure(engine, "T-ref")
    assert relay(api, outbox_of(reference), target).run().error is None
    expected = summary(api, target)["T-ref"]
    writes = api.writes()
    assert writes > 10

    for k in range(1, writes):
        tid = f"T-kill-{k}"
        outbox = outbox_of(household_to_closure(engine, tid))
        with pytest.raises(Killed):
            relay(api, outbox, target, _dying(client(api, "zaken"), k)).run()
        assert len(outbox) > 0
        # a new process: same outbox (unacknowledged records come again), state lost
        result = relay(api, outbox, target, state=MemoryRelayState()).run()
        assert result.error is None and len(outbox) == 0
        assert summary(api, target)[tid] == expected, k
    assert api.rejected == []


def test_5xx_and_timeouts_are_retried_without_doubles(api: FakeZgw, engine: Engine,
                                                     target: RelayTarget) -> None:
    items = household_to_closure(engine)
    sleeps: list[float] = []

    def backoff(seconds: float) -> None:
        sleeps.append(seconds)
        api.wait_idle()

    api.fail_next(503, times=2, method="GET")
    api.fail_next(500, method="POST")
    # the server carries the next POST (the zaak) out, but answers after the client gave up
    api.delay_next(0.4, method="POST")
    zaken = client(api, "zaken", timeout=0.2, sleep=backoff)
    result = relay(api, outbox_of(items), target, zaken, sleep=backoff).run()
    assert result.error is None and result.acked == len(items)
    assert len(api.all("zaken", "zaken")) == 1
    assert ("POST", "/zaken/api/v1/zaken", 201) in api.requests  # the slow one was carried out
    assert summary(api, target)["T-test"]["statussen"][-1] == "statustype:eind"
    assert api.rejected == []
    # the client backs off twice for the GETs, the relay for the 500 and the timeout; bounded
    assert sleeps[:2] == [0.5, 1.0] and len(sleeps) >= 4 and max(sleeps) <= 8.0


def test_an_unreachable_api_stops_the_relay_with_the_record_unacknowledged(
        api: FakeZgw, engine: Engine, target: RelayTarget) -> None:
    items = household_to_closure(engine)
    outbox = outbox_of(items)
    api.fail_next(502, times=100)
    sleeps: list[float] = []
    zaken = client(api, "zaken", retries=2, sleep=sleeps.append)
    result = relay(api, outbox, target, zaken, retries=1, sleep=sleeps.append).run()
    assert result.error is not None and result.acked == 0 and len(outbox) == len(items)
    assert sleeps == [0.5, 1.0, 0.5, 0.5, 1.0]  # client retries within each of two relay attempts


def test_a_4xx_stops_with_the_error_body_logged_and_the_record_left(
        api: FakeZgw, engine: Engine, target: RelayTarget) -> None:
    items = household_to_closure(engine)
    outbox = outbox_of(items)
    assert relay(api, outbox, target).run_once().acked == 4  # the first batch goes through
    body = {"type": "validation", "code": "invalid", "title": "Invalid input.", "status": 400,
            "invalidParams": [{"name": "statustype", "code": "invalid", "reason": "onbekend statustype"}]}
    api.fail_next(400, body=body, method="POST")
    with structlog.testing.capture_logs() as logs:
        result = relay(api, outbox, target).run()
    assert result.error is not None and "400" in result.error
    assert len(outbox) == len(items) - 4 - result.acked
    (refused,) = [e for e in logs if e["event"] == "zgw.relay.refused"]
    assert refused["error"] == body and refused["status"] == 400 and refused["traject"] == "T-test"
    # no personal data in any log line
    text = json.dumps(logs, default=str)
    for secret in ("Sanne", "Daan", "Rita", "Ravi", "1988-06-14", "Schulden", "doelen bereikt"):
        assert secret not in text
    # once the API accepts again, the rest goes through and nothing is doubled
    assert relay(api, outbox, target).run().error is None and len(outbox) == 0
    assert summary(api, target)["T-test"]["statussen"] == PHASES


def test_a_record_of_another_definition_stops_the_relay(api: FakeZgw, engine: Engine,
                                                       target: RelayTarget) -> None:
    items = household_to_closure(engine)
    outbox = outbox_of(items)
    only_other = Relay(outbox, client(api, "zaken"), {"zuid-limburg": target}, bronorganisatie=RSIN)
    result = only_other.run()
    assert result.error is not None and "basis" in result.error and len(outbox) == len(items)
    assert api.writes() == 0


def test_catalogue_urls_find_the_loaded_zaaktype(api: FakeZgw, target: RelayTarget) -> None:
    found = catalogue_urls(client(api, "catalogi"), target.types["zaaktype"], target.model)
    assert found == {k: v for k, v in target.types.items()
                     if k.split(":")[0] in ("zaaktype", "statustype", "roltype", "resultaattype")}


def test_a_wrong_secret_is_refused(api: FakeZgw) -> None:
    from eengezin.zgw.client import ZgwApiError

    wrong = ZgwClient(api.root("zaken"), client_id=CLIENT_ID, secret="niet-het-geheim-maar-wel-lang-genoeg")
    with pytest.raises(ZgwApiError) as info:
        wrong.list("zaken", {})
    assert info.value.status == 403


def test_json_state_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "relay.json"
    state = JsonFileRelayState(path)
    state.remember("T1", "http://zaken/1", 3)
    state.remember("T1", "http://zaken/1", 2)  # an older version never lowers the mark
    again = JsonFileRelayState(path)
    assert (again.zaak("T1"), again.version("T1"), again.version("T2")) == ("http://zaken/1", 3, 0)


class ShortLease:
    """A store's outbox whose claims run out at once (a restarted relay sees them again)."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def claim(self, limit: int = 100) -> list[Any]:
        return list(self.store.claim(limit, lease=timedelta(0)))

    def ack(self, ids: Any) -> None:
        self.store.ack(ids)


def test_through_a_store_a_relay_killed_mid_way_restarts(api: FakeZgw, target: RelayTarget,
                                                         tmp_path: Path) -> None:
    with open_store(tmp_path / "trajecten.db", outbox=True) as store:
        engine = Engine("basis", store=store)
        household_to_closure(engine, "T-store")
        assert store.outbox_size() == 16
        with pytest.raises(Killed):
            relay(api, ShortLease(store), target, _dying(client(api, "zaken"), 9)).run()
        assert 0 < store.outbox_size() < 16
        result = relay(api, ShortLease(store), target, state=MemoryRelayState()).run()
        assert result.error is None and store.outbox_size() == 0
    got = summary(api, target)["T-store"]
    assert got["statussen"] == PHASES and got["resultaten"] == ["resultaattype:gesloten"]
    assert [r[:2] for r in got["rollen"]] == [
        ("roltype:huishoudlid", "kind"), ("roltype:huishoudlid", "ouder"),
        ("roltype:regisseur", "Regisseur (professional), Wijkteam")]
    assert api.rejected == []


def _cli_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    from eengezin.zgw.cli import ENV_CLIENT_ID, ENV_SECRET

    monkeypatch.setenv(ENV_CLIENT_ID, CLIENT_ID)
    monkeypatch.setenv(ENV_SECRET, SECRET)
    return {**os.environ}


def _load_with_cli(api: FakeZgw, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    from eengezin.cli import main

    assert main(["zgw", "zaaktype", "basis", "--catalogus", f"{api.root('catalogi')}/catalogussen/1",
                 "--selectielijstklasse", SELECTIELIJST["selectielijstklasse"],
                 "--resultaattypeomschrijving", SELECTIELIJST["resultaattypeomschrijving"],
                 "--load", api.root("catalogi"), "--json"]) == 0
    loaded: dict[str, str] = json.loads(capsys.readouterr().out)["loaded"]
    assert loaded["zaaktype"] == api.all("catalogi", "zaaktypen")[0]["url"] and api.rejected == []
    return loaded


def _relay_args(api: FakeZgw, db: Path, zaaktype: str, *extra: str) -> list[str]:
    return ["zgw", "relay", "--store", str(db), "--zaken-api", api.root("zaken"),
            "--catalogi-api", api.root("catalogi"), "--zaaktype", zaaktype, "--definition", "basis",
            "--bronorganisatie", RSIN, *extra]


def test_cli_loads_the_zaaktype_and_relays_a_store(api: FakeZgw, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from eengezin.cli import main
    from eengezin.zgw.cli import ENV_SECRET

    _cli_env(monkeypatch)
    loaded = _load_with_cli(api, capsys)
    db = tmp_path / "trajecten.db"
    with open_store(db, outbox=True) as store:
        household_to_closure(Engine("basis", store=store))
    state = tmp_path / "relay.json"
    args = _relay_args(api, db, loaded["zaaktype"], "--state", str(state), "--once")
    assert main(args) == 0
    assert "16 beslissing(en) doorgegeven" in capsys.readouterr().out
    by_url = {url: key for key, url in loaded.items()}
    statussen = sorted(api.all("zaken", "statussen"), key=lambda s: s["datumStatusGezet"])
    assert [by_url[s["statustype"]] for s in statussen] == PHASES
    saved = json.loads(state.read_text())["trajecten"]["T-test"]
    assert saved == {"zaak": api.all("zaken", "zaken")[0]["url"], "version": 16}
    with open_store(db) as store:
        assert store.outbox_size() == 0

    monkeypatch.delenv(ENV_SECRET)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert ENV_SECRET in err and SECRET not in err


def test_a_relay_process_killed_mid_request_loses_and_doubles_nothing(
        api: FakeZgw, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """SIGKILL while the API carries out a write; a new relay process finishes the job."""
    from eengezin.cli import main

    env = _cli_env(monkeypatch)
    loaded = _load_with_cli(api, capsys)
    db = tmp_path / "trajecten.db"
    with open_store(db, outbox=True) as store:
        household_to_closure(Engine("basis", store=store))
    args = _relay_args(api, db, loaded["zaaktype"], "--lease", "0", "--once")
    api.delay_next(1.0, method="POST", after=6)  # the 7th write hangs until the kill
    proc = subprocess.Popen([sys.executable, "-m", "eengezin.cli", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        while not api.delaying.wait(timeout=0.05):
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else proc.returncode
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    api.wait_idle()  # the API still finished the write the relay died waiting for
    with open_store(db) as store:
        assert store.outbox_size() > 0
    assert main(args) == 0
    with open_store(db) as store:
        assert store.outbox_size() == 0
    by_url = {url: key for key, url in loaded.items()}
    statussen = sorted(api.all("zaken", "statussen"), key=lambda s: s["datumStatusGezet"])
    assert [by_url[s["statustype"]] for s in statussen] == PHASES
    assert len(api.all("zaken", "zaken")) == 1 and len(api.all("zaken", "resultaten")) == 1
    assert sorted(r["roltoelichting"] for r in api.all("zaken", "rollen")) == [
        "Regisseur (professional), Wijkteam", "kind", "ouder"]
    assert api.rejected == []


def test_the_core_does_not_import_the_optional_dependencies() -> None:
    import subprocess
    import sys

    code = ("import sys, eengezin, eengezin.cli, eengezin.zgw; "
            "print([m for m in ('httpx', 'jwt', 'openapi_schema_validator') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


FAULTS = st.lists(st.one_of(
    st.tuples(st.just("status"), st.sampled_from([500, 502, 503, 400, 409]), st.sampled_from(["GET", "POST"])),
    st.tuples(st.just("slow"), st.just(0.3), st.sampled_from(["GET", "POST"])),
    st.tuples(st.just("kill"), st.integers(1, 12), st.just("")),
), max_size=6)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(faults=FAULTS)
def test_any_mix_of_faults_and_restarts_ends_in_the_same_zaak(api: FakeZgw, engine: Engine, target: RelayTarget,
                                                             faults: list[tuple[str, Any, str]]) -> None:
    tid = f"T-{len(api.all('zaken', 'zaken'))}"
    rejected = len(api.rejected)
    items = household_to_closure(engine, tid)
    outbox = outbox_of(items)
    kills = [n for kind, n, _ in faults if kind == "kill"]
    for kind, value, method in faults:
        if kind == "status":
            api.fail_next(value, method=method)
        elif kind == "slow":
            api.delay_next(value, method=method)
    # every fault stops a relay at most once (a slow machine may add a timeout or two)
    for _ in range(len(faults) + 10):
        zaken: Any = client(api, "zaken", timeout=0.2, retries=1)
        if kills:
            zaken = _dying(zaken, kills.pop(0))
        with contextlib.suppress(Killed):
            relay(api, outbox, target, zaken, retries=1, state=MemoryRelayState()).run()
        if len(outbox) == 0:
            break
        # a restarted relay starts after the server finished what the stopped one left
        # in flight (reads first cannot see a write the server has not made yet)
        api.wait_idle()
    assert len(outbox) == 0
    assert api.rejected[rejected:] == []
    got = summary(api, target)[tid]
    assert got["statussen"] == PHASES and got["resultaten"] == ["resultaattype:gesloten"]
    assert len(got["rollen"]) == 3


def test_without_regie_and_back_from_afronding(api: FakeZgw, engine: Engine, target: RelayTarget) -> None:
    zonder = Walk(engine)
    zonder.traject = engine.new("T-zonder")
    zonder.tot_vraagverheldering()
    zonder.fire("regie_niet_starten", {"reden": "hulp via de huisarts"})
    terug = Walk(engine)
    terug.traject = engine.new("T-terug")
    terug.tot_afronding()
    terug.fire("signaal_melden", {"id": "s1", "soort": "vermoeden", "omschrijving": "zorgen", "wie": "school"})
    assert terug.state["regie"] == "voortgangsoverleg.voorbereiding"  # moved back by an effect
    outbox = outbox_of([*decisions(engine, zonder), *decisions(engine, terug)])
    assert relay(api, outbox, target).run().error is None
    got = summary(api, target)
    assert got["T-zonder"]["statussen"] == ["statustype:aanmelding", "statustype:vraagverheldering",
                                            "statustype:eind"]
    assert got["T-zonder"]["resultaten"] == ["resultaattype:zonder_regie"]
    assert got["T-terug"]["statussen"] == [*PHASES[:-1], "statustype:voortgangsoverleg"]
    assert got["T-terug"]["resultaten"] == [] and got["T-terug"]["einddatum"] is None
