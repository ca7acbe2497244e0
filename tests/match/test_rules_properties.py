"""Properties of the assignment rules (Hypothesis) and their agreement with plain per-box loops."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scalematch.match.anchors import retinanet_anchors, yolo_default_anchors
from scalematch.match.levels import Level
from scalematch.match.rules import TOO_LARGE, TOO_SMALL, Rule, RuleParams, assign


def pyramid(first: int, count: int) -> tuple[Level, ...]:
    """Levels P{first}.. with strides 2^k (RF/ERF values are not used by fpn/fcos)."""
    return tuple(Level(f"P{k}", float(2**k), 0.0, 0.0, 0.0) for k in range(first, first + count))


sizes = st.lists(
    st.tuples(st.floats(1.0, 3000.0, allow_nan=False), st.floats(1.0, 3000.0, allow_nan=False)), min_size=1, max_size=60
)


@settings(max_examples=300, deadline=None)
@given(boxes=sizes, first=st.integers(2, 3), count=st.integers(2, 5))
def test_fpn_doubling_moves_every_object_one_level_up(boxes: list[tuple[float, float]], first: int, count: int) -> None:
    w, h = np.array(boxes).T
    levels = pyramid(first, count)
    before = assign(Rule.FPN, w, h, levels).detail["clamped"]
    k_before = assign(Rule.FPN, w, h, levels).level
    k_after = assign(Rule.FPN, 2 * w, 2 * h, levels).level
    # unclamped k + 1 exactly: compare through the clamp-free index
    idx_before = np.floor(4 + np.log2(np.sqrt(w * h) / 224) + 1e-6)
    idx_after = np.floor(4 + np.log2(np.sqrt(4 * w * h) / 224) + 1e-6)
    assert np.array_equal(idx_after, idx_before + 1)
    inside = (k_before >= 0) & (k_before < count - 1)
    assert np.array_equal(k_after[inside], k_before[inside] + 1)
    assert np.all(k_after[k_before == count - 1] == TOO_LARGE)
    assert np.all(k_after[k_before == TOO_LARGE] == TOO_LARGE)
    assert before.shape == w.shape


@settings(max_examples=300, deadline=None)
@given(boxes=sizes, count=st.integers(2, 5))
def test_fcos_doubling_moves_objects_one_level_up_except_at_the_ends(
    boxes: list[tuple[float, float]], count: int
) -> None:
    w, h = np.array(boxes).T
    levels = pyramid(3, count)
    before = assign(Rule.FCOS, w, h, levels).level
    after = assign(Rule.FCOS, 2 * w, 2 * h, levels).level
    assert np.all(before >= 0) and np.all(after >= 0)  # open-ended first and last ranges
    target = np.maximum(w, h) / 2
    first_open = target <= 4 * levels[0].stride  # stays in the first level after doubling
    last = before == count - 1
    moving = ~first_open & ~last
    assert np.array_equal(after[moving], before[moving] + 1)
    assert np.all(after[first_open] == 0)
    assert np.all(after[last] == count - 1)
    # at the ends the two end levels' counts add up
    assert np.count_nonzero(after == count - 1) == np.count_nonzero(before >= count - 2) - np.count_nonzero(
        (before == count - 2) & first_open
    )


def loop_fpn(w: float, h: float) -> int:
    return math.floor(4 + math.log2(math.sqrt(w * h) / 224) + 1e-6)


def loop_best(w: float, h: float, anchors: list[tuple[float, float, int]], metric: str) -> tuple[int, float]:
    best_level, best_value = -9, -1.0 if metric == "iou" else math.inf
    for aw, ah, k in anchors:
        if metric == "iou":
            inter = min(w, aw) * min(h, ah)
            value = inter / (w * h + aw * ah - inter)
            if value > best_value:
                best_level, best_value = k, value
        else:
            value = max(w / aw, aw / w, h / ah, ah / h)
            if value < best_value:
                best_level, best_value = k, value
    return best_level, best_value


@settings(max_examples=100, deadline=None)
@given(boxes=sizes)
def test_rules_agree_with_plain_loops(boxes: list[tuple[float, float]]) -> None:
    w, h = np.array(boxes).T
    levels = pyramid(3, 3)  # P3-P5: strides 8, 16, 32 (YOLO defaults exist)
    fpn = assign(Rule.FPN, w, h, levels).level
    fcos = assign(Rule.FCOS, w, h, levels).level
    anchors = assign(Rule.ANCHORS, w, h, levels)
    yolo = assign(Rule.YOLO, w, h, levels)
    retina = [(aw, ah, k) for k, lv in enumerate(retinanet_anchors([8, 16, 32]).shapes) for aw, ah in lv]
    yolo_set = yolo_default_anchors([8, 16, 32])
    assert yolo_set is not None
    yolo_anchors = [(float(aw), float(ah), k) for k, lv in enumerate(yolo_set.shapes) for aw, ah in lv]
    for i, (bw, bh) in enumerate(boxes):
        k = loop_fpn(bw, bh) - 3
        assert fpn[i] == (TOO_SMALL if k < 0 else TOO_LARGE if k > 2 else k)
        m = max(bw, bh) / 2
        assert fcos[i] == (0 if m <= 64 else 1 if m <= 128 else 2)
        level, iou = loop_best(bw, bh, retina, "iou")
        assert anchors.detail["best_iou"][i] == np.float64(iou) or math.isclose(anchors.detail["best_iou"][i], iou)
        if iou >= 0.5:
            assert anchors.level[i] == level
        else:
            assert anchors.level[i] in (TOO_SMALL, TOO_LARGE)
        level, ratio = loop_best(bw, bh, yolo_anchors, "ratio")
        assert math.isclose(yolo.detail["best_ratio"][i], ratio)
        assert (yolo.level[i] == level) if ratio < 4.0 else yolo.level[i] in (TOO_SMALL, TOO_LARGE)


def test_rf_rule_by_hand() -> None:
    """Two levels, strides 8 and 16, ERF sigma 10 and 20: min 2 cells, inside +-3 sigma, nearest 4*stride."""
    levels = (Level("A", 8.0, 100.0, 10.0, 100.0), Level("B", 16.0, 200.0, 20.0, 200.0))
    w = np.array([10.0, 16.0, 40.0, 50.0, 64.0, 70.0, 121.0, 30.0])
    h = np.array([10.0, 16.0, 40.0, 50.0, 64.0, 70.0, 60.0, 30.0])
    level = assign(Rule.RF, w, h, levels, RuleParams()).level
    # 10: < 16 -> too small; 16: A only (B needs 32); 40: A (|log 40/32| < |log 40/64|); 50: B nearer 64 but
    # max side 50 <= 60 fits A as well, B wins by distance; 64: B; 70: B (A's ERF ends at 60); 121x60: side 121
    # > 120 = 6 sigma of B -> too large; 30: A
    assert level.tolist() == [TOO_SMALL, 0, 0, 1, 1, 1, TOO_LARGE, 0]
