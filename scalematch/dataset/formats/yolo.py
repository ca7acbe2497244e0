"""YOLO txt labels -> :class:`RawBoxes`.

A label file has one line ``class cx cy w h`` per object, coordinates normalised to the image size.
The path is a dataset folder with ``labels/`` and ``images/``, a labels folder (images in the sibling
``images`` folder, as ultralytics lays them out), or one label file. Image sizes come from the image file
headers (Pillow's lazy ``Image.open`` reads the header only, never the pixels), else from ``image_size``.
Class names come from a ``data.yaml`` (``names`` as a list or a mapping) in the folder or up to two levels
above it, else from a ``classes.txt`` next to the labels, else the class number is used as the name.
Images without a label file count as images without objects.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from scalematch.dataset.table import (
    BBOX_NONPOSITIVE,
    MALFORMED_RECORD,
    MISSING_IMAGE_SIZE,
    UNKNOWN_CATEGORY,
    UNPARSABLE_NUMBER,
    Exclusions,
    RawBoxes,
)
from scalematch.errors import DatasetError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


def _layout(path: Path) -> tuple[Path, Path | None, list[Path]]:
    """(labels root, images root or None, label files)."""
    if path.is_file():
        sibling = path.parent.parent / "images" if path.parent.name == "labels" else None
        return path.parent, sibling, [path]
    labels = path / "labels" if (path / "labels").is_dir() else path
    images: Path | None = path / "images" if (path / "images").is_dir() else None
    if images is None and labels.name == "labels" and (labels.parent / "images").is_dir():
        images = labels.parent / "images"
    files = sorted(p for p in labels.rglob("*.txt") if p.name != "classes.txt")
    return labels, images, files


def class_names(path: Path, labels: Path) -> dict[int, str] | None:
    """Class names from data.yaml (or classes.txt), None when neither is there."""
    start = path if path.is_dir() else path.parent
    for folder in (start, start.parent, start.parent.parent):
        for name in ("data.yaml", "data.yml", "dataset.yaml"):
            cfg = folder / name
            if cfg.is_file():
                return _yaml_names(cfg)
    classes = labels / "classes.txt"
    if classes.is_file():
        lines = [s.strip() for s in classes.read_text(encoding="utf-8").splitlines()]
        return {i: s for i, s in enumerate(x for x in lines if x)}
    return None


def _yaml_names(cfg: Path) -> dict[int, str]:
    import yaml

    try:
        data: Any = yaml.safe_load(cfg.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DatasetError(f"{cfg}: not valid YAML ({str(exc).splitlines()[0]})") from None
    names = data.get("names") if isinstance(data, dict) else None
    if isinstance(names, list):
        return {i: str(n) for i, n in enumerate(names)}
    if isinstance(names, dict) and all(isinstance(k, int) for k in names):
        return {int(k): str(v) for k, v in names.items()}
    raise DatasetError(f"{cfg}: key 'names': expected a list or a mapping from class number to name, got {names!r}")


def _image_size(image: Path | None) -> tuple[float, float]:
    if image is None:
        return math.nan, math.nan
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(image) as im:
            w, h = im.size
    except (OSError, UnidentifiedImageError):
        return math.nan, math.nan
    return float(w), float(h)


def _find_image(images: Path | None, rel: Path) -> Path | None:
    if images is None:
        return None
    for suffix in IMAGE_SUFFIXES:
        for candidate in (images / rel.with_suffix(suffix), images / rel.with_suffix(suffix.upper())):
            if candidate.is_file():
                return candidate
    return None


def read(path: Path, exclusions: Exclusions, image_size: tuple[int, int] | None = None) -> RawBoxes:
    labels, images, files = _layout(path)
    if not files:
        raise DatasetError(f"{path}: no YOLO .txt label files found")
    names = class_names(path, labels)
    raw = RawBoxes()
    seen: set[int] = set()
    ann_id = 0
    for image_id, label in enumerate(files, 1):
        rel = label.relative_to(labels)
        image = _find_image(images, rel)
        w_img, h_img = _image_size(image)
        if image is None and image_size is not None:
            w_img, h_img = float(image_size[0]), float(image_size[1])
        raw.images[image_id] = (image.name if image else rel.with_suffix(".jpg").name, w_img, h_img)
        try:
            lines = label.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise DatasetError(f"{label}: cannot read as UTF-8 text ({exc})") from None
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            ann_id += 1
            where = f"{rel}: line {n}"
            fields = line.split()
            if len(fields) != 5:
                exclusions.add(MALFORMED_RECORD, where, f"expected 5 fields (class cx cy w h), got {len(fields)}")
                continue
            try:
                cls = int(fields[0])
            except ValueError:
                exclusions.add(UNPARSABLE_NUMBER, where, f"expected an integer class, got {fields[0]!r}")
                continue
            try:
                cx, cy, bw, bh = (float(f) for f in fields[1:])
                if not all(math.isfinite(v) for v in (cx, cy, bw, bh)):
                    raise ValueError
            except ValueError:
                exclusions.add(UNPARSABLE_NUMBER, where, f"expected four finite numbers, got {' '.join(fields[1:])!r}")
                continue
            if names is not None and cls not in names:
                exclusions.add(UNKNOWN_CATEGORY, where, f"class {cls} is not among the {len(names)} names of data.yaml")
                continue
            if not (bw > 0 and bh > 0):
                exclusions.add(BBOX_NONPOSITIVE, where, f"expected w and h > 0, got {bw!r} {bh!r}")
                continue
            if not (math.isfinite(w_img) and math.isfinite(h_img)):
                exclusions.add(MISSING_IMAGE_SIZE, where, "no image found to read the size from; pass --image-size WxH")
                continue
            seen.add(cls)
            w, h = bw * w_img, bh * h_img
            raw.add(ann_id, image_id, cls, (cx * w_img - w / 2, cy * h_img - h / 2, w, h), w * h)
    if images is not None and path.is_dir():
        _background_images(images, labels, files, raw)
    raw.categories = dict(names) if names is not None else {c: str(c) for c in sorted(seen)}
    return raw


def _background_images(images: Path, labels: Path, files: list[Path], raw: RawBoxes) -> None:
    """Images without a label file are images without objects (ultralytics' background images)."""
    labelled = {f.relative_to(labels).with_suffix("") for f in files}
    for image in sorted(images.rglob("*")):
        if image.suffix.lower() in IMAGE_SUFFIXES and image.relative_to(images).with_suffix("") not in labelled:
            raw.images[len(raw.images) + 1] = (image.name, math.nan, math.nan)
