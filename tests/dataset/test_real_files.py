"""Counts, COCO size classes and size quantiles on real files, against an independent pycocotools run."""

from __future__ import annotations

import contextlib
import hashlib
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from scalematch.dataset import load, sample_path, summarize

DATA = Path(__file__).parent.parent / "data"
FILES = [sample_path(), DATA / "fce_lvis_val_100.json", DATA / "rbc_valid.json"]


def _quiet_coco(path: Path) -> COCO:
    with contextlib.redirect_stdout(io.StringIO()):
        return COCO(str(path))


def _cocoeval_size_classes(gt: COCO) -> dict[str, int]:
    """Non-ignored ground truths per area range, as COCOeval decides (ground truth used as detections)."""
    dets = [
        {"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"], "score": 1.0}
        for a in gt.dataset["annotations"]
    ]
    with contextlib.redirect_stdout(io.StringIO()):
        dt = gt.loadRes(dets)
        ev = COCOeval(gt, dt, "bbox")
        ev.evaluate()
    names = dict(zip(ev.params.areaRngLbl, (tuple(r) for r in ev.params.areaRng), strict=True))
    out = {}
    for label in ("small", "medium", "large"):
        rng = list(names[label])
        out[label] = sum(
            int((np.asarray(e["gtIgnore"]) == 0).sum()) for e in ev.evalImgs if e is not None and e["aRng"] == rng
        )
    return out


def _reference(path: Path) -> dict[str, Any]:
    gt = _quiet_coco(path)
    for a in gt.dataset["annotations"]:
        a.setdefault("iscrowd", 0)  # LVIS has no iscrowd; COCOeval needs one (LVIS' own eval has no crowd)
    anns = [a for a in gt.dataset["annotations"] if not a.get("iscrowd", 0)]
    imgs = gt.imgs
    w_img = np.array([imgs[a["image_id"]]["width"] for a in anns], dtype=float)
    h_img = np.array([imgs[a["image_id"]]["height"] for a in anns], dtype=float)
    s = np.minimum(800 / np.minimum(w_img, h_img), 1333 / np.maximum(w_img, h_img))
    bw = np.array([a["bbox"][2] for a in anns])
    bh = np.array([a["bbox"][3] for a in anns])
    size_in = np.sqrt(bw * s * bh * s)
    return {
        "images": len(imgs),
        "annotations": len(anns),
        "crowd": len(gt.dataset["annotations"]) - len(anns),
        "categories": len(gt.cats),
        "size_classes": _cocoeval_size_classes(gt),
        "size_in": np.quantile(size_in, [0, 0.05, 0.25, 0.5, 0.75, 0.95, 1]),
        "per_category": {c: sum(1 for a in anns if a["category_id"] == c) for c in gt.cats},
    }


@pytest.mark.parametrize("name", FILES, ids=lambda p: p.name)
def test_matches_pycocotools(name: Path) -> None:
    ref = _reference(name)
    got = summarize(load(name))
    for key in ("images", "annotations", "crowd", "categories", "size_classes"):
        assert got[key] == ref[key], key
    q = got["size_in"]
    assert [q[k] for k in ("min", "q05", "q25", "q50", "q75", "q95", "max")] == pytest.approx(
        list(ref["size_in"]), rel=1e-12
    )
    assert {c["id"]: c["annotations"] for c in got["per_category"]} == ref["per_category"]
    assert got["excluded"] == {}


def test_expected_shapes_of_the_three_files() -> None:
    val = summarize(load(sample_path()))
    assert (val["images"], val["annotations"], val["crowd"]) == (100, 830, 9)
    lvis = load(DATA / "fce_lvis_val_100.json")
    assert not lvis.table["iscrowd"].any() and len(lvis.table) == 977
    rbc = load(DATA / "rbc_valid.json")
    assert rbc.categories[0] == "RBC-WBC"  # Roboflow's placeholder category, kept, with no objects
    assert (rbc.table["image_w"] == 416).all() and (rbc.table["image_h"] == 416).all()


def test_boxes_are_the_files_values() -> None:
    gt = _quiet_coco(sample_path())
    table = load(sample_path(), resize="none").table
    ref = np.array([gt.anns[i]["bbox"] for i in table["ann_id"]])
    assert np.array_equal(table[["x", "y", "w", "h"]].to_numpy(), ref)
    assert np.array_equal(table["area"].to_numpy(), [gt.anns[i]["area"] for i in table["ann_id"]])
    assert (table["scale"] == 1).all() and np.array_equal(table["w_in"], table["w"])


def test_sample_is_the_val2014_file() -> None:
    """The bundled sample is faster_coco_eval's instances_val2014_100.json, byte for byte (see its NOTICE.md);
    the tests read it from the package rather than from a second copy in tests/data."""
    digest = hashlib.sha256(sample_path().read_bytes()).hexdigest()
    assert digest == "0b82aff564f8c3774595d5457d12dbcf92da59b6482d2bd973520910703762bd"


def test_crowd_kept_and_flagged_but_not_in_size_stats() -> None:
    result = load(sample_path())
    crowd = result.table[result.table["iscrowd"]]
    assert len(crowd) == 9
    s = summarize(result)
    assert s["annotations"] + s["crowd"] == len(result.table)
