"""Reading JSON from outside (events files, payloads, serialized trajecten), safely.

:func:`loads` refuses, with an :class:`~eengezin.errors.InputError` and never another
exception: nesting deeper than ``max_depth`` (checked before parsing, so nothing
recurses), ``NaN`` and ``Infinity``, integers of more than :data:`MAX_DIGITS` digits,
text with lone surrogates, and bytes that are not UTF-8. :func:`decode_line` turns one
line of a file into text with a located error. Messages name what is wrong, never the
content.

>>> loads('{"a": [1, 2.5, "x"]}')
{'a': [1, 2.5, 'x']}
>>> loads("[" * 100 + "]" * 100)
Traceback (most recent call last):
...
eengezin.errors.InputError: JSON is te diep genest (hoogstens 64 niveaus)
"""

from __future__ import annotations

import json
import re
from typing import Any

from .errors import InputError

MAX_DEPTH = 64
"""Default bound on nesting (objects and lists) for JSON read from outside."""
MAX_DIGITS = 30
"""Integers with more digits are refused (Python would spend quadratic time on them)."""

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_BRACKETS = re.compile(r"[\[\]{}]")


def depth(text: str) -> int:
    """How deep the objects and lists in JSON ``text`` nest (strings are skipped).

    >>> depth('{"a": [[1], "]]]"]}')
    3
    """
    if text.count("[") + text.count("{") <= 1:
        return 1 if ("[" in text or "{" in text) else 0
    deepest = level = 0
    for match in _BRACKETS.finditer(_STRING.sub("", text)):
        if match.group() in "[{":
            level += 1
            deepest = max(deepest, level)
        else:
            level -= 1
    return deepest


def _no_constant(name: str) -> Any:
    raise InputError("JSON bevat NaN of Infinity: alleen eindige getallen zijn toegestaan")


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise InputError(f"JSON bevat een getal van meer dan {MAX_DIGITS} cijfers")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise InputError("JSON bevat een getal dat te groot is")
    return value


_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_int=_int, parse_float=_float)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON ``text`` within the bounds above; raise :class:`InputError`."""
    decoded = not isinstance(text, str)
    if not isinstance(text, str):
        text = decode_line(bytes(text))
    # cheap bounds first: nesting can only exceed max_depth with that many brackets
    if text.count("[") + text.count("{") > max_depth and depth(text) > max_depth:
        raise InputError(f"JSON is te diep genest (hoogstens {max_depth} niveaus)")
    try:
        value = _DECODER.decode(text)
    except InputError:
        raise
    except RecursionError:  # pragma: no cover - depth is checked first
        raise InputError(f"JSON is te diep genest (hoogstens {max_depth} niveaus)") from None
    except ValueError as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "ongeldige waarde"
        where = (f" (kolom {exc.colno})" if isinstance(exc, json.JSONDecodeError) else "")
        raise InputError(f"ongeldige JSON{where}: {reason}") from None
    # a lone surrogate comes from a \\uD800-style escape, or from text that was never UTF-8
    if _SURROGATE_ESCAPE.search(text) is not None:
        check_unicode(value)
    elif not decoded:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise InputError("JSON bevat tekens die geen geldige Unicode zijn (losse surrogaten)"
                             ) from None
    return value


def check_unicode(value: Any) -> None:
    """Raise :class:`InputError` when text in ``value`` holds lone surrogates (it could not
    be stored as UTF-8)."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise InputError("JSON bevat tekens die geen geldige Unicode zijn (losse surrogaten)"
                         ) from None
    except (ValueError, TypeError, RecursionError):
        raise InputError("gegevens zijn geen geldige JSON") from None


def decode_line(data: bytes) -> str:
    """``data`` as UTF-8 text; :class:`InputError` names the column of the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"geen geldige UTF-8 (byte {exc.start + 1})") from None
