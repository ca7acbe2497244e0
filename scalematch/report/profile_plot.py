"""The seed-style spatial-scale profile figure: union width along the network, with RF, ERF and stride."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from scalematch.profile.engine import FeatureMap, Profile
from scalematch.report.style import drawable

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


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
    """Spatial scale (union width, x axis of the input) against depth, as in the origin write-up, improved.

    Drawn: the union width with markers along the main path (the seed's curve), the receptive field (a wide pale
    line under it: where the two coincide the union has no gaps), the ERF diameter 2 sigma (dotted), every named
    output as a dotted vertical line labelled at the top, and the stride as steps on a second, log2 axis.

    ``ax``: an Axes to draw on (default: a new figure); ``log`` (True or False): a log2 scale for the sizes;
    ``label``: the name in the legend (text; default, or empty: the profile's name).
    """
    from matplotlib.transforms import blended_transform_factory

    from scalematch import _args
    from scalematch.report.style import figure_for, log2_axis, style

    _args.expect(profile, "profile", Profile, "a Profile (scalematch.profile_model('resnet50'))")
    _args.axes(ax)
    log = _args.flag(log, "log")
    _args.expect(label, "label", str, "a name for the legend (str), or None: the profile's name", optional=True)

    with style():
        fig, ax = figure_for(ax, (8.0, 4.8))
        path = main_path(profile)
        xs = [0] + [d for d, _ in path]
        union = [1] + [fm.x.union for _, fm in path if fm.x]
        rf = [1] + [fm.x.rf for _, fm in path if fm.x]
        erf = [0.0] + [2 * fm.x.erf_sigma for _, fm in path if fm.x]
        name = drawable(label or profile.name)
        ax.plot(xs, union, "o-", ms=3.0, lw=1.4, color="C0", zorder=3, label=f"{name}: spatial scale (union width)")
        ax.plot(xs, rf, "-", lw=4.5, color="C1", alpha=0.35, zorder=2, label="receptive field")
        ax.plot(xs, erf, ":", lw=1.8, color="C2", zorder=3, label="ERF diameter 2σ (±σ)")
        at = depths(profile)
        top = blended_transform_factory(ax.transData, ax.transAxes)
        taps = sorted((at[fm.name], fm) for fm in profile.feature_maps if fm.tap is not None and fm.x is not None)
        close, row, last = 0.035 * max(at.values()), 0, -math.inf
        for depth, fm in taps:
            row = row + 1 if depth - last < close and row < 2 else 0  # stagger labels of nearby outputs
            last = depth
            ax.axvline(depth, color="C3", lw=0.8, ls=(0, (2, 3)), alpha=0.7, zorder=1)
            ax.plot([depth], [fm.x.union], "s", ms=6, mfc="none", mec="C3", zorder=4)  # type: ignore[union-attr]
            ax.text(depth, 1.01 + 0.045 * row, drawable(str(fm.tap)), transform=top, ha="center", va="bottom",
                    fontsize=8, color="C3")  # fmt: skip
        ax.set_xlabel("layer (depth from the input along the longest path)")
        ax.set_ylabel("input pixels (x axis)")
        if log:
            log2_axis(ax, "y")
        ax.set_xlim(0, max(at.values()) + 0.5)
        ax.set_ylim(bottom=1 if log else 0)
        twin = ax.twinx()
        strides = [1.0] + [float(fm.x.stride) for _, fm in path if fm.x]
        twin.step(xs, strides, where="post", color="0.45", lw=1.0, alpha=0.8, label="stride (right axis)")
        log2_axis(twin, "y")
        twin.set_ylabel("stride (input pixels per unit)", color="0.35")
        twin.grid(False)
        handles, labels = ax.get_legend_handles_labels()
        h2, l2 = twin.get_legend_handles_labels()
        ax.legend(handles + h2, labels + l2, loc="upper left", fontsize=8)
        ax.set_title(f"Spatial-scale profile: {drawable(profile.name)}", fontsize=10, pad=26)
    return fig
