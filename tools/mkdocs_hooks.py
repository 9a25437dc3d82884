"""MkDocs hook (see mkdocs.yml): pages and files of the documentation site that are made, not written.

- ``diagrams/<id>.md`` for every bundled definition, from ``eengezin diagram <id> --format mermaid``
  (rendered by Material through the ``mermaid`` superfence), and ``diagrams/index.md`` listing them
  from ``eengezin list --json``;
- ``schema/definition.json``: the definition JSON Schema that the package ships
  (``src/eengezin/definition/schema.json``), for editors to point at.

Nothing is written into ``docs/``: the files exist only in the build. The CLI runs from the same
environment as MkDocs (``pip install -e '.[docs]'``), so the diagrams are those of this checkout.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "src" / "eengezin" / "definition" / "schema.json"


def _cli() -> str:
    beside = Path(sys.executable).with_name("eengezin")
    found = str(beside) if beside.exists() else shutil.which("eengezin")
    if not found:
        raise PluginError("the eengezin command is not installed: pip install -e '.[docs]'")
    return found


def _run(*args: str) -> str:
    result = subprocess.run([_cli(), *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PluginError(f"eengezin {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def _diagram_page(entry: dict[str, Any]) -> str:
    def_id = entry["id"]
    mermaid = _run("diagram", def_id, "--format", "mermaid").rstrip("\n")
    return (
        f"# {def_id}\n\n"
        f"**{entry['title']}** (version {entry['version']})\n\n"
        f"The state diagram of the bundled definition `{def_id}`: each box is a track (they run in\n"
        f"parallel), arrows are the events that move it. Made by\n"
        f"`eengezin diagram {def_id} --format mermaid` when this site was built.\n\n"
        f"```mermaid\n{mermaid}\n```\n"
    )


def _index_page(entries: list[dict[str, Any]]) -> str:
    rows = "\n".join(f"| [{e['id']}]({e['id']}.md) | {e['version']} | {e['title']} |" for e in entries)
    return (
        "# Diagrams of the bundled definitions\n\n"
        "Drawn from the definitions themselves when the site is built, so they always match the\n"
        "YAML. Draw your own with `eengezin diagram DEF --format mermaid` (or `--format dot`).\n\n"
        f"| definition | version | title |\n|---|---|---|\n{rows}\n"
    )


def on_files(files: Files, config: MkDocsConfig) -> Files:
    entries = sorted(json.loads(_run("list", "--json")), key=lambda e: e["id"])
    files.append(File.generated(config, "diagrams/index.md", content=_index_page(entries)))
    for entry in entries:
        files.append(File.generated(config, f"diagrams/{entry['id']}.md", content=_diagram_page(entry)))
    files.append(File.generated(config, "schema/definition.json", abs_src_path=str(SCHEMA)))
    return files
