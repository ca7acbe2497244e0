"""Width-height density of the objects (hexbin, log-log) with the anchor shapes on top."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scalematch.match.recommend import Recommendation
from scalematch.report.columns import UsableRows
from scalematch.report.style import drawable, figure_for, level_colors, style

DEFAULT_ANCHOR_COLOR = "#d62728"  # red: no level colour and no grey of the density
ANCHOR_MARKERS = ("o", "D", "^", "v", "P", "X", "h")  # one per recommended level, after the default's square

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.colors import Colormap
    from matplotlib.figure import Figure


def count_ticks(top: int) -> list[int]:
    """Colour-bar ticks for counts 1 .. ``top`` on a log scale: 1, 2, 5, 10, 20, 50 ... below ``top``, and ``top``."""
    ticks, base = [], 1
    while base <= top:
        ticks += [t for t in (base, 2 * base, 5 * base) if t < top]
        base *= 10
    return [*ticks, top] if top > 1 else [1]


MAX_GRIDSIZE = 1000
"""Most hexagons across the figure (matplotlib's hexbin draws about gridsize² of them)."""


def shape_figure(table: pd.DataFrame, rec: Recommendation, gridsize: int = 48, ax: Axes | None = None) -> Figure:
    """Hexbin of (w_in, h_in) of the usable objects, log-log, in greys (shade: count per cell, log scale), with
    the fitted anchors of the recommended levels (filled, one colour and marker per level) and the toolkit
    defaults (hollow red squares) on top, and the square-shape diagonal. Where the defaults are kept (``--rule
    yolo`` when the fit does not raise BPR) they are what is drawn per level, as the exports write them, and the
    fitted ones are left out.

    The colour bar is ticked at whole counts up to the largest (1, 2, 5, 10 ... and the maximum); when no cell
    holds more than one object there is no colour bar and the legend says so. The axes are in log2 units (the
    tick at 5 reads 32 px): hexagons are binned on log2(w), log2(h), so they keep their shape; every artist's
    data is in those units.
    """
    import numpy as np
    from matplotlib.colors import ListedColormap, LogNorm
    from matplotlib.patches import RegularPolygon
    from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullLocator

    from scalematch import _args
    from scalematch.report.overlay_plot import check_table_and_recommendation

    check_table_and_recommendation(table, rec)
    gridsize = _args.at_least(gridsize, "gridsize", 1, MAX_GRIDSIZE)
    _args.axes(ax)
    rows = UsableRows(table)
    w, h = (np.log2(side) for side in rows.sides())
    points = [float(w.min()), float(w.max()), float(h.min()), float(h.max())] if len(w) else [0.0, 1.0]
    greys = mpl_greys()
    with style():
        fig, ax = figure_for(ax, (6.2, 5.2))
        handles = []
        if len(w):
            hb = ax.hexbin(w, h, gridsize=gridsize, mincnt=1, cmap=greys, linewidths=0.1, gid="density")
            top = int(np.asarray(hb.get_array()).max())
            if top > 1:
                hb.set_norm(LogNorm(vmin=1, vmax=top))
                bar = fig.colorbar(hb, ax=ax, label="objects per cell", shrink=0.8)
                bar.ax.yaxis.set_major_locator(FixedLocator(count_ticks(top)))
                bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
                bar.ax.yaxis.set_minor_locator(NullLocator())
            else:
                hb.set_cmap(ListedColormap([greys(0.6)]))
                handles.append(RegularPolygon((0, 0), 6, radius=1, color=greys(0.6), label="one object per cell"))
        a = rec.anchors
        if a is not None:
            if a.default is not None and not a.kept_default:
                dw, dh, _ = a.default.flat()
                ax.plot(np.log2(dw), np.log2(dh), "s", mfc="none", mec=DEFAULT_ANCHOR_COLOR, mew=1.3, ms=6,
                        ls="none", label="toolkit default anchors", gid="anchors:default")  # fmt: skip
                points += [*np.log2(dw), *np.log2(dh)]
            colors = level_colors(len(rec.full.levels))
            index = {lv.name: k for k, lv in enumerate(rec.full.levels)}
            for k, (name, shapes) in enumerate(zip(rec.recommended_levels, a.recommended.shapes, strict=True)):
                fw, fh = np.log2([s[0] for s in shapes]), np.log2([s[1] for s in shapes])
                ax.plot(fw, fh, ANCHOR_MARKERS[k % len(ANCHOR_MARKERS)], color=colors[index[name]], mec="white",
                        mew=0.9, ms=7, ls="none", label=f"{a.recommended_name} {drawable(name)}",
                        gid=f"anchors:{name}")  # fmt: skip
                points += [*fw, *fh]
        lo, hi = min(points) - 0.4, max(points) + 0.4
        ax.plot([lo, hi], [lo, hi], color="0.6", lw=0.8, ls="--", gid="diagonal")
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_locator(MaxNLocator(integer=True))
            axis.set_major_formatter(FuncFormatter(lambda v, _: f"{2**v:g}"))
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_aspect("equal")
        ax.set_xlabel("width in input pixels (log2 axis)")
        ax.set_ylabel("height in input pixels (log2 axis)")
        ax.legend(handles=[*ax.get_legend_handles_labels()[0], *handles], loc="upper left", fontsize=7)
        ax.set_title(f"Object shapes ({len(w)}) and anchors", fontsize=10)
    return fig


def mpl_greys() -> Colormap:
    """Greys from light to dark, without the white end (a one-object cell must show on a white background)."""
    import matplotlib as mpl
    import numpy as np
    from matplotlib.colors import ListedColormap

    return ListedColormap(mpl.colormaps["Greys"](np.linspace(0.22, 0.85, 256)), name="scalematch_greys")
