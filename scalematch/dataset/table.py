"""The box table: one row per kept annotation, in original pixels, plus input-pixel columns after a resize.

Columns (dtype):

- ``ann_id`` (int64): the annotation's id (COCO ``id``; VOC and YOLO: running number in reading order).
- ``image_id`` (int64), ``file_name`` (category), ``image_w``, ``image_h`` (float64, original pixels; NaN when
  the file does not say and the resize policy does not need it).
- ``category_id`` (int64), ``category`` (category: the category's name).
- ``x``, ``y``, ``w``, ``h`` (float64): the box in original pixels, ``xywh`` with (x, y) the top-left corner,
  exactly the file's values (COCO) or converted once at the reader (VOC ``xyxy``, YOLO normalised centre).
- ``area`` (float64): the annotation's own ``area`` when the file gives one (COCO), else ``w * h``.
- ``iscrowd``, ``truncated``, ``ignore`` (bool): flags; False when the format has no such field (``ignore``: COCO's
  ``ignore`` key, set when true as Python tests it, as mmdetection's CocoDataset does).
- ``difficult`` (int8): VOC's ``<difficult>`` as written (0 when absent or for other formats), saturated to
  -128..127, which keeps what each toolkit decides: mmdetection leaves out any non-zero value, the yolov5 and
  ultralytics VOC converters exactly 1.
- VOC and YOLO only: ``label_file`` (category: the XML or label file, relative to the dataset folder) and
  ``label_index`` (int64: the object's position in the XML file, from 1; the line of the label file). The VOC
  objects nested in another element, which only the YOLO converters read, are a table of their own
  (``LoadResult.nested``), numbered after the file's other objects.
- ``label_refused`` (int8, COCO, VOC and YOLO): which YOLO toolkits refuse the label file of the object's image
  for a record the readers or the checks excluded (bit 1 ultralytics' ``verify_image_label``, bit 2 yolov5's;
  0 none): a YOLO line (see :func:`scalematch.dataset.formats.yolo.read`), or a COCO or VOC record left out for
  any reason that the converter still writes out of bounds (a box wholly outside its image, a repeated id, a COCO
  ``iscrowd: null``; see :func:`_converter_refusals` and :mod:`scalematch.dataset.yolo_labels`). The toolkit then
  trains on none of the image's objects.

After a resize policy (:mod:`scalematch.dataset.resize`):

- ``scale_x``, ``scale_y`` (float64): input pixels per original pixel along x (width) and y (height);
  ``scale`` is their geometric mean (equal to both unless the policy stretches).
- ``w_in``, ``h_in``, ``size_in`` = sqrt(w_in * h_in), ``max_side_in`` (float64): the box in input pixels.
- ``aspect`` (float64): w / h in original pixels.
- multi-scale policies add ``scale_hi``, ``w_in_hi``, ``h_in_hi``, ``size_in_hi``, ``max_side_in_hi`` for the
  largest input size (the plain columns hold the smallest).

Several inputs read as one dataset (:mod:`scalematch.dataset.shards`) add ``shard_image_id`` (int64: the image's id
in its input) and ``shard`` (category: the input), and ``image_id`` is renumbered to name one image over all inputs.
"""

from __future__ import annotations

import math
import mmap
import os
from array import array
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scalematch._text import cut_name, text_of
from scalematch.errors import DatasetError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

BASE_COLUMNS = (
    "ann_id", "image_id", "file_name", "image_w", "image_h", "category_id", "category",
    "x", "y", "w", "h", "area", "iscrowd", "difficult", "truncated", "ignore",
)  # fmt: skip

# Named exclusion reasons: a record with one of these problems is left out of the table and counted.
BBOX_INVALID = "bbox_invalid"
BBOX_NONPOSITIVE = "bbox_nonpositive"
UNKNOWN_IMAGE = "unknown_image"
UNKNOWN_CATEGORY = "unknown_category"
DUPLICATE_ID = "duplicate_id"
MISSING_IMAGE_SIZE = "missing_image_size"
MALFORMED_RECORD = "malformed_record"
UNPARSABLE_NUMBER = "unparsable_number"
BBOX_OUT_OF_RANGE = "bbox_out_of_range"
BBOX_OUTSIDE_IMAGE = "bbox_outside_image"
IMAGE_TOO_SMALL = "image_too_small"  # recommend with a detector: the image's input is too small for the network
RESOURCE_FORK = "resource_fork"  # a file, not a record: macOS's ``._name.xml`` beside ``name.xml``, skipped
LABEL_SUFFIX_CASE = "label_suffix_case"  # a file: YOLO ``a.TXT``, which ultralytics never opens (it opens a.txt)
DUPLICATE_LABEL = "duplicate_label"  # a YOLO line equal to an earlier one of its file, which ultralytics removes
HIDDEN_FILE = "hidden_file"  # a file: a YOLO label file or image under a hidden name, which ultralytics never lists
CORRUPT_IMAGE = "corrupt_image"  # a file: a YOLO image both toolkits drop as corrupt (a GIF named a.jpg, a broken PNG)
REASONS = (
    BBOX_INVALID, BBOX_NONPOSITIVE, BBOX_OUT_OF_RANGE, BBOX_OUTSIDE_IMAGE, UNKNOWN_IMAGE, UNKNOWN_CATEGORY,
    DUPLICATE_ID, MISSING_IMAGE_SIZE, MALFORMED_RECORD, UNPARSABLE_NUMBER, IMAGE_TOO_SMALL, RESOURCE_FORK,
    LABEL_SUFFIX_CASE, DUPLICATE_LABEL, HIDDEN_FILE, CORRUPT_IMAGE,
)  # fmt: skip

# The largest image side taken as a size (pixels): larger ones (1e30, integers with hundreds of digits) are
# treated as no size at all. 2**24 is beyond every image format's own limit in practice (JPEG: 65535).
MAX_IMAGE_SIDE = 1 << 24
MIN_BOX_SIDE = 1.0 / (1 << 24)  # boxes with a side outside [MIN_BOX_SIDE, MAX_IMAGE_SIDE] are bbox_invalid
_FLOAT_MAX = 1.7976931348623157e308


@dataclass(frozen=True)
class RepeatedIds:
    """COCO: the annotation records whose id an earlier record of their file has, whatever either holds (the
    toolkits index records by id before any check: pycocotools' ``anns[id]`` is the last record of the id): how
    many, the first such id, and the file. ``listed``: the first id that repeats among the records of the file's
    images alone, which mmdetection's CocoDataset stops on, and its file (None when none does). The box table
    keeps one record of an id (``duplicate_id``); the detector presets read them as their toolkits do (see
    :func:`scalematch.match.detector.repeated_ids`)."""

    count: int
    first: int
    file: str
    listed: tuple[int, str] | None = None


@dataclass
class Exclusions:
    """Counts of excluded records by reason; with ``strict`` the first one raises :class:`DatasetError`."""

    source: str
    strict: bool = False
    counts: Counter[str] = field(default_factory=Counter)
    repeated: RepeatedIds | None = None
    """COCO: the annotation records whose id an earlier record has (set by :func:`check`)."""

    def add(self, reason: str, where: str, detail: str, n: int = 1) -> None:
        if self.strict:  # (no ``where``: ``detail`` names the record itself)
            raise DatasetError(f"{self.source}: {where + ': ' if where else ''}{detail} [{reason}]")
        self.counts[reason] += n

    def as_dict(self) -> dict[str, int]:
        return {r: self.counts[r] for r in sorted(self.counts) if self.counts[r]}


def excluded_text(excluded: dict[str, int], format: str | None = None) -> str:
    """``excluded`` as an error says why no object is left: ``bbox_invalid 2, missing_image_size 1`` (or none),
    with the way out when images had no size: for YOLO labels without an image file, the image size; for the
    files of another ``format``, their sizes, or a resize that needs none."""
    text = ", ".join(f"{k} {v}" for k, v in excluded.items()) or "none"
    if excluded.get(MISSING_IMAGE_SIZE):
        if format == "yolo":
            text += (
                "; a YOLO label's image is missing or its header gives no usable size (--strict names the first); "
                "give the size: image_size=WxH"
            )
        else:
            sizes = {
                "coco": "each image's width and height",
                "voc": "each file's <size> (or its image JPEGImages/<id>.jpg)",
            }
            where = sizes.get(format or "", "image sizes")
            text += f"; give {where}, or a resize that needs no size (resize=none; a detector's resize needs them)"
    return text


def category_labels(table: pd.DataFrame) -> npt.NDArray[np.object_] | None:
    """The category of every row of ``table`` as the per-category tables, figures and CSV files of ``recommend``
    show it: its name, or ``name (id N)`` where several ``category_id`` values among the rows share that name.
    Categories are identified by id, as ``stats`` lists them (a COCO file may give two ids one name, and the
    toolkits train them as two classes), so rows of different ids never merge under one label. None without a
    ``category`` column; the names alone without a ``category_id`` column."""
    import numpy as np
    import pandas as pd

    if "category" not in table.columns:
        return None
    # names as text (str() of each distinct value, as astype(str) gives them), coded once per distinct value
    raw_code, raw = pd.factorize(table["category"], use_na_sentinel=False)
    name_code, names = pd.factorize(np.array([str(v) for v in raw], dtype=object))
    name_code = name_code[raw_code] if len(raw_code) else raw_code
    text = np.asarray(names, dtype=object)
    labels: npt.NDArray[np.object_] = text[name_code]
    if "category_id" not in table.columns or not len(table):
        return labels
    ids = table["category_id"].to_numpy()
    id_code, id_values = pd.factorize(ids, use_na_sentinel=False)
    keys, row_key = np.unique(id_code.astype(np.int64) * len(names) + name_code, return_inverse=True)  # (id, name)
    plain = [str(text[k % len(names)]) for k in keys.tolist()]
    shown = _distinct(plain, [f" (id {id_values[k // len(names)]})" for k in keys.tolist()])
    if shown == plain:
        return labels
    out: npt.NDArray[np.object_] = np.array(shown, dtype=object)[row_key.reshape(-1)]
    return out


def _distinct(plain: list[str], suffix: list[str]) -> list[str]:
    """One label per (id, name) pair: its name, or name + suffix (`` (id N)``) while that name is also the label
    of another pair (a name that several ids share, or a name spelled like another's ``name (id N)``). Two
    suffixed labels never meet (they end in their own ids), so each pair is suffixed at most once."""
    from collections import Counter

    shown = list(plain)
    while True:
        count = Counter(shown)
        clash = [k for k, label in enumerate(shown) if count[label] > 1 and label == plain[k]]
        if not clash:
            return shown
        for k in clash:
            shown[k] = plain[k] + suffix[k]


def finite(v: object) -> bool:
    """A JSON number that is a finite float (an integer with hundreds of digits is not: it overflows a float)."""
    if type(v) is int:
        return -_FLOAT_MAX <= v <= _FLOAT_MAX
    return type(v) is float and math.isfinite(v)


def image_side(v: object) -> float:
    """An image width or height as a float, or NaN unless it is a number in [1, :data:`MAX_IMAGE_SIDE`] (less
    than a pixel is no size)."""
    if type(v) in (int, float) and 1 <= v <= MAX_IMAGE_SIDE:  # type: ignore[operator]
        return float(v)  # type: ignore[arg-type]
    return math.nan


class Column:
    """An append-only column of one ``array`` typecode, kept in anonymous memory maps.

    Large growing arrays on the malloc heap fragment it (the reader's multi-MiB parse buffers come and go
    between the reallocations): measured on the 460 MB benchmark file, ~75 MiB of RSS that was neither the
    columns nor live objects. Memory maps are returned to the system when replaced. Single values are staged
    in a small ``array`` first, so per-record appends stay cheap.
    """

    _STAGE = 1 << 16

    def __init__(self, typecode: str) -> None:
        self.typecode = typecode
        self._stage: array[Any] = array(typecode)
        self._map = _anonymous(self._STAGE)
        self._used = 0

    def append(self, value: float) -> None:
        self._stage.append(value)
        if len(self._stage) * self._stage.itemsize >= self._STAGE:
            self._flush()

    def extend(self, values: array[Any]) -> None:
        self.frombytes(values.tobytes())

    def frombytes(self, data: bytes) -> None:
        self._flush()
        self._write(data)

    def __len__(self) -> int:
        return (self._used + len(self._stage) * self._stage.itemsize) // self._stage.itemsize

    def buffer(self) -> memoryview:
        """The column's bytes (no copy); the column must not grow while the view is alive."""
        self._flush()
        return memoryview(self._map)[: self._used]

    def release(self) -> None:
        """Return the column's memory to the system; it is empty afterwards (unchanged while views of it live)."""
        try:
            self._map.close()
        except BufferError:
            return
        del self._stage[:]
        self._map = _anonymous(self._STAGE)
        self._used = 0

    def _flush(self) -> None:
        if self._stage:
            data = self._stage.tobytes()
            del self._stage[:]
            self._write(data)

    def _write(self, data: bytes) -> None:
        end = self._used + len(data)
        if end > len(self._map):
            size = max(2 * len(self._map), end)
            try:
                self._map.resize(size)  # a private anonymous map grows in place (Linux: mremap)
            except (OSError, SystemError, ValueError):
                grown = _anonymous(size)
                grown[: self._used] = self._map[: self._used]
                self._map.close()
                self._map = grown
        self._map[self._used : end] = data
        self._used = end


Row = tuple[int, int, int, float, float, float, float, float, bool, int, bool]


def _anonymous(size: int) -> mmap.mmap:
    """Anonymous memory; private where the platform allows, so that it can grow in place."""
    if hasattr(mmap, "MAP_PRIVATE") and hasattr(mmap, "MAP_ANONYMOUS"):
        return mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    return mmap.mmap(-1, size)


@dataclass(frozen=True)
class Shadow:
    """A COCO annotation record with an integer ``id`` that the reader left out for a problem of its own (a bad or
    empty ``bbox``, a malformed field): ``before``, the reader's rows that come before it in the file; its id;
    ``record``, the keys a toolkit reads (``image_id``, ``category_id``, ``bbox``, ``iscrowd``, ``area``,
    ``ignore``, those present)."""

    before: int
    ann_id: int
    record: dict[str, Any]


@dataclass
class RawBoxes:
    """What a reader hands over: images, categories and the boxes that passed the per-record checks.

    Cross-record checks (unknown image or category id, duplicate annotation ids, missing image sizes) are done
    once in :func:`assemble`, in reading order.
    """

    images: MutableMapping[int, tuple[str, float, float]] = field(default_factory=dict)
    """Image id -> (file name, width, height): a dict, or an :class:`~scalematch.dataset.images.ImageTable`."""
    categories: dict[int, str] = field(default_factory=dict)
    unnamed: set[int] = field(default_factory=set)
    """The categories the input gives no name (COCO: a record without a text or number ``name``; YOLO: the classes
    of labels without a ``data.yaml`` or ``classes.txt``): their id stands in for it in ``categories``."""
    ann_id: Column = field(default_factory=lambda: Column("q"))
    image_id: Column = field(default_factory=lambda: Column("q"))
    category_id: Column = field(default_factory=lambda: Column("q"))
    x: Column = field(default_factory=lambda: Column("d"))
    y: Column = field(default_factory=lambda: Column("d"))
    w: Column = field(default_factory=lambda: Column("d"))
    h: Column = field(default_factory=lambda: Column("d"))
    area: Column = field(default_factory=lambda: Column("d"))
    iscrowd: Column = field(default_factory=lambda: Column("b"))
    difficult: Column = field(default_factory=lambda: Column("b"))
    truncated: Column = field(default_factory=lambda: Column("b"))
    ignore: Column = field(default_factory=lambda: Column("b"))
    label_files: dict[int, str] = field(default_factory=dict)
    """VOC and YOLO: the file each image's boxes come from (image id -> path relative to the dataset folder)."""
    label_index: Column = field(default_factory=lambda: Column("q"))
    """VOC and YOLO: per box, its place in that file (object number or line), appended after :meth:`add`."""
    late: int = 0
    """COCO read with a drain: the first ``late`` rows came in the file before some rows handed over already
    (boxes from masks, made at the end)."""
    one_file: bool = False
    """VOC and YOLO: the dataset is that one file (messages then name the record only, not the file)."""
    refused: dict[int, int] | None = None
    """YOLO: per image whose label file has a line excluded for a problem that ultralytics' or yolov5's
    ``verify_image_label`` refuses the whole file for, which of them (:mod:`scalematch.dataset.yolo_labels` bits;
    the ``label_refused`` column)."""
    converter: str = ""
    """COCO and VOC: whose converter writes the YOLO labels of these boxes (``coco``: ``'%g'``; ``voc``: the
    number): the records the checks exclude but the converter still writes can make the toolkits refuse the file
    (``label_refused``)."""
    no_size: dict[int, str] = field(default_factory=dict)
    """VOC: per image without a usable size, what is wrong with its ``<size>`` (``its <width> '500px' is not a
    number``), for the message of its objects' ``missing_image_size``."""
    nested: RawBoxes | None = None
    """VOC: the ``<object>`` elements nested inside another element, which only the YOLO converters read
    (``root.iter('object')``): boxes of the same images and categories, kept apart (the table's ``nested`` rows)."""
    shadows: list[Shadow] | None = None
    """COCO read whole (no drain): the records with an integer ``id`` that the reader left out for a problem of
    their own, in file order: the toolkits index them by id all the same (see :class:`Shadow`)."""
    written: list[tuple[int, float, float, float, float, float]] = field(default_factory=list)
    """COCO and VOC: the records the reader left out for a problem of their own (``malformed_record``,
    ``bbox_invalid``, ``unparsable_number``, ``bbox_nonpositive``) that the converter still writes, as it takes
    them: ``(image_id, class, x, y, w, h)`` (see :func:`scalematch.dataset.formats.coco.converter_row`; VOC:
    ``x = xmin - 1``, ``w = xmax - xmin``, class 0)."""

    absent: Counter[str] = field(default_factory=Counter)
    """COCO: how many of the records that became rows lack a key that a toolkit reads with ``[key]``, by key
    (``bbox``: its box made from the mask; ``iscrowd``: read as 0; ``area``: read as w * h), on which that toolkit
    stops with a ``KeyError`` (see :func:`scalematch.match.detector.absent_note`)."""

    def add(
        self, ann_id: int, image_id: int, category_id: int, box: tuple[float, float, float, float],
        area: float, iscrowd: bool = False, difficult: int = 0, truncated: bool = False, ignore: bool = False,
    ) -> None:  # fmt: skip
        self.ann_id.append(ann_id)
        self.image_id.append(image_id)
        self.category_id.append(category_id)
        self.x.append(box[0])
        self.y.append(box[1])
        self.w.append(box[2])
        self.h.append(box[3])
        self.area.append(area)
        self.iscrowd.append(iscrowd)
        self.difficult.append(difficult)
        self.truncated.append(truncated)
        self.ignore.append(ignore)

    def add_rows(self, rows: list[Row]) -> None:
        """Many :meth:`add` calls at once, each row ``(ann_id, image_id, category_id, x, y, w, h, area, iscrowd,
        difficult, truncated)``: one transposition and one column extension each, instead of a call per value."""
        columns = (self.ann_id, self.image_id, self.category_id, self.x, self.y, self.w, self.h, self.area,
                   self.iscrowd, self.difficult, self.truncated)  # fmt: skip
        for column, values in zip(columns, zip(*rows, strict=True), strict=False):
            column.extend(array(column.typecode, values))
        self.ignore.frombytes(bytes(len(rows)))  # a COCO key: never set by the readers that add rows


@dataclass(frozen=True)
class Checked:
    """The outcome of the cross-record checks on a reader's columns.

    ``sel`` picks the kept rows (a slice when all are kept, so that columns stay views); ``pos`` is, for every
    row, the index of its image in ``raw.images`` order; ``image_w`` and ``image_h`` are per image in that
    order.
    """

    sel: Any
    pos: np.ndarray
    image_w: np.ndarray
    image_h: np.ndarray
    kept: int
    left_out: np.ndarray | None = None
    """The rows the checks excluded whose image and category are known (a converter still writes them)."""
    repeats: np.ndarray | None = None
    """COCO: the rows the checks exclude whose annotation id another record of the file has (whatever either
    holds): the toolkits index them by id all the same (see :attr:`scalematch.dataset.loader.LoadResult.repeats`)."""
    shadows: np.ndarray | None = None
    """COCO: likewise, the places in ``raw.shadows`` of the records the reader left out (:class:`Shadow`)."""
    listed: np.ndarray | None = None
    """COCO: per row, whether its image is among the file's images."""
    only_repeat: np.ndarray | None = None
    """COCO: per row, whether it is excluded as ``duplicate_id`` alone (every other check keeps it)."""

    def column(self, raw: RawBoxes, name: str) -> np.ndarray:
        """Column ``name`` of ``raw`` (ann_id ... truncated) for the kept rows."""
        import numpy as np

        col: Column = getattr(raw, name)
        dtype = {"q": np.int64, "d": np.float64, "b": np.int8}[col.typecode]
        values: np.ndarray = np.frombuffer(col.buffer(), dtype=dtype)[self.sel]
        return values.astype(bool) if col.typecode == "b" and name != "difficult" else values

    def image_sizes(self, rows: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Per kept row (or per ``rows`` of the kept rows), its image's width and height (NaN when unknown)."""
        import numpy as np

        idx = self.pos[self.sel] if rows is None else self.pos[self.sel][rows]
        if len(self.image_w) == 0:
            return np.full(len(idx), np.nan), np.full(len(idx), np.nan)
        return self.image_w[idx], self.image_h[idx]


_TEXTS = {
    BBOX_INVALID: "the box's width or height is outside [2**-24, 2**24] pixels",
    DUPLICATE_ID: "{where} appears more than once",
    UNKNOWN_IMAGE: "image_id {i} is not among the file's images",
    UNKNOWN_CATEGORY: "category_id {c} is not among the file's categories",
    MISSING_IMAGE_SIZE: "image {i} ({name}) has no width/height and the resize policy needs it",
    BBOX_OUTSIDE_IMAGE: "the box does not overlap image {i} ({name}) at all",
}
_NO_SIZE_WHY = "image {i} ({name}) has no usable width/height ({why}) and the resize policy needs it"


def problems(
    box: tuple[np.ndarray, ...], unknown: np.ndarray, strange: np.ndarray,
    sizes: tuple[np.ndarray, np.ndarray] | None, need_size: bool,
) -> list[tuple[str, np.ndarray]]:  # fmt: skip
    """The cross-record checks but the last, in the order in which they take a record (a record with several
    problems is counted under the first): per reason, the rows that have its problem. ``box`` is the rows' x, y,
    w, h; ``unknown`` and ``strange`` mark images and categories the file does not list; ``sizes`` is each row's
    image width and height (None: the file lists no image). The last check, ``duplicate_id``, takes the rows
    that every other check keeps and whose id an earlier such row has (:func:`repeat_of_kept`): a record repeats
    only a record that is kept."""
    import numpy as np

    x, y, w, h = box
    out = [
        (BBOX_INVALID, (np.minimum(w, h) < MIN_BOX_SIDE) | (np.maximum(w, h) > MAX_IMAGE_SIDE)),
        (UNKNOWN_IMAGE, unknown),
        (UNKNOWN_CATEGORY, strange),
    ]
    if sizes is not None:
        iw, ih = sizes
        if need_size:
            out.append((MISSING_IMAGE_SIZE, ~(np.isfinite(iw) & np.isfinite(ih))))
        with np.errstate(invalid="ignore", over="ignore"):  # NaN sizes compare False: no size, no check; x + w
            # may overflow to inf for a box already refused as bbox_invalid (sides above MAX_IMAGE_SIDE)
            out.append((BBOX_OUTSIDE_IMAGE, (x >= iw) | (y >= ih) | (x + w <= 0) | (y + h <= 0)))
    return out


def file_order(rows: np.ndarray, before: np.ndarray) -> np.ndarray:
    """The order that puts rows and other records back in file order: ``rows``, the positions of some rows in
    the file's sequence of rows, followed by records each of which comes just before row number ``before`` of that
    sequence (the rows that precede it); two records before the same row keep their order."""
    import numpy as np

    rank = np.r_[2 * np.asarray(rows, dtype=np.int64) + 1, 2 * np.asarray(before, dtype=np.int64)]
    return np.argsort(rank, kind="stable")


def repeat_of_kept(ann_id: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """Per row, whether it is ``kept`` and an earlier ``kept`` row has its id (the first is kept)."""
    import numpy as np

    rows = np.flatnonzero(kept)
    ids = ann_id[rows]
    out = np.zeros(len(ann_id), dtype=bool)
    if len(ids) < 2 or bool((ids[1:] > ids[:-1]).all()):  # increasing ids (most files): no sort needed
        return out
    _, first = np.unique(ids, return_index=True)
    out[rows] = True
    out[rows[first]] = False
    return out


def check(raw: RawBoxes, exclusions: Exclusions, need_size: bool, record: str = "annotation id") -> Checked:
    """Run the cross-record checks on ``raw``: count (or, strict, raise on) the records they exclude."""
    import numpy as np

    ann_id = np.frombuffer(raw.ann_id.buffer(), dtype=np.int64)
    image_id = np.frombuffer(raw.image_id.buffer(), dtype=np.int64)
    category_id = np.frombuffer(raw.category_id.buffer(), dtype=np.int64)
    n = len(ann_id)
    from scalematch.dataset.images import columns

    img_ids, img_w, img_h = columns(raw.images)
    cat_ids = np.fromiter(raw.categories.keys(), dtype=np.int64, count=len(raw.categories))

    keep = np.ones(n, dtype=bool)
    order = np.argsort(img_ids, kind="stable")
    if len(order):
        found = np.minimum(np.searchsorted(img_ids[order], image_id), len(order) - 1)
        unknown = img_ids[order][found] != image_id
        pos = order[found]
        del found
    else:
        unknown, pos = np.ones(n, dtype=bool), np.zeros(n, dtype=np.int64)
    box = tuple(np.frombuffer(getattr(raw, k).buffer(), dtype=np.float64) for k in ("x", "y", "w", "h"))
    sizes = (img_w[pos], img_h[pos]) if len(order) else None
    found_problems = problems(box, unknown, ~among(category_id, cat_ids), sizes, need_size)
    others = np.logical_or.reduce([bad for _, bad in found_problems]) if n else np.zeros(0, dtype=bool)
    found_problems.append((DUPLICATE_ID, repeat_of_kept(ann_id, ~others)))
    checks = [(reason, bad, _TEXTS[reason]) for reason, bad in found_problems]
    if exclusions.strict:  # the first bad record in file order ends the run, under its first reason
        rows = [int(np.argmax(bad)) if bad.any() else n for _, bad, _ in checks]
        if min(rows, default=n) < n:
            k = min(rows)
            checks = [next(c for c, row in zip(checks, rows, strict=True) if row == k)]
    for reason, bad, text in checks:
        bad = bad & keep
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            name = raw.images[int(image_id[k])][0] if int(image_id[k]) in raw.images else "?"
            why = raw.no_size.get(int(image_id[k])) if reason == MISSING_IMAGE_SIZE else None
            text = text if why is None else _NO_SIZE_WHY
            where = _where(raw, record, k, int(image_id[k]), int(ann_id[k]))
            detail = text.format(where=where, i=image_id[k], c=category_id[k], name=cut_name(name), why=why)
            where = "" if reason == DUPLICATE_ID else where  # (the detail names the record)
            exclusions.add(reason, where, detail, int(bad.sum()))
            keep &= ~bad

    sel: Any = slice(None) if keep.all() else keep  # a slice keeps the columns as views, not copies
    left_out = np.flatnonzero(~keep & ~unknown)
    checked = Checked(sel, pos, img_w, img_h, int(keep.sum()), left_out)
    if record == "annotation id" and not raw.label_files:  # a COCO file's: ids as the toolkits index them
        checked = _repeated_ids(raw, checked, exclusions, keep, ~unknown, others)
    return checked


def _repeated_ids(
    raw: RawBoxes, checked: Checked, exclusions: Exclusions, keep: np.ndarray, listed: np.ndarray,
    others: np.ndarray,
) -> Checked:  # fmt: skip
    """``checked`` with the records of annotation ids that repeat, over the reader's rows and the records it left
    out (:class:`Shadow`), whatever they hold: sets ``exclusions.repeated`` (:class:`RepeatedIds`) and returns
    the rows and shadows the table leaves out among them (:attr:`Checked.repeats`, :attr:`Checked.shadows`)."""
    import dataclasses

    import numpy as np

    ann_id = np.frombuffer(raw.ann_id.buffer(), dtype=np.int64)
    n = len(ann_id)
    shadows = raw.shadows or []
    if not shadows and (n < 2 or bool((ann_id[1:] > ann_id[:-1]).all())):
        return checked
    from scalematch.dataset.images import columns

    img_ids = columns(raw.images)[0]
    s_ids = np.fromiter((s.ann_id for s in shadows), np.int64, len(shadows))
    s_listed = _listed_ids(shadows, img_ids)
    if shadows:  # every record in file order: rows, then shadows after n
        order: Any = file_order(np.arange(n), np.fromiter((s.before for s in shadows), np.int64, len(shadows)))
    else:
        order = slice(None)
    ids = np.r_[ann_id, s_ids][order]
    uniq, first, counts = np.unique(ids, return_index=True, return_counts=True)
    again = np.ones(len(ids), dtype=bool)
    again[first] = False
    if not again.any():
        return checked
    k = int(np.argmax(again))
    listed_ids = ids[np.r_[listed, s_listed][order]]
    stops = repeat_of_kept(listed_ids, np.ones(len(listed_ids), dtype=bool))
    listed_first = (int(listed_ids[np.argmax(stops)]), exclusions.source) if stops.any() else None
    exclusions.repeated = RepeatedIds(int(again.sum()), int(ids[k]), exclusions.source, listed_first)
    shared = np.isin(np.r_[ann_id, s_ids], uniq[counts > 1])
    rows = np.flatnonzero(shared[:n] & ~keep)
    only = np.zeros(n, dtype=bool)
    only[rows] = ~others[rows]
    return dataclasses.replace(
        checked, repeats=rows, shadows=np.flatnonzero(shared[n:]), listed=listed, only_repeat=only
    )


def _listed_ids(shadows: list[Shadow], img_ids: np.ndarray) -> np.ndarray:
    """Per shadow, whether its ``image_id`` (whatever it is) is an integer among ``img_ids``."""
    import numpy as np

    known = set(img_ids.tolist())
    values = (s.record.get("image_id") for s in shadows)
    return np.fromiter((type(v) is int and v in known for v in values), bool, len(shadows))


Watcher = Callable[[Mapping[str, "np.ndarray"]], None]
_watchers: list[tuple[int, Watcher]] = []


@contextmanager
def columns_watched(watcher: Watcher) -> Iterator[None]:
    """Within the block, ``watcher`` is called once, in this process, with the columns of the first COCO box table
    :func:`assemble` builds (its rows checked; ``image_id``, ``image_w``, ``image_h``, ``x``, ``y``, ``w``, ``h``,
    ``area``, ``iscrowd``, ``ignore``, ``category_id``, ... as numpy arrays the table then holds: not to be
    written), before the rest of the table (its names) is built. For work that can start on the boxes while
    the table is made (``recommend``'s simulation); what it finds must be checked against the table."""
    entry = (os.getpid(), watcher)
    _watchers.append(entry)
    try:
        yield
    finally:
        if entry in _watchers:
            _watchers.remove(entry)


def _watcher(raw: RawBoxes) -> Watcher | None:
    """The watcher of :func:`columns_watched` to call for ``raw``'s table (a COCO file's, in the process that
    set it), taken out of the list: it is called once."""
    for entry in _watchers:
        if entry[0] == os.getpid() and raw.converter == "coco":
            _watchers.remove(entry)
            return entry[1]
    return None


def assemble(
    raw: RawBoxes, exclusions: Exclusions, need_size: bool, record: str = "annotation id"
) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None]:
    """Run the cross-record checks on ``raw`` and build the box table (without resize columns); the table of
    ``raw.nested`` (VOC objects nested in another element, checked alike but counted nowhere: they are objects to
    the YOLO converters only), None when there are none; and the table of the COCO records excluded as repeating
    an earlier record's annotation id (:attr:`Checked.repeats`), with a column ``before``, the number of the box
    table's rows that come before each in the file; None when there are none."""
    import numpy as np

    kept = check(raw, exclusions, need_size, record)
    table = _frame(raw, kept, _watcher(raw))
    bits = None
    if raw.refused is not None:  # YOLO: the reader's verdict per file, per image in raw.images order
        verdict = raw.refused
        bits = np.fromiter((verdict.get(i, 0) for i in raw.images), np.int8, len(raw.images))
    elif raw.converter:
        bits = _converter_refusals(raw, kept)
    nested = None
    if raw.nested is not None and len(raw.nested.ann_id):
        inner = check(raw.nested, Exclusions(exclusions.source), need_size, record)
        nested = _frame(raw.nested, inner)
        bits = _converter_refusals(raw.nested, inner) | (0 if bits is None else bits)
        nested["label_refused"] = bits[inner.pos[inner.sel]]
    if bits is not None:
        table["label_refused"] = bits[kept.pos[kept.sel]]
    repeats = None
    if (
        kept.repeats is not None
        and kept.shadows is not None
        and len(raw.images)
        and len(kept.repeats) + len(kept.shadows)
    ):
        repeats = _repeats_frame(raw, kept, bits)
    return table, nested, repeats


REPEAT_COLUMNS = ("before", "listed", "only_repeat", "readable", "problem")
"""The columns :attr:`scalematch.dataset.loader.LoadResult.repeats` adds to the box table's: the table's rows
before the record in the file; whether its image is among the file's (a place where the toolkits list it); whether
only ``duplicate_id`` leaves it out; whether a toolkit can read its box, category and flags (its ``bbox`` four
numbers, ``category_id`` an integer, ``iscrowd`` 0 or 1, ``area`` a number), and if not, ``problem`` says what
is wrong (``'bbox' 'oops'``)."""


def _repeats_frame(raw: RawBoxes, kept: Checked, bits: np.ndarray | None) -> pd.DataFrame:
    """The records of repeated annotation ids that the table leaves out (:attr:`Checked.repeats` and
    :attr:`Checked.shadows`) as a box table with :data:`REPEAT_COLUMNS`, in file order. A record of an image the
    file does not list has no image size (NaN); one whose box cannot be read has NaN sides."""
    import numpy as np

    assert kept.repeats is not None and kept.shadows is not None and kept.listed is not None
    assert kept.only_repeat is not None
    rows = kept.repeats
    kept_rows = np.zeros(len(kept.pos), dtype=np.int64)
    kept_rows[kept.sel] = 1
    before = np.r_[0, np.cumsum(kept_rows)]  # the kept rows before row k
    part = _frame(raw, Checked(rows, kept.pos, kept.image_w, kept.image_h, len(rows)))
    listed = kept.listed[rows]
    part.loc[~listed, ["image_w", "image_h"]] = np.nan
    if bits is not None:
        part["label_refused"] = np.where(listed, bits[kept.pos[rows]], 0).astype(np.int8)
    extra = {"before": before[rows], "listed": listed, "only_repeat": kept.only_repeat[rows]}
    part = part.assign(**extra, readable=True, problem="")
    shadows = [raw.shadows[int(i)] for i in kept.shadows] if raw.shadows else []
    if not shadows:
        alone: pd.DataFrame = part.reset_index(drop=True)
        return alone
    other = _shadow_frame(raw, shadows, bits)
    other["before"] = before[[s.before for s in shadows]]
    joined = stacked([part, other[list(part.columns)]], ("file_name", "category"))
    order = file_order(rows, np.fromiter((s.before for s in shadows), np.int64, len(shadows)))
    out: pd.DataFrame = joined.take(order).reset_index(drop=True)
    return out


def _shadow_frame(raw: RawBoxes, shadows: list[Shadow], bits: np.ndarray | None) -> pd.DataFrame:
    """The :class:`Shadow` records as rows of a box table with :data:`REPEAT_COLUMNS` but ``before``: each as a
    toolkit takes it (``area`` absent: w * h; ``ignore`` by Python's truth test), NaN and 0 for what cannot be read."""
    import numpy as np
    import pandas as pd

    from scalematch._text import described
    from scalematch.dataset.images import columns

    img_ids = columns(raw.images)[0]
    at = {int(i): k for k, i in enumerate(img_ids.tolist())}
    out: dict[str, list[Any]] = {k: [] for k in (*BASE_COLUMNS, "label_refused", "listed", "readable", "problem")}
    for shadow in shadows:
        rec = shadow.record
        iid, cid, bbox = rec.get("image_id"), rec.get("category_id"), rec.get("bbox")
        crowd, area = rec.get("iscrowd", 0), rec.get("area")
        place = at.get(iid) if isinstance(iid, int) else None
        known = type(cid) is int and -(1 << 63) <= cid < (1 << 63)
        name, iw, ih = raw.images[iid] if isinstance(iid, int) and place is not None else ("", math.nan, math.nan)
        box = [float(v) for v in bbox] if type(bbox) is list and len(bbox) == 4 and all(map(finite, bbox)) else None
        flag = type(crowd) in (int, bool, float) and crowd in (0, 1)
        problem = (
            ("no 'bbox'" if bbox is None else f"'bbox' {described(bbox, 60)}") if box is None
            else f"'category_id' {described(cid, 60)}" if not known
            else f"'iscrowd' {described(crowd, 60)}" if not flag
            else f"'area' {described(area, 60)}" if area is not None and not finite(area)
            else ""
        )  # fmt: skip
        x, y, w, h = box if box is not None else (math.nan,) * 4
        values = {
            "ann_id": shadow.ann_id, "image_id": iid if place is not None else 0, "file_name": name,
            "image_w": iw, "image_h": ih, "category_id": cid if known else 0, "category": "", "x": x, "y": y,
            "w": w, "h": h, "area": float(area) if isinstance(area, int | float) and finite(area) else w * h,
            "iscrowd": bool(crowd) if flag else False,
            "difficult": 0, "truncated": False, "ignore": bool(rec.get("ignore", False)),
            "label_refused": 0 if bits is None or place is None else int(bits[place]), "listed": place is not None,
            "readable": not problem, "problem": problem,
        }  # fmt: skip
        for key, value in values.items():
            out[key].append(value)
    frame = pd.DataFrame(out)
    cid = frame["category_id"].to_numpy(np.int64)
    frame = frame.astype({"ann_id": np.int64, "image_id": np.int64, "category_id": np.int64, "difficult": np.int8})
    frame["file_name"] = _categorical(list(frame["file_name"]), np.arange(len(frame)))
    frame["category"] = category_column(raw.categories, cid)
    frame["label_refused"] = frame["label_refused"].astype(np.int8)
    frame["only_repeat"] = False
    made: pd.DataFrame = frame
    return made


_RECORD_NUMBERS = ("x", "y", "w", "h", "area", "iscrowd", "difficult", "truncated", "ignore")
"""The box table's columns of each record's numbers, after its ids, names and image sizes."""


def _frame(raw: RawBoxes, kept: Checked, watcher: Watcher | None = None) -> pd.DataFrame:
    """The kept rows of ``raw`` as a box table (without ``label_refused`` and resize columns); ``watcher``, when
    given, is called with its numeric columns first (:func:`columns_watched`)."""
    import pandas as pd

    from scalematch.dataset.images import names

    idx = kept.pos[kept.sel]
    category_id = kept.column(raw, "category_id")
    image_w, image_h = kept.image_sizes()
    numbers: dict[str, Any] = {"ann_id": kept.column(raw, "ann_id"), "image_id": kept.column(raw, "image_id")}
    numbers |= {"image_w": image_w, "image_h": image_h, "category_id": category_id}
    numbers |= {name: kept.column(raw, name) for name in _RECORD_NUMBERS}
    if watcher is not None:
        watcher(numbers)
    columns: dict[str, Any] = {
        "ann_id": numbers["ann_id"],
        "image_id": numbers["image_id"],
        "file_name": _categorical(names(raw.images), idx),
        "image_w": image_w,
        "image_h": image_h,
        "category_id": category_id,
        "category": category_column(raw.categories, category_id),
    }
    columns |= {name: numbers[name] for name in _RECORD_NUMBERS}
    table: pd.DataFrame = pd.DataFrame(columns, copy=False)
    if raw.label_files:
        table["label_file"] = _categorical([raw.label_files.get(i, "") for i in raw.images], idx)
        table["label_index"] = kept.column(raw, "label_index")
    return table


def _converter_refusals(raw: RawBoxes, kept: Checked) -> np.ndarray:
    """Per image (in ``raw.images`` order), the YOLO toolkits that refuse the label file their converter writes
    for it because of a record left out (by the checks: a box wholly outside its image, a repeated id, an unknown
    category; or by the reader, ``raw.written``) that the converter writes: ultralytics' ``convert_coco`` every
    non-crowd box of positive size of a listed image, its class ``category_id - 1``; the VOC converters every
    object but a difficult one. Bits of :mod:`scalematch.dataset.yolo_labels`."""
    import numpy as np

    from scalematch.dataset.yolo_labels import BOTH, ULTRALYTICS, as_written, converted, refusals

    out = np.zeros(len(kept.image_w), dtype=np.int8)
    rows = kept.left_out if kept.left_out is not None else np.zeros(0, dtype=np.int64)
    x, y, w, h = (np.frombuffer(getattr(raw, k).buffer(), dtype=np.float64)[rows] for k in ("x", "y", "w", "h"))
    cls = np.frombuffer(raw.category_id.buffer(), dtype=np.int64)[rows].astype(np.float64) - 1
    written = np.frombuffer(raw.iscrowd.buffer(), dtype=np.int8)[rows] == 0
    pos = kept.pos[rows]
    if raw.converter == "voc":  # the table's x = xmin - 1, w = xmax - xmin + 1; the converter: xmax - xmin
        w, h = w - 1, h - 1
        written = np.frombuffer(raw.difficult.buffer(), dtype=np.int8)[rows] != 1
        cls = np.zeros(len(rows))  # (the class's place among the config's names)
    if raw.written:
        from scalematch.dataset.images import columns

        extra = np.array(raw.written, dtype=np.float64).reshape(-1, 6)
        ids = np.array([r[0] for r in raw.written], dtype=np.int64)
        img_ids = columns(raw.images)[0]
        order = np.argsort(img_ids, kind="stable")
        found = np.minimum(np.searchsorted(img_ids[order], ids), max(len(order) - 1, 0))
        listed = img_ids[order][found] == ids if len(order) else np.zeros(len(ids), dtype=bool)
        pos = np.r_[pos, order[found][listed] if len(order) else np.zeros(0, dtype=np.int64)]  # (no image listed)
        cls, x, y, w, h = (np.r_[v, extra[listed, j]] for j, v in enumerate((cls, x, y, w, h), 1))
        written = np.r_[written, np.ones(int(listed.sum()), dtype=bool)]
    if not len(pos):
        return out
    image_w, image_h = kept.image_w[pos], kept.image_h[pos]
    written &= np.isfinite(image_w) & np.isfinite(image_h)
    if raw.converter == "coco":  # convert_coco skips a side <= 0 (a NaN one is written); the VOC converters do not
        written &= ~(w <= 0) & ~(h <= 0)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        label = converted(x[written], y[written], w[written], h[written], image_w[written], image_h[written],
                          text=raw.converter == "coco")  # fmt: skip
    found_bits = refusals(label)
    if raw.converter == "coco":  # '%g' of the class: a negative one refused by both, a fraction by ultralytics
        with np.errstate(invalid="ignore", over="ignore"):  # a class past float32 (or 1e999): inf, its remainder NaN
            c = as_written(cls[written]).astype(np.float32)
            found_bits |= np.where(c < 0, BOTH, np.where(c % 1 != 0, ULTRALYTICS, 0)).astype(np.int8)
    np.bitwise_or.at(out, pos[written], found_bits)
    return out


def _where(raw: RawBoxes, record: str, k: int, image_id: int, ann_id: int) -> str:
    """Where row ``k`` comes from, as the readers name it: VOC and YOLO by file and place (``b.xml: object 2``,
    ``labels/a.txt: line 3``), COCO by annotation id."""
    if not raw.label_files:
        return f"{record} {ann_id}"
    index = raw.label_index.buffer().cast("q")[k]
    return f"{record} {index}" if raw.one_file else f"{raw.label_files.get(image_id, '?')}: {record} {index}"


def category_column(categories: dict[int, str], category_id: np.ndarray) -> pd.Categorical[str]:
    """The ``category`` column of rows of ``category_id``: their names (an id not among ``categories``, a record
    of a repeated annotation id: the id as text)."""
    import numpy as np

    ids = np.sort(np.fromiter(categories.keys(), dtype=np.int64, count=len(categories)))
    if len(category_id) and not among(category_id, ids).all():
        ids = np.union1d(ids, category_id)
    if len(ids) and int(ids[-1]) - int(ids[0]) <= _TABLE_RANGE:  # each row's place among the ids, looked up
        place = np.zeros(int(ids[-1]) - int(ids[0]) + 1, np.int64)
        place[ids - ids[0]] = np.arange(len(ids))
        at = place[category_id - ids[0]]
    else:
        at = np.searchsorted(ids, category_id)
    return _categorical([categories.get(int(c), str(c)) for c in ids], at)


_TABLE_RANGE = 1 << 22
"""The widest range of integer ids that :func:`among` and :func:`category_column` look up in a table (a few MiB;
a lookup takes a few ms on a million rows, where a sort takes tens)."""


def among(values: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Per value (integers): whether it is one of ``ids``, as ``np.isin`` gives it; through a table over the ids'
    range when that is at most :data:`_TABLE_RANGE` (category ids: about 3x faster than the sort np.isin picks)."""
    import numpy as np

    if len(ids) and int(ids.max()) - int(ids.min()) <= _TABLE_RANGE:
        found: np.ndarray = np.isin(values, ids, kind="table")
        return found
    return np.isin(values, ids)


def stacked(parts: list[pd.DataFrame], categorical: tuple[str, ...]) -> pd.DataFrame:
    """The rows of ``parts`` one after another (index from 0), each of the columns ``categorical`` that they hold
    one categorical of the parts' categories (in order of first appearance). An empty part adds its columns but
    leaves the others' dtypes as they are, under every pandas (pandas 2 let an empty part decide them with a
    FutureWarning, pandas 3 lets it decide them)."""
    import pandas as pd
    from pandas.api.types import union_categoricals

    filled = [p for p in parts if len(p)] or parts[:1]
    joined = pd.concat(filled, ignore_index=True)
    columns = list(dict.fromkeys(c for p in parts for c in p.columns))
    if list(joined.columns) != columns:
        joined = joined.reindex(columns=columns)
    for column in categorical:
        if column in joined.columns:
            joined[column] = union_categoricals([p[column] for p in parts])
    return joined


def _categorical(labels: list[str], idx: np.ndarray) -> pd.Categorical[str]:
    """A categorical column whose row k is ``labels[idx[k]]`` (labels may repeat; names made text)."""
    import numpy as np
    import pandas as pd

    try:
        "".join(labels).encode("utf-8")  # no lone surrogate: text_of would leave every name as it is
    except UnicodeEncodeError:
        labels = [text_of(label) for label in labels]
    codes, unique = pd.factorize(np.array(labels, dtype=object))  # in order of first appearance
    chosen = codes.astype(np.int32)[idx] if len(labels) else np.zeros(0, np.int32)
    return pd.Categorical.from_codes(chosen, categories=pd.Index(unique, dtype=str))
