"""The design sweep: coverage of every backbone x resize policy, with the level set each one recommends."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scalematch.match.design import Design
from scalematch.report.style import figure_for, outside_layout, style

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def sweep_table(designs: list[Design]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Coverage of the recommended run (rows: backbones, columns: resize policies, in first-seen order) and
    the matching labels ("P3-P5 ✓" when the target is reached)."""
    import pandas as pd

    backbones = list(dict.fromkeys(d.backbone for d in designs))
    policies = list(dict.fromkeys(d.resize for d in designs))
    coverage = pd.DataFrame(float("nan"), index=backbones, columns=policies)
    labels = pd.DataFrame("", index=backbones, columns=policies)
    for d in designs:
        r = d.recommendation
        names = r.recommended_levels
        span = names[0] if len(names) == 1 else f"{names[0]}-{names[-1]}"
        coverage.loc[d.backbone, d.resize] = r.chosen.coverage
        labels.loc[d.backbone, d.resize] = f"{100 * r.chosen.coverage:.1f}%\n{span}{' ✓' if r.reached else ''}"
    return coverage, labels


def sweep_figure(designs: list[Design], ax: Axes | None = None) -> Figure:
    """Heatmap of coverage per backbone (rows) and resize policy (columns), annotated with the coverage and the
    recommended level run (✓: the coverage target is reached); the best design is outlined."""
    import seaborn as sns
    from matplotlib.patches import Rectangle

    from scalematch.match.design import ranked

    coverage, labels = sweep_table(designs)
    best = ranked(designs)[0]
    with style():
        fig, ax = figure_for(ax, (2.2 + 2.0 * coverage.shape[1], 1.4 + 0.6 * coverage.shape[0]))
        sns.heatmap(coverage.to_numpy(dtype=float), ax=ax, vmin=0, vmax=1, cmap="crest", annot=labels.to_numpy(),
                    fmt="", annot_kws={"fontsize": 8}, linewidths=0.6, linecolor="white",
                    xticklabels=list(coverage.columns), yticklabels=list(coverage.index),
                    cbar_kws={"label": "coverage"})  # fmt: skip
        outside_layout(ax.texts)
        row, col = list(coverage.index).index(best.backbone), list(coverage.columns).index(best.resize)
        ax.add_patch(Rectangle((col, row), 1, 1, fill=False, edgecolor="#d62728", lw=2.0, gid="best"))
        ax.tick_params(axis="x", labelrotation=0, labelsize=7)
        ax.tick_params(axis="y", labelrotation=0)
        ax.set_xlabel("resize policy")
        ax.set_ylabel("backbone")
        ax.set_title(f"Design sweep: {len(designs)} designs (outlined: best)", fontsize=10)
    return fig
