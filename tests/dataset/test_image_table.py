"""The compact image table behaves as the dict it replaces (order, lookups, names with any code point), checked
against a dict fed the same images."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalematch.dataset.images import ImageTable, columns, lookup, names

IDS = st.integers(-(1 << 63), (1 << 63) - 1) | st.integers(-3, 50)
NAMES = st.text(st.characters(codec=None, exclude_categories=()), max_size=6)  # surrogates included


@settings(max_examples=200, deadline=None)
@given(pieces=st.lists(st.lists(st.tuples(IDS, NAMES, st.floats(allow_nan=True), st.floats()), max_size=7), max_size=9),
       probes=st.lists(IDS, max_size=10))  # fmt: skip
def test_same_as_a_dict(pieces: list[list[tuple[int, str, float, float]]], probes: list[int]) -> None:
    table, plain = ImageTable(), dict[int, tuple[str, float, float]]()
    nameless = ImageTable(names=False)
    for piece in pieces:
        fresh = [p for p in dict((p[0], p) for p in piece).values() if p[0] not in plain]
        assert table.any_of([p[0] for p in piece]) == any(p[0] in plain for p in piece)
        nameless.extend([p[0] for p in fresh], [p[1] for p in fresh], [p[2] for p in fresh], [p[3] for p in fresh])
        if len(fresh) % 2:
            table.extend([p[0] for p in fresh], [p[1] for p in fresh], [p[2] for p in fresh], [p[3] for p in fresh])
        else:
            for p in fresh:
                table[p[0]] = (p[1], p[2], p[3])
        plain.update((p[0], (p[1], p[2], p[3])) for p in fresh)
    assert list(table) == list(plain) and len(table) == len(plain)
    assert names(table) == names(plain)
    assert names(nameless) == [""] * len(plain) and list(nameless) == list(plain)
    assert all(nameless[k][0] == "" and np.array_equal(nameless[k][1:], table[k][1:], equal_nan=True) for k in plain)
    for key in [*plain, *probes, "1", 1.5, 1 << 64]:
        assert (key in table) == (key in plain)
        got, want = table.get(key), plain.get(key)  # type: ignore[call-overload]
        assert (got is None) == (want is None)
        if got is not None and want is not None:
            assert got[0] == want[0] and np.array_equal(got[1:], want[1:], equal_nan=True)
    for a, b in zip(columns(table), columns(plain), strict=True):
        assert np.array_equal(a, b, equal_nan=True)
    _check_lookup(nameless, plain, probes)


def _check_lookup(table: ImageTable, plain: dict[int, tuple[str, float, float]], probes: list[int]) -> None:
    """After :func:`lookup` (which releases the table's ids column), the index is the dict's ids sorted with their
    places, and the table still reads as the dict; it refuses to grow."""
    ids, places, w, h = lookup(table)
    order = list(plain)
    assert ids.tolist() == sorted(plain) and [order[p] for p in places.tolist()] == ids.tolist()
    assert np.array_equal(w, [v[1] for v in plain.values()], equal_nan=True)
    assert np.array_equal(h, [v[2] for v in plain.values()], equal_nan=True)
    assert len(table) == len(plain) and list(table) == order
    assert np.array_equal(columns(table)[0], np.array(order, dtype=np.int64))
    for key in [*plain, *probes]:
        assert (key in table) == (key in plain)
        if key in plain:
            assert np.array_equal(table[key][1:], plain[key][1:], equal_nan=True)
    with pytest.raises(TypeError, match="does not grow"):
        table.extend([1 << 62], [""], [1.0], [1.0])
