"""The overlay on real COCO and LVIS data: what it draws, checked against the match and brute-force counts."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from scalematch.dataset import LoadResult
from scalematch.match.design import Design
from scalematch.match.result import usable
from scalematch.report.overlay import PER_OCTAVE, log2_histogram, overlay_figure

Gid = Callable[[Any, str], dict[str, Any]]


def sizes_of(data: LoadResult) -> np.ndarray:
    rows = usable(data.table)
    sizes: np.ndarray = np.sqrt(rows["w_in"].to_numpy() * rows["h_in"].to_numpy())
    return sizes


def stair_values(artist: Any) -> np.ndarray:
    values: np.ndarray = np.asarray(artist.get_data().values)
    return values


def test_histogram_counts_every_object_in_its_bin(coco: tuple[LoadResult, Design], by_gid: Gid) -> None:
    data, d = coco
    fig = overlay_figure(data.table, d.recommendation)
    total = by_gid(fig, "hist:")["total"]
    edges = np.asarray(total.get_data().edges)
    sizes = sizes_of(data)
    assert stair_values(total).sum() == len(sizes) == d.recommendation.full.total == 830
    brute = [sum(1 for s in sizes if lo <= s < hi) for lo, hi in itertools.pairwise(edges)]
    brute[-1] += int(np.sum(sizes == edges[-1]))  # the top edge is inside the last bin
    assert stair_values(total).tolist() == brute
    assert np.allclose(np.diff(np.log2(edges)), 1 / PER_OCTAVE)


def test_histogram_is_split_by_assigned_level(coco: tuple[LoadResult, Design], by_gid: Gid) -> None:
    data, d = coco
    full = d.recommendation.full
    parts = by_gid(overlay_figure(data.table, d.recommendation), "hist:")
    # stacked: each group's stairs span from its baseline; its own height sums to the level's count
    for load in full.loads:
        art = parts.get(load.level.name)
        own = 0.0 if art is None else float((stair_values(art) - np.asarray(art.get_data().baseline)).sum())
        assert own == load.count
    assert float((stair_values(parts["too large"]) - parts["too large"].get_data().baseline).sum()) == full.too_large


def test_one_band_per_level_with_objects_spanning_its_sizes(coco: tuple[LoadResult, Design], by_gid: Gid) -> None:
    data, d = coco
    full = d.recommendation.full
    bands = by_gid(overlay_figure(data.table, d.recommendation), "band:")
    assert sorted(bands) == sorted(load.level.name for load in full.loads if load.count)
    assert len(bands) == 5  # P2..P6 all take objects on this sample
    counts = by_gid(overlay_figure(data.table, d.recommendation), "count:")
    assert [counts[load.level.name].get_text() for load in full.loads] == [
        f"{load.count} ({100 * load.fraction:.0f}%)" for load in full.loads
    ]
    for load in full.loads:
        verts = bands[load.level.name].get_paths()[0].vertices
        assert load.size_min is not None and load.size_max is not None
        assert math.isclose(verts[:, 0].min(), load.size_min) and math.isclose(verts[:, 0].max(), load.size_max)


def test_level_marks_and_anchors(coco: tuple[LoadResult, Design], by_gid: Gid) -> None:
    data, d = coco
    rec = d.recommendation
    fig = overlay_figure(data.table, rec)
    mins, erfs, rfs = by_gid(fig, "min:"), by_gid(fig, "erf:"), by_gid(fig, "rf:")
    anchors = by_gid(fig, "anchors:")
    for lv in rec.full.levels:
        assert list(mins[lv.name].get_xdata()) == [2.0 * lv.stride]
        assert list(erfs[lv.name].get_xdata()) == pytest.approx([6.0 * lv.erf_sigma])
        assert list(rfs[lv.name].get_xdata()) == [lv.rf]
    assert rec.anchors is not None
    assert sorted(anchors) == sorted(rec.recommended_levels) == ["P2", "P3", "P4", "P5"]
    for name, shapes in zip(rec.recommended_levels, rec.anchors.fitted.shapes, strict=True):
        assert list(anchors[name].get_xdata()) == pytest.approx([math.sqrt(w * h) for w, h in shapes])
        assert len(shapes) == 9
    lanes = fig.axes[1]
    labels = [t.get_text() for t in lanes.get_yticklabels()]
    assert labels == ["P6", "P5*", "P4*", "P3*", "P2*"]  # finest at the top, * recommended
    lo, hi = fig.axes[0].get_xlim()
    every_mark = [x for art in (*mins.values(), *erfs.values(), *rfs.values(), *anchors.values())
                  for x in art.get_xdata()]  # fmt: skip
    sizes = sizes_of(data)
    assert lo < min(sizes.min(), *every_mark) and hi > max(sizes.max(), *every_mark)
    assert fig.axes[0].get_xscale() == "log"


def test_split_by_coco_area_and_by_category(lvis: tuple[LoadResult, Design], by_gid: Gid) -> None:
    data, d = lvis
    rows = usable(data.table)
    area = rows["area"].to_numpy()
    coco = by_gid(overlay_figure(data.table, d.recommendation, split="coco"), "hist:")
    own = {k: float((stair_values(a) - np.asarray(a.get_data().baseline)).sum()) for k, a in coco.items()}
    assert own["COCO small (< 32²)"] == np.sum(area < 32**2)
    assert own["COCO large (≥ 96²)"] == np.sum(area >= 96**2)
    cats = by_gid(overlay_figure(data.table, d.recommendation, split="category", top=3), "hist:")
    top3 = rows["category"].astype(str).value_counts().index[:3]
    assert set(cats) == {*top3, "other", "total"}
    first = cats[top3[0]]
    assert (
        float((stair_values(first) - np.asarray(first.get_data().baseline)).sum())
        == (rows["category"].astype(str) == top3[0]).sum()
    )


def test_draws_on_a_given_axes(coco: tuple[LoadResult, Design], by_gid: Gid) -> None:
    from matplotlib.figure import Figure

    data, d = coco
    host = Figure()
    ax = host.add_subplot()
    assert overlay_figure(data.table, d.recommendation, ax=ax) is host
    assert by_gid(host, "band:")


def test_log2_histogram_matches_numpy() -> None:
    rng = np.random.default_rng(7)
    sizes = np.exp(rng.normal(4.0, 1.2, 20_000))
    groups = rng.integers(0, 3, sizes.size)
    edges, counts = log2_histogram(sizes, groups, 3)
    for g in range(3):
        expected, _ = np.histogram(sizes[groups == g], bins=edges)
        assert counts[g].tolist() == expected.tolist()
