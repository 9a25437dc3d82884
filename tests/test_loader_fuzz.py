"""Fuzzing the loader: whatever a definition file holds, loading it either works or raises
a DefinitionError (with positions) — never another exception, and never with work out of
proportion (a file that stands for billions of nodes is refused within a fixed node budget).

The bundled YAML is parsed into plain data, mutated by hypothesis (keys deleted, values of
the wrong type, unknown ids, deep nesting, huge strings), written back (as JSON, which is
YAML) and loaded. Hand-made files cover what a tree mutation cannot: alias bombs, cycles
in ``extends``, broken YAML, bytes that are not UTF-8.

The default profile runs a small, fixed corpus; ``EENGEZIN_PROFILE=deep`` runs the long one.
"""

from __future__ import annotations

import copy
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from eengezin import DefinitionError, bundled_ids, load_definition
from eengezin.definition import _yaml, bundled_dir

from conftest import examples, is_deep

FUZZ = settings(max_examples=examples(40, deep=1000),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def bundled_tree(def_id: str) -> Any:
    yaml = YAML(typ="safe", pure=True)
    return yaml.load((bundled_dir() / f"{def_id}.yaml").read_text("utf-8"))


TREES = {d: bundled_tree(d) for d in bundled_ids()}


def places(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path to a value inside ``node`` (keys of mappings, indexes of lists)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key)
            yield from places(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield (*path, i)
            yield from places(value, (*path, i))


def parent_of(tree: Any, path: tuple[Any, ...]) -> Any:
    node = tree
    for part in path[:-1]:
        node = node[part]
    return node


def nested(depth: int) -> Any:
    value: Any = "diep"
    for i in range(depth):
        value = [value] if i % 2 else {"x": value}
    return value


WRONG_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10**20, 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(["onbekend_id", "*", "facts.", "data.x[]", "regie", "basis", "..", "[]",
                     "{", "facts.onbekend", "in_state", "all", "?"]),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
    st.integers(20, 200).map(nested),
    st.integers(10_000, 300_000).map(lambda n: "x" * n),
)

MUTATIONS = ("delete", "replace", "rename_key", "duplicate_into", "unknown_ref")


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    def_id = draw(st.sampled_from(sorted(TREES)))
    tree = copy.deepcopy(TREES[def_id])
    for _ in range(draw(st.integers(1, 4))):
        paths = list(places(tree))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = parent_of(tree, path)
        key = path[-1]
        kind = draw(st.sampled_from(MUTATIONS))
        if kind == "delete":
            del parent[key]
        elif kind == "replace":
            parent[key] = draw(WRONG_VALUES)
        elif kind == "rename_key" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=8))] = parent.pop(key)
        elif kind == "duplicate_into":
            # a valid-looking part of the definition in the wrong place
            other = draw(st.sampled_from(paths))
            parent[key] = copy.deepcopy(parent_of(tree, other)[other[-1]])
        elif kind == "unknown_ref" and isinstance(parent[key], str):
            parent[key] = parent[key] + "_onbekend"
    return tree


def load_text(text: str | bytes, name: str = "fuzz.yaml") -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            load_definition(path)
        except DefinitionError as exc:
            assert exc.problems, "a DefinitionError names at least one problem"
            for problem in exc.problems:
                assert str(problem)
            # sorted by position (format and consistency problems together)
            keys = [(p.location, p.message) for p in exc.problems]
            assert keys == sorted(keys)


@FUZZ
@given(mutated())
def test_mutated_bundled_definitions_only_raise_definition_errors(tree: Any) -> None:
    text = json.dumps(tree, ensure_ascii=False)
    if len(text.encode("utf-8")) > 2_000_000:
        text = text[:1_900_000]
    load_text(text)


@settings(max_examples=examples(150, deep=3000))
@given(st.text(max_size=300))
def test_arbitrary_text_only_raises_definition_errors(text: str) -> None:
    load_text(text)


@settings(max_examples=examples(100, deep=2000))
@given(st.binary(max_size=200))
def test_arbitrary_bytes_only_raise_definition_errors(data: bytes) -> None:
    load_text(data)


YAML_SNIPPETS = st.sampled_from([
    "id: x\nversion: '1'\n",
    "&a [*a]\n",
    "!!python/object:os.system ['ls']\n",
    "id: !foo x\nversion: 1\n",
    "? [a, b]\n: c\n",
    "id: x\nid: y\n",
    "- - - - -\n",
    "id: x\nversion: '1'\ntracks: {t: {initial: a, states: {a: {states: {}}}}}\n",
    "id: x\nversion: '1'\nevents: {e: {payload: {a: {type: list, items: {type: list}}}}}\n",
    "{{{{{{{{{{",
    "'\\x00'",
    "id: x\nversion: '1'\ntypes: {a: b, b: a}\nevents: {e: {payload: a, when_in: {}}}\n",
    "id: x\nversion: '1'\ntypes: {a: [a]}\nevents: {e: {payload: a, when_in: {}}}\n",
])


@settings(max_examples=examples(100, deep=2000))
@given(st.lists(YAML_SNIPPETS, min_size=1, max_size=3).map("".join))
def test_odd_yaml_only_raises_definition_errors(text: str) -> None:
    load_text(text)


def billion_laughs(levels: int) -> str:
    lines = ['id: bomb', 'version: "1"', 'l0: &l0 ["ha", "ha", "ha", "ha", "ha", "ha", "ha"]']
    for i in range(1, levels):
        refs = ", ".join([f"*l{i - 1}"] * 10)
        lines.append(f"l{i}: &l{i} [{refs}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("levels", [6, 7, 8, 9] if is_deep() else [9])
def test_alias_bomb_is_refused_within_the_node_budget(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, levels: int) -> None:
    """7 * 10**(levels - 1) nodes after alias expansion (9 levels: seven billion) in a few lines:
    refused while parsing, after handling no more parser events than the file holds (an alias
    counts as the size of what it stands for, and is never expanded). The work is counted, not
    timed, so the test does not depend on the machine."""
    handled = [0]
    handle = _yaml._Builder.handle

    def counting(self: Any, event: Any) -> Any:
        handled[0] += 1
        return handle(self, event)

    monkeypatch.setattr(_yaml._Builder, "handle", counting)
    path = tmp_path / "bomb.yaml"
    text = billion_laughs(levels)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DefinitionError, match="te veel knopen"):
        load_definition(path)
    in_file = text.count("*") + text.count("&") + text.count("[") * 2 + 8
    assert 0 < handled[0] <= in_file


# deeper than Python's recursion limit: the parser's RecursionError becomes a DefinitionError
# (the scanner's work grows with the square of the depth, so the long form runs in the deep profile)
BRACKETS = examples(600, deep=5000)


def test_deep_nesting_is_refused() -> None:
    for text in ("[" * BRACKETS + "]" * BRACKETS, "a: " * 3000 + "b",
                 "id: x\nversion: '1'\nparams:\n  p: " + json.dumps(nested(300))):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "diep.yaml"
            path.write_text(text, encoding="utf-8")
            with pytest.raises(DefinitionError):
                load_definition(path)


def test_too_large_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "groot.yaml"
    path.write_text("id: x\nversion: '1'\ndescription: " + "x" * 2_100_000 + "\n", "utf-8")
    with pytest.raises(DefinitionError, match="te groot"):
        load_definition(path)


def test_extends_cycles_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("id: a\nversion: '1'\nextends: b.yaml\n", "utf-8")
    (tmp_path / "b.yaml").write_text("id: b\nversion: '1'\nextends: c.yaml\n", "utf-8")
    (tmp_path / "c.yaml").write_text("id: c\nversion: '1'\nextends: a.yaml\n", "utf-8")
    (tmp_path / "self.yaml").write_text("id: s\nversion: '1'\nextends: self.yaml\n", "utf-8")
    for name in ("a.yaml", "self.yaml"):
        with pytest.raises(DefinitionError, match="cyclus"):
            load_definition(tmp_path / name)


def test_long_extends_chain_is_refused(tmp_path: Path) -> None:
    for i in range(40):
        (tmp_path / f"d{i}.yaml").write_text(
            f"id: d{i}\nversion: '1'\nextends: d{i + 1}.yaml\n", "utf-8")
    (tmp_path / "d40.yaml").write_text("id: d40\nversion: '1'\nextends: basis\n", "utf-8")
    with pytest.raises(DefinitionError, match="te diep"):
        load_definition(tmp_path / "d0.yaml")


def test_extends_with_wrong_types_is_refused(tmp_path: Path) -> None:
    for value in ("[basis]", "{a: b}", "12", "''", "nergens", "/dev/null", str(tmp_path)):
        path = tmp_path / "x.yaml"
        path.write_text(f"id: x\nversion: '1'\nextends: {value}\n", "utf-8")
        with pytest.raises(DefinitionError):
            load_definition(path)


# crashes the fuzzer found (each raised a bare TypeError/ValueError before the fix)
FOUND = [
    # compare with an op that is a mapping: unhashable dict in the operator lookup
    """\
rules:
  - id: x.vergelijk
    severity: block
    on: afsluiten
    require: {compare: {path: facts.veiligheidsschaal, op: {a: b}, value: 1}}
    message: m
    source: s
""",
    # a list type with a min_items that is not a number
    """\
events:
  notitie:
    payload:
      tekst: {type: list, items: text, min_items: text}
""",
    """\
events:
  notitie:
    payload:
      tekst: {type: integer, min: [1], max: true}
""",
]


@pytest.mark.parametrize("extra", FOUND)
def test_crashes_found_by_fuzzing_are_definition_errors(tmp_path: Path, extra: str) -> None:
    path = tmp_path / "gevonden.yaml"
    path.write_text("id: gevonden\nversion: '1'\nextends: basis\n" + extra, "utf-8")
    with pytest.raises(DefinitionError) as info:
        load_definition(path)
    assert all(p.location.line > 0 for p in info.value.problems)


# ------------------------------------------------------------------ budgets while parsing

# text YAML can hold as it is (no control characters, surrogates or line separators)
YAML_TEXT = st.characters(blacklist_categories=("Cc", "Cs", "Co", "Cn", "Cf", "Zl", "Zp"))
JSON_TREES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**29, 10**29)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(YAML_TEXT, max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(YAML_TEXT, max_size=5),
                                                                 inner, max_size=4),
    max_leaves=30,
)


def node_count(tree: Any) -> int:
    if isinstance(tree, dict):
        return 1 + sum(1 + node_count(v) for v in tree.values())  # a key is a node too
    if isinstance(tree, list):
        return 1 + sum(node_count(v) for v in tree)
    return 1


@settings(max_examples=60, deadline=None)
@given(JSON_TREES)
def test_json_reads_back_as_itself_with_every_node_counted(tree: Any) -> None:
    from eengezin.definition._yaml import Locator, count_nodes, load_yaml

    # YAML escapes characters outside the BMP as \U0001xxxx, not as JSON's surrogate pairs
    for text in (json.dumps(tree, ensure_ascii=False),
                 json.dumps(tree, indent=2, ensure_ascii=False)):
        assert load_yaml(text, "t.yaml", Locator()) == tree
        assert count_nodes(text) == node_count(tree)


@settings(max_examples=60, deadline=None)
@given(JSON_TREES, st.integers(1, 40))
def test_the_node_budget_refuses_exactly_the_trees_over_it(tree: Any, budget: int) -> None:
    from eengezin.definition._yaml import Locator, load_yaml

    text = json.dumps(tree, ensure_ascii=False)
    if node_count(tree) > budget:
        with pytest.raises(DefinitionError, match="te veel knopen"):
            load_yaml(text, "t.yaml", Locator(), max_nodes=budget)
    else:
        assert load_yaml(text, "t.yaml", Locator(), max_nodes=budget) == tree


PLAIN_SCALARS = {
    "yes": "yes", "no": "no", "on": "on", "~": None, "null": None, "True": True, "0x1F": 31,
    "0o17": 15, "1_000": 1000, "-12": -12, "+3": 3, "1.5e3": 1500.0, ".5": 0.5,
    "2026-03-02": "2026-03-02", "12:30": "12:30", "1.2.3": "1.2.3", "-1-": "-1-", "+": "+",
    ".": ".", "0b101": 5, "9" * 30: int("9" * 30), "_": "_",
}


@pytest.mark.parametrize(("text", "value"), sorted(PLAIN_SCALARS.items(), key=str))
def test_plain_scalars_resolve_as_yaml_1_2(text: str, value: Any) -> None:
    from eengezin.definition._yaml import Locator, load_yaml

    assert load_yaml(f"a: {text}\n", "t.yaml", Locator()) == {"a": value}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([
    "9" * 31, "-" + "9" * 40, ".inf", "-.Inf", ".NaN", "1e400", "!!int 3", "!!str x", "&a 1",
    "*a", "*b", "<<", "[*a]", "{<<: *a}", "'\\x00'", '"\\ud800"', "? [x]", "0x" + "f" * 40,
]), min_size=1, max_size=4))
def test_odd_scalars_only_raise_located_definition_errors(values: list[str]) -> None:
    text = "id: x\nversion: '1'\n" + "".join(f"k{i}: {v}\n" for i, v in enumerate(values))
    try:
        load_text(text)
    except AssertionError:
        raise
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "odd.yaml"
        path.write_text(text, "utf-8")
        with pytest.raises(DefinitionError) as info:
            load_definition(path)
        assert all(p.location.line >= 1 for p in info.value.problems)
