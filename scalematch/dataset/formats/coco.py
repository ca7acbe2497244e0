"""COCO instances JSON (also LVIS, and Roboflow COCO exports) -> :class:`RawBoxes`.

The file is streamed (:mod:`._jsonstream`): memory stays bounded by the read block and the output columns.
Records are decoded by msgspec into the typed structs below, which name only the fields used: the others
(polygon coordinates above all) are skipped in C, checked for JSON syntax but not for content, and the
columns are appended a piece of records at a time. A piece with any record that does not fit the structs, or
fails a check, is read again record by record so that each bad one is named.
Annotations are taken as they are: ``bbox`` is ``xywh`` in original pixels and used unchanged; ``area`` is
the annotation's own (COCO's small/medium/large use it), or ``w * h`` when absent; a missing ``iscrowd``
(LVIS) is 0. An annotation with a segmentation but no bbox gets its bbox from the mask (pycocotools).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import chain
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

import msgspec

from scalematch._text import described
from scalematch.dataset.formats._jsonstream import JsonStream
from scalematch.dataset.images import ImageTable, replace
from scalematch.dataset.table import (
    BBOX_INVALID,
    BBOX_NONPOSITIVE,
    DUPLICATE_ID,
    MALFORMED_RECORD,
    MAX_IMAGE_SIDE,
    UNKNOWN_IMAGE,
    Exclusions,
    RawBoxes,
    Shadow,
    finite,
    image_side,
)
from scalematch.errors import DatasetError

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

_I64 = 1 << 63
_ARRAYS = ("images", "annotations", "categories")


class _Annotation(msgspec.Struct, gc=False):
    id: int
    image_id: int
    category_id: int
    bbox: tuple[float, float, float, float]
    area: float = math.nan  # absent (msgspec decodes no NaN from JSON)
    iscrowd: int | msgspec.UnsetType = msgspec.UNSET  # absent: 0, counted (see RawBoxes.absent)
    ignore: Any = False  # mmdetection's CocoDataset skips a record whose 'ignore' is true (Python's truth test)


class _Image(msgspec.Struct, gc=False):
    id: int
    file_name: str
    width: int
    height: int


class _ImageSize(msgspec.Struct, gc=False):
    """An image record when the file names are not kept (statistics never show them): its name is skipped in C,
    no string is built (a name that is not a string only ever meant the id stood in for it)."""

    id: int
    width: int
    height: int


_ANNOTATIONS = msgspec.json.Decoder(list[_Annotation])
_IMAGES = msgspec.json.Decoder(list[_Image])
_IMAGE_SIZES = msgspec.json.Decoder(list[_ImageSize])
_ID, _IMAGE_ID, _CATEGORY_ID = attrgetter("id"), attrgetter("image_id"), attrgetter("category_id")
_BBOX, _AREA, _CROWD, _IGNORE = attrgetter("bbox"), attrgetter("area"), attrgetter("iscrowd"), attrgetter("ignore")
_NAME, _WIDTH, _HEIGHT = attrgetter("file_name"), attrgetter("width"), attrgetter("height")


def read(
    path: Path, exclusions: Exclusions, progress: Callable[[int], None] | None = None, workers: int = 1,
    drain: Callable[[RawBoxes], None] | None = None,
) -> RawBoxes:  # fmt: skip
    """Read a COCO-style file into :class:`RawBoxes`, counting (or, strict, raising on) bad records. With
    ``workers`` > 1 and a file of :data:`PARALLEL_MIN` bytes or more, the pieces of ``annotations`` are decoded
    in that many processes (see :func:`_annotations_in_parallel`); the result is the same as with one. With
    ``drain``, the annotations are handed to it as they come: after each piece of them once the ``images`` have
    been read (all at the end when they come first), and ``drain`` takes them out of the columns."""
    from scalematch.pool import can_fork

    # (a drain takes statistics, which show no file names)
    raw = RawBoxes(images=ImageTable(names=drain is None), converter="coco")
    if drain is None:  # (statistics keep one record of an id: they need no other)
        raw.shadows = []
    pending: list[_Pending] = []
    seen: list[str] = []
    count = [0]
    handed_over = [0]  # rows the drain has taken

    def take(items: list[Any], typed: bool) -> None:
        if not (typed and _fast(items, raw)):
            for k, ann in enumerate(items):
                _one(_plain(ann), count[0] + k, raw, exclusions, pending)
        count[0] += len(items)
        handed()

    def handed() -> None:  # (only ever called inside 'annotations': 'images', when seen, is complete)
        if drain is not None and "images" in seen:
            handed_over[0] += len(raw.ann_id)
            drain(raw)

    parallel = workers > 1 and path.stat().st_size >= PARALLEL_MIN and can_fork()
    with path.open("rb") as f, _early_pool(workers if parallel else 0) as pool:
        stream = JsonStream(f, str(path), progress)
        for key in stream.members():
            if key in seen and key in _ARRAYS:
                raise DatasetError(
                    f"{path}: the top-level key {key!r} appears again at byte {stream.key_at} (json.load, and so "
                    "pycocotools, would keep only the last one without a word); give each of 'images', 'annotations' "
                    "and 'categories' once"
                )
            seen.append(key)
            if key == "annotations" and pool is not None:
                _annotations_in_parallel(stream, path, raw, take, count, workers, handed, pool)
            elif key == "annotations":
                for items, typed in stream.objects(key, _ANNOTATIONS):
                    take(items, typed)
            elif key == "images":
                for items, typed in stream.objects(key, _IMAGES if drain is None else _IMAGE_SIZES):
                    if not (typed and _images_fast(items, raw)):
                        _images([_plain(i) for i in items], raw, exclusions)
            elif key == "categories":
                for items, _ in stream.objects(key):
                    _categories(items, raw, exclusions)
            else:
                stream.value()
    missing = [k for k in _ARRAYS if k not in seen]
    if missing:
        found = ", ".join(repr(k) for k in seen[:8]) or "none"
        raise DatasetError(
            f"{path}: not a COCO instances file: expected top-level arrays 'images', 'annotations' and "
            f"'categories', missing {', '.join(repr(k) for k in missing)} (found keys: {found})"
        )
    if pending:
        _boxes_from_masks(pending, raw, exclusions, handed_over[0])
    if drain is not None:
        drain(raw)
    return raw


PARALLEL_MIN = 64 << 20


@contextmanager
def _early_pool(workers: int) -> Iterator[ProcessPoolExecutor | None]:
    """``workers`` processes for the pieces of ``annotations`` (None when 0), forked now, before the images are
    read: a worker forked later would share the reader's heap, and the pages it then writes to (freed memory it
    reuses, the reference counts of objects it touches) would be copied, a peak that grows with the file. The
    tasks of a :func:`~scalematch.pool.meanwhile` block start when the annotations' pieces go to the workers
    (:func:`_annotations_in_parallel`): while the images are decoded here, a thread would take turns with that
    work (both hold the GIL), and from then on this process only waits."""
    if not workers:
        yield None
        return
    from scalematch.pool import worker_pool

    with worker_pool(workers, starts=False) as pool:
        pool.submit(int).result()  # the pool forks every worker at its first task
        yield pool


def _annotations_in_parallel(
    stream: JsonStream, path: Path, raw: RawBoxes, take: Callable[[list[Any], bool], None], count: list[int],
    workers: int, handed: Callable[[], None], pool: ProcessPoolExecutor,
) -> None:  # fmt: skip
    """The ``annotations`` array, its pieces decoded in the ``workers`` processes of ``pool``. This process only
    finds where pieces may end (:meth:`JsonStream.probe`); a worker reads its piece from the file and returns its
    columns, or None when the piece is not a list of well-formed records (a boundary inside a string, a bad
    record, broken JSON): that piece is then read here as one process reads it, and the pieces after it are cut again.
    Results are taken in file order, so the columns, the counts and the first error (under strict) are those
    of one process."""
    from collections import deque
    from concurrent.futures import Future

    from scalematch.pool import start_meanwhile

    if not stream.opening("annotations"):
        return
    start_meanwhile()  # this process now mostly waits for its workers (see _early_pool)
    name = str(path)
    cursor = ahead = stream.offset()  # where the next piece to take, and the next to cut, begin
    flight: deque[tuple[int, Future[_Columns | None]]] = deque()
    closed = stopped = False
    while True:
        while not (closed or stopped) and len(flight) < 2 * workers:
            found = stream.probe(ahead)
            if found is None:
                stopped = True
                break
            end, after, closing = found
            flight.append((after, pool.submit(_decode_piece, name, ahead, end - ahead)))
            ahead, closed = after, closing == ord("]")
        if flight:
            after, future = flight.popleft()
            columns = future.result()
            if columns is not None:
                _append(raw, columns)
                count[0] += columns[0]
                handed()
                cursor = after
                stream.report(after)
                continue
            for _, later in flight:
                later.cancel()
            flight.clear()
        elif closed:  # every piece taken, up to the array's ]
            stream.rewind(cursor)
            return
        stream.rewind(cursor)
        items, typed, closing = stream.element("annotations", _ANNOTATIONS)  # one piece, as one process
        take(items, typed)
        if closing == ord("]"):
            return
        cursor = ahead = stream.offset()
        closed = stopped = False


_Columns = tuple[int, list[bytes], dict[str, int]]
_COLUMNS = (
    "ann_id", "image_id", "category_id", "x", "y", "w", "h", "area", "iscrowd", "difficult", "truncated", "ignore",
)  # fmt: skip


def _decode_piece(path: str, offset: int, length: int) -> _Columns | None:
    """In a worker: the piece of ``length`` bytes at ``offset`` of the file decoded into typed annotations and
    their columns (as :func:`_fast` appends them); None when it is anything else."""
    text = bytearray(length + 2)
    text[0], text[-1] = 0x5B, 0x5D  # [ and ]
    with open(path, "rb", buffering=0) as f, memoryview(text) as view:
        f.seek(offset)
        done = 0
        while done < length:
            n = f.readinto(view[1 + done : 1 + length])
            if not n:
                return None
            done += n
    if not text.isascii():  # msgspec does not check the UTF-8 of strings it skips
        try:
            text.decode("utf-8")
        except UnicodeDecodeError:
            return None
    try:
        items = _ANNOTATIONS.decode(text)
    except (msgspec.DecodeError, RecursionError):  # ValidationError is a DecodeError
        return None
    piece = RawBoxes()
    if not _fast(items, piece):
        return None
    return len(items), [bytes(getattr(piece, name).buffer()) for name in _COLUMNS], dict(piece.absent)


def _append(raw: RawBoxes, columns: _Columns) -> None:
    for name, data in zip(_COLUMNS, columns[1], strict=True):
        getattr(raw, name).frombytes(data)
    raw.absent.update(columns[2])


def _records(items: list[Any], key: str, ex: Exclusions) -> list[dict[str, Any]]:
    """The records of one piece; an element that is not an object means the file is not COCO-shaped."""
    for k, item in enumerate(items):
        if type(item) is not dict:
            raise DatasetError(f"{ex.source}: '{key}': expected objects, got {described(item, 60)} (element {k})")
    return items


def _images(items: list[Any], raw: RawBoxes, ex: Exclusions) -> None:
    for img in _records(items, "images", ex):
        iid = img.get("id")
        if not _is_id(iid):
            ex.add(MALFORMED_RECORD, *_unnamed("image", img, "file_name", iid))
            continue
        w, h = image_side(img.get("width")), image_side(img.get("height"))
        size = (w, h) if math.isfinite(w) and math.isfinite(h) else (math.nan, math.nan)
        name = img.get("file_name")
        image = (name if isinstance(name, str) else str(iid), *size)
        if iid in raw.images:  # the last record is kept in the first one's place, as pycocotools' index keeps it
            ex.add(DUPLICATE_ID, "", f"image id {iid} appears more than once")
            replace(raw.images, iid, image)
            continue
        raw.images[iid] = image


def _images_fast(records: list[_Image] | list[_ImageSize], raw: RawBoxes) -> bool:
    """Add a piece of decoded image records at once; False (nothing added) if any fails a check."""
    if not records:
        return True
    ids = list(map(_ID, records))
    ws, hs = list(map(_WIDTH, records)), list(map(_HEIGHT, records))
    if min(ws) <= 0 or min(hs) <= 0 or max(ws) > MAX_IMAGE_SIDE or max(hs) > MAX_IMAGE_SIDE:
        return False
    if max(ids) >= _I64 or min(ids) < -_I64 or len(set(ids)) != len(ids) or _known(raw, ids):
        return False
    if isinstance(raw.images, ImageTable):
        names = list(map(_NAME, records)) if raw.images.keep_names else []  # (see _ImageSize)
        raw.images.extend(ids, names, list(map(float, ws)), list(map(float, hs)))
    else:
        names = list(map(_NAME, records))
        raw.images.update(zip(ids, zip(names, map(float, ws), map(float, hs), strict=True), strict=True))
    return True


def _known(raw: RawBoxes, ids: list[int]) -> bool:
    """Whether any of ``ids`` is among the images read already."""
    images = raw.images
    return images.any_of(ids) if isinstance(images, ImageTable) else not images.keys().isdisjoint(ids)


def _categories(items: list[Any], raw: RawBoxes, ex: Exclusions) -> None:
    for cat in _records(items, "categories", ex):
        cid = cat.get("id")
        if not _is_id(cid):
            ex.add(MALFORMED_RECORD, *_unnamed("category", cat, "name", cid))
            continue
        if cid in raw.categories:  # the last record is kept, as pycocotools' index keeps it
            ex.add(DUPLICATE_ID, "", f"category id {cid} appears more than once")
        name = cat.get("name")
        if isinstance(name, int | float) and not isinstance(name, bool):
            name = format(name, "g") if isinstance(name, float) else str(name)  # a number used as a name
        if not isinstance(name, str):  # no name: its id stands in (the name of no other input's category)
            name = str(cid)
            raw.unnamed.add(cid)
        else:  # (a repeated id's last record decides, named or not)
            raw.unnamed.discard(cid)
        raw.categories[cid] = name


def _fast(items: list[_Annotation], raw: RawBoxes) -> bool:
    """Append a piece of decoded annotations column-wise; False (nothing appended) if any fails a check."""
    import numpy as np

    n = len(items)
    no_crowd = 0
    try:  # msgspec's int reaches 2**64 - 1
        ids = [np.fromiter(map(get, items), np.int64, n) for get in (_ID, _IMAGE_ID, _CATEGORY_ID)]
        try:
            crowd = np.fromiter(map(_CROWD, items), np.int64, n)
        except TypeError:  # a record without 'iscrowd' (msgspec.UNSET): 0, counted
            crowds = list(map(_CROWD, items))
            no_crowd = crowds.count(msgspec.UNSET)
            crowd = np.fromiter((0 if c is msgspec.UNSET else c for c in crowds), np.int64, n)
    except OverflowError:
        return False
    box = np.fromiter(chain.from_iterable(map(_BBOX, items)), np.float64, 4 * n).reshape(n, 4)
    area = np.fromiter(map(_AREA, items), np.float64, n)
    if not ((box[:, 2:] > 0).all() and ((crowd == 0) | (crowd == 1)).all() and not (area < 0).any()):
        return False
    absent = np.isnan(area)
    if absent.any():
        with np.errstate(over="ignore"):  # inf for sides of 1e200: a box refused as bbox_invalid later
            area[absent] = box[absent, 2] * box[absent, 3]
        raw.absent["area"] += int(absent.sum())
    if no_crowd:
        raw.absent["iscrowd"] += no_crowd
    for col, values in zip((raw.ann_id, raw.image_id, raw.category_id), ids, strict=True):
        col.frombytes(values.tobytes())
    for col, j in ((raw.x, 0), (raw.y, 1), (raw.w, 2), (raw.h, 3)):
        col.frombytes(np.ascontiguousarray(box[:, j]).tobytes())
    raw.area.frombytes(area.tobytes())
    raw.iscrowd.frombytes(crowd.astype(np.int8).tobytes())
    zeros = bytes(n)
    raw.difficult.frombytes(zeros)
    raw.truncated.frombytes(zeros)
    raw.ignore.frombytes(np.fromiter(map(bool, map(_IGNORE, items)), np.int8, n).tobytes())
    return True


def _plain(item: Any) -> Any:
    """A decoded record as the dict it came from (for the record-by-record checks); others unchanged."""
    if isinstance(item, _Annotation):
        out = {f: getattr(item, f) for f in ("id", "image_id", "category_id")}
        if item.iscrowd is not msgspec.UNSET:
            out["iscrowd"] = item.iscrowd
        out["bbox"] = list(item.bbox)
        if not math.isnan(item.area):
            out["area"] = item.area
        return out
    if isinstance(item, _Image | _ImageSize):  # (an _ImageSize has no name: the id stands in, as for any image)
        return msgspec.structs.asdict(item)
    return item


def _is_id(v: object) -> TypeGuard[int]:
    return type(v) is int and -_I64 <= v < _I64


def _id_problem(key: str, value: object, record: object = None) -> str:
    """Why ``value`` is no id: an integer beyond 64 bits is out of range; anything else is no integer (shown with
    its ``record`` when given: an image or category without a usable id has nothing else to be named by)."""
    if type(value) is int:
        text = f"'{key}' {described(value, 60)} is out of range: expected an integer from -2^63 to 2^63 - 1"
        return text if record is None else f"{text}, in {described(record, 60)}"
    text = f"expected an integer '{key}', got {described(value if record is None else record, 60)}"
    if type(value) is float and value.is_integer() and -_I64 <= value < _I64:  # 9.0: pycocotools' dict key 9
        text += f" (written as a float, which pycocotools' index takes as {int(value)}: write {int(value)})"
    return text


def _unnamed(kind: str, record: dict[str, Any], name_key: str, value: object) -> tuple[str, str]:
    """Where and why for an image or category record without a usable id: named by its file name or name when it
    has one (``image 'a.jpg'``), else shown whole, which is all there is to name it by."""
    name = record.get(name_key)
    if isinstance(name, str):
        return f"{kind} {described(name, 60)}", _id_problem("id", value)
    return kind, _id_problem("id", value, record)


def _one(ann: Any, k: int, raw: RawBoxes, ex: Exclusions, pending: list[_Pending]) -> None:
    if type(ann) is not dict:
        raise DatasetError(f"{ex.source}: 'annotations': expected objects, got {described(ann, 60)} (element {k})")
    rows, waiting = len(raw.ann_id), len(pending)
    _check_one(ann, k, raw, ex, pending)
    if len(raw.ann_id) == rows and len(pending) == waiting:  # left out for a problem of its own
        label = converter_row(ann)
        if label is not None:
            raw.written.append(label)
        if raw.shadows is not None and _is_id(ann.get("id")):
            raw.shadows.append(Shadow(rows, ann["id"], _toolkit_keys(ann)))


def _toolkit_keys(ann: dict[str, Any]) -> dict[str, Any]:
    """The keys of annotation ``ann`` that a toolkit reads of the record it takes by id (see :class:`Shadow`)."""
    keys = ("image_id", "category_id", "bbox", "iscrowd", "area", "ignore")
    return {k: ann[k] for k in keys if k in ann}


def converter_row(ann: dict[str, Any]) -> tuple[int, float, float, float, float, float] | None:
    """What ultralytics' ``convert_coco`` (``cls91to80=False``) takes from annotation ``ann`` when it writes its
    label: ``(image_id, class, x, y, w, h)``, the class ``category_id - 1`` and the box ``np.array(bbox, float64)``
    (strings of numbers, ``true`` and ``null`` convert); None when it writes none (a crowd by Python's truth test of
    ``iscrowd``, a side <= 0) or would stop on the record (no ``bbox``, one that is not four numbers, an
    ``image_id`` that is no integer), and then writes no label file at all. It reads no other key: ``id``, ``area``
    and ``ignore`` can be anything."""
    import numpy as np

    image_id = ann.get("image_id")
    if ann.get("iscrowd", False) or not isinstance(image_id, int) or not -_I64 <= image_id < _I64:
        return None  # (an image_id True is image 1 to the converter's f"{image_id:d}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            box = np.array(ann["bbox"], dtype=np.float64)
            cls = float(ann["category_id"] - 1)  # (a class beyond float64 stops '%g' as it stops float())
    except Exception:  # the converter stops on the same record
        return None
    if box.shape != (4,) or box[2] <= 0 or box[3] <= 0:  # (NaN is not <= 0: written)
        return None
    x, y, w, h = (float(v) for v in box)
    return int(image_id), cls, x, y, w, h


def _check_one(ann: dict[str, Any], k: int, raw: RawBoxes, ex: Exclusions, pending: list[_Pending]) -> None:
    aid = ann.get("id")
    where = f"annotations[{k}]"
    if _is_id(aid):  # under strict, the place too: an id can be that of several records (the toolkits take the last)
        where = f"annotation id {aid} ({where})" if ex.strict else f"annotation id {aid}"
    for key in ("id", "image_id", "category_id"):
        if not _is_id(ann.get(key)):
            ex.add(MALFORMED_RECORD, where, _id_problem(key, ann.get(key)))
            return
    crowd = ann.get("iscrowd", 0)
    if crowd not in (0, 1) or type(crowd) not in (int, bool, float):  # 0.0 and 1.0: pycocotools' truth test
        ex.add(MALFORMED_RECORD, where, f"expected 'iscrowd' 0 or 1, got {described(crowd, 60)}")
        return
    area = ann.get("area")
    if area is not None and not (finite(area) and area >= 0):
        ex.add(MALFORMED_RECORD, where, f"expected 'area' to be a finite number >= 0, got {described(area, 60)}")
        return
    bbox = ann.get("bbox")
    if bbox is None:
        seg = ann.get("segmentation")
        if isinstance(seg, (list, dict)) and seg:
            shadow = -1
            if raw.shadows is not None:  # (a shadow until its box is made)
                shadow = len(raw.shadows)
                raw.shadows.append(Shadow(len(raw.ann_id), ann["id"], _toolkit_keys(ann)))
            pending.append((where, ann, len(raw.ann_id), shadow))  # its box comes once the images are read
            return
        got = "neither" if seg is None else f"no 'bbox' and 'segmentation' {described(seg, 60)}"
        ex.add(BBOX_INVALID, where, f"expected a 'bbox' (or a 'segmentation' to derive it from), got {got}")
        return
    if type(bbox) is not list or len(bbox) != 4 or not all(finite(v) for v in bbox):
        ex.add(BBOX_INVALID, where, f"expected 'bbox' to be four finite numbers, got {described(bbox, 60)}")
        return
    _add(raw, ann, where, [float(v) for v in bbox], ex)


def _add(raw: RawBoxes, ann: dict[str, Any], where: str, box: list[float], ex: Exclusions) -> None:
    if not (box[2] > 0 and box[3] > 0):
        ex.add(BBOX_NONPOSITIVE, where, f"expected bbox width and height > 0, got {described(box, 60)}")
        return
    area = ann.get("area")
    for key in ("bbox", "iscrowd", "area"):  # (a toolkit can stop on the record: see RawBoxes.absent)
        if key not in ann:
            raw.absent[key] += 1
    raw.add(
        ann["id"], ann["image_id"], ann["category_id"], (box[0], box[1], box[2], box[3]),
        float(area) if area is not None else box[2] * box[3], bool(ann.get("iscrowd", 0)),
        ignore=bool(ann.get("ignore", False)),
    )  # fmt: skip


_Pending = tuple[str, dict[str, Any], int, int]
"""An annotation whose box comes from its mask: where it is, the record, the row it belongs at (file order), and
its place in ``raw.shadows`` (-1: none kept)."""


def _boxes_from_masks(pending: list[_Pending], raw: RawBoxes, ex: Exclusions, handed_over: int) -> None:
    """Boxes for annotations that have a segmentation but no bbox, from the mask via pycocotools, each row put
    back in its place in the file's order among the rows ``raw`` holds (the duplicate-id check keeps the first in
    the file); ``handed_over`` rows have been taken out already: those that came before some of them are put
    first, and ``raw.late`` says how many they are."""
    from pycocotools import mask as mask_utils

    start = len(raw.ann_id)
    places: list[int] = []
    made: set[int] = set()  # the shadows of the records that became rows
    rasterised = 0.0  # the edges of the polygons handed to pycocotools so far
    for where, ann, place, shadow in pending:
        seg = ann["segmentation"]
        image = raw.images.get(ann["image_id"])
        if image is None:  # as a record with a bbox would be counted
            ex.add(UNKNOWN_IMAGE, where, f"image_id {ann['image_id']} is not among the file's images")
            continue
        problem = _segmentation_problem(seg, image)
        if problem is None and isinstance(seg, list) and not (math.isfinite(image[1]) and math.isfinite(image[2])):
            problem = "a polygon needs the image's width and height"
        if problem is None and isinstance(seg, list):
            rasterised += edges(seg)
            if rasterised > MAX_FILE_PERIMETER:  # the file's polygons together: each costs pycocotools its edges
                problem = (
                    f"the file's polygons before it already run {rasterised - edges(seg):,.0f} pixels of edges, "
                    f"and pycocotools rasterises at most {MAX_FILE_PERIMETER:,} for a file in bounded time"
                )
                rasterised -= edges(seg)
        if problem is not None:
            ex.add(BBOX_INVALID, where, f"no 'bbox', and {problem}")
            continue
        try:
            if isinstance(seg, list):
                rle = mask_utils.merge(mask_utils.frPyObjects(seg, int(image[2]), int(image[1])))
            elif isinstance(seg.get("counts"), list):
                rle = mask_utils.frPyObjects(seg, *seg["size"])
            else:
                rle = seg
            box = [float(v) for v in mask_utils.toBbox(rle)]
        except Exception as exc:  # pycocotools raises bare Exception ("input type is not supported") too
            ex.add(BBOX_INVALID, where, f"no 'bbox', and the segmentation is not a valid mask ({exc})")
            continue
        before = len(raw.ann_id)
        _add(raw, ann, where, box, ex)
        places += [place - handed_over] * (len(raw.ann_id) - before)
        if len(raw.ann_id) > before:
            made.add(shadow)
    raw.late = sum(p < 0 for p in places)
    if raw.shadows and made:  # the rows now put among the others come before the later shadows
        shadows, shift = [], 0
        for k, s in enumerate(raw.shadows):
            if k in made:
                shift += 1
            else:
                shadows.append(Shadow(s.before + shift, s.ann_id, s.record))
        raw.shadows = shadows
    if places:
        _in_file_order(raw, start, [max(p, 0) for p in places])


def _in_file_order(raw: RawBoxes, start: int, places: list[int]) -> None:
    """Move the rows from ``start`` on (in file order among themselves) to ``places`` among the rows before
    ``start``: row ``places[j]`` of those is the first that came after row ``start + j`` in the file."""
    import numpy as np

    if all(p == start for p in places):
        return  # every such record came after the others

    rank = np.r_[2 * np.arange(start, dtype=np.int64) + 1, 2 * np.asarray(places, dtype=np.int64)]
    order = np.argsort(rank, kind="stable")
    for name in _COLUMNS:
        column = getattr(raw, name)
        view = column.buffer()
        values = np.frombuffer(view, dtype=np.dtype(column.typecode))[order]
        view.release()
        column.release()
        column.frombytes(values.tobytes())


POLYGON_REACH = 4
MAX_POLYGON_POINTS = 50_000
MAX_POLYGON_PERIMETER = 1 << 22
MAX_FILE_PERIMETER = 1 << 26
"""The edges all the polygons of a file without boxes may run (about 60 records at the one-record bound): 100 of
those took 30 s."""
"""The longest the edges of one annotation's polygons may run (in pixels along the longer axis of each edge, the
points pycocotools makes of it, five times upsampled): a 20,000-pixel zig-zag of 5,000 vertices (10^8 pixels)
crashed it (SIGSEGV) and a square around a 16777216-pixel image took 3 GB; a polygon around a whole 20000x20000
aerial tile runs 80,000."""
"""The most polygon vertices of one annotation handed to pycocotools, which rasterises every edge: 100,000 took
1.25 GB, 400,000 crashed the process (SIGSEGV)."""
"""A polygon vertex may lie at most this many image sides outside its image: pycocotools rasterises a polygon
edge point by point, so a vertex at 1e9 would exhaust memory before any box comes out."""


def edges(seg: list[Any]) -> float:
    """How far the edges of polygons (checked lists of x, y pairs) run, each along its longer axis: the points
    pycocotools makes of them (five times upsampled)."""
    total = 0.0
    for poly in seg:
        xs, ys = poly[0::2], poly[1::2]
        total += sum(max(abs(xs[k] - xs[k - 1]), abs(ys[k] - ys[k - 1])) for k in range(len(xs)))  # (0: closing)
    return total


def _segmentation_problem(seg: Any, image: tuple[str, float, float] | None) -> str | None:
    """Why pycocotools must not be given ``seg`` (a polygon list or an RLE dict), or None: polygon coordinates
    that are not finite numbers or lie far outside the image, an RLE size that is not the image's (COCO stores
    masks at the image's size), uncompressed counts that are not non-negative integers adding up to h * w."""
    known = image is not None and math.isfinite(image[1]) and math.isfinite(image[2])
    if isinstance(seg, list):
        if not known:
            return None  # the caller says a polygon needs the image's size
        assert image is not None
        reach = POLYGON_REACH * max(image[1], image[2])
        points = sum(len(poly) // 2 for poly in seg if isinstance(poly, list))
        if points > MAX_POLYGON_POINTS:
            return (
                f"its polygons have {points:,} points, more than the {MAX_POLYGON_POINTS:,} pycocotools can "
                "rasterise in bounded memory"
            )
        for poly in seg:
            if not isinstance(poly, list) or len(poly) < 6 or len(poly) % 2:
                return f"a polygon must be a list of at least 3 x, y pairs, got {described(poly, 60)}"
            if not all(finite(v) and abs(v) <= reach for v in poly):
                return (
                    f"a polygon coordinate is not a finite number within {POLYGON_REACH} image sides of its "
                    f"{int(image[1])}x{int(image[2])} image"
                )
        perimeter = edges(seg)
        if perimeter > MAX_POLYGON_PERIMETER:
            return (
                f"its polygons' edges run {perimeter:,.0f} pixels, more than the {MAX_POLYGON_PERIMETER:,} "
                "pycocotools can rasterise in bounded memory"
            )
        return None
    if not isinstance(seg, dict):
        return None  # pycocotools' own error says what it got
    size = seg.get("size")
    if not (isinstance(size, list) and len(size) == 2 and all(type(v) is int and 0 < v <= 1 << 24 for v in size)):
        return f"an RLE 'size' must be [height, width] as positive integers, got {described(size, 60)}"
    if known:
        assert image is not None
        if size != [int(image[2]), int(image[1])]:
            return f"an RLE 'size' {size} is not its image's [height, width] [{int(image[2])}, {int(image[1])}]"
    counts = seg.get("counts")
    if isinstance(counts, list):
        if not all(type(v) is int and v >= 0 for v in counts) or sum(counts) != size[0] * size[1]:
            return f"uncompressed RLE 'counts' must be non-negative integers adding up to {size[0] * size[1]}"
    elif not isinstance(counts, str):
        return f"RLE 'counts' must be a list or a string, got {described(counts, 60)}"
    else:
        runs = _compressed_counts(counts)
        if runs is None or min(runs, default=0) < 0 or sum(runs) != size[0] * size[1]:
            return f"compressed RLE 'counts' do not decode to runs adding up to {size[0] * size[1]}"
    return None


def _compressed_counts(text: str) -> list[int] | None:
    """The runs of COCO's compressed RLE string (six bits a character from '0', five of value, the sixth
    continuing; a set fifth bit in the last character of a number makes it negative; from the third run on, each
    is a difference to the run two before), or None when the string is not such an encoding."""
    runs: list[int] = []
    pos = 0
    while pos < len(text):
        value, shift, more = 0, 0, True
        while more:
            if pos >= len(text):
                return None
            c = ord(text[pos]) - 48
            if not 0 <= c < 64:
                return None
            value |= (c & 0x1F) << shift
            more = bool(c & 0x20)
            pos += 1
            shift += 5
            if more and shift >= 60:  # a run beyond 2^55, far past any image's 2^48 pixels: pycocotools' 64-bit
                return None  # number would overflow (and a long run of continuations grew one number quadratically)
            if not more and c & 0x10:
                value |= -1 << shift
        if len(runs) > 2:
            value += runs[-2]
        runs.append(value)
    return runs
