"""Statistics of a box table: counts, COCO size classes, input-pixel size quantiles, per category.

Everything here is computed from a :class:`~scalematch.dataset.loader.LoadResult`, or from a file's columns without
the table, through a :class:`Partial` (what the statistics need, mergeable: several inputs give one dataset's
statistics exactly, see :func:`merge`), and returned as plain JSON-ready data (the ``scalematch stats --json``
schema, documented in docs/reference/dataset.md).

Size classes follow pycocotools' COCOeval exactly: an object is in a class when ``lo <= area <= hi`` with
(lo, hi) = (0, 32**2), (32**2, 96**2), (96**2, 1e10), on the annotation's ``area``, for non-crowd objects.
Both ends are inclusive, so an area of exactly 1024 or 9216 counts in two classes, as in COCOeval.
Quantiles use numpy's default (linear) method. Crowd objects are left out of every size statistic.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scalematch.dataset.resize import DEFAULT_POLICY, ResizePolicy
from scalematch.errors import DatasetError, OptionError

if TYPE_CHECKING:
    import numpy as np

    from scalematch.dataset.loader import LoadResult

AREA_RANGES = {"small": (0.0, 32.0**2), "medium": (32.0**2, 96.0**2), "large": (96.0**2, 1e10)}
QUANTILES = (("q05", 0.05), ("q25", 0.25), ("q50", 0.5), ("q75", 0.75), ("q95", 0.95))
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


def summarize(result: LoadResult) -> dict[str, Any]:
    """The statistics of a loaded dataset as the documented JSON object."""
    from scalematch._args import expect
    from scalematch.dataset.loader import LoadResult

    expect(result, "result", LoadResult, "a LoadResult (read_annotations or from_frame makes one from a DataFrame)")
    return summary(table_partial(result))


def table_partial(result: LoadResult) -> Partial:
    """The mergeable :class:`Partial` of a loaded dataset's box table."""
    table = result.table
    crowd = table["iscrowd"].to_numpy()
    names = [n for n in _COLUMNS if n in table.columns]
    objects = {name: table[name].to_numpy()[~crowd] for name in names}
    meta = (result.source, result.format, result.resize, result.images, result.categories, result.excluded)
    return _partial(*meta, objects, table["category_id"].to_numpy()[crowd])


def summarize_file(
    path: str | Path,
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
    path: str | Path,
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

    from scalematch.dataset.loader import read_raw
    from scalematch.dataset.resize import input_columns, needs_image_size, parse_policy
    from scalematch.dataset.table import check, text_of

    policy = parse_policy(resize)
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
    n = int(use.sum())
    source = {
        "w": np.frombuffer(raw.w.buffer(), dtype=np.float64),
        "h": np.frombuffer(raw.h.buffer(), dtype=np.float64),
        "image_id": np.frombuffer(raw.image_id.buffer(), dtype=np.int64),
        "category_id": category,
        "area": np.frombuffer(raw.area.buffer(), dtype=np.float64),
    }
    columns: dict[str, np.ndarray] = {}
    done = 0
    for start in range(0, len(use), _CHUNK):
        rows = use[start : start + _CHUNK]
        part = {name: values[start : start + _CHUNK][rows] for name, values in source.items()}
        image = kept.pos[start : start + _CHUNK][rows]
        part |= input_columns(policy, kept.image_w, kept.image_h, part["w"], part["h"], _COLUMNS, image)
        for name in _COLUMNS:
            if name in part:
                out = columns.setdefault(name, np.empty(n, dtype=part[name].dtype))
                out[done : done + len(image)] = part[name]
        done += len(image)
    if not columns:  # no rows at all
        columns = input_columns(policy, kept.image_w, kept.image_h, source["w"], source["h"], _COLUMNS, kept.pos)
        columns |= {name: source[name] for name in ("image_id", "category_id", "area")}
    categories = {k: text_of(v) for k, v in raw.categories.items()}
    meta = (str(path), fmt, str(policy), len(raw.images), categories, exclusions.as_dict())
    return _partial(*meta, columns, crowd_category)


_CHUNK = 1 << 18
_COLUMNS = ("image_id", "category_id", "area", "size_in", "size_in_hi", "w_in", "h_in", "aspect")


@dataclass(frozen=True)
class Partial:
    """The statistics of one input (or of several, merged) before they are summed up: small, picklable, and
    merged exactly by :func:`merge` (``summary(merge([partial(a), partial(b)]))`` is the summary of a and b read
    as one dataset).

    ``objects`` holds the non-crowd objects' columns that the quantiles need, exactly (float64): ``size_in``
    (and ``size_in_hi``), ``w_in``, ``h_in``, ``aspect``, plus ``category_id`` and ``size_class`` (bit k set when
    the object's ``area`` is in COCO size class k; classes overlap at their ends). ``per_image`` is the number of
    non-crowd objects of each image that has one; ``crowd_category`` the category id of each crowd object.
    """

    source: str
    format: str
    resize: str
    images: int
    categories: dict[int, str]
    excluded: dict[str, int]
    objects: dict[str, np.ndarray]
    per_image: np.ndarray
    crowd_category: np.ndarray


def summary(part: Partial) -> dict[str, Any]:
    """The ``scalematch stats --json`` object of a :class:`Partial`."""
    return _summary(part)


def merge(parts: Sequence[Partial], source: str) -> Partial:
    """One :class:`Partial` of several inputs read as one dataset, named ``source``; they must share a format and
    a resize policy. Images are per input (the same image id in two inputs names two images). Categories are
    joined by id and must agree on their names; VOC numbers its categories by name in order of first appearance,
    so their ids are given again in that order over all inputs."""
    import numpy as np

    if not parts:
        raise OptionError("annotations: expected at least one input, got none")
    first = parts[0]
    categories: dict[int, str] = {}
    seen: dict[int, str] = {}  # category id -> the input that named it first
    objects: dict[str, list[np.ndarray]] = {name: [] for name in first.objects}
    crowd: list[np.ndarray] = []
    excluded: Counter[str] = Counter()
    for part in parts:
        if (part.format, part.resize) != (first.format, first.resize):
            raise OptionError(
                f"{part.source}: read as {part.format} at resize {part.resize}, but {first.source} as "
                f"{first.format} at resize {first.resize}; the inputs of one dataset share a format and a resize"
            )
        own = dict(part.categories)
        if part.format == "voc":  # ids by name, in order of first appearance over all inputs
            ids = {name: cid for cid, name in categories.items()}
            lookup = np.zeros(max(own, default=0) + 1, dtype=np.int64)
            for cid, name in sorted(own.items()):
                lookup[cid] = ids.setdefault(name, len(ids) + 1)
            categories = {cid: name for name, cid in ids.items()}
            objects["category_id"].append(lookup[part.objects["category_id"]])
            crowd.append(lookup[part.crowd_category])
        else:
            for cid, name in own.items():
                if categories.setdefault(cid, name) != name:
                    unnamed = [s for s, n in ((part.source, name), (seen[cid], categories[cid])) if n == str(cid)]
                    hint = (
                        f" ({unnamed[0]} names its classes by number: give it the names of the other, in a "
                        "data.yaml or classes.txt)"
                        if part.format == "yolo" and unnamed
                        else ""
                    )
                    raise DatasetError(
                        f"{part.source}: category {cid} is named {name!r}, but {categories[cid]!r} in {seen[cid]}; "
                        f"the inputs must agree on their categories{hint}"
                    )
                seen.setdefault(cid, part.source)
            objects["category_id"].append(part.objects["category_id"])
            crowd.append(part.crowd_category)
        for name, values in part.objects.items():
            if name != "category_id":
                objects[name].append(values)
        excluded.update(part.excluded)
    return Partial(
        source, first.format, first.resize, sum(p.images for p in parts), categories,
        {r: excluded[r] for r in sorted(excluded) if excluded[r]},
        {name: np.concatenate(values) for name, values in objects.items()},
        np.concatenate([p.per_image for p in parts]), np.concatenate(crowd),
    )  # fmt: skip


def _partial(
    source: str, format: str, resize: str, images: int, categories: dict[int, str], excluded: dict[str, int],
    columns: dict[str, np.ndarray], crowd_category: np.ndarray,
) -> Partial:  # fmt: skip
    """A :class:`Partial` from the non-crowd objects' columns (``image_id`` and ``area`` among them)."""
    import numpy as np

    objects = {name: values for name, values in columns.items() if name not in ("image_id", "area")}
    area = columns["area"]
    bits = np.zeros(len(area), dtype=np.uint8)
    for k, (lo, hi) in enumerate(AREA_RANGES.values()):
        bits |= ((area >= lo) & (area <= hi)).astype(np.uint8) << k
    objects["size_class"] = bits
    per_image = np.unique(columns["image_id"], return_counts=True)[1].astype(np.int64)
    return Partial(source, format, resize, images, dict(categories), dict(excluded), objects, per_image, crowd_category)


def _group(columns: dict[str, np.ndarray], rows: Any) -> dict[str, Any]:
    bits = columns["size_class"][rows]
    out: dict[str, Any] = {
        "size_classes": {name: int(((bits >> k) & 1).sum()) for k, name in enumerate(AREA_RANGES)},
        "size_in": quantiles(columns["size_in"][rows]),
    }
    if "size_in_hi" in columns:
        out["size_in_hi"] = quantiles(columns["size_in_hi"][rows])
    return out


def _summary(part: Partial) -> dict[str, Any]:
    """The statistics from the non-crowd objects' columns and the crowd objects' category ids."""
    import numpy as np

    objects, crowd_category, images, categories = part.objects, part.crowd_category, part.images, part.categories
    size_in = objects["size_in"]
    per_image = part.per_image
    zeros = max(images - len(per_image), 0)
    counts = np.concatenate([per_image, np.zeros(zeros, dtype=per_image.dtype)])
    out: dict[str, Any] = {
        "source": part.source,
        "format": part.format,
        "resize": part.resize,
        "images": images,
        "annotations": len(size_in),
        "crowd": len(crowd_category),
        "categories": len(categories),
        "excluded": dict(part.excluded),
        **_group(objects, slice(None)),
        "w_in": quantiles(objects["w_in"]),
        "h_in": quantiles(objects["h_in"]),
        "aspect": quantiles(objects["aspect"]),
        "objects_per_image": {
            "mean": float(counts.mean()) if len(counts) else None,
            "min": int(counts.min()) if len(counts) else None,
            "q50": float(np.quantile(counts, 0.5)) if len(counts) else None,
            "max": int(counts.max()) if len(counts) else None,
        },
        "images_without_objects": int((counts == 0).sum()),
        "size_in_below_8": int((size_in < TINY_INPUT_PX).sum()),
    }
    category = objects["category_id"]
    ids, n = np.unique(category, return_counts=True)
    small = len(ids) > 0 and ids[0] >= 0 and ids[-1] <= 0xFFFF  # then a stable sort of 16-bit keys (radix)
    order = np.argsort(category.astype(np.uint16) if small else category, kind="stable")
    crowd_ids, crowd_n = np.unique(crowd_category, return_counts=True)
    crowd_by_id = dict(zip(crowd_ids.tolist(), crowd_n.tolist(), strict=True))
    starts = dict(zip(ids.tolist(), (np.cumsum(n) - n).tolist(), strict=True))
    sizes = dict(zip(ids.tolist(), n.tolist(), strict=True))
    per_category = []
    for cid, name in sorted(categories.items()):
        start = starts.get(cid, 0)
        rows = order[start : start + sizes.get(cid, 0)]
        per_category.append(
            {"id": cid, "name": name, "annotations": len(rows), "crowd": int(crowd_by_id.get(cid, 0)),
             **_group(objects, rows)}
        )  # fmt: skip
    out["per_category"] = per_category
    return out
