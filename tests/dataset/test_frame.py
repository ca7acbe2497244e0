"""A box table given as a DataFrame (the Python API) is checked as the file readers check records: the same rows
written as a COCO file and read by the COCO reader are the oracle."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

import scalematch as sm
from scalematch.dataset import load
from scalematch.dataset.loader import from_frame
from scalematch.errors import OptionError

NAN, INF = math.nan, math.inf
# ann_id, image_id, x, y, w, h, area; images 1-3 are 100x100, image 4 has no width, image 5 a height of 0
ROWS = [
    (1, 1, 10, 10, 20, 20, 400),
    (2, 1, 10, 10, NAN, 20, 400),  # bbox_invalid
    (3, 1, 10, 10, 20, INF, 400),  # bbox_invalid
    (4, 2, NAN, 10, 20, 20, 400),  # bbox_invalid
    (5, 2, 10, 10, -5, 20, 400),  # bbox_nonpositive
    (6, 2, 10, 10, 20, 0, 400),  # bbox_nonpositive
    (7, 3, 10, 10, 1e-30, 20, 400),  # bbox_invalid (below 2**-24)
    (8, 4, 10, 10, 20, 20, 400),  # missing_image_size under a resize that scales
    (9, 5, 10, 10, 20, 20, 400),  # missing_image_size
    (10, 3, 500, 10, 20, 20, 400),  # bbox_outside_image
    (11, 3, 10, 10, 20, 20, -1),  # malformed_record
    (12, NAN, 10, 10, 20, 20, 400),  # malformed_record (no integer image id)
    (13, 3, -5, -5, 20, 20, 400),  # partly outside: kept
]
SIZES = {1: (100, 100), 2: (100, 100), 3: (100, 100), 4: (NAN, 100), 5: (100, 0)}


def _frame() -> pd.DataFrame:
    frame = pd.DataFrame(ROWS, columns=["ann_id", "image_id", "x", "y", "w", "h", "area"])
    frame["image_w"] = [SIZES.get(i, (NAN, NAN))[0] for i in frame["image_id"]]
    frame["image_h"] = [SIZES.get(i, (NAN, NAN))[1] for i in frame["image_id"]]
    frame["category_id"] = 1
    frame["category"] = "cat"
    out: pd.DataFrame = frame
    return out


def _coco(path: Path) -> Path:
    images = [{"id": i, "file_name": f"{i}.jpg", "width": w, "height": h} for i, (w, h) in SIZES.items()]
    anns = [{"id": a, "image_id": i, "category_id": 1, "bbox": [x, y, w, h], "area": area, "iscrowd": 0}
            for a, i, x, y, w, h, area in ROWS]  # fmt: skip
    path.write_text(json.dumps({"images": images, "annotations": anns, "categories": [{"id": 1, "name": "cat"}]}))
    return path


@pytest.mark.parametrize("resize", ["shortest-edge:800,1333", "none"])
def test_bad_rows_are_excluded_as_the_readers_exclude_them(tmp_path: Path, resize: str) -> None:
    truth = load(_coco(tmp_path / "rows.json"), resize=resize)
    ours = from_frame(_frame(), resize)
    assert ours.excluded == truth.excluded
    assert ours.table["ann_id"].tolist() == truth.table["ann_id"].tolist()
    expected = {"bbox_invalid": 4, "bbox_nonpositive": 2, "bbox_outside_image": 1, "malformed_record": 2}
    if resize != "none":
        expected["missing_image_size"] = 2
    assert ours.excluded == expected
    for column in ("w_in", "h_in", "size_in"):
        assert ours.table[column].tolist() == truth.table[column].tolist()


def test_the_api_counts_the_excluded_rows_of_a_dataframe() -> None:
    result = sm.recommend(_frame(), "retinanet")
    assert isinstance(result, sm.DetectorResult)
    assert result.excluded == {"bbox_invalid": 4, "bbox_nonpositive": 2, "bbox_outside_image": 1,
                               "malformed_record": 2, "missing_image_size": 2}  # fmt: skip
    assert result.summary.objects == 2


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        ("w", ["20"] * 13,
         "annotations: the DataFrame's column 'w' holds {text} values, such as '20'; expected numbers"),
        ("x", [True] * 13, "annotations: the DataFrame's column 'x' holds bool values, such as True; expected numbers"),
        ("w", [5 + 1j] * 13,
         "annotations: the DataFrame's column 'w' holds complex128 values, such as (5+1j); expected real numbers"),
        ("image_w", [100, "100"] + [100] * 11,
         "annotations: the DataFrame's column 'image_w' holds object values, such as '100'; expected numbers"),
        ("image_id", [None, "a"] + [1] * 11,
         "annotations: the DataFrame's column 'image_id' holds object values, such as 'a'; expected numbers"),
    ],
)  # fmt: skip
def test_columns_that_hold_no_numbers_are_named(column: str, values: list[object], message: str) -> None:
    frame = _frame()
    frame[column] = pd.Series(values, dtype=object if column in ("image_w", "image_id") else None)
    with pytest.raises(OptionError) as refused:
        sm.recommend(frame, rule="rf")
    text = str(pd.Series(["20"]).dtype)  # pandas 3: 'str'; pandas 2: 'object'
    assert str(refused.value) == message.format(text=text)


def test_a_column_given_twice_is_named() -> None:
    frame = pd.concat([_frame(), _frame()[["h"]]], axis=1)
    with pytest.raises(OptionError) as refused:
        from_frame(frame)
    assert str(refused.value) == "annotations: the DataFrame has the column 'h' more than once"
