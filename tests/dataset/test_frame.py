"""A box table given as a DataFrame (the Python API) is checked as the file readers check records: the same rows
written as a COCO file and read by the COCO reader are the oracle."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scalematch as sm
from scalematch.dataset import load
from scalematch.dataset.loader import from_frame
from scalematch.dataset.stats import summarize
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


def test_iscrowd_is_checked_as_the_coco_reader_checks_it(tmp_path: Path) -> None:
    """iscrowd 2, 0.5 or a string is a malformed record for the COCO reader (the oracle), not a crowd box; so is
    NaN, which a JSON file cannot hold; 0, 1, 0.0, 1.0 and booleans are flags."""
    crowd: list[object] = [0, 1, 2, 0.5, "1", 1.0, 0.0, True]
    images = [{"id": 1, "file_name": "1.jpg", "width": 100, "height": 100}]
    anns = [{"id": k + 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "area": 400, "iscrowd": c}
            for k, c in enumerate(crowd)]  # fmt: skip
    path = tmp_path / "crowd.json"
    path.write_text(json.dumps({"images": images, "annotations": anns, "categories": [{"id": 1, "name": "cat"}]}))
    truth = load(path, resize="none")
    frame = pd.DataFrame({"ann_id": range(1, 9), "image_id": 1, "x": 10, "y": 10, "w": 20, "h": 20,
                          "image_w": 100, "image_h": 100, "iscrowd": pd.Series(crowd, dtype=object)})  # fmt: skip
    ours = from_frame(frame, "none")
    assert ours.excluded == truth.excluded == {"malformed_record": 3}
    assert ours.table["iscrowd"].tolist() == truth.table["iscrowd"].tolist() == [False, True, True, False, True]
    for column in (pd.Series([0.0, 1.0, NAN, 2.0]), pd.Series([0, 1, 2, None], dtype="Int64").astype(object)):
        got = from_frame(frame.iloc[:4].assign(iscrowd=column.to_numpy()), "none")
        assert got.excluded == {"malformed_record": 2}
        assert got.table["iscrowd"].tolist() == [False, True]


def test_difficult_and_truncated_are_integer_flags() -> None:
    """VOC's rule (mmdetection's ``int(text)``): any integer is a flag, non-zero set; NaN or 0.5 is malformed."""
    frame = pd.DataFrame({"x": [10.0] * 4, "y": 10.0, "w": 20.0, "h": 20.0, "difficult": [0, 7, NAN, 0.5]})
    got = from_frame(frame, "none")
    assert got.excluded == {"malformed_record": 2}
    assert got.table["difficult"].tolist() == [0, 7]  # the value (int8), as the VOC reader keeps it
    big = from_frame(frame.assign(difficult=[1, -1, 300, -300]), "none").table["difficult"]
    assert big.tolist() == [1, -1, 127, -128] and str(big.dtype) == "int8"
    flags = from_frame(frame.assign(difficult=[True, False, True, False]), "none").table["difficult"]
    assert flags.tolist() == [1, 0, 1, 0]
    got = from_frame(frame.rename(columns={"difficult": "truncated"}), "none")
    assert got.table["truncated"].tolist() == [False, True] and got.excluded == {"malformed_record": 2}


def test_ids_in_the_index_are_read_and_a_detector_needs_image_ids() -> None:
    """After set_index the ids are index levels: the table reads as with the columns (the detector's objects of one
    image still compete). Without any image_id a detector refuses the table; a size rule takes a row per image."""
    table = load(sm.sample_path(), resize="none").table.head(400)
    base = sm.recommend(table, "retinanet").to_frame("objects")
    for moved in (["image_id", "ann_id"], ["image_id"], ["ann_id", "image_id"]):
        got = sm.recommend(table.set_index(moved), "retinanet").to_frame("objects")
        assert got["positives"].tolist() == base["positives"].tolist()
        assert got["image_id"].tolist() == table["image_id"].tolist()
    apart = table.assign(image_id=range(len(table)))  # what the table read as before: a row per image
    assert sm.recommend(apart, "retinanet").to_frame("objects")["positives"].tolist() != base["positives"].tolist()
    with pytest.raises(OptionError, match=r"^annotations: the DataFrame has no image_id column or index level; "):
        sm.recommend(table.drop(columns="image_id"), "retinanet")
    one_each = sm.recommend(table.drop(columns="image_id"), rule="fcos")
    assert one_each.data is not None and one_each.data.images == len(table)


def _coco_of(path: Path, images: list[tuple[int, float, float]], anns: list[tuple[int, int, int]],
             names: dict[int, str]) -> Path:  # fmt: skip
    """A COCO file of ``images`` (id, width, height), ``anns`` (id, image id, category id; box 10 10 20 20)."""
    document = {
        "images": [{"id": i, "file_name": f"{k}.jpg", "width": w, "height": h} for k, (i, w, h) in enumerate(images)],
        "annotations": [{"id": a, "image_id": i, "category_id": c, "bbox": [10, 10, 20, 20], "area": 400, "iscrowd": 0}
                        for a, i, c in anns],
        "categories": [{"id": c, "name": n} for c, n in names.items()],
    }  # fmt: skip
    path.write_text(json.dumps(document))
    return path


def test_integer_ids_stay_exact_beyond_2_to_the_53(tmp_path: Path) -> None:
    """uint64 ids above 2**53 stay distinct (through float64, 2**53 and 2**53 + 1 would be one image, whose
    objects a detector makes compete); a uint64 id beyond 2**63 - 1 is malformed_record, as the COCO reader (the
    oracle) counts an id beyond 64-bit signed."""
    import numpy as np

    big = 2**53
    images = [(big, 100.0, 100.0), (big + 1, 200.0, 50.0)]
    anns = [(big + 2, big, 1), (big + 3, big + 1, 1), (2**63 + 5, big, 1), (2**64 - 1, big + 1, 1), (2**63 - 1, big, 1)]
    truth = load(_coco_of(tmp_path / "big.json", images, anns, {1: "cat"}), resize="none")
    size = {i: (w, h) for i, w, h in images}
    frame = pd.DataFrame({
        "ann_id": np.array([a for a, _, _ in anns], dtype=np.uint64),
        "image_id": np.array([i for _, i, _ in anns], dtype=np.uint64),
        "x": 10.0, "y": 10.0, "w": 20.0, "h": 20.0,
        "image_w": [size[i][0] for _, i, _ in anns], "image_h": [size[i][1] for _, i, _ in anns],
        "category_id": 1, "category": "cat",
    })  # fmt: skip
    ours = from_frame(frame, "none")
    assert ours.excluded == truth.excluded == {"malformed_record": 2}
    for column in ("ann_id", "image_id"):
        assert ours.table[column].tolist() == truth.table[column].tolist()
    assert ours.table["image_id"].tolist() == [big, big + 1, big]
    assert ours.table["ann_id"].tolist() == [big + 2, big + 3, 2**63 - 1]
    assert ours.table["image_id"].dtype == truth.table["image_id"].dtype == np.int64
    assert ours.images == 2


@pytest.mark.parametrize("column", ["ann_id", "image_id", "category_id"])
@pytest.mark.parametrize("dtype", ["Int64", "UInt64", "Float64"])
def test_a_missing_id_of_a_nullable_column_is_a_malformed_record(column: str, dtype: str) -> None:
    """<NA> in a nullable id column is no id, as NaN in a float column is not (the COCO reader counts an id that is
    not an integer, null included, as malformed_record): the row is left out and counted, never kept with a
    missing id nor a TypeError."""
    frame = pd.DataFrame({"ann_id": [1, 2, 3], "image_id": [1, 1, 2], "category_id": [1, 2, 1], "category": "a",
                          "x": 10.0, "y": 10.0, "w": 20.0, "h": 20.0, "image_w": 100.0, "image_h": 100.0})  # fmt: skip
    frame["category"] = ["cat", "dog", "cat"]
    frame[column] = frame[column].astype(dtype)
    frame.loc[1, column] = pd.NA
    as_nan = frame.assign(**{column: frame[column].astype("float64")})  # the same rows, NaN for the missing id
    for given in (frame, as_nan):
        got = from_frame(given, "none")
        assert got.excluded == {"malformed_record": 1}
        assert got.table["ann_id"].tolist() == [1, 3]
        assert got.table[column].dtype == "int64"
        assert got.images == 2 and got.categories == {1: "cat"}
    result = sm.recommend(frame, "retinanet")
    assert isinstance(result, sm.DetectorResult)
    assert result.excluded == {"malformed_record": 1} and result.summary.objects == 2


def test_a_repeated_ann_id_is_a_duplicate_as_the_coco_reader_counts_it(tmp_path: Path) -> None:
    """An ann_id seen before is duplicate_id and the first is kept, as the COCO reader (the oracle) does: a row left
    out while read (a NaN box) takes no id, nor does one left out by a later check (an absurd side): a row repeats
    only a row that is kept. pd.concat([t, t]) is the
    table once, so a detector does not make each object compete with its twin."""
    rows = [(1, 20.0), (2, 1e-30), (1, 20.0), (3, NAN), (3, 20.0), (2, 20.0), (4, 20.0), (4, 30.0)]
    images = [{"id": 1, "file_name": "1.jpg", "width": 100, "height": 100}]
    anns = [{"id": a, "image_id": 1, "category_id": 1, "bbox": [10, 10, w, 20], "area": 400, "iscrowd": 0}
            for a, w in rows]  # fmt: skip
    path = tmp_path / "dup.json"
    path.write_text(json.dumps({"images": images, "annotations": anns, "categories": [{"id": 1, "name": "cat"}]}))
    truth = load(path, resize="none")
    frame = pd.DataFrame({"ann_id": [a for a, _ in rows], "image_id": 1, "x": 10.0, "y": 10.0,
                          "w": [w for _, w in rows], "h": 20.0, "area": 400.0, "image_w": 100, "image_h": 100,
                          "category_id": 1, "category": "cat"})  # fmt: skip
    ours = from_frame(frame, "none")
    assert ours.excluded == truth.excluded == {"bbox_invalid": 2, "duplicate_id": 2}
    assert ours.table["ann_id"].tolist() == truth.table["ann_id"].tolist() == [1, 3, 2, 4]
    assert ours.table["w"].tolist() == truth.table["w"].tolist() == [20.0, 20.0, 20.0, 20.0]
    table = sm.read_annotations(sm.sample_path()).to_frame()
    once = sm.recommend(table, "retinanet")
    twice = sm.recommend(pd.concat([table, table]), "retinanet")
    assert isinstance(once, sm.DetectorResult) and isinstance(twice, sm.DetectorResult)
    assert twice.excluded == {"duplicate_id": len(table)}
    assert twice.to_frame("objects")["positives"].tolist() == once.to_frame("objects")["positives"].tolist()


def _named(names: list[object], ids: list[int] | None) -> pd.DataFrame:
    frame = pd.DataFrame({"image_id": 1, "x": [10.0 + k for k in range(len(names))], "y": 10.0, "w": 20.0, "h": 20.0,
                          "image_w": 100.0, "image_h": 80.0, "category": names})  # fmt: skip
    if ids is not None:
        frame["category_id"] = ids
    out: pd.DataFrame = frame
    return out


@pytest.mark.parametrize(
    ("names", "ids", "message"),
    [
        (["cat", "cat", "dog"], [1, 1, 1], "category_id 1 is named 'cat' (row 0) and 'dog' (row 2)"),
        (["tiger", "cat", "dog", "cat"], [1, 1, 2, 2], "category_id 1 is named 'tiger' (row 0) and 'cat' (row 1)"),
        ([1, 2, 3, 4], [1, 2, 1, 2], "category_id 1 is named '1' (row 0) and '3' (row 2)"),
    ],
)  # fmt: skip
def test_one_category_id_with_two_names_is_an_error_naming_the_rows(names: list[object], ids: list[int],
                                                                   message: str) -> None:  # fmt: skip
    """A category has one name, as the inputs of one dataset must agree on theirs; one of them was chosen silently."""
    with pytest.raises(OptionError) as refused:
        sm.recommend(_named(names, ids), rule="rf")
    assert str(refused.value) == f"annotations: {message}; a category has one name"


def test_names_without_ids_are_numbered_as_the_voc_reader_numbers_them(tmp_path: Path) -> None:
    """Without a category_id column the names are numbered from 1 in order of first appearance, as the VOC reader
    (the oracle) numbers the same objects; every row was category 0, named after the last row."""
    names = ["dog", "cat", "dog", "tiger", "cat"]
    body = "".join(f"<object><name>{n}</name><bndbox><xmin>{11 + k}</xmin><ymin>11</ymin><xmax>{30 + k}</xmax>"
                   "<ymax>30</ymax></bndbox></object>" for k, n in enumerate(names))  # fmt: skip
    (tmp_path / "a.xml").write_text(f"<annotation><filename>a.jpg</filename><size><width>100</width>"
                                    f"<height>80</height></size>{body}</annotation>")  # fmt: skip
    truth = load(tmp_path / "a.xml")
    ours = from_frame(_named(list(names), None))
    assert ours.categories == truth.categories == {1: "dog", 2: "cat", 3: "tiger"}
    assert ours.table["category_id"].tolist() == truth.table["category_id"].tolist() == [1, 2, 1, 3, 2]
    assert ours.table["category"].tolist() == truth.table["category"].tolist() == names
    assert ours.table["w_in"].tolist() == truth.table["w_in"].tolist()


def test_names_written_as_numbers_are_their_text_through_a_csv_round_trip(tmp_path: Path) -> None:
    """pd.read_csv reads category names made of digits as integers: they are the same names, as text."""
    path = _coco_of(tmp_path / "digits.json", [(1, 100.0, 80.0)], [(1, 1, 3), (2, 1, 5), (3, 1, 3)], {3: "7", 5: "9"})
    truth = load(path)
    truth.table.to_csv(tmp_path / "t.csv", index=False)
    read = pd.read_csv(tmp_path / "t.csv")
    assert read["category"].dtype.kind == "i"
    ours = from_frame(read)
    assert ours.categories == truth.categories == {3: "7", 5: "9"}
    assert ours.table["category"].tolist() == truth.table["category"].tolist() == ["7", "9", "7"]


INPUT = ["scale_x", "scale_y", "scale", "w_in", "h_in", "size_in", "max_side_in", "aspect"]
HIGH = ["scale_hi", "w_in_hi", "h_in_hi", "size_in_hi", "max_side_in_hi"]


@pytest.mark.parametrize("policy", ["longest-edge:640", "fixed:300x200", "multi-scale:480-800,1333"])
def test_a_frame_brings_its_resize_and_its_sizes_follow_its_boxes(policy: str) -> None:
    """Without resize=, a box table keeps its own resize (its scales) and its input sizes are made from w and h: an
    edit of w and h is measured, as a detector (which resizes the boxes itself) measures it; the stale w_in, h_in and
    size_in were used by the size rules only. The oracle: the edited boxes, without their input columns, under the
    same policy."""
    table = load(sm.sample_path(), resize=policy).table
    edited = table.assign(w=table["w"] * 3, h=table["h"] / 2)
    high = HIGH if policy.startswith("multi") else []
    truth = from_frame(edited.drop(columns=INPUT + high), policy)
    ours = from_frame(edited)
    assert ours.resize is None and ours.excluded == truth.excluded == {}
    for column in INPUT + high:
        assert ours.table[column].tolist() == truth.table[column].tolist(), column
    rule = sm.recommend(edited, rule="fpn")
    oracle = sm.recommend(edited.drop(columns=INPUT + high), rule="fpn", resize=policy)
    assert isinstance(rule, sm.Design) and isinstance(oracle, sm.Design)
    assert rule.to_frame("levels")["count"].tolist() == oracle.to_frame("levels")["count"].tolist()


def test_a_load_result_whose_table_is_edited_in_place_is_measured_as_edited() -> None:
    """``result.table`` edited in place (boxes doubled, one made empty) is read as the table it now is, in rule and
    detector mode and by summarize, keeping the file's images, excluded records and resize. The oracle: the edited
    boxes as a new frame under the same policy."""
    result = load(sm.sample_path(), resize="longest-edge:640")
    truth = result.table.assign(w=result.table["w"] * 2, h=result.table["h"] * 2)
    truth.loc[truth.index[0], "w"] = 0.0
    result.table["w"] *= 2
    result.table["h"] *= 2
    result.table.loc[result.table.index[0], "w"] = 0.0
    oracle = from_frame(truth.drop(columns=INPUT), "longest-edge:640")
    got = summarize(result)
    want = summarize(oracle)
    assert got["size_in"] == want["size_in"] and got["w_in"] == want["w_in"]
    assert got["excluded"] == {"bbox_nonpositive": 1} and got["images"] == result.images == 100
    rule, expected = sm.recommend(result, rule="fpn"), sm.recommend(oracle, rule="fpn")
    assert isinstance(rule, sm.Design) and isinstance(expected, sm.Design)
    assert rule.to_frame("levels")["count"].tolist() == expected.to_frame("levels")["count"].tolist()
    unchanged = load(sm.sample_path(), resize="longest-edge:640")
    assert summarize(unchanged)["size_in"] != got["size_in"]


@pytest.mark.parametrize(("value", "reason"), [(NAN, "bbox_invalid"), (INF, "bbox_invalid"), (-INF, "bbox_invalid"),
                                               (0.0, "bbox_nonpositive"), (-5.0, "bbox_nonpositive"),
                                               (1e300, "bbox_invalid"), (1e-300, "bbox_invalid")])  # fmt: skip
def test_input_sizes_of_a_frame_are_checked_as_boxes_are(value: float, reason: str) -> None:
    """A frame's own input sizes (a scale, or w_in and h_in given without scales) that are not finite, or not
    positive, leave the row out under the box's reasons: NaN quantiles, a RuntimeWarning and a row measured at no
    size were the result; and absurd ones, a side outside [2**-24, 2**24] input pixels as for the box itself
    (review round 22, F2: a scale of 1e300 gave sides of 1e302 px, overflow warnings and a design for them)."""
    import warnings

    table = load(sm.sample_path(), resize="longest-edge:640").table.head(50)
    own = table.drop(columns=["scale_x", "scale_y", "scale"])  # w_in and h_in as given
    cases = [(table, "scale_x"), (table, "scale_y"), (own, "w_in"), (own, "h_in")]
    for frame, column in cases:
        bad = frame.copy()
        bad.loc[bad.index[3], column] = value
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            got = from_frame(bad)
            stats = sm.dataset.summarize(got)
            design = sm.recommend(bad, rule="rf")
        assert got.excluded == {reason: 1}, column
        assert got.table["ann_id"].tolist() == table["ann_id"].drop(table.index[3]).tolist()
        assert all(math.isfinite(v) for v in stats["size_in"].values())
        assert isinstance(design, sm.Design) and design.data is not None and design.data.excluded == {reason: 1}


def test_columns_of_several_levels_are_named() -> None:
    """A DataFrame whose columns are a MultiIndex (after a groupby or a concat with keys) is an OptionError naming
    the problem, not an AttributeError from deep inside."""
    table = load(sm.sample_path(), resize="none").table.head(5)
    stacked = pd.concat({"a": table}, axis=1)
    with pytest.raises(OptionError, match=r"^annotations: the DataFrame's columns have several levels"):
        from_frame(stacked)


@pytest.mark.parametrize("name", [0, None, ("a", "b")])
def test_column_names_that_are_not_text_are_named(name: object) -> None:
    """A column named by a number (``read_csv(header=None)``, a concat along columns), None or a tuple is an
    OptionError at the door, from every entry point that takes a table, not an AttributeError from inside
    (``removesuffix`` on the name)."""
    table = load(sm.sample_path(), resize="none").table.head(5).copy()
    table[name] = 1
    for call in (from_frame, lambda t: sm.recommend(t, rule="rf"), sm.recommend):
        with pytest.raises(OptionError, match=r"^annotations: the DataFrame has a column whose name is not text \("):
            call(table)
    renamed = table.iloc[:, :-1].rename(columns={"x": np.str_("x")})  # a numpy string is text
    assert len(from_frame(renamed, "none").table) == 5


def test_object_columns_of_numbers_are_read_as_numbers() -> None:
    """What ``astype(object)`` or a concat with None gives: integers stay exact (ids above 2**53 too), None is a
    missing value (a malformed record, as NaN is), and a string among them is still named."""
    frame = _frame()
    plain = summarize(from_frame(frame, "none"))
    objects = frame.assign(**{c: frame[c].astype(object) for c in ("ann_id", "image_id", "x", "w")})
    assert summarize(from_frame(objects, "none")) == plain
    base = 2**60
    big = [None if math.isnan(i) else base + int(i) for i in frame["image_id"]]  # Python ints (and one None)
    ids = frame.assign(image_id=pd.Series(big, dtype=object))
    got = from_frame(ids, "none")
    kept = from_frame(frame, "none")
    assert got.table["image_id"].tolist() == [base + i for i in kept.table["image_id"].tolist()]
    assert len(set(got.table["image_id"])) > 2 and got.excluded == kept.excluded
    missing = frame.astype({"image_id": object})
    missing.loc[0, "image_id"] = None
    more = from_frame(missing, "none").excluded["malformed_record"] - kept.excluded["malformed_record"]
    assert more == 1
    text = frame.astype({"image_id": object})
    text.loc[0, "image_id"] = "a"
    with pytest.raises(OptionError, match="column 'image_id' holds object values, such as 'a'"):
        from_frame(text, "none")


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [("w", 10**400, "bbox_invalid"), ("x", -(10**400), "bbox_invalid"), ("ann_id", 10**400, "malformed_record"),
     ("area", 10**400, "malformed_record"), ("iscrowd", 10**400, "malformed_record"), ("difficult", 10**400, None)],
)  # fmt: skip
def test_integers_beyond_float_range_in_object_columns_are_counted(column: str, value: int, reason: str | None) -> None:
    """A Python integer of hundreds of digits is no finite number (as in the files): the row is excluded under the
    readers' reason, never an OverflowError; a VOC difficult that large is set (saturated, as the reader does)."""
    frame = _frame().head(1).assign(image_w=100.0, image_h=100.0, difficult=0, iscrowd=0)
    odd = frame.astype({column: object})
    odd.loc[odd.index[0], column] = value
    got = from_frame(odd, "none")
    if reason is None:
        assert got.table[column].tolist() == [127] and not got.excluded
    else:
        assert got.excluded == {reason: 1}
