"""JSON text: ``canonical`` (what hashes are taken over), and text exactly as
``json.dump(value, handle, indent=2, ensure_ascii=False, allow_nan=False)`` writes
it, in about a third of the time.

With an indent, the standard library encodes in Python, one generator step a value
(its C encoder takes no indent): recommendations.json took 0.8 CPU s at 10,000
people, in the run's process while the brief workers want both cores. Here each
container is one string built by ``join``, strings are escaped by json's own C
function and numbers written by the same ``repr`` json uses; keys, subclasses and
errors follow json's rules. A big container (the top level, and any holding more than
``_STREAMED`` items) is written an item at a time, so a 100,000-person document is
never one string. ``tests/test_jsontext.py`` compares the text with json's.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from json.encoder import encode_basestring
from typing import IO, Any

_STREAMED = 64  # a container with more items is written an item at a time
_NEWLINES = ["\n" + "  " * level for level in range(64)]
_DEFAULT = json.JSONEncoder().default  # raises json's TypeError for what is not JSON


def plain_json(value: object) -> object:
    """``json.dumps``' default for what the record holds: dates as ISO, tuples and sets
    as lists."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"not JSON data: {type(value).__name__}")


# json.dumps with these arguments, without making an encoder each call (a few
# microseconds, for values that often take less to encode).
_CANONICAL = json.JSONEncoder(
    sort_keys=True,
    ensure_ascii=False,
    separators=(",", ":"),
    default=plain_json,
    allow_nan=False,  # strict JSON: NaN and Infinity are not JSON, parsers refuse them
).encode


def canonical(data: object) -> str:
    """The one text of a JSON value that hashes are taken over: keys sorted, no
    spaces, UTF-8 characters as themselves (``ensure_ascii=False``), dates ISO."""
    return _CANONICAL(data)


def strings_text(items: Sequence[str], strict: bool = False) -> str:
    """``canonical`` of a list of texts, without an encoder's set-up for each (json's
    own escaping function); ``strict``: raise TypeError if an item is not text rather
    than encode it as ``canonical`` does (a memo keyed by items must not take 1 for True)."""
    if not items:
        return "[]"
    try:
        return "[" + ",".join([encode_basestring(item) for item in items]) + "]"
    except TypeError:  # not all texts (json's own function takes only text)
        if strict:
            raise
        return canonical(items)


def dump(value: Any, handle: IO[str]) -> None:
    """Write ``value`` as json.dump(indent=2, ensure_ascii=False, allow_nan=False)."""
    write = handle.write
    for chunk in _chunks(value, 0):
        write(chunk)


def dumps(value: Any) -> str:
    """``value`` as json.dumps(indent=2, ensure_ascii=False, allow_nan=False)."""
    return "".join(_chunks(value, 0))


def _newline(level: int) -> str:
    return "\n" + "  " * level


def _chunks(value: Any, level: int) -> Iterator[str]:
    if not isinstance(value, dict | list | tuple) or not value or (level and _small(value)):
        yield _text(value, level)
        return
    keyed = isinstance(value, dict)
    inner = _newline(level + 1)
    run = ["{" if keyed else "["]  # small items, written _STREAMED at a time
    separator = inner  # before the first item, the line break alone
    entry: Any
    for entry in value.items() if isinstance(value, dict) else value:
        head = separator
        separator = "," + inner
        if keyed:
            key, entry = entry
            head += (encode_basestring(key) if type(key) is str else _key(key)) + ": "
        if type(entry) is str:
            run.append(head + encode_basestring(entry))
            if len(run) >= _STREAMED:
                yield "".join(run)
                run = []
        elif _small(entry):
            run.append(head + _text(entry, level + 1))
            if len(run) >= _STREAMED:
                yield "".join(run)
                run = []
        else:
            run.append(head)
            yield "".join(run)
            run = []
            yield from _chunks(entry, level + 1)
    run.append(_newline(level) + ("}" if keyed else "]"))
    yield "".join(run)


def _small(value: Any) -> bool:
    """Written as one string: not a container, or one of at most _STREAMED items."""
    return not isinstance(value, dict | list | tuple) or len(value) <= _STREAMED


def _float(value: float) -> str:
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("Out of range float values are not JSON compliant: " + repr(value))
    return float.__repr__(value)


def _key(key: Any) -> str:
    """A dict key as json writes it: text as it is, numbers, booleans and None as
    their JSON text, quoted."""
    if isinstance(key, str):
        return encode_basestring(key)
    if isinstance(key, float):
        return encode_basestring(_float(key))
    if key is True:
        return '"true"'
    if key is False:
        return '"false"'
    if key is None:
        return '"null"'
    if isinstance(key, int):
        return encode_basestring(int.__repr__(key))
    raise TypeError(f"keys must be str, int, float, bool or None, not {key.__class__.__name__}")


def _text(value: Any, level: int) -> str:
    kind = type(value)
    if kind is str:
        return encode_basestring(value)
    if kind is dict:
        return _object(value, level)
    if kind is list or kind is tuple:
        return _array(value, level)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is int:
        return int.__repr__(value)
    if kind is float:
        return _float(value)
    # Subclasses, in the order json's encoder tries the types.
    if isinstance(value, str):
        return encode_basestring(value)
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, list | tuple):
        return _array(value, level)
    if isinstance(value, dict):
        return _object(value, level)
    return _text(_DEFAULT(value), level)  # raises TypeError, as json does


def _array(value: list[Any] | tuple[Any, ...], level: int) -> str:
    if not value:
        return "[]"
    deeper = level + 1
    try:
        inner, outer = _NEWLINES[deeper], _NEWLINES[level]
    except IndexError:
        inner, outer = _newline(deeper), _newline(level)
    separator = "," + inner
    kind = type(value)
    # Most arrays are of texts: escaped at C speed (a subclass may iterate otherwise).
    if (kind is list or kind is tuple) and type(value[0]) is str:
        try:
            return "[" + inner + separator.join(map(encode_basestring, value)) + outer + "]"
        except TypeError:  # not all texts (json's own function takes only text)
            pass
    return (
        "["
        + inner
        + separator.join(
            [
                encode_basestring(v)
                if type(v) is str
                else _array(v, deeper)
                if type(v) is list
                else _object(v, deeper)
                if type(v) is dict
                else _text(v, deeper)
                for v in value
            ]
        )
        + outer
        + "]"
    )


def _object(value: dict[Any, Any], level: int) -> str:
    if not value:
        return "{}"
    deeper = level + 1
    try:
        inner, outer = _NEWLINES[deeper], _NEWLINES[level]
    except IndexError:
        inner, outer = _newline(deeper), _newline(level)
    return (
        "{"
        + inner
        + ("," + inner).join(
            [
                (encode_basestring(k) if type(k) is str else _key(k))
                + ": "
                + (
                    encode_basestring(v)
                    if type(v) is str
                    else _array(v, deeper)
                    if type(v) is list
                    else _object(v, deeper)
                    if type(v) is dict
                    else _text(v, deeper)
                )
                for k, v in value.items()
            ]
        )
        + outer
        + "}"
    )
