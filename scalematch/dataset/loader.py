"""``load``: read any supported annotation path into a box table in input pixels, with an exclusion report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from scalematch.dataset.resize import DEFAULT_POLICY, ResizePolicy, apply, needs_image_size, parse_policy
from scalematch.dataset.table import Exclusions, RawBoxes, assemble, text_of
from scalematch.errors import DatasetError, OptionError

if TYPE_CHECKING:
    import pandas as pd

Format = Literal["coco", "voc", "yolo"]
FORMATS: tuple[Format, ...] = ("coco", "voc", "yolo")


@dataclass(frozen=True)
class LoadResult:
    """A loaded dataset: the box table (see :mod:`scalematch.dataset.table`) and what was left out.

    ``excluded`` maps each named reason to the number of records excluded for it; ``images`` counts all images
    (with or without objects); ``categories`` maps category id to name.
    """

    table: pd.DataFrame
    excluded: dict[str, int]
    images: int
    categories: dict[int, str]
    source: str
    format: Format
    resize: str


def detect_format(path: Path) -> Format:
    """The annotation format of ``path`` from its name and contents (a file or a folder)."""
    is_folder = check_input(path)
    if not is_folder:
        suffix = path.suffix.lower()
        if suffix == ".json":
            return "coco"
        if suffix == ".xml":
            return "voc"
        if suffix == ".txt":
            return "yolo"
        raise DatasetError(
            f"{path}: cannot tell the annotation format from the suffix {suffix or '(none)'!r}; "
            "expected .json (coco), .xml (voc) or .txt (yolo), or pass --format"
        )
    if (path / "Annotations").is_dir() or any(path.glob("*.xml")):
        return "voc"
    if (path / "labels").is_dir() or path.name == "labels" or any(path.glob("*.txt")) or any(path.glob("*.yaml")):
        return "yolo"
    named = f" (a folder, though named like a {path.suffix} file)" if path.suffix else ""
    raise DatasetError(
        f"{path}: cannot tell the annotation format of this folder{named}; expected XML files or an Annotations "
        "folder (voc), or .txt label files or a labels folder (yolo); pass --format"
    )


def check_input(path: Path) -> bool:
    """Whether ``path`` (symlinks followed) is a folder (True) or a regular file (False); anything else is a
    :class:`DatasetError`: nothing there, a dangling symlink, a symlink loop, a FIFO, a socket or a device (which
    would be read forever or never return), checked from the file's status before anything opens it."""
    import os

    from scalematch.dataset.formats._files import kind

    what = kind(path)
    if what is None or what == "a folder":
        return what is not None
    if what == "missing":
        raise DatasetError(f"{path}: no such file or folder")
    if what == "a dangling symlink":
        raise DatasetError(f"{path}: no such file or folder (a dangling symlink to {os.readlink(path)})")
    if what.startswith("unreadable"):
        raise DatasetError(f"{path}: cannot read{what.removeprefix('unreadable')}")
    raise DatasetError(f"{path}: is not a regular file or folder ({what})")


def load(
    path: str | Path,
    format: Format | str | None = None,
    resize: str | ResizePolicy = DEFAULT_POLICY,
    *,
    strict: bool = False,
    split: str | None = None,
    image_size: tuple[int, int] | None = None,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
) -> LoadResult:
    """Read annotations at ``path`` and return the box table after the resize policy.

    ``format`` overrides detection; ``resize`` is a policy string or object; ``strict`` turns the first bad
    record into a :class:`DatasetError`; ``split`` names a VOC ImageSets/Main split; ``image_size`` (width,
    height) is used for YOLO labels whose image is not found; ``progress(done_bytes, total_bytes)`` is called
    during long reads. ``workers`` processes read a folder of VOC files (default: one per core this process may
    use); the result is the same for any number.
    """
    path = Path(path)
    policy = parse_policy(resize)
    check_input(path)
    fmt = _format(path, format)
    if split is not None and fmt != "voc":
        raise OptionError(f"--split: applies to VOC year folders only; {path} is read as {fmt}")
    if image_size is not None and fmt != "yolo":
        raise OptionError(f"--image-size: applies to YOLO labels only; {path} is read as {fmt}")
    exclusions = Exclusions(str(path), strict)
    need_size = needs_image_size(policy)
    raw: RawBoxes
    record = "annotation id"
    if fmt == "coco":
        from scalematch.dataset.formats import coco

        if path.is_dir():
            raise DatasetError(f"{path}: expected a COCO .json file, got a folder")
        total = path.stat().st_size
        raw = coco.read(path, exclusions, (lambda done: progress(done, total)) if progress else None)
    elif fmt == "voc":
        from scalematch.dataset.formats import pascal_voc

        raw = pascal_voc.read(path, exclusions, split, cores() if workers is None else workers)
        record = "object"
    else:
        from scalematch.dataset.formats import yolo

        if path.is_file() and path.suffix.lower() != ".txt":
            raise DatasetError(
                f"{path}: expected a YOLO label .txt file or a folder, got a {path.suffix or 'plain'} file"
            )
        raw = yolo.read(path, exclusions, image_size)
        record = "line"
    table = assemble(raw, exclusions, need_size, record)
    images, categories = len(raw.images), {k: text_of(v) for k, v in raw.categories.items()}
    del raw  # the table holds what is needed; free the reader's buffers before adding columns
    return LoadResult(
        table=apply(table, policy),
        excluded=exclusions.as_dict(),
        images=images,
        categories=categories,
        source=str(path),
        format=fmt,
        resize=str(policy),
    )


def cores() -> int:
    """The cores this process may run on."""
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _format(path: Path, format: str | None) -> Format:
    if format is None:
        return detect_format(path)
    for f in FORMATS:
        if format.lower() == f:
            return f
    raise OptionError(f"--format: expected one of {', '.join(FORMATS)}, got {format!r}")
