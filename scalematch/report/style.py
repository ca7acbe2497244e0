"""The one plotting style of the reports, as a context (global rcParams are restored on exit), and axes set-up."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from scalematch._text import cut_columns, cut_head

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

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


def shown_name(name: str) -> str:
    """A category's name as the text table, the HTML reports and the figures show it:
    :func:`printable`, and a literal backslash shown as ``\\\\``, so that the escapes read back one way (the name
    ``a<newline>b`` shows as ``a\\nb``, the name ``a\\nb``, a backslash and an ``n``, as ``a\\\\nb``). Paths,
    messages, whole lines and the names of a config's nodes and levels go through :func:`printable` alone: a path
    keeps its backslashes as typed. :func:`printable` of its result is itself (no backslash is doubled twice)."""
    return printable(name.replace("\\", "\\\\"))


def printed_lines(make: Callable[..., list[str]]) -> Callable[..., list[str]]:
    """``make`` (a function that returns lines of text output) with each line as :func:`printable` shows it: a
    level or node name from a config holding a control character reaches no terminal raw."""

    @functools.wraps(make)
    def lines(*args: Any, **kwargs: Any) -> list[str]:
        return [printable(line) for line in make(*args, **kwargs)]

    return lines


def printable_lines(text: str) -> str:
    """:func:`printable`, but keeping line breaks and tabs (a page's preformatted text)."""
    if text.isprintable():
        return text
    return "\n".join("\t".join(printable(part) for part in line.split("\t")) for line in text.split("\n"))


def drawable(name: str) -> str:
    """A name from the data for a figure: :func:`printable` (a category's name is given as :func:`shown_name` makes
    it: :func:`printable` leaves its escapes as they are), and a character that no installed font has (CJK on a
    machine without a CJK font, an emoji without an emoji font) as its escape (``\\u65e5``), so that no glyph is
    missing; a character some installed font has stays, and the figure draws it in that font (:func:`fit_fonts`).
    Text output never goes through this."""
    shown = printable(name)
    if shown.isascii():
        return shown
    fonts = _installed()
    return "".join(ch if ch.isascii() or fonts.family_for(ch) is not None else ascii(ch)[1:-1] for ch in shown)


LABEL_LIMIT = 40
"""The longest name of a layer or a model a figure draws as a title or label; a longer one ends in an ellipsis (a
500-character name would squeeze the axes to nothing and clip every label). Category names are cut as the text
tables cut them instead (:func:`category_tick_labels`)."""


def figure_label(name: str, limit: int = LABEL_LIMIT) -> str:
    """``name`` as :func:`drawable` shows it, cut to ``limit`` characters with a final ellipsis (before a letter
    whose combining mark would be cut off, :func:`~scalematch._text.cut_head`)."""
    return cut_head(drawable(name), limit, "…")


NAME_COLUMNS = 24
"""The columns a category's name takes at most in a text table and in a figure; a wider name is shown as its first
14 and last 7 columns around ``...`` (:func:`~scalematch._text.cut_columns`), so that names that differ at their
end stay apart."""


def category_tick_labels(labels: Iterable[object]) -> list[str]:
    """Category labels (distinct, as :func:`~scalematch.dataset.table.category_labels` gives them: ``name (id N)``
    where ids share a name) as a figure draws them: :func:`shown_name`, cut as the text tables cut it
    (:data:`NAME_COLUMNS`), then :func:`drawable` (a character no font has becomes its escape after the cut, so
    the figure shows the text table's characters). Labels whose cuts still coincide (names that differ only in
    their middle) are shown wider, twice the columns at a time, until they differ, so that no two categories
    share a row or a legend entry."""
    from collections import Counter

    shown = [shown_name(str(label)) for label in labels]
    limits = [NAME_COLUMNS] * len(shown)
    while True:
        cut = [cut_columns(text, limit) for text, limit in zip(shown, limits, strict=True)]
        count = Counter(cut)
        clash = [k for k, text in enumerate(cut) if count[text] > 1 and text != shown[k]]
        if not clash:
            return [drawable(text) for text in cut]
        for k in clash:
            limits[k] *= 2


TOO_SMALL_COLOR = "#9a9a9a"
TOO_LARGE_COLOR = "#4d4d4d"


_DRAWN: ContextVar[list[Figure] | None] = ContextVar("scalematch_drawn", default=None)


@contextlib.contextmanager
def style() -> Iterator[None]:
    """seaborn's whitegrid look at a compact size, only inside the block; on leaving it, the texts of every figure
    :func:`figure_for` (or :func:`drawn`) gave inside get the fonts their characters need (:func:`fit_fonts`)."""
    import matplotlib as mpl
    import seaborn as sns

    extra: Any = EXTRA
    figures: list[Figure] = []
    token = _DRAWN.set(figures)
    try:
        with sns.axes_style("whitegrid"), sns.plotting_context("notebook", font_scale=0.8), mpl.rc_context(extra):
            yield
            for fig in figures:
                fit_fonts(fig)
    finally:
        _DRAWN.reset(token)


def drawn(fig: Figure) -> Figure:
    """``fig``, whose fonts :func:`style` fits when its block ends (a figure not made by :func:`figure_for`)."""
    figures = _DRAWN.get()
    if figures is not None and all(f is not fig for f in figures):
        figures.append(fig)
    return fig


def figure_for(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """The Figure ``ax`` is drawn in (the top one, when ``ax`` is in a SubFigure: the Figure that is shown and
    saved), or a new constrained-layout Figure (no pyplot) with one Axes."""
    from matplotlib.figure import Figure

    if ax is not None:
        return drawn(ax.get_figure(root=True)), ax  # type: ignore[arg-type]
    fig = drawn(Figure(figsize=figsize, layout="constrained"))
    return fig, fig.add_subplot()


def room_outside(ax: Axes) -> bool:
    """Whether a legend may be drawn outside ``ax``: its figure has a layout engine (the figures made here are
    constrained) that makes room for it. On a figure without one (``plt.subplots()`` as it comes), a legend
    outside would lie over the neighbouring subplots, so it is drawn inside."""
    return ax.get_figure(root=True).get_layout_engine() is not None  # type: ignore[union-attr]


def fit_fonts(fig: Figure) -> None:
    """Give every text of ``fig`` with a character its font lacks the installed fonts that have it, after its own
    (matplotlib's font fallback: a list of families); a text keeps its string and its first font.

    The fonts found now are named too, so that the text draws the same when the figure is saved outside the
    style (where 'sans-serif' may name another font). A character no installed font has is left as it is:
    names reach a figure through :func:`drawable`, which shows such a character as an escape."""
    from matplotlib.text import Text

    for axes in fig.get_axes():
        for axis in (axes.xaxis, axes.yaxis):
            axis.get_majorticklabels()  # fills the tick labels a formatter writes only when drawn
    fonts = _installed()
    for text in fig.findobj(Text):
        shown = text.get_text()
        if shown.isascii():
            continue
        families = fonts.families_for(set(shown), text.get_fontproperties())
        if families:
            text.set_fontfamily(families)


class _Fonts:
    """The installed fonts a figure can fall back on, matplotlib's DejaVu Sans first and then by name (sans
    serif families first), one file per family (its regular face), with their characters read when first asked.
    Left out: a font that is not scalable (a colour bitmap emoji font: matplotlib cannot size it), a colour
    emoji font (matplotlib draws no colour layers) and the Last Resort font (a placeholder box for every
    character: a missing glyph in disguise)."""

    def __init__(self) -> None:
        from matplotlib import font_manager

        manager = font_manager.fontManager
        best: dict[str, Any] = {}
        for entry in manager.ttflist:
            name = entry.name
            if name.startswith("Last Resort") or "Color Emoji" in name:
                continue
            weight = _weight(entry.weight)
            rank = (entry.style != "normal", entry.stretch != "normal", abs(weight - 400), getattr(entry, "index", 0))
            if name not in best or rank < best[name][0]:
                best[name] = (rank, entry)
        order = sorted(best, key=lambda n: (n != "DejaVu Sans", "sans" not in n.lower(), n))
        self.families = [(n, os.path.realpath(best[n][1].fname), getattr(best[n][1], "index", 0)) for n in order]
        self.size = len(manager.ttflist)
        self.manager = manager
        self.entries = {(os.path.realpath(e.fname), getattr(e, "index", 0)): e for e in manager.ttflist}
        self._maps: dict[tuple[str, int], array[int]] = {}
        self._found: dict[str, str | None] = {}

    def has(self, path: str, index: int, ch: str) -> bool:
        """Whether the font at ``path`` (face ``index``) has a glyph for ``ch`` (its character map)."""
        key = (path, index)
        codes = self._maps.get(key)
        if codes is None:
            codes = self._maps[key] = _charmap(path, index)
        at = bisect_left(codes, ord(ch))
        return at < len(codes) and codes[at] == ord(ch)

    def family_for(self, ch: str) -> str | None:
        """The first family whose regular face has ``ch``; None when no installed font has it."""
        if ch not in self._found:
            self._found[ch] = next((n for n, path, index in self.families if self.has(path, index, ch)), None)
        return self._found[ch]

    def families_for(self, chars: set[str], prop: FontProperties) -> list[str] | None:
        """The families to draw ``chars`` in with ``prop``: its own, the fonts they name now, and for each
        character none of those has, the first family whose face for ``prop`` has it; None when its own fonts
        have every character."""
        faces = [face for face in (self._face(prop, family) for family in prop.get_family()) if face is not None]
        default = self._face(prop, None)
        if not faces and default is not None:
            faces.append(default)
        missing = sorted(ch for ch in chars if not any(self.has(*face, ch) for face in faces))
        if not missing:
            return None
        names = list(prop.get_family())
        for face in faces:
            if face in self.entries and self.entries[face].name not in names:
                names.append(self.entries[face].name)
        weight = _weight(prop.get_weight())
        for ch in missing:
            if any(self.has(*face, ch) for face in faces) or self.family_for(ch) is None:
                continue
            for name, path, index in self.families:
                if not self.has(path, index, ch):
                    continue
                found = self._face(prop, name)
                if found is None or found not in self.entries or _weight(self.entries[found].weight) != weight:
                    continue  # (matplotlib would log that it lacks the weight each time it draws the text)
                if self.has(*found, ch):
                    faces.append(found)
                    if name not in names:
                        names.append(name)
                    break
        return names

    def _face(self, prop: FontProperties, family: str | None) -> tuple[str, int] | None:
        """The font file (and face) matplotlib draws ``prop`` with in ``family`` alone (None: ``prop``'s own
        families, falling back to matplotlib's default as it does); None if it has no such family."""
        one = prop.copy()
        if family is not None:
            one.set_family(family)
        logger = logging.getLogger("matplotlib.font_manager")
        quiet = logger.disabled
        logger.disabled = True  # a face of another weight is logged when drawn, not while looking
        try:
            path = self.manager.findfont(one, fallback_to_default=family is None)
        except ValueError:
            return None
        finally:
            logger.disabled = quiet
        return os.path.realpath(path), getattr(path, "face_index", 0)


def _weight(weight: str | int | float) -> float:
    from matplotlib import font_manager

    return float(weight) if isinstance(weight, (int, float)) else float(font_manager.weight_dict.get(weight, 400))


def _charmap(path: str, index: int) -> array[int]:
    """The code points the font has glyphs for, sorted (none for a font matplotlib cannot draw)."""
    from matplotlib import ft2font

    try:
        font = ft2font.FT2Font(path, face_index=index) if index else ft2font.FT2Font(path)
        flags: Any = font.face_flags  # an int before matplotlib 3.10, a FaceFlags since
        if not int(getattr(flags, "value", flags)) & 1:  # FT_FACE_FLAG_SCALABLE
            return array("I")
        return array("I", sorted(font.get_charmap()))
    except (OSError, RuntimeError, ValueError, TypeError):
        return array("I")


_FONTS: list[_Fonts] = []


def _installed() -> _Fonts:
    """The installed fonts, read again when fonts were added to matplotlib's font manager since."""
    from matplotlib import font_manager

    manager = font_manager.fontManager
    if not _FONTS or _FONTS[0].manager is not manager or _FONTS[0].size != len(manager.ttflist):
        _FONTS[:] = [_Fonts()]
    return _FONTS[0]


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
