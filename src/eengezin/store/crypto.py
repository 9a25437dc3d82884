"""Personal data at rest: per-traject data keys (AES-256-GCM), wrapped by a host key.

Each traject gets a random 256-bit data key when it is first stored. The store keeps the
data key only *wrapped* (encrypted) by a :class:`KeyProvider` the host supplies: a KMS or
HSM behind the protocol, or, for the embedded default, a key file (:class:`FileKeyProvider`,
created 0600). Personal values (the paths :mod:`eengezin.store.personal` computes from the
definition) are stored as tokens ``enc1:<base64 nonce|ciphertext>``, bound to the traject
id. Erasure destroys the wrapped data key (crypto-shredding): the ciphertext stays in the
log, so the hash chain still verifies, and reads back as :data:`ERASED`.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import StoreCorruptError, StoreKeyError

ERASED = "[gewist]"
"""What an erased personal value reads back as."""

PREFIX = "enc1:"
_NONCE = 12


@runtime_checkable
class KeyProvider(Protocol):
    """Wraps and unwraps data keys with a key the host keeps (a KMS, an HSM, a key file).

    ``key_id`` names the wrapping key (stored next to each wrapped key, so keys can be
    rotated); ``context`` (the traject id) must be bound to the wrapped key.
    """

    key_id: str

    def wrap(self, data_key: bytes, context: bytes) -> bytes: ...

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes: ...


class FileKeyProvider:
    """The embedded default: a 256-bit key in a file (created 0600 when missing)."""

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path)
        if not self.path.exists():
            if not create:
                raise StoreKeyError(f"{self.path}: key file missing")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # written aside, then linked into place: a concurrent reader never sees a
            # half-written key, and of two creators exactly one wins
            temp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{os.urandom(4).hex()}")
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(base64.b64encode(AESGCM.generate_key(bit_length=256)) + b"\n")
                    handle.flush()
                    os.fsync(handle.fileno())
                with contextlib.suppress(FileExistsError):  # another process was first
                    os.link(temp, self.path)
            finally:
                temp.unlink(missing_ok=True)
        try:
            raw = base64.b64decode(self.path.read_bytes().strip(), validate=True)
        except (OSError, ValueError):
            raise StoreKeyError(f"{self.path}: unreadable key file") from None
        if len(raw) != 32:
            raise StoreKeyError(f"{self.path}: a key file holds 32 bytes (base64)")
        self._aead = AESGCM(raw)
        self.key_id = "file:" + AESGCM(raw).encrypt(b"\0" * _NONCE, b"key id", None)[:8].hex()

    def wrap(self, data_key: bytes, context: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, data_key, context)

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        try:
            return self._aead.decrypt(wrapped[:_NONCE], wrapped[_NONCE:], context)
        except (InvalidTag, ValueError):
            raise StoreKeyError("a data key does not unwrap with this key (wrong key file?)"
                                ) from None


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      default=str).encode("utf-8", "surrogatepass")


class Sealer:
    """Encrypts and decrypts personal values of one traject (``key`` None: erased)."""

    def __init__(self, traject_id: str, key: bytes | None) -> None:
        self._aad = traject_id.encode("utf-8", "surrogatepass")
        self._aead = AESGCM(key) if key is not None else None

    @property
    def erased(self) -> bool:
        return self._aead is None

    def seal(self, value: Any) -> Any:
        if value is None:
            return value
        if self._aead is None:
            return ERASED
        nonce = os.urandom(_NONCE)
        token = nonce + self._aead.encrypt(nonce, _dumps(value), self._aad)
        return PREFIX + base64.b64encode(token).decode("ascii")

    def open(self, value: Any) -> Any:
        if not (isinstance(value, str) and value.startswith(PREFIX)):
            return value  # not sealed (null, or a marker)
        if self._aead is None:
            return ERASED
        try:
            token = base64.b64decode(value[len(PREFIX):], validate=True)
            plain = self._aead.decrypt(token[:_NONCE], token[_NONCE:], self._aad)
        except (InvalidTag, ValueError):
            raise StoreCorruptError("an encrypted value does not decrypt (edited, or moved "
                                    "from another traject)") from None
        return json.loads(plain)


# ---------------------------------------------------------------- paths

Trie = Mapping[str, Any]
"""Nested segments; the key ``""`` marks a path's end (the whole value there is personal).
``"[]"`` stands for every item of a list, ``"*"`` for every value of a mapping."""

END = ""


def transform(value: Any, trie: Trie, fn: Callable[[Any], Any]) -> Any:
    """``value`` with ``fn`` applied to each value at a path of ``trie`` (a new value;
    the input is not changed)."""
    if not trie:
        return value
    if END in trie:
        return fn(value)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        changed = False
        for key, sub in value.items():
            new = sub
            for seg in (key, "*"):
                nested = trie.get(seg)
                if nested is not None:
                    new = transform(new, nested, fn)
            changed = changed or new is not sub
            out[key] = new
        return out if changed else value
    if isinstance(value, list | tuple) and "[]" in trie:
        items = [transform(v, trie["[]"], fn) for v in value]
        return items
    return value


def build_trie(paths: Any) -> dict[str, Any]:
    """A trie of path tuples (a path that is a prefix of another wins: the whole value)."""
    root: dict[str, Any] = {}
    for path in sorted(paths, key=len):
        node = root
        for seg in path:
            if END in node:
                break
            node = node.setdefault(seg, {})
        else:
            node.clear()
            node[END] = True
    return root


__all__ = ["ERASED", "FileKeyProvider", "KeyProvider", "Sealer", "build_trie", "new_data_key",
           "transform"]
