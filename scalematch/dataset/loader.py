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
    if not path.exists():
        raise DatasetError(f"{path}: no such file or folder")
    if path.is_file():
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
    if (path / "labels").is_dir() or any(path.glob("*.txt")) or any(path.glob("*.yaml")):
        return "yolo"
    raise DatasetError(
        f"{path}: cannot tell the annotation format of this folder; expected XML files or an Annotations "
        "folder (voc), or .txt label files or a labels folder (yolo); pass --format"
    )


def load(
    path: str | Path,
    format: Format | str | None = None,
    resize: str | ResizePolicy = DEFAULT_POLICY,
    *,
    strict: bool = False,
    split: str | None = None,
    image_size: tuple[int, int] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> LoadResult:
    """Read annotations at ``path`` and return the box table after the resize policy.

    ``format`` overrides detection; ``resize`` is a policy string or object; ``strict`` turns the first bad
    record into a :class:`DatasetError`; ``split`` names a VOC ImageSets/Main split; ``image_size`` (width,
    height) is used for YOLO labels whose image is not found; ``progress(done_bytes, total_bytes)`` is called
    during long reads.
    """
    policy = parse_policy(resize)
    raw, exclusions, record, fmt = read_raw(path, format, policy, strict, split, image_size, progress)
    table = assemble(raw, exclusions, needs_image_size(policy), record)
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


def read_raw(
    path: str | Path,
    format: Format | str | None,
    policy: ResizePolicy,
    strict: bool = False,
    split: str | None = None,
    image_size: tuple[int, int] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[RawBoxes, Exclusions, str, Format]:
    """Run the reader of ``path``'s format (see :func:`load`): its columns before the cross-record checks, the
    exclusions so far, the record word for messages and the format."""
    path = Path(path)
    fmt = _format(path, format)
    if split is not None and fmt != "voc":
        raise OptionError(f"--split: applies to VOC year folders only; {path} is read as {fmt}")
    if image_size is not None and fmt != "yolo":
        raise OptionError(f"--image-size: applies to YOLO labels only; {path} is read as {fmt}")
    exclusions = Exclusions(str(path), strict)
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

        raw = pascal_voc.read(path, exclusions, split)
        record = "object"
    else:
        from scalematch.dataset.formats import yolo

        if path.is_file() and path.suffix.lower() != ".txt":
            raise DatasetError(
                f"{path}: expected a YOLO label .txt file or a folder, got a {path.suffix or 'plain'} file"
            )
        raw = yolo.read(path, exclusions, image_size)
        record = "label"
    return raw, exclusions, record, fmt


def _format(path: Path, format: str | None) -> Format:
    if format is None:
        return detect_format(path)
    for f in FORMATS:
        if format.lower() == f:
            return f
    raise OptionError(f"--format: expected one of {', '.join(FORMATS)}, got {format!r}")
