"""Figures drawn on a user's Axes (``ax=``) in a grid: on a figure without a layout engine (``plt.subplots()`` as
it comes) their legends and labels stay inside the given Axes, not over the subplots beside them; on a
constrained figure, and on the figures made here, the legend keeps its place outside, where the layout makes
room for it."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from matplotlib.backend_bases import RendererBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import scalematch as sm


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
