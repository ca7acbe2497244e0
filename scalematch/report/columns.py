"""The usable rows of a box table as numpy columns, without copying the whole table.

:func:`scalematch.match.result.usable` returns a filtered copy of the table (every column); the figures need
two to four columns of ~1M rows, so they take only those, with the same rule (crowd objects left out).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scalematch._text import counted
from scalematch.dataset.frame import row_label
from scalematch.dataset.table import category_labels
from scalematch.errors import OptionError
from scalematch.match.result import usable

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd


class UsableRows:
    """Columns of the rows :func:`~scalematch.match.result.usable` keeps, in the same order, as numpy arrays."""

    def __init__(self, table: pd.DataFrame) -> None:

        usable(table.iloc[:0])  # the same checks (w_in, h_in present) and errors as the matcher
        self.table = table
        self.mask: npt.NDArray[np.bool_] | None = (
            ~table["iscrowd"].to_numpy(dtype=bool) if "iscrowd" in table.columns else None
        )

    def __contains__(self, name: str) -> bool:
        return name in self.table.columns

    def __len__(self) -> int:
        return len(self.table) if self.mask is None else int(self.mask.sum())

    def __getitem__(self, name: str) -> npt.NDArray[Any]:
        values = self.table[name].to_numpy()
        return values if self.mask is None else values[self.mask]

    def floats(self, name: str) -> npt.NDArray[np.float64]:
        import numpy as np

        return np.asarray(self[name], dtype=np.float64)

    def sides(self, objects: int | None = None) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """``w_in`` and ``h_in`` of the usable rows; an :class:`OptionError` when one is not a positive finite
        number, or when there are not ``objects`` rows (the recommendation was made from another table)."""
        import numpy as np

        if objects is not None and len(self) != objects:
            raise OptionError(
                f"table: {counted(len(self), 'usable row')}, but the recommendation was made from "
                f"{counted(objects, 'object')}; give the box table it was made from"
            )
        try:
            w, h = self.floats("w_in"), self.floats("h_in")
        except (TypeError, ValueError):
            raise OptionError("table: the columns w_in and h_in must hold numbers") from None
        bad = np.flatnonzero(~(np.isfinite(w) & np.isfinite(h) & (w > 0) & (h > 0)))
        if bad.size:
            index = self.table.index if self.mask is None else self.table.index[self.mask]
            k = int(bad[0])
            raise OptionError(
                f"table: row {row_label(index, k)!r} has w_in {w[k]:g} and h_in {h[k]:g}; expected positive sizes in "
                "input pixels (the box table the recommendation was made from)"
            )
        return w, h

    def categories(self) -> npt.NDArray[np.object_] | None:
        """The category label of every usable row, as the matcher names them (see
        :func:`~scalematch.dataset.table.category_labels`, over the same rows); None without a ``category``
        column."""
        kept = [c for c in ("category_id", "category") if c in self.table.columns]
        columns = self.table[kept]
        return category_labels(columns if self.mask is None else columns[self.mask])
