"""Per-level figures of a match: the load of every level (bars) and the category x level spread (heatmap)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scalematch._text import counted
from scalematch.errors import OptionError
from scalematch.match.result import MatchResult
from scalematch.report.style import (
    TOO_LARGE_COLOR,
    TOO_SMALL_COLOR,
    category_tick_labels,
    drawable,
    figure_for,
    fit_fonts,
    level_colors,
    outside_layout,
    style,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def load_figure(result: MatchResult, recommended: str | Sequence[str] | None = (), ax: Axes | None = None) -> Figure:
    """Objects per level, with too small on the left and too large on the right; bar height = count.

    ``recommended`` names levels of ``result`` (``'P3,P4'`` or a list, as ``design.recommendation
    .recommended_levels`` gives them): those are drawn solid and the others hatched; none (the default) draws
    every level solid. Every bar is labelled with its count and share.
    """
    from scalematch import _args

    _check_match(result)
    _args.axes(ax)
    level_names = [lv.name for lv in result.levels]
    recommended = _args.names(recommended, "recommended", "level names ('P3,P4' or a list)")
    unknown = [name for name in recommended if name not in level_names]
    if unknown:
        raise OptionError(
            f"recommended: expected levels of the match ({', '.join(level_names)}), got {_args.shown(unknown[0])}"
        )
    names = ["too small", *(lv.name for lv in result.levels), "too large"]
    counts = [result.too_small, *(load.count for load in result.loads), result.too_large]
    colors = [TOO_SMALL_COLOR, *level_colors(len(result.levels)), TOO_LARGE_COLOR]
    with style():
        fig, ax = figure_for(ax, (7.0, 3.6))
        bars = ax.bar(range(len(names)), counts, tick_label=[drawable(name) for name in names], color=colors,
                      edgecolor="0.2", linewidth=0.6, gid="load")  # fmt: skip
        for name, bar in zip(names, bars, strict=True):
            if recommended and name in level_names and name not in recommended:
                bar.set_hatch("///")
                bar.set_alpha(0.55)
        total = max(result.total, 1)
        outside_layout(
            ax.bar_label(bars, labels=[f"{c}\n{100 * c / total:.1f}%" for c in counts], fontsize=7, padding=2)
        )
        ax.set_ylim(0, max(max(counts), 1) * 1.25)
        ax.set_ylabel("objects")
        ax.grid(axis="x", visible=False)
        note = "; hatched: not recommended" if recommended else ""
        ax.set_title(f"Load per level ({counted(result.total, 'object')}, rule {result.rule.value}{note})", fontsize=10)
    return fig


def category_shares(result: MatchResult, top: int = 20) -> pd.DataFrame:
    """Row shares (each category's objects over too small, the levels, too large) of the ``top`` categories by
    count, most frequent first; an empty frame without categories."""
    import pandas as pd

    table = result.per_category
    empty: pd.DataFrame = pd.DataFrame()
    if table is None or table.empty:
        return empty
    order = ["too small", *(lv.name for lv in result.levels), "too large"]
    counts = table[order]
    totals = counts.sum(axis=1)
    picked = totals.sort_values(ascending=False, kind="stable").index[:top]
    shares: pd.DataFrame = counts.loc[picked].div(totals.loc[picked], axis=0)
    return shares


def category_figure(result: MatchResult, top: int = 20, ax: Axes | None = None) -> Figure:
    """Heatmap of the share of each category's objects per level (rows sum to 1), the ``top`` categories by
    count, with the count after each name; cells of at least 0.5% carry their percentage."""
    import seaborn as sns
    from seaborn.utils import axis_ticklabels_overlap

    from scalematch import _args

    _check_match(result)
    top = _args.at_least(top, "top", 1)
    _args.axes(ax)
    shares = category_shares(result, top)
    table = result.per_category
    totals = table.sum(axis=1) if table is not None else None
    with style():
        fig, ax = figure_for(ax, (7.5, 1.6 + 0.26 * max(len(shares), 1)))
        if shares.empty or totals is None:
            ax.text(0.5, 0.5, "no categories", ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
            return fig
        names = category_tick_labels(shares.index)
        labels = [f"{name} ({int(totals.loc[key])})" for name, key in zip(names, shares.index, strict=True)]
        values = shares.to_numpy()
        # only cells of at least 0.5% are written out: fewer texts to draw, and empty cells read as empty
        annot = [[f"{v:.0%}" if v >= 0.005 else "" for v in row] for row in values]
        sns.heatmap(values, ax=ax, vmin=0, vmax=1, cmap="rocket_r", annot=annot, fmt="",
                    annot_kws={"fontsize": 6.5}, linewidths=0.4, linecolor="white",
                    xticklabels=False, yticklabels=False,
                    cbar_kws={"label": "share of the category's objects", "shrink": 0.6})  # fmt: skip
        outside_layout(ax.texts)  # the annotations
        # the names are written after the heatmap: seaborn draws the figure to measure its labels, before
        # fit_fonts gives them the fonts their characters need
        ax.set_yticks([k + 0.5 for k in range(len(labels))], labels, rotation=0, va="center")
        ax.set_xticks([k + 0.5 for k in range(shares.shape[1])], [drawable(str(c)) for c in shares.columns])
        columns = ax.get_xticklabels()
        fit_fonts(fig)  # before measuring the labels, as seaborn does, to turn them if they overlap
        if axis_ticklabels_overlap(columns):
            for label in columns:
                label.set_rotation(90)
        ax.tick_params(axis="y", labelsize=7)
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.set_title(f"Where each category goes: top {len(shares)} of {len(table)} by count", fontsize=10)  # type: ignore[arg-type]
    return fig


def _check_match(result: object) -> None:
    from scalematch import _args

    _args.expect(result, "result", MatchResult, "a rule design's level match (design.recommendation.full)")
