"""``load``: read any supported annotation path into a box table in input pixels, with an exclusion report."""

from __future__ import annotations

import glob
import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from scalematch._args import given_path
from scalematch._text import counted, cut_name, text_of
from scalematch.choices import Format as FormatChoice
from scalematch.dataset.resize import (
    DEFAULT_POLICY,
    ResizePolicy,
    apply,
    needs_image_size,
    parse_policy,
    resize_words,
)
from scalematch.dataset.table import MAX_IMAGE_SIDE, Exclusions, RawBoxes, RepeatedIds, assemble
from scalematch.errors import DatasetError, OptionError, ScalematchError
from scalematch.pool import cores

if TYPE_CHECKING:
    import pandas as pd

Format = Literal["coco", "voc", "yolo"]
FORMATS: tuple[Format, ...] = tuple(f.value for f in FormatChoice)  # the values of choices.Format


@dataclass(frozen=True)
class LoadResult:
    """A loaded dataset: the box table (see :mod:`scalematch.dataset.table`) and what was left out.

    ``excluded`` maps each named reason to the number of records excluded for it; ``images`` counts all images
    (with or without objects); ``categories`` maps category id to name. ``resize`` is the policy that made the
    input-pixel columns, or None for a box table given back with its own scales (:func:`from_frame` without
    ``resize``), which outputs name :data:`~scalematch.dataset.resize.OWN_SCALES`.
    """

    table: pd.DataFrame
    excluded: dict[str, int]
    images: int
    categories: dict[int, str]
    source: str
    format: Format
    resize: str | None
    nested: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    """VOC: the box table of the ``<object>`` elements nested inside another element (None: there are none). Only
    the YOLO converters read them (``root.iter('object')``), so only the YOLOv5 and YOLOv8 presets match them; the
    table, the statistics and the other presets leave them out, and no exclusion counts them."""
    unnamed: frozenset[int] = field(default=frozenset(), repr=False)
    """The ids of the categories the input gives no name (a COCO category without a text or number ``name``, the
    classes of YOLO labels without a ``data.yaml`` or ``classes.txt``): their id stands in as their name in
    ``categories``. Several COCO inputs read as one give such a category the name another input gives it."""
    repeated: RepeatedIds | None = field(default=None, compare=False)
    """COCO: the annotation records whose id an earlier record of their file has, whatever either holds (the
    toolkits index records by id before any check): how many, the first such id and its file, and the first id
    that repeats among the records of the file's images (None: no annotation id repeats)."""
    repeats: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    """COCO: the box table of the records of those ids that the table leaves out, for any reason (each where the
    file has it, with the columns of :data:`~scalematch.dataset.table.REPEAT_COLUMNS`: ``before`` the number of the
    table's rows before it, ``listed``, ``only_repeat``, ``readable``, ``problem``): not in the table nor the
    statistics, the toolkits read them (:func:`scalematch.match.detector.toolkit_rows`). None when there are none."""
    absent: dict[str, int] = field(default_factory=dict, repr=False, compare=False)
    """COCO: how many of the records read lack ``bbox`` (a box made from the mask), ``iscrowd`` (read as 0) or
    ``area`` (read as w * h), by key: keys a toolkit reads with ``[key]``, stopping on such a record with a
    ``KeyError`` (:func:`scalematch.match.detector.absent_note`)."""

    def __repr__(self) -> str:
        excluded = sum(self.excluded.values())
        return (
            f"<LoadResult {self.source}: {counted(len(self.table), 'box', 'boxes')} in "
            f"{counted(self.images, 'image')}, "
            f"{counted(len(self.categories), 'category', 'categories')}, {self.format}, {resize_words(self.resize)}, "
            f"{counted(excluded, 'record')} excluded>"
        )

    def to_dict(self) -> dict[str, Any]:
        """The ``scalematch stats --json`` document of these boxes."""
        from scalematch.dataset.stats import summarize

        return summarize(self)

    def to_frame(self) -> pd.DataFrame:
        """A copy of the box table (one row per kept annotation; see :mod:`scalematch.dataset.table`): changing
        it leaves this result as it is."""
        table: pd.DataFrame = self.table.copy()
        return table


def detect_format(path: str | os.PathLike[str]) -> Format:
    """The annotation format of ``path`` from its name and contents (a file or a folder)."""
    path = Path(given_path(path, "path"))
    return _detected(path, check_input(path))


def _detected(path: Path, is_folder: bool) -> Format:
    """The format of ``path``, checked by :func:`check_input` (which said whether it is a folder)."""
    if not is_folder:
        suffix = path.suffix.lower()
        if suffix == ".json":
            return "coco"
        if suffix == ".xml":
            return "voc"
        if suffix == ".txt":
            return "yolo"
        if suffix in (".yaml", ".yml"):  # ultralytics' data=coco.yaml: no format reads it as annotations
            raise DatasetError(
                f"{path}: a YAML file, such as a YOLO dataset's data.yaml, which no format reads as annotations; "
                f"give the dataset folder ({path.parent}) or its labels folder"
            )
        from scalematch.dataset.formats.yolo import IMAGE_SUFFIXES

        if suffix in IMAGE_SUFFIXES:
            raise DatasetError(
                f"{path}: an image, not annotations; give its annotation file, or its folder ({path.parent}), read "
                "through its YOLO labels"
            )
        raise DatasetError(
            f"{path}: cannot tell the annotation format from the suffix {suffix or '(none)'!r}; "
            "expected .json (coco), .xml (voc) or .txt (yolo), or pass format="
        )
    if (path / "Annotations").is_dir():
        return "voc"
    if (path / "labels").is_dir() and not (path / "Annotations").exists():  # before loose XML files: CVAT's
        return "yolo"  # annotations.xml kept beside a YOLO export made the dataset VOC
    if any(p.name.lower().endswith(".xml") for p in path.iterdir()):
        return "voc"
    if any(p.is_dir() for p in path.glob("*/Annotations")):  # a VOCdevkit root: VOC2007/Annotations, VOC2012/...
        return "voc"
    if (path / "labels").is_dir() or path.name == "labels" or _yolo_files(path):
        return "yolo"
    if any(p.is_dir() for p in path.glob("*/labels")):  # a YOLO export root: train/labels, valid/labels
        return "yolo"
    from scalematch.dataset.formats import yolo

    if yolo.is_images_folder(path):  # ds/images/train: ultralytics reads its labels from ds/labels/train
        return "yolo"
    if yolo.is_labels_folder(path):  # ds/labels/train holding batch folders only (labels/train/batch1/a.txt)
        return "yolo"
    named = f" (a folder, though named like a {path.suffix} file)" if path.suffix else ""
    raise DatasetError(
        f"{path}: cannot tell the annotation format of this folder{named}; expected XML files or an Annotations "
        f"folder (voc), or .txt label files or a labels folder (yolo); pass format={_found_inside(path)}"
    )


def _found_inside(folder: Path) -> str:
    """A hint for a folder of no format: the COCO file (read as a file, never through its folder) or the XML files
    in its first levels, when there are some (a Roboflow export: ``train/_annotations.coco.json``, ``train/a.xml``)."""
    for suffix, what in ((".json", "COCO is read from its .json file, not its folder"), (".xml", "XML files")):
        found = sorted(p for pattern in (f"*{suffix}", f"*/*{suffix}") for p in folder.glob(pattern) if p.is_file())
        if found:
            more = f" and {len(found) - 1} more" if len(found) > 1 else ""
            return f" ({what}: {cut_name(found[0])}{more})"
    return ""


def _yolo_files(folder: Path) -> bool:
    """Whether ``folder`` holds a file that makes it a YOLO folder: a ``.txt`` that is no ``README*.txt`` (which
    the YOLO reader never takes as a label file: Roboflow's COCO and VOC exports carry them too) and reads as a
    label file (of the first 20 by name; one it cannot read, whose read will say why), or a data.yaml (data.yml,
    dataset.yaml), not any YAML file, or darknet's obj.names or obj.data (CVAT's YOLO 1.1 export root); a
    classes.txt alone does not (one beside a COCO file made the folder 'YOLO, 0 objects')."""
    from scalematch.dataset.formats.yolo import YAML_NAMES

    if any((folder / name).is_file() for name in (*YAML_NAMES, "obj.names", "obj.data")):
        return True
    texts = sorted(p for p in folder.glob("*.txt") if not p.name.lower().startswith("readme"))
    return any(_label_like(p) for p in texts[:20])


def _label_like(path: Path) -> bool:
    """Whether ``path`` reads as a YOLO label file from its first line: numbers only, at least two (a class and
    box: ``0 0.5 0.5 0.2 0.1``, ``0.0 ...`` or ``+0 ...`` as the reader takes them, a byte-order mark dropped; a
    malformed line of numbers is still a label file's); or empty beside an image of its name (an image without
    objects). A LICENSE.txt, notes or an image list (val2017.txt), empty or not, does not."""
    try:
        with open(path, "rb") as file:
            head = file.read(4096).decode("utf-8", "replace").removeprefix("\ufeff")
    except OSError:
        return True  # (unreadable: the reader names it)
    first = next((line.split() for line in head.splitlines() if line.strip()), None)
    if first is None:
        from scalematch.dataset.formats.yolo import IMAGE_SUFFIXES

        return any(p.suffix.lower() in IMAGE_SUFFIXES for p in path.parent.glob(f"{glob.escape(path.stem)}.*"))
    try:
        [float(v) for v in first]
    except ValueError:
        return False
    return len(first) >= 2


def check_input(path: Path) -> bool:
    """Whether ``path`` (symlinks followed) is a folder (True) or a regular file (False); anything else is a
    :class:`DatasetError`: nothing there, a dangling symlink, a symlink loop, a FIFO, a socket or a device (which
    would be read forever or never return), checked from the file's status before anything opens it; and a file
    or folder this process may not read (``chmod 000``), named as given (``x.json: cannot read (Permission
    denied)``, ``voc: Permission denied``), not by the first file the reader would try inside it."""
    from scalematch.dataset.formats._files import kind

    what = kind(path)
    shown = cut_name(path)
    if what is None or what == "a folder":
        try:
            if what is None:  # a regular file: opening it neither blocks nor reads it
                os.close(os.open(path, os.O_RDONLY))
            else:  # a folder: listed (read) and searched (execute), as every reader does
                os.scandir(path).close()
                os.stat(os.path.join(path, os.curdir))
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise DatasetError(f"{shown}: {reason}" if what else f"{shown}: cannot read ({reason})") from None
        return what is not None
    if what == "missing":
        raise DatasetError(f"{shown}: no such file or folder")
    if what == "a dangling symlink":
        raise DatasetError(f"{shown}: no such file or folder (a dangling symlink to {cut_name(os.readlink(path))})")
    if what.startswith("unreadable"):
        raise DatasetError(f"{shown}: cannot read{what.removeprefix('unreadable')}")
    raise DatasetError(f"{shown}: is not a regular file or folder ({what})")


def load(
    path: str | os.PathLike[str],
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
    path = given_path(path, "path")  # its text names the dataset (source), as the command line shows it
    policy = parse_policy(resize)
    raw, exclusions, record, fmt = read_raw(path, format, policy, strict, split, image_size, progress, workers)
    table, nested, repeats = assemble(raw, exclusions, needs_image_size(policy), record)
    images, categories = len(raw.images), {k: text_of(v) for k, v in raw.categories.items()}
    unnamed = frozenset(raw.unnamed)
    absent = {k: raw.absent[k] for k in sorted(raw.absent) if raw.absent[k]}
    del raw  # the table holds what is needed; free the reader's buffers before adding columns
    return LoadResult(
        table=apply(table, policy),
        excluded=exclusions.as_dict(),
        images=images,
        categories=categories,
        source=path,
        format=fmt,
        resize=str(policy),
        nested=None if nested is None else apply(nested, policy),
        unnamed=unnamed,
        repeated=exclusions.repeated,
        repeats=None if repeats is None else apply(repeats, policy),
        absent=absent,
    )


def read_raw(
    path: str | os.PathLike[str],
    format: Format | str | None,
    policy: ResizePolicy,
    strict: bool = False,
    split: str | None = None,
    image_size: tuple[int, int] | None = None,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
    drain: Callable[[RawBoxes], None] | None = None,
) -> tuple[RawBoxes, Exclusions, str, Format]:
    """Run the reader of ``path``'s format (see :func:`load`): its columns before the cross-record checks, the
    exclusions so far, the record word for messages and the format. ``drain`` is given to the COCO reader (which
    hands it the annotations as they come); the other readers leave it out."""
    path = Path(given_path(path, "path"))
    fmt = _format(path, format)
    if isinstance(split, str) and not split.strip():
        raise OptionError(f"split: expected a split name such as train or val, got an empty value ({split!r})")
    if split is not None and fmt != "voc":
        raise OptionError(f"split: applies to VOC year folders only; {path} is read as {fmt}")
    if image_size is not None and fmt != "yolo":
        raise OptionError(f"image_size: applies to YOLO labels only; {path} is read as {fmt}")
    exclusions = Exclusions(str(path), strict)
    raw: RawBoxes
    record = "annotation id"
    if fmt == "coco":
        from scalematch.dataset.formats import coco

        if path.is_dir():
            raise DatasetError(f"{path}: expected a COCO .json file, got a folder")
        total = path.stat().st_size
        report = (lambda done: progress(done, total)) if progress else None
        raw = coco.read(path, exclusions, report, cores() if workers is None else workers, drain)
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
    return raw, exclusions, record, fmt


def read_paths(path: str | Path, format: str | None = None) -> tuple[Path, ...]:
    """The files and folders reading ``path`` opens (the path itself, for YOLO labels the images folder and the
    class-names file, which may lie above the path, for VOC the images and split lists of its year folder, and for
    a VOC or YOLO folder every link met in it, to a file or a folder elsewhere): outputs must not replace or land
    in any of them. A path whose format cannot be told gives itself only (reading it will say why)."""
    path = Path(path)
    try:
        fmt = _format(path, format)
    except ScalematchError:
        return (path,)
    if fmt == "coco":
        return (path,)
    if fmt == "voc":  # and the links in a folder: an output must not land behind one either
        from scalematch.dataset.formats._walk import links_in
        from scalematch.dataset.formats.pascal_voc import year_folders

        beside = year_folders(path)
        return (path, *links_in(path), *beside) if path.is_dir() else (path, *beside)
    from scalematch.dataset.formats import yolo

    return (path, *yolo.side_paths(path), *yolo.reached(path)[1])


def given_format(format: object) -> Format | None:
    """``format`` as the readers take it: None (found from each file), or coco, voc or yolo in any case, as rule=
    takes its names (the command line: lower case only); anything else is an :class:`OptionError`. Checked at the
    door of every entry that takes it, the annotations read already (a LoadResult, a DataFrame) or not."""
    from scalematch._args import expect

    expect(format, "format", str, "coco, voc or yolo", optional=True)
    if format is None:
        return None
    assert isinstance(format, str)
    for f in FORMATS:
        if format.lower() == f:
            return f
    raise OptionError(f"format: expected one of {', '.join(FORMATS)}, got {format!r}")


def _format(path: Path, format: str | None) -> Format:
    """The format ``path`` is read as: ``format`` if given, else found from the path; after :func:`check_input`."""
    is_folder = check_input(path)
    fmt = given_format(format)
    return _detected(path, is_folder) if fmt is None else fmt


INPUT_COLUMNS = ("scale_x", "scale_y", "scale", "w_in", "h_in", "size_in", "max_side_in", "aspect")
_DEFAULTS: dict[str, object] = {
    "file_name": "", "category_id": 1, "category": "object", "area": None,
    "iscrowd": False, "difficult": 0, "truncated": False, "ignore": False,
}  # fmt: skip


def read_annotations(
    path: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | None = None,
    format: Format | str | None = None,
    resize: str | ResizePolicy = DEFAULT_POLICY,
    *,
    strict: bool = False,
    split: str | None = None,
    image_size: str | tuple[int, int] | None = None,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
    client: Any = None,
) -> LoadResult:
    """Read annotations (a COCO .json, a VOC .xml or folder, YOLO labels; default: the bundled COCO sample)
    into a box table in network-input pixels after ``resize``; see :func:`load`. ``image_size`` is width
    first, ``"640x480"`` or ``(640, 480)``. ``path`` is a ``str`` or an ``os.PathLike`` (a ``pathlib.Path``), and
    may also be a glob pattern or any iterable of inputs (a list, a tuple, a generator), read as one dataset by
    ``workers`` processes or on the Dask cluster of ``client`` (see :func:`scalematch.dataset.shards.read_shards`).
    An empty path is an error, as on the command line (it would read the current folder)."""
    from scalematch.dataset.shards import read_shards

    if path is None:
        from scalematch.dataset import sample_path

        path = sample_path()
    image_size = _image_size(image_size)
    return read_shards(
        path, format, resize, strict=strict, split=split, image_size=image_size, progress=progress,
        workers=workers, client=client,
    )  # fmt: skip


def _image_size(value: object) -> tuple[int, int] | None:
    """The API's ``image_size``: None, ``"640x480"`` or two positive integers (width, height)."""
    import numbers

    if value is None:
        return None
    if isinstance(value, str):
        return parse_image_size(value)
    if isinstance(value, tuple | list) and len(value) == 2:
        sides = [v for v in value if isinstance(v, numbers.Integral) and not isinstance(v, bool)]
        if len(sides) == 2 and all(0 < int(v) <= MAX_IMAGE_SIDE for v in sides):
            return int(sides[0]), int(sides[1])
    from scalematch._args import shown

    raise OptionError(
        f"image_size: expected 'WIDTHxHEIGHT' or (width, height) with positive integers up to {MAX_IMAGE_SIDE}, "
        f"got {shown(value)}"
    )


def _digits(text: str) -> int:
    """The number written in the ASCII digits ``text``; one of more than 18 digits (leading zeros aside) as 10**18,
    beyond every limit (``int()`` refuses more than 4,300 digits with a bare ValueError)."""
    digits = text.lstrip("0")
    return int(digits or "0") if len(digits) <= 18 else 10**18


def parse_image_size(text: str) -> tuple[int, int]:
    """``"640x480"`` -> (640, 480): an image size, width first."""
    parts = text.lower().split("x")
    if len(parts) == 2 and all(p.isascii() and p.isdigit() and 0 < _digits(p) <= MAX_IMAGE_SIDE for p in parts):
        return _digits(parts[0]), _digits(parts[1])
    shown = text if len(text) <= 40 else text[:37] + "..."
    raise OptionError(
        f"image_size: expected WIDTHxHEIGHT with positive integers (e.g. 640x480) up to {MAX_IMAGE_SIDE}, got {shown!r}"
    )


def at_resize(data: LoadResult, resize: str | ResizePolicy) -> LoadResult:
    """``data`` with its input-pixel columns computed again for another resize policy."""
    from dataclasses import replace

    policy = parse_policy(resize)
    if str(policy) == data.resize:
        return data

    nested = None if data.nested is None else resized(data.nested, policy)
    repeats = None if data.repeats is None else resized(data.repeats, policy)
    return replace(data, table=resized(data.table, policy), resize=str(policy), nested=nested, repeats=repeats)


def resized(table: pd.DataFrame, resize: str | ResizePolicy) -> pd.DataFrame:
    """``table`` with its input-pixel columns computed again (for another resize policy, or other boxes)."""
    stale = [c for c in table.columns if c.removesuffix("_hi") in INPUT_COLUMNS]
    return apply(table.drop(columns=stale), parse_policy(resize))


def as_load_result(data: LoadResult | pd.DataFrame) -> LoadResult:
    """``data`` as a :class:`LoadResult`: a box table given as a DataFrame goes through :func:`from_frame`, and so
    does the table of a :class:`LoadResult` whose boxes were edited in place (its input sizes no longer those of its
    ``w``, ``h`` and scales), keeping the result's images, categories, resize, excluded records and the records of
    repeated annotation ids (:attr:`LoadResult.repeats`: the same rows, other boxes)."""
    import dataclasses

    if not isinstance(data, LoadResult):
        return from_frame(data)
    if not _edited(data.table):
        return data
    fresh = from_frame(data.table, source=data.source)
    excluded = Counter(data.excluded) + Counter(fresh.excluded)
    return dataclasses.replace(
        fresh, excluded=dict(sorted(excluded.items())), images=data.images, categories=dict(data.categories),
        format=data.format, resize=data.resize, nested=data.nested, unnamed=data.unnamed, repeated=data.repeated,
        repeats=data.repeats, absent=data.absent,
    )  # fmt: skip


def _edited(table: pd.DataFrame) -> bool:
    """Whether a box table's input-pixel columns differ from those its ``w``, ``h`` and scales give."""
    import numpy as np

    from scalematch.dataset.frame import given_input

    try:
        given = given_input(table)
    except (KeyError, TypeError, ValueError):  # columns edited beyond numbers: from_frame says what is wrong
        return True
    if given is None:
        return False
    for name, values in given.items():
        if name in table.columns:
            stored = table[name].to_numpy(np.float64, na_value=np.nan)
            if not np.array_equal(stored, values, equal_nan=True):
                return True
    return False


def has_image_ids(table: pd.DataFrame) -> bool:
    """Whether a box table says which rows share an image: an ``image_id`` column or index level."""
    return "image_id" in table.columns or "image_id" in table.index.names


def _ids_from_index(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with the ``ann_id``, ``image_id`` and ``shard`` (the input of each row of a table of several
    inputs, which ids are per) it holds as index levels (after ``set_index``) as columns."""
    levels = [c for c in ("ann_id", "image_id", "shard") if c not in table.columns and c in table.index.names]
    return table.reset_index(level=levels) if levels else table


def from_frame(table: pd.DataFrame, resize: str | ResizePolicy | None = None, source: str = "DataFrame") -> LoadResult:
    """A box table given as a pandas DataFrame (for example one read from ``stats --csv`` or built in a notebook)
    as a :class:`LoadResult`. It needs the columns ``x``, ``y``, ``w``, ``h`` (COCO ``xywh``, original pixels) and,
    for resize policies that scale, ``image_w`` and ``image_h``; the other box-table columns get defaults (one
    category 'object' of id 1, as COCO numbers its first category, no crowd; names in ``category`` without a
    ``category_id`` are numbered from 1 in order of first appearance, and one ``category_id`` given two names is an
    error). ``resize`` adds the input-pixel
    columns; without it, a table that brings its own resize keeps it, its input sizes made again from ``w`` and
    ``h`` (see :func:`scalematch.dataset.frame.given_input`), and another gets :data:`DEFAULT_POLICY`. ``ann_id``,
    ``image_id`` and ``shard`` are taken from the index when they are index levels rather than columns; without an
    ``image_id`` every row is an image of its own. ``source`` is the name the result gives its annotations (text)."""
    import numpy as np
    import pandas as pd

    from scalematch import _args
    from scalematch._args import expect
    from scalematch.dataset import frame as rows

    expect(table, "table", pd.DataFrame, "a pandas DataFrame with the box-table columns")
    expect(source, "source", str, "a name for the table (str), as results name their annotations")
    if isinstance(table.columns, pd.MultiIndex):
        raise OptionError(
            "annotations: the DataFrame's columns have several levels (a MultiIndex); expected one level of names "
            "(x, y, w, h, ...: flatten them first)"
        )
    table = _ids_from_index(table)
    unnamed = [c for c in table.columns if not isinstance(c, str)]
    if unnamed:
        raise OptionError(
            f"annotations: the DataFrame has a column whose name is not text ({_args.shown(unnamed[0])}); expected "
            "column names as text (x, y, w, h, ...: rename or drop that column)"
        )
    missing = [c for c in ("x", "y", "w", "h") if c not in table.columns]
    if missing:
        raise OptionError(
            f"annotations: the DataFrame has no {', '.join(missing)} column; expected the box-table columns "
            "x, y, w, h (original pixels), image_w, image_h, category"
        )
    table = rows.numeric_objects(table)
    rows.check_columns(table)
    rows.check_images(table)
    rows.check_categories(table)
    numbered = "category" in table.columns and "category_id" not in table.columns
    out = table.copy()
    n = len(out)
    for column, default in (("ann_id", range(1, n + 1)), ("image_id", range(1, n + 1))):
        if column not in out.columns:
            out[column] = list(default)
    sizes = [c for c in ("image_w", "image_h") if c not in out.columns]
    for column in sizes:
        out[column] = float("nan")
    for column, value in _DEFAULTS.items():
        if column not in out.columns:
            out[column] = out["w"] * out["h"] if column == "area" else value
    given = rows.given_input(out) if resize is None else None
    policy = None if given is not None else parse_policy(resize if resize is not None else DEFAULT_POLICY)
    need_size = policy is not None and needs_image_size(policy)
    if need_size and sizes:
        raise OptionError(
            f"resize: {policy} needs image_w and image_h for every box; the DataFrame has no {' or '.join(sizes)} "
            "column (use resize='none')"
        )
    stale = [c for c in out.columns if c.removesuffix("_hi") in INPUT_COLUMNS and (given is None or c not in given)]
    if given is not None:  # the frame's own resize: its scales are kept, the sizes made again from w and h
        stale = [c for c in stale if c not in ("scale_x", "scale_y", "scale", "scale_hi")]
    out, excluded = rows.check_rows(out.drop(columns=stale), need_size, given)
    out, shown = (out, None) if policy is None else (apply(out, policy), str(policy))
    codes, names = rows.category_names(out["category"])
    if numbered:  # names without ids: numbered from 1 in order of first appearance, as the VOC reader numbers them
        out["category_id"] = codes.astype(np.int64) + 1
    out["category"] = pd.Categorical.from_codes(codes, categories=pd.Index(names, dtype=str))
    pairs = pd.DataFrame({"id": out["category_id"].to_numpy(), "name": codes}).drop_duplicates("id")
    categories = {int(i): names[c] for i, c in zip(pairs["id"], pairs["name"], strict=True)}
    return LoadResult(out, excluded, int(out["image_id"].nunique()), categories, source, "coco", shown)
