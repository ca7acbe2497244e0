"""COCO boxes past their image's border under the YOLO presets: the converters write labels out of [0, 1], and the
toolkit's ``verify_image_label`` drops the whole image as corrupt (ultralytics beyond its 1 % tolerance, yolov5 at
any excess). Checked image by image against ultralytics' own ``convert_coco`` + ``verify_image_label`` and yolov5's
``verify_image_label`` on the labels ultralytics writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from required import need

from scalematch.dataset import load
from scalematch.match.detector import evaluate
from scalematch.presets import load_preset

pytestmark = pytest.mark.slow

SIZES = [(333, 1001), (640, 480), (500, 375), (200, 300), (640, 640), (320, 240), (1000, 50), (77, 99)]
# (x, y, w, h) as fractions of the image: inside, past the border by less and more than 1 % of a side
BOXES = [
    [(0.1, 0.1, 0.3, 0.4)],
    [(0.1, 0.1, 0.3, 0.4), (-0.004, 0.2, 1.006, 0.3)],  # w 1.006: within ultralytics' tolerance, not yolov5's
    [(0.2, 0.2, 0.2, 0.2), (-0.02, -0.02, 1.03, 1.03)],  # w 1.03: corrupt for both
    [(0.5, 0.5, 0.1, 0.1), (-0.05, 0.3, 0.06, 0.2)],  # cx -0.02: corrupt for both
    [(0.5, 0.5, 0.1, 0.1), (-0.01, 0.3, 0.012, 0.2)],  # cx -0.004: ultralytics keeps it, yolov5 not
    [(0.95, 0.2, 0.1, 0.1)],  # past the right edge, centre inside: both keep it
    [(0.3, 0.3, 0.2, 0.2), (0.0, 0.0, 1.0, 1.0)],
    [(0.1, 0.95, 0.2, 0.12)],  # cy 1.01: ultralytics keeps it (<= 1.01 in float32), yolov5 not
]


def _coco(folder: Path, sizes: list[tuple[int, int]], boxes: list[list[tuple[int, list[float]]]]) -> Path:
    """A COCO file of images ``sizes`` (and their blank JPEGs), image k holding ``boxes[k]`` (category, xywh), where
    ultralytics' ``convert_coco`` looks for it."""
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for i, ((w, h), rows) in enumerate(zip(sizes, boxes, strict=True), 1):
        images.append({"id": i, "file_name": f"{i}.jpg", "width": w, "height": h})
        for c, box in rows:
            annotations.append({"id": len(annotations) + 1, "image_id": i, "category_id": c, "bbox": box,
                                "area": box[2] * box[3], "iscrowd": 0})  # fmt: skip
    return _write(folder, images, annotations)


def _write(folder: Path, images: list[dict[str, Any]], annotations: list[dict[str, Any]]) -> Path:
    """The COCO file of ``images`` and ``annotations`` (with blank JPEGs of the images' sizes), where ultralytics'
    ``convert_coco`` looks for it."""
    from PIL import Image

    (folder / "annotations").mkdir(parents=True)
    (folder / "images").mkdir()
    for image in images:
        Image.new("RGB", (image["width"], image["height"])).save(folder / "images" / image["file_name"])
    categories = [{"id": c, "name": f"c{c}"} for c in sorted({a["category_id"] for a in annotations})]
    path = folder / "annotations" / "instances_x.json"
    path.write_text(json.dumps({"images": images, "annotations": annotations, "categories": categories}))
    return path


def _kept(path: Path, detector: str) -> dict[int, list[bool]]:
    """Per image, whether our simulation keeps each of its objects (not dropped by the pipeline)."""
    preset = load_preset(detector)
    frame = evaluate(load(path, resize=preset.resize_policy()), preset, workers=1).to_frame("objects")
    out: dict[int, list[bool]] = {}
    for image, reason in zip(frame["image_id"], frame["no_positive_reason"], strict=True):
        out.setdefault(int(image), []).append(reason != "dropped_by_pipeline")
    return out


def _theirs(path: Path, detector: str, images: int, classes: int) -> dict[int, tuple[bool, int]]:
    """Per image, the toolkit's verdict on the label file its converter writes (ultralytics' ``convert_coco``):
    whether ``verify_image_label`` refuses it as corrupt (its count of corrupt files, the last but one value it
    returns), and the label rows it keeps."""
    converter = need("ultralytics.data.converter")
    save = path.parent.parent.parent / "converted"
    converter.convert_coco(str(path.parent), str(save), cls91to80=False)
    if detector == "yolov8":
        verify = need("ultralytics.data.utils").verify_image_label
    else:
        verify = need("yolov5.utils.dataloaders").verify_image_label
    out = {}
    for i in range(1, images + 1):
        args: tuple[Any, ...] = (
            str(path.parent.parent / "images" / f"{i}.jpg"),
            str(save / "labels" / "x" / f"{i}.txt"),
            "",
        )
        if detector == "yolov8":  # keypoint, classes, keypoints, their dimensions, single class
            args = (*args, False, classes, 0, 0, False)
        result = verify(args)
        out[i] = (bool(result[-2]), 0 if result[1] is None else len(result[1]))
    return out


@pytest.mark.parametrize("detector", ["yolov8", "yolov5"])
def test_an_image_with_a_label_out_of_bounds_is_dropped_as_the_toolkit_drops_it(tmp_path: Path, detector: str) -> None:
    boxes = [
        [(1, [round(x * w, 3), round(y * h, 3), round(bw * w, 3), round(bh * h, 3)]) for x, y, bw, bh in rows]
        for (w, h), rows in zip(SIZES, BOXES, strict=True)
    ]
    path = _coco(tmp_path / "coco", SIZES, boxes)
    theirs = {i: corrupt for i, (corrupt, _) in _theirs(path, detector, len(SIZES), 1).items()}
    ours = _kept(path, detector)
    assert all(len(set(kept)) == 1 for kept in ours.values())  # an image is kept or dropped whole
    assert {i: not kept[0] for i, kept in ours.items()} == theirs
    assert 0 < sum(theirs.values()) < len(theirs)  # some images dropped, some kept: the comparison proves something


@pytest.mark.parametrize("detector", ["yolov8", "yolov5"])
def test_identical_objects_are_trained_once_as_the_toolkit_trains_them(tmp_path: Path, detector: str) -> None:
    """The converter writes one row per distinct (class, label) of an image and verify_image_label removes repeated
    rows: of identical objects (same class and box) the toolkit trains on one; the same box in two classes stays."""
    boxes: list[list[tuple[int, list[float]]]] = [
        [(1, [10, 10, 100, 80]), (1, [10, 10, 100, 80]), (1, [300, 200, 50, 60])],
        [(1, [10, 10, 100, 80]), (2, [10, 10, 100, 80]), (2, [10, 10, 100, 80]), (2, [10, 10, 100, 80])],
        [(2, [5.5, 7.25, 30, 40]), (1, [5.5, 7.25, 30, 40.5]), (2, [5.5, 7.25, 30, 40])],
    ]
    path = _coco(tmp_path / "coco", [(640, 480)] * 3, boxes)
    theirs = {i: rows for i, (_, rows) in _theirs(path, detector, 3, 2).items()}
    assert theirs == {1: 2, 2: 2, 3: 2}
    assert {i: sum(kept) for i, kept in _kept(path, detector).items()} == theirs


@pytest.mark.parametrize("detector", ["yolov8", "yolov5"])
def test_a_record_we_exclude_but_the_converter_writes_drops_its_image(tmp_path: Path, detector: str) -> None:
    """A box wholly outside its image (``bbox_outside_image``) or a record with a repeated id (``duplicate_id``) is
    left out of the table, but ultralytics' ``convert_coco`` writes its label all the same: out of bounds, it makes
    ``verify_image_label`` refuse the whole file, and the image's other objects are not trained."""
    sizes = [(640, 480), (640, 480), (640, 100), (640, 480), (640, 480), (300, 200), (640, 480)]
    inside = [10, 10, 50, 40]
    extra: list[list[float] | None] = [
        [700, 100, 30, 30],  # wholly right of the image: centre x 1.12, refused by both
        [640, 100, 0.4, 30],  # touching the right edge from outside: centre x 1.0003, refused by yolov5 only
        [10, -2.76, 40, 1],  # just above: centre y -0.023 (a 100-px image), refused by both
        [10, -2.76, 40, 1],  # the same above a 480-px image: centre y -0.0047, refused by yolov5 only
        None,  # nothing else: kept by both
        [-50, 20, 40, 40],  # wholly left: refused by both
        [100, 100, 50, 40],  # in the image (its record repeats an id, below): kept by both
    ]
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for i, ((w, h), box) in enumerate(zip(sizes, extra, strict=True), 1):
        images.append({"id": i, "file_name": f"{i}.jpg", "width": w, "height": h})
        for b in [inside] + ([box] if box else []):
            annotations.append({"id": len(annotations) + 1, "image_id": i, "category_id": 1, "bbox": b,
                                "area": b[2] * b[3], "iscrowd": 0})  # fmt: skip
    annotations[-1]["id"] = 1  # image 7's second record repeats the first id: duplicate_id, written all the same
    annotations.append(
        {"id": 2, "image_id": 7, "category_id": 1, "bbox": [700, 10, 30, 30], "area": 900.0, "iscrowd": 0}
    )  # fmt: skip  (wholly outside, its id repeated: image 7 is refused too)
    path = _write(tmp_path / "coco", images, annotations)
    theirs = {i: corrupt for i, (corrupt, _) in _theirs(path, detector, len(sizes), 1).items()}
    ours = _kept(path, detector)
    assert all(len(set(kept)) == 1 for kept in ours.values())
    assert {i: not kept[0] for i, kept in ours.items()} == theirs
    assert 0 < sum(theirs.values()) < len(theirs)


@pytest.mark.parametrize("detector", ["yolov8", "yolov5"])
def test_a_record_the_reader_leaves_out_but_the_converter_writes_drops_its_image(tmp_path: Path, detector: str) -> None:
    """A record our reader leaves out for a problem of its own (``malformed_record``, ``bbox_invalid``) that
    ultralytics' ``convert_coco`` still writes (it reads ``iscrowd`` by Python's truth test, the ``bbox`` through
    ``np.array(..., float64)`` and the class as ``category_id - 1``, and never ``id`` or ``area``): the image is
    refused when the label it writes is, exactly as the toolkit's ``verify_image_label`` decides."""
    out, inside = [95, 10, 20, 20], [30, 30, 20, 20]  # centre x 1.05: out of bounds for both; in bounds
    extra: list[dict[str, Any]] = [
        {"bbox": out, "iscrowd": None},  # null is no crowd for the converter
        {"bbox": out, "area": -5},
        {"bbox": out, "area": "x"},
        {"bbox": out, "id": 2.5},  # (its id is replaced below)
        {"bbox": ["95", "10", "20", "20"]},
        {"bbox": [None, 10, 20, 20]},  # NaN written: refused by both
        {"bbox": inside, "iscrowd": None},  # written, in bounds: kept by both
        {"bbox": inside, "category_id": 1.5},  # class 0.5: ultralytics refuses a fraction, yolov5 does not check
        {"bbox": inside, "category_id": 0},  # class -1 (not listed: unknown_category): refused by both
        {"bbox": out, "iscrowd": "0"},  # a crowd for the converter (a non-empty string): not written
        {"bbox": out, "iscrowd": 2},
        {"bbox": ["95", 10, "-20", 20]},  # a negative side: not written
    ]
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for i, record in enumerate(extra, 1):
        images.append({"id": i, "file_name": f"{i}.jpg", "width": 100, "height": 100})
        for fields in ({"bbox": [10, 10, 20, 20]}, record):
            ann = {"id": len(annotations) + 1, "image_id": i, "category_id": 1, "area": 400.0, "iscrowd": 0}
            annotations.append({**ann, **fields, "id": 2.5 if "id" in fields else ann["id"]})
    path = tmp_path / "coco" / "annotations" / "instances_x.json"
    _write(tmp_path / "coco", images, annotations)
    path.write_text(json.dumps({"images": images, "annotations": annotations,
                                "categories": [{"id": 1, "name": "c"}]}))  # fmt: skip
    theirs = {i: corrupt for i, (corrupt, _) in _theirs(path, detector, len(extra), 1).items()}
    ours = _kept(path, detector)
    assert all(len(set(kept)) == 1 for kept in ours.values())
    assert {i: not kept[0] for i, kept in ours.items()} == theirs
    assert 0 < sum(theirs.values()) < len(theirs)


@pytest.mark.parametrize("detector", ["yolov8", "yolov5"])
def test_an_image_under_ten_pixels_is_dropped_as_the_toolkit_drops_it(tmp_path: Path, detector: str) -> None:
    """ultralytics' and yolov5's ``verify_image_label`` refuse an image under 10 pixels on a side as corrupt: from
    COCO input the image's size is taken to be the one its record gives (the JPEGs here are made at that size)."""
    sizes = [(9, 100), (100, 9), (9, 9), (10, 10), (10, 100), (100, 100)]
    boxes = [[(1, [w * 0.25, h * 0.25, w * 0.5, h * 0.5])] for w, h in sizes]
    path = _coco(tmp_path / "coco", sizes, boxes)
    theirs = {i: corrupt for i, (corrupt, _) in _theirs(path, detector, len(sizes), 1).items()}
    ours = _kept(path, detector)
    assert {i: not kept[0] for i, kept in ours.items()} == theirs
    assert 0 < sum(theirs.values()) < len(theirs)


@pytest.mark.parametrize("detector", ["yolov8", "yolov5"])
def test_a_category_zero_is_a_negative_class_the_toolkit_refuses(tmp_path: Path, detector: str) -> None:
    """``convert_coco`` (``cls91to80=False``) writes the class ``category_id - 1``: a COCO file whose categories
    count from 0 gets class -1 for category 0, and both ``verify_image_label``s refuse its image (negative label
    values), whatever its boxes."""
    boxes: list[list[tuple[int, list[float]]]] = [
        [(0, [10, 10, 100, 80]), (1, [200, 100, 50, 60])],
        [(1, [10, 10, 100, 80])],
        [(2, [10, 10, 100, 80]), (1, [300, 200, 50, 60])],
    ]
    path = _coco(tmp_path / "coco", [(640, 480)] * 3, boxes)
    theirs = {i: corrupt for i, (corrupt, _) in _theirs(path, detector, 3, 3).items()}
    ours = _kept(path, detector)
    assert {i: not kept[0] for i, kept in ours.items()} == theirs == {1: True, 2: False, 3: False}
