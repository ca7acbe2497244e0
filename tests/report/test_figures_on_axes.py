"""Figures drawn on a user's Axes (``ax=``) in a grid: on a figure without a layout engine (``plt.subplots()`` as
it comes) their legends and labels stay inside the given Axes, not over the subplots beside them; on a
constrained figure, and on the figures made here, the legend keeps its place outside, where the layout makes
room for it. An Axes in a SubFigure gives the top Figure; a polar, 3-D or map Axes is refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import pytest
from matplotlib.backend_bases import RendererBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import scalematch as sm
from scalematch.errors import OptionError


@pytest.fixture(scope="module")
def results() -> tuple[Any, Any, Any]:
    boxes = sm.read_annotations(None)
    return boxes, sm.recommend(boxes, rule="rf", backbone="resnet50"), sm.recommend(boxes, "retinanet")


def _draw(
    results: tuple[Any, Any, Any], layout: Literal["constrained"] | None
) -> tuple[Figure, RendererBase, list[Any]]:
    _, design, detector = results
    fig = Figure(figsize=(14, 10), layout=layout)
    axes = fig.subplots(2, 2)
    sm.overlay_figure(design.data.table, design.recommendation, ax=axes[0, 0])
    sm.positives_figure(detector.simulation, ax=axes[1, 0])
    sm.load_figure(design.recommendation.full, "P3,P4", ax=axes[0, 1])
    sm.shape_figure(design.data.table, design.recommendation, ax=axes[1, 1])
    canvas: Any = FigureCanvasAgg(fig)  # matplotlib leaves draw and get_renderer untyped
    canvas.draw()
    return fig, canvas.get_renderer(), [axes[0, 0], axes[1, 0]]


def _legend(ax: Any) -> Any:
    """The legend drawn for ``ax``: its own, or its twin's (the overlay's level lanes)."""
    found = [a.get_legend() for a in ax.get_figure().axes if a.bbox.bounds == ax.bbox.bounds and a.get_legend()]
    assert len(found) == 1
    return found[0]


def test_without_a_layout_engine_legends_and_labels_stay_inside_the_axes(results: tuple[Any, Any, Any]) -> None:
    fig, renderer, drawn = _draw(results, None)
    for ax in drawn:
        box = ax.get_window_extent(renderer)
        legend = _legend(ax).get_window_extent(renderer)
        assert box.x0 <= legend.x0 and legend.x1 <= box.x1 and box.y0 <= legend.y0 and legend.y1 <= box.y1
    twin = [a for a in fig.axes if a is not drawn[0] and a.bbox.bounds == drawn[0].bbox.bounds]
    assert [a.get_ylabel() for a in twin] == [""]  # the lanes' label is a legend entry instead
    assert "level*: recommended" in [t.get_text() for t in _legend(drawn[0]).get_texts()]


def test_a_constrained_figure_keeps_the_legends_outside_without_overlap(results: tuple[Any, Any, Any]) -> None:
    fig, renderer, drawn = _draw(results, "constrained")
    overlay, positives = (_legend(ax).get_window_extent(renderer) for ax in drawn)
    assert overlay.y1 < drawn[0].get_window_extent(renderer).y0  # below the overlay's axes
    assert positives.x0 > drawn[1].get_window_extent(renderer).x1  # right of the positives' axes
    others = [a for a in fig.axes if a.bbox.bounds not in {d.bbox.bounds for d in drawn}]
    for legend in (overlay, positives):
        assert not any(legend.overlaps(a.get_tightbbox(renderer)) for a in others)


def _figures(results: tuple[Any, Any, Any]) -> dict[str, Callable[[Any], Any]]:
    """Every figure function that takes ``ax=``, with arguments from the sample (the documented module functions
    too: explain_figure, rf_rule_figure)."""
    from scalematch.report.explain_plot import explain_figure
    from scalematch.report.rule_plot import rf_rule_figure

    boxes, design, detector = results
    rec = design.recommendation
    net = [sm.profile_model("resnet18")]
    exp = [sm.explain(["conv:k=3,s=2", "conv:k=3"])]
    return {
        "overlay_figure": lambda ax: sm.overlay_figure(boxes.table, rec, ax=ax),
        "positives_figure": lambda ax: sm.positives_figure(detector.simulation, ax=ax),
        "load_figure": lambda ax: sm.load_figure(rec.full, "P3,P4", ax=ax),
        "category_figure": lambda ax: sm.category_figure(rec.full, ax=ax),
        "shape_figure": lambda ax: sm.shape_figure(boxes.table, rec, ax=ax),
        "profile_figure": lambda ax: sm.profile_figure(net[0], ax=ax),
        "sweep_figure": lambda ax: sm.sweep_figure([design], ax=ax),
        "explain_figure": lambda ax: explain_figure(exp[0], ax=ax),
        "rf_rule_figure": lambda ax: rf_rule_figure(rec.full.levels, ax=ax),
    }


@pytest.mark.parametrize(
    ("projection", "kind"),
    [("polar", "PolarAxes"), ("3d", "Axes3D"), ("mollweide", "MollweideAxes")],
)
def test_an_axes_without_cartesian_x_and_y_is_refused(
    results: tuple[Any, Any, Any], projection: str, kind: str
) -> None:
    """A polar, 3-D or map Axes is refused before anything is drawn on it, with one typed line (matplotlib's own
    errors were a NotImplementedError on the polar log scale and a TypeError from Axes3D.text; a 3-D Axes was
    even drawn on)."""
    for name, draw in _figures(results).items():
        ax = Figure().add_subplot(projection=projection)
        with pytest.raises(OptionError) as refused:
            draw(ax)
        assert str(refused.value) == (
            f"ax: expected a matplotlib Axes with Cartesian x and y axes (or None: a new figure), "
            f"got {kind} (projection '{projection}')"
        ), name
        assert not ax.lines and not ax.collections and not ax.patches and not ax.texts and not ax.images, name


def test_an_axes_in_a_subfigure_gives_the_figure_to_save(results: tuple[Any, Any, Any], tmp_path: Path) -> None:
    """On an Axes of a SubFigure each function returns the top Figure (what is shown and saved, as on any other
    Axes), which save_figure writes; a SubFigure itself is refused with what to pass instead."""
    from PIL import Image

    figures = _figures(results)
    fig = Figure(figsize=(6, 3 * len(figures)), layout="constrained")
    rows: Any = fig.subfigures(len(figures), 1)
    for (name, draw), sub in zip(figures.items(), rows, strict=True):
        ax = sub.subplots()
        assert draw(ax) is fig, name
        assert ax.has_data() or ax.texts, name
    sm.save_figure(fig, tmp_path / "all.png", dpi=40)
    with Image.open(tmp_path / "all.png") as image:
        assert image.size == (240, 40 * 3 * len(figures))
    with pytest.raises(OptionError, match=r"^fig: expected a matplotlib Figure .*got SubFigure; save the Figure it"):
        sm.save_figure(rows[0], tmp_path / "sub.png")
    assert not (tmp_path / "sub.png").exists()
