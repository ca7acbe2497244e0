"""The seed-style spatial-scale profile figure: union width along the network, with RF, ERF and stride."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scalematch.profile.engine import FeatureMap, Profile

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

STYLE: dict[Any, Any] = {"axes.grid": True, "grid.alpha": 0.3, "font.size": 9, "axes.spines.top": False}


def main_path(profile: Profile) -> list[tuple[int, FeatureMap]]:
    """``(depth, map)`` along the longest path from the input (ending at the deepest node; ties: the later)."""
    maps = {fm.name: fm for fm in profile.feature_maps}
    depth = depths(profile)
    last = max(reversed(profile.feature_maps), key=lambda fm: depth[fm.name]).name
    chain = [last]
    while True:
        preds = [r for r in maps[chain[-1]].inputs if r in maps]
        if not preds:
            break
        chain.append(max(preds, key=lambda r: depth[r]))
    return [(depth[n], maps[n]) for n in reversed(chain) if maps[n].x is not None]


def depths(profile: Profile) -> dict[str, int]:
    """Longest-path depth of every node (the image is depth 0)."""
    out: dict[str, int] = {}
    for fm in profile.feature_maps:
        out[fm.name] = 1 + max((out.get(r, 0) for r in fm.inputs), default=0)
    return out


def profile_figure(profile: Profile, ax: Axes | None = None, log: bool = False, label: str | None = None) -> Figure:
    """Spatial scale (union width, x axis of the input) against depth, as in the origin write-up.

    Drawn: union width with markers along the main path, receptive field (dashed), ERF diameter 2 sigma
    (dotted), every named output annotated, and the stride as steps on a second axis (log2).
    """
    import matplotlib as mpl
    from matplotlib.figure import Figure

    with mpl.rc_context(STYLE):
        fig: Figure
        if ax is None:
            fig = Figure(figsize=(8, 4.8), layout="constrained")
            ax = fig.add_subplot()
        else:
            fig = ax.get_figure()  # type: ignore[assignment]
        path = main_path(profile)
        xs = [0] + [d for d, _ in path]
        union = [1] + [fm.x.union for _, fm in path if fm.x]
        rf = [1] + [fm.x.rf for _, fm in path if fm.x]
        erf = [0.0] + [2 * fm.x.erf_sigma for _, fm in path if fm.x]
        name = label or profile.name
        ax.plot(xs, union, "o-", ms=3.5, lw=1.4, color="C0", label=f"{name}: spatial scale (union width)")
        ax.plot(xs, rf, "--", lw=1.2, color="C1", label="receptive field")
        ax.plot(xs, erf, ":", lw=1.6, color="C2", label="effective RF (2σ)")
        at = depths(profile)
        for fm in profile.feature_maps:
            if fm.tap is None or fm.x is None:
                continue
            ax.plot([at[fm.name]], [fm.x.union], "s", ms=6, mfc="none", mec="C3")
            ax.annotate(
                fm.tap,
                (at[fm.name], fm.x.union),
                textcoords="offset points",
                xytext=(-4, 6),
                ha="right",
                fontsize=8,
                color="C3",
            )
        ax.set_xlabel("layer (depth from the input)")
        ax.set_ylabel("pixels (input, x axis)")
        if log:
            ax.set_yscale("log", base=2)
        ax.set_xlim(0, max(at.values()) + 0.5)
        ax.set_ylim(bottom=1 if log else 0)
        twin = ax.twinx()
        strides = [1.0] + [float(fm.x.stride) for _, fm in path if fm.x]
        twin.step(xs, strides, where="post", color="0.5", lw=1.0, alpha=0.8, label="stride")
        twin.set_yscale("log", base=2)
        twin.set_ylabel("stride (pixels per unit)", color="0.4")
        twin.grid(False)
        handles, labels = ax.get_legend_handles_labels()
        h2, l2 = twin.get_legend_handles_labels()
        ax.legend(handles + h2, labels + l2, loc="upper left", fontsize=8, frameon=False)
        ax.set_title(f"Spatial-scale profile: {profile.name}", fontsize=10)
    return fig
