"""The statistics' exact parts: quantiles from sorted groups equal numpy's ``np.quantile`` bit for bit, and merged
:class:`~scalematch.dataset.stats.Partial` objects give what one table gives, against numpy on the whole table."""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalematch.dataset import stats
from scalematch.dataset.loader import LoadResult, from_frame
from scalematch.dataset.stats import QUANTILES, merge, sorted_quantiles, summary, table_partial

Q = [0.0, *(q for _, q in QUANTILES), 1.0]
FIELDS = ("count", "key", "lo", "hi", "counts", "exact_group", "exact")
SPECIAL = [0.0, 0.1, 0.2, 1.0, 2.5, 1e300, -1e300, np.inf, -np.inf, np.nan, 5e-324]


def _bits(x: np.ndarray) -> np.ndarray:
    """Float values as their bit patterns, every NaN as one (numpy keeps a NaN of the input, any payload) and -0.0
    as 0.0 (which of equal zeros a sort puts first is not the value's business: [0.0, -0.0, -0.0, -1.0])."""
    out = np.asarray(x, dtype=np.float64) + 0.0  # (a copy, -0.0 made 0.0)
    out[np.isnan(out)] = np.nan
    bits: np.ndarray = out.view(np.uint64)
    return bits


def _numpy(values: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # inf - inf, as numpy's own
        want: np.ndarray = np.quantile(values, Q)
    return want


def _ours(values: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return sorted_quantiles(values, starts, counts)


@settings(max_examples=400, deadline=None)
@given(
    groups=st.lists(
        st.lists(st.one_of(st.sampled_from(SPECIAL), st.floats(-1e6, 1e6), st.integers(0, 3).map(float)), max_size=9),
        min_size=1,
        max_size=5,
    )
)
def test_sorted_groups_give_numpys_quantiles(groups: list[list[float]]) -> None:
    counts = np.array([len(g) for g in groups], dtype=np.int64)
    starts = np.cumsum(counts) - counts
    values = np.concatenate([np.sort(np.array(g, dtype=np.float64)) for g in groups])
    rows = _ours(values, starts, counts)
    for group, row in zip(groups, rows, strict=True):
        if group:
            assert (_bits(row) == _bits(_numpy(np.array(group)))).all(), group
        else:
            assert np.isnan(row).all()


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 20, 21, 1001])
def test_sizes_and_ties(n: int) -> None:
    rng = np.random.default_rng(n)
    for values in (rng.normal(size=n), rng.integers(0, 3, n) * 0.1, np.full(n, 7.25), rng.lognormal(size=n) * 1e9):
        row = _ours(np.sort(values), np.array([0]), np.array([n]))[0]
        assert (_bits(row) == _bits(_numpy(values))).all()
    counts = rng.integers(0, 4, n)  # integers: numbers of objects per image
    assert float(_ours(np.sort(counts), np.array([0]), np.array([n]))[0][3]) == float(np.quantile(counts, 0.5))


def _table(rng: np.random.Generator, n: int) -> pd.DataFrame:
    w = rng.choice([1.0, 3.5, 20.0, 32.0, 64.0, 96.0, 300.0], n) * rng.choice([1.0, 1.0, 1.5], n)
    h = rng.choice([2.0, 32.0, 96.0, 150.0], n)
    table: pd.DataFrame = pd.DataFrame(
        {
            "image_id": rng.integers(1, 30, n),
            "category_id": rng.choice([3, 7, 300, 70000], n),
            "x": 0.0,
            "y": 0.0,
            "w": w,
            "h": h,
            "iscrowd": rng.random(n) < 0.1,
            "image_w": 640.0,
            "image_h": 480.0,
        }
    )
    return table


NAMES = {3: "a", 7: "b", 300: "c", 70000: "d", 9: "none"}  # 9: a category without objects


def _result(table: pd.DataFrame, images: int) -> LoadResult:
    named = table.assign(category=table["category_id"].map(NAMES))
    return replace(from_frame(named, resize="none"), images=images, categories=dict(NAMES))


def _brute(table: pd.DataFrame, images: int, categories: dict[int, str]) -> dict[str, object]:
    """The numbers the summary gives, by numpy's own functions over the whole table."""
    objects = table[~table["iscrowd"]]
    area = (objects["w"] * objects["h"]).to_numpy()
    per_image = objects.groupby("image_id").size().to_numpy()
    counts = np.concatenate([per_image, np.zeros(images - len(per_image), dtype=np.int64)])
    bounds = [(0.0, 32.0**2), (32.0**2, 96.0**2), (96.0**2, 1e10)]
    out: dict[str, object] = {
        "annotations": len(objects),
        "crowd": int(table["iscrowd"].sum()),
        "size_classes": [int(((area >= lo) & (area <= hi)).sum()) for lo, hi in bounds],
        "objects_per_image": [float(counts.mean()), int(counts.min()), float(np.quantile(counts, 0.5)),
                              int(counts.max())],
        "images_without_objects": int((counts == 0).sum()),
    }  # fmt: skip
    for cid in sorted(categories):
        size = np.sqrt(area[objects["category_id"].to_numpy() == cid])
        out[f"size_in {cid}"] = _numpy(size).tolist() if len(size) else None
    return out


def _numbers(s: dict[str, object], categories: dict[int, str]) -> dict[str, object]:
    opi: dict[str, object] = s["objects_per_image"]  # type: ignore[assignment]
    out: dict[str, object] = {
        "annotations": s["annotations"],
        "crowd": s["crowd"],
        "size_classes": list(s["size_classes"].values()),  # type: ignore[attr-defined]
        "objects_per_image": [opi["mean"], opi["min"], opi["q50"], opi["max"]],
        "images_without_objects": s["images_without_objects"],
    }
    rows = {r["id"]: r for r in s["per_category"]}  # type: ignore[attr-defined]
    for cid in sorted(categories):
        size_in = rows[cid]["size_in"]
        out[f"size_in {cid}"] = None if size_in["min"] is None else list(size_in.values())
    return out


@pytest.mark.parametrize("seed", range(6))
def test_merged_parts_equal_the_whole_table(seed: int) -> None:
    """A table cut by image into parts (some empty, some without a category) and merged: the same summary as the whole
    table, whose numbers numpy computes on its own."""
    rng = np.random.default_rng(seed)
    table = _table(rng, int(rng.integers(1, 400)))
    categories = NAMES
    images = 40  # some without objects
    whole = table_partial(_result(table, images))
    count = int(rng.integers(1, 6))
    shard = rng.integers(0, count, images + 1)  # image k (ids 1 to 40) goes to part shard[k]; images are per part
    parts = []
    for k in range(count):
        piece = table[shard[table["image_id"].to_numpy()] == k]
        parts.append(table_partial(_result(piece, int((shard[1:] == k).sum()))))
    merged = summary(merge(parts, "whole"))
    assert merged == summary(merge([whole], "whole"))
    assert _numbers(merged, categories) == _brute(table, images, categories)


def test_summary_leaves_the_partial_as_it_was() -> None:
    rng = np.random.default_rng(0)
    part = table_partial(_result(_table(rng, 50), 60))
    sketches = {**part.by_category, **part.values}
    before = {name: {f: getattr(s, f).copy() for f in FIELDS} for name, s in sketches.items()}
    stats.summary(part)
    assert all((before[name][f] == getattr(s, f)).all() for name, s in sketches.items() for f in FIELDS)
