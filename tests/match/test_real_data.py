"""The rules on the three real datasets, against plain per-box re-implementations that read the JSON directly."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from scalematch.dataset import load, sample_path
from scalematch.match.anchors import retinanet_anchors, yolo_default_anchors
from scalematch.match.levels import Level, levels_from_profile
from scalematch.match.recommend import recommend
from scalematch.match.result import match
from scalematch.match.rules import TOO_LARGE, TOO_SMALL, Rule
from scalematch.profile import build, profile

DATA = Path(__file__).parent.parent / "data"
FILES = [sample_path(), DATA / "fce_lvis_val_100.json", DATA / "rbc_valid.json"]


def plain_boxes(path: Path) -> list[tuple[float, float]]:
    """(w_in, h_in) of every non-crowd box with positive size, shortest edge 800 / longest 1333, by hand."""
    doc = json.loads(path.read_text())
    images = {im["id"]: im for im in doc["images"]}
    out = []
    for a in doc["annotations"]:
        if a.get("iscrowd", 0):
            continue
        im = images[a["image_id"]]
        short, long = min(im["width"], im["height"]), max(im["width"], im["height"])
        s = min(800 / short, 1333 / long)
        w, h = a["bbox"][2], a["bbox"][3]
        if w > 0 and h > 0:
            out.append((w * s, h * s))
    return out


def loop_fpn(w: float, h: float, exps: list[int]) -> int:
    k = math.floor(4 + math.log2(math.sqrt(w * h) / 224) + 1e-6)
    return TOO_SMALL if k < exps[0] else TOO_LARGE if k > exps[-1] else k - exps[0]


def loop_fcos(w: float, h: float, strides: list[float]) -> int:
    m = max(w, h) / 2
    for k, s in enumerate(strides):
        lo = 0 if k == 0 else 4 * s
        hi = math.inf if k == len(strides) - 1 else 8 * s
        if lo < m <= hi:
            return k
    raise AssertionError("ranges cover (0, inf)")


def loop_anchor(w: float, h: float, shapes: list[list[tuple[float, float]]], metric: str, thr: float) -> int:
    best_k, best_v, best_a = -9, None, (0.0, 0.0)
    for k, level in enumerate(shapes):
        for aw, ah in level:
            if metric == "iou":
                inter = min(w, aw) * min(h, ah)
                v = inter / (w * h + aw * ah - inter)
                better = best_v is None or v > best_v
            else:
                v = max(w / aw, aw / w, h / ah, ah / h)
                better = best_v is None or v < best_v
            if better:
                best_k, best_v, best_a = k, v, (aw, ah)
    assert best_v is not None
    matched = best_v >= thr if metric == "iou" else best_v < thr
    if matched:
        return best_k
    return TOO_SMALL if math.sqrt(w * h) < math.sqrt(best_a[0] * best_a[1]) else TOO_LARGE


@pytest.mark.parametrize("name", FILES, ids=lambda p: p.name)
def test_toolkit_rules_match_plain_loops_on_real_data(name: Path) -> None:
    data = load(name)
    boxes = plain_boxes(name)
    fpn_p2p6 = levels_from_profile(profile(build("resnet50", "fpn")), neck=True)
    retina = levels_from_profile(profile(build("resnet50", "fpn-retinanet")), neck=True)
    pan = levels_from_profile(profile(build("resnet50", "pan")), neck=True)
    exps = [2, 3, 4, 5, 6]
    yolo_set = yolo_default_anchors([8, 16, 32])
    assert yolo_set is not None
    cases: list[tuple[Rule, tuple[Level, ...], Callable[[float, float], int]]] = [
        (Rule.FPN, fpn_p2p6, lambda w, h: loop_fpn(w, h, exps)),
        (Rule.FCOS, retina, lambda w, h: loop_fcos(w, h, [8, 16, 32, 64, 128])),
        (Rule.ANCHORS, retina, lambda w, h: loop_anchor(
            w, h, [list(x) for x in retinanet_anchors([8, 16, 32, 64, 128]).shapes], "iou", 0.5)),
        (Rule.YOLO, pan, lambda w, h: loop_anchor(w, h, [list(x) for x in yolo_set.shapes], "ratio", 4.0)),
    ]  # fmt: skip
    for rule, levels, loop in cases:
        result = match(data.table, levels, rule)
        assert result.total == len(boxes)
        expected = [loop(w, h) for w, h in boxes]
        assert result.assignment.level.tolist() == expected, rule
        # invariants of the summary
        assert sum(ld.count for ld in result.loads) + result.too_small + result.too_large == result.total
        assert result.per_category is not None
        assert int(result.per_category.to_numpy().sum()) == result.total


@pytest.mark.parametrize("name", FILES, ids=lambda p: p.name)
@pytest.mark.parametrize(("rule", "neck"), [(Rule.ANCHORS, "fpn-retinanet"), (Rule.YOLO, "pan")])
def test_fitted_anchors_beat_the_toolkit_defaults(name: Path, rule: Rule, neck: str) -> None:
    data = load(name)
    levels = levels_from_profile(profile(build("resnet50", neck)), neck=True)
    rec = recommend(data.table, levels, rule)
    a = rec.anchors
    assert a is not None and a.default is not None and a.default_mean_iou is not None
    assert len(a.fitted.shapes) == len(rec.chosen.levels)
    assert a.per_level == len(a.default.shapes[0])  # compared at equal anchor counts
    assert a.fitted_mean_iou >= a.default_mean_iou


def test_recommended_window_is_the_smallest_that_reaches_the_target() -> None:
    data = load(sample_path())
    levels = levels_from_profile(profile(build("resnet50", "fpn-retinanet")), neck=True)
    rec = recommend(data.table, levels, Rule.FCOS, target=0.9)
    assert rec.reached and rec.chosen.coverage >= 0.9
    n = len(rec.chosen.levels)
    # brute force over every contiguous run: none shorter reaches 0.9, none of the same length starts finer
    w = data.table.loc[~data.table["iscrowd"], "w_in"].to_numpy()
    h = data.table.loc[~data.table["iscrowd"], "h_in"].to_numpy()
    m = np.maximum(w, h) / 2
    edges = [0, 64, 128, 256, 512, math.inf]
    shares = {}
    for a in range(5):
        for b in range(a + 1, 6):
            shares[(a, b)] = float(np.mean((m > edges[a]) & (m <= edges[b])))
    first = min((b - a, a) for (a, b), s in shares.items() if s >= 0.9)
    assert (n, levels.index(rec.chosen.levels[0])) == first
