"""Which max-IoU assigner runs: the compiled one (``_kernel``, numba: ``pip install 'scalematch[fast]'``) when numba
imports, else the numpy one; ``SCALEMATCH_COMPILED=0`` in the environment forces numpy. Both give the same
result, bit for bit; the compiled one is several times faster on large datasets.

numba compiles the kernel the first time a process needs it (a few seconds) and caches the machine code on disk
(``cache=True``: in the ``__pycache__`` folder beside ``_kernel.py``, or numba's per-user cache folder when that one
is not writable, or ``NUMBA_CACHE_DIR``), so later processes load it in a fraction of a second.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scalematch.match.assign._grid import AnchorLevel
    from scalematch.match.assign.maxiou import Assigned, Boxes

ENV = "SCALEMATCH_COMPILED"
"""Set to 0 to run the numpy assigner even when numba is installed."""

_loaded: list[Callable[..., None] | None] = []


def kernel() -> Callable[..., None] | None:
    """The compiled assigner, or None when ``SCALEMATCH_COMPILED=0`` or numba does not import."""
    if os.environ.get(ENV, "").strip() == "0":
        return None
    if not _loaded:
        try:
            from scalematch.match.assign import _kernel
        except Exception:  # not installed, or a numba that does not work beside this numpy
            _loaded.append(None)
        else:
            _loaded.append(_kernel.assign)
    return _loaded[0]


def numba_version() -> str | None:
    """The version of numba the compiled assigner runs on, or None when it does not run."""
    if kernel() is None:
        return None
    import numba  # type: ignore[import-untyped, unused-ignore]

    return str(numba.__version__)


def prepare() -> bool:
    """Compile the kernel, or load it from the disk cache, now (before worker processes fork, so that they inherit
    it); False when the numpy assigner will run."""
    import numpy as np

    from scalematch.match.assign.maxiou import Boxes

    if kernel() is None:
        return False
    none = np.zeros(0, np.float32)
    run(Boxes(np.zeros(0, np.int64), none, none, none, none), [], 0.5, True, True, 0.0)
    return True


def run(
    boxes: Boxes, levels: list[AnchorLevel], high: float, low_quality: bool, forced: bool, floor: float
) -> Assigned:
    """maxiou.assign through the compiled kernel (which must be available: see :func:`kernel`)."""
    import numpy as np

    from scalematch.match.assign.maxiou import RELAX, SLACK, Assigned

    fn = kernel()
    assert fn is not None
    image = np.asarray(boxes.image, np.int64)
    n = len(image)
    lo = int(image.min()) if n else 0
    hi = int(image.max()) + 1 if n else 0
    nl = len(levels)
    big = max([lv.shapes for lv in levels], default=0)

    def per_image(values: list[Any], dtype: Any) -> Any:
        out = np.zeros((nl, hi - lo), dtype)
        for li, v in enumerate(values):
            out[li] = np.asarray(v)[lo:hi]
        return out

    def per_shape(values: list[Any], dtype: Any) -> Any:
        out = np.zeros((nl, big), dtype)
        for li, v in enumerate(values):
            out[li, : len(v)] = v
        return out

    rows = per_image([lv.grid.rows for lv in levels], np.int64)
    cols = per_image([lv.grid.cols for lv in levels], np.int64)
    nshapes = np.array([lv.shapes for lv in levels], np.int64)
    level_start = np.zeros((nl + 1, hi - lo), np.int64)
    np.cumsum(rows * cols * nshapes[:, None], axis=0, out=level_start[1:])
    sw = per_image([lv.grid.stride_w for lv in levels], np.float64)
    sh = per_image([lv.grid.stride_h for lv in levels], np.float64)
    input_w = levels[0].input_w[lo:hi] if levels else np.zeros(0)
    input_h = levels[0].input_h[lo:hi] if levels else np.zeros(0)
    grid = (
        rows, cols, level_start, sw, sh, sw.astype(np.int64), sh.astype(np.int64),
        np.ascontiguousarray(input_w, np.float64), np.ascontiguousarray(input_h, np.float64),
    )  # fmt: skip
    nominal = [lv.nominal() for lv in levels]
    shape = (
        nshapes,
        np.array([lv.kind == "ssd" for lv in levels], np.bool_),
        np.array([lv.step for lv in levels], np.float64),
        *(per_shape([getattr(lv, f) for lv in levels], np.float32) for f in ("lo_w", "hi_w", "lo_h", "hi_h")),
        *(per_shape([nm[i] for nm in nominal], np.float64) for i in range(4)),
        np.array(
            [[(nm[0] * nm[1]).min() for nm in nominal], [(nm[0] * nm[1]).max() for nm in nominal]], np.float64
        ).reshape(2, nl),
    )  # per level, the least and the largest nominal anchor area
    box = np.stack([boxes.x1, boxes.y1, boxes.x2, boxes.y2]).astype(np.float32).reshape(4, n)
    positives = np.zeros((n, nl), np.int64)
    best = np.zeros(n, np.float32)
    lost = np.zeros(n, np.bool_)
    weak = np.zeros(n, np.int64)
    fn(
        image - lo, box, np.float32(high), bool(low_quality), bool(forced), np.float32(floor), grid, shape,
        float(SLACK), float(RELAX), positives, best, lost, weak,
    )  # fmt: skip
    return Assigned(positives, best, lost, weak)
