"""The usable rows of a box table as numpy columns, without copying the whole table.

:func:`scalematch.match.result.usable` returns a filtered copy of the table (every column); the figures need
two to four columns of ~1M rows, so they take only those, with the same rule (crowd objects left out).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
