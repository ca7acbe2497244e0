"""The overlay on real COCO and LVIS data: what it draws, checked against the match and brute-force counts."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from scalematch.dataset import LoadResult
from scalematch.match.design import Design
from scalematch.match.result import usable
from scalematch.report.overlay_plot import PER_OCTAVE, log2_histogram, overlay_figure

Gid = Callable[[Any, str], dict[str, Any]]


def sizes_of(data: LoadResult) -> np.ndarray:
    """The x quantity of the overlay: every usable object's longer side in input pixels."""
    rows = usable(data.table)
    sizes: np.ndarray = np.maximum(rows["w_in"].to_numpy(), rows["h_in"].to_numpy())
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
    sizes, level = sizes_of(data), full.assignment.level
    for k, load in enumerate(full.loads):
        verts = bands[load.level.name].get_paths()[0].vertices
        mine = [s for s, lv in zip(sizes, level, strict=True) if lv == k]  # brute force: the level's longer sides
        assert math.isclose(verts[:, 0].min(), min(mine)) and math.isclose(verts[:, 0].max(), max(mine))


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
        assert list(anchors[name].get_xdata()) == pytest.approx([max(w, h) for w, h in shapes])
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


def test_bands_and_too_large_objects_sit_between_the_marks(coco: tuple[LoadResult, Design], by_gid: Gid) -> None:
    """The x axis and the marks measure the same quantity: every band lies between its level's ▶ and ◀, and the
    too-large histogram lies beyond the ◀ of every level that resolves its objects (on this sample: all)."""
    data, d = coco
    rec = d.recommendation
    fig = overlay_figure(data.table, rec)
    assert fig.axes[0].get_xlabel() == "object size: longer side max(w, h) in input pixels (log2)"
    bands, mins, erfs = by_gid(fig, "band:"), by_gid(fig, "min:"), by_gid(fig, "erf:")
    for name, band in bands.items():
        xs = band.get_paths()[0].vertices[:, 0]
        assert mins[name].get_xdata()[0] <= xs.min() and xs.max() <= erfs[name].get_xdata()[0]
    hist = by_gid(fig, "hist:")
    too_large = hist["too large"]
    edges = np.asarray(too_large.get_data().edges)
    own = stair_values(too_large) - np.asarray(too_large.get_data().baseline)
    assert own.sum() == rec.full.too_large == 229
    farthest = max(float(e.get_xdata()[0]) for e in erfs.values())
    assert edges[:-1][own > 0].min() >= farthest / 2 ** (1 / PER_OCTAVE)  # the first bin holding one starts at ◀
    # brute force on the boxes: no too-large object is shorter than the farthest ◀
    rows = usable(data.table)
    tl = rec.full.assignment.level == -2
    assert (np.maximum(rows["w_in"].to_numpy(), rows["h_in"].to_numpy())[tl] > farthest).all()


def test_one_definition_of_erf_diameter_in_the_legends(coco: tuple[LoadResult, Design]) -> None:
    from scalematch.profile import build, profile
    from scalematch.report.profile_plot import profile_figure

    data, d = coco
    overlay = overlay_figure(data.table, d.recommendation)
    labels = legend_texts(overlay.axes[0])
    assert "ERF limit ±3σ = 3 ERF diameters (2σ)" in labels
    prof = profile_figure(profile(build("resnet50", "fpn")))
    prof_labels = legend_texts(prof.axes[0])
    assert "ERF diameter 2σ (±σ)" in prof_labels
    for label in [*labels, *prof_labels]:
        if "diameter" in label:
            assert "(2σ)" in label or "2σ (±σ)" in label, label


def test_coco_split_states_its_boundary_convention(tmp_path: Path) -> None:
    """Areas of exactly 32² and 96² are drawn once, in the upper class, and the legend says so."""
    from scalematch.dataset import load
    from scalematch.match.design import design

    boxes = [(32, 32), (96, 96), (31, 31), (50, 50), (200, 120), (40, 20)]
    doc = {
        "images": [{"id": 1, "width": 1000, "height": 800, "file_name": "a.jpg"}],
        "categories": [{"id": 1, "name": "thing"}],
        "annotations": [
            {"id": i + 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, w, h], "area": float(w * h), "iscrowd": 0}
            for i, (w, h) in enumerate(boxes)
        ],
    }
    path = tmp_path / "edges.json"
    path.write_text(json.dumps(doc))
    data = load(path, resize="none")
    fig = overlay_figure(data.table, design(data, "resnet50", "fpn").recommendation, split="coco")
    parts = _own_counts(fig)
    # small: 31², 40x20; medium: 32² (the boundary), 50²; large: 96² (the boundary), 200x120
    assert parts == {"COCO small (area < 32²)": 2, "COCO medium (32² ≤ area < 96²)": 2,
                     "COCO large (area ≥ 96²)": 2}  # fmt: skip
    legend = fig.axes[0].get_legend()
    assert legend is not None
    title = " ".join(legend.get_title().get_text().split())
    assert "an area of exactly 32² or 96² is in the upper class here" in title
    assert "(COCOeval and scalematch stats count it in both)" in title


def _own_counts(fig: Any) -> dict[str, float]:
    out = {}
    for artist in fig.axes[0].get_children():
        gid = artist.get_gid() or ""
        if gid.startswith("hist:") and gid != "hist:total":
            out[gid[5:]] = float((stair_values(artist) - np.asarray(artist.get_data().baseline)).sum())
    return out


def test_split_by_coco_area_and_by_category(lvis: tuple[LoadResult, Design], by_gid: Gid) -> None:
    data, d = lvis
    rows = usable(data.table)
    area = rows["area"].to_numpy()
    coco = by_gid(overlay_figure(data.table, d.recommendation, split="coco"), "hist:")
    own = {k: float((stair_values(a) - np.asarray(a.get_data().baseline)).sum()) for k, a in coco.items()}
    assert own["COCO small (area < 32²)"] == np.sum(area < 32**2)
    assert own["COCO large (area ≥ 96²)"] == np.sum(area >= 96**2)
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


def legend_texts(ax: Any) -> list[str]:
    """The entries of the legend of an Axes."""
    legend = ax.get_legend()
    assert legend is not None
    return [t.get_text() for t in legend.get_texts()]
