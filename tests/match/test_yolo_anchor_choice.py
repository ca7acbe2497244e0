"""Under the yolo rule the recommended anchors follow yolov5's AutoAnchor: fitted anchors replace the defaults only
when they raise the best possible recall (BPR), measured here with yolov5's own check_anchors."""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pytest
from required import need

from scalematch.dataset import load, sample_path
from scalematch.match.levels import levels_from_profile
from scalematch.match.recommend import recommend
from scalematch.match.result import usable
from scalematch.match.rules import Rule
from scalematch.profile import build, profile
from scalematch.report.export import ultralytics


def yolov5_bpr(wh: np.ndarray, anchors: list[tuple[float, float]], monkeypatch: pytest.MonkeyPatch) -> float:
    """BPR of ``anchors`` (w, h in input pixels, 3 per level) on boxes ``wh`` as yolov5's check_anchors logs it
    (3 decimals): one image of size 1 x 1 at imgsz 1 holds every box at its size, the scale jitter set to 1."""
    autoanchor = need("yolov5.utils.autoanchor")
    import torch

    logged: list[str] = []
    monkeypatch.setattr(autoanchor.LOGGER, "info", lambda s, *a, **k: logged.append(str(s)))
    monkeypatch.setattr(autoanchor.np.random, "uniform", lambda low, high, size: np.ones(size))
    stride = torch.tensor([8.0, 16.0, 32.0])
    detect = SimpleNamespace(stride=stride, anchors=torch.tensor(anchors).view(3, -1, 2) / stride.view(-1, 1, 1))
    labels = np.concatenate([np.zeros((len(wh), 3)), wh], axis=1)
    dataset = SimpleNamespace(shapes=np.ones((1, 2)), labels=[labels])
    autoanchor.check_anchors(dataset, SimpleNamespace(model=[detect]), thr=4.0, imgsz=1)
    found = re.search(r"([0-9.]+) Best Possible Recall", " ".join(logged))
    assert found is not None, logged
    return float(found[1])


def test_defaults_kept_when_fitting_lowers_bpr(monkeypatch: pytest.MonkeyPatch) -> None:
    data = load(sample_path())
    levels = levels_from_profile(profile(build("cspdarknet", "pan")), neck=True)
    rec = recommend(data.table, levels, Rule.YOLO)
    a = rec.anchors
    assert a is not None and a.default is not None and a.default_bpr is not None
    rows = usable(data.table)
    wh = np.stack([rows["w_in"].to_numpy(), rows["h_in"].to_numpy()], axis=1)
    fitted = yolov5_bpr(wh, [s for lv in a.fitted.shapes for s in lv], monkeypatch)
    default = yolov5_bpr(wh, [s for lv in a.default.shapes for s in lv], monkeypatch)
    assert (fitted, default) == (round(a.fitted_bpr, 3), round(a.default_bpr, 3))
    assert fitted < default  # this sample: the fit raises mean IoU but loses recall
    assert a.kept_default and a.recommended == a.default
    block = ultralytics(rec)
    assert "  - [10,13, 16,30, 33,23]  # P3/8" in block
    assert "default anchors are kept: fitted ones reach BPR 0.996, not above the defaults' 0.999" in block


def test_fitted_anchors_kept_when_they_raise_bpr() -> None:
    """Boxes far from every default shape: the fit raises BPR, so it is the recommendation."""
    data = load(sample_path())
    table = data.table.copy()
    table["h_in"] = table["w_in"] * 9.0  # every box 9 times taller than wide: no default within ratio 4
    levels = levels_from_profile(profile(build("cspdarknet", "pan")), neck=True)
    a = recommend(table, levels, Rule.YOLO).anchors
    assert a is not None and a.default_bpr is not None
    assert a.fitted_bpr > a.default_bpr
    assert not a.kept_default and a.recommended == a.fitted


@pytest.mark.parametrize(
    ("names", "lacking"),
    [
        (("P2", "P3", "P4", "P5"), "level P2 (4) has none"),
        (("P4", "P5", "P6", "P7"), "levels P6 (64), P7 (128) have none"),
    ],
)
def test_levels_without_default_anchors_are_the_ones_named(names: tuple[str, ...], lacking: str) -> None:
    """The refusal names the levels whose stride has no yolov5 default anchors, not those that have them."""
    from scalematch.errors import OptionError
    from scalematch.match.levels import Level
    from scalematch.match.rules import default_anchors

    levels = tuple(Level(n, 2.0 ** int(n[1:]), 100.0, 10.0, 2.0 ** -int(n[1:])) for n in names)
    with pytest.raises(OptionError) as raised:
        default_anchors(Rule.YOLO, levels)
    assert f"strides 8, 16, 32 only; {lacking} (pick" in str(raised.value)


def test_multi_scale_bprs_are_each_one_measure_named_as_such(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under a multi-scale policy the two BPRs of the defaults are two measures, each labelled: the rule's is per
    object, a match at both ends; the anchors' (which decides keep or replace) is yolov5's check_anchors over the
    boxes of both ends pooled, each object once at each end."""
    from scalematch.match.result import YoloDetail, rule_detail
    from scalematch.report.recommend_text import sentences

    data = load(sample_path(), resize="multi-scale:320-960,1600")
    levels = levels_from_profile(profile(build("cspdarknet", "pan")), neck=True)
    rec = recommend(data.table, levels, Rule.YOLO)
    a, detail = rec.anchors, rule_detail(rec.full, rec.params)
    assert a is not None and a.default is not None and a.default_bpr is not None
    assert isinstance(detail, YoloDetail) and rec.recommended_levels == ("P3", "P4", "P5")
    rows = usable(data.table)
    low = np.stack([rows["w_in"].to_numpy(), rows["h_in"].to_numpy()], axis=1)
    high = np.stack([rows["w_in_hi"].to_numpy(), rows["h_in_hi"].to_numpy()], axis=1)
    defaults = [s for lv in a.default.shapes for s in lv]
    pooled = yolov5_bpr(np.concatenate([low, high]), defaults, monkeypatch)
    assert pooled == round(a.default_bpr, 3)
    ends = (yolov5_bpr(low, defaults, monkeypatch), yolov5_bpr(high, defaults, monkeypatch))
    assert detail.bpr <= min(ends) + 5e-4 and round(detail.bpr, 3) != pooled  # the two measures differ here
    text = "\n".join(sentences(rec))
    assert (
        f"Best possible recall with the default anchors (ratio < 4), objects with a match at both ends: "
        f"{detail.bpr:.3f}."
    ) in text
    assert (
        f"(toolkit defaults: {a.default_mean_iou:.3f}, BPR {a.default_bpr:.3f}); fitted to the boxes at both ends, "
        "IoU and BPR over them pooled (each object once at each end, per box as yolov5's check_anchors counts)"
    ) in text
    block = ultralytics(rec)
    assert a.kept_default and "# Multi-scale resize: the anchors are chosen on its boxes at both ends" in block
    assert f"fitted ones reach BPR {a.fitted_bpr:.3f} (over the boxes of both ends pooled), not above" in block
