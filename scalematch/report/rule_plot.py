"""The rf rule drawn: what each level accepts (min cells to +-k ERF sigma), prefers (4 x stride) and takes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scalematch.match.levels import Level
from scalematch.match.rules import Rule, RuleParams, assign
from scalematch.report.style import drawable, figure_for, style

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def rf_rule_figure(levels: tuple[Level, ...], params: RuleParams | None = None, ax: Axes | None = None) -> Figure:
    """One row per level: a bar from its smallest resolved size (min_cells x stride) to the longest side its ERF
    holds (2 x erf_factor x sigma), a diamond at the preferred size 4 x stride, a tick at the RF; the bottom
    strip is the level the rule gives square objects of each size (grey: too small / too large)."""
    import numpy as np

    from scalematch import _args

    _args.axes(ax)
    p = params or RuleParams()
    with style():
        fig, ax = figure_for(ax, (8, 1.2 + 0.55 * len(levels)))
        for k, lv in enumerate(levels):
            y = len(levels) - k
            lo, hi = p.min_cells * lv.stride, 2 * p.erf_factor * lv.erf_sigma
            ax.plot([lo, hi], [y, y], lw=6, color=f"C{k}", alpha=0.55, solid_capstyle="butt")
            ax.plot([4 * lv.stride], [y], "D", color=f"C{k}", ms=6)
            ax.plot([lv.rf], [y], "|", color="0.3", ms=12)
        sizes = np.geomspace(1, 4096, 1200)
        taken = assign(Rule.RF, sizes, sizes, levels, p).level
        for k in range(-2, len(levels)):
            mask = taken == k
            if mask.any():
                ax.fill_between(sizes, -0.4, 0.4, where=mask, color=f"C{k}" if k >= 0 else "0.85", step="mid", lw=0)
        ax.set_xscale("log", base=2)
        ax.set_xlim(1, 4096)
        ax.set_ylim(-0.7, len(levels) + 0.7)
        ax.set_yticks([0, *range(1, len(levels) + 1)], ["assigned", *[drawable(lv.name) for lv in reversed(levels)]])
        ax.set_xlabel("object size in input pixels (square objects; log2)")
        ax.set_title(
            f"rf rule: bar = min {p.min_cells:g} cells to +-{p.erf_factor:g} ERF sigma, diamond = 4 x stride, "
            "tick = RF",
            fontsize=9,
        )
    return fig
