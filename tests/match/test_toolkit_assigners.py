"""Positives per object and level, simulated, against the toolkits' own assigner code on every real file.

torchvision's detectors run their own transform, anchor generator and matcher (tests/match/torchvision_ref.py);
mmdetection's ATSS its own dataset filter, Resize, AnchorGenerator and ATSSAssigner (tests/match/mmdet_ref.py);
yolov5's ComputeLoss.build_targets and ultralytics' TaskAlignedAssigner.select_candidates_in_gts run on boxes
their own letterbox functions prepare (tests/match/yolo_ref.py). Skipped when a toolkit is not installed,
unless SCALEMATCH_REQUIRE_TOOLKITS=1 (CI sets it).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from required import need

from scalematch.dataset import load, sample_path
from scalematch.match.assign import DROPPED, simulate
from scalematch.match.detector import toolkit_rows
from scalematch.match.result import usable
from scalematch.presets import load_preset
from scalematch.presets.preset import Preset
from scalematch.profile.api import build

DATA = Path(__file__).parent.parent / "data"
OTHERS = ("fce_lvis_val_100.json", "rbc_train.json", "rbc_valid.json", "rbc_test.json")
FILES = [sample_path(), *(DATA / n for n in OTHERS)]

pytestmark = pytest.mark.slow


def _need(module: str) -> None:
    need(module)


ASSIGNERS = ("numpy", "compiled")
"""The two implementations of the max-IoU assigner (RetinaNet, Faster R-CNN's RPN, SSD); the others have one."""

_truths: dict[tuple[object, ...], dict[int, list[int]]] = {}


def _truth(key: tuple[object, ...], compute: Callable[[], dict[int, list[int]]]) -> dict[int, list[int]]:
    """The toolkit's positives, computed once per ``key`` for the two assigners compared with them."""
    if key not in _truths:
        _truths[key] = compute()
    return _truths[key]


def _use(assigner: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the max-IoU simulation on ``assigner``: numpy, or the compiled kernel (numba, the fast extra)."""
    if assigner == "compiled":
        need("numba", "SCALEMATCH_REQUIRE_FAST", "numba is not installed (the fast extra)")
    monkeypatch.setenv("SCALEMATCH_COMPILED", "1" if assigner == "compiled" else "0")


def _rows(preset: Preset, path: Path) -> pd.DataFrame:
    """The rows of ``path`` that ``preset``'s toolkit trains on, as the simulation takes them (YOLO presets: the
    label text the converter writes)."""
    return toolkit_rows(load(path, resize="none"), preset)[0]


def _compare(
    detector: str, path: Path, reference: Callable[[str, Path], dict[int, list[int]]], key: object = None,
    ties: int = 0,
) -> None:  # fmt: skip
    """Our positives against ``reference``'s (kept for the other assigner when ``key`` names them), object by
    object: all equal, but for at most ``ties`` objects where the toolkit picks among equal values in an
    unspecified order."""
    preset = load_preset(detector)
    rows = _rows(preset, path)
    sim = simulate(preset, rows, build(preset.backbone, preset.neck))
    truth = reference(detector, path) if key is None else _truth((detector, key), lambda: reference(detector, path))
    ids = rows["ann_id"].to_numpy()
    assert set(truth) <= set(ids.tolist())
    ours = {int(a): sim.per_level[k].tolist() for k, a in enumerate(ids) if sim.reason[k] != DROPPED}
    assert set(ours) == set(truth), "the kept objects differ from the toolkit's"
    same = sum(ours[a] == truth[a] for a in truth)
    differ = [(a, ours[a], truth[a]) for a in truth if ours[a] != truth[a]][:5]
    assert same >= len(truth) - ties, f"{len(truth) - same} of {len(truth)} objects differ, e.g. {differ}"
    none_ours = {a for a in truth if sum(ours[a]) == 0}
    none_theirs = {a for a in truth if sum(truth[a]) == 0}
    assert none_ours == none_theirs
    # The positives actually vary: a test on all-zero or all-equal counts would prove little.
    totals = np.array([sum(v) for v in truth.values()])
    assert totals.max() > totals.min()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
@pytest.mark.parametrize(
    ("detector", "assigner"),
    [(d, a) for d in ("retinanet", "faster-rcnn", "ssd300") for a in ASSIGNERS] + [("fcos", "numpy")],
)
def test_torchvision(detector: str, assigner: str, path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _need("torchvision")
    _use(assigner, monkeypatch)
    import torchvision_ref

    _compare(detector, path, torchvision_ref.positives, key=path)


@pytest.mark.parametrize("assigner", ASSIGNERS)
@pytest.mark.parametrize("size", [(300, 299), (300, 400), (512, 300)])
def test_ssd_at_a_fixed_size_that_is_not_square(
    size: tuple[int, int], assigner: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """torchvision's SSD at another fixed_size (width, height): its default boxes are shares of the input's width
    and of its height, so they are not square in pixels there; every object as torchvision's own SSD decides."""
    _need("torchvision")
    _use(assigner, monkeypatch)
    import torchvision_ref

    from scalematch.match.search import at_input

    path = sample_path()
    preset = at_input(load_preset("ssd300"), f"fixed:{size[0]}x{size[1]}")
    rows = _rows(preset, path)
    sim = simulate(preset, rows, build(preset.backbone, preset.neck))
    truth = _truth(("ssd300", path, size), lambda: torchvision_ref.positives("ssd300", path, size))
    ids = rows["ann_id"].to_numpy()
    ours = {int(a): sim.per_level[k].tolist() for k, a in enumerate(ids) if sim.reason[k] != DROPPED}
    assert set(ours) == set(truth)
    differ = [(a, ours[a], truth[a]) for a in truth if ours[a] != truth[a]]
    assert not differ, differ[:5]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_atss_mmdetection(path: Path) -> None:
    """rbc_train: 1 of 4,947 objects differs (6 vs 7 positives on P3): its 9th and 10th nearest P3 anchors are
    equidistant (13.3996 px) and torch.topk picks among equal values in an unspecified order; scalematch takes
    the lower anchor index. Every other object is equal."""
    _need("mmdet")
    import mmdet_ref

    _compare("atss", path, lambda _, p: mmdet_ref.atss_positives(p), ties=1)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_yolov5(path: Path) -> None:
    _need("yolov5.utils.loss")
    import yolo_ref

    _compare("yolov5", path, lambda _, p: yolo_ref.yolov5_positives(p))


def test_yolov5_at_another_size_it_trains_at() -> None:
    """672, the size yolov5's check_img_size makes of 641 (which scalematch refuses): the simulation at 672 is
    build_targets' at 672, object by object."""
    _need("yolov5.utils.loss")
    import yolo_ref

    from scalematch.match.search import at_input

    path = sample_path()
    preset = at_input(load_preset("yolov5"), "longest-edge:672")
    rows = _rows(preset, path)
    sim = simulate(preset, rows, build(preset.backbone, preset.neck))
    truth = yolo_ref.yolov5_positives(path, 672)
    ids = rows["ann_id"].to_numpy()
    ours = {int(a): sim.per_level[k].tolist() for k, a in enumerate(ids) if sim.reason[k] != DROPPED}
    assert set(ours) == set(truth)
    differ = [(a, ours[a], truth[a]) for a in truth if ours[a] != truth[a]]
    assert not differ, differ[:5]
    assert truth != yolo_ref.yolov5_positives(path, 640)  # the size matters: the test compares something


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_yolov8_candidates(path: Path) -> None:
    _need("ultralytics.utils.tal")
    import yolo_ref

    _compare("yolov8", path, lambda _, p: yolo_ref.ultralytics_candidates(p))


def test_yolov8_candidates_of_boxes_that_letterbox_to_nothing(tmp_path: Path) -> None:
    """A box whose float32 width or height becomes 0 in the letterboxed square is still a target: LetterBox and
    Format keep every label and select_candidates_in_gts widens sides under 16 px (only mosaic drops empty boxes)."""
    _need("ultralytics.utils.tal")
    import json

    import yolo_ref

    boxes: list[list[float]] = [
        [320, 240, 1e-5, 1e-5],
        [320, 240, 1e-3, 1e-3],
        [10, 10, 1e-6, 30],
        [100.5, 50, 40, 1e-7],
        [5, 5, 60, 90],
    ]
    annotations = [
        {"id": k, "image_id": 1, "category_id": 1, "bbox": b, "area": b[2] * b[3], "iscrowd": 0}
        for k, b in enumerate(boxes, 1)
    ]
    images = [{"id": 1, "width": 640, "height": 480, "file_name": "1.jpg"}]
    doc = {"images": images, "annotations": annotations, "categories": [{"id": 1, "name": "a"}]}
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(doc))
    _compare("yolov8", path, lambda _, p: yolo_ref.ultralytics_candidates(p))


def _crowded_file(path: Path, seed: int) -> Path:
    """A COCO file of crowded images: clusters of tiny boxes (a few pixels, the low-quality matches and the
    competition for shared anchors), medium and large ones, boxes over the border; sizes vary per image."""
    import json

    rng = np.random.default_rng(seed)
    images: list[dict[str, object]] = []
    annotations: list[dict[str, object]] = []
    for i in range(1, 9):
        w, h = (int(v) for v in rng.integers(120, 1100, 2))
        images.append({"id": i, "width": w, "height": h, "file_name": f"{i}.jpg"})
        for _ in range(int(rng.integers(20, 60))):
            kind = rng.random()
            if kind < 0.6:  # a cluster of tiny boxes around a few centres
                cx, cy = rng.choice([0.2, 0.5, 0.8]) * w, rng.choice([0.3, 0.6]) * h
                bw, bh = rng.uniform(1, 14, 2)
                x, y = cx + rng.normal(0, 6) - bw / 2, cy + rng.normal(0, 6) - bh / 2
            else:
                bw, bh = rng.uniform(15, 0.9 * w), rng.uniform(15, 0.9 * h)
                x, y = rng.uniform(-0.1 * w, w - 0.5 * bw), rng.uniform(-0.1 * h, h - 0.5 * bh)
            bbox = [round(float(v), 2) for v in (x, y, bw, bh)]
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": i,
                    "category_id": 1,
                    "bbox": bbox,
                    "area": bw * bh,
                    "iscrowd": 0,
                }
            )
    path.write_text(json.dumps({"images": images, "annotations": annotations, "categories": [{"id": 1, "name": "o"}]}))
    return path


@pytest.mark.parametrize("assigner", ASSIGNERS)
@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("detector", ["retinanet", "faster-rcnn", "ssd300"])
def test_torchvision_on_crowded_images(
    detector: str, seed: int, assigner: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Crowded tiny objects: most positives come from low-quality matches and shared anchors, the cases the
    simulation prunes hardest (windows, per-shape winners, competitors of an anchor's owner)."""
    _need("torchvision")
    _use(assigner, monkeypatch)
    import torchvision_ref

    path = _crowded_file(tmp_path / "crowded.json", seed)
    _compare(detector, path, torchvision_ref.positives, key=("crowded", seed))


def test_atss_skips_what_mmdetection_skips_and_torchvision_keeps(tmp_path: Path) -> None:
    """COCO records whose 'ignore' key is true (1, true, "yes", [0]) are skipped by mmdetection's CocoDataset and so
    never reach ATSS; false ones (0, false, null, "") are kept, and torchvision, which has no such key, keeps all."""
    import json

    _need("mmdet")
    import mmdet_ref

    doc = json.loads(sample_path().read_text())
    values: list[object] = [1, True, "yes", [0], 0, False, None, ""]
    for k, ann in enumerate(doc["annotations"][:200]):
        ann["ignore"] = values[k % len(values)]
    path = tmp_path / "ignore.json"
    path.write_text(json.dumps(doc))
    _compare("atss", path, lambda _, p: mmdet_ref.atss_positives(p))
    rows = usable(load(path, resize="none").table)
    assert int(rows["ignore"].sum()) == sum(1 for k in range(200) if k % 8 < 4 and not doc["annotations"][k]["iscrowd"])
    for detector, dropped in (("atss", True), ("retinanet", False)):
        preset = load_preset(detector)
        sim = simulate(preset, rows, build(preset.backbone, preset.neck))
        flagged = rows["ignore"].to_numpy(bool)
        assert (sim.reason[flagged] == DROPPED).all() if dropped else (sim.reason[flagged] != DROPPED).all()
