"""Saving figures: atomically, format from the file suffix, without pyplot's global state."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from scalematch._text import cut_name, int_text
from scalematch.atomic import atomic_path, check_output
from scalematch.errors import OptionError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FORMATS = (".png", ".svg", ".pdf")


def check_figure_path(path: Path, option: str = "path", inputs: tuple[str | None, ...] = ()) -> None:
    """Raise :class:`OptionError` unless ``path`` ends in a figure suffix and can be written (checked before the
    work, see :func:`scalematch.atomic.check_output`); ``inputs`` names what the command reads (paths that exist
    are protected, built-in names are not paths)."""
    if path.suffix.lower() not in FORMATS and not os.path.isdir(path):  # a folder: check_output says so
        raise OptionError(  # (os.path.isdir, not Path.is_dir: a name too long for the system is no folder either)
            f"{option} {cut_name(path)}: expected a file ending in {', '.join(FORMATS)}, "
            f"got {repr(path.suffix) if path.suffix else 'no suffix'}"
        )
    check_output(path, option, inputs=tuple(Path(p) for p in inputs if p and Path(p).exists()))


def save_figure(fig: Figure, path: str | os.PathLike[str], dpi: int = 120, option: str = "path") -> None:
    """Write ``fig`` to ``path`` (a ``str`` or an ``os.PathLike``; PNG, SVG or PDF by suffix) atomically;
    ``option`` names the flag in errors. A path ending in a separator (``"figs/"``) names a folder, as on the
    command line. A SubFigure is refused with what to save instead: the Figure it is in, which the figure
    functions return for an Axes in a SubFigure."""
    from matplotlib.figure import Figure, SubFigure

    from scalematch import _args

    if isinstance(fig, SubFigure):
        raise OptionError(
            "fig: expected a matplotlib Figure (from a scalematch *_figure function), got SubFigure; "
            "save the Figure it is in (fig.get_figure(root=True))"
        )
    _args.expect(fig, "fig", Figure, "a matplotlib Figure (from a scalematch *_figure function)")
    _args.expect(option, "option", str, "the name of the path in errors (str)")
    text = _args.given_path(path, option, "a file path (str or pathlib.Path)")
    if text.endswith(("/", os.sep)):  # Path would drop the separator: say what the command line says
        raise OptionError(f"{option} {cut_name(text)}: names a folder; expected a file name")
    path = Path(text)
    dpi = _args.integer(dpi, "dpi")
    if not 1 <= dpi <= 2400:
        raise OptionError(f"dpi: expected an integer from 1 to 2400, got {int_text(dpi)}")
    check_figure_path(path, option)
    from matplotlib.backend_bases import get_registered_canvas_class

    fmt = path.suffix.lower()[1:]
    get_registered_canvas_class(fmt)  # matplotlib loads the writer (Agg's C extension) lazily: now, before the
    with atomic_path(path, option) as tmp:  # temporary file exists, rather than while a Ctrl-C may stop it there
        fig.savefig(tmp, dpi=dpi, format=fmt)
