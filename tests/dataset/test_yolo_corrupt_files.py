"""YOLO images that the toolkits' ``verify_image_label`` drop as corrupt for their file (Pillow's ``verify()``
fails, a format the toolkit does not read, a JPEG cut short), compared image by image with ultralytics' and
yolov5's own ``verify_image_label`` on copies of the same files: an image both drop is ``corrupt_image``, one that
a single toolkit drops is dropped by that toolkit's preset only, and the files read are never modified."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from required import need

from scalematch.dataset import load
from scalematch.errors import DatasetError
from scalematch.match.detector import evaluate
from scalematch.presets import load_preset


def _pixels(w: int = 64, h: int = 48) -> Image.Image:
    rng = np.random.default_rng(w * h)
    return Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8))


def _encoded(fmt: str, w: int = 64, h: int = 48) -> bytes:
    out = io.BytesIO()
    _pixels(w, h).save(out, format=fmt)
    return out.getvalue()


def _bad_crc() -> bytes:
    data = bytearray(_encoded("PNG"))
    data[data.index(b"IDAT") + 6] ^= 0xFF  # a byte of the pixel data: the chunk's CRC no longer matches
    return bytes(data)


CASES: dict[str, bytes] = {
    "valid.jpg": _encoded("JPEG"),
    "gif.jpg": _encoded("GIF"),  # GIF is in neither toolkit's IMG_FORMATS
    "pcx.png": _encoded("PCX"),
    "truncated.png": _encoded("PNG")[:-400],  # verify(): 'Truncated File Read'
    "crc.png": _bad_crc(),  # verify(): 'broken PNG file (bad header checksum ...)'
    "tiny.png": _encoded("PNG", 8, 40),  # 'image size <10 pixels'
    "trailing.jpg": _encoded("JPEG") + b"\0\0",  # not ending in FFD9: the toolkits decode it, save it again, keep it
    "no_eoi.jpg": _encoded("JPEG")[:-2],  # FFD9 cut off: kept when its pixels decode (these do not, in Pillow 13)
    "cut.jpg": _encoded("JPEG")[:-600],  # no FFD9 and cut short: their decode fails, the image is dropped
    "bmp.jpg": _encoded("BMP"),  # a BMP named .jpg: a format both read
    "jp2.png": _encoded("JPEG2000"),  # 'jpeg2000': ultralytics reads it, yolov5 does not
}
# Excluded as corrupt_image; tiny.png is dropped from its size by both presets, and kept in the table
DROPPED_BY_BOTH = {"gif.jpg", "pcx.png", "truncated.png", "crc.png", "no_eoi.jpg", "cut.jpg"}


def _dataset(root: Path) -> Path:
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    for name, data in CASES.items():
        (root / "images" / name).write_bytes(data)
        (root / "labels" / name).with_suffix(".txt").write_text("0 0.5 0.5 0.5 0.5\n0 0.25 0.25 0.2 0.3\n")
    (root / "data.yaml").write_text("names: [a]\n")
    return root


def _theirs(root: Path, detector: str, work: Path) -> dict[str, bool]:
    """Per image, whether the toolkit's ``verify_image_label`` drops it as corrupt, each called on a fresh copy
    (ultralytics and yolov5 rewrite a JPEG without FFD9 in place)."""
    if detector == "yolov8":
        verify = need("ultralytics.data.utils").verify_image_label
    else:
        verify = need("yolov5.utils.dataloaders").verify_image_label
    out = {}
    for name in CASES:
        copy = work / name
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(root, copy)
        args: tuple[Any, ...] = (str(copy / "images" / name), str(copy / "labels" / Path(name).with_suffix(".txt")), "")
        if detector == "yolov8":  # keypoint, classes, keypoints, their dimensions, single class
            args = (*args, False, 1, 0, 0, False)
        out[name] = bool(verify(args)[-2])
    return out


def _ours(root: Path, detector: str) -> tuple[dict[str, bool], dict[str, int]]:
    """Per image, whether our simulation of ``detector`` drops its objects (an image excluded has none), and the
    exclusions."""
    preset = load_preset(detector)
    loaded = load(root, resize=preset.resize_policy())
    names = dict(zip(loaded.table["image_id"], loaded.table["file_name"], strict=True))
    frame = evaluate(loaded, preset, workers=1).to_frame("objects")
    dropped: dict[str, set[bool]] = {name: set() for name in CASES}
    for image, reason in zip(frame["image_id"], frame["no_positive_reason"], strict=True):
        dropped[names[image]].add(reason == "dropped_by_pipeline")
    assert all(len(verdicts) <= 1 for verdicts in dropped.values())  # an image is kept or dropped whole
    return {name: not verdicts or True in verdicts for name, verdicts in dropped.items()}, loaded.excluded


@pytest.mark.parametrize("detector", ["yolov8", "yolov5"])
def test_images_are_dropped_as_the_toolkit_drops_them(tmp_path: Path, detector: str) -> None:
    root = _dataset(tmp_path / "ds")
    before = {p.name: p.read_bytes() for p in (root / "images").iterdir()}
    theirs = _theirs(root, detector, tmp_path / "copies")
    ours, excluded = _ours(root, detector)
    assert ours == theirs
    assert theirs["jp2.png"] is (detector == "yolov5")  # the toolkits differ on it: the comparison sees both ways
    assert not theirs["trailing.jpg"] and theirs["cut.jpg"] and theirs["tiny.png"]
    assert excluded == {"corrupt_image": len(DROPPED_BY_BOTH)}
    assert {p.name: p.read_bytes() for p in (root / "images").iterdir()} == before  # nothing rewritten


def _remove(root: Path, name: str) -> None:
    (root / "images" / name).unlink()
    (root / "labels" / name).with_suffix(".txt").unlink()


def test_an_image_both_drop_is_excluded_and_named_under_strict(tmp_path: Path) -> None:
    root = _dataset(tmp_path / "ds")
    loaded = load(root)
    assert set(loaded.table["file_name"]) == set(CASES) - DROPPED_BY_BOTH  # no image of the dataset
    assert len(loaded.table) == 2 * len(loaded.table["file_name"].unique())
    for name in set(CASES) - {"gif.jpg", "valid.jpg"}:
        _remove(root, name)
    with pytest.raises(DatasetError) as err:
        load(root, strict=True)
    assert str(err.value) == (
        f"{root}: images/gif.jpg: ultralytics and yolov5 drop this image as corrupt (verify_image_label): its format "
        "is GIF, whatever its suffix; the labels of gif.txt are never trained on [corrupt_image]"
    )


def test_a_corrupt_image_is_named_from_a_labels_folder_given(tmp_path: Path) -> None:
    root = _dataset(tmp_path / "ds")
    for name in set(CASES) - {"crc.png"}:
        _remove(root, name)
    with pytest.raises(DatasetError, match=r"labels: .*/ds/images/crc\.png: ultralytics and yolov5 drop .*"
                       r"verify\(\) fails \(\"broken PNG file \(bad header checksum in b'IDAT'\)\"\)"):  # fmt: skip
        load(root / "labels", strict=True)


def test_an_error_of_the_check_itself_is_raised_not_taken_for_an_unreadable_image(tmp_path: Path) -> None:
    """Only the header's own errors mean "no size": an error raised by the check run on the opened image (a bug)
    comes out as it is, instead of counting the image as missing_image_size."""
    from PIL import Image

    from scalematch.dataset.formats._image_size import checked_size

    path = tmp_path / "a.png"
    Image.new("RGB", (20, 12)).save(path)

    def broken(im: object, file: object, image: Path) -> int:
        raise NameError("a bug")

    with pytest.raises(NameError, match="a bug"):
        checked_size(path, broken)
    assert checked_size(path, lambda im, file, image: 7) == (20.0, 12.0, "", 7)
