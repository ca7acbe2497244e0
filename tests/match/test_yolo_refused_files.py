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
POLYGON = "0 0.1 0.1 0.5 0.1 0.5 0.5 0.1 0.5"
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
    "class_beyond_64_bits": "99999999999999999999 0.5 0.5 0.1 0.1",  # the same for yolov5
    "fractional_class": "1.5 0.5 0.5 0.1 0.1",  # yolov5's verify does not look
    "negative_width": "1 0.5 0.5 -0.1 0.1",
    "zero_width": "1 0.5 0.5 0 0.1",
    "repeated": GOOD,
    "within_tolerance": "1 -0.005 0.5 0.1 0.1",  # ultralytics keeps it, yolov5 refuses it
    # read as float32, as both toolkits read them: within bounds or whole once rounded
    "width_rounds_to_1.01": "1 0.5 0.5 1.0100000001 0.1",  # ultralytics keeps it, yolov5 refuses it
    "centre_rounds_to_-0.01": "1 -0.0100000001 0.5 0.1 0.1",  # the same
    "width_rounds_to_-0": "1 0.5 0.5 -1e-50 0.1",  # -0.0: a side of 0, no negative value
    "width_rounds_to_0": "1 0.5 0.5 1e-50 0.1",
    "class_rounds_to_1": "0.999999999 0.3 0.5 0.1 0.1",
    "class_rounds_to_0": "1e-50 0.3 0.5 0.1 0.1",
    "class_rounds_past_2**24": "16777217 0.3 0.5 0.1 0.1",  # class 16777216 as float32: beyond the names
    # numbers to Python's float (and so to both toolkits), not to our reader: unparsable_number, the file read
    "underscore": "1 0.3 0.5 0.1_0 0.1",
    "fullwidth": "1 0.3 0.5 \uff10.1 0.1",
    "class_inf": "inf 0.3 0.5 0.1 0.1",  # ultralytics: not a whole class; yolov5 does not look
}
# whole files
FILES = {name: GOOD + "\n" + (line + "\n" if line else "") for name, line in LINES.items()} | {
    "byte_order_mark": "\ufeff" + GOOD + "\n1 0.3 0.3 0.1 0.1\n",  # yolov5 opens it without utf-8-sig
    "line_of_spaces": GOOD + "\n   \n1 0.3 0.3 0.1 0.1\n",  # yolov5 keeps it: ragged rows
    "spaces_around": " \n\t\n" + GOOD + "\n\n1 0.3 0.3 0.1 0.1\n  \n",  # no line of spaces between labels
    "polygons_same_box": POLYGON + "\n0 0.1 0.1 0.5 0.5 0.1 0.5 0.3 0.3 0.5 0.1\n",  # ultralytics keeps both
    "polygon_and_box": POLYGON + "\n1 0.3 0.3 0.1 0.1\n",  # yolov5 reads the box line as two points
    "polygon_odd": POLYGON + "\n1 0.3 0.3 0.1 0.1 0.2 0.2 0.4\n",
    "polygon_one_point": POLYGON + "\n1 0.3 0.3\n",  # a box of no size: both read it
    "polygon_no_point": POLYGON + "\n1\n",
    "polygon_out": POLYGON + "\n1 0.3 0.3 1.02 0.4 0.5 0.5\n",
    "polygon_rounds_in": POLYGON + "\n1 0.3 0.3 1.0100000001 0.4 0.5 0.5\n",
}
# files whose second line our reader excludes (counted) while a toolkit reads it: name -> those toolkits
READ_BUT_EXCLUDED = {
    "zero_width": ("yolov8", "yolov5"),
    "width_rounds_to_-0": ("yolov8", "yolov5"),
    "width_rounds_to_0": ("yolov8", "yolov5"),
    "underscore": ("yolov8", "yolov5"),
    "fullwidth": ("yolov8", "yolov5"),
    "polygon_one_point": ("yolov8", "yolov5"),
    "polygon_and_box": ("yolov5",),
    "class_inf": ("yolov5",),
    "class_beyond_names": ("yolov5",),
    "class_beyond_64_bits": ("yolov5",),
    "class_rounds_past_2**24": ("yolov5",),
    "fractional_class": ("yolov5",),
}


def _dataset(root: Path) -> Path:
    from PIL import Image

    (root / "labels").mkdir(parents=True)
    (root / "images").mkdir()
    (root / "data.yaml").write_text("names: [a, b, c]\n")
    for name, text in FILES.items():
        (root / "labels" / f"{name}.txt").write_text(text, encoding="utf-8")
        Image.new("RGB", (W, H)).save(root / "images" / f"{name}.png")
    return root


def _verified(root: Path, detector: str) -> dict[str, list[float] | None]:
    """Per file, the classes of the rows the toolkit's own ``verify_image_label`` gives (None: it refuses the file
    as corrupt)."""
    if detector == "yolov8":
        verify = need("ultralytics.data.utils").verify_image_label
    else:
        verify = need("yolov5.utils.dataloaders").verify_image_label
    out: dict[str, list[float] | None] = {}
    for name in FILES:
        args: tuple[Any, ...] = (str(root / "images" / f"{name}.png"), str(root / "labels" / f"{name}.txt"), "")
        if detector == "yolov8":  # keypoint, classes, keypoints, their dimensions, single class
            args = (*args, False, 3, 0, 0, False)
        found = verify(args)
        out[name] = None if found[-2] else sorted(float(c) for c in found[1][:, 0])
    return out


def _refused(root: Path, detector: str) -> dict[str, bool]:
    """Per file, whether the toolkit's own ``verify_image_label`` refuses it (its count of corrupt files)."""
    return {name: rows is None for name, rows in _verified(root, detector).items()}


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
    expected = {n: {refused} for n, refused in theirs.items()}
    if detector == "yolov5":  # of two polygons of one box yolov5 removes the second (ultralytics keeps both)
        expected["polygons_same_box"] = {False, True}
    assert ours == expected
    assert 0 < sum(theirs.values()) < len(theirs)  # some refused, some kept: the comparison proves something


def test_the_table_marks_the_objects_of_a_refused_file(tmp_path: Path) -> None:
    """Per file and toolkit, against its own ``verify_image_label``: the file is refused exactly when the
    ``label_refused`` bit says so (bit 1 ultralytics, bit 2 yolov5) or, for yolov5, when a kept label is outside
    [0, 1] (``within_tolerance``: the simulation tells that from the label itself); else the toolkit's rows are
    our kept rows (their classes, read as float32: ``0.999999999`` is class 1), plus the line we exclude but it
    reads (:data:`READ_BUT_EXCLUDED`), less the polygon yolov5 removes as a repeated box (the simulation removes
    it too)."""
    import numpy as np

    from scalematch.dataset.yolo_labels import converted, refusals

    root = _dataset(tmp_path / "ds")
    table = load(root, resize="none").table
    assert table.groupby("label_file", observed=True)["label_refused"].nunique().eq(1).all()
    stems = table["label_file"].astype(str).map(lambda f: Path(f).stem)
    x, y, w, h, image_w, image_h = (table[c].to_numpy(np.float64) for c in ("x", "y", "w", "h", "image_w", "image_h"))
    label = converted(x, y, w, h, image_w, image_h, False)
    outside = refusals(label)
    wrong = []
    for detector, bit in (("yolov8", 1), ("yolov5", 2)):
        for name, theirs in _verified(root, detector).items():
            mine = (stems == name).to_numpy()
            refused = bool((table["label_refused"].to_numpy()[mine] & bit).any() or (outside[mine] & bit).any())
            if refused != (theirs is None):
                wrong.append((detector, name, "refused" if refused else "read"))
            if theirs is None or refused:
                continue
            ours = table["category_id"][mine].astype(float).tolist()
            if detector in READ_BUT_EXCLUDED.get(name, ()):
                ours.append(float(np.float32(FILES[name].split("\n")[1].split()[0])))
            if detector == "yolov5" and name == "polygons_same_box":
                ours.pop()
            if sorted(ours) != theirs:
                wrong.append((detector, name, f"classes {sorted(ours)}, theirs {theirs}"))
    assert wrong == []


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


def _refused_by(detector: str, root: Path, names: list[str], suffix: str) -> dict[str, bool]:
    """Per name, whether the detector's toolkit (its own ``verify_image_label``) drops ``images/<name>.<suffix>``
    with ``labels/<name>.txt`` of the dataset ``root`` as corrupt."""
    if detector == "yolov8":
        verify = need("ultralytics.data.utils").verify_image_label
    else:
        verify = need("yolov5.utils.dataloaders").verify_image_label
    theirs = {}
    for name in names:
        args: tuple[Any, ...] = (str(root / "images" / f"{name}.{suffix}"), str(root / "labels" / f"{name}.txt"), "")
        if detector == "yolov8":
            args = (*args, False, 3, 0, 0, False)
        theirs[name] = bool(verify(args)[-2])
    return theirs


def _dropped(data: Any, preset: Any) -> dict[str, bool]:
    """Per label file (by its name), whether ``preset``'s simulation counts its object dropped by the pipeline."""
    files = dict(zip(data.table["image_id"].tolist(), data.table["label_file"].astype(str).tolist(), strict=True))
    frame = evaluate(data, preset, workers=1).to_frame("objects")
    return {
        Path(files[image]).stem: reason == "dropped_by_pipeline"
        for image, reason in zip(frame["image_id"].tolist(), frame["no_positive_reason"].tolist(), strict=True)
    }


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
    theirs = _refused_by(detector, root, names, "jpg")
    preset = load_preset(detector)
    data = load(root, resize=preset.resize_policy())
    ours = _dropped(data, preset)
    assert ours == theirs
    assert 0 < sum(theirs.values()) < len(theirs)


def _png_header(path: Path, width: int, height: int) -> None:
    """A black 1-bit PNG of ``width`` x ``height``, written chunk by chunk (the pixels compress to a few kB; Pillow
    would hold one byte a pixel to write it)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    row = b"\0" * (1 + (width + 7) // 8)  # filter byte, then the row's bits
    pack = zlib.compressobj(9)
    pixels = b"".join(pack.compress(row * min(512, height - k)) for k in range(0, height, 512)) + pack.flush()
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", pixels) + chunk(b"IEND", b""))


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # the toolkits' Image.open, under the bound
@pytest.mark.parametrize("detector", ["yolov8", "yolov5"])
def test_an_image_over_pillows_bound_gives_no_object_to_train_on(tmp_path: Path, detector: str) -> None:
    """Both toolkits open every image with Pillow, whose ``Image.open`` refuses more than twice
    ``MAX_IMAGE_PIXELS`` (DecompressionBombError: 178,956,970 pixels by default): the image is corrupt to
    ``verify_image_label`` and its objects are dropped by the pipeline (review round 20, F1: a 13400 x 13400 aerial
    image was simulated as trained). An image just under the bound is trained on."""
    from PIL import Image

    limit = 2 * (Image.MAX_IMAGE_PIXELS or 89_478_485)  # (Pillow's default where the check is off)
    side = int(limit**0.5)
    sizes = {"over": (side + 1, side + 1), "under": (side, side), "wide_over": (limit // 1000 + 1, 1000)}
    assert sizes["over"][0] ** 2 > limit >= sizes["under"][0] ** 2
    root = tmp_path / "ds"
    (root / "labels").mkdir(parents=True)
    (root / "images").mkdir()
    (root / "data.yaml").write_text("names: [a, b, c]\n")
    for name, (w, h) in sizes.items():
        (root / "labels" / f"{name}.txt").write_text(GOOD + "\n")
        _png_header(root / "images" / f"{name}.png", w, h)
    theirs = _refused_by(detector, root, list(sizes), "png")
    assert theirs == {"over": True, "under": False, "wide_over": True}
    preset = load_preset(detector)
    data = load(root, resize=preset.resize_policy())
    ours = _dropped(data, preset)
    assert ours == theirs


@pytest.mark.parametrize("detector", ["yolov8", "yolov5"])
def test_an_image_pillow_cannot_open_gives_no_object_with_image_size(tmp_path: Path, detector: str) -> None:
    """With ``image_size`` an image whose header Pillow cannot read takes that size, as a missing image does; but
    such an image is there, and both ``verify_image_label`` open it and drop it as corrupt (review round 20, F3):
    its objects are dropped by the pipeline, the objects of a readable image and of a label without an image are
    not."""
    from PIL import Image

    root = tmp_path / "ds"
    (root / "labels").mkdir(parents=True)
    (root / "images").mkdir()
    (root / "data.yaml").write_text("names: [a, b, c]\n")
    for name in ("empty", "text", "cut", "good"):
        (root / "labels" / f"{name}.txt").write_text(GOOD + "\n")
    (root / "labels" / "missing.txt").write_text(GOOD + "\n")
    (root / "images" / "empty.jpg").write_bytes(b"")
    (root / "images" / "text.jpg").write_text("not an image\n")
    Image.new("RGB", (64, 48)).save(root / "images" / "good.jpg")
    (root / "images" / "cut.jpg").write_bytes((root / "images" / "good.jpg").read_bytes()[:40])
    theirs = _refused_by(detector, root, ["empty", "text", "cut", "good"], "jpg")
    assert theirs == {"empty": True, "text": True, "cut": True, "good": False}
    theirs["missing"] = False  # no image to open: the size given is taken for it
    preset = load_preset(detector)
    data = load(root, resize=preset.resize_policy(), image_size=(64, 48))
    ours = _dropped(data, preset)
    assert ours == theirs
