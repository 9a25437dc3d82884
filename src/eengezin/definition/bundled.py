"""Where the bundled definitions are (light: imported by ``eengezin list`` at start-up)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def bundled_dir() -> Path:
    """Folder holding the bundled definitions (inside the wheel, or the source tree)."""
    packaged = resources.files("eengezin").joinpath("_definitions")
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[3] / "definitions"


def bundled_ids() -> list[str]:
    """Ids of the bundled definitions, sorted."""
    return sorted(p.stem for p in bundled_dir().glob("*.yaml"))
