"""Statistics of a box table: counts, COCO size classes, input-pixel size quantiles, per category.

Everything here is computed from a :class:`~scalematch.dataset.loader.LoadResult`, or from a file's columns without
the table, through a :class:`Partial` (what the statistics need, mergeable: several inputs give one dataset's
statistics exactly, see :func:`merge`), and returned as plain JSON-ready data (the ``scalematch stats --json``
schema, documented in docs/reference/dataset.md).

Size classes follow pycocotools' COCOeval exactly: an object is in a class when ``lo <= area <= hi`` with
(lo, hi) = (0, 32**2), (32**2, 96**2), (96**2, 1e10), on the annotation's ``area``, for non-crowd objects.
Both ends are inclusive, so an area of exactly 1024 or 9216 counts in two classes, as in COCOeval.
Quantiles use numpy's default (linear) method, exactly for up to 4,096 values, within 2**-8 beyond
(:mod:`scalematch.dataset.sketch`). Crowd objects are left out of every size statistic.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scalematch._args import given_path
from scalematch.dataset.resize import DEFAULT_POLICY, ResizePolicy
from scalematch.errors import DatasetError, OptionError

if TYPE_CHECKING:
    import numpy as np

    from scalematch.dataset.loader import LoadResult
    from scalematch.dataset.sketch import Sketch

AREA_RANGES = {"small": (0.0, 32.0**2), "medium": (32.0**2, 96.0**2), "large": (96.0**2, 1e10)}
QUANTILES = (("q05", 0.05), ("q25", 0.25), ("q50", 0.5), ("q75", 0.75), ("q95", 0.95))
_Q = (0.0, *(q for _, q in QUANTILES), 1.0)
TINY_INPUT_PX = 8.0


def size_classes(area: np.ndarray) -> dict[str, int]:
    """Counts per COCO size class (COCOeval's inclusive ranges) of the given areas."""
    return {name: int(((area >= lo) & (area <= hi)).sum()) for name, (lo, hi) in AREA_RANGES.items()}


def quantiles(values: np.ndarray) -> dict[str, float | None]:
    """min, q05, q25, q50, q75, q95, max (numpy linear method); all None for no values."""
    import numpy as np

    keys = ["min", *(k for k, _ in QUANTILES), "max"]
    if len(values) == 0:
        return dict.fromkeys(keys)
    qs = np.quantile(values, [0.0, *(q for _, q in QUANTILES), 1.0])
    return {k: float(v) for k, v in zip(keys, qs, strict=True)}


def sorted_quantiles(values: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The rows of :func:`quantiles` (min, q05, ..., max; NaN where a group is empty) of groups of ``values``:
    group k is ``values[starts[k] : starts[k] + counts[k]]``, sorted ascending (NaN last). Bit for bit numpy's
    ``np.quantile`` (linear method) of each group, a NaN in a group making its whole row NaN as there, without the
    partition that ``np.quantile`` runs on every call: one sort of the values serves every group and quantile."""
    import numpy as np

    from scalematch.dataset.sketch import linear_steps, linear_values

    q = np.array([0.0, *(q for _, q in QUANTILES), 1.0])
    out = np.full((len(counts), len(q)), np.nan)
    full = np.flatnonzero(counts > 0)
    n = counts[full].astype(np.int64)[:, None]
    first = starts[full].astype(np.int64)[:, None]
    previous, following, gamma = linear_steps(n, q)
    last = first + n - 1
    a = values[np.where(previous < 0, last, first + previous)]
    b = values[np.where(following < 0, last, first + following)]
    rows = linear_values(a, b, gamma)
    if values.dtype.kind == "f":
        tail = values[last[:, 0]]
        nan = np.isnan(tail)
        rows[nan] = tail[nan, None]
    out[full] = rows
    return out


def _quantile_row(row: np.ndarray, count: int) -> dict[str, float | None]:
    """A row of :func:`sorted_quantiles` as :func:`quantiles` gives it (all None for no values)."""
    keys = ["min", *(k for k, _ in QUANTILES), "max"]
    return dict.fromkeys(keys) if count == 0 else dict(zip(keys, row.tolist(), strict=True))


def summarize(result: LoadResult) -> dict[str, Any]:
    """The statistics of a loaded dataset as the documented JSON object."""
    from scalematch._args import expect
    from scalematch.dataset.loader import LoadResult, as_load_result

    expect(result, "result", LoadResult, "a LoadResult (read_annotations or from_frame makes one from a DataFrame)")
    return summary(table_partial(as_load_result(result)))


def table_partial(result: LoadResult) -> Partial:
    """The mergeable :class:`Partial` of a loaded dataset's box table."""
    import numpy as np

    table = result.table
    crowd = table["iscrowd"].to_numpy()
    names = [n for n in COLUMNS if n in table.columns]
    objects = {name: table[name].to_numpy()[~crowd] for name in names}
    meta = (result.source, result.format, result.resize, result.images, result.categories, result.excluded)
    image_ids, image = np.unique(objects["image_id"], return_inverse=True)
    fold = Fold(len(image_ids))
    fold.add(objects, image.reshape(-1))
    return fold.partial(*meta, table["category_id"].to_numpy()[crowd], result.unnamed)


def summarize_file(
    path: str | os.PathLike[str],
    format: str | None = None,
    resize: str | ResizePolicy = DEFAULT_POLICY,
    *,
    strict: bool = False,
    split: str | None = None,
    image_size: tuple[int, int] | None = None,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
) -> dict[str, Any]:
    """``summarize(load(path, ...))`` without building the box table: the same object, from the reader's
    columns and the few input-pixel columns the statistics need, computed a chunk of rows at a time
    (arguments as :func:`load`)."""
    return summary(file_partial(path, format, resize, strict, split, image_size, progress, workers))


def file_partial(
    path: str | os.PathLike[str],
    format: str | None = None,
    resize: str | ResizePolicy = DEFAULT_POLICY,
    strict: bool = False,
    split: str | None = None,
    image_size: tuple[int, int] | None = None,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
) -> Partial:
    """The mergeable :class:`Partial` of one input, read without building the box table (see
    :func:`summarize_file`)."""
    import numpy as np

    from scalematch._text import text_of
    from scalematch.dataset.loader import read_raw
    from scalematch.dataset.resize import input_columns, needs_image_size, parse_policy
    from scalematch.dataset.streaming import Stream
    from scalematch.dataset.table import check

    path = given_path(path, "path")  # its text names the dataset (source), as the command line shows it
    policy = parse_policy(resize)
    stream = None if strict else Stream(policy, needs_image_size(policy))
    drain = None if stream is None else stream.drain
    raw, exclusions, record, fmt = read_raw(path, format, policy, strict, split, image_size, progress, workers, drain)
    if fmt == "coco" and stream is not None:
        done = stream.partial(raw, exclusions, path)
        if done is not None:
            return done
        del raw, stream  # an object of a category the file does not list: the checks on the whole table name it
        raw, exclusions, record, fmt = read_raw(path, format, policy, strict, split, image_size, progress, workers)
    kept = check(raw, exclusions, needs_image_size(policy), record)
    for name in ("ann_id", "x", "y", "difficult", "truncated", "ignore"):
        getattr(raw, name).release()  # only the checks needed these
    keep = np.zeros(len(kept.pos), dtype=bool)
    keep[kept.sel] = True
    crowd = np.frombuffer(raw.iscrowd.buffer(), dtype=np.int8) != 0
    category = np.frombuffer(raw.category_id.buffer(), dtype=np.int64)
    crowd_category = category[keep & crowd]
    use = keep & ~crowd
    del keep, crowd
    source = {
        "w": np.frombuffer(raw.w.buffer(), dtype=np.float64),
        "h": np.frombuffer(raw.h.buffer(), dtype=np.float64),
        "image_id": np.frombuffer(raw.image_id.buffer(), dtype=np.int64),
        "category_id": category,
        "area": np.frombuffer(raw.area.buffer(), dtype=np.float64),
    }
    fold = Fold(len(kept.image_w))
    for start in range(0, max(len(use), 1), _CHUNK):  # (no rows at all: one empty chunk, for the columns' names)
        rows = use[start : start + _CHUNK]
        part = {name: values[start : start + _CHUNK][rows] for name, values in source.items()}
        image = kept.pos[start : start + _CHUNK][rows]
        part |= input_columns(policy, kept.image_w, kept.image_h, part["w"], part["h"], COLUMNS, image)
        fold.add(part, image)
    categories = {k: text_of(v) for k, v in raw.categories.items()}
    unnamed = frozenset(raw.unnamed)
    meta = (str(path), fmt, str(policy), len(raw.images), categories, exclusions.as_dict())
    del source, category, use, kept  # views of the reader's columns: once gone, the columns can go back
    for name in ("image_id", "category_id", "w", "h", "area", "iscrowd"):
        getattr(raw, name).release()
    del raw
    return fold.partial(*meta, crowd_category, unnamed)


_CHUNK = 1 << 18
FOLD = 1 << 16
COLUMNS = ("image_id", "category_id", "area", "size_in", "size_in_hi", "w_in", "h_in", "aspect")


@dataclass(frozen=True)
class Partial:
    """The statistics of one input (or of several, merged) before they are summed up: small, picklable, and
    merged exactly by :func:`merge` (``summary(merge([partial(a), partial(b)]))`` is the summary of a and b read
    as one dataset). Whatever merges by adding up is counted already; the values the quantiles need are kept as
    :class:`~scalematch.dataset.sketch.Sketch` es (exact for up to 4,096 values, within 2**-8 beyond; bounded).

    Of the non-crowd objects: ``category_ids`` are their distinct category ids (int64, ascending), ``counts`` the
    number of objects of each and ``size_classes`` (one row per category id, a column per COCO size class in the
    order of :data:`AREA_RANGES`; classes overlap at their ends) the objects in each class by their ``area``.
    ``by_category`` sketches ``size_in`` (and ``size_in_hi``) with a group per row of ``category_ids``;
    ``values`` sketches ``w_in``, ``h_in`` and ``aspect`` in one group. ``below_8`` counts those whose
    ``size_in`` is below 8 input pixels, ``per_image`` maps a number of objects k >= 1 to the number of images
    that have k. ``crowd_category`` is the category id of each crowd object.
    """

    source: str
    format: str
    resize: str | None
    images: int
    categories: dict[int, str]
    excluded: dict[str, int]
    category_ids: np.ndarray
    counts: np.ndarray
    size_classes: np.ndarray
    by_category: dict[str, Sketch]
    values: dict[str, Sketch]
    below_8: int
    per_image: dict[int, int]
    crowd_category: np.ndarray
    unnamed: frozenset[int] = frozenset()
    """The categories no input gives a name (their id stands in, see :attr:`LoadResult.unnamed
    <scalematch.dataset.loader.LoadResult.unnamed>`)."""


def summary(part: Partial) -> dict[str, Any]:
    """The ``scalematch stats --json`` object of a :class:`Partial`."""
    return _summary(part)


def merge(parts: Sequence[Partial], source: str) -> Partial:
    """One :class:`Partial` of several inputs read as one dataset, named ``source``; they must share a format and
    a resize policy. Images are per input (the same image id in two inputs names two images). Categories are
    joined by id and must agree on their names, a category an input gives no name (:attr:`Partial.unnamed`) taking
    the name another gives it; VOC numbers its categories by name in order of first appearance,
    so their ids are given again in that order over all inputs."""
    import numpy as np

    if not parts:
        raise OptionError("annotations: expected at least one input, got none")
    first = parts[0]
    categories: dict[int, str] = {}
    seen: dict[int, str] = {}  # category id -> the input that named it first
    blank: dict[int, str] = {}  # category id -> the first input that gives it no name
    ids: list[np.ndarray] = []
    crowd: list[np.ndarray] = []
    excluded: Counter[str] = Counter()
    per_image: Counter[int] = Counter()
    for part in parts:
        if (part.format, part.resize) != (first.format, first.resize):
            raise OptionError(
                f"{part.source}: read as {part.format} at resize {part.resize}, but {first.source} as "
                f"{first.format} at resize {first.resize}; the inputs of one dataset share a format and a resize"
            )
        own = dict(part.categories)
        if part.format == "voc":  # ids by name, in order of first appearance over all inputs
            by_name = {name: cid for cid, name in categories.items()}
            lookup = np.zeros(max(own, default=0) + 1, dtype=np.int64)
            for cid, name in sorted(own.items()):
                lookup[cid] = by_name.setdefault(name, len(by_name) + 1)
            categories = {cid: name for name, cid in by_name.items()}
            ids.append(lookup[part.category_ids])
            crowd.append(lookup[part.crowd_category])
        else:
            for cid, name in own.items():
                if cid in part.unnamed:  # no name: its id stands in until an input names it
                    if part.format == "yolo" and cid in seen:
                        raise _disagree(part.source, cid, None, categories[cid], seen[cid], part.source)
                    categories.setdefault(cid, name)
                    blank.setdefault(cid, part.source)
                elif cid not in seen:  # the first input that names it
                    if part.format == "yolo" and cid in blank:
                        raise _disagree(part.source, cid, name, None, blank[cid], blank[cid])
                    categories[cid], seen[cid] = name, part.source
                elif categories[cid] != name:
                    raise _disagree(part.source, cid, name, categories[cid], seen[cid], None)
            ids.append(part.category_ids)
            crowd.append(part.crowd_category)
        excluded.update(part.excluded)
        per_image.update(part.per_image)
    from scalematch.dataset import sketch

    merged, group = np.unique(np.concatenate(ids), return_inverse=True)
    group = group.reshape(-1)
    counts = np.zeros(len(merged), dtype=np.int64)
    np.add.at(counts, group, np.concatenate([p.counts for p in parts]))
    classes = np.zeros((len(merged), len(AREA_RANGES)), dtype=np.int64)
    np.add.at(classes, group, np.concatenate([p.size_classes for p in parts]))
    into = np.split(group, np.cumsum([len(p.category_ids) for p in parts])[:-1])
    return Partial(
        source, first.format, first.resize, sum(p.images for p in parts), categories,
        {r: excluded[r] for r in sorted(excluded) if excluded[r]}, merged, counts, classes,
        {name: sketch.merge([p.by_category[name] for p in parts], into, len(merged)) for name in first.by_category},
        {name: sketch.merge([p.values[name] for p in parts]) for name in first.values},
        sum(p.below_8 for p in parts), dict(sorted(per_image.items())), np.concatenate(crowd),
        frozenset(cid for cid in categories if cid not in seen) if first.format != "voc" else frozenset(),
    )  # fmt: skip


def _disagree(
    source: str, cid: int, name: str | None, other: str | None, where: str, numbered: str | None
) -> DatasetError:
    """Input ``source`` names category ``cid`` ``name`` (None: gives it no name), input ``where`` ``other``; the
    YOLO input ``numbered`` names its classes by number only."""
    if name is None:
        here = f"has no name, but is named {other!r} in {where}"
    elif other is None:
        here = f"is named {name!r}, but has no name in {where}"
    else:
        here = f"is named {name!r}, but {other!r} in {where}"
    hint = (
        f" ({numbered} names its classes by number: give it the names of the other, in a data.yaml or classes.txt)"
        if numbered is not None
        else ""
    )
    return DatasetError(f"{source}: category {cid} {here}; the inputs must agree on their categories{hint}")


class Fold:
    """The statistics of non-crowd objects added a chunk at a time, in bounded memory (counts and sketches):
    categories by id as they come, images numbered 0 to ``images`` - 1."""

    def __init__(self, images: int) -> None:
        import numpy as np

        from scalematch.dataset import sketch

        self.ids: dict[int, int] = {}  # category id -> its group, in order of first appearance
        self.counts = np.zeros(0, dtype=np.int64)
        self.classes = np.zeros((0, len(AREA_RANGES)), dtype=np.int64)
        self.per_image = np.zeros(images, dtype=np.int32)  # objects of each image
        self.below = 0
        self.by_category: dict[str, Sketch] = {}
        self.values = {name: sketch.empty(1) for name in ("w_in", "h_in", "aspect")}
        self.pending: list[tuple[dict[str, np.ndarray], np.ndarray]] = []
        self.waiting = 0

    def add(self, columns: dict[str, np.ndarray], image: np.ndarray) -> None:
        """Objects' ``columns`` (``category_id``, ``area`` and the statistics' input-pixel columns); ``image`` is
        each one's image number. Small pieces wait until :data:`FOLD` objects are there, folded together."""
        self.pending.append((columns, image))
        self.waiting += len(image)
        if self.waiting >= FOLD:
            self._flush()

    def _flush(self) -> None:
        import numpy as np

        if not self.pending:
            return
        if len(self.pending) == 1:
            columns, image = self.pending[0]
        else:
            columns = {k: np.concatenate([c[k] for c, _ in self.pending]) for k in self.pending[0][0]}
            image = np.concatenate([i for _, i in self.pending])
        self.pending, self.waiting = [], 0
        self._fold(columns, image)

    def _fold(self, columns: dict[str, np.ndarray], image: np.ndarray) -> None:
        import numpy as np

        from scalematch.dataset import sketch

        uniq, inverse = np.unique(columns["category_id"], return_inverse=True)
        group = np.array([self.ids.setdefault(c, len(self.ids)) for c in uniq.tolist()], dtype=np.int64)
        group = group[inverse.reshape(-1)]
        groups = len(self.ids)
        grown = groups - len(self.counts)
        self.counts = np.r_[self.counts, np.zeros(grown, dtype=np.int64)] + np.bincount(group, minlength=groups)
        self.classes = np.r_[self.classes, np.zeros((grown, len(AREA_RANGES)), dtype=np.int64)]
        area = columns["area"]
        for k, (lo, hi) in enumerate(AREA_RANGES.values()):
            self.classes[:, k] += np.bincount(group[(area >= lo) & (area <= hi)], minlength=groups)
        for name in ("size_in", "size_in_hi"):
            if name in columns:
                before = self.by_category.get(name, sketch.empty(0))
                self.by_category[name] = sketch.add(before, columns[name], group, groups)
        for name, before in self.values.items():
            self.values[name] = sketch.add(before, columns[name])
        self.below += int((columns["size_in"] < TINY_INPUT_PX).sum())
        hit, times = np.unique(image, return_counts=True)  # (a bincount would be one count per image of the file)
        self.per_image[hit] += times

    def partial(
        self, source: str, format: str, resize: str | None, images: int, categories: dict[int, str],
        excluded: dict[str, int], crowd_category: np.ndarray, unnamed: frozenset[int] = frozenset(),
    ) -> Partial:  # fmt: skip
        """The :class:`Partial` of the objects added."""
        import numpy as np

        self._flush()

        ids = np.fromiter(self.ids, dtype=np.int64, count=len(self.ids))
        order = np.argsort(ids)
        into = np.empty(len(ids), dtype=np.int64)
        into[order] = np.arange(len(ids))
        by_category = {name: s.regrouped(into, len(ids)) for name, s in self.by_category.items()}
        objects, images_with = np.unique(self.per_image[self.per_image > 0], return_counts=True)
        per_image = dict(zip(objects.tolist(), images_with.tolist(), strict=True))
        return Partial(
            source, format, resize, images, dict(categories), dict(excluded), ids[order], self.counts[order],
            self.classes[order], by_category, self.values, self.below, per_image, crowd_category, unnamed,
        )  # fmt: skip


def _whole(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``starts`` and ``counts`` of :func:`sorted_quantiles` for one group of ``n`` values."""
    import numpy as np

    return np.zeros(1, dtype=np.int64), np.array([n], dtype=np.int64)


def _summary(part: Partial) -> dict[str, Any]:
    """The statistics of a :class:`Partial` (quantiles from its sketches)."""
    import numpy as np

    images, categories, counts = part.images, part.categories, part.counts
    total = int(counts.sum())
    from scalematch.dataset import sketch

    classes = part.size_classes.sum(axis=0)
    out: dict[str, Any] = {
        "source": part.source,
        "format": part.format,
        "resize": part.resize,
        "images": images,
        "annotations": total,
        "crowd": len(part.crowd_category),
        "categories": len(categories),
        "excluded": dict(part.excluded),
        "size_classes": {name: int(classes[k]) for k, name in enumerate(AREA_RANGES)},
    }
    per_category: dict[str, np.ndarray] = {}
    for name, values in part.by_category.items():
        per_category[name] = sketch.quantile_rows(values, np.array(_Q))
        overall = values.regrouped(np.zeros(values.groups, dtype=np.int64), 1)
        out[name] = _quantile_row(sketch.quantile_rows(overall, np.array(_Q))[0], total)
    for name, values in part.values.items():
        out[name] = _quantile_row(sketch.quantile_rows(values, np.array(_Q))[0], total)
    with_objects = sum(part.per_image.values())
    zeros = max(images - with_objects, 0)
    per_image = sorted({0: zeros, **part.per_image}.items() if zeros else part.per_image.items())
    n = with_objects + zeros
    objects = np.array([k for k, _ in per_image], dtype=np.int64)
    counted = np.repeat(objects, [v for _, v in per_image])  # each image's number of objects, ascending
    out["objects_per_image"] = {
        "mean": float(sum(k * v for k, v in per_image)) / n if n else None,
        "min": int(objects[0]) if n else None,
        "q50": float(sorted_quantiles(counted, *_whole(n))[0][3]) if n else None,
        "max": int(objects[-1]) if n else None,
    }
    out["images_without_objects"] = zeros
    out["size_in_below_8"] = part.below_8
    crowd_ids, crowd_n = np.unique(part.crowd_category, return_counts=True)
    crowd_by_id = dict(zip(crowd_ids.tolist(), crowd_n.tolist(), strict=True))
    row_of = {cid: k for k, cid in enumerate(part.category_ids.tolist())}
    rows = []
    for cid, name in sorted(categories.items()):
        k = row_of.get(cid)
        size = 0 if k is None else int(counts[k])
        group: dict[str, Any] = {
            "id": cid, "name": name, "annotations": size, "crowd": int(crowd_by_id.get(cid, 0)),
            "size_classes": {c: 0 if k is None else int(part.size_classes[k, j]) for j, c in enumerate(AREA_RANGES)},
        }  # fmt: skip
        for column, table in per_category.items():
            group[column] = _quantile_row(table[k] if k is not None else table[:0], size)
        rows.append(group)
    out["per_category"] = rows
    return out
