"""Where the bundled definitions are (light: imported by ``eengezin list`` at start-up)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..errors import DefinitionNotFoundError, Location, Problem
from .raw import suggest


def bundled_dir() -> Path:
    """Folder holding the bundled definitions (inside the wheel, or the source tree)."""
    packaged = resources.files("eengezin").joinpath("_definitions")
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[3] / "definitions"


def bundled_ids() -> list[str]:
    """Ids of the bundled definitions, sorted."""
    return sorted(p.stem for p in bundled_dir().glob("*.yaml"))


def is_bundled_ref(text: str) -> bool:
    return "/" not in text and "\\" not in text and not text.endswith((".yaml", ".yml"))


def resolve_source(ref: str | Path, relative_to: Path | None = None) -> Path:
    """A bundled id (``basis``) or a path; raise :class:`DefinitionNotFoundError`."""
    text = str(ref)
    if isinstance(ref, str) and is_bundled_ref(text):
        path = bundled_dir() / f"{text}.yaml"
        if _is_file(path):
            return path
        known = ", ".join(bundled_ids())
        hint = suggest(text, bundled_ids())
        raise DefinitionNotFoundError(
            [Problem(Location(text[:200]), f"onbekende definitie{hint} (meegeleverd: {known})")]
        )
    path = Path(text)
    if not path.is_absolute() and relative_to is not None:
        candidate = relative_to / path
        if _is_file(candidate):
            return candidate
    if _is_file(path):
        return path
    raise DefinitionNotFoundError([Problem(Location(text[:200]), "bestand niet gevonden")])


def _is_file(path: Path) -> bool:
    """``path.is_file()``, false for names the system refuses (too long, a NUL byte)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


_TOP = ("id", "version", "title")


def quick_header(path: Path) -> tuple[str, str, str] | None:
    """``(id, version, title)`` read from the top-level lines of a definition file, without a
    YAML parser, when they are plain one-line scalars (as in the bundled files); None when
    they are not, so the caller loads the file properly."""
    found: dict[str, str] = {}
    try:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle):
                if number > 60:
                    break
                key, sep, rest = line.partition(":")
                if not sep or key not in _TOP or key in found:
                    continue
                value = rest.split(" #", 1)[0].strip()
                if not value or value[0] in ">|&*!{[%@`":
                    return None
                if value[0] in "\"'":
                    if len(value) < 2 or value[-1] != value[0] or value[0] in value[1:-1]:
                        return None
                    value = value[1:-1]
                found[key] = value
                if len(found) == len(_TOP):
                    return found["id"], found["version"], found["title"]
    except (OSError, UnicodeDecodeError):
        return None
    return None
