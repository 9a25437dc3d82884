"""A small web API over eengezin: the standard library's WSGI server and one Engine.

    python examples/web_api.py --store trajecten.db --port 8080

Routes (JSON in, JSON out; the shapes are eengezin's shipped JSON Schemas):

- ``POST /trajecten/{id}/events`` with ``{"event", "data"?, "actor"?, "at"?, "key"?}`` → the
  Outcome (``201`` when accepted, ``422`` when refused: the violations say why);
- ``GET /trajecten/{id}`` → the Traject;
- ``GET /trajecten/{id}/allowed`` → every event with its Verdict (for the buttons of a UI);
- ``GET /trajecten/{id}/history?start=0&limit=50`` → a page of the log;
- ``GET /events/{event}/schema`` → the JSON Schema of the event's payload (for forms).

Run in a test by tests/test_web_example.py. It is an example, not a product: add
authentication, authorisation and TLS before any real use.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import make_server

from eengezin import Actor, EengezinError, Engine
from eengezin.serialization import to_dict
from eengezin.store import TrajectNotFoundError, open_store

Start = Callable[[str, list[tuple[str, str]]], Any]


def make_app(engine: Engine) -> Callable[[dict[str, Any], Start], Iterable[bytes]]:
    """The WSGI application around ``engine`` (which has a store)."""

    def reply(start: Start, status: str, body: Any) -> list[bytes]:
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        start(status, [("Content-Type", "application/json; charset=utf-8"),
                       ("Content-Length", str(len(data)))])
        return [data]

    def app(environ: dict[str, Any], start: Start) -> Iterable[bytes]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        query = parse_qs(environ.get("QUERY_STRING", ""))
        try:
            if m := re.fullmatch(r"/trajecten/([\w.-]+)/events", path):
                if method != "POST":
                    return reply(start, "405 Method Not Allowed", {"error": "use POST"})
                size = int(environ.get("CONTENT_LENGTH") or 0)
                body = json.loads(environ["wsgi.input"].read(size) or b"{}")
                actor = body.get("actor")
                at = datetime.fromisoformat(body["at"]) if body.get("at") else None
                outcome = engine.fire(m.group(1), body["event"], body.get("data"),
                                      actor=Actor(actor["id"], actor.get("role")) if actor else None,
                                      at=at, idempotency_key=body.get("key"))
                status = "201 Created" if outcome.accepted else "422 Unprocessable Entity"
                return reply(start, status, to_dict(outcome))
            if m := re.fullmatch(r"/trajecten/([\w.-]+)", path):
                return reply(start, "200 OK", to_dict(engine.load(m.group(1))))
            if m := re.fullmatch(r"/trajecten/([\w.-]+)/allowed", path):
                verdicts = engine.allowed(m.group(1))
                return reply(start, "200 OK", {name: to_dict(v) for name, v in verdicts.items()})
            if m := re.fullmatch(r"/trajecten/([\w.-]+)/history", path):
                start_at = int(query.get("start", ["0"])[0])
                limit = int(query.get("limit", ["50"])[0])
                page = engine.history(m.group(1), start=start_at, limit=limit)
                return reply(start, "200 OK", [to_dict(e) for e in page])
            if m := re.fullmatch(r"/events/([\w.-]+)/schema", path):
                return reply(start, "200 OK", engine.payload_schema(m.group(1)))
            return reply(start, "404 Not Found", {"error": "unknown route"})
        except TrajectNotFoundError:
            return reply(start, "404 Not Found", {"error": "unknown traject"})
        except (KeyError, ValueError, TypeError):
            return reply(start, "400 Bad Request", {"error": "malformed request"})
        except EengezinError as exc:
            return reply(start, "409 Conflict", {"error": type(exc).__name__})

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="A small web API over eengezin")
    parser.add_argument("--store", default="trajecten.db")
    parser.add_argument("--definition", default="basis")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    engine = Engine(args.definition, store=open_store(args.store),
                    clock=lambda: datetime.now(UTC))
    with make_server("127.0.0.1", args.port, make_app(engine)) as server:
        print(f"listening on http://127.0.0.1:{args.port}")
        server.serve_forever()


if __name__ == "__main__":
    main()
