"""first_max (per key, the first entry with the largest value) against a plain loop."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scalematch.match.assign.maxiou import first_max


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
