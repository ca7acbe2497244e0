"""Statistics of a box table: counts, COCO size classes, input-pixel size quantiles, per category.

Everything here is computed from a :class:`~scalematch.dataset.loader.LoadResult` and returned as plain
JSON-ready data (the ``scalematch stats --json`` schema, documented in docs/reference/dataset.md).

Size classes follow pycocotools' COCOeval exactly: an object is in a class when ``lo <= area <= hi`` with
(lo, hi) = (0, 32**2), (32**2, 96**2), (96**2, 1e10), on the annotation's ``area``, for non-crowd objects.
Both ends are inclusive, so an area of exactly 1024 or 9216 counts in two classes, as in COCOeval.
Quantiles use numpy's default (linear) method. Crowd objects are left out of every size statistic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

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


def _group(rows: pd.DataFrame, multi: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "size_classes": size_classes(rows["area"].to_numpy()),
        "size_in": quantiles(rows["size_in"].to_numpy()),
    }
    if multi:
        out["size_in_hi"] = quantiles(rows["size_in_hi"].to_numpy())
    return out


def summarize(result: LoadResult) -> dict[str, Any]:
    """The statistics of a loaded dataset as the documented JSON object."""
    import numpy as np

    table = result.table
    objects = table[~table["iscrowd"].to_numpy()]
    multi = "size_in_hi" in table.columns
    per_image = objects.groupby("image_id", observed=True).size().to_numpy()
    zeros = max(result.images - len(per_image), 0)
    counts = np.concatenate([per_image, np.zeros(zeros, dtype=per_image.dtype)])
    out: dict[str, Any] = {
        "source": result.source,
        "format": result.format,
        "resize": result.resize,
        "images": result.images,
        "annotations": len(objects),
        "crowd": int(table["iscrowd"].sum()),
        "categories": len(result.categories),
        "excluded": dict(result.excluded),
        **_group(objects, multi),
        "w_in": quantiles(objects["w_in"].to_numpy()),
        "h_in": quantiles(objects["h_in"].to_numpy()),
        "aspect": quantiles(objects["aspect"].to_numpy()),
        "objects_per_image": {
            "mean": float(counts.mean()) if len(counts) else None,
            "min": int(counts.min()) if len(counts) else None,
            "q50": float(np.quantile(counts, 0.5)) if len(counts) else None,
            "max": int(counts.max()) if len(counts) else None,
        },
        "images_without_objects": int((counts == 0).sum()),
        "size_in_below_8": int((objects["size_in"].to_numpy() < TINY_INPUT_PX).sum()),
    }
    per_category = []
    by_id = dict(tuple(objects.groupby("category_id", observed=True)))
    crowd_by_id = table[table["iscrowd"].to_numpy()].groupby("category_id").size().to_dict()
    for cid, name in sorted(result.categories.items()):
        rows = by_id.get(cid, objects.iloc[:0])
        per_category.append(
            {"id": cid, "name": name, "annotations": len(rows), "crowd": int(crowd_by_id.get(cid, 0)),
             **_group(rows, multi)}
        )  # fmt: skip
    out["per_category"] = per_category
    return out
