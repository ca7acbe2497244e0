"""The public functions (``scalematch.<name>``) check their arguments' types at the door: a wrong type is one
:class:`OptionError` naming the parameter, never a TypeError or AttributeError from inside."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import scalematch
from scalematch.errors import OptionError

sm: Any = scalematch  # the calls below pass wrong types on purpose


@pytest.fixture(scope="module")
def boxes() -> Any:
    return sm.read_annotations(None)


def _column(boxes: Any, name: str, value: object) -> Any:
    table = boxes.to_frame().copy()
    table[name] = value
    return table


CASES: list[tuple[str, Callable[[Any], object], str]] = [
    ("detector as a number", lambda b: sm.recommend(b, 42),
     "detector: expected a preset name, a preset YAML path or a Preset, got int 42"),
    ("coverage as text", lambda b: sm.recommend(b, rule="rf", coverage="0.9"),
     "coverage: expected a number, got str '0.9'"),
    ("coverage as a bool", lambda b: sm.recommend(b, coverage=True), "coverage: expected a number, got bool True"),
    ("coverage subnormal", lambda b: sm.recommend(b, rule="rf", coverage=5e-324),
     "coverage: expected a share from 0.001 to 1 (0.1% to 100%), got 5e-324"),
    ("coverage subnormal, detector", lambda b: sm.recommend(b, "retinanet", coverage=5e-324),
     "coverage: expected a share from 0.001 to 1 (0.1% to 100%), got 5e-324"),
    ("min_positives as a float", lambda b: sm.recommend(b, min_positives=1.5),
     "min_positives: expected an integer, got float 1.5"),
    ("levels as a number", lambda b: sm.sweep(b, levels=3),
     "levels: expected level names ('P3,P4' or a list), got int 3"),
    ("resize None", lambda b: sm.read_annotations(None, resize=None),
     "resize: expected a policy such as 'shortest-edge:800,1333' (text), got NoneType None"),
    ("resize as a number", lambda b: sm.read_annotations(None, resize=800),
     "resize: expected a policy such as 'shortest-edge:800,1333' (text), got int 800"),
    ("profile_model(None)", lambda b: sm.profile_model(None),
     "backbone: expected a backbone name or path, or a Graph, got NoneType None"),
    ("neck as a number", lambda b: sm.load_backbone("resnet50", 5),
     "neck: expected a neck name or path (str), got int 5"),
    ("widths as text, rule", lambda b: sm.recommend(_column(b, "w", "50"), rule="rf"),
     "annotations: the DataFrame's column 'w' holds {dtype} values, such as '50'; expected numbers"),
    ("widths as text, detector", lambda b: sm.recommend(_column(b, "w", "50"), "retinanet"),
     "annotations: the DataFrame's column 'w' holds {dtype} values, such as '50'; expected numbers"),
    ("image widths as text", lambda b: sm.from_frame(_column(b, "image_w", "640")),
     "annotations: the DataFrame's column 'image_w' holds {dtype} values, such as '640'; expected numbers"),
    ("a list of numbers as paths", lambda b: sm.recommend([1, 2, 3], rule="rf"),
     "annotations: expected a path (str or pathlib.Path), a glob pattern or a list of them, got int 1 in the list"),
    ("a path as bytes", lambda b: sm.read_annotations(b"/data/a.json"),
     "annotations: expected a path (str or pathlib.Path), a glob pattern or a list of them, got bytes "
     "b'/data/a.json'"),
    ("summarize_files(None)", lambda b: __import__("scalematch.dataset.shards").dataset.shards.summarize_files(None),
     "annotations: expected a path (str or pathlib.Path), a glob pattern or a list of them, got NoneType None"),
    ("overlay of a table with a NaN size", lambda b: sm.overlay_figure(_column(b, "w_in", float("nan")),
                                                                     sm.recommend(b, rule="rf").recommendation),
     "table: row 0 has w_in nan and h_in {h_in:g}; expected positive sizes in input pixels (the box table the "
     "recommendation was made from)"),
    ("overlay of another table", lambda b: sm.overlay_figure(b.to_frame().iloc[1:],
                                                            sm.recommend(b, rule="rf").recommendation),
     "table: {fewer} usable rows, but the recommendation was made from {objects} objects; give the box table it "
     "was made from"),
    ("summarize a DataFrame", lambda b: __import__("scalematch.dataset").dataset.summarize(b.to_frame()),
     "result: expected a LoadResult (read_annotations or from_frame makes one from a DataFrame), got a DataFrame"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "call", "message"), CASES, ids=[c[0] for c in CASES])
def test_wrong_types_are_one_option_error(boxes: Any, case: str, call: Callable[[Any], object], message: str) -> None:
    text_dtype = str(_column(boxes, "w", "50")["w"].dtype)  # 'object' or pandas 3's 'str'
    table = boxes.to_frame()
    objects = int((table["iscrowd"] == 0).sum())
    with pytest.raises(OptionError) as caught:
        call(boxes)
    assert str(caught.value) == message.format(
        dtype=text_dtype, h_in=table["h_in"].iloc[0], fewer=int((table["iscrowd"].iloc[1:] == 0).sum()), objects=objects
    )


def test_right_types_of_other_kinds_still_work(boxes: Any) -> None:
    """numpy numbers are numbers, a Path is a path, a list is a list of names."""
    from pathlib import Path

    import numpy as np

    result = sm.recommend(boxes, Path(sm.builtin_presets()["retinanet"]), coverage=np.float64(0.9),
                          min_positives=np.int64(2), levels=["P3", "P4", "P5", "P6", "P7"])  # fmt: skip
    assert (result.preset.name, result.target) == ("retinanet", 0.9)
