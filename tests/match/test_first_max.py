"""first_max (per key, the first entry with the largest value) against a plain loop."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scalematch.match.assign.maxiou import first_max, winners


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.sampled_from([0.0, 0.25, 0.5, 1.0])), max_size=80))
def test_first_max_equals_a_loop(entries: list[tuple[int, float]]) -> None:
    key = np.array([k for k, _ in entries], np.int64)
    value = np.array([v for _, v in entries], np.float32)
    expected: dict[int, int] = {}
    for i, (k, v) in enumerate(entries):
        if k not in expected or v > entries[expected[k]][1]:
            expected[k] = i
    got = first_max(key, value)
    assert sorted(got.tolist()) == sorted(expected.values())


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 12), st.sampled_from([0.0, 0.5, 1.0])), min_size=1, max_size=60),
    st.sampled_from([1, 10**6, 2**40, 2**59]),
)
def test_winners_align_with_distinct_keys(entries: list[tuple[int, float]], spread: int) -> None:
    """Keys far apart (beyond what shares an integer with the positions) take the argsort path; both give the
    winners in ascending key order, each beside its key."""
    key = np.array([k * spread - 2**62 for k, _ in entries], np.int64)
    value = np.array([v for _, v in entries], np.float32)
    idx, distinct = winners(key, value)
    assert distinct.tolist() == sorted(set(key.tolist()))
    assert key[idx].tolist() == distinct.tolist()
    for i, k in zip(idx.tolist(), distinct.tolist(), strict=True):
        group = [j for j in range(len(key)) if key[j] == k]
        top = max(value[j] for j in group)
        assert i == next(j for j in group if value[j] == top)
