"""YOLO label files with a line the toolkits refuse: scalematch's reader excludes that line only (counted), while
ultralytics' and yolov5's ``verify_image_label`` refuse the whole file as corrupt, so the toolkit trains on none of
the image's objects. The table marks the other objects ``label_refused`` and the YOLO presets' simulation drops
them (``dropped_by_pipeline``). Checked file by file against each toolkit's own ``verify_image_label``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from required import need

from scalematch.dataset import load
from scalematch.match.detector import evaluate
from scalematch.presets import load_preset

W, H = 64, 48
GOOD = "0 0.5 0.5 0.3 0.3"
# a second line for each file (beside GOOD)
LINES = {
    "ok": "",
    "far_out": "1 1.5 0.5 0.1 0.1",
    "past_tolerance": "1 0.5 0.5 0.1 1.02",
    "four_fields": "1 0.5 0.5 0.1",
    "six_fields": "1 0.5 0.5 0.1 0.1 0.3",
    "word": "a 0.5 0.5 0.1 0.1",
    "nan": "1 nan 0.5 0.1 0.1",
    "negative_class": "-1 0.5 0.5 0.1 0.1",
    "class_beyond_names": "5 0.5 0.5 0.1 0.1",  # yolov5's verify keeps it (its training stops later)
    "fractional_class": "1.5 0.5 0.5 0.1 0.1",  # yolov5's verify does not look
    "negative_width": "1 0.5 0.5 -0.1 0.1",
    "zero_width": "1 0.5 0.5 0 0.1",
    "repeated": GOOD,
    "within_tolerance": "1 -0.005 0.5 0.1 0.1",  # ultralytics keeps it, yolov5 refuses it
}


def _dataset(root: Path) -> Path:
    from PIL import Image

    (root / "labels").mkdir(parents=True)
    (root / "images").mkdir()
    (root / "data.yaml").write_text("names: [a, b, c]\n")
    for name, line in LINES.items():
        (root / "labels" / f"{name}.txt").write_text(GOOD + "\n" + (line + "\n" if line else ""))
        Image.new("RGB", (W, H)).save(root / "images" / f"{name}.png")
    return root


def _refused(root: Path, detector: str) -> dict[str, bool]:
    """Per file, whether the toolkit's own ``verify_image_label`` refuses it (its count of corrupt files)."""
    if detector == "yolov8":
        verify = need("ultralytics.data.utils").verify_image_label
    else:
        verify = need("yolov5.utils.dataloaders").verify_image_label
    out = {}
    for name in LINES:
        args: tuple[Any, ...] = (str(root / "images" / f"{name}.png"), str(root / "labels" / f"{name}.txt"), "")
        if detector == "yolov8":  # keypoint, classes, keypoints, their dimensions, single class
            args = (*args, False, 3, 0, 0, False)
        out[name] = bool(verify(args)[-2])
    return out


@pytest.mark.slow
@pytest.mark.parametrize("detector", ["yolov8", "yolov5"])
def test_a_file_the_toolkit_refuses_gives_no_object_to_train_on(tmp_path: Path, detector: str) -> None:
    root = _dataset(tmp_path / "ds")
    theirs = _refused(root, detector)
    preset = load_preset(detector)
    data = load(root, resize=preset.resize_policy())
    files = dict(zip(data.table["image_id"].tolist(), data.table["label_file"].astype(str).tolist(), strict=True))
    frame = evaluate(data, preset, workers=1).to_frame("objects")
    ours: dict[str, set[bool]] = {}
    for image, reason in zip(frame["image_id"].tolist(), frame["no_positive_reason"].tolist(), strict=True):
        ours.setdefault(Path(files[image]).stem, set()).add(reason == "dropped_by_pipeline")
    assert ours == {n: {refused} for n, refused in theirs.items()}
    assert 0 < sum(theirs.values()) < len(theirs)  # some refused, some kept: the comparison proves something


def test_the_table_marks_the_objects_of_a_refused_file(tmp_path: Path) -> None:
    """The ``label_refused`` bits, against each toolkit's verdict on each file: bit 1 ultralytics, bit 2 yolov5.
    ``within_tolerance`` is kept by our reader (ultralytics reads it), and only yolov5 refuses it: the simulation
    tells that from the label itself; ``class_beyond_names`` and ``fractional_class`` yolov5's check lets pass."""
    root = _dataset(tmp_path / "ds")
    ultralytics, yolov5 = _refused(root, "yolov8"), _refused(root, "yolov5")
    table = load(root, resize="none").table
    assert table.groupby("label_file", observed=True)["label_refused"].nunique().eq(1).all()
    files, refused = table["label_file"].astype(str), table["label_refused"].tolist()
    bits = {Path(f).stem: int(r) for f, r in zip(files, refused, strict=True)}
    assert {n: bool(b & 1) for n, b in bits.items()} == ultralytics
    expected = {n: r for n, r in yolov5.items() if n != "within_tolerance"}
    assert {n: bool(b & 2) for n, b in bits.items() if n != "within_tolerance"} == expected
    assert yolov5["within_tolerance"] and not bits["within_tolerance"]


def test_a_frame_brings_its_own_label_refused_flags(tmp_path: Path) -> None:
    """A DataFrame's ``label_refused`` holds the bits of the toolkits that refuse the object's file (an integer from
    0 to 3, else ``malformed_record``) and each YOLO preset drops the objects its toolkit's bit marks."""
    import pandas as pd

    from scalematch.dataset.loader import from_frame

    table = pd.DataFrame({"x": [1.0, 10.0, 20.0], "y": [1.0, 10.0, 20.0], "w": [5.0] * 3, "h": [5.0] * 3,
                          "image_w": [64.0] * 3, "image_h": [48.0] * 3, "image_id": [1, 2, 3],
                          "label_refused": [1, 2, 5]})  # fmt: skip
    data = from_frame(table, resize="none")
    assert data.excluded == {"malformed_record": 1}
    assert data.table["label_refused"].tolist() == [1, 2]
    for detector, dropped in (("yolov8", [True, False]), ("yolov5", [False, True])):
        preset = load_preset(detector)
        result = evaluate(from_frame(table.iloc[:2], resize=preset.resize_policy()), preset, workers=1)
        assert (result.to_frame("objects")["no_positive_reason"] == "dropped_by_pipeline").tolist() == dropped


SMALL = {"w9": (9, 100), "h9": (100, 9), "both9": (9, 9), "ten": (10, 10), "w10": (10, 100), "big": (64, 48)}


@pytest.mark.slow
@pytest.mark.parametrize("detector", ["yolov8", "yolov5"])
def test_an_image_under_ten_pixels_gives_no_object_to_train_on(tmp_path: Path, detector: str) -> None:
    """ultralytics' ``check_image`` and yolov5's ``verify_image_label`` assert both sides of the image > 9 pixels
    ("image size <10 pixels"), whatever its labels: the objects of a smaller image are dropped by the pipeline. An
    image rotated by EXIF (orientation 6) has its sides swapped first, as ``exif_size`` swaps them."""
    from PIL import Image

    root = tmp_path / "ds"
    (root / "labels").mkdir(parents=True)
    (root / "images").mkdir()
    (root / "data.yaml").write_text("names: [a, b, c]\n")
    names = [*SMALL, "rotated"]
    for name in names:
        (root / "labels" / f"{name}.txt").write_text(GOOD + "\n")
        if name == "rotated":
            exif = Image.Exif()
            exif[274] = 6
            Image.new("RGB", (9, 100)).save(root / "images" / f"{name}.jpg", exif=exif)
        else:
            Image.new("RGB", SMALL[name]).save(root / "images" / f"{name}.jpg")
    if detector == "yolov8":
        verify = need("ultralytics.data.utils").verify_image_label
    else:
        verify = need("yolov5.utils.dataloaders").verify_image_label
    theirs = {}
    for name in names:
        args: tuple[Any, ...] = (str(root / "images" / f"{name}.jpg"), str(root / "labels" / f"{name}.txt"), "")
        if detector == "yolov8":
            args = (*args, False, 3, 0, 0, False)
        theirs[name] = bool(verify(args)[-2])
    preset = load_preset(detector)
    data = load(root, resize=preset.resize_policy())
    files = dict(zip(data.table["image_id"].tolist(), data.table["label_file"].astype(str).tolist(), strict=True))
    frame = evaluate(data, preset, workers=1).to_frame("objects")
    ours = {
        Path(files[image]).stem: reason == "dropped_by_pipeline"
        for image, reason in zip(frame["image_id"].tolist(), frame["no_positive_reason"].tolist(), strict=True)
    }
    assert ours == theirs
    assert 0 < sum(theirs.values()) < len(theirs)
