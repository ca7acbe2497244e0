"""YOLOv5's build_targets (utils/loss.py, v7.0), per object, in float32 as it computes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scalematch.match.assign.maxiou import Assigned

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from scalematch.match.geometry import Grid

    F32 = npt.NDArray[np.float32]
    I64 = npt.NDArray[np.int64]


def build_targets(
    norm: tuple[F32, F32, F32, F32],
    image: I64,
    grids: tuple[Grid, ...],
    anchors: tuple[tuple[tuple[float, float], ...], ...],
    strides: tuple[int, ...],
    anchor_t: float,
) -> Assigned:
    """Per object and level: every anchor whose width and height ratios to the object's (in grid units) stay
    below ``anchor_t`` gives the centre cell plus the x and y neighbours nearest to the centre (when the centre
    is more than one cell from that edge): 1 to 3 positives per matching anchor. Objects do not compete (two
    objects may share a cell and anchor; both targets are built)."""
    import numpy as np

    f32 = np.float32
    xc, yc, wn, hn = norm
    n = len(image)
    positives = np.zeros((n, len(grids)), np.int64)
    g = f32(0.5)
    for li, grid in enumerate(grids):
        nx = grid.cols[image].astype(f32)
        ny = grid.rows[image].astype(f32)
        gx, gy = xc * nx, yc * ny
        gw, gh = wn * nx, hn * ny
        near = np.ones(n, np.int64)
        for v, size in ((gx, nx), (gy, ny)):
            inv = size - v
            near += ((np.mod(v, f32(1)) < g) & (v > 1)).astype(np.int64)
            near += ((np.mod(inv, f32(1)) < g) & (inv > 1)).astype(np.int64)
        for aw, ah in anchors[li]:
            a_w = f32(aw) / f32(strides[li])
            a_h = f32(ah) / f32(strides[li])
            rw, rh = gw / a_w, gh / a_h
            with np.errstate(divide="ignore"):
                worst = np.maximum(np.maximum(rw, f32(1) / rw), np.maximum(rh, f32(1) / rh))
            positives[:, li] += np.where(worst < f32(anchor_t), near, 0)
    return Assigned(positives, np.full(n, np.nan, np.float32), np.zeros(n, bool))
