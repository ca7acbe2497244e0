"""Repeated annotation ids in a COCO file, against each preset's toolkit: mmdetection's CocoDataset stops on them
(and so does the ATSS preset), torchvision's CocoDetection trains on the last record of an id at every place the
id is listed, ultralytics' ``convert_coco`` writes every record, and so do their presets, object by object. The
box table keeps the first record of an id. Skipped when a toolkit is not installed, unless
SCALEMATCH_REQUIRE_TOOLKITS=1 (CI sets it)."""

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
from scalematch.match.api import sweep
from scalematch.match.detector import evaluate, toolkit_rows
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
    with pytest.raises(DatasetError) as searched:  # the search over input sizes stops on it too, before its work
        sweep(path, "atss", resize=["shortest-edge:800,1333", "shortest-edge:640,1333"])
    assert str(searched.value) == str(caught.value)


def _boxes(rows: Any) -> dict[int, list[list[float]]]:
    """Per image, the boxes of ``rows`` (a box table) in their order."""
    out: dict[int, list[list[float]]] = {}
    for row in rows.itertuples():
        out.setdefault(int(row.image_id), []).append([row.x, row.y, row.w, row.h])
    return out


def test_torchvision_presets_read_the_last_record_at_every_place(tmp_path: Path) -> None:
    need("torchvision")
    from torchvision.datasets import CocoDetection

    path = _file(tmp_path)
    with contextlib.redirect_stdout(io.StringIO()):
        coco = CocoDetection(str(tmp_path / "images"), str(path))
    targets = {i: [a["bbox"] for a in coco._load_target(i)] for i in (1, 2)}
    # every place an id is listed takes its last record, in another image too
    assert targets == {1: [[300, 200, 200, 150], [300, 200, 200, 150], [100, 100, 30, 20]],
                       2: [[20, 30, 40, 50], [100, 100, 30, 20]]}  # fmt: skip
    data = load(path)
    for name in ("retinanet", "faster-rcnn", "fcos"):
        preset = load_preset(name)
        rows, _ = toolkit_rows(data, preset)
        assert _boxes(rows) == targets
        categories = {i: [a["category_id"] for a in coco._load_target(i)] for i in (1, 2)}
        assert {i: list(g["category_id"]) for i, g in rows.groupby("image_id")} == categories
        result = evaluate(data, preset)
        assert result.summary.objects == sum(map(len, targets.values()))
    note = result.to_dict()["repeated_annotation_ids"]
    assert isinstance(note, dict) and note["note"] == (
        f"2 annotation records repeat an earlier record's id (duplicate_id; the first: annotation id 7 in {path}): "
        "simulated as the last record of an id at every place the id is listed, as torchvision's CocoDetection "
        "reads them"
    )


def test_yolo_presets_read_every_record_as_convert_coco_writes_it(tmp_path: Path) -> None:
    need("ultralytics")
    from ultralytics.data.converter import convert_coco

    path = _file(tmp_path)
    out = tmp_path / "converted"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        convert_coco(str(path.parent), str(out), cls91to80=False)
    written = {int(f.stem): f.read_text().splitlines() for f in out.rglob("*.txt")}
    data = load(path)
    for name in ("yolov5", "yolov8"):
        rows, _ = toolkit_rows(data, load_preset(name))
        ours: dict[int, list[str]] = {}
        for row in rows.to_dict("records"):  # the label convert_coco writes for each row, as '%g' writes it
            x, y, w, h, iw, ih = (float(row[k]) for k in ("x", "y", "w", "h", "image_w", "image_h"))
            label = (int(row["category_id"]) - 1, (x + w / 2) / iw, (y + h / 2) / ih, w / iw, h / ih)
            ours.setdefault(int(row["image_id"]), []).append(" ".join(f"{v:g}" for v in label))
        assert ours == written
        result = evaluate(data, load_preset(name))
        assert result.summary.objects == len(ANNOTATIONS)
    note = result.to_dict()["repeated_annotation_ids"]
    assert isinstance(note, dict) and note["note"].endswith(
        "simulated as every record, as ultralytics' convert_coco writes them"
    )


def test_shards_and_workers_read_the_same_records(tmp_path: Path) -> None:
    """Ids are per input: each input's repeats are read as in that input, in its place of the joined table, with one
    process or two."""
    from scalematch.dataset.shards import read_shards

    paths = [_file(tmp_path / "a"), _file(tmp_path / "b")]
    alone = read_shards(paths, workers=1)
    both = read_shards(paths, workers=2)
    assert alone.repeated == both.repeated and alone.repeated is not None
    assert (alone.repeated.count, alone.repeated.first, alone.repeated.file) == (4, 7, str(paths[0]))
    one = load(paths[0])
    for name in ("retinanet", "yolov8"):
        preset = load_preset(name)
        rows = [toolkit_rows(d, preset)[0] for d in (alone, both)]
        assert rows[0].equals(rows[1])
        single = toolkit_rows(one, preset)[0]
        assert len(rows[0]) == 2 * len(single)
        for shard in map(str, paths):
            part = rows[0][rows[0]["shard"] == shard]
            assert (
                part[["x", "y", "w", "h", "category_id"]].values.tolist()
                == single[["x", "y", "w", "h", "category_id"]].values.tolist()
            )
            assert list(part["shard_image_id"]) == list(single["image_id"])


def test_no_repeated_id_no_note(tmp_path: Path) -> None:
    path = _file(tmp_path)
    doc = json.loads(path.read_text())
    for k, ann in enumerate(doc["annotations"]):
        ann["id"] = k + 1
    path.write_text(json.dumps(doc))
    result = evaluate(load(path), load_preset("atss"))
    assert result.repeated is None and "repeated_annotation_ids" not in result.to_dict()


def test_the_report_says_how_repeated_ids_are_read(tmp_path: Path) -> None:
    """The HTML report and recommendation.json carry the note; the matched repeats are not counted as crowd."""
    from scalematch.report.detector_report import build_detector_report

    path = _file(tmp_path)
    doc = json.loads(path.read_text())
    doc["annotations"][1]["iscrowd"] = 1  # the last record of id 7: a crowd at both of its places
    path.write_text(json.dumps(doc))
    result = evaluate(load(path), load_preset("retinanet"), workers=1)
    assert result.data is not None and result.summary.objects == 3
    files = build_detector_report(result, result.data, "scalematch recommend x.json")
    html = files["report.html"].decode("utf-8")
    assert "2 annotation records repeat an earlier record&#39;s id" in html
    assert "2 crowd annotations are kept in the box table but not matched." in html
    written = json.loads(files["recommendation.json"])["repeated_annotation_ids"]
    assert written == result.to_dict()["repeated_annotation_ids"]


def test_a_table_edited_in_place_keeps_its_repeated_records(tmp_path: Path) -> None:
    """Boxes edited in the loaded table (as_load_result rebuilds it): the repeated records still count, so atss
    still refuses the file and a torchvision preset still simulates every place an id is listed."""
    data = load(_file(tmp_path))
    data.table.loc[data.table["ann_id"] == 10, "w"] *= 1.5
    with pytest.raises(DatasetError, match="annotation id 7 appears more than once"):
        evaluate(data, load_preset("atss"))
    result = evaluate(data, load_preset("retinanet"), workers=1)
    assert result.summary.objects == 5  # as unedited: 3 places in image 1, 2 in image 2
    assert result.to_dict()["repeated_annotation_ids"] is not None
