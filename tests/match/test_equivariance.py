"""Scale equivariance end to end: a COCO file read with --resize none, then every box and image doubled."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from scalematch.dataset import load, sample_path
from scalematch.match.levels import levels_from_profile
from scalematch.match.result import match
from scalematch.match.rules import Rule
from scalematch.profile import build, profile

DATA = Path(__file__).parent.parent / "data"


def doubled(path: Path, out: Path) -> Path:
    doc = json.loads(path.read_text())
    twice = copy.deepcopy(doc)
    for im in twice["images"]:
        im["width"], im["height"] = 2 * im["width"], 2 * im["height"]
    for a in twice["annotations"]:
        a["bbox"] = [2 * v for v in a["bbox"]]
        a["area"] = 4 * a["area"]
        a.pop("segmentation", None)
    out.write_text(json.dumps(twice))
    return out


FILES = [sample_path(), DATA / "rbc_valid.json", DATA / "fce_lvis_val_100.json"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_doubling_moves_objects_one_level_up(path: Path, tmp_path: Path) -> None:
    before = load(path, resize="none").table
    after = load(doubled(path, tmp_path / path.name), resize="none").table
    assert np.array_equal(2 * before["w_in"].to_numpy(), after["w_in"].to_numpy())
    levels = levels_from_profile(profile(build("resnet50", "fpn-retinanet")), neck=True)  # strides 8 ... 128
    fpn0, fpn1 = (match(t, levels, Rule.FPN).assignment.level for t in (before, after))
    inner = (fpn0 >= 0) & (fpn0 < len(levels) - 1)
    assert inner.sum() > 0
    assert np.array_equal(fpn1[inner], fpn0[inner] + 1)
    assert np.all(fpn1[fpn0 == -1] <= 0)  # too small becomes too small or the first level
    fcos0, fcos1 = (match(t, levels, Rule.FCOS).assignment.level for t in (before, after))
    kept = ~before["iscrowd"].to_numpy()
    target = np.maximum(before["w_in"].to_numpy(), before["h_in"].to_numpy())[kept] / 2
    moving = (target > 4 * levels[0].stride) & (fcos0 < len(levels) - 1)
    assert np.array_equal(fcos1[moving], fcos0[moving] + 1)
    counts0, counts1 = np.bincount(fcos0, minlength=5), np.bincount(fcos1, minlength=5)
    # at the ends the counts of the two end levels add up
    assert counts1[-1] == counts0[-1] + counts0[-2]
    assert counts1[0] == np.count_nonzero(target <= 4 * levels[0].stride)
