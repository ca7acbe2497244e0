"""Repeated annotation ids in a COCO file, against each preset's toolkit: mmdetection's CocoDataset stops on them
(and so does the ATSS preset), torchvision's CocoDetection trains on the last record of an id at every place the
id is listed, ultralytics' ``convert_coco`` writes every record. The box table keeps the first record of an id,
and the torchvision and YOLO presets say how many records they simulate otherwise than their toolkit. Skipped when
a toolkit is not installed, unless SCALEMATCH_REQUIRE_TOOLKITS=1 (CI sets it)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from required import need

from scalematch.dataset import load
from scalematch.errors import DatasetError
from scalematch.match.detector import evaluate
from scalematch.presets import load_preset

pytestmark = pytest.mark.slow

IMAGES: list[dict[str, Any]] = [{"id": 1, "file_name": "1.jpg", "width": 640, "height": 480},
          {"id": 2, "file_name": "2.jpg", "width": 320, "height": 240}]  # fmt: skip
ANNOTATIONS: list[dict[str, Any]] = [
    {"id": 7, "image_id": 1, "category_id": 1, "bbox": [10, 10, 4, 4]},  # id 7 twice in one image
    {"id": 7, "image_id": 1, "category_id": 1, "bbox": [300, 200, 200, 150]},
    {"id": 9, "image_id": 1, "category_id": 2, "bbox": [50, 60, 70, 80]},  # id 9 in two images
    {"id": 10, "image_id": 2, "category_id": 1, "bbox": [20, 30, 40, 50]},
    {"id": 9, "image_id": 2, "category_id": 1, "bbox": [100, 100, 30, 20]},
]


def _file(folder: Path) -> Path:
    """The file (with blank JPEGs of its images), where ultralytics' ``convert_coco`` looks for it."""
    from PIL import Image

    (folder / "annotations").mkdir(parents=True)
    (folder / "images").mkdir()
    for image in IMAGES:
        Image.new("RGB", (image["width"], image["height"])).save(folder / "images" / image["file_name"])
    annotations = [{**a, "area": a["bbox"][2] * a["bbox"][3], "iscrowd": 0} for a in ANNOTATIONS]
    categories = [{"id": 1, "name": "car"}, {"id": 2, "name": "bus"}]
    path = folder / "annotations" / "instances_x.json"
    path.write_text(json.dumps({"images": IMAGES, "annotations": annotations, "categories": categories}))
    return path


def test_the_box_table_keeps_the_first_record_and_counts_the_others(tmp_path: Path) -> None:
    data = load(_file(tmp_path), resize="none")
    assert data.excluded == {"duplicate_id": 2}
    assert data.repeated is not None and (data.repeated.count, data.repeated.first) == (2, 7)
    assert data.table[["ann_id", "image_id", "w"]].values.tolist() == [[7, 1, 4], [9, 1, 70], [10, 2, 40]]


def test_mmdetection_stops_and_so_does_atss(tmp_path: Path) -> None:
    need("mmdet")
    import mmdet_ref

    path = _file(tmp_path)
    dataset: Any = object.__new__(mmdet_ref._load()["CocoDataset"])  # its own load_data_list, on this file
    dataset.ann_file, dataset.backend_args, dataset.data_prefix = str(path), None, {"img": ""}
    dataset._metainfo, dataset.return_classes = {"classes": ("car", "bus")}, False
    with pytest.raises(AssertionError, match="are not unique"):
        dataset.load_data_list()
    with pytest.raises(DatasetError) as caught:
        evaluate(load(path), load_preset("atss"))
    assert str(caught.value) == (
        f"{path}: annotation id 7 appears more than once, and mmdetection 3.3's CocoDataset stops on a repeated "
        "annotation id (atss cannot be simulated); give each annotation its own id [duplicate_id]"
    )


def test_torchvision_presets_say_they_simulate_the_first_record(tmp_path: Path) -> None:
    need("torchvision")
    from torchvision.datasets import CocoDetection

    path = _file(tmp_path)
    with contextlib.redirect_stdout(io.StringIO()):
        coco = CocoDetection(str(tmp_path / "images"), str(path))
    targets = {i: [a["bbox"] for a in coco._load_target(i)] for i in (1, 2)}
    # every place an id is listed takes its last record, in another image too
    assert targets == {1: [[300, 200, 200, 150], [300, 200, 200, 150], [100, 100, 30, 20]],
                       2: [[20, 30, 40, 50], [100, 100, 30, 20]]}  # fmt: skip
    listed = sum(map(len, targets.values()))
    result = evaluate(load(path), load_preset("retinanet"))
    assert result.summary.objects == 3 and result.repeated is not None
    assert result.summary.objects + result.repeated.count == listed
    note = result.to_dict()["repeated_annotation_ids"]
    assert isinstance(note, dict) and note["note"] == (
        f"2 annotation records repeat an earlier record's id (duplicate_id; the first: annotation id 7 in {path}): "
        "the simulation keeps the first record of each id, where torchvision's CocoDetection trains on the last "
        "record at every place the id is listed"
    )


def test_yolo_presets_say_they_simulate_the_first_record(tmp_path: Path) -> None:
    need("ultralytics")
    from ultralytics.data.converter import convert_coco

    path = _file(tmp_path)
    out = tmp_path / "converted"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        convert_coco(str(path.parent), str(out), cls91to80=False)
    written = sum(len(f.read_text().splitlines()) for f in out.rglob("*.txt"))
    assert written == len(ANNOTATIONS)  # every record
    result = evaluate(load(path), load_preset("yolov8"))
    assert result.repeated is not None and result.summary.objects + result.repeated.count == written
    note = result.to_dict()["repeated_annotation_ids"]
    assert isinstance(note, dict) and "ultralytics' convert_coco writes every record as a label" in note["note"]


def test_no_repeated_id_no_note(tmp_path: Path) -> None:
    path = _file(tmp_path)
    doc = json.loads(path.read_text())
    for k, ann in enumerate(doc["annotations"]):
        ann["id"] = k + 1
    path.write_text(json.dumps(doc))
    result = evaluate(load(path), load_preset("atss"))
    assert result.repeated is None and "repeated_annotation_ids" not in result.to_dict()
