"""Positives per object against object size, coloured by level: the view S3FD (Zhang et al. 2017) used to show
that small faces match too few anchors."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from scalematch._text import counted
from scalematch.match.assign import Simulation
from scalematch.match.positives import SIZE_BINS, main_level
from scalematch.report.style import TOO_SMALL_COLOR, drawable, figure_for, level_colors, log2_axis, room_outside, style

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

JITTER = 0.12
"""Vertical spread of the points (in log2 units of positives + 1) so that equal counts do not hide each other;
deterministic (fixed seed)."""


def positives_figure(sim: Simulation, ax: Axes | None = None, seed: int = 0) -> Figure:
    """One point per object: x = sqrt(w * h) of the box the assigner sees (input pixels, log2), y = positives + 1
    (log2, so that 0 positives sits on the bottom line), coloured by the level holding most of its positives
    (grey: none). The black steps are the median positives per size bucket."""
    import numpy as np
    from matplotlib.lines import Line2D
    from matplotlib.ticker import NullLocator

    from scalematch import _args

    _args.expect(sim, "sim", Simulation, "a detector result's simulation (result.simulation)")
    seed = _args.at_least(seed, "seed", 0)
    _args.axes(ax)
    size = np.sqrt(sim.w_in * sim.h_in)
    keep = size > 0
    main = main_level(sim)
    colors = level_colors(len(sim.levels))
    rng = np.random.default_rng(seed)
    y = (sim.positives + 1) * np.exp2(rng.uniform(-JITTER, JITTER, len(size)))
    with style():
        fig, ax = figure_for(ax, (8.2, 4.2))
        none = keep & (sim.positives == 0)
        ax.scatter(size[none], y[none], s=9, color=TOO_SMALL_COLOR, marker="x", linewidths=0.8, gid="none")
        handles = [Line2D([], [], color=TOO_SMALL_COLOR, marker="x", ls="", label=f"no positive ({int(none.sum())})")]
        by_level = not sim.upper_bound
        for k, name in enumerate(sim.levels):
            mine = keep & (sim.positives > 0) & ((main == k) if by_level else (k == 0))
            if not mine.any():
                continue
            color = colors[k] if by_level else "0.35"
            ax.scatter(size[mine], y[mine], s=7, color=color, alpha=0.6, linewidths=0, gid=f"level-{name}")
            label = f"{drawable(name)} ({int(mine.sum())})" if by_level else f"candidates ({int(mine.sum())})"
            handles.append(Line2D([], [], color=color, marker="o", ls="", label=label))
        # Median per size bucket, as steps across each bucket's span of the data.
        lo_all, hi_all = (float(size[keep].min()), float(size[keep].max())) if keep.any() else (1.0, 2.0)
        for lo, hi in itertools.pairwise(SIZE_BINS):
            inside = keep & (size >= lo) & (size < hi)
            if inside.any():
                med = float(np.median(sim.positives[inside])) + 1
                ax.plot([max(lo, lo_all), min(hi, hi_all)], [med, med], color="black", lw=1.6, gid="median")
        handles.append(Line2D([], [], color="black", lw=1.6, label="median per size bucket"))
        log2_axis(ax, "x")
        ax.set_yscale("log", base=2)
        top = int(sim.positives.max(initial=0))
        ticks = [0, 1, 2, 4] + [2**k for k in range(3, max(top, 1).bit_length() + 1)]
        ax.set_yticks([t + 1 for t in ticks], [str(t) for t in ticks])
        ax.yaxis.set_minor_locator(NullLocator())
        ax.set_xlabel("object size √(w·h) in input pixels")
        ax.set_ylabel("positives (log scale of positives + 1)")
        what = "upper bound: candidate points" if sim.upper_bound else "colour: the level holding most"
        ax.set_title(
            f"Positives per object, {drawable(sim.preset.name)} ({counted(len(size), 'object')}; {what})", fontsize=10
        )
        if room_outside(ax):
            ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7)
        else:  # a figure without layout: inside ax, not over the subplot beside it
            ax.legend(handles=handles, loc="best", fontsize=7, frameon=True, framealpha=0.85)
        return fig
