"""Load bars, category heatmap, shape hexbin, sweep heatmap and the profile figure, on real data."""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from matplotlib.patches import Rectangle

from scalematch.dataset import LoadResult, load, sample_path
from scalematch.match.design import Design, design, ranked
from scalematch.match.result import usable
from scalematch.report.level_plot import category_figure, category_shares, load_figure
from scalematch.report.profile_plot import depths, main_path, profile_figure
from scalematch.report.shape_plot import shape_figure
from scalematch.report.sweep_plot import coverage_heatmap, coverage_label, sweep_figure, sweep_table

Gid = Callable[[Any, str], dict[str, Any]]


def test_load_bars_are_the_counts(coco: tuple[LoadResult, Design]) -> None:
    _, d = coco
    rec = d.recommendation
    fig = load_figure(rec.full, rec.recommended_levels)
    ax = fig.axes[0]
    bars = ax.containers[0]
    heights = [b.get_height() for b in bars]
    full = rec.full
    assert heights == [full.too_small, *(load.count for load in full.loads), full.too_large]
    assert sum(heights) == full.total == 830
    assert [t.get_text() for t in ax.get_xticklabels()] == ["too small", "P2", "P3", "P4", "P5", "P6", "too large"]
    hatched = [t.get_text() for t, b in zip(ax.get_xticklabels(), bars, strict=True) if b.get_hatch()]
    assert hatched == ["P6"]  # the one level not recommended
    assert ax.get_ylim()[1] > max(heights)


def test_category_heatmap_shares(lvis: tuple[LoadResult, Design]) -> None:
    _, d = lvis
    full = d.recommendation.full
    assert full.per_category is not None
    fig = category_figure(full, top=15)
    ax = fig.axes[0]
    mesh = ax.collections[0]
    values = np.asarray(mesh.get_array()).reshape(15, len(full.levels) + 2)
    shares = category_shares(full, 15)
    assert np.allclose(values, shares.to_numpy())
    assert np.allclose(values.sum(axis=1), 1.0)
    written = [t.get_text() for t in ax.texts if t.get_text()]
    assert written == [f"{v:.0%}" for v in values.ravel() if v >= 0.005]  # only cells of 0.5% and more
    totals = full.per_category.sum(axis=1)
    expected = totals.sort_values(ascending=False, kind="stable").index[:15]
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert names == [f"{n} ({int(totals[n])})" for n in expected]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["too small", *(lv.name for lv in full.levels), "too large"]
    # a row, brute force: the share of the first category's objects taken by P3
    first = expected[0]
    level = full.assignment.level
    cats = usable(lvis[0].table)["category"].astype(str).to_numpy()
    p3 = [lv.name for lv in full.levels].index("P3")
    assert math.isclose(values[0, 2], np.sum((cats == first) & (level == p3)) / np.sum(cats == first))


def test_shape_hexbin_and_anchors(coco: tuple[LoadResult, Design], by_gid: Gid) -> None:
    data, d = coco
    rec = d.recommendation
    fig = shape_figure(data.table, rec)
    density = by_gid(fig, "density")[""]
    assert np.asarray(density.get_array()).sum() == rec.full.total  # every object in one hexagon
    anchors = by_gid(fig, "anchors:")
    assert rec.anchors is not None and rec.anchors.default is not None
    for name, shapes in zip(rec.recommended_levels, rec.anchors.fitted.shapes, strict=True):
        assert list(anchors[name].get_xdata()) == pytest.approx([math.log2(w) for w, _ in shapes])
        assert list(anchors[name].get_ydata()) == pytest.approx([math.log2(h) for _, h in shapes])
    assert len(anchors["default"].get_xdata()) == 9 * len(rec.recommended_levels)
    rows = usable(data.table)
    lo, hi = fig.axes[0].get_xlim()
    assert lo < math.log2(rows["w_in"].min()) and hi > math.log2(rows["w_in"].max())
    assert fig.axes[0].get_ylim() == (lo, hi)
    assert fig.axes[0].get_xticklabels()[1].get_text() in {"2", "4", "8", "16"}  # powers of two, in pixels


def test_shape_density_is_grey_under_distinct_anchor_markers(coco: tuple[LoadResult, Design], by_gid: Gid) -> None:
    data, d = coco
    fig = shape_figure(data.table, d.recommendation)
    density = by_gid(fig, "density")[""]
    shades = density.to_rgba(np.asarray(density.get_array()))[:, :3]
    assert np.allclose(shades.max(axis=1), shades.min(axis=1))  # every hexagon is a grey
    assert shades.max() < 0.9  # and none is (near) white, so a one-object cell shows
    anchors = by_gid(fig, "anchors:")
    colours = {name: to_rgb(a.get_markeredgecolor() if name == "default" else a.get_color())
               for name, a in anchors.items()}  # fmt: skip
    for name, rgb in colours.items():
        assert max(rgb) - min(rgb) > 0.2, f"{name} anchors are drawn in a grey"
    markers = [a.get_marker() for a in anchors.values()]
    assert len(set(markers)) == len(markers) == 5  # the defaults and four levels, each its own marker
    labels = legend_texts(fig.axes[0])
    assert labels == ["toolkit default anchors", *(f"fitted anchors {n}" for n in d.recommendation.recommended_levels)]


def test_shape_colour_bar_reads_whole_counts_up_to_the_largest(coco: tuple[LoadResult, Design], by_gid: Gid) -> None:
    data, d = coco
    fig = shape_figure(data.table, d.recommendation)
    top = int(np.asarray(by_gid(fig, "density")[""].get_array()).max())
    assert top == 7  # the fullest hexagon of the sample
    bar = fig.axes[1]
    ticks = [v for v in bar.yaxis.get_major_locator()() if 1 <= v <= top]
    formatter = bar.yaxis.get_major_formatter()
    assert [formatter(v, i) for i, v in enumerate(ticks)] == ["1", "2", "5", "7"]
    assert bar.get_ylabel() == "objects per cell"


def test_shape_without_a_cell_of_two_has_no_colour_bar(tmp_path: Path) -> None:
    boxes = [(32, 32), (96, 96), (31, 300), (50, 50), (200, 120), (40, 20)]  # far apart: one per hexagon
    doc = {
        "images": [{"id": 1, "width": 1000, "height": 800, "file_name": "a.jpg"}],
        "categories": [{"id": 1, "name": "thing"}],
        "annotations": [{"id": i + 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, w, h], "area": w * h}
                        for i, (w, h) in enumerate(boxes)],
    }  # fmt: skip
    path = tmp_path / "few.json"
    path.write_text(json.dumps(doc))
    data = load(path, resize="none")
    fig = shape_figure(data.table, design(data, "resnet50", "fpn").recommendation)
    assert len(fig.axes) == 1  # no colour bar reading "1"
    assert "one object per cell" in legend_texts(fig.axes[0])


def test_sweep_heatmap() -> None:
    from scalematch.dataset.resize import policy_text

    designs = []
    for policy in ("shortest-edge:800,1333", "shortest-edge:512,853"):
        data = load(sample_path(), resize=policy)
        designs += [design(data, b, "fpn") for b in ("resnet50", "resnet18")]
    fig = sweep_figure(designs)
    ax = fig.axes[0]
    values = np.asarray(ax.collections[0].get_array()).reshape(2, 2)
    coverage, labels = sweep_table(designs)
    assert list(coverage.index) == ["resnet50", "resnet18"]
    for d in designs:
        row, col = list(coverage.index).index(d.backbone), list(coverage.columns).index(policy_text(d.resize))
        assert values[row, col] == pytest.approx(1 - d.recommendation.chosen.coverage)  # coloured on the miss
        assert str(labels.loc[d.backbone, policy_text(d.resize)]).startswith(
            f"{100 * d.recommendation.chosen.coverage:.1f}%"
        )
    best = ranked(designs)[0]
    outline = next(p for p in ax.patches if p.get_gid() == "best")
    assert isinstance(outline, Rectangle)
    assert outline.get_xy() == (
        list(coverage.columns).index(policy_text(best.resize)),
        list(coverage.index).index(best.backbone),
    )


def test_sweep_colours_separate_90_from_99_percent() -> None:
    import pandas as pd

    coverage = pd.DataFrame([[0.91, 0.996], [0.5, 1.0]], index=["a", "b"], columns=["x", "y"])
    labels = coverage.map(coverage_label)
    assert labels.to_numpy().tolist() == [["91.0%", "99.6%"], ["50.0%", "100.0%"]]
    assert coverage_label(0.9996) == "99.96%"  # never "100.0%" for a design that misses objects
    fig = coverage_heatmap(coverage, labels, (0, 1), "t")
    ax = fig.axes[0]
    mesh = ax.collections[0]
    mesh.update_scalarmappable()
    rgb = np.asarray(mesh.get_facecolor())[:, :3].reshape(2, 2, 3)
    far = float(np.linalg.norm(rgb[0, 0] - rgb[0, 1]))  # 91 % against 99.6 %
    assert far > 0.4  # on a linear 0-1 scale the two cells are 0.086 of the colour map apart (distance < 0.1)
    assert [t.get_text() for t in ax.texts] == ["91.0%", "99.6%", "50.0%", "100.0%"]
    bar = fig.axes[1]
    ticks = bar.yaxis.get_major_locator()()
    formatter = bar.yaxis.get_major_formatter()
    assert [formatter(v, i) for i, v in enumerate(ticks)] == ["0%", "90%", "99%", "≥ 99.9%"]


@pytest.mark.parametrize("shape", [(1, 1), (1, 3), (2, 1), (4, 2)])
def test_sweep_colour_bar_label_is_inside_the_figure(shape: tuple[int, int]) -> None:
    """The colour bar's label is taller than the bar of a one-row sweep (a figure 2 inches high): it is written on
    short lines, so that no part of it is cut off by the figure's edge."""
    import pandas as pd
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    rows, cols = shape
    coverage = pd.DataFrame(
        np.linspace(0.5, 0.999, rows * cols).reshape(rows, cols),
        index=[f"backbone{k}" for k in range(rows)],
        columns=[f"shortest-edge:{512 + 64 * k},1333" for k in range(cols)],
    )
    fig = coverage_heatmap(coverage, coverage.map(coverage_label), (0, 0), "t")
    canvas: Any = FigureCanvasAgg(fig)
    canvas.draw()
    label = fig.axes[1].yaxis.label
    assert "coverage" in label.get_text()
    box, page = label.get_window_extent(canvas.get_renderer()), fig.bbox
    assert page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0 and box.y1 <= page.y1, (box, page)


def test_profile_figure_with_a_neck() -> None:
    from scalematch.profile import build, profile

    p = profile(build("resnet50", "fpn"))
    fig = profile_figure(p)
    ax, stride_ax = fig.axes
    assert sorted(t.get_text() for t in ax.texts) == sorted(p.taps)
    assert {"P2", "P6", "C5"} <= {t.get_text() for t in ax.texts}
    at = depths(p)
    vertical = sorted(
        float(np.asarray(line.get_xdata())[0]) for line in ax.lines if line.get_linestyle() not in ("-", ":", "None")
    )
    assert vertical == sorted(at[fm.name] for fm in p.taps.values())  # one dotted line per named output
    assert stride_ax.get_yscale() == "log"
    strides = [float(fm.x.stride) for _, fm in main_path(p) if fm.x]
    assert np.asarray(stride_ax.lines[0].get_ydata()).tolist() == [1.0, *strides]
    assert strides[-1] == 4 and max(strides) == 32  # the longest path ends at P2, down the top-down pathway


def legend_texts(ax: Any) -> list[str]:
    """The entries of the legend of an Axes."""
    legend = ax.get_legend()
    assert legend is not None
    return [t.get_text() for t in legend.get_texts()]


def test_a_very_long_category_name_is_cut_as_the_text_table_cuts_it(tmp_path: Path) -> None:
    """A 500-character category name: the heatmap and the overlay legend draw its first 14 and last 7 columns
    around ``...``, as ``stats --by-category`` does, the layout works (matplotlib warns of no collapsed axes), and
    every label fits in the figure."""
    import io
    import warnings

    from scalematch.report.overlay_plot import overlay_figure

    long = "x" * 499 + "y"
    images = [{"id": 1, "width": 640, "height": 480, "file_name": "a.jpg"}]
    annotations = [{"id": k + 1, "image_id": 1, "category_id": 1 + k % 2, "bbox": [10, 10, 20 + 30 * k, 30],
                    "area": 600.0, "iscrowd": 0} for k in range(6)]  # fmt: skip
    src = tmp_path / "long.json"
    src.write_text(json.dumps({"images": images, "annotations": annotations,
                               "categories": [{"id": 1, "name": long}, {"id": 2, "name": "dog"}]}))  # fmt: skip
    data = load(src)
    d = design(data.table, "resnet50", "fpn")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = category_figure(d.recommendation.full)
        fig.savefig(io.BytesIO(), format="png")  # lays the figure out, as the report does
        overlay = overlay_figure(data.table, d.recommendation, split="category")
        overlay.savefig(io.BytesIO(), format="png")
    names = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    cut = "x" * 14 + "..." + "x" * 6 + "y"
    assert f"{cut} (3)" in names and "dog (3)" in names
    for label in fig.axes[0].get_yticklabels():
        assert label.get_window_extent().x0 >= 0  # not clipped at the figure's left edge
    legends = [t.get_text() for ax in overlay.axes for leg in [ax.get_legend()] if leg for t in leg.get_texts()]
    assert cut in legends


def test_categories_whose_names_differ_in_their_end_or_middle_get_distinct_labels(tmp_path: Path) -> None:
    """Long names that differ only at their end keep their ends; names that differ only in their middle (equal in
    their first 14 and last 7 columns) are shown wider until they differ; ids sharing a long name keep their
    ``(id N)``: every row of the heatmap and every legend entry names one category."""
    from scalematch.report.overlay_plot import overlay_figure

    names = {1: "category with a rather long descriptive name number 3",
             2: "category with a rather long descriptive name number 9",
             3: "a long category name, version 1, of the set", 4: "a long category name, version 2, of the set",
             5: "the same very long category name", 6: "the same very long category name"}  # fmt: skip
    images = [{"id": 1, "width": 640, "height": 480, "file_name": "a.jpg"}]
    annotations = [{"id": k + 1, "image_id": 1, "category_id": 1 + k % 6, "bbox": [10, 10, 20 + 5 * k, 30],
                    "area": 600.0, "iscrowd": 0} for k in range(24)]  # fmt: skip
    src = tmp_path / "names.json"
    categories = [{"id": i, "name": n} for i, n in names.items()]
    src.write_text(json.dumps({"images": images, "annotations": annotations, "categories": categories}))
    data = load(src)
    d = design(data.table, "resnet50", "fpn")
    rows = [t.get_text() for t in category_figure(d.recommendation.full).axes[0].get_yticklabels()]
    overlay = overlay_figure(data.table, d.recommendation, split="category")
    legends = [t.get_text() for ax in overlay.axes for leg in [ax.get_legend()] if leg for t in leg.get_texts()]
    assert len(set(rows)) == len(rows) == 6
    assert {row.rsplit(" (", 1)[0] for row in rows} <= set(legends)
    assert {"category with ...umber 3 (4)", "category with ...umber 9 (4)"} <= set(rows)
    assert {"the same very ... (id 5) (4)", "the same very ... (id 6) (4)"} <= set(rows)
    assert all(len(label) < 60 for label in rows)


@functools.cache
def _charmap(path: str) -> frozenset[int]:
    """The code points of the font file at ``path``, as FreeType reads its character map."""
    from matplotlib import ft2font

    return frozenset(ft2font.FT2Font(path).get_charmap())


def _fonts_with(ch: str) -> list[str]:
    """The installed fonts (matplotlib's list) whose own character map has ``ch``, the Last Resort font left out
    (it maps every character to a placeholder box)."""
    from matplotlib import font_manager

    entries = font_manager.fontManager.ttflist
    return [e.name for e in entries if not e.name.startswith("Last Resort") and ord(ch) in _charmap(e.fname)]


def _drawn_with(text: Any, ch: str) -> bool:
    """Whether one of the fonts ``text`` is drawn with (its families, as matplotlib finds them) has ``ch``."""
    from matplotlib import font_manager

    for family in text.get_fontfamily():
        prop = text.get_fontproperties().copy()
        prop.set_family(family)
        if ord(ch) in _charmap(font_manager.findfont(prop)):
            return True
    return False


def test_names_in_any_script_are_drawn_in_a_font_that_has_them_or_as_escapes(tmp_path: Path) -> None:
    """Category names in Japanese, Chinese, with an emoji, or with a character only a fallback font has (one of
    STIXGeneral's, which DejaVu Sans lacks): the heatmap and the overlay legend draw each character in an
    installed font whose character map has it, or as its escape (``\\u65e5``) when no installed font has it;
    matplotlib warns of no missing glyph, when the figure is made nor when it is saved."""
    import warnings

    from matplotlib import font_manager

    from scalematch.report.overlay_plot import overlay_figure
    from scalematch.report.save import save_figure

    dejavu, stix = (_charmap(font_manager.findfont(name)) for name in ("DejaVu Sans", "STIXGeneral"))
    only_stix = next(chr(c) for c in sorted(stix) if c not in dejavu and chr(c).isprintable() and c > 0x2000)
    names = ["日本語の名前", "自行车", "🚗 car", f"a{only_stix}b", "person"]
    images = [{"id": 1, "width": 640, "height": 480, "file_name": "a.jpg"}]
    annotations = [{"id": k + 1, "image_id": 1, "category_id": 1 + k % len(names), "area": 600.0, "iscrowd": 0,
                    "bbox": [10 + 20 * k, 10, 20 + k, 30]} for k in range(3 * len(names))]  # fmt: skip
    src = tmp_path / "names.json"
    categories = [{"id": k + 1, "name": n} for k, n in enumerate(names)]
    src.write_text(json.dumps({"images": images, "annotations": annotations, "categories": categories}))
    data = load(src)
    d = design(data.table, "resnet50", "fpn")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = category_figure(d.recommendation.full)
        save_figure(fig, tmp_path / "categories.png")
        save_figure(fig, tmp_path / "categories.svg")
        overlay = overlay_figure(data.table, d.recommendation, split="category")
        save_figure(overlay, tmp_path / "overlay.png")
    labels = [t for t in fig.axes[0].get_yticklabels() if t.get_text()]
    legend = [t for ax in overlay.axes for leg in [ax.get_legend()] if leg for t in leg.get_texts()]
    for name in names:
        for texts in (labels, legend):
            matching = [t for t in texts if _shows(t.get_text(), name)]
            assert matching, (name, [t.get_text() for t in texts])
            text = matching[0]
            shown = text.get_text()
            for ch in set(name):
                if _fonts_with(ch):
                    assert ch in shown and _drawn_with(text, ch), (ch, shown, text.get_fontfamily())
                else:
                    assert ch not in shown and ascii(ch)[1:-1] in shown, (ch, shown)
    assert any(only_stix in t.get_text() for t in labels)  # a character only a fallback font has is drawn


def _shows(shown: str, name: str) -> bool:
    """Whether ``shown`` is ``name`` with some characters as their escapes (and a count after it)."""
    import re

    pattern = "".join(f"(?:{re.escape(ch)}|{re.escape(ascii(ch)[1:-1])})" for ch in name)
    return re.match(pattern + r"(?: \(\d+\))?$", shown) is not None


def _font_with(path: Path, family: str, chars: str) -> Path:
    """A TrueType font named ``family`` whose only glyphs (boxes) are those of ``chars`` (fontTools, which
    matplotlib requires)."""
    from fontTools.fontBuilder import FontBuilder  # type: ignore[import-untyped]
    from fontTools.pens.ttGlyphPen import TTGlyphPen  # type: ignore[import-untyped]

    names = [".notdef", "space", *(f"u{ord(ch):04X}" for ch in chars)]
    pen = TTGlyphPen(None)
    pen.moveTo((100, 0))
    pen.lineTo((100, 700))
    pen.lineTo((600, 700))
    pen.lineTo((600, 0))
    pen.closePath()
    box = pen.glyph()
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({32: "space", **{ord(ch): f"u{ord(ch):04X}" for ch in chars}})
    builder.setupGlyf({name: (TTGlyphPen(None).glyph() if name == "space" else box) for name in names})
    builder.setupHorizontalMetrics({name: (700, 100) for name in names})
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    builder.setupNameTable({"familyName": family, "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=800, usWinAscent=800, usWinDescent=200)
    builder.setupPost()
    builder.save(str(path))
    return path


def test_a_font_installed_for_a_script_draws_its_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a font installed that has the characters of a Japanese name and an emoji (one made here and added to
    matplotlib's font manager, as a Noto CJK install would be), the figures draw the name itself in that font,
    after the style's own, with no warning; a character that font lacks is still an escape."""
    import warnings

    from matplotlib import font_manager, ft2font

    from scalematch.report.save import save_figure

    path = _font_with(tmp_path / "cjk.ttf", "Scalematch Test CJK", "日本🚗")
    manager: Any = font_manager.fontManager  # (its findfont cache is private)
    entry = font_manager.ttfFontProperty(ft2font.FT2Font(str(path)))
    monkeypatch.setattr(manager, "ttflist", [*manager.ttflist, entry])
    manager._findfont_cached.cache_clear()
    try:
        names = ["日本", "🚗 car", "日光"]
        images = [{"id": 1, "width": 640, "height": 480, "file_name": "a.jpg"}]
        annotations = [{"id": k + 1, "image_id": 1, "category_id": 1 + k % 3, "area": 600.0, "iscrowd": 0,
                        "bbox": [10 + 20 * k, 10, 20 + k, 30]} for k in range(9)]  # fmt: skip
        src = tmp_path / "names.json"
        categories = [{"id": k + 1, "name": n} for k, n in enumerate(names)]
        src.write_text(json.dumps({"images": images, "annotations": annotations, "categories": categories}))
        d = design(load(src).table, "resnet50", "fpn")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            fig = category_figure(d.recommendation.full)
            save_figure(fig, tmp_path / "categories.png")
        labels = {t.get_text(): t for t in fig.axes[0].get_yticklabels() if t.get_text()}
        other = "日光 (3)" if _fonts_with("光") else "日\\u5149 (3)"  # (光 is not in the font made here)
        assert sorted(labels) == sorted(["日本 (3)", "🚗 car (3)", other])
        for shown in ("日本 (3)", "🚗 car (3)"):
            assert "Scalematch Test CJK" in labels[shown].get_fontfamily()
            assert all(_drawn_with(labels[shown], ch) for ch in shown)
    finally:
        monkeypatch.undo()
        manager._findfont_cached.cache_clear()


def test_kept_default_anchors_are_what_the_figures_and_the_levels_table_show(by_gid: Gid) -> None:
    """Under --rule yolo, when the fit does not raise BPR the defaults are kept and exported (the bundled sample on
    cspdarknet + pan): the shape and overlay figures draw those, per level, and the HTML levels table lists them."""
    from scalematch.match.rules import Rule
    from scalematch.report.html_report import level_rows
    from scalematch.report.overlay_plot import overlay_figure

    data = load(sample_path())
    d = design(data, "cspdarknet", "pan", rule=Rule.YOLO)
    rec = d.recommendation
    a = rec.anchors
    assert a is not None and a.kept_default and a.default is not None and a.fitted != a.default
    kept = dict(zip(rec.recommended_levels, a.default.shapes, strict=True))
    shape = shape_figure(data.table, rec)
    assert legend_texts(shape.axes[0]) == [f"kept default anchors {n}" for n in rec.recommended_levels]
    for name, line in by_gid(shape, "anchors:").items():
        assert np.allclose(2 ** np.asarray(line.get_xdata()), [w for w, _ in kept[name]])
        assert np.allclose(2 ** np.asarray(line.get_ydata()), [h for _, h in kept[name]])
    overlay = overlay_figure(data.table, rec)
    assert "kept default anchors (longer side)" in legend_texts(overlay.axes[0])
    for name, line in by_gid(overlay, "anchors:").items():
        assert list(line.get_xdata()) == [max(w, h) for w, h in kept[name]]
    rows = {row["name"]: row["anchors"] for row in level_rows(d)}
    assert rows["P3"] == "10×13, 16×30, 33×23"
