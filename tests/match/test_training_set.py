"""The images a toolkit leaves out of its training set before any transform, against the toolkit: mmdetection 3.3's
own ``CocoDataset.filter_data`` and ``XMLDataset.filter_data`` (with the COCO config's ``filter_cfg``, run on a
stand-in dataset object), and torchvision's reference filter ``_coco_remove_images_without_annotations``
(references/detection/coco_utils.py, not part of the torchvision package: re-implemented here from its text, on
pycocotools' own index). Their objects are not simulated, and the result counts them. Skipped when a toolkit is not
installed, unless SCALEMATCH_REQUIRE_TOOLKITS=1 (CI sets it)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from required import need

from scalematch.dataset import load
from scalematch.errors import DatasetError
from scalematch.match import geometry
from scalematch.match.detector import evaluate, toolkit_rows
from scalematch.match.training_set import training_images
from scalematch.presets import load_preset

pytestmark = pytest.mark.slow

CATEGORIES = [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}]

MMDET_IMAGES = [
    {"id": 1, "file_name": "1.jpg", "width": 30, "height": 200},  # short side under 32: dropped
    {"id": 2, "file_name": "2.jpg", "width": 640, "height": 480},
    {"id": 3, "file_name": "3.jpg", "width": 32, "height": 32},  # exactly 32: kept
    {"id": 4, "file_name": "4.jpg", "width": 640, "height": 31},
    {"id": 5, "file_name": "5.jpg", "width": 300, "height": 300},  # only an unlisted category's record
    {"id": 6, "file_name": "6.jpg", "width": 300, "height": 300},  # a listed one beside it
    {"id": 7, "file_name": "7.jpg", "width": 300, "height": 300},  # listed, resolved to an unlisted one
]
MMDET_ANNOTATIONS = [
    {"id": 1, "image_id": 1, "category_id": 1, "bbox": [5, 10, 20, 60]},
    {"id": 2, "image_id": 2, "category_id": 1, "bbox": [100, 50, 80, 60]},
    {"id": 3, "image_id": 3, "category_id": 2, "bbox": [4, 4, 20, 20]},
    {"id": 4, "image_id": 4, "category_id": 2, "bbox": [4, 4, 20, 20]},
    {"id": 5, "image_id": 4, "category_id": 1, "bbox": [100, 4, 20, 20], "iscrowd": 1},
    {"id": 20, "image_id": 5, "category_id": 5, "bbox": [10, 10, 50, 50]},
    {"id": 21, "image_id": 6, "category_id": 5, "bbox": [10, 10, 50, 50]},
    {"id": 22, "image_id": 6, "category_id": 2, "bbox": [100, 100, 50, 50]},
    {"id": 23, "image_id": 6, "category_id": 5, "bbox": [200, 100, 50, 50]},
    {"id": 24, "image_id": 7, "category_id": 1, "bbox": [10, 10, 50, 50]},
    # the last records of ids 20, 21 and 24, in an image the file does not list
    {"id": 20, "image_id": 99, "category_id": 1, "bbox": [20, 30, 60, 40]},
    {"id": 21, "image_id": 99, "category_id": 2, "bbox": [30, 30, 60, 40]},
    {"id": 24, "image_id": 99, "category_id": 5, "bbox": [30, 30, 60, 40]},
]


def _coco(path: Path, images: list[dict[str, Any]], annotations: list[dict[str, Any]]) -> Path:
    records = [
        {"iscrowd": 0, **a, "area": a["bbox"][2] * a["bbox"][3]} for a in annotations
    ]  # fmt: skip
    path.write_text(json.dumps({"images": images, "annotations": records, "categories": CATEGORIES}))
    return path


def _simulated(data: Any, preset: Any) -> list[tuple[int, float, float, float, float]]:
    """(image id, box xyxy in original pixels) of every object the simulation keeps, after the toolkit's filter."""
    rows, _ = toolkit_rows(training_images(data, preset)[0], preset)
    ids, index = np.unique(rows["image_id"].to_numpy(np.int64), return_inverse=True)
    first = [int(np.flatnonzero(index == k)[0]) for k in range(len(ids))]
    w0, h0 = (rows[c].to_numpy(np.float64)[first] for c in ("image_w", "image_h"))
    objs = geometry.objects(preset, rows, index.reshape(-1).astype(np.int64), geometry.images(preset, w0, h0))
    kept = rows[objs.kept]
    return sorted((int(r.image_id), r.x, r.y, r.x + r.w, r.y + r.h) for r in kept.itertuples())


def test_atss_trains_on_the_images_mmdetections_filter_data_keeps(tmp_path: Path) -> None:
    """CocoDataset.load_data_list then filter_data (filter_empty_gt=True, min_size=32, as the COCO config sets
    them): every instance it keeps is an object the simulation keeps, and no other; the images it drops are
    counted by why."""
    need("mmdet")
    import mmdet_ref

    path = _coco(tmp_path / "a.json", MMDET_IMAGES, MMDET_ANNOTATIONS)
    dataset: Any = object.__new__(mmdet_ref._load()["CocoDataset"])
    dataset.ann_file, dataset.backend_args, dataset.data_prefix = str(path), None, {"img": ""}
    dataset._metainfo, dataset.return_classes = {"classes": ("cat", "dog")}, False
    dataset.test_mode, dataset.filter_cfg = False, {"filter_empty_gt": True, "min_size": 32}
    with contextlib.redirect_stdout(io.StringIO()):
        dataset.data_list = dataset.load_data_list()
    kept = dataset.filter_data()
    want = sorted(
        (d["img_id"], *i["bbox"]) for d in kept for i in d["instances"] if not i["ignore_flag"]
    )  # fmt: skip
    assert {d["img_id"] for d in kept} == {2, 3, 6, 7}  # (the case is what it means to be)
    preset = load_preset("atss")
    data = load(path, resize=preset.resize_policy())
    assert _simulated(data, preset) == want
    left = training_images(data, preset)[1]
    assert left is not None
    assert (left.images, left.objects, left.small, left.no_class, left.empty_boxes) == (3, 3, 2, 1, 0)
    result = evaluate(data, preset, workers=1)
    reasons = result.to_frame("objects")["no_positive_reason"]
    assert (reasons != "dropped_by_pipeline").sum() == len(want)  # (image 7's: resolved to an unlisted category)
    assert result.left_out == left
    assert result.to_dict()["images_left_out"] == left.to_dict(preset)
    assert left.note(preset) == (
        "3 objects in 3 images not simulated: mmdetection 3.3's training dataset leaves out 2 images with a side "
        "under 32 px (filter_cfg min_size); 1 image without a record of a listed category in the file "
        "(filter_empty_gt, on the records before a repeated id is resolved)"
    )


def _voc(folder: Path, name: str, width: int, height: int, boxes: list[tuple[int, int, int, int]]) -> None:
    objects = "".join(
        f"<object><name>cat</name><difficult>0</difficult><bndbox><xmin>{b[0]}</xmin><ymin>{b[1]}</ymin>"
        f"<xmax>{b[2]}</xmax><ymax>{b[3]}</ymax></bndbox></object>"
        for b in boxes
    )
    folder.joinpath(f"{name}.xml").write_text(
        f"<annotation><filename>{name}.jpg</filename><size><width>{width}</width><height>{height}</height>"
        f"<depth>3</depth></size>{objects}</annotation>"
    )


def test_atss_on_voc_trains_on_the_images_xmldatasets_filter_data_keeps(tmp_path: Path) -> None:
    """XMLDataset.filter_data with the same filter_cfg: images under 32 px on a side are left out."""
    need("mmdet")
    import functools

    import mmdet_ref

    mmdet_ref._load()
    from mmdet.datasets.xml_style import XMLDataset

    folder = tmp_path / "voc"
    folder.mkdir()
    _voc(folder, "a", 500, 375, [(10, 20, 110, 220)])
    _voc(folder, "b", 200, 30, [(10, 5, 60, 25), (70, 5, 90, 25)])
    _voc(folder, "c", 32, 40, [(2, 2, 30, 30)])
    fake: Any = type("Stand", (), {})()
    fake.sub_data_root, fake.backend_args, fake._metainfo = str(folder), None, {"classes": ["cat"]}
    fake.cat2label, fake.bbox_min_size, fake.test_mode = {"cat": 0}, None, False
    fake.filter_cfg = {"filter_empty_gt": True, "min_size": 32}
    fake._parse_instance_info = functools.partial(XMLDataset._parse_instance_info, fake)
    fake.data_list = [
        XMLDataset.parse_data_info(fake, {"img_id": xml.stem, "file_name": "", "xml_path": str(xml)})
        for xml in sorted(folder.glob("*.xml"))
    ]
    kept = XMLDataset.filter_data(fake)
    preset = load_preset("atss")
    result = evaluate(load(folder, resize=preset.resize_policy()), preset, workers=1)
    objects = result.to_frame("objects")
    assert sorted({str(a).split(".xml")[0] for a in objects["annotation_id"]}) == [d["img_id"] for d in kept]
    assert result.left_out is not None and (result.left_out.images, result.left_out.objects) == (1, 2)


TV_IMAGES = [{"id": k, "file_name": f"{k}.jpg", "width": 400, "height": 300} for k in range(1, 9)]
TV_ANNOTATIONS = [
    {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 1, 60]},  # a 1 px pole alone: dropped
    {"id": 2, "image_id": 2, "category_id": 1, "bbox": [100, 50, 80, 60]},
    {"id": 3, "image_id": 3, "category_id": 1, "bbox": [10, 10, 1, 60]},  # beside a crowd: kept
    {"id": 4, "image_id": 3, "category_id": 2, "bbox": [100, 50, 80, 60], "iscrowd": 1},
    {"id": 5, "image_id": 4, "category_id": 1, "bbox": [10, 10, 0.5, 0.5]},
    {"id": 6, "image_id": 4, "category_id": 2, "bbox": [20, 20, 1, 1]},
    {"id": 7, "image_id": 5, "category_id": 2, "bbox": [20, 20, 1.5, 1.5]},  # over 1 px: kept
    {"id": 9, "image_id": 6, "category_id": 1, "bbox": [10, 10, 50, 50]},  # read as id 9's last record, 1 px
    {"id": 9, "image_id": 7, "category_id": 1, "bbox": [30, 30, 1, 40]},
    {"id": 10, "image_id": 8, "category_id": 1, "bbox": [30, 30, 1, 0.5]},  # read as id 10's last record
    {"id": 10, "image_id": 99, "category_id": 2, "bbox": [40, 40, 50, 60]},
]


def _reference_images(path: Path) -> list[int]:
    """The images the reference's train set keeps: those with a record (crowds included, as ``loadAnns`` gives
    them) whose bbox width and height are both over 1 (the keypoint branch does not apply: no ``keypoints``)."""
    from pycocotools.coco import COCO

    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(path))
    out = []
    for image in coco.getImgIds():
        records = coco.loadAnns(coco.getAnnIds(imgIds=image, iscrowd=None))
        if records and not all(any(side <= 1 for side in r["bbox"][2:]) for r in records):
            out.append(image)
    return out


@pytest.mark.parametrize("name", ["retinanet", "faster-rcnn", "fcos", "ssd300"])
def test_torchvision_presets_train_on_the_images_the_reference_keeps(tmp_path: Path, name: str) -> None:
    need("pycocotools")
    path = _coco(tmp_path / "t.json", TV_IMAGES, TV_ANNOTATIONS)
    images = _reference_images(path)
    assert images == [2, 3, 5, 8]  # (the case is what it means to be)
    preset = load_preset(name)
    result = evaluate(load(path, resize=preset.resize_policy()), preset, workers=1)
    objects = result.to_frame("objects")
    assert sorted(set(objects["image_id"])) == images
    assert result.left_out is not None
    assert (result.left_out.images, result.left_out.objects, result.left_out.empty_boxes) == (4, 5, 4)
    assert result.summary.objects == len(objects) == 4


def test_nothing_left_is_one_line(tmp_path: Path) -> None:
    path = _coco(tmp_path / "t.json", TV_IMAGES[:1], TV_ANNOTATIONS[:1])
    with pytest.raises(DatasetError) as caught:
        evaluate(load(path), load_preset("retinanet"), workers=1)
    assert str(caught.value) == (
        f"{path}: no usable object to match (1 object in 1 image not simulated: torchvision 0.29's detection "
        "reference leaves out 1 image whose records all have a box side of 1 px or less "
        "(_coco_remove_images_without_annotations))"
    )


def test_yolo_presets_and_stats_keep_every_image(tmp_path: Path) -> None:
    """yolov5 and ultralytics train on such images (an image without labels is a background image), and the
    statistics describe the data as it is."""
    path = _coco(tmp_path / "t.json", TV_IMAGES, TV_ANNOTATIONS)
    data = load(path, resize=load_preset("yolov8").resize_policy())
    for name in ("yolov5", "yolov8"):
        assert training_images(data, load_preset(name)) == (data, None)
    assert 1 in set(load(path).table["image_id"])
