"""YOLO txt labels -> :class:`RawBoxes`.

A label file has one line ``class cx cy w h`` per object, coordinates normalised to the image size.
The path is a dataset folder with ``labels/`` and ``images/``, a labels folder or one of its split folders
(``labels/train``: images in ``images/train``, the last ``labels`` component replaced by ``images`` as
ultralytics does), or one label file. Image sizes come from the image file headers (Pillow's lazy
``Image.open`` reads the header only, never the pixels, and without its decompression-bomb check) with the
EXIF orientation applied as ultralytics' ``exif_size`` does (orientations 5-8 swap width and height), else
from ``image_size``. Boxes are checked as ultralytics' ``verify_image_label`` checks them (coordinates in
[-0.01, 1.01], w and h at most 1.01, class ids integers >= 0), but one bad line excludes that box only, where
ultralytics drops the whole image.
Class names come from a ``data.yaml`` (``names`` as a list or a mapping) in the folder or up to two levels
above it, else from a ``classes.txt`` next to the labels, else the class number is used as the name.
Images without a label file count as images without objects.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from scalematch.dataset.formats._files import is_decimal, is_present, read_text
from scalematch.dataset.table import (
    BBOX_NONPOSITIVE,
    BBOX_OUT_OF_RANGE,
    MALFORMED_RECORD,
    MISSING_IMAGE_SIZE,
    RESOURCE_FORK,
    UNKNOWN_CATEGORY,
    UNPARSABLE_NUMBER,
    Exclusions,
    RawBoxes,
    image_side,
    short_repr,
)
from scalematch.errors import DatasetError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
TOLERANCE = 0.01  # ultralytics' verify_image_label: coordinates may leave [0, 1] by 1 %
_I64 = 1 << 63


def _layout(path: Path) -> tuple[Path, Path | None, list[Path]]:
    """(labels root, images root or None, label files). A labels folder is read with its subfolders: a labels
    folder holding split folders (``labels/train``, ``labels/val``) is read whole, every split, as its dataset
    folder is."""
    if path.is_file():
        return path.parent, _images_for(path.parent), [path]
    labels = path / "labels" if (path / "labels").is_dir() else path
    images: Path | None = path / "images" if (path / "images").is_dir() else _images_for(labels)
    files = sorted(p for p in labels.rglob("*.txt") if p.name != "classes.txt")
    return labels, images, files


def _images_for(labels: Path) -> Path | None:
    """The images folder of a labels folder: its path with the last ``labels`` component made ``images``."""
    parts = labels.parts
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] == "labels":
            images = Path(*parts[:i], "images", *parts[i + 1 :])
            return images if images.is_dir() else None
    return None


def names_file(path: Path, labels: Path) -> Path | None:
    """The file class names come from: a data.yaml in the folder or up to two levels above it, else the
    classes.txt next to the labels, else None."""
    start = path if path.is_dir() else path.parent
    for folder in (start, start.parent, start.parent.parent):
        for name in ("data.yaml", "data.yml", "dataset.yaml"):
            cfg = folder / name
            if is_present(cfg):
                return cfg
    classes = labels / "classes.txt"
    return classes if is_present(classes) else None


def class_names(path: Path, labels: Path) -> dict[int, str] | None:
    """Class names from data.yaml (or classes.txt), None when neither is there."""
    found = names_file(path, labels)
    if found is None:
        return None
    if found.name != "classes.txt":
        return _yaml_names(found)
    return _classes_txt(found)


def side_paths(path: Path) -> tuple[Path, ...]:
    """What a read of ``path`` opens besides it: the images folder and the class-names file (outputs must not
    replace them)."""
    if path.is_file():
        labels, images = path.parent, _images_for(path.parent)
    else:
        labels = path / "labels" if (path / "labels").is_dir() else path
        images = path / "images" if (path / "images").is_dir() else _images_for(labels)
    return tuple(p for p in (images, names_file(path, labels)) if p is not None)


def _classes_txt(classes: Path) -> dict[int, str]:
    """Names from classes.txt, one per line, class 0 first (darknet's ``.names``, labelImg's classes.txt): line
    n + 1 names class n, so a blank line between names is refused (dropping it would renumber the classes after
    it, keeping it would name a class ''); blank lines at the end are ignored. A file naming no class (empty, or
    blank lines only) is refused too: it would make every box an unknown class."""
    lines = [s.strip() for s in read_text(classes).splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        raise DatasetError(f"{classes}: names no class (expected one class name per line, class 0 first)")
    for n, line in enumerate(lines, 1):
        if not line:
            raise DatasetError(
                f"{classes}: line {n}: blank line before the last class name (line k names class k - 1); remove "
                "it or name the class"
            )
    return dict(enumerate(lines))


def _yaml_names(cfg: Path) -> dict[int, str]:
    import yaml

    from scalematch._yaml import TooLarge, safe_load

    try:
        data: Any = safe_load(read_text(cfg))
    except (yaml.YAMLError, RecursionError) as exc:
        raise DatasetError(f"{cfg}: not valid YAML ({str(exc).splitlines()[0]})") from None
    except TooLarge as exc:
        raise DatasetError(f"{cfg}: {exc}") from None
    names = data.get("names") if isinstance(data, dict) else None
    if isinstance(names, list):
        items = list(enumerate(names))
    elif isinstance(names, dict):
        for k in names:
            if not (type(k) is int or (isinstance(k, str) and k.isascii() and k.isdigit())):
                raise DatasetError(
                    f"{cfg}: key 'names' [{_yaml_key(k)}]: expected a class number from 0 to 2^31 - 1, got "
                    f"{_yaml_kind(k)}"
                )
        items = [(int(k), v) for k, v in names.items()]  # ultralytics takes '0': a as 0: a
    else:  # containers are named by type only: YAML aliases can nest them exponentially deep
        got = f"a {type(names).__name__}" if isinstance(names, list | dict) else short_repr(names)
        raise DatasetError(f"{cfg}: key 'names': expected a list or a mapping from class number to name, got {got}")
    for k, v in items:
        if not (v is None or isinstance(v, str | int | float)):
            raise DatasetError(f"{cfg}: key 'names' [{k}]: expected a name, got a {type(v).__name__}")
        if not 0 <= k < 2**31:
            raise DatasetError(f"{cfg}: key 'names' [{short_repr(k)}]: expected a class number from 0 to 2^31 - 1")
    return {int(k): str(v) for k, v in items}


def _yaml_key(key: object) -> str:
    """A mapping key as YAML wrote it (``true``, ``null``, ``1.5``, ``'cat'``), shortened."""
    if key is None or isinstance(key, bool):
        return {None: "null", True: "true", False: "false"}[key]
    return short_repr(key) if isinstance(key, str | int | float) else f"a {type(key).__name__}"


def _yaml_kind(key: object) -> str:
    """What a mapping key is in YAML's words: ``true`` is a YAML boolean, not the class number 1."""
    if isinstance(key, bool):
        return "a YAML boolean, not an integer"
    if key is None:
        return "null (an empty key)"
    kind = {float: "a number with a fraction", str: "a string"}.get(type(key), f"a {type(key).__name__}")
    return f"{kind}, not an integer"


def _image_size(image: Path | None) -> tuple[float, float]:
    """(width, height) from the image header with the EXIF orientation applied; NaN when unreadable."""
    if image is None:
        return math.nan, math.nan
    from PIL import Image

    try:
        with Image.open(image) as im:
            w, h = im.size
            if _orientation(im) in (5, 6, 7, 8):  # transposed or rotated by 90 degrees: ultralytics' exif_size
                w, h = h, w
    except Exception:  # any header Pillow cannot read means: no size from this image
        return math.nan, math.nan
    return image_side(w), image_side(h)


def _orientation(im: Any) -> object:
    try:
        exif = im.tag_v2 if im.format == "TIFF" else im.getexif()
        return exif.get(274)
    except Exception:  # a malformed EXIF block is no orientation, as in ultralytics
        return None


@contextlib.contextmanager
def _no_bomb_check() -> Iterator[None]:
    """Pillow's decompression-bomb check (a warning, or an error for huge sizes) is for decoding pixels; only
    headers are read here, so it is off while reading, and so are Pillow's warnings about odd headers."""
    from PIL import Image

    limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module=r"PIL\.")  # odd headers or EXIF: the size is all we read
            yield
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def _find_image(images: Path | None, rel: Path) -> Path | None:
    if images is None:
        return None
    for suffix in IMAGE_SUFFIXES:
        for candidate in (images / rel.with_suffix(suffix), images / rel.with_suffix(suffix.upper())):
            if candidate.is_file():
                return candidate
    return None


def read(path: Path, exclusions: Exclusions, image_size: tuple[int, int] | None = None) -> RawBoxes:
    """The boxes of every label file in path order. Without label files the dataset is empty (its images, if any,
    are images without objects, as ultralytics reads them). A folder's ``._name.txt`` files (macOS resource
    forks, which ultralytics never opens: it looks for the label of each image) are skipped and counted as
    ``resource_fork``."""
    labels, images, files = _layout(path)
    if path.is_dir():
        forks = [label for label in files if label.name.startswith("._")]
        if forks:
            exclusions.counts[RESOURCE_FORK] += len(forks)
            files = [label for label in files if not label.name.startswith("._")]
    names = class_names(path, labels)
    with _no_bomb_check():
        return _read(path, exclusions, image_size, labels, images, files, names)


def _read(
    path: Path, exclusions: Exclusions, image_size: tuple[int, int] | None, labels: Path, images: Path | None,
    files: list[Path], names: dict[int, str] | None,
) -> RawBoxes:  # fmt: skip
    raw = RawBoxes(one_file=not path.is_dir())
    seen: set[int] = set()
    ann_id = 0
    for image_id, label in enumerate(files, 1):
        rel = label.relative_to(labels)
        image = _find_image(images, rel)
        w_img, h_img = _image_size(image)
        if image is None and image_size is not None:
            w_img, h_img = float(image_size[0]), float(image_size[1])
        raw.images[image_id] = (image.name if image else rel.with_suffix(".jpg").name, w_img, h_img)
        label_file = raw.label_files[image_id] = label.name if label == path else label.relative_to(path).as_posix()
        lines = read_text(label).splitlines()
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            ann_id += 1
            where = f"line {n}" if label == path else f"{label_file}: line {n}"
            fields = line.split()
            if len(fields) != 5:
                exclusions.add(MALFORMED_RECORD, where, f"expected 5 fields (class cx cy w h), got {len(fields)}")
                continue
            decimal = line.isascii() and "_" not in line  # else each field is checked
            cls = _class_id(fields[0]) if decimal or is_decimal(fields[0]) else None
            if cls is None:
                exclusions.add(UNPARSABLE_NUMBER, where, f"expected an integer class, got {short_repr(fields[0])}")
                continue
            try:
                cx, cy, bw, bh = (float(f) for f in fields[1:])
                if not all(math.isfinite(v) for v in (cx, cy, bw, bh)):
                    raise ValueError
                if not (decimal or all(map(is_decimal, fields[1:]))):
                    raise ValueError
            except ValueError:
                got = short_repr(" ".join(fields[1:]))
                exclusions.add(UNPARSABLE_NUMBER, where, f"expected four finite decimal numbers, got {got}")
                continue
            if cls < 0:
                exclusions.add(UNKNOWN_CATEGORY, where, f"expected a class number >= 0, got {cls}")
                continue
            if names is not None and cls not in names:
                exclusions.add(UNKNOWN_CATEGORY, where, f"class {cls} is not among the {len(names)} names of data.yaml")
                continue
            if not (bw > 0 and bh > 0):
                exclusions.add(BBOX_NONPOSITIVE, where, f"expected w and h > 0, got {bw!r} {bh!r}")
                continue
            if not (min(cx, cy) >= -TOLERANCE and max(cx, cy, bw, bh) <= 1 + TOLERANCE):
                text = f"expected normalised coordinates in [0, 1] (+-{TOLERANCE}), got {cx!r} {cy!r} {bw!r} {bh!r}"
                exclusions.add(BBOX_OUT_OF_RANGE, where, text)
                continue
            if not (math.isfinite(w_img) and math.isfinite(h_img)):
                exclusions.add(MISSING_IMAGE_SIZE, where, "no image found to read the size from; pass image_size=WxH")
                continue
            seen.add(cls)
            w, h = bw * w_img, bh * h_img
            raw.add(ann_id, image_id, cls, (cx * w_img - w / 2, cy * h_img - h / 2, w, h), w * h)
            raw.label_index.append(n)
    if images is not None and path.is_dir():
        _background_images(images, labels, files, raw)
    raw.categories = dict(names) if names is not None else {c: str(c) for c in sorted(seen)}
    return raw


def _class_id(text: str) -> int | None:
    """A class number: an integer, or a float with an integral value ("3.0", as ultralytics reads classes as
    floats); None for anything else or beyond 64 bits."""
    try:
        value = int(text)
    except ValueError:
        try:
            number = float(text)
        except ValueError:
            return None
        if not number.is_integer():
            return None
        value = int(number)
    return value if -_I64 <= value < _I64 else None


def _background_images(images: Path, labels: Path, files: list[Path], raw: RawBoxes) -> None:
    """Images without a label file are images without objects (ultralytics' background images)."""
    labelled = {f.relative_to(labels).with_suffix("") for f in files}
    for image in sorted(images.rglob("*")):
        if image.suffix.lower() in IMAGE_SUFFIXES and image.relative_to(images).with_suffix("") not in labelled:
            raw.images[len(raw.images) + 1] = (image.name, math.nan, math.nan)
