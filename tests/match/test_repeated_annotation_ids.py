"""Repeated annotation ids in a COCO file, against each preset's toolkit: mmdetection's CocoDataset stops on them
(and so does the ATSS preset), torchvision's CocoDetection trains on the last record of an id at every place the
id is listed, ultralytics' ``convert_coco`` writes every record, and so do their presets, object by object. The
box table keeps the first record of an id that the other checks keep. Skipped when a toolkit is not installed, unless
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
        f"{path}: annotation id 7 appears more than once among the records of the file's images, and mmdetection "
        "3.3's CocoDataset stops on a repeated annotation id (atss cannot be simulated); give each annotation its "
        "own id [duplicate_id]"
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
        f"2 annotation records repeat an earlier record's id (the first: annotation id 7 in {path}): simulated as "
        "the last record of an id, whatever it holds, at every place the id is listed in an image of the file, as "
        "torchvision's CocoDetection reads them (pycocotools' index), then the toolkit's own checks of that record"
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
        "simulated as every record of an image of the file, as ultralytics' convert_coco writes them"
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


# Files of one image where id 9 repeats, the repeat holding what one of our checks leaves out, or the first record
# doing so: each toolkit resolves the id (pycocotools' anns[9]: the last record) before any check of its own.
A1: dict[str, Any] = {"id": 9, "image_id": 1, "category_id": 1, "bbox": [20, 20, 300, 200], "area": 60000, "iscrowd": 0}
CASES: dict[str, list[dict[str, Any]]] = {
    "unlisted_image": [A1, {**A1, "image_id": 99, "bbox": [400, 300, 200, 150]}],
    "unlisted_first": [{**A1, "image_id": 99}, {**A1, "bbox": [400, 300, 200, 150]}],
    "zero_width": [A1, {**A1, "bbox": [400, 300, 0, 150]}],
    "zero_width_first": [{**A1, "bbox": [400, 300, 0, 150]}, A1],
    "unknown_category": [A1, {**A1, "category_id": 42, "bbox": [400, 300, 200, 150]}],
    "unknown_category_unlisted": [A1, {**A1, "image_id": 99, "category_id": 42, "bbox": [400, 300, 200, 150]}],
    "other_category_unlisted": [A1, {**A1, "image_id": 99, "category_id": 2, "bbox": [400, 300, 200, 150]}],
    "crowd_last": [A1, {**A1, "iscrowd": 1, "bbox": [400, 300, 200, 150]}, {**A1, "id": 10, "bbox": [5, 5, 50, 50]}],
    "outside_image": [A1, {**A1, "image_id": 99, "bbox": [900, 900, 20, 20]}],
    "bad_bbox_unlisted": [A1, {**A1, "image_id": 99, "bbox": "oops"}],
    "bad_bbox_listed": [A1, {**A1, "bbox": "oops"}],
}


def _case(folder: Path, name: str) -> Path:
    path = folder / f"{name}.json"
    images = [{"id": 1, "file_name": "1.jpg", "width": 640, "height": 480}]
    categories = [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}]
    path.write_text(json.dumps({"images": images, "categories": categories, "annotations": CASES[name]}))
    return path


def _mmdet_load(path: Path) -> list[dict[str, Any]] | str:
    """mmdetection 3.3's own CocoDataset.load_data_list on ``path`` (its data list), or why it stops: ``ids`` on
    repeated ids, ``record`` on a record it cannot read."""
    import mmdet_ref

    dataset: Any = object.__new__(mmdet_ref._load()["CocoDataset"])
    dataset.ann_file, dataset.backend_args, dataset.data_prefix = str(path), None, {"img": ""}
    dataset._metainfo, dataset.return_classes = {"classes": ("cat", "dog")}, False
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            out: list[dict[str, Any]] = dataset.load_data_list()
        except AssertionError as exc:
            assert "are not unique" in str(exc)
            return "ids"
        except TypeError:
            return "record"
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_atss_stops_exactly_when_mmdetection_does_and_reads_its_records(tmp_path: Path, name: str) -> None:
    """Whatever the records hold: ATSS refuses the file exactly when the ids of the records of the file's images
    repeat; otherwise every box mmdetection's CocoDataset keeps is a kept object of the simulation, and no other."""
    need("mmdet")
    from scalematch.match import geometry

    path = _case(tmp_path, name)
    loaded = _mmdet_load(path)
    preset = load_preset("atss")
    if isinstance(loaded, str):
        # (a record it cannot read stops it first, the ids' check or not: either refusal will do)
        why = "appears more than once among" if loaded == "ids" else r"\[duplicate_id\]"
        with pytest.raises(DatasetError, match=why):
            evaluate(load(path), preset)
        return
    want = sorted(tuple(i["bbox"]) for d in loaded for i in d["instances"] if not i["ignore_flag"])
    rows, _ = toolkit_rows(load(path), preset)
    imgs = geometry.images(preset, rows["image_w"].to_numpy(float)[:1], rows["image_h"].to_numpy(float)[:1])
    import numpy as np

    objs = geometry.objects(preset, rows, np.zeros(len(rows), dtype=np.int64), imgs)
    kept = rows[objs.kept]
    assert sorted((r.x, r.y, r.x + r.w, r.y + r.h) for r in kept.itertuples()) == want


@pytest.mark.parametrize("name", sorted(CASES))
def test_torchvision_presets_read_the_record_pycocotools_resolves(tmp_path: Path, name: str) -> None:
    """At every place an id is listed, the last record of the id as CocoDetection gives it (box, category, crowd
    flag), then the reference's checks (crowds and boxes empty after clamping dropped); a last record whose box
    the toolkit cannot read is an error that says so."""
    need("torchvision")
    from torchvision.datasets import CocoDetection

    path = _case(tmp_path, name)
    with contextlib.redirect_stdout(io.StringIO()):
        target = CocoDetection(str(tmp_path), str(path))._load_target(1)
    readable = all(isinstance(a["bbox"], list) for a in target)
    preset = load_preset("retinanet")
    if not readable:
        with pytest.raises(DatasetError) as caught:
            evaluate(load(path), preset)
        assert str(caught.value) == (
            f"{path}: annotation id 9 is listed in image 1, where torchvision's CocoDetection reads the last record "
            "of the id, and scalematch's own type checks refuse that record ('bbox' 'oops': the toolkit stops there "
            "or reads it its own way; retinanet cannot be simulated); give each annotation its own id [duplicate_id]"
        )
        return
    from scalematch.match.detector import toolkit_table

    table = toolkit_table(load(path), preset)
    ours = [([r["x"], r["y"], r["w"], r["h"]], r["category_id"], int(r["iscrowd"])) for r in table.to_dict("records")]
    assert ours == [(a["bbox"], a["category_id"], a["iscrowd"]) for a in target]
    if all(any(side <= 1 for side in a["bbox"][2:]) for a in target):  # the reference's train set leaves it out
        with pytest.raises(DatasetError, match=r"\(_coco_remove_images_without_annotations\)\)$"):
            evaluate(load(path), preset, workers=1)
        return

    def kept(x: float, y: float, w: float, h: float) -> bool:  # the reference: clamped to 640x480, not empty
        return min(max(x + w, 0), 640) > min(max(x, 0), 640) and min(max(y + h, 0), 480) > min(max(y, 0), 480)

    trained = [a for a in target if a["iscrowd"] == 0 and kept(*a["bbox"])]
    if not trained:  # every box the reference would train on is dropped: nothing to simulate, said in one line
        with pytest.raises(DatasetError, match=r"no usable object to match: torchvision 0\.29's data pipeline drops"):
            evaluate(load(path), preset, workers=1)
        return
    result = evaluate(load(path), preset, workers=1)
    frame = result.to_frame("objects")
    dropped = frame["no_positive_reason"].eq("dropped_by_pipeline").to_numpy()
    assert len(frame) - int(dropped.sum()) == len(trained)
    note = result.to_dict()["repeated_annotation_ids"]
    assert isinstance(note, dict) and "the last record of an id, whatever it holds" in str(note["note"])


def test_a_repeat_of_a_record_left_out_is_no_repeat_in_the_table(tmp_path: Path) -> None:
    """The box table keeps a record whose id only a record left out has (an unlisted image, a zero width)."""
    for name in ("unlisted_first", "zero_width_first"):
        data = load(_case(tmp_path, name), workers=1)
        assert "duplicate_id" not in data.excluded
        assert data.table[["ann_id", "w"]].values.tolist() == [[9, CASES[name][1]["bbox"][2]]]
        assert data.repeated is not None and data.repeated.count == 1
