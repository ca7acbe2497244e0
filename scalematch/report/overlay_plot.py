"""The overlay: the distribution of object sizes against what each feature level resolves, holds and takes.

The central picture of a recommendation. The x axis is the object's longer side max(w, h) in input pixels on a
log2 scale: the quantity the rf rule's ERF limit applies to, and the one to compare with a receptive field (an
extent). Below (left axis): the histogram of the longer sides, binned once with numpy (8 bins per octave) and
stacked by the level each object is assigned to (or by COCO's small / medium / large, or by category). Above
(right axis): one lane per candidate level, finest at the top, with

- the band of longer sides the level is assigned (smallest to largest of its objects), in the level's colour;
- ``▶`` its minimum size, ``min_cells`` x stride: the rf rule asks sqrt(w * h) to reach it, so the longer side of
  every object the level resolves reaches it too (a bound on this axis, not a cut: a thin object can pass ``▶``
  and still be too small);
- ``◀`` its ERF limit, the rf rule's cut on the longer side, ``±erf_factor σ`` = ``erf_factor`` ERF diameters,
  where the ERF diameter is ``2σ`` (the same definition as the profile figure's), joined to ``▶`` by a thin line:
  the sizes the level can take;
- ``|`` its theoretical receptive field;
- ``▼`` the longer sides of the recommended level's anchors: the fitted ones, or the toolkit defaults where they are
  kept (``--rule yolo`` when the fit does not raise BPR), as the exports write them.

Under the rf rule, every object a level takes lies between its ``▶`` and ``◀``, and every object too large lies
beyond the ``◀`` of each level that resolves it.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Literal, get_args

from scalematch import _args
from scalematch._text import counted
from scalematch.match.recommend import Recommendation
from scalematch.match.rules import TOO_LARGE, TOO_SMALL
from scalematch.report.columns import UsableRows
from scalematch.report.style import (
    TOO_LARGE_COLOR,
    TOO_SMALL_COLOR,
    category_tick_labels,
    drawable,
    figure_for,
    level_colors,
    log2_axis,
    outside_layout,
    room_outside,
    style,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    Array = npt.NDArray[np.float64]
    IntArray = npt.NDArray[np.int64]

Split = Literal["level", "coco", "category", "none"]
PER_OCTAVE = 8
COCO_SMALL, COCO_MEDIUM = 32.0**2, 96.0**2
COCO_LABELS = ("COCO small (area < 32²)", "COCO medium (32² ≤ area < 96²)", "COCO large (area ≥ 96²)")
COCO_NOTE = (
    "COCO classes on the annotation area; each object is drawn once, so an area of exactly 32² or 96² is in the "
    "upper class here (COCOeval and scalematch stats count it in both)"
)


def log2_histogram(sizes: Array, groups: IntArray, n_groups: int, per_octave: int = PER_OCTAVE) -> tuple[Array, Array]:
    """Bin edges (log2-spaced, ``per_octave`` bins per doubling) and counts of shape ``(n_groups, bins)``.

    One pass over the data: the bin index of every size is computed once and counted with ``groups`` (0 ..
    n_groups - 1) by a single ``bincount``, so a million sizes take a few milliseconds.
    """
    import numpy as np

    if sizes.size == 0:
        return np.array([1.0, 2.0]), np.zeros((n_groups, 1))
    logs = np.log2(sizes)
    lo = np.floor(logs.min() * per_octave) / per_octave
    hi = max(np.ceil(logs.max() * per_octave) / per_octave, lo + 1 / per_octave)
    bins = round((hi - lo) * per_octave)
    index = np.clip(((logs - lo) * per_octave).astype(np.int64), 0, bins - 1)
    counts = np.bincount(groups * bins + index, minlength=n_groups * bins).reshape(n_groups, bins)
    edges = 2.0 ** (lo + np.arange(bins + 1) / per_octave)
    return edges, counts.astype(np.float64)


def groups_of(
    rows: UsableRows, level: IntArray, names: list[str], split: Split, top: int
) -> tuple[IntArray, list[str], list[tuple[float, ...]]]:
    """Group index per object, group labels and colours for a split of the histogram."""
    import numpy as np

    n = len(names)
    if split == "level":
        colors: list[tuple[float, ...]] = [*level_colors(n)]
        group = np.where(level == TOO_SMALL, n, np.where(level == TOO_LARGE, n + 1, level))
        return (
            group.astype(np.int64),
            [*(drawable(name) for name in names), "too small", "too large"],
            [*colors, _rgb(TOO_SMALL_COLOR), _rgb(TOO_LARGE_COLOR)],
        )
    if split == "coco":
        area = rows.floats("area") if "area" in rows else rows.floats("w") * rows.floats("h")
        group = np.digitize(area, [COCO_SMALL, COCO_MEDIUM])  # a boundary area goes to the upper class
        labels = [*COCO_LABELS]
        return group.astype(np.int64), labels, _palette(3)
    if split == "category" and "category" in rows:
        import pandas as pd

        cats = pd.Series(rows.categories())
        order = list(cats.value_counts().index[:top])
        codes = pd.Index(order).get_indexer(cats).astype(np.int64)
        has_other = len(order) < cats.nunique()
        group = np.where(codes < 0, len(order), codes)
        labels = category_tick_labels(order)  # (a backslash doubled: one name each)
        labels = [*labels, "other"] if has_other else labels
        return group.astype(np.int64), labels, _palette(len(labels))
    return np.zeros(len(rows), dtype=np.int64), ["objects"], [_rgb("#4c72b0")]


def _rgb(color: str) -> tuple[float, ...]:
    from matplotlib.colors import to_rgb

    return tuple(to_rgb(color))


def _palette(n: int) -> list[tuple[float, ...]]:
    import seaborn as sns

    return [tuple(c) for c in sns.color_palette("deep", n_colors=n)]


def overlay_figure(
    table: pd.DataFrame, rec: Recommendation, split: Split = "level", top: int = 6, ax: Axes | None = None
) -> Figure:
    """Object sizes (longer side, input px, log2) with every candidate level's assigned band, minimum size, ERF
    limit, receptive field and fitted anchors (see the module docstring for how to read it).

    ``table`` is the box table the recommendation was made from (its usable rows are taken again, in the same
    order); ``split`` stacks the histogram by assigned ``level`` (default), by COCO area class, by the ``top``
    categories (the rest as "other") or not at all. The COCO classes are taken on the annotation ``area`` with
    boundaries to the upper class (``area < 32²``, ``32² ≤ area < 96²``, ``area ≥ 96²``): a stacked histogram
    draws each object once, whereas COCOeval and ``scalematch stats`` count an area of exactly 32² or 96² in both
    classes; the figure says so. The histogram is drawn on ``ax`` (or a new figure) and the level lanes on its
    twin axis.
    """
    import numpy as np
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    check_table_and_recommendation(table, rec)
    _args.choice(split, "split", get_args(Split))
    top = _args.at_least(top, "top", 1)
    _args.axes(ax)
    result = rec.full
    rows = UsableRows(table)
    level = result.assignment.level
    sizes = np.maximum(*rows.sides(len(level)))  # the longer side, as the ERF limit
    names = [lv.name for lv in result.levels]
    group, labels, colors = groups_of(rows, level, names, split, top)
    edges, counts = log2_histogram(sizes, group, len(labels))
    chosen = set(rec.recommended_levels)
    min_cells, erf_factor = rec.params.min_cells, rec.params.erf_factor
    fitted = dict(zip(rec.recommended_levels, rec.anchors.recommended.shapes, strict=True)) if rec.anchors else {}
    anchors_name = rec.anchors.recommended_name if rec.anchors else "fitted anchors"

    with style():
        fig, ax = figure_for(ax, (9.0, 5.6))
        bottom = np.zeros(counts.shape[1])
        for k, label in enumerate(labels):
            if not counts[k].any():
                continue
            ax.stairs(bottom + counts[k], edges, baseline=bottom.copy(), fill=True, color=colors[k], alpha=0.85,
                      label=label, gid=f"hist:{label}")  # fmt: skip
            bottom += counts[k]
        ax.stairs(bottom, edges, color="0.15", lw=0.8, gid="hist:total")
        log2_axis(ax, "x")
        peak = max(float(bottom.max()), 1.0)
        ax.set_ylim(0, peak * 2.1)  # the histogram fills the lower half, the lanes the upper
        ax.set_yticks([t for t in MaxNLocator(5, integer=True).tick_values(0, peak) if t <= peak])
        ax.set_xlabel("object size: longer side max(w, h) in input pixels (log2)")
        ax.set_ylabel(f"objects per 1/{PER_OCTAVE} octave", loc="bottom")

        lanes = ax.twinx()
        lanes.grid(False)
        lanes.spines["right"].set_visible(False)
        n = len(result.levels)
        lane_colors = level_colors(n)
        marks: list[float] = [float(edges[0]), float(edges[-1])]
        for k, (lv, load) in enumerate(zip(result.levels, result.loads, strict=True)):
            y = n - 1 - k  # finest at the top
            strong = lv.name in chosen
            lo_size, erf_limit = min_cells * lv.stride, 2 * erf_factor * lv.erf_sigma
            lanes.plot([lo_size, erf_limit], [y, y], color="0.35", lw=0.9, zorder=2, gid=f"span:{lv.name}")
            lanes.plot([lo_size], [y], ">", color="0.1", ms=7, zorder=4, gid=f"min:{lv.name}")
            lanes.plot([erf_limit], [y], "<", color="0.1", ms=7, zorder=4, gid=f"erf:{lv.name}")
            lanes.plot([lv.rf], [y], "|", color="0.45", ms=14, mew=1.6, zorder=4, gid=f"rf:{lv.name}")
            marks += [lo_size, erf_limit, lv.rf]
            taken = sizes[level == k]
            if taken.size:
                lo, hi = float(taken.min()), float(taken.max())
                lanes.broken_barh([(lo, hi - lo)], (y - 0.28, 0.56), color=lane_colors[k],
                                  alpha=0.9 if strong else 0.45, zorder=3, gid=f"band:{lv.name}")  # fmt: skip
                # the count goes right of the band and of the ◀ mark, whichever ends later
                lanes.annotate(f"{load.count} ({100 * load.fraction:.0f}%)", (max(hi, erf_limit), y),
                               xytext=(7, -3), textcoords="offset points", fontsize=7, color="0.25",
                               gid=f"count:{lv.name}")  # fmt: skip
            shapes = fitted.get(lv.name, ())
            if shapes:
                anchor_sizes = [float(max(w, h)) for w, h in shapes]
                lanes.plot(anchor_sizes, [y + 0.42] * len(shapes), "v", ms=5, color=lane_colors[k], mec="0.1",
                           mew=0.5, ls="none", zorder=5, gid=f"anchors:{lv.name}")  # fmt: skip
                marks += anchor_sizes
        outside_layout(lanes.texts)
        lanes.set_ylim(-1.25 * n, n - 0.35)
        lanes.set_yticks(range(n), [f"{drawable(lv.name)}{'*' if lv.name in chosen else ''}"
                                    for lv in reversed(result.levels)])  # fmt: skip
        lanes.tick_params(axis="y", length=0)
        outside = room_outside(ax)  # else the legend and the lanes' label stay inside ax (a figure without layout)
        if outside:
            lanes.set_ylabel("levels (* recommended)", loc="top")
        ax.set_xlim(min(marks) / 1.25, max(marks) * 1.25)

        key = [
            Line2D([], [], marker=">", color="0.1", ls="none",
                   label=f"min size {min_cells:g} × stride (on √(w·h) ≤ longer side)"),
            Line2D([], [], marker="<", color="0.1", ls="none",
                   label=f"ERF limit ±{erf_factor:g}σ = {erf_factor:g} ERF diameters (2σ)"),
            Line2D([], [], marker="|", color="0.45", ms=10, mew=1.6, ls="none", label="receptive field"),
            Line2D([], [], marker="v", color="0.6", mec="0.1", ls="none", label=f"{anchors_name} (longer side)"),
        ]  # fmt: skip
        handles, _ = ax.get_legend_handles_labels()
        if outside:
            note = "\n".join(textwrap.wrap(COCO_NOTE, 110)) if split == "coco" else None
            ax.legend(handles=[*handles, *key], loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize=7,
                      ncols=3 if split == "coco" else 4, title=note, title_fontsize=7)  # fmt: skip
        else:
            key.append(Line2D([], [], ls="none", label="level*: recommended"))
            note = "\n".join(textwrap.wrap(COCO_NOTE, 60)) if split == "coco" else None
            # on the twin axes, drawn above the lanes; "best" there avoids the lanes
            lanes.legend(
                handles=[*handles, *key],
                loc="best",
                fontsize=6,
                ncols=2,
                title=note,
                title_fontsize=6,
                frameon=True,
                framealpha=0.85,
            )
        ax.set_title(
            f"{counted(result.total, 'object')} against {counted(n, 'level')}, rule {rec.rule.value}: "
            "which level takes which sizes",
            fontsize=10,
        )
    return fig


def check_table_and_recommendation(table: object, rec: object) -> None:
    """An :class:`OptionError` unless ``table`` is a DataFrame and ``rec`` a :class:`Recommendation`."""
    import pandas as pd

    _args.expect(table, "table", pd.DataFrame, "the box table of the recommendation (design.data.table)")
    _args.expect(rec, "rec", Recommendation, "a rule design's recommendation (design.recommendation)")
