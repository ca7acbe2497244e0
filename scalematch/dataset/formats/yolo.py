"""YOLO txt labels -> :class:`RawBoxes`.

A label file has one line ``class cx cy w h`` per object, coordinates normalised to the image size. The path is a
dataset folder with ``labels/`` and ``images/``, a labels folder or one of its split folders (``labels/train``:
images in ``images/train``, the last ``labels`` component replaced by ``images`` as ultralytics does; without such
a folder, images beside their labels), an images folder (``images/train``: read as ``labels/train``), an export
root of split folders (Roboflow's ``train/labels``, CVAT's ``obj_train_data``), or one label file; a label file and
an image are a pair when ultralytics' ``img2label_paths`` gives that label file for the image (:func:`img2label`),
at the real path of the images folder, which ``check_det_dataset`` resolves (see :func:`_resolved`).
Image sizes come from the image file headers (Pillow's lazy ``Image.open``
reads the header only, and its ``verify()`` a PNG's chunks, never the pixels but those of a JPEG not ending in FFD9,
and without its decompression-bomb check) with the EXIF orientation
applied as ultralytics' ``exif_size`` does (orientations 5-8 swap width and height), else from ``image_size``. An
image both toolkits' ``verify_image_label`` drop as corrupt for its file (Pillow's ``verify()`` fails, a format
neither reads, a JPEG cut short) is excluded as ``corrupt_image``; one that only one of them drops keeps its
objects, refused for that toolkit (see :func:`_checked`).
Boxes are checked as ultralytics' ``verify_image_label`` checks them, in float32 (coordinates in [-0.01, 1.01], w and
h at most 1.01, class ids integers >= 0), but one bad line excludes that box only, where ultralytics drops the whole
image.
Class names come from a ``data.yaml`` (``names`` as a list or a mapping) in the folder or above it, up to two levels
above the last ``labels`` folder on its path (or above the folder), else from a ``classes.txt`` in the labels (at any
depth, or at the top of the ``labels`` folder above a split given) that is no image's label file, or beside the labels
folder (Label Studio), else from darknet's ``obj.names`` (CVAT), else the class number is used as the name (see
:func:`names_file`).
Images without a label file count as images without objects.
"""

from __future__ import annotations

import codecs
import math
import os
from array import array
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scalematch._text import described
from scalematch._yaml import key_words
from scalematch.dataset.formats._files import decode_text, is_decimal, is_present, kind, read_bytes, read_text
from scalematch.dataset.formats._image_size import checked_size, no_bomb_check
from scalematch.dataset.formats._walk import links_in, walk, walk_names
from scalematch.dataset.table import (
    BBOX_NONPOSITIVE,
    BBOX_OUT_OF_RANGE,
    CORRUPT_IMAGE,
    DUPLICATE_LABEL,
    HIDDEN_FILE,
    LABEL_SUFFIX_CASE,
    MALFORMED_RECORD,
    MISSING_IMAGE_SIZE,
    RESOURCE_FORK,
    UNKNOWN_CATEGORY,
    UNPARSABLE_NUMBER,
    Exclusions,
    RawBoxes,
)
from scalematch.dataset.yolo_labels import BOTH, TOLERANCE, ULTRALYTICS, YOLOV5
from scalematch.errors import DatasetError

# ultralytics 8.4's IMG_FORMATS, matched in any case as it lists images (two images of one name share a label file)
IMAGE_SUFFIXES = (
    ".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".avif", ".dng", ".heic", ".heif", ".jp2", ".mpo",
)  # fmt: skip
_RANK = {suffix: rank for rank, suffix in enumerate(IMAGE_SUFFIXES)}
_I64 = 1 << 63
_F32_EXACT = 1 << 24  # every integer below it is a float32
_F32_NONZERO = 2.0**-150  # a positive float64 rounds to a float32 above 0 when it is above this (ties to even)
_NO_NAMES = 1 << 63  # without a names file any class within 64 bits is named (by its number)


@dataclass(frozen=True)
class _Part:
    """A labels folder, read with its subfolders, and the folder its images are in: the images folder of its path
    (the last ``labels`` component made ``images``, as ultralytics' ``img2label_paths`` pairs them), else the
    labels folder itself (images beside their labels, as ultralytics pairs an image whose path has no ``images``
    component: CVAT's ``obj_train_data``)."""

    labels: Path
    images: Path
    listed: Path = Path()
    """The images folder as ultralytics lists it: its real path (``check_det_dataset`` resolves the folder
    data.yaml names, links and all, before it lists the images below it)."""
    target: Path = Path()
    """The labels folder ``img2label_paths`` gives for :attr:`listed` (absolute), which is :attr:`labels` itself
    (the same folder, under the name that the images' paths give it)."""


def _parts(path: Path) -> tuple[_Part, ...]:
    """The labels folders a read of ``path`` covers: a label file's folder; a dataset folder's ``labels``; else
    the split folders of an export root (Roboflow's ``train/labels``, ``valid/labels``, ...; CVAT's
    ``obj_train_data``), every split; else the folder itself. Each with its images folder as ultralytics lists
    it (see :func:`_resolved`)."""
    return tuple(_resolved(part) for part in _found_parts(path))


def _found_parts(path: Path) -> tuple[_Part, ...]:
    if path.is_file():
        _check_labels_case(path.parent)
        return (_part(path.parent),)
    if _is_dir(path / "labels"):
        return (_part(path / "labels"),)
    if os.path.lexists(path / "labels") and _is_dir(path / "images"):  # a file, a broken link: no labels folder
        raise DatasetError(
            f"{path / 'labels'}: is not a folder ({kind(path / 'labels') or 'a file'}); a YOLO dataset's label files "
            "are in its labels folder, beside images"
        )
    splits = _splits(path)
    if splits:
        return tuple(_part(split / "labels") if _is_dir(split / "labels") else _Part(split, split) for split in splits)
    _check_labels_case(path)
    if is_images_folder(path):  # its images' labels are elsewhere (img2label_paths), never beside them
        return (_Part(_labels_of_images(path), path),)
    return (_part(path),)


def _resolved(part: _Part) -> _Part:
    """``part`` with the folder ultralytics lists its images in and the labels folder it pairs them with. The
    images folder stands for the folder data.yaml names (``ds/images`` for a dataset given, ``ds/images/train``
    for a split), which ``check_det_dataset`` resolves: its images are listed under its real path, links below it
    followed under their names as glob lists them, and ``img2label_paths`` works on those paths. So when a link
    is on the images folder's path, the labels ultralytics reads are those of its real path (the last ``images``
    component made ``labels``; beside the images when it has none); when that is not the labels folder read, a
    :class:`DatasetError` naming both: ultralytics would not read these labels with these images."""
    given = Path(os.path.abspath(part.images))
    real = Path(os.path.realpath(part.images))
    if real == given:  # no link on the way: paired on the path as given (a labels folder's own name may be one)
        named = _swap(given, "images", "labels") if part.images != part.labels else None
        own = Path(os.path.abspath(part.labels))
        if named is None or named == own or not _same_folder(named, part.labels):
            named = own
        return _Part(part.labels, part.images, part.images, named)
    swapped = _swap(real, "images", "labels")
    target = swapped if swapped is not None else real
    if not _same_folder(target, part.labels):
        where = "beside them, its path having no 'images' component" if swapped is None else "img2label_paths"
        raise DatasetError(
            f"{part.images}: a link to {_shown(real)}; ultralytics resolves the folder data.yaml names before it "
            f"pairs images with labels, so it reads the labels of these images from {_shown(target)} ({where}), "
            f"not from {part.labels}; put the labels where the real path of the images leads (its last 'images' "
            "component made 'labels'), or give that folder"
        )
    return _Part(part.labels, part.images, real, target)


def _shown(real: Path) -> str:
    """A resolved path as a message names it: relative to the current folder when it lies inside it."""
    here = os.path.realpath(os.curdir)
    inside = os.path.commonpath([here, real]) == here
    return os.path.relpath(real, here) if inside else str(real)


def _swap(path: Path, old: str, new: str) -> Path | None:
    """``path`` with its last ``old`` component made ``new``; None when it has none."""
    parts = path.parts
    last = max((i for i, name in enumerate(parts) if name == old), default=None)
    return None if last is None else Path(*parts[:last], new, *parts[last + 1 :])


def _same_folder(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` are one folder (by device and inode, links followed)."""
    try:
        first, second = os.stat(a), os.stat(b)
    except OSError:
        return False
    return (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)


def _kinds(path: Path) -> list[str]:
    return [name for name in path.parts if name in ("images", "labels")]


def is_images_folder(path: Path) -> bool:
    """Whether ``path`` is a folder of images as ultralytics pairs them: its absolute path has an ``images``
    component, after any ``labels`` component (``ds/images/train``, the folder data.yaml's ``train:`` names), or,
    when it has neither, its real path has (``imgtrain -> ds/images/train``: ultralytics resolves the folder
    data.yaml names)."""
    if not path.is_dir():
        return False
    names = _kinds(Path(os.path.abspath(path))) or _kinds(Path(os.path.realpath(path)))
    return bool(names) and names[-1] == "images"


def is_labels_folder(path: Path) -> bool:
    """Whether ``path`` is a folder inside a YOLO ``labels`` folder: the last ``images`` or ``labels`` component
    of its absolute path is ``labels`` (``ds/labels/train``, also when it holds only batch folders)."""
    names = _kinds(Path(os.path.abspath(path)))
    return path.is_dir() and bool(names) and names[-1] == "labels"


def _labels_of_images(images: Path) -> Path:
    """The labels folder of an images folder, as ultralytics' ``img2label_paths`` gives its images' label files:
    its path with the last ``images`` component made ``labels``, the real path when a link is on it (as
    ``check_det_dataset`` resolves the folder data.yaml names); a :class:`DatasetError` naming it when it is no
    folder (ultralytics would read every image as one without objects, the ``.txt`` beside them unread), or when
    the real path has no ``images`` component (ultralytics then looks for each image's labels beside it)."""
    real = Path(os.path.realpath(images))
    if real != Path(os.path.abspath(images)):
        labels = _swap(real, "images", "labels")
        if labels is None:
            raise DatasetError(
                f"{images}: a link to {_shown(real)}; ultralytics resolves the folder data.yaml names before it pairs "
                "images with labels, and that path has no 'images' component, so it looks for each image's "
                "labels beside it; give the folder of those labels, or link a folder whose real path ends in "
                "images/<split>"
            )
        if not _is_dir(labels):
            raise DatasetError(
                f"{images}: a folder of images (a link to {_shown(real)}), whose labels ultralytics reads from "
                f"{_shown(labels)} "
                "(it resolves the folder data.yaml names, and img2label_paths makes the last 'images' component "
                "of each image's path 'labels'), which is no folder; give the labels folder, or move the labels "
                "there"
            )
        return labels
    parts = images.parts
    last = max((i for i, name in enumerate(parts) if name == "images"), default=None)
    if last is None:  # the images component is above the path given (relative): work on the absolute path
        parts = Path(os.path.abspath(images)).parts
        last = max(i for i, name in enumerate(parts) if name == "images")
    labels = Path(*parts[:last], "labels", *parts[last + 1 :])
    if not _is_dir(labels):
        raise DatasetError(
            f"{images}: a folder of images, whose labels ultralytics reads from {labels} (img2label_paths makes "
            "the last 'images' component of each image's path 'labels'), which is no folder; give the labels "
            "folder, or move the labels there"
        )
    return labels


def _check_labels_case(path: Path) -> None:
    """A folder with an ``images`` folder (in any case) and a ``Labels`` folder (``labels`` in another case) is
    refused: ultralytics looks for the labels of ``images/x.jpg`` in ``labels/x.txt``, case-sensitive, so it
    would read the images without their labels, and reading the folder itself would pair nothing. So is a
    folder given inside such a ``Labels`` folder (``ds/Labels/train``), unless a ``labels`` component follows."""
    if "labels" not in path.parts:
        for folder in (path, *path.parents):
            if folder.name.lower() == "labels" and folder.name != "labels":
                _check_labels_case(folder.parent)
    if not path.is_dir():
        return
    try:
        names = sorted(entry.name for entry in os.scandir(path) if _is_dir(path / entry.name))
    except OSError as exc:
        raise DatasetError(f"{path}: {exc.strerror or exc}") from None
    odd = [name for name in names if name.lower() == "labels" and name != "labels"]
    images = [name for name in names if name.lower() == "images"]
    if odd and images:
        raise DatasetError(
            f"{path / odd[0]}: YOLO looks for the labels of {images[0]}/ in a folder named 'labels', in lower case "
            f"(ultralytics pairs images/x.jpg with labels/x.txt, case-sensitive); rename it to 'labels'"
        )


def _is_dir(path: Path) -> bool:
    """Whether ``path`` is a folder (a link to one too); a :class:`DatasetError` naming the folder it is in when
    that folder cannot be searched (``ds/labels/val: Permission denied``, not ``ds/labels/val/labels``)."""
    try:
        return path.is_dir()
    except OSError as exc:
        raise DatasetError(f"{path.parent}: {exc.strerror or exc}") from None


def _part(labels: Path) -> _Part:
    """A labels folder and its images folder (see :func:`_images_for`), found from its real path when its path as
    given has no ``labels`` component or gives no images folder (``labtrain -> ds/labels/train``)."""
    images = _images_for(labels)
    real = Path(os.path.realpath(labels))
    if images is None and real != Path(os.path.abspath(labels)):
        images = _images_for(real)
    return _Part(labels, images or labels)


def _present(path: Path) -> bool:
    """:func:`is_present`, where a folder that cannot be searched is named as such (``ds/labels: Permission
    denied``), not the file looked for in it."""
    _is_dir(path)
    return is_present(path)


def _splits(path: Path) -> list[Path]:
    """The split folders of an export root that has no ``labels`` folder: its folders holding ``labels``
    (Roboflow's and ultralytics' exports: ``train/labels``, ``valid/labels``) or named ``obj_<subset>_data``
    (CVAT's YOLO 1.1, images beside their labels). The root's own files (README.dataset.txt, CVAT's train.txt
    image list) are no label files."""
    found = []
    try:
        listing = sorted(path.iterdir())
    except OSError as exc:
        raise DatasetError(f"{path}: {exc.strerror or exc}") from None
    for split in listing:
        cvat = split.name.startswith("obj_") and split.name.endswith("_data")
        if _is_dir(split) and (cvat or _is_dir(split / "labels")):
            found.append(split)
    return found


def _hidden(found: tuple[tuple[str, ...], object, bool]) -> bool:
    """Whether an entry of :func:`walk` is hidden as ``glob.glob`` hides it (and so ultralytics, which lists
    images with ``glob.glob(f"{folder}/**/*.*", recursive=True)``): its name or a folder above it starts with
    '.'. macOS's ``._name`` files are not: they are ``resource_fork``."""
    rel, _, below_hidden = found
    return not rel[-1].startswith("._") and (below_hidden or rel[-1].startswith("."))


def _label_files(
    part: _Part, index: dict[Path, list[Path]], classes: Path | None, lists: list[Path]
) -> tuple[list[tuple[Path, bool]], int]:
    """The label files of a part in path order, under every name (see :func:`walk_names`), each with whether a
    link to a folder is on its path: every ``.txt`` (in any case: see ``label_suffix_case``) but its class list,
    a ``classes.txt`` at any depth that is no image's label file (labelImg's class list in each folder it saves
    labels to: ``labels/train/classes.txt``; added to ``lists``) and a README (``README.txt``,
    ``README.dataset.txt``) that is no image's label file; and the number of hidden ones (see :func:`_hidden`)
    not reached under a name that is not hidden, left out."""
    files = []
    shown: list[os.DirEntry[str]] = []
    hidden: set[tuple[int, int]] = set()
    for rel, entry, below_hidden, linked in walk_names(part.labels):
        if not entry.name.lower().endswith(".txt"):
            continue
        if _hidden((rel, entry, below_hidden)):
            hidden.add(_identity(entry))
            continue
        label = Path(entry.path)
        if label == classes:
            continue
        if entry.name == "classes.txt" and Path(*rel).with_suffix("") not in index:
            lists.append(label)
            continue
        if entry.name.lower().startswith("readme") and Path(*rel).with_suffix("") not in index:
            continue
        shown.append(entry)
        files.append((label, linked))
    return files, len(hidden - {_identity(entry) for entry in shown}) if hidden else 0


def _identity(entry: os.DirEntry[str] | Path) -> tuple[int, int]:
    """The file an entry is (device, inode), a link followed; (-1, -1) for none (a dangling link)."""
    try:
        info = entry.stat()
    except OSError:
        return -1, -1
    return info.st_dev, info.st_ino


def _class_list(part: _Part) -> Path | None:
    """The labels folder's top-level ``classes.txt`` when it is a class list: present and the label file of no
    image (ultralytics pairs ``images/classes.png`` with ``labels/classes.txt``, at any depth, and reads it as
    labels)."""
    classes = part.labels / "classes.txt"
    if not _present(classes):
        return None
    return None if any(_is_image(image) for image in part.images.glob("classes.*")) else classes


def is_class_list(path: Path) -> bool:
    """Whether the file ``path`` is a YOLO class list and never a label file: named ``classes.txt`` and the label
    file of no image (no ``classes.*`` image that ``img2label_paths`` pairs with it), as it is in a folder read."""
    return path.name == "classes.txt" and path.is_file() and _is_class_list(path, _parts(path)[0])


def _is_class_list(path: Path, part: _Part) -> bool:
    if path.name != "classes.txt":
        return False
    target = part.target / path.name
    return not _paired(target, [image for image in part.listed.glob("classes.*") if _is_image(image)])


def _images_for(labels: Path) -> Path | None:
    """The images folder of a labels folder: its path with the last ``labels`` component made ``images``."""
    parts = labels.parts
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] == "labels":
            images = Path(*parts[:i], "images", *parts[i + 1 :])
            return images if _is_dir(images) else None
    return None


def _dataset_folder(path: Path, parts: tuple[_Part, ...]) -> Path | None:
    """The folder holding the labels: an export root of split folders, else the folder above the last ``labels``
    component of the labels folder (``ds`` for ``ds/labels`` and ``ds/labels/train``), else None."""
    if path.is_dir() and parts[0].labels != path:  # the folder given holds labels/ or the split folders
        return path
    labels = parts[0].labels.parts
    for i in range(len(labels) - 1, -1, -1):
        if labels[i] == "labels":
            return Path(*labels[:i]) if i else Path(".")
    return None


YAML_NAMES = ("data.yaml", "data.yml", "dataset.yaml")
"""The names of a dataset's data.yaml, in the order they are looked for."""


def names_file(path: Path, parts: tuple[_Part, ...], lists: tuple[Path, ...] = ()) -> Path | None:
    """The file class names come from, the first found of: a data.yaml (data.yml, dataset.yaml) in the input's folder or
    above it, up to two levels above the last ``labels`` folder on its path (see :func:`_yaml_folders`); a class list (a
    ``classes.txt`` that is no image's label file) at the top of a labels folder (of split folders, the first split's),
    below it (``lists``: labelImg's, one in each split) or at the top of the ``labels`` folder above a split given
    (``ds/labels/classes.txt`` for ``ds/labels/train``), which must all name the same classes (else a
    :class:`DatasetError` naming two); a ``classes.txt`` in the dataset folder, beside ``labels`` (Label Studio's
    export); darknet's ``obj.names`` in the input's folder or the one above it (CVAT's YOLO 1.1). None when there is
    none. The input itself is never its own names file. An images folder given is searched from its labels folder, as it
    is read."""
    if parts[0].images == path and parts[0].labels != path:
        path = parts[0].labels
    start = path if path.is_dir() else path.parent
    for folder in _yaml_folders(start):
        found = [folder / name for name in YAML_NAMES if _present(folder / name)]
        first = _yaml_names(found[0])[0] if len(found) > 1 else None
        chosen = found[0] if found else None
        for other in found[1:]:  # data.yaml beside data.yml: which one names the classes would be a guess
            names = _names_or_none(other)
            if names is not None and first is not None and names != first:
                if _numbered(names) or _numbered(first):  # 'nc' alone counts the classes: only counts compare
                    if len(names) != len(first):
                        raise DatasetError(
                            f"{other}: has {len(names)} classes, {found[0]} beside it {len(first)}; expected one "
                            "dataset description, or both of the same classes"
                        )
                    if _numbered(first) and not _numbered(names):  # the one that names them names them
                        chosen = other
                    continue
                raise DatasetError(
                    f"{other}: names other classes than {found[0]} beside it; expected one dataset description, "
                    "or both naming the same classes"
                )
        if chosen is not None:
            return chosen
    found = [p for p in (*(_class_list(part) for part in parts), *lists, _labels_class_list(parts)) if p is not None]
    found = [p for p in dict.fromkeys(found) if p != path]
    for other in found[1:]:
        _check_same(found[0], other)
    root = _dataset_folder(path, parts)
    candidates = [*found[:1], root / "classes.txt" if root is not None else None]
    candidates += [start / "obj.names", start.parent / "obj.names"]
    present = [c for c in dict.fromkeys(candidates) if c is not None and c != path and _present(c)]
    for other in present[1:]:  # classes.txt beside obj.names naming other classes: which one names them is a guess
        _check_same(present[0], other)
    return present[0] if present else None


def _names_or_none(cfg: Path) -> dict[int, str] | None:
    """The class names of a dataset description beside the one read, or None when it names none it can give (not
    one the reader would have taken: it does not decide against the first)."""
    try:
        return _yaml_names(cfg)[0]
    except DatasetError:
        return None


def _numbered(names: dict[int, str]) -> bool:
    """Whether ``names`` are those a data.yaml of ``nc`` alone gives (class_0 and on): it counts the classes only."""
    return all(name == f"class_{k}" for k, name in names.items())


def _yaml_folders(start: Path) -> list[Path]:
    """The folders a data.yaml is looked for in: ``start`` and the folders above it, up to two levels above the
    last ``labels`` folder on its path (``y/labels`` for ``y/labels/train/batch1``: the dataset ``y`` and the
    folder above it), or above ``start`` itself when there is none; so a nested split finds its dataset's
    data.yaml, as ``y`` does."""
    parts = start.parts
    last = max((i for i, name in enumerate(parts) if name == "labels"), default=len(parts) - 1)
    top = Path(*parts[: last + 1]) if parts else start
    folders = [start]
    while folders[-1] != top and folders[-1].parent != folders[-1]:
        folders.append(folders[-1].parent)
    folders += [top.parent, top.parent.parent]
    return list(dict.fromkeys(folders))


def _labels_class_list(parts: tuple[_Part, ...]) -> Path | None:
    """The class list at the top of the ``labels`` folder above a split folder given (``ds/labels/classes.txt``
    for ``ds/labels/train``), as it is found when ``ds`` or ``ds/labels`` is given: a ``classes.txt`` there that
    is no image's label file (no ``classes.*`` image in the images folder beside it)."""
    top = _labels_above(parts)
    return None if top is None else _class_list(_Part(top, _images_for(top) or top))


def _labels_above(parts: tuple[_Part, ...]) -> Path | None:
    """The ``labels`` folder above the (first) labels folder read, when there is one (``ds/labels`` for
    ``ds/labels/train``)."""
    labels = parts[0].labels.parts
    for i in range(len(labels) - 2, -1, -1):  # a labels component above the labels folder itself
        if labels[i] == "labels":
            return Path(*labels[: i + 1])
    return None


def names_places(path: Path, parts: tuple[_Part, ...]) -> list[Path]:
    """Every place :func:`names_file` looks for a names file when ``path`` is read, present or not, in the order
    it looks: an output written to one before the file it finds (or to any, when it finds none) would be read as
    the class names on the next read (a ``classes.txt`` or a ``data.yaml`` made by ``--csv``), so outputs must
    not go there."""
    if parts[0].images == path and parts[0].labels != path:
        path = parts[0].labels
    start = path if path.is_dir() else path.parent
    places = [folder / name for folder in _yaml_folders(start) for name in YAML_NAMES]
    above = _labels_above(parts)
    root = _dataset_folder(path, parts)
    lists = [*(part.labels for part in parts), above, root]
    places += [folder / "classes.txt" for folder in lists if folder is not None]
    places += [start / "obj.names", start.parent / "obj.names"]
    return [place for place in dict.fromkeys(places) if place != path]


def _check_same(first: Path, other: Path) -> None:
    """Two class lists of one dataset (labelImg's ``classes.txt`` in each split's labels folder) name the same
    classes, else a :class:`DatasetError` naming both: which one names the classes would be a guess."""
    a, b = _classes_txt(first), _classes_txt(other)
    if a != b:
        k = next(k for k in range(max(len(a), len(b))) if a.get(k) != b.get(k))
        raise DatasetError(
            f"{other}: names other classes than {first} (class {k}: {_named(b.get(k))} against "
            f"{_named(a.get(k))}); expected one class list, or all naming the same classes, or a data.yaml naming "
            "the classes"
        )


def _named(name: str | None) -> str:
    return "no name" if name is None else described(name, 60)


def class_names(
    path: Path, parts: tuple[_Part, ...], lists: tuple[Path, ...] = ()
) -> tuple[dict[int, str] | None, int, str]:
    """Class names from data.yaml (or a class list), None when there is none; the fields of a pose label line
    (``5 + keypoints * dimensions`` from data.yaml's ``kpt_shape``), 0 when the dataset has no keypoints; and
    the name of the names file. ``lists``: the class lists found among the label files (see
    :func:`_label_files`)."""
    found = names_file(path, parts, lists)
    if found is None:
        return None, 0, ""
    if found.suffix.lower() in (".yaml", ".yml"):
        return (*_yaml_names(found), found.name)
    return _classes_txt(found), 0, found.name


def side_paths(path: Path) -> tuple[Path, ...]:
    """What a read of ``path`` opens besides it: the images folders and the class-names file, and every place a
    class-names file is looked for (outputs must not replace them, nor be written where a later read would take
    them for class names)."""
    parts = _parts(path)
    images = [part.images for part in parts if part.images != part.labels]
    found = names_file(path, parts)
    places = names_places(path, parts)
    if found in places:  # a file put at a place looked at after the one found would never be read
        places = places[: places.index(found)]
    return tuple(p for p in (*images, found, *places) if p is not None)


def reached(path: Path) -> tuple[list[Path], list[Path]]:
    """What a read of ``path`` reaches: every ``.txt`` of its labels folders (the files two inputs must not share,
    also under two names), and the links met in its labels and images folders (outputs must not land behind
    them)."""
    if path.is_file():
        return [path], []
    labels: list[Path] = []
    links: list[Path] = []
    for part in _parts(path):
        for _, entry, _ in walk(part.labels):  # one listing gives both
            if entry.is_symlink():
                links.append(Path(entry.path))
            if entry.name.lower().endswith(".txt") and _is_file(entry):
                labels.append(Path(entry.path))
        if part.images != part.labels:
            links += links_in(part.images)
    return labels, links


def _classes_txt(classes: Path) -> dict[int, str]:
    """Names from classes.txt, one per line, class 0 first (darknet's ``.names``, labelImg's classes.txt): line
    n + 1 names class n, so a blank line between names is refused (dropping it would renumber the classes after
    it, keeping it would name a class ''); blank lines at the end are ignored. A file naming no class (empty, or
    blank lines only) is refused too: it would make every box an unknown class, and so is one holding a NUL
    byte."""
    text = read_text(classes)
    if "\x00" in text:  # a name is text: NUL bytes are a binary file, or one saved as UTF-16 without its mark
        at = text.count("\n", 0, text.index("\x00")) + 1
        raise DatasetError(
            f"{classes}: line {at}: holds a NUL byte; expected UTF-8 text, one class name per line (a file saved "
            "as UTF-16 or UTF-32 has them between its letters)"
        )
    lines = [s.strip() for s in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        raise DatasetError(f"{classes}: names no class (expected one class name per line, class 0 first)")
    if len(lines) > MAX_CLASSES:
        raise DatasetError(f"{classes}: names {len(lines):,} classes; expected at most {MAX_CLASSES:,}")
    for n, line in enumerate(lines, 1):
        if not line:
            raise DatasetError(
                f"{classes}: line {n}: blank line before the last class name (line k names class k - 1); remove "
                "it or name the class"
            )
    return dict(enumerate(lines))


MAX_LABEL_FILE = 1 << 24
"""The largest label file read (16 MiB: some 200,000 box lines, or polygons of 1,000,000 points in all; a 140 MB
file of one polygon took 1.9 GB)."""
MAX_UNNAMED = MAX_CLASSES = 1 << 16
"""The most classes a data.yaml may declare with ``nc`` alone (each is named, ``class_0`` and on), or name in its
``names`` or a class list: each class gets a row of the per-category statistics (1,048,576 names took 4.1 GB for a
dataset of one object; the largest label sets in use, ImageNet-21k's, have some 22,000)."""


def _yaml_names(cfg: Path) -> tuple[dict[int, str], int]:
    import yaml

    from scalematch._yaml import RepeatedKey, TooLarge, UnsupportedTag, safe_load, syntax_error

    try:
        data: Any = safe_load(read_text(cfg), unique_keys=True)
    except UnsupportedTag as exc:
        raise DatasetError(syntax_error(cfg, exc)) from None
    except yaml.YAMLError as exc:
        raise DatasetError(syntax_error(cfg, exc)) from None  # with its line and column, as configs give it
    except (TooLarge, RepeatedKey) as exc:
        raise DatasetError(f"{cfg}: {exc}") from None
    if not isinstance(data, dict):
        got = "an empty document" if data is None else f"a {type(data).__name__}" if isinstance(data, list) else None
        raise DatasetError(
            f"{cfg}: expected a mapping with a 'names' key at the top level, got {got or described(data, 60)}"
        )
    names = data.get("names")
    if names is None and "nc" in data:  # check_det_dataset: names class_0 ... class_{nc - 1}
        count = _check_nc(cfg, data["nc"], None)
        if count < 1:
            raise DatasetError(
                f"{cfg}: key 'nc': expected a number of classes from 1 (without 'names', class_0 and on), got "
                f"{count} (ultralytics refuses it too)"
            )
        if count > MAX_UNNAMED:
            raise DatasetError(
                f"{cfg}: key 'nc': {count:,} classes without 'names'; expected at most {MAX_UNNAMED:,} (each class "
                "gets a name, class_0 and on, as ultralytics names them: give 'names' instead)"
            )
        names = [f"class_{k}" for k in range(count)]
    elif "names" not in data:
        raise DatasetError(f"{cfg}: expected a 'names' key (or 'nc', the number of classes), got neither")
    if isinstance(names, list):
        items = list(enumerate(names))
    elif isinstance(names, dict):
        for k in names:
            if not (type(k) is int or (isinstance(k, str) and k.isascii() and k.isdigit())):
                raise DatasetError(
                    f"{cfg}: key 'names' [{key_words(k)}]: expected a class number from 0 to 2^31 - 1, got "
                    f"{_yaml_kind(k)}"
                )
        items = [(int(k), v) for k, v in names.items()]  # ultralytics takes '0': a as 0: a
    else:  # containers are named by type only: YAML aliases can nest them exponentially deep
        got = f"a {type(names).__name__}" if isinstance(names, list | dict) else described(names, 60)
        raise DatasetError(f"{cfg}: key 'names': expected a list or a mapping from class number to name, got {got}")
    if len(items) > MAX_CLASSES:
        raise DatasetError(f"{cfg}: key 'names': {len(items):,} classes; expected at most {MAX_CLASSES:,}")
    numbers = [k for k, _ in items]
    if len(set(numbers)) < len(numbers):  # 0 and '0' in one mapping: ultralytics keeps one without a word
        twice = next(i for i, k in enumerate(numbers) if k in numbers[:i])
        keys = list(names) if isinstance(names, dict) else []
        first = keys[numbers.index(numbers[twice])]
        raise DatasetError(
            f"{cfg}: key 'names': class {numbers[twice]} is named twice (as {key_words(first)} and "
            f"{key_words(keys[twice])}); give each class once"
        )
    for k, v in items:
        if not (v is None or isinstance(v, str | int | float)):
            raise DatasetError(f"{cfg}: key 'names' [{k}]: expected a name, got a {type(v).__name__}")
        if not 0 <= k < 2**31:
            raise DatasetError(f"{cfg}: key 'names' [{described(k, 60)}]: expected a class number from 0 to 2^31 - 1")
    if "nc" in data:  # (a key without a value too: ultralytics refuses it beside names as well)
        _check_nc(cfg, data["nc"], len(items))
    classes = {int(k): str(v) for k, v in items}
    _check_numbering(cfg, classes)
    return classes, _pose_fields(cfg, data.get("kpt_shape"))


def _check_numbering(cfg: Path, classes: dict[int, str]) -> None:
    """The names number the classes 0 to n - 1, as ultralytics' ``check_class_names`` requires: no names at all
    would make every box an unknown class, and a gap (``{0: a, 5: b}``) leaves classes without a name."""
    if not classes:
        raise DatasetError(
            f"{cfg}: key 'names': names no class (expected one name per class, class 0 first; ultralytics refuses a "
            "0-class dataset)"
        )
    n = len(classes)
    if max(classes) >= n:
        gap = next(k for k in range(n) if k not in classes)
        raise DatasetError(
            f"{cfg}: key 'names': no name for class {gap} (classes {min(classes)} to {max(classes)} for {n} names); "
            f"expected one name for each class from 0 to {n - 1}, as ultralytics requires"
        )


def _check_nc(cfg: Path, nc: object, count: int | None) -> int:
    """``nc``, when given (a key without a value included), is the number of names (``count``; None: no names),
    as ultralytics' ``check_det_dataset`` requires (an integer, or a number or string with an integral value); its
    value."""
    try:
        number = float(nc) if isinstance(nc, str | float) else math.nan
    except ValueError:
        number = math.nan
    if type(nc) is not int and not (math.isfinite(number) and number.is_integer()):
        got = f"a {type(nc).__name__}" if isinstance(nc, list | dict) else described(nc, 60)
        raise DatasetError(f"{cfg}: key 'nc': expected the number of classes, an integer, got {got}")
    classes = nc if type(nc) is int else int(number)
    if count is not None and classes != count:
        raise DatasetError(
            f"{cfg}: key 'nc': {described(classes, 60)} classes, but 'names' has {count}; expected them to match "
            "(ultralytics refuses it too)"
        )
    return classes


def _pose_fields(cfg: Path, shape: object) -> int:
    """The fields of a pose label line for data.yaml's ``kpt_shape`` [keypoints, dimensions] (0 without it):
    ultralytics' box task reads such a line's first 5 fields only."""
    if shape is None:
        return 0
    expected = f"{cfg}: key 'kpt_shape': expected [keypoints, dimensions] as two integers (e.g. [17, 3])"
    if not (isinstance(shape, list) and len(shape) == 2):
        got = f"a list of {len(shape)}" if isinstance(shape, list) else f"a {type(shape).__name__}"
        raise DatasetError(f"{expected}, got {got if isinstance(shape, list | dict) else described(shape, 60)}")
    for place, value in zip(("keypoints", "dimensions"), shape, strict=True):
        if type(value) is not int or not 0 <= value <= 4096:
            what = "" if type(value) is int else f" ({_yaml_kind(value).removesuffix(', not an integer')})"
            raise DatasetError(f"{expected} from 0 to 4096, got {place} {key_words(value)}{what}")
    return 5 + shape[0] * shape[1] if shape[0] * shape[1] else 0


def _yaml_kind(key: object) -> str:
    """What a mapping key is in YAML's words: ``true`` is a YAML boolean, not the class number 1."""
    if isinstance(key, bool):
        return "a YAML boolean, not an integer"
    if key is None:
        return "null (an empty key)"
    if isinstance(key, float):
        kind = "a number with a fraction" if math.isfinite(key) and not key.is_integer() else "a float"
        kind = "an infinite number" if math.isinf(key) else "NaN (not a number)" if math.isnan(key) else kind
    else:
        kind = "a string" if isinstance(key, str) else f"a {type(key).__name__}"
    return f"{kind}, not an integer"


# The image formats each toolkit's verify_image_label accepts, as Pillow names them (``im.format.lower()``):
# ultralytics 8.4's IMG_FORMATS and 'jpeg2000', yolov5 7.0's IMG_FORMATS.
_FORMATS = {
    ULTRALYTICS: frozenset(
        ("avif", "bmp", "dng", "heic", "heif", "jp2", "jpeg", "jpg", "mpo", "png", "tif", "tiff", "webp", "jpeg2000")
    ),
    YOLOV5: frozenset(("bmp", "dng", "jpeg", "jpg", "mpo", "png", "tif", "tiff", "webp", "pfm")),
}
_BOMB = 2 * (1024 * 1024 * 1024 // 4 // 3)  # Pillow's default: Image.open refuses more pixels (match drops them)


def _checked(image: Path | None) -> tuple[float, float, str, int, str]:
    """:func:`~scalematch.dataset.formats._image_size.header_size`, and which toolkits' ``verify_image_label`` drop
    the image as corrupt for its file (the bits of :mod:`scalematch.dataset.yolo_labels`; 0 when both read it, or
    when it gives no size) with why: Pillow's ``verify()`` fails (a PNG truncated, or with a chunk whose CRC is
    wrong: it reads every chunk), its format is not one the toolkit reads (a GIF named ``a.jpg``: ultralytics'
    IMG_FORMATS and 'jpeg2000', yolov5's IMG_FORMATS), or it is a JPEG not ending in FFD9 whose pixels cannot be
    decoded (both decode such a file to save it again, which fails on a file cut short; one that decodes is kept,
    and never written here). An image under 10 pixels on a side, or over Pillow's decompression-bomb limit, is
    dropped too: that is decided from its size, for every format, when the YOLO presets are simulated
    (:mod:`scalematch.match.geometry`)."""
    w, h, why, seen = checked_size(image, _verified)
    dropped, reason = seen if seen is not None else (0, "")
    return w, h, why, dropped, reason


def _verified(im: Any, file: Any, image: Path) -> tuple[int, str]:
    """Which toolkits drop an opened image as corrupt for its file, and why (see :func:`_checked`); called once
    its header is read, as ``verify`` must come before anything else reads the file."""
    from PIL import Image

    try:
        im.verify()  # only PNG's reads the file (every chunk, each CRC); the others check nothing
    except Exception as exc:  # the toolkits drop the image on any exception
        return BOTH, f"Pillow's verify() fails ({described(str(exc) or type(exc).__name__, 60)})"
    fmt = (im.format or "").lower()
    dropped = sum(bit for bit, formats in _FORMATS.items() if fmt not in formats)
    if dropped:
        return dropped, f"its format is {im.format}, whatever its suffix"
    if fmt == "jpeg" and max(1, im.size[0]) * max(1, im.size[1]) <= _BOMB:
        file.seek(-2, os.SEEK_END)
        if file.read() != b"\xff\xd9":  # the toolkits decode it to write it again ('corrupt JPEG restored')
            try:
                with Image.open(image) as again:
                    again.load()
            except Exception as exc:
                return BOTH, f"a JPEG cut short: its pixels cannot be decoded ({described(str(exc), 60)})"
    return 0, ""


def _is_image(path: Path) -> bool:
    """Whether ultralytics lists ``path`` as an image: a regular file whose suffix, in any case, is one of
    :data:`IMAGE_SUFFIXES`; macOS's ``._name.jpg`` (an AppleDouble file, see :func:`read`) is none, nor is any
    other hidden name (``.a.jpg``: glob lists no hidden name)."""
    return path.suffix.lower() in _RANK and not path.name.startswith(".") and path.is_file()


def _image_index(images: Path | None) -> tuple[dict[Path, list[Path]], int, int]:
    """The images under ``images`` by their path relative to it without the suffix (several of one name, such as
    ``a.jpg`` and ``a.png``, in name order: ultralytics lists each and gives each the labels of ``a.txt``), the
    number of AppleDouble ``._name`` files with an image suffix among them, and the number of hidden images (see
    :func:`_hidden`), left out as ultralytics never lists them."""
    index: dict[Path, list[Path]] = {}
    forks: set[tuple[int, int]] = set()
    hidden: set[tuple[int, int]] = set()
    shown: list[os.DirEntry[str]] = []
    if images is None:
        return index, 0, 0
    for rel, entry, below_hidden, _ in walk_names(images):
        image = Path(entry.path)
        if image.suffix.lower() not in _RANK or not _is_file(entry):
            continue
        if image.name.startswith("._"):
            forks.add(_identity(entry))
            continue
        if _hidden((rel, entry, below_hidden)):
            hidden.add(_identity(entry))
            continue
        shown.append(entry)
        key = Path(*rel).with_suffix("")
        index.setdefault(key, []).append(image)  # walk_names lists them in name order
    return index, len(forks), len(hidden - {_identity(entry) for entry in shown}) if hidden else 0


def _is_file(entry: os.DirEntry[str]) -> bool:
    """Whether an entry is a regular file, a link followed (the entry says, without a look at the file)."""
    try:
        return entry.is_file()
    except OSError:
        return False


def read(path: Path, exclusions: Exclusions, image_size: tuple[int, int] | None = None) -> RawBoxes:
    """The boxes of every label file in path order. Without label files the dataset is empty (its images, if any,
    are images without objects, as ultralytics reads them). A folder's ``._name.txt`` files (macOS resource
    forks, which ultralytics never opens: it looks for the label of each image) are skipped and counted as
    ``resource_fork``, and so are the ``._name.jpg`` files among the images (no images: ultralytics drops them as
    corrupt); label files whose ``.txt`` is not in lower case (``a.TXT``, which ultralytics never opens on a
    case-sensitive file system) are not read and counted as ``label_suffix_case``. Label files and images under a
    hidden name (``.a.jpg``, ``.ipynb_checkpoints/a-checkpoint.txt``), which ultralytics never lists, are skipped
    and counted as ``hidden_file``. Links to folders are followed and read under their names, as glob lists them
    (a split sharing another's files through a link is read as that split), but a pair of files (label file,
    image) is read once (see :func:`_once`), and a link back to a folder above is not followed.

    Lines are tested as the toolkits read them, as float32 (a width ``1.0100000001`` is 1.01, a class
    ``0.999999999`` is 1). For a line excluded, each toolkit's ``verify_image_label`` is asked whether it refuses the
    whole label file as corrupt for it (:func:`_refusals`); yolov5's also refuses a file starting with a byte-order
    mark or with a line of spaces between two labels. The image's other objects are then ``label_refused`` in the
    table (the toolkits' bits), which the YOLO presets' simulation drops. An image both drop as corrupt for its
    file is counted as ``corrupt_image`` and left out with its labels (see :func:`_checked`).

    A ``classes.txt`` given that is a class list (see :func:`is_class_list`) is a :class:`DatasetError`: it is
    never a label file."""
    parts = _parts(path)
    if path.is_file() and _is_class_list(path, parts[0]):
        raise DatasetError(
            f"{path}: a class list (no image named 'classes' pairs with it, so ultralytics never reads it as "
            f"labels), not a label file; give its labels folder ({path.parent}), which names the classes from it"
        )
    if path.is_file() and path.parent.parent.name == "ImageSets":  # VOC's ImageSets/Main/train.txt
        year = path.parent.parent.parent
        raise DatasetError(
            f"{path}: a VOC split list, not labels; give its year folder with the split: {year} --split {path.stem}"
        )
    listed = _image_list(path) if path.is_file() else None
    if listed is not None:
        their_labels = Path(os.path.relpath(Path(img2label(path.parent / listed)).parent))
        named = f" ({their_labels})" if their_labels.is_dir() else ""  # (a darknet list's paths are the trainer's)
        raise DatasetError(
            f"{path}: lists image paths ({described(listed, 60)} first), as the file data.yaml's train: or val: may "
            f"name; scalematch reads YOLO labels from a folder, not through an image list: give the labels folder "
            f"of its images{named} or the dataset folder"
        )
    if parts[0].images == path and parts[0].labels != path:  # an images folder given: read as its labels folder
        path = parts[0].labels
    found: list[tuple[Path, Path, Path | None, bool]] = []  # (label file, its labels folder, its image, linked)
    lists: list[Path] = []  # classes.txt files below the labels folders that are no image's label file
    indexes = []
    for part in parts:
        index, image_forks, hidden_images = _image_index(part.listed)
        indexes.append(index)
        if path.is_dir():
            exclusions.counts[RESOURCE_FORK] += image_forks
            if hidden_images:
                exclusions.counts[HIDDEN_FILE] += hidden_images
        if path.is_file():
            images = _or_none(_paired(part.target / path.name, index.get(Path(path.stem))))
            found += [(path, part.labels, image, False) for image in images]
        else:
            labels, hidden_labels = _label_files(part, index, _class_list(part), lists)
            for label, linked in labels:
                rel = label.relative_to(part.labels)
                images = _or_none(_paired(part.target / rel, index.get(rel.with_suffix(""))))
                found += [(label, part.labels, image, linked) for image in images]
            if hidden_labels:
                exclusions.counts[HIDDEN_FILE] += hidden_labels
    labelled = {  # the names of the images paired with a label file read, each part's images by their name in it
        (labels, label.relative_to(labels).with_suffix(""))
        for label, labels, image, _ in found
        if image is not None and label.name.endswith(".txt") and not label.name.startswith("._")
    }
    if path.is_dir():
        if any(linked for _, _, _, linked in found):  # else no label file is reached under two names
            found = _once(found)
        forks = [entry for entry in found if entry[0].name.startswith("._")]
        if forks:
            exclusions.counts[RESOURCE_FORK] += len({_identity(label) for label, _, _, _ in forks})
            found = [entry for entry in found if not entry[0].name.startswith("._")]
        for label, _, _, _ in found:
            if not label.name.endswith(".txt"):
                where = label.relative_to(path).as_posix()
                detail = (
                    f"not read: ultralytics opens the label file of an image by its name with '.txt' in lower case, "
                    f"so '{label.stem}.txt', never '{label.name}' on a case-sensitive file system; rename it"
                )
                exclusions.add(LABEL_SUFFIX_CASE, where, detail)
        found = [entry for entry in found if entry[0].name.endswith(".txt")]
    files = [(label, labels, image) for label, labels, image, _ in found]
    names, pose, source = class_names(path, parts, tuple(lists))
    with no_bomb_check():
        raw = _read(path, exclusions, image_size, files, names, pose, source)
    if path.is_dir():
        shown: set[tuple[int, int]] = set()
        for part, index in zip(parts, indexes, strict=True):
            _background_images(index, {key for labels, key in labelled if labels == part.labels}, shown, raw)
    return raw


def _image_list(path: Path) -> str | None:
    """The first line of ``path`` when its first lines (up to 20, in its first 64 kB) each name one image file
    (a path ending in an image suffix, in any case): ultralytics' image lists (``train2017.txt``, which data.yaml's
    ``train:`` names), never a label file, whose lines start with a class number; else None."""
    try:
        with open(path, "rb") as file:
            head = file.read(1 << 16).decode("utf-8", "replace")
    except OSError:
        return None  # (reading it says why)
    lines = head.splitlines()
    if len(head) == 1 << 16 and len(lines) > 1:
        lines.pop()  # (cut by the 64 kB read)
    lines = [line.strip() for line in lines if line.strip()][:20]
    if lines and all(line.lower().endswith(IMAGE_SUFFIXES) for line in lines):
        return lines[0]
    return None


def img2label(image: Path) -> str:
    """The label file ultralytics' (and yolov5's) ``img2label_paths`` gives an image: its absolute path (as
    ultralytics lists images under the dataset's absolute ``path``) with the last ``/images/`` made ``/labels/``
    and the suffix ``.txt``."""
    sa, sb = f"{os.sep}images{os.sep}", f"{os.sep}labels{os.sep}"
    return sb.join(os.path.abspath(image).rsplit(sa, 1)).rsplit(".", 1)[0] + ".txt"


def _paired(label: Path, images: list[Path] | None) -> list[Path] | None:
    """The images of a label file's name that ``img2label_paths`` pairs with it (``label``: its path as the images'
    paths name it, see :attr:`_Part.target`): an image whose path has another
    ``images`` component (``images/train/images/a.jpg`` reads ``images/train/labels/a.txt``; ``~/images/proj/a.jpg``
    reads ``~/labels/proj/a.txt``, not the ``a.txt`` beside it) is not this file's (it is an image without
    objects unless its own label file is read)."""
    if not images:
        return images
    target = os.path.abspath(label)
    return [image for image in images if img2label(image) == target]


def _or_none(images: list[Path] | None) -> list[Path | None]:
    """The images of a label file, or [None] when it has none (its objects then have no size from an image)."""
    return list(images) if images else [None]


def _once(found: list[tuple[Path, Path, Path | None, bool]]) -> list[tuple[Path, Path, Path | None, bool]]:
    """The label files found, each pair of a label file and its image read once (in path order): a folder
    reached under several names (``labels/all -> train`` with ``images/all -> train``) gives the same pairs
    again, which are left out, preferring the names without a link; a split that reaches the files of another
    through a link but pairs them otherwise (``images/val -> train`` with its own ``labels/val``, or
    ``labels/val -> train`` with its own ``images/val``) is read as that split, as ultralytics reads it. A label
    file without an image is read once, and not at all when it is read with an image under another name."""
    order = sorted(range(len(found)), key=lambda i: found[i][3])  # stable: names without a link first
    pairs: set[tuple[tuple[int, int], tuple[int, int]]] = set()
    read: set[tuple[int, int]] = set()
    keep: set[int] = set()
    for i in order:
        label, _, image, _ = found[i]
        if image is not None:
            pair = (_identity(label), _identity(image))
            if pair not in pairs:
                pairs.add(pair)
                read.add(pair[0])
                keep.add(i)
    for i in order:
        label, _, image, _ = found[i]
        if image is None and _identity(label) not in read:
            read.add(_identity(label))
            keep.add(i)
    return [found[i] for i in sorted(keep)]


def _read(
    path: Path, exclusions: Exclusions, image_size: tuple[int, int] | None,
    files: list[tuple[Path, Path, Path | None]], names: dict[int, str] | None, pose: int, source: str,
) -> RawBoxes:  # fmt: skip
    refused: dict[int, int] = {}  # image -> the toolkits that refuse its label file (yolo_labels bits; see read)
    raw = RawBoxes(one_file=not path.is_dir(), refused=refused)
    seen: set[int] = set()
    ann_id = 0
    pairs = Counter(label for label, _, image in files if image is not None)
    shared = {label for label, count in pairs.items() if count > 1}  # label files read for several images
    image_id = 0
    for label, labels, image in files:
        rel = label.relative_to(labels)
        w_img, h_img, no_size, dropped, why = _checked(image)
        if dropped == BOTH and image is not None:  # neither toolkit trains on it: not an image of the dataset
            text = f"ultralytics and yolov5 drop this image as corrupt (verify_image_label): {why}; the labels of "
            exclusions.add(CORRUPT_IMAGE, _named_image(image, path), f"{text}{label.name} are never trained on")
            continue
        image_id += 1
        if dropped:
            refused[image_id] = dropped
        if not (math.isfinite(w_img) and math.isfinite(h_img)) and image_size is not None:
            w_img, h_img = float(image_size[0]), float(image_size[1])
            if image is not None:  # an image Pillow cannot open: both verify_image_label drop it as corrupt
                refused[image_id] = BOTH
        raw.images[image_id] = (image.name if image else rel.with_suffix(".jpg").name, w_img, h_img)
        label_file = raw.label_files[image_id] = label.name if label == path else label.relative_to(path).as_posix()
        data = read_bytes(label, (MAX_LABEL_FILE, "a label file"))
        if data.startswith(codecs.BOM_UTF8):  # yolov5 opens it without utf-8-sig: '\ufeff0' is no number to it
            refused[image_id] = refused.get(image_id, 0) | YOLOV5
        lines = decode_text(label, data).splitlines()
        rows = [line.split() for line in lines]
        if pose:  # a box task on a pose dataset: ultralytics keeps the box of each pose line
            rows = [fields[:5] if len(fields) == pose else fields for fields in rows]
        polygons = any(len(fields) > 6 for fields in rows)  # ultralytics: then every line is a polygon
        classes = len(names) if names is not None else _NO_NAMES  # (names number the classes 0 to n - 1)
        kept: dict[object, int] = {}  # the line of each label kept so far, by its values as ultralytics compares them
        labelled = spaces = False  # a line with fields seen; a line of spaces only after it
        for n, (line, fields) in enumerate(zip(lines, rows, strict=True), 1):
            if not fields:
                spaces |= labelled and bool(line)
                continue
            if spaces:  # yolov5 keeps a line of spaces between labels ('if len(x)'): its rows are then ragged
                refused[image_id] = refused.get(image_id, 0) | YOLOV5
                spaces = False
            labelled = True
            ann_id += 1
            where = f"line {n}" if label == path else f"{label_file}: line {n}"
            if label in shared and image is not None:  # one label file, several images: say which is read
                where = f"{where} (with {image.name})"
            parsed = (
                _polygon_box(fields, line, where, exclusions) if polygons else _box(fields, line, where, exclusions)
            )
            if parsed is None:
                refused[image_id] = refused.get(image_id, 0) | _refusals(fields, polygons, classes)
                continue
            cls, cx, cy, bw, bh, key = parsed
            if not (
                0 <= cls < classes and cls < _F32_EXACT and bw > _F32_NONZERO and bh > _F32_NONZERO
                and min(cx, cy) >= -TOLERANCE and max(cx, cy, bw, bh) <= 1 + TOLERANCE
            ):  # fmt: skip
                # A test failed in float64; the toolkits read the line as float32, where a value may round into
                # bounds (1.0100000001 is 1.01, -1e-50 is -0.0): decided again on the float32 values. (Each test
                # passed in float64 passes in float32, rounding being monotonic, but for a side rounding to 0.)
                shown = cx, cy, bw, bh
                cls, cx, cy, bw, bh = _as_float32(cls, cx, cy, bw, bh)
                problem = _problem(cls, (cx, cy, bw, bh), names, source, shown)
                if problem is not None:
                    exclusions.add(problem[0], where, problem[1])
                    refused[image_id] = refused.get(image_id, 0) | _refusals(fields, polygons, classes)
                    continue
            first = kept.setdefault(key, n)
            if first != n:
                text = f"the same label as line {first} (equal as float32: ultralytics keeps one of them)"
                exclusions.add(DUPLICATE_LABEL, where, text)
                continue
            if not (math.isfinite(w_img) and math.isfinite(h_img)):
                exclusions.add(MISSING_IMAGE_SIZE, where, f"{no_size}; pass image_size=WxH")
                continue
            seen.add(cls)
            w, h = bw * w_img, bh * h_img
            raw.add(ann_id, image_id, cls, (cx * w_img - w / 2, cy * h_img - h / 2, w, h), w * h)
            raw.label_index.append(n)
    raw.categories = dict(names) if names is not None else {c: str(c) for c in sorted(seen)}
    if names is None:  # classes named by their number
        raw.unnamed = set(seen)
    return raw


def _named_image(image: Path, path: Path) -> str:
    """An image as an exclusion names it: its path relative to the folder read when it lies in it, else as
    found (``ds/images/a.jpg`` for ``ds/labels``)."""
    if path.is_dir() and image.is_relative_to(path):
        return image.relative_to(path).as_posix()
    return image.as_posix()


def _box(
    fields: list[str], line: str, where: str, exclusions: Exclusions
) -> tuple[int, float, float, float, float, object] | None:
    """A line ``class cx cy w h``: (class, cx, cy, w, h, key), or None when it is excluded (counted). Lines of one
    file with equal keys are one label: ultralytics' ``verify_image_label`` removes repeated rows of float32 values
    (``np.unique``, where -0.0 equals 0.0)."""
    if len(fields) != 5:
        exclusions.add(MALFORMED_RECORD, where, f"expected 5 fields (class cx cy w h), got {len(fields)}")
        return None
    numbers = _numbers(fields, line, where, exclusions, "four finite decimal numbers")
    if numbers is None:
        return None
    cls, (cx, cy, bw, bh) = numbers
    return cls, cx, cy, bw, bh, tuple(array("f", (cls, cx, cy, bw, bh)))


def _polygon_box(
    fields: list[str], line: str, where: str, exclusions: Exclusions
) -> tuple[int, float, float, float, float, object] | None:
    """A polygon line ``class x1 y1 x2 y2 ...`` of a segmentation label file: (class, cx, cy, w, h) of the
    points' extent (ultralytics' segments2boxes) and the key of the line (its class and points as float32 bytes:
    ultralytics removes a polygon only when the same bytes come again, so one of the same box but other points
    stays), or None when it is excluded (counted). ultralytics refuses the whole file when a line has 5 fields or
    an odd number of coordinates; here that line only is excluded."""
    if len(fields) == 5:
        text = "a box line in a file of polygon lines (ultralytics refuses such a file: 'labels mix segment and "
        text += "detection rows')"
        exclusions.add(MALFORMED_RECORD, where, text)
        return None
    if len(fields) < 3 or len(fields) % 2 == 0:
        text = f"expected a polygon (class x1 y1 x2 y2 ...: an even number of coordinates), got {len(fields) - 1}"
        exclusions.add(MALFORMED_RECORD, where, text)
        return None
    numbers = _numbers(fields, line, where, exclusions, "finite decimal coordinates")
    if numbers is None:
        return None
    cls, coords = numbers
    points = array("f", (cls, *coords))
    cx, cy, bw, bh = _extent(points)
    return cls, cx, cy, bw, bh, points.tobytes()


def _extent(points: array[float]) -> tuple[float, float, float, float]:
    """The box (cx, cy, w, h) of float32 polygon points ``class x1 y1 x2 y2 ...``, computed in float32 as
    ``segments2boxes`` computes it (the two sums and differences of float32 values are exact in float64)."""
    xs, ys = points[1::2], points[2::2]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    cx, cy, bw, bh = array("f", ((x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0))
    return cx, cy, bw, bh


def _as_float32(cls: int, cx: float, cy: float, bw: float, bh: float) -> tuple[int, float, float, float, float]:
    """A line's class and box as the toolkits hold them: float32 (``np.array(fields, dtype=np.float32)``)."""
    c, x, y, w, h = array("f", (cls, cx, cy, bw, bh))
    return int(c), x, y, w, h


def _problem(
    cls: int,
    box: tuple[float, float, float, float],
    names: dict[int, str] | None,
    source: str,
    shown: tuple[float, float, float, float],
) -> tuple[str, str] | None:
    """Why a line (its class and box as float32) is excluded (reason, detail naming the values as written,
    ``shown``), or None when it is kept."""
    cx, cy, bw, bh = box
    if cls < 0:
        return UNKNOWN_CATEGORY, f"expected a class number >= 0, got {cls}"
    if names is not None and cls not in names:
        return UNKNOWN_CATEGORY, f"class {cls} is not among the {len(names)} names of {source}"
    if not (bw > 0 and bh > 0):
        return BBOX_NONPOSITIVE, f"expected w and h > 0, got {shown[2]!r} {shown[3]!r}"
    if not (min(cx, cy) >= _F32_LOW and max(cx, cy, bw, bh) <= _F32_TOP):
        values = " ".join(map(repr, shown))
        return BBOX_OUT_OF_RANGE, f"expected normalised coordinates in [0, 1] (+-{TOLERANCE}), got {values}"
    return None


_F32_TOP, _F32_LOW = array("f", (1 + TOLERANCE, -TOLERANCE))  # ultralytics' bounds, as float32 compares them


def _refusals(fields: list[str], polygons: bool, classes: int) -> int:
    """Whose ``verify_image_label`` refuses a label file for this line (the bits of
    :mod:`scalematch.dataset.yolo_labels`), judged as each reads it: the fields as float32 (``np.array(fields,
    dtype=np.float32)``, which converts a field with ``float``: ``1_0`` and fullwidth digits are numbers to both),
    in a polygon file the box of the points (``segments2boxes``); then ultralytics' tests (values at most 1.01; no
    value below 0 unless none is below -0.01 and no side is negative; a whole class below ``classes``; a 5-field
    line in a polygon file: 'labels mix segment and detection rows') and yolov5's (no value below 0 or, but for
    the class, above 1; it reads a 5-field line of a polygon file as two points). Each test is one of the line's
    values, so a line refused alone refuses any file holding it."""
    try:
        values = array("f", map(float, fields))
    except ValueError:
        return BOTH
    if any(v != v for v in values):  # NaN fails every test of both
        return BOTH
    bits = 0
    box: tuple[float, ...]
    if polygons:
        if len(values) % 2 == 0 or len(values) < 3:  # an odd number of coordinates, or none: no points
            return BOTH
        if len(values) == 5:
            bits = ULTRALYTICS
        cls, box = values[0], _extent(values)
    elif len(values) != 5:  # rows of other lengths: no array, or not 5 columns
        return BOTH
    else:
        cls, box = values[0], tuple(values[1:])
    lowest = min(cls, *box)
    if max(box) > _F32_TOP or not (lowest >= 0 or (lowest >= _F32_LOW and min(box[2:]) >= 0)):
        bits |= ULTRALYTICS
    if cls % 1 or not cls < classes:
        bits |= ULTRALYTICS
    if lowest < 0 or max(box) > 1:
        bits |= YOLOV5
    return bits


def _numbers(
    fields: list[str], line: str, where: str, exclusions: Exclusions, expected: str
) -> tuple[int, list[float]] | None:
    """The class and the coordinates of a line's fields, or None when one is no number (counted)."""
    decimal = line.isascii() and "_" not in line  # else each field is checked
    cls = _class_id(fields[0]) if decimal or is_decimal(fields[0]) else None
    if cls is None:
        exclusions.add(UNPARSABLE_NUMBER, where, f"expected an integer class, got {described(fields[0], 60)}")
        return None
    try:
        coords = [float(f) for f in fields[1:]]
        if not all(math.isfinite(v) for v in coords):
            raise ValueError
        if not (decimal or all(map(is_decimal, fields[1:]))):
            raise ValueError
    except ValueError:
        exclusions.add(UNPARSABLE_NUMBER, where, f"expected {expected}, got {described(' '.join(fields[1:]), 60)}")
        return None
    return cls, coords


def _class_id(text: str) -> int | None:
    """A class number: an integer, or a number whose float32 is whole ("3.0", and "0.999999999", which is 1.0:
    the toolkits read classes as float32); None for anything else or beyond 64 bits."""
    try:
        value = int(text)
    except ValueError:
        try:
            number = float(text)
        except ValueError:
            return None
        number = array("f", (number,))[0]
        if not number.is_integer():
            return None
        value = int(number)
    return value if -_I64 <= value < _I64 else None


def _background_images(
    index: dict[Path, list[Path]], labelled: set[Path], shown: set[tuple[int, int]], raw: RawBoxes
) -> None:
    """Images without a label file (none of the names ``labelled``) are images without objects (ultralytics'
    background images), each file once (``shown``: those added so far; ``images/all -> train`` gives the same
    ones again); a folder or anything else that is not a regular file is no image, whatever its name."""
    for key, images in sorted(index.items()):
        for image in images:
            if key in labelled:
                continue
            identity = _identity(image)
            if identity not in shown:
                shown.add(identity)
                raw.images[len(raw.images) + 1] = (image.name, math.nan, math.nan)
