"""Quantile sketches against numpy on the values themselves: bit for bit up to EXACT values per group, within the
documented 2**-8 (relative to the two order statistics around the quantile) beyond; merges that do not depend on
how the values were split."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalematch.dataset import sketch
from scalematch.dataset.stats import QUANTILES

Q = np.array([0.0, *(q for _, q in QUANTILES), 1.0])
FIELDS = ("count", "key", "lo", "hi", "counts", "exact_group", "exact")
SPECIAL = [0.0, -0.0, 0.1, 1.0, 2.5, 1e300, -1e300, np.inf, -np.inf, np.nan, 5e-324, -3.0]


def _bits(x: np.ndarray) -> np.ndarray:
    """Bit patterns, every NaN as one and -0.0 as 0.0 (numpy's own order of equal zeros depends on its sort)."""
    out = np.asarray(x, dtype=np.float64).copy()
    out[np.isnan(out)] = np.nan
    out[out == 0] = 0.0
    bits: np.ndarray = out.view(np.uint64)
    return bits


def _rows(s: sketch.Sketch) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # inf - inf, as numpy's own
        return sketch.quantile_rows(s, Q)


def _numpy(values: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want: np.ndarray = np.quantile(values, Q)
    return want


@settings(max_examples=300, deadline=None)
@given(
    groups=st.lists(
        st.lists(st.one_of(st.sampled_from(SPECIAL), st.floats(-1e6, 1e6), st.integers(0, 3).map(float)), max_size=12),
        min_size=1,
        max_size=5,
    )
)
def test_small_groups_give_numpys_quantiles_bit_for_bit(groups: list[list[float]]) -> None:
    values = np.array([v for g in groups for v in g], dtype=np.float64)
    group = np.array([k for k, g in enumerate(groups) for _ in g], dtype=np.int64)
    mixed = np.random.default_rng(len(values)).permutation(len(values))  # the groups' values interleaved
    rows = _rows(sketch.of(values[mixed], group[mixed], len(groups)))
    for g, row in zip(groups, rows, strict=True):
        if g:
            assert (_bits(row) == _bits(_numpy(np.array(g)))).all(), g
        else:
            assert np.isnan(row).all()


@pytest.mark.parametrize("seed", range(6))
def test_large_groups_are_within_the_bins_width(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(sketch.EXACT + 1, 60_000))
    kind = seed % 3
    if kind == 0:
        values = rng.lognormal(3.0, 1.2, n)
    elif kind == 1:
        values = np.round(rng.uniform(1, 1333, n), 2)  # many ties
    else:
        values = np.concatenate([rng.normal(0, 50, n - 10), [1e-30, -1e30, 7.0, 7.0, 7.0, 0.0, -0.0, 3e8, 2.0, 1.0]])
    got = _rows(sketch.of(values))[0]
    exact = np.sort(values)
    steps = (n - 1) * Q
    below, above = exact[np.floor(steps).astype(int)], exact[np.ceil(steps).astype(int)]
    bound = 2.0**-sketch.BITS * np.maximum(np.abs(below), np.abs(above))
    assert (np.abs(got - np.quantile(values, Q)) <= bound).all()
    assert got[0] == exact[0] and got[-1] == exact[-1]  # min and max exact


def test_a_nan_in_a_large_group_makes_its_row_nan_as_numpy() -> None:
    values = np.r_[np.arange(1.0, sketch.EXACT + 10.0), np.nan]
    assert np.isnan(_rows(sketch.of(values))[0]).all()
    assert np.isnan(_numpy(values)).all()


@pytest.mark.parametrize("seed", range(4))
def test_merges_do_not_depend_on_how_values_were_split(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 30_000
    values = np.round(rng.lognormal(3, 1, n), 1 + seed)
    group = rng.integers(0, 7, n) ** 2  # groups of all sizes, most below EXACT, some above
    group = np.minimum(group, 6)
    whole = sketch.of(values, group, 7)
    cuts = np.sort(rng.integers(0, n, 5))
    parts = [sketch.of(v, g, 7) for v, g in zip(np.split(values, cuts), np.split(group, cuts), strict=True)]
    order = rng.permutation(len(parts))
    merged = sketch.merge([parts[k] for k in order])
    added = sketch.empty(7)
    for v, g in zip(np.split(values, cuts), np.split(group, cuts), strict=True):
        added = sketch.add(added, v, g)
    for s in (merged, added):
        assert all((np.sort(getattr(s, f)) == np.sort(getattr(whole, f))).all() for f in FIELDS[-2:])
        assert all((getattr(s, f) == getattr(whole, f)).all() for f in FIELDS[:-2])
        assert (_bits(_rows(s)) == _bits(_rows(whole))).all()


def test_regrouping_equals_the_sketch_of_the_regrouped_values() -> None:
    rng = np.random.default_rng(3)
    values, group = rng.lognormal(2, 1, 20_000), rng.integers(0, 5, 20_000)
    into = np.array([0, 1, 0, 2, 1])
    got = sketch.of(values, group, 5).regrouped(into, 3)
    want = sketch.of(values, into[group], 3)
    assert (_bits(_rows(got)) == _bits(_rows(want))).all()
    assert (got.count == np.bincount(into[group], minlength=3)).all()


def test_memory_is_bounded_whatever_the_number_of_values() -> None:
    rng = np.random.default_rng(5)
    s = sketch.empty(1)
    for _ in range(20):
        s = sketch.add(s, rng.uniform(1, 1333, 50_000))
    octaves = int(np.ceil(np.log2(1333))) + 1
    assert len(s.key) <= octaves << sketch.BITS  # bins of 2**-8 of an octave over the values' range
    assert len(s.exact) == 0 and int(s.count[0]) == 1_000_000


@settings(max_examples=200, deadline=None)
@given(
    pieces=st.lists(
        st.lists(st.tuples(st.one_of(st.sampled_from(SPECIAL), st.floats(-1e3, 1e3)), st.integers(0, 2)), max_size=30),
        min_size=1,
        max_size=6,
    )
)
def test_adding_piece_by_piece_updates_the_bins_as_one_sketch_of_all(pieces: list[list[tuple[float, int]]]) -> None:
    # pieces that fall in bins the sketch has (updated in place) and in new ones (inserted), specials included;
    # each value 2,000 times, so that some groups go beyond EXACT (bins only)
    arrays = [
        (np.tile(np.array([x for x, _ in p], dtype=np.float64), 2000), np.tile(np.array([k for _, k in p]), 2000))
        for p in pieces
    ]
    added = sketch.empty(3)
    for v, g in arrays:
        added = sketch.add(added, v, g.astype(np.int64))
    whole = sketch.of(
        np.concatenate([v for v, _ in arrays]), np.concatenate([g for _, g in arrays]).astype(np.int64), 3
    )
    assert (added.count == whole.count).all() and (added.key == whole.key).all()
    assert (added.counts == whole.counts).all()
    assert (_bits(added.lo) == _bits(whole.lo)).all() and (_bits(added.hi) == _bits(whole.hi)).all()
    assert (_bits(_rows(added)) == _bits(_rows(whole))).all()
