"""The VOC files mmdetection's own XMLDataset.parse_data_info reads differently from a plain VOC file, read by it
(through tests/match/mmdet_ref.py) and by scalematch: what one refuses the other refuses, what one keeps the other
keeps, with the same positives under ATSS."""

from __future__ import annotations

from pathlib import Path

import pytest
from required import need

from scalematch.dataset import load
from scalematch.errors import DatasetError

BODY = (
    "<annotation><filename>a.jpg</filename><size><width>500</width><height>400</height></size><object><name>dog"
    "</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>50</xmax><ymax>40</ymax></bndbox></object></annotation>"
)


@pytest.mark.parametrize("encoding", ["GBK", "Shift_JIS", "UTF-7"])
def test_a_multi_byte_encoding_stops_mmdetection_too(tmp_path: Path, encoding: str) -> None:
    need("mmdet")
    import mmdet_ref

    folder = tmp_path / "voc"
    folder.mkdir()
    (folder / "a.xml").write_bytes(f'<?xml version="1.0" encoding="{encoding}"?>{BODY}'.encode(encoding))
    with pytest.raises(ValueError, match=r"^multi-byte encodings are not supported$"):
        mmdet_ref.atss_positives_voc(folder, ["dog"])
    with pytest.raises(DatasetError, match=f"declares encoding '{encoding}', a multi-byte encoding"):
        load(folder, resize="none")


def _ours(folder: Path) -> dict[tuple[str, int], list[int]]:
    from scalematch.match.detector import evaluate
    from scalematch.presets import load_preset

    preset = load_preset("atss")
    frame = evaluate(load(folder, resize=preset.resize_policy()), preset, workers=1).to_frame("objects")
    levels = [c for c in frame.columns if c.startswith("positives_P")]
    out = {}
    for name, row in zip(frame["annotation_id"], frame[levels].to_numpy().tolist(), strict=True):
        file, number = name.rsplit(":", 1)
        out[(Path(file).name, int(number))] = row
    return out


def test_truncated_is_read_by_no_one(tmp_path: Path) -> None:
    """mmdetection trains on an object whatever its <truncated> holds (it never reads it), with the same positives
    as ours."""
    need("mmdet")
    import mmdet_ref

    folder = tmp_path / "voc"
    folder.mkdir()
    for k, text in enumerate(["0", "False", "true", "0.0", "yes"]):
        (folder / f"t{k}.xml").write_text(
            "<annotation><size><width>500</width><height>400</height></size><object><name>dog</name>"
            f"<truncated>{text}</truncated><difficult>0</difficult><bndbox><xmin>10</xmin><ymin>20</ymin>"
            f"<xmax>{100 + k}</xmax><ymax>200</ymax></bndbox></object></annotation>"
        )
    theirs = mmdet_ref.atss_positives_voc(folder, ["dog"])
    assert len(theirs) == 5
    assert _ours(folder) == theirs


def test_a_file_without_size_has_the_size_of_its_image(tmp_path: Path) -> None:
    """mmdetection reads the image JPEGImages/<id>.jpg of a file without <size> (OpenCV applies its EXIF
    orientation), whatever <filename> says: the same sizes, so the same positives."""
    need("mmdet")
    need("cv2")
    import mmdet_ref
    from PIL import Image

    ann, jpeg = tmp_path / "VOC2007" / "Annotations", tmp_path / "VOC2007" / "JPEGImages"
    ann.mkdir(parents=True)
    jpeg.mkdir()
    for k, (w, h, orientation) in enumerate([(500, 400, 1), (353, 500, 1), (640, 480, 6), (300, 700, 8)]):
        exif = Image.Exif()
        exif[274] = orientation
        Image.new("RGB", (w, h), (k * 40, 90, 200)).save(jpeg / f"i{k}.jpg", exif=exif)
        (ann / f"i{k}.xml").write_text(
            "<annotation><filename>elsewhere.jpg</filename><object><name>dog</name><difficult>0</difficult>"
            f"<bndbox><xmin>{10 + k}</xmin><ymin>20</ymin><xmax>{90 + 7 * k}</xmax><ymax>{70 + 9 * k}</ymax>"
            "</bndbox></object></annotation>"
        )
    theirs = mmdet_ref.atss_positives_voc(ann, ["dog"], images=True)
    assert len(theirs) == 4
    assert _ours(ann.parent) == theirs
    sizes = load(ann.parent, resize="none").table[["image_w", "image_h"]].to_numpy().tolist()
    assert sizes == [[500, 400], [353, 500], [480, 640], [700, 300]]
