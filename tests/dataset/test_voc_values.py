"""What the VOC reader says about the values and encodings it cannot use: one line naming the file and what is
wrong with what is written, the same from one process or several."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from scalematch.dataset.formats import pascal_voc
from scalematch.dataset.loader import load
from scalematch.errors import DatasetError

BODY = (
    "<annotation><filename>a.jpg</filename><size><width>500</width><height>400</height></size><object><name>dog"
    "</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>50</xmax><ymax>40</ymax></bndbox></object></annotation>"
)


def _multi_byte(path: Path, name: str) -> str:
    return (
        f"{path}: cannot decode the XML (it declares encoding {name!r}, a multi-byte encoding that Python's XML "
        "parser (expat, which mmdetection's VOC reader uses too) does not read; save the file as UTF-8)"
    )


@pytest.mark.parametrize("encoding", ["GBK", "GB2312", "Shift_JIS", "Big5", "EUC-KR", "UTF-7"])
@pytest.mark.parametrize("doctype", ["", "<!DOCTYPE annotation>"])
def test_a_multi_byte_encoding_is_one_line(tmp_path: Path, encoding: str, doctype: str) -> None:
    """expat reads a declared encoding only when each byte is one character: the file is named with the encoding it
    declares, through the plain parser and through defusedxml (a DOCTYPE) alike."""
    path = tmp_path / "a.xml"
    path.write_bytes(f'<?xml version="1.0" encoding="{encoding}"?>{doctype}{BODY}'.encode(encoding))
    with pytest.raises(DatasetError) as caught:
        load(path, resize="none")
    assert str(caught.value) == _multi_byte(path, encoding)


def test_a_multi_byte_declaration_in_utf16_is_named(tmp_path: Path) -> None:
    path = tmp_path / "a.xml"
    path.write_bytes(f"\ufeff<?xml version='1.0' encoding='GBK'?>{BODY}".encode("utf-16-le"))
    with pytest.raises(DatasetError) as caught:
        load(path, resize="none")
    assert str(caught.value) == _multi_byte(path, "GBK")


@pytest.mark.parametrize(
    ("codec", "declared"), [("utf-32", "UTF-32"), ("utf-32", None), ("utf-32-le", "UTF-32LE"), ("utf-32-be", "UCS-4")]
)
def test_utf32_is_named_as_what_python_s_parser_cannot_read(tmp_path: Path, codec: str, declared: str | None) -> None:
    """expat stops on the first character of a UTF-32 file as if it were no XML (as it does under mmdetection's
    ET.parse, checked here): the line names the encoding, by its declaration or by its byte-order mark."""
    import xml.etree.ElementTree as ET

    path = tmp_path / "a.xml"
    head = f'<?xml version="1.0" encoding="{declared}"?>' if declared else ""
    path.write_bytes(f"{head}{BODY}".encode(codec))
    with pytest.raises(ET.ParseError):
        ET.parse(path)
    with pytest.raises(DatasetError) as caught:
        load(path, resize="none")
    what = f"it declares encoding {declared!r}" if declared else "it is in UTF-32 (its byte-order mark)"
    assert str(caught.value) == (
        f"{path}: cannot decode the XML ({what}, four bytes a character, which Python's XML parser (expat, which "
        "mmdetection's VOC reader uses too) does not read; save the file as UTF-8)"
    )


def test_a_multi_byte_encoding_in_a_later_piece_is_the_same_line_with_workers(tmp_path: Path) -> None:
    ann = tmp_path / "voc" / "Annotations"
    ann.mkdir(parents=True)
    for i in range(pascal_voc.PIECE + 10):
        (ann / f"{i:05d}.xml").write_text(BODY, encoding="utf-8")
    bad = ann / f"{pascal_voc.PIECE + 3:05d}.xml"
    bad.write_bytes(f'<?xml version="1.0" encoding="GB2312"?>{BODY}'.encode("gb2312"))
    for workers in (1, 2):
        with pytest.raises(DatasetError) as caught:
            load(tmp_path / "voc", resize="none", workers=workers)
        assert str(caught.value) == _multi_byte(bad, "GB2312")


def test_a_multi_byte_encoding_on_the_command_line(app: typer.Typer, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    path = tmp_path / "GBK.xml"
    path.write_bytes(f'<?xml version="1.0" encoding="GBK"?>{BODY}'.encode("gbk"))
    for command in (["stats"], ["recommend", "--detector", "atss"]):
        result = CliRunner().invoke(app, [*command, str(path)])
        assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"Error: {_multi_byte(path, 'GBK')}\n")


def _object(flags: str) -> str:
    return (
        f"<object><name>dog</name>{flags}<bndbox><xmin>10</xmin><ymin>20</ymin><xmax>100</xmax><ymax>200</ymax>"
        "</bndbox></object>"
    )


def test_truncated_never_leaves_its_object_out(tmp_path: Path) -> None:
    """No toolkit reads <truncated>: every object is kept, the flag set for an integer other than 0 or for true in
    any case, not set for any other text."""
    written = {"0": False, "1": True, " 7 ": True, "-1": True, "": False, "False": False, "True": True, "true": True,
               "TRUE": True, "0.0": False, "1.0": False, "yes": False, "\u00a01": False}  # fmt: skip
    path = tmp_path / "a.xml"
    objects = "".join(_object(f"<truncated>{text}</truncated><difficult>0</difficult>") for text in written)
    path.write_text(f"<annotation><size><width>500</width><height>400</height></size>{objects}</annotation>")
    result = load(path, resize="none", strict=True)
    assert result.table["truncated"].tolist() == list(written.values())
    assert result.excluded == {}


def test_difficult_is_still_an_integer_literal(tmp_path: Path) -> None:
    """mmdetection reads <difficult> with int(): 'False' stops it, so the object is left out, named under strict."""
    path = tmp_path / "a.xml"
    size = "<size><width>500</width><height>400</height></size>"
    path.write_text(f"<annotation>{size}{_object('<difficult>False</difficult>')}</annotation>")
    assert load(path, resize="none").excluded == {"unparsable_number": 1}
    with pytest.raises(DatasetError) as caught:
        load(path, resize="none", strict=True)
    assert str(caught.value) == (
        f"{path}: object 1: expected an integer flag for <difficult>, got 'False' [unparsable_number]"
    )


SIZES = [
    ("500px", "its <width> '500px' is not a number"),
    ("500,0", "its <width> '500,0' is not a number"),
    ("", "its <width> is empty"),
    (" 1_0 ", "its <width> '1_0' is not an ASCII decimal number"),
    ("inf", "its <width> 'inf' is not a finite number"),
    ("nan", "its <width> 'nan' is not a finite number"),
    ("0.5", "its <width> '0.5' is not an integer, which the toolkits read it as (int())"),
    ("640.5", "its <width> '640.5' is not an integer, which the toolkits read it as (int())"),
    ("4.8e2", "its <width> '4.8e2' is not an integer, which the toolkits read it as (int())"),
    ("500.0", "its <width> '500.0' is not an integer, which the toolkits read it as (int())"),
    ("0", "its <width> 0 is under one pixel"),
    ("-500", "its <width> -500 is under one pixel"),
    ("16777217", "its <width> 16777217 is above the 16,777,216 px limit"),
    ("9" * 400, f"its <width> {'9' * 40}...{'9' * 20} is above the 16,777,216 px limit"),
    (None, "its <size> has no <width>"),
]


@pytest.mark.parametrize(("width", "why"), SIZES, ids=[why for _, why in SIZES])
def test_an_unusable_size_says_what_is_wrong_with_it(tmp_path: Path, width: str | None, why: str) -> None:
    """The object is missing_image_size as before; the message says what the <size> holds, not that it is absent."""
    path = tmp_path / "w.xml"
    side = "" if width is None else f"<width>{width}</width>"
    path.write_text(
        f"<annotation><filename>a.jpg</filename><size>{side}<height>400</height></size>{_object('')}</annotation>"
    )
    assert load(path).excluded == {"missing_image_size": 1}
    with pytest.raises(DatasetError) as caught:
        load(path, strict=True)
    assert str(caught.value) == (
        f"{path}: object 1: image 1 (a.jpg) has no usable width/height ({why}) and the resize policy needs it "
        "[missing_image_size]"
    )


@pytest.mark.parametrize("width", ["640", " +640 ", "0640", "640.", "640.0", "6.4e2", "-0", "1e3", "\t700\n", "12.5"])
def test_a_size_is_read_where_the_toolkits_int_reads_it(tmp_path: Path, width: str) -> None:
    """mmdetection's XMLDataset, detectron2's VOC loader and the VOC.yaml converters all read a side with int():
    the size is the one int() gives, and no size where int() stops."""
    path = tmp_path / "w.xml"
    path.write_text(f"<annotation><size><width>{width}</width><height>400</height></size>{_object('')}</annotation>")
    try:
        theirs: int | None = int(width)
    except ValueError:
        theirs = None
    data = load(path)
    if theirs is None or theirs < 1:  # (0 or less: no size, as ever)
        assert data.excluded == {"missing_image_size": 1}
    else:
        assert data.excluded == {} and data.table["image_w"].tolist() == [float(theirs)]


def test_an_unusable_height_in_a_later_piece_is_named_alike_with_workers(tmp_path: Path) -> None:
    ann = tmp_path / "voc" / "Annotations"
    ann.mkdir(parents=True)
    size = "<size><width>500</width><height>{}</height></size>"
    for i in range(pascal_voc.PIECE + 10):
        height = "4OO" if i == pascal_voc.PIECE + 3 else "400"
        (ann / f"{i:05d}.xml").write_text(f"<annotation>{size.format(height)}{_object('')}</annotation>")
    messages = set()
    for workers in (1, 2):
        assert load(tmp_path / "voc", workers=workers).excluded == {"missing_image_size": 1}
        with pytest.raises(DatasetError) as caught:
            load(tmp_path / "voc", strict=True, workers=workers)
        messages.add(str(caught.value))
    image = pascal_voc.PIECE + 4
    assert messages == {
        f"{tmp_path / 'voc'}: Annotations/{image - 1:05d}.xml: object 1: image {image} ({image - 1:05d}.jpg) has no "
        "usable width/height (its <height> '4OO' is not a number) and the resize policy needs it [missing_image_size]"
    }


def _no_size(path: Path, image: str, why: str) -> str:
    return (
        f"{path}: object 1: image 1 ({image}) has no usable width/height ({why}) and the resize policy needs it "
        "[missing_image_size]"
    )


def test_a_file_without_size_takes_its_images_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As mmdetection's XMLDataset: JPEGImages/<path in Annotations/>.jpg of the year folder, whatever <filename>
    says; without that image (or outside a year folder) its objects are missing_image_size, the line saying why.
    The same from worker processes (pieces of 2 files here)."""
    from PIL import Image

    year = tmp_path / "VOC2012"
    (year / "Annotations" / "sub").mkdir(parents=True)
    (year / "JPEGImages" / "sub").mkdir(parents=True)
    Image.new("RGB", (500, 400)).save(year / "JPEGImages" / "a.jpg")
    Image.new("RGB", (300, 200)).save(year / "JPEGImages" / "sub" / "b.jpg")
    Image.new("RGB", (300, 200)).save(year / "JPEGImages" / "c.png")
    (year / "JPEGImages" / "d.jpg").write_bytes(b"")
    for name in ("a", "sub/b", "c", "d", "e"):
        size = "<size><width>64</width><height>48</height></size>" if name == "e" else ""
        xml = f"<annotation><filename>{name}.png</filename>{size}{_object('')}</annotation>"
        (year / "Annotations" / f"{name}.xml").write_text(xml)
    monkeypatch.setattr(pascal_voc, "PIECE", 2)
    monkeypatch.chdir(tmp_path)
    for workers, given in ((1, year), (2, year), (1, Path("VOC2012")), (2, Path("VOC2012/Annotations"))):
        result = load(given, workers=workers)
        assert result.table[["image_w", "image_h"]].to_numpy().tolist() == [[500, 400], [64, 48], [300, 200]]
        assert result.excluded == {"missing_image_size": 2}
    for name, why in (
        ("c", "the file has no <size>, and there is no image JPEGImages/c.jpg to read it from"),
        ("d", "the file has no <size>, and the image d.jpg is empty (0 bytes), so it gives no size"),
    ):
        path = year / "Annotations" / f"{name}.xml"
        with pytest.raises(DatasetError) as caught:
            load(path, strict=True)
        assert str(caught.value) == _no_size(path, f"{name}.png", why)
    alone = tmp_path / "a.xml"
    alone.write_text(f"<annotation><filename>a.jpg</filename>{_object('')}</annotation>")
    with pytest.raises(DatasetError) as caught:
        load(alone, strict=True)
    why = (
        "the file has no <size>, and is not in a VOC year folder's Annotations/, beside the JPEGImages/ that "
        "mmdetection reads the image's size from"
    )
    assert str(caught.value) == _no_size(alone, "a.jpg", why)
    assert load(alone, resize="none").excluded == {}  # a size is needed only by a resize


def test_an_output_never_lands_in_the_images_read_for_sizes(app: typer.Typer, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    year = tmp_path / "VOC2012"
    (year / "Annotations").mkdir(parents=True)
    (year / "JPEGImages").mkdir()
    (year / "Annotations" / "a.xml").write_text(f"<annotation>{_object('')}</annotation>")
    target = year / "JPEGImages" / "a.csv"
    for given in (year / "Annotations", year / "Annotations" / "a.xml"):
        result = CliRunner().invoke(app, ["stats", str(given), "--csv", str(target)])
        assert result.exit_code == 2 and result.stderr == (
            f"Error: --csv {target}: lies in the input folder {year / 'JPEGImages'}; choose a file outside it\n"
        )
    assert not target.exists()


def test_an_output_never_replaces_a_split_list_of_the_year_folder(app: typer.Typer, tmp_path: Path) -> None:
    """--csv VOC2007/ImageSets/Main/val.txt with the Annotations folder given (no --split) replaced the split list
    a --split run reads (review round 44): the year folder's ImageSets is refused as its JPEGImages is."""
    from typer.testing import CliRunner

    year = tmp_path / "VOC2007"
    (year / "Annotations").mkdir(parents=True)
    (year / "ImageSets" / "Main").mkdir(parents=True)
    (year / "Annotations" / "a.xml").write_text(f"<annotation>{_object('')}</annotation>")
    target = year / "ImageSets" / "Main" / "val.txt"
    target.write_text("a\n")
    for given in (year / "Annotations", year / "Annotations" / "a.xml"):
        result = CliRunner().invoke(app, ["stats", "--resize", "none", str(given), "--csv", str(target)])
        assert result.exit_code == 2 and result.stderr == (
            f"Error: --csv {target}: lies in the input folder {year / 'ImageSets'}; choose a file outside it\n"
        )
    assert target.read_text() == "a\n"
