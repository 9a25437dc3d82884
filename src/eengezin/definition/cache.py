"""An on-disk cache of merged definition trees, so a command does not parse YAML every start.

Parsing the YAML (with positions, in pure Python) is most of the cost of loading a
definition. After a definition loaded without problems, its merged tree is written to
the platform's cache directory, keyed by eengezin's version and the content hash of every
file it was merged from; the next load of the same files compiles from that tree. The
cache is only ever a shortcut: a stale, missing or damaged entry is ignored and the YAML
is read again, so the directory is safe to delete. ``EENGEZIN_NO_CACHE=1`` (the CLI's
``--no-cache``) switches it off; ``EENGEZIN_CACHE_DIR`` moves it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

FORMAT = 1


def _version() -> str:
    from .. import __version__

    return __version__


def cache_dir() -> Path | None:
    """Where entries live, or None when caching is off."""
    if os.environ.get("EENGEZIN_NO_CACHE", "").strip() not in ("", "0"):
        return None
    explicit = os.environ.get("EENGEZIN_CACHE_DIR")
    if explicit:
        return Path(explicit)
    if sys.platform == "win32":  # pragma: no cover
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":  # pragma: no cover
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "eengezin"


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _entry_path(root: Path, main: Path) -> Path:
    name = hashlib.sha256(f"{FORMAT}\0{_version()}\0{main}".encode()).hexdigest()[:32]
    return root / "definitions" / f"{name}.json"


def lookup(main: Path, *, suffix: str = ".json") -> dict[str, Any] | None:
    """The cached entry for ``main`` when every file it was merged from is unchanged."""
    root = cache_dir()
    if root is None:
        return None
    try:
        entry = json.loads(_entry_path(root, main).with_suffix(suffix).read_text("utf-8"))
        files = entry["files"]
        if not isinstance(files, list) or not files:
            return None
        for item in files:
            if _digest(Path(item["path"])) != item["sha256"]:
                return None
        if suffix == ".json" and not isinstance(entry.get("tree"), dict):
            return None
        result: dict[str, Any] = entry
        return result
    except (OSError, ValueError, KeyError, TypeError):
        return None


def store(main: Path, files: list[str], tree: dict[str, Any], header: dict[str, str]) -> None:
    """Remember a definition that loaded without problems (best effort, atomic)."""
    root = cache_dir()
    if root is None:
        return
    digests = []
    for name in files:
        digest = _digest(Path(name))
        if digest is None:
            return
        digests.append({"path": name, "sha256": digest})
    target = _entry_path(root, main)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _write(target, {"files": digests, "tree": tree, "header": header})
        # the header alone, so a listing reads a few bytes instead of the whole tree
        _write(target.with_suffix(".head"), {"files": digests, "header": header})
    except (OSError, TypeError, ValueError):
        return


def _write(target: Path, value: Any) -> None:
    text = json.dumps(value, ensure_ascii=False, default=str)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def header(main: Path) -> tuple[str, str, str] | None:
    """``(id, version, title)`` of a cached definition whose files are unchanged."""
    entry = lookup(main, suffix=".head")
    if entry is None:
        return None
    found = entry.get("header")
    if isinstance(found, dict) and all(isinstance(found.get(k), str)
                                       for k in ("id", "version", "title")):
        return found["id"], found["version"], found["title"]
    return None
