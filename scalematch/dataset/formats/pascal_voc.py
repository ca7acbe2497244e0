"""Pascal VOC XML -> :class:`RawBoxes`: one XML file, a folder of XML files, or a VOCdevkit year folder.

Pixel convention: VOC's ``xmin .. xmax`` are 1-based *inclusive* pixel indices, so a box covers
``xmax - xmin + 1`` pixels. We convert once, here, to continuous 0-based ``xywh``: ``x = xmin - 1``,
``w = xmax - xmin + 1`` (same for y/h). This is detectron2's reading of VOC (it subtracts 1 from xmin/ymin
only) and makes a one-pixel box (xmin == xmax) 1 px wide rather than 0. ``area`` is ``w * h``.

XML is parsed with defusedxml: files declaring entities or referring to external resources are refused.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from scalematch.dataset.formats._files import read_text
from scalematch.dataset.table import (
    BBOX_INVALID,
    BBOX_NONPOSITIVE,
    MALFORMED_RECORD,
    UNPARSABLE_NUMBER,
    Exclusions,
    RawBoxes,
    image_side,
)
from scalematch.errors import DatasetError

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element


def xml_files(path: Path, split: str | None) -> list[Path]:
    """The XML files of ``path`` in reading order (a split file's order, else sorted by name)."""
    if path.is_file():
        return [path]
    ann = path / "Annotations"
    if ann.is_dir():
        if split is None:
            return sorted(ann.glob("*.xml"))
        if not split or "/" in split or "\\" in split or split.startswith("."):
            raise DatasetError(f"{path}: split {split!r}: expected a split name such as train or val, not a path")
        split_file = path / "ImageSets" / "Main" / f"{split}.txt"
        if not split_file.is_file():
            raise DatasetError(f"{path}: split {split!r} not found: expected {split_file}")
        files = []
        for n, line in enumerate(read_text(split_file).splitlines(), 1):
            stem = line.split()[0] if line.strip() else ""
            if not stem:
                continue
            xml = ann / f"{stem}.xml"
            if not xml.is_file():
                raise DatasetError(f"{split_file}: line {n}: {stem!r} has no annotation file {xml}")
            files.append(xml)
        return files
    if split is not None:
        raise DatasetError(f"{path}: split= needs a VOCdevkit year folder (with Annotations/ and ImageSets/Main/)")
    return sorted(path.glob("*.xml"))


def read(path: Path, exclusions: Exclusions, split: str | None = None) -> RawBoxes:
    raw = RawBoxes()
    names: dict[str, int] = {}
    files = xml_files(path, split)
    if not files:
        raise DatasetError(f"{path}: no VOC .xml files found")
    ann_id = 0
    for image_id, xml in enumerate(files, 1):
        root = _parse(xml)
        if root.tag != "annotation":
            raise DatasetError(f"{xml}: expected a VOC <annotation> root element, got <{root.tag}>")
        filename = (root.findtext("filename") or xml.with_suffix(".jpg").name).strip()
        width = _size(root.findtext("size/width"))
        height = _size(root.findtext("size/height"))
        raw.images[image_id] = (filename, width, height)
        for k, obj in enumerate(root.iter("object"), 1):
            ann_id += 1
            where = f"object {k}" if xml == path else f"{xml.relative_to(path)}: object {k}"
            name = (obj.findtext("name") or "").strip()
            if not name:
                exclusions.add(MALFORMED_RECORD, where, "expected a non-empty <name>, got none")
                continue
            bndbox = obj.find("bndbox")
            tags = ("xmin", "ymin", "xmax", "ymax")
            if bndbox is None or any(bndbox.find(tag) is None for tag in tags):
                got = "none" if bndbox is None else ", ".join(f"<{t.tag}>" for t in bndbox) or "an empty one"
                exclusions.add(BBOX_INVALID, where, f"expected a <bndbox> with <xmin> <ymin> <xmax> <ymax>, got {got}")
                continue
            values = []
            for tag in tags:
                text = bndbox.findtext(tag)
                try:
                    v = float((text or "").strip())
                    if not math.isfinite(v):
                        raise ValueError
                except ValueError:
                    exclusions.add(UNPARSABLE_NUMBER, where, f"expected a finite number for <{tag}>, got {text!r}")
                    break
                values.append(v)
            else:
                xmin, ymin, xmax, ymax = values
                if not (xmax >= xmin and ymax >= ymin):
                    exclusions.add(BBOX_NONPOSITIVE, where, f"expected xmax >= xmin and ymax >= ymin, got {values!r}")
                    continue
                w, h = xmax - xmin + 1.0, ymax - ymin + 1.0
                cid = names.setdefault(name, len(names) + 1)
                raw.add(
                    ann_id, image_id, cid, (xmin - 1.0, ymin - 1.0, w, h), w * h,
                    difficult=_flag(obj.findtext("difficult")), truncated=_flag(obj.findtext("truncated")),
                )  # fmt: skip
    raw.categories = {cid: name for name, cid in names.items()}
    return raw


def _size(text: str | None) -> float:
    try:
        v = float((text or "").strip())
    except ValueError:
        return math.nan
    return image_side(v)


def _flag(text: str | None) -> bool:
    return (text or "0").strip() not in ("0", "", "false", "False")


def _parse(xml: Path) -> Element:
    import defusedxml
    import defusedxml.ElementTree as SafeET

    try:
        root: Element | None = SafeET.parse(xml).getroot()
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
    except SafeET.ParseError as exc:
        line, col = exc.position
        raise DatasetError(f"{xml}: not valid XML at line {line}, column {col + 1} ({_reason(exc)})") from None
    except OSError as exc:
        raise DatasetError(f"{xml}: cannot read ({exc.strerror})") from None
    except (LookupError, UnicodeError) as exc:  # an encoding declaration Python does not know, or bytes not in it
        raise DatasetError(f"{xml}: cannot decode the XML ({str(exc).splitlines()[0]})") from None
    if root is None:
        raise DatasetError(f"{xml}: empty XML document")
    return root


def _reason(exc: Exception) -> str:
    return str(exc).split(":")[0]
