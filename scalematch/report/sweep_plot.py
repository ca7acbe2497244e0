"""The design sweep: coverage of every backbone x resize policy, with the level set each one recommends.

The colour is on the miss rate 1 - coverage, log scale, from 100 % down to 0.1 % (coverage 0 %, 90 %, 99 %,
99.9 % and above are equally far apart), so designs at 91 % and 99.6 % look as different as they are; every
cell is annotated with its coverage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scalematch._text import counted
from scalematch.dataset.resize import policy_text
from scalematch.errors import OptionError
from scalematch.match.design import Design
from scalematch.report.recommend_text import level_span
from scalematch.report.style import drawable, figure_for, outside_layout, style

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

MISS_FLOOR = 1e-3  # a miss rate below 0.1 % (coverage above 99.9 %) takes the colour of 0.1 %


def coverage_label(coverage: float) -> str:
    """Coverage as a percentage with one decimal, more when one decimal would round a miss to "100.0%"."""
    digits = 1
    while coverage < 1 and round(100 * coverage, digits) >= 100 and digits < 4:
        digits += 1
    return f"{100 * coverage:.{digits}f}%"


def sweep_table(designs: list[Design]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Coverage of the recommended run (rows: backbones, columns: resize policies as :func:`policy_text` names them,
    in first-seen order) and
    the matching labels ("P3-P5 ✓" when the target is reached)."""
    import pandas as pd

    backbones = list(dict.fromkeys(d.backbone for d in designs))
    policies = list(dict.fromkeys(policy_text(d.resize) for d in designs))
    coverage = pd.DataFrame(float("nan"), index=backbones, columns=policies)
    labels = pd.DataFrame("", index=backbones, columns=policies)
    for d in designs:
        r = d.recommendation
        span = level_span(r)
        coverage.loc[d.backbone, policy_text(d.resize)] = r.chosen.coverage
        labels.loc[d.backbone, policy_text(d.resize)] = (
            f"{coverage_label(r.chosen.coverage)}\n{span}{' ✓' if r.reached else ''}"
        )
    return coverage, labels


def sweep_figure(designs: list[Design], ax: Axes | None = None) -> Figure:
    """Heatmap of coverage per backbone (rows) and resize policy (columns), coloured on the miss rate (log),
    annotated with the coverage and the recommended level run (✓: the coverage target is reached); the best
    design is outlined. A multi-scale policy's column says that both its ends are judged."""
    from scalematch import _args
    from scalematch.match.design import ranked

    if not isinstance(designs, list | tuple) or not designs or not all(isinstance(d, Design) for d in designs):
        raise OptionError(
            f"designs: expected a non-empty list of Designs (list(swept.designs)), got {_args.shown(designs)}"
        )
    _args.axes(ax)
    coverage, labels = sweep_table(designs)
    best = ranked(designs)[0]
    cell = (list(coverage.index).index(best.backbone), list(coverage.columns).index(policy_text(best.resize)))
    both = {policy_text(d.resize): "(both ends judged)" for d in designs if d.recommendation.both_ends}
    title = f"Design sweep: {counted(len(designs), 'design')} (outlined: best)"
    return coverage_heatmap(coverage, labels, cell, title, ax, notes=both)


def coverage_heatmap(
    coverage: pd.DataFrame,
    labels: pd.DataFrame,
    best: tuple[int, int],
    title: str,
    ax: Axes | None = None,
    notes: dict[str, str] | None = None,
) -> Figure:
    """The sweep heatmap of ``coverage`` (rows: backbones, columns: resize policies) with ``labels`` written in the
    cells and the cell ``best`` (row, column) outlined; the colour is the miss rate 1 - coverage on a log scale.
    ``notes``: a line written under a column's name (by the name)."""
    import numpy as np
    import seaborn as sns
    from matplotlib.colors import LogNorm
    from matplotlib.patches import Rectangle
    from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

    miss = np.clip(1 - coverage.to_numpy(dtype=float), MISS_FLOOR, 1.0)
    with style():
        fig, ax = figure_for(ax, (2.2 + 2.0 * coverage.shape[1], 1.4 + 0.6 * coverage.shape[0]))
        sns.heatmap(miss, ax=ax, norm=LogNorm(vmin=MISS_FLOOR, vmax=1.0), cmap="mako", annot=labels.to_numpy(),
                    fmt="", annot_kws={"fontsize": 8}, linewidths=0.6, linecolor="white",
                    xticklabels=False, yticklabels=False,
                    cbar_kws={"label": "coverage\n(colour: log of\n1 − coverage)"})  # fmt: skip
        outside_layout(ax.texts)
        # the names are written after the heatmap (seaborn draws the figure to measure its labels, before style()
        # gives them the fonts their characters need), escaped as every name in a figure
        notes = notes or {}
        names = [drawable(str(c)) + (f"\n{notes[c]}" if c in notes else "") for c in coverage.columns]
        ax.set_xticks([k + 0.5 for k in range(coverage.shape[1])], names)
        ax.set_yticks(
            [k + 0.5 for k in range(coverage.shape[0])], [drawable(str(i)) for i in coverage.index], va="center"
        )
        bar = ax.collections[0].colorbar
        if bar is not None:
            bar.ax.yaxis.set_major_locator(FixedLocator([1.0, 0.1, 0.01, MISS_FLOOR]))
            bar.ax.yaxis.set_major_formatter(FixedFormatter(["0%", "90%", "99%", "≥ 99.9%"]))
            bar.ax.yaxis.set_minor_locator(NullLocator())
            bar.ax.invert_yaxis()  # high coverage at the top
        row, col = best
        ax.add_patch(Rectangle((col, row), 1, 1, fill=False, edgecolor="#d62728", lw=2.0, gid="best"))
        ax.tick_params(axis="x", labelrotation=0, labelsize=7)
        ax.tick_params(axis="y", labelrotation=0)
        ax.set_xlabel("resize policy")
        ax.set_ylabel("backbone")
        ax.set_title(title, fontsize=10)
    return fig
