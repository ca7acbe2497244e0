"""YOLOv5 anchors listed with the levels the other way round are flipped on reading, as yolov5's model builder
flips them (utils/autoanchor.py, check_anchor_order): the simulation and the export use what yolov5 trains."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from preset_files import preset_file
from required import need

from scalematch.presets import load_preset, override
from scalematch.presets.preset import YoloAnchors, yolov5_reverses


def _yolo(preset: object) -> YoloAnchors:
    gen = getattr(preset, "anchors", None)
    assert isinstance(gen, YoloAnchors)
    return gen


BUILTIN = _yolo(load_preset("yolov5")).shapes
CASES = [
    (BUILTIN, (8, 16, 32)),
    (BUILTIN[::-1], (8, 16, 32)),
    ((((10, 10),),), (8,)),  # one level: nothing to compare
    ((((10, 10),), ((20, 5),)), (8, 16)),  # equal mean areas: kept
    ((((30, 30),), ((10, 10),), ((20, 20),)), (8, 16, 32)),  # only the first and the last level count
    ((((10, 10),), ((20, 20),), ((5, 5),)), (8, 16, 32)),
    ((((10.5, 3.25), (7, 7)), ((10.5, 3.25), (7, 7.0000005))), (16, 32)),  # areas differing in float32 only
    ((((7, 7.0000005),), ((7, 7),)), (16, 32)),
]


@pytest.mark.parametrize(("shapes", "strides"), CASES)
def test_the_rule_is_yolov5s_check_anchor_order(shapes: tuple, strides: tuple) -> None:  # type: ignore[type-arg]
    need("yolov5.utils.autoanchor")
    import torch
    from yolov5.utils.autoanchor import check_anchor_order

    anchors = torch.tensor(shapes).float().view(len(shapes), -1, 2)  # as yolov5's Detect holds them
    head = SimpleNamespace(anchors=anchors.clone(), stride=torch.tensor(strides, dtype=torch.float32))
    check_anchor_order(head)
    assert yolov5_reverses(shapes, strides) == (not torch.equal(head.anchors, anchors))


def test_a_reversed_preset_reads_as_yolov5_builds_it(tmp_path: Path) -> None:
    path = preset_file(tmp_path, "yolov5", **{"anchors.shapes": [list(level) for level in BUILTIN[::-1]]})
    gen = _yolo(load_preset(path))
    assert (gen.shapes, gen.reversed) == (BUILTIN, True)
    assert _yolo(override(load_preset(path))).reversed  # read back through the checks: still said
    assert not _yolo(override(load_preset(path), **{"anchors.shapes": BUILTIN})).reversed
    assert not _yolo(load_preset("yolov5")).reversed
