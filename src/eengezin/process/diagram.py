"""Diagrams of a compiled definition: Mermaid ``stateDiagram-v2`` and Graphviz DOT.

Mermaid fails on a composite state inside a concurrent region (mermaid#4052),
which is exactly the shape of ``regie`` next to ``veiligheid``. So each track is
drawn as its own top-level composite state, side by side, instead of as regions
separated by ``--``; the header comment says they run in parallel.
"""

from __future__ import annotations

import re
from datetime import datetime

from ..rules.context import Context
from .model import Definition, Track

_EPOCH = datetime(2000, 1, 1)

_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def _sid(track: str, path: str) -> str:
    return _UNSAFE.sub("_", f"{track}__{path.replace('.', '__')}")


def _q(text: str) -> str:
    return text.replace('"', "'")


def _edges(definition: Definition) -> list[tuple[str, str, str, str]]:
    """(track, source leaf, target leaf, label) for transitions and effect moves."""
    edges: list[tuple[str, str, str, str]] = []
    seen: set[tuple[str, str, str, str]] = set()
    for event in definition.events.values():
        for tr in event.transitions:
            for src in sorted(tr.sources):
                edge = (tr.track, src, tr.target, event.id)
                if edge not in seen:
                    seen.add(edge)
                    edges.append(edge)
    for effect in definition.effects:
        for track, target in effect.moves:
            sources = sorted(definition.tracks[track].active)
            for ev in effect.events:
                label = f"{ev} / {effect.id}"
                # an effect may fire from any active state; draw it from the states its
                # condition names when it is an in_state test, else from none (noted only)
                for src in sources:
                    if src != target and _effect_from(effect.when, definition, track, src, ev):
                        edge = (track, src, target, label)
                        if edge not in seen:
                            seen.add(edge)
                            edges.append(edge)
    return edges


def _effect_from(when: object, definition: Definition, track: str, src: str, ev: str) -> bool:
    """Whether an effect's condition can hold with ``track`` in ``src`` (probed, data-free)."""
    if when is None:
        return True
    state = dict(definition.initial_state)
    state[track] = src
    ctx = Context(data={}, facts={}, state=state, event=ev, at=_EPOCH, params=definition.params)
    try:
        return bool(when(ctx))  # type: ignore[operator]
    except Exception:  # a probe only; an odd condition just draws no edge
        return False


def _nest(track: Track, parent: str | None) -> list[str]:
    return [p for p, n in track.nodes.items() if n.parent == parent]


def to_mermaid(definition: Definition) -> str:
    """Mermaid ``stateDiagram-v2`` text for the definition.

    >>> from eengezin import load_definition
    >>> to_mermaid(load_definition("basis")).splitlines()[0]
    'stateDiagram-v2'
    """
    lines = ["stateDiagram-v2", f"    %% {definition.id} v{definition.version}: tracks run in parallel"]

    def emit(track: Track, parent: str | None, indent: str) -> None:
        for path in _nest(track, parent):
            node = track.nodes[path]
            sid = _sid(track.id, path)
            if node.children:
                lines.append(f'{indent}state "{_q(node.title)}" as {sid} {{')
                emit(track, path, indent + "    ")
                lines.append(f"{indent}}}")
            else:
                lines.append(f'{indent}state "{_q(node.title)}" as {sid}')

    edges = _edges(definition)
    for track in definition.tracks.values():
        tid = _sid(track.id, "track")
        lines.append(f'    state "{_q(track.title)}" as {tid} {{')
        emit(track, None, "        ")
        lines.append(f"        [*] --> {_sid(track.id, track.initial)}")
        for final in sorted(track.finals):
            lines.append(f"        {_sid(track.id, final)} --> [*]")
        for tr_id, src, dst, label in edges:
            if tr_id == track.id:
                lines.append(f"        {_sid(tr_id, src)} --> {_sid(tr_id, dst)} : {label}")
        lines.append("    }")
    return "\n".join(lines) + "\n"


def to_dot(definition: Definition) -> str:
    """Graphviz DOT text: one cluster per track, nested clusters for compound states."""
    lines = [
        f'digraph "{_q(definition.id)}" {{',
        "    compound=true; rankdir=LR; node [shape=box, style=rounded, fontname=Helvetica];",
        f'    label="{_q(definition.title)} (v{definition.version}) — tracks lopen parallel";',
    ]

    def emit(track: Track, parent: str | None, indent: str) -> None:
        for path in _nest(track, parent):
            node = track.nodes[path]
            sid = _sid(track.id, path)
            if node.children:
                lines.append(f"{indent}subgraph cluster_{sid} {{")
                lines.append(f'{indent}    label="{_q(node.title)}";')
                emit(track, path, indent + "    ")
                lines.append(f"{indent}}}")
            else:
                shape = ", peripheries=2" if node.final else ""
                lines.append(f'{indent}{sid} [label="{_q(node.title)}"{shape}];')

    for track in definition.tracks.values():
        tid = _sid(track.id, "track")
        lines.append(f"    subgraph cluster_{tid} {{")
        lines.append(f'        label="{_q(track.title)}";')
        lines.append(f'        {tid}__start [shape=point, label=""];')
        emit(track, None, "        ")
        lines.append(f"        {tid}__start -> {_sid(track.id, track.initial)};")
        lines.append("    }")
    for tr_id, src, dst, label in _edges(definition):
        lines.append(f'    {_sid(tr_id, src)} -> {_sid(tr_id, dst)} [label="{_q(label)}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


