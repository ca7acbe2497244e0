"""YOLO image sizes: from the header only, with the EXIF orientation applied exactly as ultralytics' own
``exif_size`` does (checked against it), and without Pillow's decompression-bomb warning or error."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from PIL import Image

from scalematch.dataset import load
from scalematch.dataset.formats import yolo
from scalematch.errors import DatasetError


def _image(path: Path, fmt: str, size: tuple[int, int], orientation: int | None, **options: str) -> Path:
    exif = Image.Exif()
    if orientation is not None:
        exif[274] = orientation
    Image.new("RGB", size).save(path, format=fmt, exif=exif.tobytes(), **options)
    return path


FORMATS = [("JPEG", {}), ("PNG", {}), ("WEBP", {}), ("AVIF", {}), ("TIFF", {}), ("TIFF", {"compression": "tiff_lzw"}),
           ("TIFF", {"compression": "tiff_adobe_deflate"}), ("TIFF", {"compression": "jpeg"})]  # fmt: skip


@pytest.mark.parametrize(("fmt", "options"), FORMATS, ids=[f"{f}-{o.get('compression', '')}" for f, o in FORMATS])
@pytest.mark.parametrize("orientation", [None, 1, 2, 3, 4, 5, 6, 7, 8, 9])
def test_orientation_as_ultralytics(tmp_path: Path, fmt: str, options: dict[str, str], orientation: int | None) -> None:
    """Pillow 13 reports a TIFF's size already oriented (a 40x20 TIFF with orientation 6 is 20x40) and ultralytics
    decodes WebP and TIFF with OpenCV to find it: the size must be the oriented one for every format, once."""
    utils = pytest.importorskip("ultralytics.data.utils")
    if orientation == 9 and options:
        pytest.skip("libtiff does not write an orientation outside 1-8")
    path = _image(tmp_path / f"a.{fmt.lower()}", fmt, (40, 20), orientation, **options)
    with Image.open(path) as im:
        expected = utils.exif_size(im)
    assert yolo._image_size(path) == (float(expected[0]), float(expected[1]))
    assert expected == ((20, 40) if orientation in (5, 6, 7, 8) else (40, 20))  # the oracle did swap


def test_a_huge_header_is_read_without_the_bomb_check(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    (root / "labels").mkdir(parents=True)
    (root / "images").mkdir()
    (root / "labels" / "a.txt").write_text("0 0.5 0.5 0.5 0.5\n")
    Image.new("L", (1, 1)).save(root / "images" / "a.png")
    data = bytearray((root / "images" / "a.png").read_bytes())
    import struct
    import zlib

    data[16:24] = struct.pack(">II", 300_000, 200_000)  # IHDR width, height: 6e10 pixels
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
    (root / "images" / "a.png").write_bytes(bytes(data))
    with pytest.raises(Image.DecompressionBombError), Image.open(root / "images" / "a.png"):
        pass  # what Pillow does on its own
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = load(root, resize="none").table
    assert table[["image_w", "image_h", "w", "h"]].values.tolist() == [[300000.0, 200000.0, 150000.0, 100000.0]]
    assert Image.MAX_IMAGE_PIXELS is not None  # the check is back on for everyone else


def test_an_unreadable_label_file_is_one_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.txt").write_text("0 0.5 0.5 0.5 0.5\n")
    real = Path.read_bytes

    def denied(self: Path) -> bytes:
        if self.name == "a.txt":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(DatasetError, match=rf"^{tmp_path}/a.txt: cannot read \(Permission denied\)$"):
        load(tmp_path / "a.txt", resize="none", image_size=(10, 10))
