"""The explain figure: one output unit, the units it reads in the previous map, and their input regions.

Left, the input image to scale (one cell per input pixel, pixel ``i`` centred on coordinate ``i``): each unit read
is drawn as its exact input-pixel set (one rectangle per pair of row and column runs, so dilation gaps show), and
their union is outlined in black; the dotted ellipse is the analytic ERF (mean +- sigma). Right, the output map
with the chosen unit and each input map with the units read, in the colours used on the left.

Patches carry a ``gid``: ``"region <map> <i_y>,<i_x>"`` for a unit read, ``"union"`` for the union and
``"erf"`` for the ellipse (``"edge"``: a region's outline, drawn slightly inset), so tests can check the
drawing against the profile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scalematch._text import cut_runs
from scalematch.profile.explain import Explanation
from scalematch.profile.runs import size, span
from scalematch.report.style import LITERAL, figure_label, fit_fonts

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

STYLE: dict[Any, Any] = {"font.size": 9, "axes.titlesize": 9.5, **LITERAL}

TITLE_WIDTH = 90
"""Characters per line of a panel's title (a union of 10^37 pixels has long numbers)."""

_GRID_LIMIT = 64
"""Draw pixel grid lines only when the drawn window is at most this many pixels wide."""

_MAX_DRAWN = 1024
"""Most regions, union rectangles or map cells drawn one by one (each is an artist: two 256x256/256 convolutions
read 65,536 units, whose patches took minutes and gigabytes); beyond it the regions are drawn as their filled union
and the map cells as one image, or the span they cover."""

_MAX_IMAGE = 4_000_000
"""Most cells of a map panel drawn as one image; a wider span (dilated reads far apart) is drawn as its outline."""


def _colours(n: int) -> list[Any]:
    import matplotlib as mpl

    if n <= 10:
        return [mpl.colormaps["tab10"](k) for k in range(n)]
    import numpy as np

    cmap = mpl.colormaps["turbo"]
    return [tuple(c) for c in cmap(0.05 + 0.9 * np.arange(n) / (n - 1)).tolist()]


def _window(exp: Explanation) -> tuple[tuple[int, int], tuple[int, int]]:
    """Inclusive pixel ranges ``(y0, y1), (x0, x1)`` to show: the union's span plus a margin."""
    out = []
    for runs in (exp.union.rows, exp.union.cols):
        lo, hi = runs[0][0], runs[-1][1] - 1
        margin = max(1, round(0.12 * span(runs)))
        out.append((lo - margin, hi + margin))
    return out[0], out[1]


def _input_panel(ax: Axes, exp: Explanation, colours: list[Any]) -> None:
    from matplotlib.patches import Ellipse, Rectangle
    from matplotlib.ticker import MaxNLocator

    (y0, y1), (x0, x1) = _window(exp)
    n = len(exp.regions)
    union = exp.union.rectangles() if _few_union_rectangles(exp) else _span_rectangle(exp)
    if _many_regions(exp):  # too many to tell apart at any figure size: their union, filled
        for uy0, uy1, ux0, ux1 in union:
            rect = Rectangle((ux0 - 0.5, uy0 - 0.5), ux1 - ux0, uy1 - uy0, gid="regions")
            rect.set(facecolor=colours[n // 2], alpha=0.2, lw=0, zorder=2)
            ax.add_patch(rect)
    for k, region in enumerate(exp.regions if not _many_regions(exp) else ()):
        label = f"region {region.source} {region.unit[0]},{region.unit[1]}"
        # outlines are drawn slightly inside the region (a different inset per region) so that regions sharing
        # an edge stay distinguishable; the filled rectangle is the exact pixel set
        inset = 0.06 + 0.16 * k / max(1, n - 1)
        for ry0, ry1, rx0, rx1 in region.rectangles():
            rect = Rectangle((rx0 - 0.5, ry0 - 0.5), rx1 - rx0, ry1 - ry0, gid=label)
            rect.set(facecolor=colours[k], alpha=0.2, lw=0, zorder=2)
            ax.add_patch(rect)
            if n <= 10:
                edge = Rectangle(
                    (rx0 - 0.5 + inset, ry0 - 0.5 + inset), rx1 - rx0 - 2 * inset, ry1 - ry0 - 2 * inset, gid="edge"
                )
                edge.set(fill=False, edgecolor=colours[k], lw=1.5, zorder=3)
                ax.add_patch(edge)
    for uy0, uy1, ux0, ux1 in union:
        rect = Rectangle((ux0 - 0.5, uy0 - 0.5), ux1 - ux0, uy1 - uy0, gid="union")
        rect.set(fill=False, edgecolor="black", lw=2.4 if len(union) <= 4 else 1.0, zorder=4)
        ax.add_patch(rect)
    (my, mx), (sy, sx) = exp.erf_mean, exp.erf_sigma
    if sy > 0 or sx > 0:
        erf = Ellipse((float(mx), float(my)), 2 * sx, 2 * sy, gid="erf")
        erf.set(fill=False, edgecolor="0.15", lw=1.3, ls=":", zorder=5)
        ax.add_patch(erf)
    _outside(ax, exp, ((y0, y1), (x0, x1)))
    ax.set_xlim(x0 - 0.5, x1 + 0.5)
    ax.set_ylim(y1 + 0.5, y0 - 0.5)  # image convention: y grows downwards
    ax.set_aspect("equal")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(nbins=8, integer=True))
    if max(y1 - y0, x1 - x0) < _GRID_LIMIT:
        ax.set_xticks([x - 0.5 for x in range(x0, x1 + 2)], minor=True)
        ax.set_yticks([y - 0.5 for y in range(y0, y1 + 2)], minor=True)
        ax.grid(which="minor", color="0.85", lw=0.5)
        ax.tick_params(which="minor", length=0)
    ax.set_xlabel("input x (pixels)")
    ax.set_ylabel("input y (pixels)")
    uy, ux = exp.union.rows, exp.union.cols
    gaps = "" if (size(uy), size(ux)) == (span(uy), span(ux)) else f" in a {span(ux)} x {span(uy)} span"
    node = figure_label(exp.node.name)
    many = f" (drawn as their {'union' if _few_union_rectangles(exp) else 'span'})"
    ax.set_title(
        _wrapped(
            f"{node} unit ({exp.unit[0]}, {exp.unit[1]}): {len(exp.regions)} unit(s) read"
            f"{many if _many_regions(exp) else ''}, union {size(ux)} x {size(uy)} px{gaps} (black); ERF ±σ dotted"
        ),
        loc="left",
    )


def _outside(ax: Axes, exp: Explanation, window: tuple[tuple[int, int], tuple[int, int]]) -> None:
    """Grey out the drawn pixels outside the image (gid ``"outside"``): before 0 and, with an input size, past
    its end."""
    from matplotlib.patches import Rectangle

    size = exp.profile.input_size
    (y0, y1), (x0, x1) = window
    ends = (size[0], size[1]) if size is not None else (None, None)
    pieces = []
    for a, (lo, hi), end in zip((0, 1), window, ends, strict=True):
        if lo < 0:
            pieces.append((a, lo, min(hi, -1)))
        if end is not None and hi >= end:
            pieces.append((a, max(lo, end), hi))
    for a, lo, hi in pieces:
        if a == 0:
            rect = Rectangle((x0 - 0.5, lo - 0.5), x1 - x0 + 1, hi - lo + 1, gid="outside")
        else:
            rect = Rectangle((lo - 0.5, y0 - 0.5), hi - lo + 1, y1 - y0 + 1, gid="outside")
        rect.set(facecolor="0.88", edgecolor="none", hatch="//", zorder=1)
        ax.add_patch(rect)


def _wrapped(title: str, width: int = TITLE_WIDTH) -> str:
    import textwrap

    return textwrap.fill(cut_runs(title), width)


def _many_regions(exp: Explanation) -> bool:
    """Whether the regions are drawn as their union: more than :data:`_MAX_DRAWN` of them, or of rectangles in all
    (four units of a 1024-dilated 1024x1024 kernel are 1024 x 1024 rectangles each: the figure never finished)."""
    n = len(exp.regions)
    return n > _MAX_DRAWN or sum(len(r.rows) * len(r.cols) for r in exp.regions) > _MAX_DRAWN


def _few_union_rectangles(exp: Explanation) -> bool:
    return (len(exp.union.rows) * len(exp.union.cols)) <= _MAX_DRAWN


def _span_rectangle(exp: Explanation) -> list[tuple[int, int, int, int]]:
    """The union's bounding box ``(y0, y1, x0, x1)`` (half-open), for a union of too many rectangles to draw."""
    rows, cols = exp.union.rows, exp.union.cols
    return [(rows[0][0], rows[-1][1], cols[0][0], cols[-1][1])]


def _map_panel(
    ax: Axes, title: str, cells: list[tuple[int, int, Any]], context: tuple[tuple[int, int], tuple[int, int]]
) -> None:
    """A feature map drawn in unit coordinates: grey grid of ``context`` units, coloured ``cells``."""
    from matplotlib.patches import Rectangle

    (y0, y1), (x0, x1) = context
    area = (y1 - y0 + 1) * (x1 - x0 + 1)
    if len(cells) > _MAX_DRAWN or area > _MAX_DRAWN:
        _many_cells(ax, cells, context)
    else:
        for y in range(y0, y1 + 1):
            for x in range(x0, x1 + 1):
                ax.add_patch(Rectangle((x - 0.5, y - 0.5), 1, 1, facecolor="white", edgecolor="0.7", lw=0.6))
        for y, x, colour in cells:
            ax.add_patch(Rectangle((x - 0.5, y - 0.5), 1, 1, facecolor=colour, edgecolor="0.2", lw=0.8, alpha=0.8))
    ax.set_xlim(x0 - 0.5, x1 + 0.5)
    ax.set_ylim(y1 + 0.5, y0 - 0.5)
    ax.set_aspect("equal")
    step = max(1, (x1 - x0 + 1) // 6)
    ax.set_xticks(range(x0, x1 + 1, step))
    ax.set_yticks(range(y0, y1 + 1, max(1, (y1 - y0 + 1) // 6)))
    ax.tick_params(labelsize=7, length=2)
    ax.set_title(_wrapped(title, TITLE_WIDTH // 3), fontsize=8.5, loc="left")


def _many_cells(ax: Axes, cells: list[tuple[int, int, Any]], context: tuple[tuple[int, int], tuple[int, int]]) -> None:
    """Cells too many to draw one by one: one image of them (gid ``"cells"``), or the outline of their span when
    even the image would be too large."""
    import numpy as np
    from matplotlib.patches import Rectangle

    (y0, y1), (x0, x1) = context
    if (y1 - y0 + 1) * (x1 - x0 + 1) > _MAX_IMAGE:
        ys, xs = [c[0] for c in cells], [c[1] for c in cells]
        box = Rectangle((min(xs) - 0.5, min(ys) - 0.5), max(xs) - min(xs) + 1, max(ys) - min(ys) + 1, gid="cells")
        box.set(facecolor="0.6", edgecolor="0.2", hatch="//", alpha=0.6)
        ax.add_patch(box)
        return
    image = np.ones((y1 - y0 + 1, x1 - x0 + 1, 4))
    rows = np.asarray([c[0] for c in cells]) - y0
    cols = np.asarray([c[1] for c in cells]) - x0
    image[rows, cols] = np.asarray([c[2] for c in cells], dtype=float)
    ax.imshow(image, extent=(x0 - 0.5, x1 + 0.5, y1 + 0.5, y0 - 0.5), interpolation="nearest", gid="cells")


def explain_figure(exp: Explanation, ax: Axes | None = None, title: str | None = None) -> Figure:
    """The figure for ``exp``. With ``ax``, only the input panel is drawn on it; otherwise a new Figure gets the
    input panel on the left and, on the right, the output map and each input map in unit coordinates. The Figure
    returned is the top one ``ax`` is in (also when ``ax`` is in a SubFigure)."""
    import matplotlib as mpl
    from matplotlib.figure import Figure

    from scalematch import _args

    _args.axes(ax)
    colours = _colours(len(exp.regions))
    with mpl.rc_context(STYLE):
        fig: Figure
        if ax is not None:
            fig = ax.get_figure(root=True)  # type: ignore[assignment]
            _input_panel(ax, exp, colours)
            fit_fonts(fig)
            return fig
        sources = exp.node.inputs
        fig = Figure(figsize=(9.5, 6.4), layout="constrained")
        fig.get_layout_engine().set(h_pad=0.12)  # type: ignore[call-arg, union-attr]
        grid = fig.add_gridspec(len(sources) + 1, 2, width_ratios=(2.6, 1))
        main = fig.add_subplot(grid[:, 0])
        _input_panel(main, exp, colours)
        uy, ux = exp.unit
        out_ax = fig.add_subplot(grid[0, 1])
        _map_panel(
            out_ax,
            f"{figure_label(exp.node.name)} (output): unit ({uy}, {ux})",
            [(uy, ux, "black")],
            ((uy - 2, uy + 2), (ux - 2, ux + 2)),
        )
        for k, src in enumerate(sources):
            cells = [(r.unit[0], r.unit[1], colours[n]) for n, r in enumerate(exp.regions) if r.source == src]
            ys = [c[0] for c in cells]
            xs = [c[1] for c in cells]
            context = ((min(ys) - 1, max(ys) + 1), (min(xs) - 1, max(xs) + 1))
            _map_panel(
                fig.add_subplot(grid[k + 1, 1]), f"{figure_label(src)}: {len(cells)} unit(s) read", cells, context
            )
        if title:
            fig.suptitle(title, fontsize=10)
        fit_fonts(fig)
    return fig
