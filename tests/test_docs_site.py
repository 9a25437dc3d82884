"""The documentation site (mkdocs.yml) lists every page of docs/ and a diagram page for every
bundled definition. CI builds the site strictly (a page left out fails there too); this test says
so in the ordinary test run, without needing MkDocs installed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from eengezin import bundled_ids

ROOT = Path(__file__).resolve().parents[1]


def nav_pages(node: Any) -> set[str]:
    if isinstance(node, str):
        return {node}
    if isinstance(node, dict):
        return set().union(*(nav_pages(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(nav_pages(v) for v in node))
    return set()


def site_config() -> Any:
    # round-trip mode keeps MkDocs' !!python/name tag as data; nothing is imported
    return YAML(typ="rt", pure=True).load((ROOT / "mkdocs.yml").read_text("utf-8"))


def test_every_docs_page_is_in_the_site_nav() -> None:
    pages = nav_pages(site_config()["nav"])
    written = {p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")}
    assert written - pages == set(), "add these pages to nav in mkdocs.yml"
    assert {p for p in pages if not p.startswith("diagrams/")} <= written


def test_every_bundled_definition_has_a_diagram_page() -> None:
    pages = nav_pages(site_config()["nav"])
    made = {p for p in pages if p.startswith("diagrams/")}
    assert made == {"diagrams/index.md"} | {f"diagrams/{d}.md" for d in bundled_ids()}


def test_the_site_is_built_strictly_with_the_diagram_hook() -> None:
    config = site_config()
    assert config["strict"] is True
    assert config["docs_dir"] == "docs"
    assert "tools/mkdocs_hooks.py" in config["hooks"]
    assert (ROOT / "tools" / "mkdocs_hooks.py").is_file()
