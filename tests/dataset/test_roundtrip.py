"""The same boxes written as Pascal VOC and as YOLO (built here) give the statistics of the COCO original."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from scalematch.dataset import load, summarize

DATA = Path(__file__).parent.parent / "data"
POLICIES = ["shortest-edge:800,1333", "longest-edge:640", "fixed:300x300", "multi-scale:640-800,1333", "none"]


def _coco() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "rbc_valid.json").read_text())
    return data


def write_voc(root: Path) -> Path:
    coco = _coco()
    cats = {c["id"]: c["name"] for c in coco["categories"]}
    (root / "Annotations").mkdir(parents=True)
    (root / "ImageSets" / "Main").mkdir(parents=True)
    stems = []
    for img in coco["images"]:
        stem = Path(img["file_name"]).stem
        stems.append(stem)
        objects = []
        for a in coco["annotations"]:
            if a["image_id"] != img["id"]:
                continue
            x, y, w, h = a["bbox"]
            # VOC pixel indices are 1-based and inclusive: xmin = x + 1, xmax = x + w.
            objects.append(
                f"<object><name>{cats[a['category_id']]}</name><truncated>0</truncated><difficult>0</difficult>"
                f"<bndbox><xmin>{x + 1}</xmin><ymin>{y + 1}</ymin><xmax>{x + w}</xmax><ymax>{y + h}</ymax>"
                "</bndbox></object>"
            )
        (root / "Annotations" / f"{stem}.xml").write_text(
            f"<annotation><folder>VOC</folder><filename>{img['file_name']}</filename><size>"
            f"<width>{img['width']}</width><height>{img['height']}</height><depth>3</depth></size>"
            + "".join(objects)
            + "</annotation>"
        )
    (root / "ImageSets" / "Main" / "val.txt").write_text("\n".join(stems) + "\n")
    return root


def write_yolo(root: Path, with_images: bool = True) -> Path:
    coco = _coco()
    (root / "labels").mkdir(parents=True)
    (root / "images").mkdir()
    names = [c["name"] for c in sorted(coco["categories"], key=lambda c: c["id"])]
    (root / "data.yaml").write_text("names:\n" + "".join(f"  - {n}\n" for n in names))
    for img in coco["images"]:
        stem = Path(img["file_name"]).stem
        W, H = img["width"], img["height"]
        if with_images:
            Image.new("L", (W, H)).save(root / "images" / f"{stem}.png")
        lines = []
        for a in coco["annotations"]:
            if a["image_id"] == img["id"]:
                x, y, w, h = a["bbox"]
                lines.append(f"{a['category_id']} {(x + w / 2) / W!r} {(y + h / 2) / H!r} {w / W!r} {h / H!r}")
        (root / "labels" / f"{stem}.txt").write_text("\n".join(lines) + "\n")
    return root


def _comparable(s: dict[str, Any]) -> dict[str, Any]:
    keys = ("images", "annotations", "crowd", "size_classes", "images_without_objects", "size_in_below_8")
    out = {k: s[k] for k in keys}
    for k in ("size_in", "w_in", "h_in", "aspect", "size_in_hi"):
        if k in s:
            out[k] = {q: pytest.approx(v, rel=1e-9) for q, v in s[k].items()}
    out["per_category"] = {
        c["name"]: (c["annotations"], c["size_classes"]) for c in s["per_category"] if c["annotations"]
    }
    return out


@pytest.mark.parametrize("policy", POLICIES)
def test_voc_equals_coco(tmp_path: Path, policy: str) -> None:
    voc = write_voc(tmp_path / "VOC2012")
    want = _comparable(summarize(load(DATA / "rbc_valid.json", resize=policy)))
    assert _comparable(summarize(load(voc, resize=policy))) == want
    assert _comparable(summarize(load(voc, resize=policy, split="val"))) == want


@pytest.mark.parametrize("policy", POLICIES)
def test_yolo_equals_coco(tmp_path: Path, policy: str) -> None:
    yolo = write_yolo(tmp_path / "ds")
    want = _comparable(summarize(load(DATA / "rbc_valid.json", resize=policy)))
    got = summarize(load(yolo, resize=policy))
    assert _comparable(got) == want
    assert got["categories"] == 3  # names from data.yaml, including the unused placeholder class 0


def test_yolo_background_images_count(tmp_path: Path) -> None:
    yolo = write_yolo(tmp_path / "ds")
    Image.new("L", (416, 416)).save(yolo / "images" / "background.png")
    want = summarize(load(DATA / "rbc_valid.json"))
    got = summarize(load(yolo))
    assert (got["images"], got["images_without_objects"]) == (
        want["images"] + 1,
        want["images_without_objects"] + 1,
    )
    assert got["objects_per_image"]["max"] == want["objects_per_image"]["max"]


def test_yolo_with_given_image_size(tmp_path: Path) -> None:
    yolo = write_yolo(tmp_path / "ds", with_images=False)
    want = _comparable(summarize(load(DATA / "rbc_valid.json")))
    assert _comparable(summarize(load(yolo, image_size=(416, 416)))) == want
    assert _comparable(summarize(load(yolo / "labels", format="yolo", image_size=(416, 416)))) == want


def test_voc_boxes_convert_the_inclusive_convention(tmp_path: Path) -> None:
    xml = tmp_path / "one.xml"
    xml.write_text(
        "<annotation><filename>a.jpg</filename><size><width>10</width><height>8</height></size>"
        "<object><name>dot</name><difficult>1</difficult><truncated>1</truncated>"
        "<bndbox><xmin>3</xmin><ymin>4</ymin><xmax>3</xmax><ymax>6</ymax></bndbox></object></annotation>"
    )
    row = load(xml, resize="none").table.iloc[0]
    assert (row["x"], row["y"], row["w"], row["h"]) == (2.0, 3.0, 1.0, 3.0)
    assert bool(row["difficult"]) and bool(row["truncated"])
