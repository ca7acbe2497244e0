"""Saving figures: atomically, format from the file suffix, without pyplot's global state."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from scalematch.atomic import atomic_path
from scalematch.errors import OptionError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FORMATS = (".png", ".svg", ".pdf")


def save_figure(fig: Figure, path: Path, dpi: int = 120, option: str = "--plot") -> None:
    """Write ``fig`` to ``path`` (PNG, SVG or PDF by suffix) atomically; ``option`` names the flag in errors."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise OptionError(
            f"{option} {path}: expected a file ending in {', '.join(FORMATS)}, got '{path.suffix or 'no suffix'}'"
        )
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format=suffix[1:])
