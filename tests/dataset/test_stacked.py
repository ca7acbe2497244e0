"""Box tables joined one after another (:func:`scalematch.dataset.table.stacked`): an empty part changes no dtype
and raises no warning under any pandas (pandas 2.x warned that an empty part would decide the dtypes; the CI's
oldest Python runs pandas 2), and every categorical column keeps the labels row by row."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from scalematch.dataset.table import stacked


def _part(n: int, names: list[str], offset: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(n + offset)
    part: pd.DataFrame = pd.DataFrame(
        {
            "ann_id": np.arange(offset, offset + n, dtype=np.int64),
            "w": rng.uniform(1, 50, n),
            "listed": np.ones(n, bool),
            "category": pd.Categorical([names[k % len(names)] for k in range(n)], categories=names),
        }
    )
    return part


@pytest.mark.parametrize("sizes", [(3, 0), (0, 4), (0, 0), (2, 5), (0, 2, 0, 3)])
def test_rows_dtypes_and_labels_are_those_of_the_filled_parts(sizes: tuple[int, ...]) -> None:
    names = [["cat", "dog"], ["zebra", "cat"], ["emu"], ["dog", "yak", "ant"]]
    parts = [_part(n, names[k], offset=100 * k) for k, n in enumerate(sizes)]
    parts[-1] = parts[-1].astype({"w": np.float32})  # an empty last part of another dtype decided it under pandas 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        joined = stacked(parts, ("category", "absent"))
    assert list(joined.index) == list(range(sum(sizes)))
    assert list(joined["ann_id"]) == [a for p in parts for a in p["ann_id"]]
    assert list(joined["category"].astype(str)) == [str(c) for p in parts for c in p["category"]]
    assert isinstance(joined["category"].dtype, pd.CategoricalDtype)
    filled = [p for p in parts if len(p)] or parts[:1]
    assert joined["w"].dtype == (filled[0]["w"].dtype if len(filled) == 1 else np.float64)
    assert joined["ann_id"].dtype == np.int64 and joined["listed"].dtype == bool
    assert np.allclose(joined["w"], [w for p in parts for w in p["w"]])


def test_a_column_only_an_empty_part_holds_is_kept() -> None:
    full = _part(2, ["cat"])
    empty = _part(0, ["dog"]).assign(extra=np.zeros(0))
    joined = stacked([full, empty], ("category",))
    assert list(joined.columns) == [*full.columns, "extra"]
    assert joined["extra"].isna().all() and joined["ann_id"].dtype == np.int64
