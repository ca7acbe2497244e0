"""Statistics of a box table: counts, COCO size classes, input-pixel size quantiles, per category.

Everything here is computed from a :class:`~scalematch.dataset.loader.LoadResult` and returned as plain
JSON-ready data (the ``scalematch stats --json`` schema, documented in docs/reference/dataset.md).

Size classes follow pycocotools' COCOeval exactly: an object is in a class when ``lo <= area <= hi`` with
(lo, hi) = (0, 32**2), (32**2, 96**2), (96**2, 1e10), on the annotation's ``area``, for non-crowd objects.
Both ends are inclusive, so an area of exactly 1024 or 9216 counts in two classes, as in COCOeval.
Quantiles use numpy's default (linear) method. Crowd objects are left out of every size statistic.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scalematch.dataset.resize import DEFAULT_POLICY, ResizePolicy

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
    table = result.table
    crowd = table["iscrowd"].to_numpy()
    names = [n for n in _COLUMNS if n in table.columns]
    objects = {name: table[name].to_numpy()[~crowd] for name in names}
    meta = (result.source, result.format, result.resize, result.images, result.categories, result.excluded)
    return _summary(*meta, objects, table["category_id"].to_numpy()[crowd])


def summarize_file(
    path: str | Path,
    format: str | None = None,
    resize: str | ResizePolicy = DEFAULT_POLICY,
    *,
    strict: bool = False,
    split: str | None = None,
    image_size: tuple[int, int] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """``summarize(load(path, ...))`` without building the box table: the same object, from the reader's
    columns and the few input-pixel columns the statistics need, computed a chunk of rows at a time
    (arguments as :func:`load`)."""
    import numpy as np

    from scalematch.dataset.loader import read_raw
    from scalematch.dataset.resize import input_columns, needs_image_size, parse_policy
    from scalematch.dataset.table import check, text_of

    policy = parse_policy(resize)
    raw, exclusions, record, fmt = read_raw(path, format, policy, strict, split, image_size, progress)
    kept = check(raw, exclusions, needs_image_size(policy), record)
    for name in ("ann_id", "x", "y", "difficult", "truncated"):
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
    return _summary(*meta, columns, crowd_category)


_CHUNK = 1 << 18
_COLUMNS = ("image_id", "category_id", "area", "size_in", "size_in_hi", "w_in", "h_in", "aspect")


def _group(columns: dict[str, np.ndarray], rows: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "size_classes": size_classes(columns["area"][rows]),
        "size_in": quantiles(columns["size_in"][rows]),
    }
    if "size_in_hi" in columns:
        out["size_in_hi"] = quantiles(columns["size_in_hi"][rows])
    return out


def _summary(
    source: str, format: str, resize: str, images: int, categories: dict[int, str], excluded: dict[str, int],
    objects: dict[str, np.ndarray], crowd_category: np.ndarray,
) -> dict[str, Any]:  # fmt: skip
    """The statistics from the non-crowd objects' columns and the crowd objects' category ids."""
    import numpy as np

    size_in = objects["size_in"]
    per_image = np.unique(objects["image_id"], return_counts=True)[1]
    zeros = max(images - len(per_image), 0)
    counts = np.concatenate([per_image, np.zeros(zeros, dtype=per_image.dtype)])
    out: dict[str, Any] = {
        "source": source,
        "format": format,
        "resize": resize,
        "images": images,
        "annotations": len(size_in),
        "crowd": len(crowd_category),
        "categories": len(categories),
        "excluded": dict(excluded),
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
    order = np.argsort(category, kind="stable")
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
