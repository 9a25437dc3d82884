"""The checker's fixed choices: the moment it starts at, and the bounds of its search."""

from __future__ import annotations

from datetime import datetime

AT = datetime(2026, 3, 2, 9, 0)
"""The moment the first event happens; later events happen at the same moment until the
checker lets a deadline run out (see :mod:`eengezin.checker.explore`)."""
TODAY = AT.date()

MAX_STATES = 6_000_000
"""The default budget of abstract states of a whole check: enough for every bundled
definition, also searched without the reductions (zuid-limburg has about 28,000 with
them and 5.1 million without, in ten parts of at most 600,000: about 1.3 GB for the largest,
and 7 minutes of CPU). ``eengezin check --max-states`` sets another."""
MAX_VARIANTS = 48
"""At most this many representative payloads per event and traject."""
MAX_KNOWN_IDS = 8
"""At most this many ids from the facts are offered to payload fields that refer to them."""
SHOWN_DEAD_ENDS = 3
ACTOR_ID = "controle"
MASKED = -1
"""A fact's number in an abstract state where nothing can read it any more."""
RAW = "\x00raw"
"""In a trie: this value is compared with another path, keep it as it is."""
WHOLE = "\x00whole"
"""In a trie: this value is read as it is (present or not, empty or not, how long)."""
LITERALS = "\x00literals"
"""In a trie: this value is read only as equal to one of the text literals next to it or to
none of them (``equals``, ``one_of``), so every other value, absent or not, reads alike."""
MEMBERS = "\x00members"
"""In a trie: this value is read only as a collection in which values are looked up
(``contains``), so everything that holds nothing (absent, empty, no collection) reads alike."""
REF = "\x00ref"
"""In a trie, followed by a group number: the texts at this path are references (ids) that
conditions compare with texts at other paths of the same group (see :mod:`.reads`); the
abstract state keeps which of them occur elsewhere in the group, not the texts."""
TEXT = "tekst"
"""The plain text the representative payloads fill a text field with when nothing asks for
another value; at a reference path it names nothing, and it is kept as it is (like a
literal), since a payload may hold it too."""
