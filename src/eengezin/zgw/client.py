"""A small HTTP client for the ZGW APIs: JWT (HS256) per request, timeouts, bounded retries.

``httpx`` and ``PyJWT`` are optional dependencies (``eengezin[zgw]``), imported when a
client is made. Reads and deletes are retried on connection errors, timeouts and 5xx
answers, with exponential backoff up to ``max_backoff`` and at most ``retries`` extra
attempts. A ``POST`` is sent once: after a timeout it may or may not have been carried
out, so only the caller can retry it safely (the relay reads first, then writes again).
A 4xx answer is never retried and raises :class:`ZgwApiError` with the API's error body.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import structlog

from ..errors import EengezinError

log = structlog.get_logger("eengezin.zgw")

CRS_HEADERS = {"Accept-Crs": "EPSG:4326", "Content-Crs": "EPSG:4326"}


class ZgwApiError(EengezinError):
    """The API refused a request (4xx); ``body`` is its error answer (ZGW ``Fout``)."""

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        self.method, self.path, self.status, self.body = method, path, status, body
        super().__init__(f"{method} {path}: HTTP {status}")


class ZgwUnavailableError(EengezinError):
    """The API could not be reached, or kept answering 5xx, after every retry."""


def _path_of(url: str) -> str:
    """The path of a URL without query or host (what a log line may show)."""
    rest = url.split("://", 1)[-1]
    path = "/" + rest.split("/", 1)[1] if "/" in rest else "/"
    return path.split("?", 1)[0]


@lru_cache(maxsize=1)
def _tls() -> Any:
    """One default TLS context per process (building one reads the CA bundle: ~35 ms)."""
    import httpx

    return httpx.create_ssl_context()


class ZgwClient:
    """JSON over HTTP to one ZGW API root (``base_url`` ends before the collection names).

    ``client_id`` and ``secret`` sign a fresh JWT (HS256) for every request, with the
    claims ZGW APIs read (``iss``, ``iat``, ``client_id``, ``user_id``,
    ``user_representation``).
    """

    def __init__(
        self,
        base_url: str,
        *,
        client_id: str,
        secret: str,
        timeout: float = 10.0,
        retries: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
        user_id: str = "eengezin",
    ) -> None:
        import httpx

        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self._secret = secret
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.sleep = sleep
        self.user_id = user_id
        self._http = httpx.Client(timeout=httpx.Timeout(timeout), verify=_tls())

    def close(self) -> None:
        self._http.close()

    def token(self) -> str:
        import jwt

        now = int(time.time())
        return jwt.encode(
            {"iss": self.client_id, "iat": now, "client_id": self.client_id,
             "user_id": self.user_id, "user_representation": self.user_id},
            self._secret, algorithm="HS256",
        )

    def url(self, path: str) -> str:
        return path if "://" in path else f"{self.base_url}/{path.lstrip('/')}"

    def request(self, method: str, path: str, *, json: Any = None,
                params: Mapping[str, str] | None = None) -> Any:
        """Send one request (retrying as described above); the decoded JSON answer or None."""
        import httpx

        url = self.url(path)
        shown = _path_of(url)
        attempt = 0
        while True:
            headers = {"Authorization": f"Bearer {self.token()}", "Accept": "application/json",
                       **CRS_HEADERS}
            try:
                response = self._http.request(method, url, json=json, params=params, headers=headers)
            except httpx.TransportError as exc:
                reason = type(exc).__name__
                status = None
            else:
                status = response.status_code
                if status < 400:
                    return response.json() if response.content else None
                if status == 404 and method == "DELETE" and attempt > 0:
                    return None  # an earlier attempt deleted it before its answer was lost
                if status < 500:
                    try:
                        body: Any = response.json()
                    except ValueError:
                        body = response.text[:2000]
                    raise ZgwApiError(method, shown, status, body)
                reason = f"HTTP {status}"
            if attempt >= self.retries or method == "POST":
                log.error("zgw.unavailable", method=method, path=shown, reason=reason,
                          attempts=attempt + 1)
                raise ZgwUnavailableError(f"{method} {shown}: {reason} after {attempt + 1} attempts")
            delay = min(self.max_backoff, self.backoff * 2 ** attempt)
            log.warning("zgw.retry", method=method, path=shown, reason=reason, status=status,
                        attempt=attempt + 1, delay=delay)
            self.sleep(delay)
            attempt += 1

    def get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Mapping[str, Any]) -> Any:
        return self.request("POST", path, json=dict(body))

    def delete(self, path: str) -> None:
        self.request("DELETE", path)

    def list(self, path: str, params: Mapping[str, str]) -> list[Any]:
        """Every object of a (paginated) ZGW list answer."""
        answer = self.get(path, params)
        if isinstance(answer, list):
            return answer
        items: list[Any] = list(answer.get("results", []))
        next_url = answer.get("next")
        while next_url:
            page = self.get(next_url)
            items.extend(page.get("results", []))
            next_url = page.get("next")
        return items
