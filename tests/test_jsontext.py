"""talentrules.jsontext writes json.dump(indent=2, ensure_ascii=False, allow_nan=False)'s
exact text: recommendations.json and manifest.json are made with it."""

from __future__ import annotations

import enum
import io
import json
import math
from collections import OrderedDict
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from talentrules import jsontext


def reference(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False)


def written(value: Any) -> str:
    handle = io.StringIO()
    jsontext.dump(value, handle)
    return handle.getvalue()


class Level(enum.IntEnum):
    HIGH = 3


class Text(str):
    pass


class Number(float):
    pass


class Lazy(list[Any]):
    """A list made as it is iterated (as report/data.py's people): json asks its length."""

    def __init__(self, items: list[Any]) -> None:
        super().__init__()
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Any:
        return iter(list(self.items))


scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.sampled_from(["", '"', "\\", "\n\t\r\x00\x1f\x7f", "é€😀\u2028\ud800", "</script>"])
)
keys = st.text() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.booleans()
documents = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=80)
        | st.lists(inner, max_size=5).map(tuple)
        | st.dictionaries(keys, inner, max_size=80)
        | st.lists(inner, max_size=70).map(Lazy)
    ),
    max_leaves=400,
)


@settings(max_examples=300, deadline=None)
@given(documents)
def test_the_text_is_json_dumps_text(value: Any) -> None:
    assert written(value) == reference(value)
    assert jsontext.dumps(value) == reference(value)


def test_keys_subclasses_and_depth_as_json_writes_them() -> None:
    value = {
        "people": Lazy([{"id": Text("a"), "level": Level.HIGH, "score": Number(0.1)}] * 200),
        "none": None,
        1: [True, False, None, 1e-05, 1e300, -0.0, 2**70],
        2.5: {True: 1, False: 2, None: 3},
        "ordered": OrderedDict([("b", 1), ("a", [])]),
        "empty": [{}, [], (), Lazy([])],
        "many": {str(i): i for i in range(300)},
        "deep": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
    }
    nested: Any = "bottom"
    for level in range(100):  # deeper than the prepared indents
        nested = [nested] if level % 2 else {"k": nested}
    value["deeper"] = nested
    assert written(value) == reference(value)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_out_of_range_floats_are_refused_as_json_refuses_them(bad: float) -> None:
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        written({"x": [bad]})
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        written({bad: 1})


@pytest.mark.parametrize("bad", [{"x": {1, 2}}, {"x": [object()]}, {(1, 2): "tuple key"}])
def test_what_is_not_json_is_refused_as_json_refuses_it(bad: Any) -> None:
    with pytest.raises(TypeError) as expected:
        reference(bad)
    with pytest.raises(TypeError) as ours:
        written(bad)
    assert str(ours.value) == str(expected.value)


def test_arrays_of_texts_and_texts_then_others_as_json_writes_them() -> None:
    # An array whose first item is text is escaped at C speed when all its items are
    # text; the others (a number, None, a container after it) the long way.
    value = {
        "texts": ["a", "é\n", Text("sub"), "</script>"],
        "tuple": ("x", "y"),
        "then a number": ["a", 1],
        "then none": ["a", None, "b"],
        "then a list": ["a", ["b"], {"c": ["d"]}],
        "lazy texts": Lazy(["a", "b"]),
        "nested": [["a", "b"], [], [["c"]]],
    }
    assert written(value) == reference(value)
    assert jsontext.dumps(value) == reference(value)
