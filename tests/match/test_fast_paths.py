"""Shortcuts of the simulation's bookkeeping against the plain numpy or pandas call they stand for."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from scalematch.match.assign import Simulation
from scalematch.match.assign._grid import expand
from scalematch.match.assign.points import _inside_span
from scalematch.match.geometry import distinct_sizes
from scalematch.match.levels import Level
from scalematch.match.positives import COUNT_BINS, SIZE_BINS, _median, main_level, summarize
from scalematch.match.result import rows_at
from scalematch.presets import load_preset

sides = st.sampled_from([0, 1, 2, 7, 640, 1333, 2**31, 2**40])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(sides, sides), max_size=40))
def test_distinct_sizes_equal_unique_along_axis_0(pairs: list[tuple[int, int]]) -> None:
    """One integer per pair where the sizes allow, the pairs themselves beyond: both as np.unique(axis=0)."""
    height = np.array([h for h, _ in pairs], np.int64)
    width = np.array([w for _, w in pairs], np.int64)
    got, inverse = distinct_sizes(height, width)
    expected, expected_inverse = np.unique(np.stack([height, width], axis=1), axis=0, return_inverse=True)
    assert got.dtype == np.int64
    assert got.tolist() == expected.tolist()
    assert inverse.tolist() == expected_inverse.reshape(-1).tolist()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 50) | st.sampled_from([10**6]), min_size=1, max_size=60))
def test_median_of_a_tally_equals_np_median(values: list[int]) -> None:
    got = _median(np.bincount(np.array(values, np.int64)))
    assert type(got) is float
    assert got == float(np.median(values))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.booleans(), max_size=30), st.booleans())
def test_rows_at_equals_a_boolean_mask(mask: list[bool], shuffled: bool) -> None:
    n = len(mask)
    index = pd.Index(np.arange(n)[::-1] * 3 if shuffled else np.arange(n))
    table = pd.DataFrame(
        {"x": np.arange(n, dtype=np.float64), "category": pd.Categorical([f"c{i % 3}" for i in range(n)])},
        index=index,
    )
    keep = np.array(mask, dtype=bool)
    pd.testing.assert_frame_equal(rows_at(table, keep), table[keep], check_exact=True)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(-5, 40), st.integers(-3, 6) | st.integers(7, 20)), max_size=30))
def test_expand_lists_every_member_of_every_range(ranges: list[tuple[int, int]]) -> None:
    """Empty ranges (hi < lo) anywhere, first and last included, contribute nothing; short ranges and long ones
    (owners found two ways)."""
    lo = np.array([a for a, _ in ranges], np.int64)
    hi = np.array([a + d for a, d in ranges], np.int64)
    owner, value = expand(lo, hi)
    expected = [(r, v) for r, (a, d) in enumerate(ranges) for v in range(a, a + d + 1)]
    assert owner.dtype == value.dtype == np.int64
    assert list(zip(owner.tolist(), value.tolist(), strict=True)) == expected


coords = st.floats(-1e4, 1e6, allow_nan=False, width=32)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(coords, coords, st.sampled_from([0.5, 3.0, 8.0, 32.0]), st.integers(1, 400)), max_size=30),
    st.sampled_from([0.0, 0.5]),
)
def test_inside_span_counts_every_candidate_point(boxes: list[tuple[float, float, float, int]], offset: float) -> None:
    """The points inside a box found from the ends of their range, as testing every candidate point finds them:
    (i + offset) * stride in float32, i from one index before the box's start to one after its end (within the
    grid), inside by more than 1e-9 on both sides."""
    f32 = np.float32
    lo = np.array([min(a, b) for a, b, _, _ in boxes], f32)
    hi = np.array([max(a, b) for a, b, _, _ in boxes], f32)
    stride = np.array([s for _, _, s, _ in boxes], np.float64)
    n = np.array([k for _, _, _, k in boxes], np.int64)
    expected = []
    for j in range(len(boxes)):
        first = max(int(np.floor(lo[j] / stride[j] - offset)) - 1, 0)
        last = min(int(np.ceil(hi[j] / stride[j] - offset)) + 1, int(n[j]) - 1)
        p = (np.arange(first, last + 1).astype(f32) + f32(offset)) * f32(stride[j])
        expected.append(int(np.count_nonzero((p - lo[j] > f32(1e-9)) & (hi[j] - p > f32(1e-9)))))
    got = _inside_span(lo, hi, stride, n, offset)
    assert got.dtype == np.int64
    assert got.tolist() == expected


_PRESETS = {name: load_preset(name) for name in ("retinanet", "yolov8")}


def _brute_summary(sim: Simulation, levels: dict[str, float]) -> tuple[object, ...]:
    """What summarize reports, computed one bin and one level at a time with masks and np.median, and each
    object's main level by a plain loop."""
    total = sim.positives
    counts = [int(((total >= lo) & (total <= hi)).sum()) for _, lo, hi in COUNT_BINS]
    size = np.sqrt(sim.w_in * sim.h_in)
    sizes = []
    for lo, hi in itertools.pairwise(SIZE_BINS):
        inside = total[(size >= lo) & (size < hi)]
        sizes.append((len(inside), float(np.median(inside)) if len(inside) else None, int((inside == 0).sum())))
    main = np.full(len(total), -1)
    for i, counts_i in enumerate(sim.per_level.tolist()):
        if not sim.upper_bound and max(counts_i, default=0) > 0:
            main[i] = counts_i.index(max(counts_i))  # the finest level among those holding the most
    longer = np.maximum(sim.w_in, sim.h_in)
    rows = []
    for k, name in enumerate(sim.levels):
        mine = main == k
        larger = int((longer[mine] > levels[name]).sum()) if name in levels else 0
        rows.append((int(mine.sum()), int(sim.per_level[:, k].sum()), larger))
    return counts, sizes, rows, main.tolist()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.integers(0, 3) | st.integers(0, 40), min_size=5, max_size=5),
            st.sampled_from([0.0, 3.0, 16.0, 31.9, 64.0, 255.0, 256.0, 1e4, np.inf, np.nan]),
            st.sampled_from([0.5, 16.0, 100.0, 300.0, np.nan]),
        ),
        max_size=40,
    ),
    st.booleans(),
    st.sets(st.sampled_from(["P3", "P4", "P5", "P6", "P7"])),
)
def test_summarize_equals_masks_medians_and_argmax(
    objects: list[tuple[list[int], float, float]], upper: bool, known: set[str]
) -> None:  # fmt: skip
    """summarize (the medians from tallies of the counts, no sort) against a mask per bin and per level and
    np.median; main_level against a loop over the objects (the finest level on ties, none without a positive or
    for an upper bound). Sizes include 0, bucket edges, inf and NaN (in no bucket)."""
    preset = _PRESETS["yolov8" if upper else "retinanet"]  # (yolov8's per-level counts are an upper bound)
    n = len(objects)
    per_level = np.array([p[: len(preset.levels)] for p, _, _ in objects], np.int64).reshape(n, len(preset.levels))
    w = np.array([a for _, a, _ in objects], np.float64)
    h = np.array([b for _, _, b in objects], np.float64)
    sim = Simulation(
        preset, preset.levels, pd.DataFrame(index=range(n)), per_level, per_level.sum(axis=1), np.zeros(n), w, h,
        np.zeros(n, np.int8), np.zeros(n, np.int64),
    )  # fmt: skip
    rf = {"P3": 99.0, "P4": 250.0, "P5": 500.0, "P6": 1000.0, "P7": 2000.0}
    levels = tuple(Level(name, 8.0 * 2**k, rf[name], 1.0, 1.0) for k, name in enumerate(preset.levels) if name in known)
    got = summarize(sim, levels)
    counts, sizes, rows, main = _brute_summary(sim, {lv.name: lv.rf for lv in levels})
    assert [c for _, c in got.counts] == counts
    assert [(r.objects, r.median, r.none) for r in got.sizes] == sizes
    assert [(r.objects, r.positives, r.larger_than_rf) for r in got.levels] == rows
    assert main_level(sim).tolist() == main
