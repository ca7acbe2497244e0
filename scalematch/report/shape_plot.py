"""Width-height density of the objects (hexbin, log-log) with the anchor shapes on top."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scalematch.match.recommend import Recommendation
from scalematch.report.columns import UsableRows
from scalematch.report.style import figure_for, level_colors, style

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def shape_figure(table: pd.DataFrame, rec: Recommendation, gridsize: int = 48, ax: Axes | None = None) -> Figure:
    """Hexbin of (w_in, h_in) of the usable objects, log-log (colour: count per cell, log scale), with the fitted
    anchors of the recommended levels (filled, coloured by level), the toolkit defaults (hollow grey) and the
    square-shape diagonal.

    The axes are in log2 units (the tick at 5 reads 32 px): hexagons are binned on log2(w), log2(h), so they
    keep their shape; every artist's data is in those units.
    """
    import numpy as np
    from matplotlib.colors import LogNorm
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    rows = UsableRows(table)
    w = np.log2(rows.floats("w_in"))
    h = np.log2(rows.floats("h_in"))
    points = [float(w.min()), float(w.max()), float(h.min()), float(h.max())] if len(w) else [0.0, 1.0]
    with style():
        fig, ax = figure_for(ax, (6.2, 5.2))
        if len(w):
            hb = ax.hexbin(w, h, gridsize=gridsize, mincnt=1, cmap="mako_r", norm=LogNorm(), linewidths=0.1,
                           gid="density")  # fmt: skip
            bar = fig.colorbar(hb, ax=ax, label="objects per cell", shrink=0.8)
            bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            bar.minorticks_off()
        a = rec.anchors
        if a is not None:
            if a.default is not None:
                dw, dh, _ = a.default.flat()
                ax.plot(np.log2(dw), np.log2(dh), "s", mfc="none", mec="0.45", ms=6, ls="none",
                        label="toolkit default anchors", gid="anchors:default")  # fmt: skip
                points += [*np.log2(dw), *np.log2(dh)]
            colors = level_colors(len(rec.full.levels))
            index = {lv.name: k for k, lv in enumerate(rec.full.levels)}
            for name, shapes in zip(rec.recommended_levels, a.fitted.shapes, strict=True):
                fw, fh = np.log2([s[0] for s in shapes]), np.log2([s[1] for s in shapes])
                ax.plot(fw, fh, "o", color=colors[index[name]], mec="white", mew=0.9, ms=7, ls="none",
                        label=f"fitted anchors {name}", gid=f"anchors:{name}")  # fmt: skip
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
        ax.legend(loc="upper left", fontsize=7)
        ax.set_title(f"Object shapes ({len(w)}) and anchors", fontsize=10)
    return fig
