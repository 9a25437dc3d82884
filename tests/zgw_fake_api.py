"""A small Catalogi + Zaken API on 127.0.0.1 for the ZGW tests (a real HTTP server).

Every POST body is validated against the published ZGW schemas (``eengezin.zgw.schemas``)
and its references are checked; the server keeps what it receives, answers the list
queries the relay uses (paginated), and can fail on command: a status code for the next
requests, or a delay longer than the client's timeout (the request is still carried out,
as a slow real server would). It mimics the rules of Open Zaak that matter here: a zaak's
``identificatie`` is unique within its ``bronorganisatie``, the eindstatus needs a
resultaat and closes the zaak, a closed zaak takes no more statussen.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt

from eengezin.zgw.schemas import problems, specification

CLIENT_ID = "eengezin-test"
SECRET = "geheim-voor-de-test-met-genoeg-lengte"

SCHEMAS = {
    ("catalogi", "informatieobjecttypen"): "InformatieObjectType",
    ("catalogi", "zaaktypen"): "ZaakType",
    ("catalogi", "statustypen"): "StatusType",
    ("catalogi", "roltypen"): "RolType",
    ("catalogi", "resultaattypen"): "ResultaatType",
    ("catalogi", "zaaktype-informatieobjecttypen"): "ZaakTypeInformatieObjectType",
    ("zaken", "zaken"): "Zaak",
    ("zaken", "statussen"): "Status",
    ("zaken", "rollen"): "Rol",
    ("zaken", "resultaten"): "Resultaat",
}
# references that must point at an object this server holds: field -> (api, resource)
REFS = {
    "zaaktype": ("catalogi", "zaaktypen"),
    "statustype": ("catalogi", "statustypen"),
    "roltype": ("catalogi", "roltypen"),
    "resultaattype": ("catalogi", "resultaattypen"),
    "zaak": ("zaken", "zaken"),
}


class FakeZgw:
    """The state and the failure switches of the fake APIs."""

    def __init__(self, page_size: int = 3) -> None:
        self.lock = threading.Lock()
        self.objects: dict[tuple[str, str], list[dict[str, Any]]] = {k: [] for k in SCHEMAS}
        self.requests: list[tuple[str, str, int]] = []
        self.rejected: list[tuple[str, list[str]]] = []
        self.page_size = page_size
        self._failures: list[tuple[str | None, int, Any]] = []
        self._delays: list[list[Any]] = []
        self.base = ""
        self.in_flight = 0
        self.delaying = threading.Event()
        self.crashes: list[str] = []

    # ------------------------------------------------------------ switches
    def fail_next(self, status: int, times: int = 1, body: Any = None, method: str | None = None) -> None:
        """Answer the next ``times`` requests (of ``method``, if given) with ``status``."""
        with self.lock:
            self._failures.extend([(method, status, body)] * times)

    def delay_next(self, seconds: float, times: int = 1, method: str | None = None, after: int = 0) -> None:
        """Wait ``seconds`` before carrying out the next requests (of ``method``, if given),
        after letting ``after`` of them pass; ``delaying`` is set while one waits."""
        with self.lock:
            self._delays.extend([[method, seconds, after] for _ in range(times)])

    @staticmethod
    def _take(queue: list[Any], method: str) -> Any:
        for i, item in enumerate(queue):
            if item[0] in (None, method):
                if isinstance(item, list) and item[2] > 0:  # a delay that lets some pass
                    item[2] -= 1
                    return None
                return queue.pop(i)
        return None

    def wait_idle(self, _seconds: float = 0.0) -> None:
        """Return once no request is being handled (a client's backoff that outlasts a slow
        server; usable as the ``sleep`` of a client or relay)."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with self.lock:
                if self.in_flight == 0:
                    return
            time.sleep(0.005)
        raise AssertionError("the fake API stays busy")

    # ------------------------------------------------------------ views for assertions
    def all(self, api: str, resource: str) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(o) for o in self.objects[(api, resource)]]

    def writes(self, api: str = "zaken") -> int:
        """Successful POSTs and DELETEs to ``api`` so far."""
        return sum(1 for m, p, s in self.requests
                   if m in ("POST", "DELETE") and s < 300 and p.startswith(f"/{api}/"))

    def root(self, api: str) -> str:
        return f"{self.base}/{api}/api/v1"

    # ------------------------------------------------------------ behaviour
    def find(self, url: str) -> tuple[tuple[str, str], dict[str, Any]] | None:
        for key, items in self.objects.items():
            for obj in items:
                if obj["url"] == url:
                    return key, obj
        return None

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: Any
               ) -> tuple[int, Any]:
        # a request meets at most one switch: a failure, or else a delay
        with self.lock:
            failure = self._take(self._failures, method)
            delay = None if failure is not None else self._take(self._delays, method)
        if failure is not None:
            _, status, fbody = failure
            return status, fbody if fbody is not None else {"title": "kunstmatige fout", "status": status}
        if delay is not None:
            self.delaying.set()
            time.sleep(delay[1])
            self.delaying.clear()
        parts = [p for p in path.split("/") if p]
        if len(parts) < 4 or parts[1:3] != ["api", "v1"] or (parts[0], parts[3]) not in SCHEMAS:
            return 404, {"title": "niet gevonden"}
        api, resource = parts[0], parts[3]
        with self.lock:
            if method == "POST" and len(parts) == 4:
                return self.create(api, resource, body)
            if method == "GET" and len(parts) == 4:
                return self.list(api, resource, query)
            url = f"{self.base}{path}"
            found = self.find(url)
            if found is None:
                return 404, {"title": "niet gevonden"}
            if method == "GET":
                return 200, found[1]
            if method == "DELETE":
                self.objects[found[0]].remove(found[1])
                return 204, None
        return 405, {"title": "methode niet toegestaan"}

    def list(self, api: str, resource: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        page = int(query.pop("page", ["1"])[0])
        items = [o for o in self.objects[(api, resource)]
                 if all(str(o.get(k)) == v[0] for k, v in query.items())]
        start = (page - 1) * self.page_size
        chunk = items[start:start + self.page_size]
        more = start + self.page_size < len(items)
        params = "&".join(f"{k}={v[0]}" for k, v in query.items())
        nxt = f"{self.root(api)}/{resource}?{params}&page={page + 1}" if more else None
        return 200, {"count": len(items), "next": nxt, "previous": None, "results": chunk}

    def invalid(self, name: str, errors: list[str]) -> tuple[int, Any]:
        self.rejected.append((name, errors))
        return 400, {"type": "validation", "code": "invalid", "title": "Invalid input.", "status": 400,
                     "invalidParams": [{"name": e.split(":")[0], "code": "invalid", "reason": e}
                                       for e in errors]}

    def create(self, api: str, resource: str, body: Any) -> tuple[int, Any]:
        schema = SCHEMAS[(api, resource)]
        errors = problems(api, schema, body)  # type: ignore[arg-type]
        if resource == "rollen" and not errors:
            mapped = specification("zaken")["components"]["schemas"]["Rol"]["discriminator"]["mapping"]
            sub = mapped[body["betrokkeneType"]].rsplit("/", 1)[-1]
            errors = problems("zaken", sub, body)
        if errors:
            return self.invalid(schema, errors)
        for field, target in REFS.items():
            if field in body and self.find(str(body[field])) is None:
                return self.invalid(schema, [f"{field}: onbekende referentie"])
            if field in body and self.find(str(body[field]))[0] != target:  # type: ignore[index]
                return self.invalid(schema, [f"{field}: verwijst naar het verkeerde soort object"])
        if resource == "zaken" and any(
            z["identificatie"] == body["identificatie"] and z["bronorganisatie"] == body["bronorganisatie"]
            for z in self.objects[("zaken", "zaken")]
        ):
            return self.invalid(schema, ["identificatie: bestaat al voor deze bronorganisatie"])
        if resource == "statussen":
            zaak = self.find(body["zaak"])[1]  # type: ignore[index]
            if zaak.get("einddatum"):
                return 403, {"title": "De zaak is afgesloten; heropenen vraagt zaken.heropenen"}
            statustype = self.find(body["statustype"])[1]  # type: ignore[index]
            same_type = [s for s in self.objects[("catalogi", "statustypen")]
                         if s["zaaktype"] == statustype["zaaktype"]]
            if statustype["volgnummer"] == max(s["volgnummer"] for s in same_type):
                if not any(r["zaak"] == zaak["url"] for r in self.objects[("zaken", "resultaten")]):
                    return self.invalid(schema, ["zaak: de zaak heeft nog geen resultaat"])
                zaak["einddatum"] = body["datumStatusGezet"][:10]
            zaak["status"] = None  # set below, once the status has a url
        if resource == "resultaten" and any(r["zaak"] == body["zaak"]
                                            for r in self.objects[("zaken", "resultaten")]):
            return self.invalid(schema, ["zaak: de zaak heeft al een resultaat"])
        ident = str(uuid.uuid4())
        obj = {**body, "url": f"{self.root(api)}/{resource}/{ident}", "uuid": ident}
        self.objects[(api, resource)].append(obj)
        if resource == "statussen":
            self.find(body["zaak"])[1]["status"] = obj["url"]  # type: ignore[index]
        return 201, obj


def _handler(api: FakeZgw) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _serve(self, method: str) -> None:
            with api.lock:
                api.in_flight += 1
            try:
                self._serve_counted(method)
            finally:
                with api.lock:
                    api.in_flight -= 1

        def _serve_counted(self, method: str) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                status, answer = self._answer(method, split.path, parse_qs(split.query), raw)
            except Exception as exc:  # a bug in this fake: answer 500 and let the test fail
                api.crashes.append(repr(exc))
                status, answer = 500, {"title": "fout in de test-API"}
            with api.lock:
                api.requests.append((method, split.path, status))
            data = json.dumps(answer).encode() if answer is not None else b""
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                pass

        def _answer(self, method: str, path: str, query: dict[str, list[str]], raw: bytes
                    ) -> tuple[int, Any]:
            auth = self.headers.get("Authorization", "")
            try:
                claims = jwt.decode(auth.removeprefix("Bearer "), SECRET, algorithms=["HS256"])
            except jwt.PyJWTError:
                return 403, {"title": "ongeldige JWT"}
            if claims.get("client_id") != CLIENT_ID:
                return 403, {"title": "onbekende client"}
            if method == "POST" and self.headers.get("Content-Crs") != "EPSG:4326" and "zaken/api" in path:
                return 412, {"title": "Content-Crs ontbreekt"}
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                return 400, {"title": "geen JSON"}
            return api.handle(method, path, query, body)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

    return Handler


def serve(page_size: int = 3) -> Iterator[FakeZgw]:
    """Run the fake APIs in a thread for the duration of the generator (a fixture body)."""
    api = FakeZgw(page_size)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    server.daemon_threads = True
    api.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield api
        assert api.crashes == [], api.crashes
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
