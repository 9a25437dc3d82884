"""Hash chains: every log entry, and every entry of the store's ledger, carries a hash
over its canonical content and the previous entry's hash.

Without a host key the links are SHA-256 (anyone can recompute them: they detect edits
that do not rewrite the rest of the chain). With a host key (``EENGEZIN_HMAC_KEY``, or a
file named by ``EENGEZIN_HMAC_KEY_FILE``) they are HMAC-SHA256, so whoever edits the
database without the key cannot forge a chain that verifies. The store records which kind
it uses and a fingerprint of the key (never the key itself).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from .errors import StoreKeyError

GENESIS = ""
"""The "previous hash" of a chain's first entry."""

SHA256 = "sha256"
HMAC_SHA256 = "hmac-sha256"


def host_key_from_env() -> bytes | None:
    """The host's chain key from ``EENGEZIN_HMAC_KEY`` (text) or ``EENGEZIN_HMAC_KEY_FILE``."""
    text = os.environ.get("EENGEZIN_HMAC_KEY")
    if text:
        return text.encode("utf-8")
    path = os.environ.get("EENGEZIN_HMAC_KEY_FILE")
    if path:
        try:
            data = Path(path).read_bytes().strip()
        except OSError as exc:
            raise StoreKeyError(f"EENGEZIN_HMAC_KEY_FILE: cannot read: {exc.strerror}") from None
        if not data:
            raise StoreKeyError("EENGEZIN_HMAC_KEY_FILE: the file is empty")
        return data
    return None


class Chain:
    """Links a chain: ``link(previous, *parts)``. ``key`` None means plain SHA-256."""

    def __init__(self, key: bytes | None = None) -> None:
        if key is not None and len(key) < 16:
            raise StoreKeyError("the chain key must be at least 16 bytes")
        self._key = key
        self.kind = SHA256 if key is None else HMAC_SHA256

    @property
    def keyed(self) -> bool:
        return self._key is not None

    def fingerprint(self) -> str:
        """Identifies the key without revealing it ("" without a key)."""
        if self._key is None:
            return ""
        return hmac.new(self._key, b"eengezin chain key fingerprint", hashlib.sha256
                        ).hexdigest()[:16]

    def link(self, previous: str, *parts: str) -> str:
        """The hash of an entry: its parts (length-prefixed, so no two splits collide)
        after the previous entry's hash."""
        body = bytearray()
        for part in (previous, *parts):
            data = part.encode("utf-8", "surrogatepass")
            body += f"{len(data)}:".encode() + data
        if self._key is None:
            return hashlib.sha256(body).hexdigest()
        return hmac.new(self._key, bytes(body), hashlib.sha256).hexdigest()


__all__ = ["GENESIS", "HMAC_SHA256", "SHA256", "Chain", "host_key_from_env"]
