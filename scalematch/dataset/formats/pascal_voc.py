"""Pascal VOC XML -> :class:`RawBoxes`: one XML file, a folder of XML files, or a VOCdevkit year folder.

Pixel convention: VOC's ``xmin .. xmax`` are 1-based *inclusive* pixel indices, so a box covers
``xmax - xmin + 1`` pixels. We convert once, here, to continuous 0-based ``xywh``: ``x = xmin - 1``,
``w = xmax - xmin + 1`` (same for y/h). This is detectron2's reading of VOC (it subtracts 1 from xmin/ymin
only) and makes a one-pixel box (xmin == xmax) 1 px wide rather than 0. ``area`` is ``w * h``.

XML is parsed with defusedxml: files declaring entities or referring to external resources are refused (a
DOCTYPE that only names a DTD declares nothing and is read; the DTD is never opened).
"""

from __future__ import annotations

import math
import os
import re
from array import array
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scalematch._text import cut_name
from scalematch.dataset.formats._files import check_regular, decode_text, is_decimal, is_present, read_bytes
from scalematch.dataset.formats._image_size import header_size, no_bomb_check
from scalematch.dataset.formats._walk import walk
from scalematch.dataset.table import (
    BBOX_INVALID,
    BBOX_NONPOSITIVE,
    DUPLICATE_ID,
    MALFORMED_RECORD,
    MAX_IMAGE_SIDE,
    RESOURCE_FORK,
    UNPARSABLE_NUMBER,
    Exclusions,
    RawBoxes,
    Row,
    image_side,
)
from scalematch.errors import DatasetError

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element


def xml_files(path: Path, split: str | None) -> tuple[list[Path], list[tuple[int, int, Path]]]:
    """The XML files of ``path`` in reading order (a split file's order, else sorted by name), and the split file's
    repeated lines: (line, line of its first listing, XML file). A folder's listing holds the macOS resource
    forks (``._name.xml``) too: :func:`read` skips and counts them."""
    if path.is_file():
        if split is not None:
            raise DatasetError(f"{path}: split= needs a VOCdevkit year folder (with Annotations/ and ImageSets/Main/)")
        return [path], []
    ann = path / "Annotations"
    if ann.is_dir():
        if split is None:
            return _xml_in(ann), []
        if not split or "/" in split or "\\" in split or split.startswith("."):
            raise DatasetError(f"{path}: split {split!r}: expected a split name such as train or val, not a path")
        split_file = path / "ImageSets" / "Main" / f"{split}.txt"
        if not is_present(split_file):
            raise DatasetError(f"{path}: split {split!r} not found: expected {split_file}")
        files: list[Path] = []
        first: dict[str, int] = {}
        repeats: list[tuple[int, int, Path]] = []
        data = read_bytes(split_file)
        if data.startswith(b"\xef\xbb\xbf"):
            raise DatasetError(
                f"{split_file}: line 1 starts with a byte-order mark (U+FEFF), which mmdetection, detectron2 and the "
                "VOC.yaml converters read as part of the first image name; save the file as UTF-8 without it"
            )
        for n, line in enumerate(decode_text(split_file, data).splitlines(), 1):
            stem = line.split()[0] if line.strip() else ""
            if not stem:
                continue
            if any(c in stem for c in "\\\x00") or any(part in ("", ".", "..") for part in stem.split("/")):
                raise DatasetError(
                    f"{split_file}: line {n}: expected an image name, got {stem!r} (a name, or a path inside "
                    "Annotations/ such as sub/img1, with / between its parts; not absolute, no . or .. parts, no "
                    "backslash or NUL byte)"
                )
            xml = ann / f"{stem}.xml"
            if stem in first:
                repeats.append((n, first[stem], xml))
                continue
            first[stem] = n
            if not is_present(xml):
                raise DatasetError(f"{split_file}: line {n}: {stem!r} has no annotation file {xml}")
            files.append(xml)
        if not files:
            raise DatasetError(f"{split_file}: lists no images (expected one image name per line)")
        return files, repeats
    if split is not None:
        years = sorted(p.name for p in _subfolders(path) if _is_year_folder(p))
        inside = f"; {path} holds {', '.join(years[:3])}{', ...' if len(years) > 3 else ''}: give one" if years else ""
        if path.name == "Annotations" and _is_year_folder(path.parent):
            inside = f"; give its year folder {path.parent}"
        raise DatasetError(
            f"{path}: split= needs a VOCdevkit year folder (with Annotations/ and ImageSets/Main/){inside}"
        )
    return _xml_in(path), []


def _is_year_folder(path: Path) -> bool:
    return (path / "Annotations").is_dir() and (path / "ImageSets" / "Main").is_dir()


def _subfolders(path: Path) -> list[Path]:
    try:
        return [p for p in path.iterdir() if p.is_dir()]
    except OSError:  # (the read that follows names it)
        return []


def is_xml(name: str) -> bool:
    """Whether a file named ``name`` is an annotation file: its suffix is ``.xml`` in any case (``A.XML``)."""
    return name.lower().endswith(".xml")


def _xml_in(folder: Path) -> list[Path]:
    """The ``*.xml`` files (any case of the suffix) of ``folder`` and its subfolders, by their path in it (a
    YOLO labels folder is read with its subfolders too); anything else named so (a folder, a FIFO, a dangling
    symlink) is a :class:`DatasetError`, as is one file reached under two names (a symlink or a hard link to
    another file of the folder: its objects would be counted twice). A symlinked folder is followed once (a loop
    is not walked again; see :func:`walk`), and a folder that cannot be listed is a :class:`DatasetError`
    naming it. The directory entries say which are regular files, so the files are not looked at one
    by one before they are read (only a symlink is followed to its file)."""
    files: list[tuple[tuple[str, ...], Path, tuple[int, int]]] = []  # (path in folder, path, (device, inode))
    devices: dict[str, int] = {}  # the device of each folder listed
    for rel, entry, _ in walk(folder, descend=lambda name: not is_xml(name)):
        if not is_xml(entry.name):
            continue
        try:
            regular = entry.is_file()
        except OSError:  # a symlink loop
            regular = False
        path = Path(entry.path)
        if not regular:
            check_regular(path)
        here = os.path.dirname(entry.path)
        if here not in devices:
            devices[here] = os.stat(here).st_dev
        files.append((rel, path, _file_key(entry, devices[here])))
    named: dict[tuple[int, int], Path] = {}  # (device, inode) -> the first name of the file
    for _, path, key in files:
        first = named.setdefault(key, path)
        if first != path:
            raise DatasetError(
                f"{path}: the same file as {first} (reached under two names through a link), so its objects would "
                "be counted twice; remove one of them"
            )
    return [path for _, path, _ in files]


def _file_key(entry: os.DirEntry[str], folder_device: int) -> tuple[int, int]:
    """The (device, inode) of the file an entry names: the entry's own for a file (on its folder's device), the
    target's for a symlink (followed with one ``stat``)."""
    if entry.is_symlink():
        info = os.stat(entry.path)
        return info.st_dev, info.st_ino
    return folder_device, entry.inode()


def read(path: Path, exclusions: Exclusions, split: str | None = None, workers: int = 1) -> RawBoxes:
    """The boxes of every XML file, in reading order. With ``workers`` > 1 and enough files, pieces of
    :data:`PIECE` files are parsed in that many processes and merged in order: ids, category numbering, counts
    and the first error under ``strict`` are those of one process. A folder without XML files is an empty
    dataset. An image listed again in the split file is read once; the objects of each repeated listing are
    counted as ``duplicate_id``. A folder's ``._name.xml`` files (macOS resource forks) are skipped and counted as
    ``resource_fork``, also under ``strict``."""
    files, repeats = xml_files(path, split)
    if path.is_dir() and split is None:
        forks = [xml for xml in files if xml.name.startswith("._")]
        if forks:  # AppleDouble files (binary metadata) a copy from macOS leaves: no annotation, never an error
            exclusions.counts[RESOURCE_FORK] += len(forks)
            files = [xml for xml in files if not xml.name.startswith("._")]
    for n, n_first, xml in repeats:
        objects = len(_parse(xml).findall("object"))
        detail = f"{xml.stem!r} is listed again (first on line {n_first}); its objects are read once"
        exclusions.add(DUPLICATE_ID, f"ImageSets/Main/{split}.txt: line {n}", detail, objects)
    raw = RawBoxes(one_file=path.is_file(), converter="voc")
    names: dict[str, int] = {}
    rows: list[Row] = []
    places = array("q")
    nested: list[Any] = []
    written: list[tuple[int, str, float, float, float, float]] = []
    image_id = ann_id = 0
    for piece in _pieces(path, files, exclusions, workers):
        for name in piece.names:
            names.setdefault(name, len(names) + 1)
        for j, (entry, label_file) in enumerate(zip(piece.images, piece.files, strict=True), 1):
            raw.images[image_id + j] = entry
            raw.label_files[image_id + j] = label_file
        raw.no_size.update((image_id + j, why) for j, why in piece.no_size.items())
        for n, i, k, name, x, y, w, h, difficult, truncated in piece.rows:
            cid = names.setdefault(name, len(names) + 1)
            rows.append((ann_id + n, image_id + i, cid, x, y, w, h, w * h, False, difficult, truncated))
            places.append(k)
            if len(rows) >= _BATCH:
                _flush(raw, rows, places)
        nested += [(image_id + i, *rest) for _, i, *rest in piece.nested]
        written += [(image_id + i, name, x, y, w, h) for i, name, x, y, w, h in piece.written]
        exclusions.counts.update(piece.counts)
        image_id += len(piece.images)
        ann_id += piece.objects
    _flush(raw, rows, places)
    raw.categories = {cid: name for name, cid in names.items()}
    if nested:
        raw.nested = _nested_rows(raw, nested, names, ann_id)
    raw.written = [(i, 0.0, x, y, w, h) for i, name, x, y, w, h in written if name in names]
    return raw


def _nested_rows(raw: RawBoxes, nested: list[Any], names: dict[str, int], ann_id: int) -> RawBoxes:
    """The nested objects (see :func:`_nested`) as boxes of the same images and categories, numbered after the
    others; those of a name no other object has are left out (no class of the dataset)."""
    out = RawBoxes(images=raw.images, categories=raw.categories, label_files=raw.label_files, one_file=raw.one_file,
                   converter="voc", no_size=raw.no_size)  # fmt: skip
    rows: list[Row] = []
    places = array("q")
    for i, k, name, x, y, w, h, difficult, truncated in nested:
        if name in names:
            rows.append((ann_id + len(rows) + 1, i, names[name], x, y, w, h, w * h, False, difficult, truncated))
            places.append(k)
    _flush(out, rows, places)
    return out


def _flush(raw: RawBoxes, rows: list[Row], places: array[int]) -> None:
    raw.add_rows(rows)
    raw.label_index.extend(places)
    rows.clear()
    del places[:]


PIECE = 256  # files a worker parses at a time
_PieceRow = tuple[int, int, int, str, float, float, float, float, int, bool]


@dataclass
class _Piece:
    """What one piece of files gives: image entries and their XML files (relative to the dataset folder), rows
    with piece-local object and image numbers (from 1), the object's place in its file and its category name, the
    number of ``<object>`` elements read, the exclusion counts, and the names of all its objects in order (those
    left out too: a class of the dataset is one whatever becomes of its objects)."""

    images: list[tuple[str, float, float]]
    files: list[str]
    rows: list[_PieceRow]
    objects: int
    counts: Counter[str]
    names: list[str]
    written: list[tuple[int, str, float, float, float, float]] = field(default_factory=list)
    """The objects left out that the YOLO converters write (see :func:`_written`)."""
    nested: list[_PieceRow] = field(default_factory=list)
    """The ``<object>`` elements inside another element (``k``: numbered after the file's other objects, in
    document order)."""
    no_size: dict[int, str] = field(default_factory=dict)
    """Why an image (piece-local number) has no size (see :func:`_sides`)."""


def _pieces(path: Path, files: list[Path], exclusions: Exclusions, workers: int) -> Iterator[_Piece]:
    """The pieces in reading order, parsed here or in ``workers`` processes (at most twice as many pieces in
    flight as workers, so memory stays bounded by the pieces, not the dataset)."""
    chunks = [files[i : i + PIECE] for i in range(0, len(files), PIECE)]
    from scalematch.pool import can_fork, ordered_map

    if workers <= 1 or len(chunks) < 2 or not can_fork():
        for chunk in chunks:
            yield _read_piece(path, chunk, exclusions.source, exclusions.strict)
        return
    read = partial(_read_piece, path, source=exclusions.source, strict=exclusions.strict)
    yield from ordered_map(read, chunks, min(workers, len(chunks)))


def _read_piece(path: Path, files: list[Path], source: str, strict: bool) -> _Piece:
    exclusions = Exclusions(source, strict)
    piece = _Piece([], [], [], 0, exclusions.counts, [])
    for image, xml in enumerate(files, 1):
        root, data, plain = _read(xml)
        if root.tag != "annotation":
            raise DatasetError(f"{xml}: expected a VOC <annotation> root element, got <{root.tag}>")
        filename = (root.findtext("filename") or xml.with_suffix(".jpg").name).strip()
        width, height, why = _sides(root, xml)
        piece.images.append((filename, width, height))
        if why:
            piece.no_size[image] = why
        piece.files.append(xml.name if xml == path else xml.relative_to(path).as_posix())
        prefix = "" if xml == path else f"{xml.relative_to(path)}: "
        direct = root.findall("object")  # direct children only, as mmdetection and detectron2 read
        for k, obj in enumerate(direct, 1):
            piece.objects += 1
            name = obj.findtext("name") or ""
            if name.strip():
                piece.names.append(name)
            row = _object(obj, f"{prefix}object {k}", exclusions)
            if row is not None:
                name, xmin, ymin, w, h, difficult, truncated = row
                piece.rows.append((piece.objects, image, k, name, xmin - 1.0, ymin - 1.0, w, h, difficult, truncated))
            else:
                _written(obj, image, piece)
        if not plain or data.count(b"<object") > len(direct):  # (a cheap test: most files have no nested object)
            _nested(root, direct, image, piece, source)
    return piece


def _nested(root: Element, direct: list[Element], image: int, piece: _Piece, source: str) -> None:
    """The ``<object>`` elements nested in another element, which the YOLO converters (``root.iter('object')`` in
    ``data/VOC.yaml``) write as objects: read as the others, uncounted when they cannot be (not objects to the
    other toolkits; the converter would stop on them)."""
    top = set(map(id, direct))
    ignored = Exclusions(source)
    inner = [obj for obj in root.iter("object") if id(obj) not in top]
    for k, obj in enumerate(inner, len(direct) + 1):  # numbered after the others
        row = _object(obj, "", ignored)
        if row is not None:
            name, xmin, ymin, w, h, difficult, truncated = row
            piece.nested.append((0, image, k, name, xmin - 1.0, ymin - 1.0, w, h, difficult, truncated))
        else:
            _written(obj, image, piece)


def _written(obj: Element, image: int, piece: _Piece) -> None:
    """For an object the reader leaves out, what the VOC converters (``convert_label`` of ``data/VOC.yaml``) write
    all the same, kept in ``piece.written`` as ``(image, name, x, y, w, h)`` (``x = xmin - 1``, ``w = xmax -
    xmin``, any sign): they take ``float()`` of the corners (``1_0``, `` 5 ``, ``inf`` and ``nan`` convert) and
    read neither ``<truncated>`` nor anything else. None is written for an object whose ``difficult`` is 1; the
    converter stops on one without a ``<name>``, ``<difficult>`` or corner it can read (and then writes nothing)."""
    name = obj.findtext("name")
    if not (name or "").strip():
        return
    try:
        if int(obj.find("difficult").text) == 1:  # type: ignore[union-attr, arg-type]
            return
        box = obj.find("bndbox")
        xmin, xmax, ymin, ymax = (float(box.find(t).text) for t in ("xmin", "xmax", "ymin", "ymax"))  # type: ignore[union-attr, arg-type]
    except (AttributeError, TypeError, ValueError):
        return
    piece.written.append((image, name or "", xmin - 1.0, ymin - 1.0, xmax - xmin, ymax - ymin))


_BATCH = 8192  # rows handed to the columns at once
_CORNERS = ("xmin", "ymin", "xmax", "ymax")
_FLAGS = {None: 0, "": 0, "0": 0, "1": 1}


def _object(
    obj: Element, where: str, exclusions: Exclusions
) -> tuple[str, float, float, float, float, int, bool] | None:
    """One ``<object>``: (name, xmin, ymin, w, h, difficult, truncated) in the 1-based inclusive reading, or None
    when it is excluded (counted under its reason)."""
    name = obj.findtext("name") or ""  # as written: the toolkits compare the raw text with their classes
    if not name.strip():
        got = repr(name) if name else "none"
        exclusions.add(MALFORMED_RECORD, where, f"expected a non-empty <name>, got {got}")
        return None
    bndbox = obj.find("bndbox")
    texts = [None] * 4 if bndbox is None else [bndbox.findtext(tag) for tag in _CORNERS]
    if bndbox is None or None in texts:
        got = "none" if bndbox is None else ", ".join(f"<{t.tag}>" for t in bndbox) or "an empty one"
        exclusions.add(BBOX_INVALID, where, f"expected a <bndbox> with <xmin> <ymin> <xmax> <ymax>, got {got}")
        return None
    try:
        values = [float(text or "") for text in texts]
        joined = "".join(texts)  # type: ignore[arg-type]  # none is None here
    except ValueError:
        values, joined = [], ""
    if len(values) < 4 or not all(map(math.isfinite, values)) or not joined.isascii() or "_" in joined:
        for tag, text in zip(_CORNERS, texts, strict=True):
            if _number(text) is not None:
                continue
            exclusions.add(UNPARSABLE_NUMBER, where, f"expected a finite decimal number for <{tag}>, got {text!r}")
            return None
    xmin, ymin, xmax, ymax = values
    if not (xmax >= xmin and ymax >= ymin):
        exclusions.add(BBOX_NONPOSITIVE, where, f"expected xmax >= xmin and ymax >= ymin, got {values!r}")
        return None
    text = obj.findtext("difficult")
    difficult = _flag(text)
    if difficult is None:
        exclusions.add(UNPARSABLE_NUMBER, where, f"expected an integer flag for <difficult>, got {text!r}")
        return None
    return name, xmin, ymin, xmax - xmin + 1.0, ymax - ymin + 1.0, difficult, _truncated(obj.findtext("truncated"))


def _truncated(text: str | None) -> bool:
    """Whether ``<truncated>`` is set: an integer literal other than 0 (:func:`_flag`), or ``true`` in any case (as
    Python writes a bool); any other text (``False``, ``0.0``, ``yes``) is not set. No toolkit reads it (not
    mmdetection's XMLDataset, nor the VOC converters of yolov5 and ultralytics, nor torchvision or detectron2),
    so it never leaves its object out."""
    flag = _flag(text)
    if flag is None:
        return (text or "").strip(_ASCII_SPACE).lower() == "true"
    return flag != 0


def _number(text: str | None) -> float | None:
    """A finite number written as an ASCII decimal literal (:func:`is_decimal`), else None."""
    try:
        value = float(text or "")
    except ValueError:
        return None
    return value if math.isfinite(value) and is_decimal(text or "") else None


def _sides(root: Element, xml: Path) -> tuple[float, float, str]:
    """(width, height, why not) from the file's ``<size>``: NaN for a side that is no number in [1, 2**24] pixels,
    and what is wrong with what is written (the first side's problem), or ''. A file without ``<size>`` has the
    size of its image, as mmdetection's XMLDataset reads it then (see :func:`_image_of`)."""
    size = root.find("size")
    if size is None:
        return _image_of(xml)
    sides = [_side(size.findtext(tag), tag) for tag in ("width", "height")]
    why = next((why for _, why in sides if why), "")
    return sides[0][0], sides[1][0], why


def year_folders(path: Path) -> tuple[Path, ...]:
    """The ``JPEGImages/`` and ``ImageSets/`` folders beside the ``Annotations/`` folder that ``path`` is or lies
    in, those there are (a year folder holds its own): the images where the size of a file without ``<size>`` is
    read (:func:`_image_of`), and the split lists a run with ``split=`` reads; outputs must not replace them."""
    ann = _annotations_folder(path)
    found = [] if ann is None else [ann.parent / name for name in ("JPEGImages", "ImageSets")]
    return tuple(
        folder if path.is_absolute() else Path(os.path.relpath(folder))  # (named as the input is)
        for folder in found
        if folder.is_dir()
    )


def _annotations_folder(path: Path) -> Path | None:
    """The ``Annotations/`` folder that ``path`` is or lies in (the nearest, as an absolute path), or None."""
    return next(
        (folder for folder in (path.absolute(), *path.absolute().parents) if folder.name == "Annotations"), None
    )


def _image_of(xml: Path) -> tuple[float, float, str]:
    """(width, height, why not) of the image of an XML file without ``<size>``: mmdetection's XMLDataset then reads
    the image ``JPEGImages/<id>.jpg`` of the year folder, ``<id>`` being the file's path in ``Annotations/`` without
    ``.xml``, and takes its decoded size (OpenCV applies the EXIF orientation, as the header size read here does);
    ``<filename>`` plays no part. A file in no ``Annotations/`` folder has no such image."""
    xml = xml.absolute()  # (a relative path's parents end at '.')
    ann = _annotations_folder(xml.parent)
    if ann is None:
        why = "the file has no <size>, and is not in a VOC year folder's Annotations/, beside the JPEGImages/ "
        return math.nan, math.nan, f"{why}that mmdetection reads the image's size from"
    stem = xml.relative_to(ann).with_suffix("")
    rel = Path("JPEGImages", *stem.parts[:-1], f"{stem.name}.jpg")
    image = ann.parent / rel
    if not image.is_file():
        return math.nan, math.nan, f"the file has no <size>, and there is no image {rel.as_posix()} to read it from"
    with no_bomb_check():
        width, height, why = header_size(image)
    return width, height, f"the file has no <size>, and {why}" if why else ""


def _side(text: str | None, tag: str) -> tuple[float, str]:
    """One side of ``<size>`` as a number of pixels, or NaN and what is wrong with its text."""
    if text is None:
        return math.nan, f"its <size> has no <{tag}>"
    shown = cut_name(text.strip(_ASCII_SPACE))
    if not shown:
        return math.nan, f"its <{tag}> is empty"
    try:
        value = float(text)
    except ValueError:
        return math.nan, f"its <{tag}> {shown!r} is not a number"
    if not is_decimal(text):
        return math.nan, f"its <{tag}> {shown!r} is not an ASCII decimal number"
    if math.isnan(value) or (math.isinf(value) and not shown.lstrip("+-")[:1].isdigit()):
        return math.nan, f"its <{tag}> {shown!r} is not a finite number"
    digits = text.strip(_ASCII_SPACE).removeprefix("+").removeprefix("-")
    if not digits.isdigit():  # (ASCII already) mmdetection, detectron2 and the VOC.yaml converters: int(text)
        return math.nan, f"its <{tag}> {shown!r} is not an integer, which the toolkits read it as (int())"
    side = image_side(value)
    if math.isfinite(side):
        return side, ""
    if value < 1:
        return math.nan, f"its <{tag}> {shown} is under one pixel"
    return math.nan, f"its <{tag}> {shown} is above the {MAX_IMAGE_SIDE:,} px limit"


_ASCII_SPACE = " \t\n\r\f\v"


def _flag(text: str | None) -> int | None:
    """A VOC flag as the toolkits read it (``int(text)``; absent or empty is 0), saturated to -128..127 so that it
    fits the table's int8 column and keeps what every toolkit decides (mmdetection: non-zero is set; the yolov5 and
    ultralytics VOC converters: exactly 1); any other text is None (mmdetection would fail on it). Any ASCII
    integer literal is read, however long, without converting its digits (10^30 costs nothing)."""
    flag = _FLAGS.get(text)  # (the texts nearly every file writes, at once)
    if flag is not None:
        return flag
    text = (text or "0").strip(_ASCII_SPACE) or "0"  # a no-break space is no ASCII literal (nor in a corner)
    if text in ("0", "1"):
        return int(text)
    sign, digits = (text[0], text[1:]) if text[0] in "+-" else ("+", text)
    if not (digits.isascii() and digits.isdigit()):
        return None
    digits = digits.lstrip("0") or "0"
    value = int(digits) if len(digits) <= 3 else 1000
    return -min(value, 128) if sign == "-" else min(value, 127)


def _parse(xml: Path) -> Element:
    """The root of one XML file (see :func:`_read`)."""
    return _read(xml)[0]


def _read(xml: Path) -> tuple[Element, bytes, bool]:
    """The root of one XML file, its bytes, and whether it went to the C parser as it is: a file without a document
    type declaration cannot declare entities or name external ones, so it goes there as it is; any other (a DTD,
    or NUL bytes: UTF-16 or UTF-32, in which the ASCII bytes of '<!DOCTYPE' do not appear) goes through
    defusedxml, which refuses entity declarations and external references."""
    import xml.etree.ElementTree as ET

    import defusedxml
    import defusedxml.ElementTree as SafeET

    try:
        data = xml.read_bytes()  # a regular file: the listing checked it (a FIFO would block here)
    except OSError as exc:
        raise DatasetError(f"{xml}: cannot read ({exc.strerror})") from None
    plain = b"<!DOCTYPE" not in data and b"\x00" not in data
    try:
        root: Element | None = ET.fromstring(data) if plain else SafeET.fromstring(data)
    except defusedxml.EntitiesForbidden as exc:
        if exc.sysid or exc.pubid:
            raise DatasetError(f"{xml}: refused XML external entity {exc.name!r} ({exc.sysid or exc.pubid})") from None
        raise DatasetError(
            f"{xml}: refused XML entity declaration {exc.name!r} (entity expansion is not allowed)"
        ) from None
    except defusedxml.ExternalReferenceForbidden:
        raise DatasetError(f"{xml}: XML external references are refused") from None
    except defusedxml.DTDForbidden:
        raise DatasetError(f"{xml}: XML document type declarations are refused") from None
    except ET.ParseError as exc:
        wide = _four_byte(data)
        if wide:
            raise DatasetError(f"{xml}: cannot decode the XML ({wide})") from None
        line, col = exc.position
        raise DatasetError(f"{xml}: not valid XML at line {line}, column {col + 1} ({_reason(exc)})") from None
    except (LookupError, UnicodeError) as exc:  # an encoding declaration Python does not know, or bytes not in it
        raise DatasetError(f"{xml}: cannot decode the XML ({str(exc).splitlines()[0]})") from None
    except ValueError as exc:  # expat reads a declared encoding only when each byte is one character
        raise DatasetError(f"{xml}: cannot decode the XML ({_multi_byte(data, exc)})") from None
    if root is None:
        raise DatasetError(f"{xml}: empty XML document")
    return root, data, plain


_DECLARED = re.compile(rb"""\A(?:\xef\xbb\xbf|\xff\xfe|\xfe\xff)?<\?xml\s[^>]*?encoding\s*=\s*(["'])([^"'>]{1,64})\1""")


def _declared(data: bytes) -> str:
    """The encoding the file's XML declaration names ('' without one), read from its ASCII bytes whatever the
    encoding (in UTF-16 or UTF-32 the NUL bytes between them are dropped)."""
    declared = _DECLARED.match(data[:1024].replace(b"\x00", b""))
    return declared.group(2).decode("ascii", "backslashreplace") if declared else ""


def _multi_byte(data: bytes, exc: ValueError) -> str:
    """Why expat stopped on an encoding declaration (``ValueError: multi-byte encodings are not supported``): the
    encoding the file declares (GBK, Shift_JIS, Big5, EUC-KR, UTF-7: encodings whose characters are not one byte
    each), which Python's XML parser, and so mmdetection's VOC reader (``ET.parse``), does not read."""
    name = _declared(data)
    if not name:
        return str(exc).splitlines()[0] if str(exc) else "its encoding is not supported"
    return (
        f"it declares encoding {name!r}, a multi-byte encoding that Python's XML parser (expat, which "
        "mmdetection's VOC reader uses too) does not read; save the file as UTF-8"
    )


def _four_byte(data: bytes) -> str:
    """Why expat cannot read a file in UTF-32 (four bytes a character: it reads UTF-8 and UTF-16 only, and stops at
    the first character as if the file were not XML), when its byte-order mark or its declaration says so; else
    ''."""
    name = _declared(data)
    marked = data[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")
    if not marked and name.upper().replace("_", "-") not in ("UTF-32", "UTF-32LE", "UTF-32BE", "UCS-4", "UCS4"):
        return ""
    what = f"it declares encoding {name!r}" if name else "it is in UTF-32 (its byte-order mark)"
    return (
        f"{what}, four bytes a character, which Python's XML parser (expat, which mmdetection's VOC reader uses "
        "too) does not read; save the file as UTF-8"
    )


def _reason(exc: Exception) -> str:
    return str(exc).split(":")[0]
