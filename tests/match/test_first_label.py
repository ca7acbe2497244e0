"""Of identical objects of an image (same class, same float32 label; -0.0 equal to 0.0, as numpy compares rows),
the first in file order is the one the YOLO toolkits train on: the fingerprinted check against a plain loop."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scalematch.match.geometry import _first_label

VALUES = np.array([0.0, -0.0, 0.5, 0.25, 1e-8, 1.0000001], dtype=np.float32)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2), *(st.integers(0, len(VALUES) - 1),) * 4), max_size=40))
def test_the_first_of_identical_objects_is_kept(rows: list[tuple[int, ...]]) -> None:
    image = np.array([r[0] for r in rows], dtype=np.int64)
    category = np.array([r[1] for r in rows], dtype=np.int64)
    label = tuple(np.array([VALUES[r[2 + j]] for r in rows], dtype=np.float32) for j in range(4))
    seen: set[tuple[object, ...]] = set()
    expected = []
    for k in range(len(rows)):
        key = (int(image[k]), int(category[k]), *(float(v[k]) + 0.0 for v in label))  # -0.0 + 0.0 is 0.0
        expected.append(key not in seen)
        seen.add(key)
    assert _first_label(image, category, label).tolist() == expected  # type: ignore[arg-type]
