"""examples/web_api.py runs: a household through HTTP on 127.0.0.1, answers with the shipped
JSON Schemas, payload schemas that accept what the engine accepts."""

from __future__ import annotations

import importlib.util
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import jsonschema
import pytest

from eengezin import Engine
from eengezin.serialization import json_schema
from eengezin.store import open_store

from conftest import AANMELDEN, AMS, REGISSEUR

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "web_api.py"


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def base_url(tmp_path: Path) -> Iterator[str]:
    spec = importlib.util.spec_from_file_location("web_api", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    clock = iter(datetime(2026, 3, 2, 9, tzinfo=AMS) + timedelta(hours=i) for i in range(1000))
    engine = Engine("basis", store=open_store(tmp_path / "t.db"), clock=lambda: next(clock))
    server = make_server("127.0.0.1", 0, module.make_app(engine), handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def call(url: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST" if body is not None else "GET",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_a_household_through_the_web_api(base_url: str):
    status, out = call(f"{base_url}/trajecten/T-1/events", {"event": "aanmelden", "data": AANMELDEN})
    assert status == 201 and out["accepted"]
    jsonschema.validate(out, json_schema("Outcome"))
    status, out = call(f"{base_url}/trajecten/T-1/events", {"event": "regie_starten",
                                                            "data": {"regisseur": REGISSEUR}})
    assert status == 422 and out["verdict"]["violations"][0]["rule"] == "event.niet_mogelijk"
    call(f"{base_url}/trajecten/T-1/events", {"event": "vraag_verhelderen", "key": "k-1"})
    status, again = call(f"{base_url}/trajecten/T-1/events", {"event": "vraag_verhelderen",
                                                              "key": "k-1"})
    assert status == 201 and again["duplicate"]
    status, traject = call(f"{base_url}/trajecten/T-1")
    assert status == 200 and traject["version"] == 2
    jsonschema.validate(traject, json_schema("Traject"))
    status, allowed = call(f"{base_url}/trajecten/T-1/allowed")
    assert allowed["regie_starten"]["accepted"] and not allowed["afsluiten"]["accepted"]
    status, page = call(f"{base_url}/trajecten/T-1/history?start=1&limit=5")
    assert [e["event"] for e in page] == ["vraag_verhelderen"]
    assert call(f"{base_url}/trajecten/onbekend")[0] == 404


def test_payload_schemas_accept_what_the_engine_accepts(base_url: str):
    status, schema = call(f"{base_url}/events/aanmelden/schema")
    assert status == 200
    jsonschema.validate(AANMELDEN, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"vraag": "x"}, schema)  # the engine refuses this too
