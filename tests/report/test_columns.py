"""UsableRows takes exactly the rows the matcher's ``usable`` keeps, in order, on real data with crowd objects."""

from __future__ import annotations

import numpy as np
import pytest

from scalematch.dataset import LoadResult
from scalematch.errors import OptionError
from scalematch.match.design import Design
from scalematch.match.result import usable
from scalematch.report.columns import UsableRows


def test_same_rows_as_usable(coco: tuple[LoadResult, Design], lvis: tuple[LoadResult, Design]) -> None:
    for data, _ in (coco, lvis):
        kept = usable(data.table)
        rows = UsableRows(data.table)
        assert len(rows) == len(kept)
        for name in ("w_in", "h_in", "area"):
            assert np.array_equal(rows.floats(name), kept[name].to_numpy(dtype=np.float64))
        assert list(rows["category"]) == list(kept["category"])
    assert len(UsableRows(coco[0].table)) == len(coco[0].table) - 9  # the 9 crowd objects of the sample


def test_same_error_without_input_columns(coco: tuple[LoadResult, Design]) -> None:
    with pytest.raises(OptionError, match="no w_in, h_in column"):
        UsableRows(coco[0].table.drop(columns=["w_in", "h_in"]))
