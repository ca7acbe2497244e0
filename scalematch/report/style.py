"""The one plotting style of the reports, as a context (global rcParams are restored on exit), and axes set-up."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

LITERAL: dict[str, Any] = {
    "text.parse_math": False,  # names come from the data: a category '$\\frac{a$' is text, never mathtext
}
"""Every figure's text drawn as written (the report's style, and the explain figure's own)."""

EXTRA: dict[str, Any] = {
    "axes.spines.top": False,
    "axes.spines.right": False,
    "grid.alpha": 0.35,
    "legend.frameon": False,
    "figure.dpi": 100,
    **LITERAL,
}


def printable(name: str) -> str:
    """A name from the data for a terminal or a figure: control and other non-printing characters (a newline, an
    ANSI escape sequence) are shown as escapes (``\\x1b``), never sent to the terminal nor drawn as a missing
    glyph."""
    if name.isprintable():
        return name
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in name)


def printable_lines(text: str) -> str:
    """:func:`printable`, but keeping line breaks and tabs (a page's preformatted text)."""
    if text.isprintable():
        return text
    return "\n".join("\t".join(printable(part) for part in line.split("\t")) for line in text.split("\n"))


LABEL_LIMIT = 40
"""The longest name a figure draws as a tick or legend label; a longer one ends in an ellipsis (a 500-character
category name would squeeze the axes to nothing and clip every label)."""


def figure_label(name: str, limit: int = LABEL_LIMIT) -> str:
    """``name`` as :func:`printable` shows it, cut to ``limit`` characters with a final ellipsis."""
    shown = printable(name)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


TOO_SMALL_COLOR = "#9a9a9a"
TOO_LARGE_COLOR = "#4d4d4d"


@contextlib.contextmanager
def style() -> Iterator[None]:
    """seaborn's whitegrid look at a compact size, only inside the block."""
    import matplotlib as mpl
    import seaborn as sns

    extra: Any = EXTRA
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook", font_scale=0.8), mpl.rc_context(extra):
        yield


def figure_for(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """The figure of ``ax``, or a new constrained-layout Figure (no pyplot) with one Axes."""
    from matplotlib.figure import Figure

    if ax is not None:
        return ax.get_figure(), ax  # type: ignore[return-value]
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def level_colors(n: int) -> list[tuple[float, float, float]]:
    """One colour per level, fine to coarse (viridis: ordered, so the order of the levels shows)."""
    import matplotlib as mpl

    cmap = mpl.colormaps["viridis"]
    stops = [0.1 + 0.75 * k / max(n - 1, 1) for k in range(n)]  # stop before viridis' pale yellow end
    return [tuple(cmap(t)[:3]) for t in stops]  # type: ignore[misc]


def log2_axis(ax: Axes, which: str = "x") -> None:
    """Log2 scale with power-of-two ticks labelled as plain numbers (8, 16, 32 ... px)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, NullLocator

    axis = ax.xaxis if which == "x" else ax.yaxis
    (ax.set_xscale if which == "x" else ax.set_yscale)("log", base=2)
    axis.set_major_locator(LogLocator(base=2))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_locator(NullLocator())  # no minor ticks: they cost layout time and say nothing here
    axis.set_minor_formatter(NullFormatter())


def outside_layout(texts: Any) -> None:
    """Leave texts drawn inside an Axes (annotations, bar labels) out of the layout computation: they cannot
    move the margins, and measuring hundreds of them dominates the time of a figure."""
    for text in texts:
        text.set_in_layout(False)
