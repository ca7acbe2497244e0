"""Anchor shapes: toolkit defaults, shape IoU, the YOLO ratio test and k-means fitting in log space."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Array = npt.NDArray[np.float64]

YOLOV5_ANCHORS: dict[int, tuple[tuple[float, float], ...]] = {
    8: ((10, 13), (16, 30), (33, 23)),
    16: ((30, 61), (62, 45), (59, 119)),
    32: ((116, 90), (156, 198), (373, 326)),
}
"""YOLOv5's default anchors (w, h) in input pixels at strides 8, 16 and 32 (models/yolov5s.yaml)."""


@dataclass(frozen=True)
class AnchorSet:
    """Anchor shapes ``(w, h)`` per level, in input pixels, in the order of the levels."""

    shapes: tuple[tuple[tuple[float, float], ...], ...]

    def flat(self) -> tuple[list[float], list[float], list[int]]:
        """Widths, heights and the level index of every anchor."""
        ws, hs, idx = [], [], []
        for k, level in enumerate(self.shapes):
            for w, h in level:
                ws.append(w)
                hs.append(h)
                idx.append(k)
        return ws, hs, idx


def retinanet_anchors(
    strides: list[float],
    octave_base: float = 4.0,
    scales_per_octave: int = 3,
    ratios: tuple[float, ...] = (0.5, 1.0, 2.0),
) -> AnchorSet:
    """RetinaNet/mmdetection defaults: sizes base*stride*2^(i/scales), ratio r = h/w (w = s/sqrt(r), h = s*sqrt(r))."""
    shapes = []
    for s in strides:
        level = []
        for r in ratios:
            for i in range(scales_per_octave):
                size = octave_base * s * 2 ** (i / scales_per_octave)
                level.append((size / math.sqrt(r), size * math.sqrt(r)))
        shapes.append(tuple(level))
    return AnchorSet(tuple(shapes))


def yolo_default_anchors(strides: list[float]) -> AnchorSet | None:
    """YOLOv5's defaults when the strides are exactly 8, 16, 32 (in any subset), else None."""
    if not all(round(s) in YOLOV5_ANCHORS and abs(s - round(s)) < 1e-9 for s in strides):
        return None
    return AnchorSet(tuple(YOLOV5_ANCHORS[round(s)] for s in strides))


def shape_iou(w: Array, h: Array, aw: Array, ah: Array) -> Array:
    """IoU of boxes (n,) against anchors (m,) sharing one centre: (n, m)."""
    import numpy as np

    inter = np.minimum(w[:, None], aw[None, :]) * np.minimum(h[:, None], ah[None, :])
    union = (w * h)[:, None] + (aw * ah)[None, :] - inter
    return np.asarray(inter / union, dtype=np.float64)


def yolo_ratio(w: Array, h: Array, aw: Array, ah: Array) -> Array:
    """YOLOv5's match metric max(w/a_w, a_w/w, h/a_h, a_h/h): (n, m); a match is < the threshold (4.0)."""
    import numpy as np

    rw = w[:, None] / aw[None, :]
    rh = h[:, None] / ah[None, :]
    return np.asarray(np.maximum(np.maximum(rw, 1 / rw), np.maximum(rh, 1 / rh)), dtype=np.float64)


CHUNK = 1 << 16
KMEANS_SAMPLE = 10_000
"""k-means (the start of the IoU refinement) runs on at most this many boxes, sampled with the fixed seed."""


def best_anchor(metric: str, w: Array, h: Array, aw: Array, ah: Array) -> tuple[npt.NDArray[np.int64], Array]:
    """Index and value of the best anchor per box: highest shape IoU (``"iou"``) or lowest YOLO ratio
    (``"ratio"``), computed in chunks so memory stays bounded."""
    import numpy as np

    index = np.empty(len(w), dtype=np.int64)
    value = np.empty(len(w), dtype=np.float64)
    for start in range(0, len(w), CHUNK):
        part = slice(start, start + CHUNK)
        if metric == "iou":
            m = shape_iou(w[part], h[part], aw, ah)
            index[part] = np.argmax(m, axis=1)
        else:
            m = yolo_ratio(w[part], h[part], aw, ah)
            index[part] = np.argmin(m, axis=1)
        value[part] = m[np.arange(m.shape[0]), index[part]]
    return index, value


def kmeans_log(w: Array, h: Array, k: int, seed: int = 0, iterations: int = 100) -> list[tuple[float, float]]:
    """k anchor shapes from k-means on (log size, log aspect), k-means++ start; sorted by size.

    Clustering in log space treats a 2x error the same for small and large boxes. With fewer distinct boxes
    than k, returns as many shapes as there are distinct boxes.
    """
    import numpy as np

    points = np.column_stack([0.5 * np.log(w * h), np.log(w / h)])
    rng = np.random.default_rng(seed)
    if len(points) > KMEANS_SAMPLE:  # a starting point for refine_iou: a sample is enough
        points = points[rng.choice(len(points), KMEANS_SAMPLE, replace=False)]
    unique = np.unique(points, axis=0)
    k = min(k, len(unique))
    if k == 0:
        return []
    c = np.empty((k, 2))
    c[0] = unique[rng.integers(len(unique))]
    d2 = ((points - c[0]) ** 2).sum(axis=1)
    for j in range(1, k):  # k-means++: each new centre drawn with probability ~ squared distance
        c[j] = points[rng.choice(len(points), p=d2 / d2.sum())] if d2.sum() > 0 else unique[j]
        d2 = np.minimum(d2, ((points - c[j]) ** 2).sum(axis=1))
    for _ in range(iterations):
        label = np.argmin((c**2).sum(axis=1)[None, :] - 2 * points @ c.T, axis=1)  # + |p|^2, same for all
        counts = np.bincount(label, minlength=k)
        sums = np.column_stack([np.bincount(label, weights=points[:, d], minlength=k) for d in (0, 1)])
        new = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], c)
        if np.allclose(new, c, rtol=0, atol=1e-6):
            break
        c = new
    shapes = [(float(np.exp(s + a / 2)), float(np.exp(s - a / 2))) for s, a in c]
    return sorted(shapes, key=lambda wh: wh[0] * wh[1])


def mean_best_iou(w: Array, h: Array, shapes: list[tuple[float, float]]) -> float:
    """Mean over boxes of the best shape IoU with any of ``shapes``."""
    import numpy as np

    aw = np.array([s[0] for s in shapes], dtype=np.float64)
    ah = np.array([s[1] for s in shapes], dtype=np.float64)
    return float(best_anchor("iou", w, h, aw, ah)[1].mean())


def refine_iou(
    w: Array, h: Array, shapes: list[tuple[float, float]], iterations: int = 30
) -> tuple[list[tuple[float, float]], float]:
    """Lloyd iterations under the IoU assignment (each box to its best-IoU anchor, each anchor to the median
    width and height of its boxes; cf. YOLOv2's dimension clusters); returns the best shapes seen and their mean
    best IoU. Medians beat means and geometric means here (LVIS sample, 3 anchors at P3-P5: 0.624 vs 0.606)."""
    import numpy as np

    best, best_score = list(shapes), -1.0
    current = list(shapes)
    for _ in range(iterations + 1):
        aw = np.array([s[0] for s in current])
        ah = np.array([s[1] for s in current])
        label, iou = best_anchor("iou", w, h, aw, ah)  # one IoU pass scores this set and assigns the boxes
        score = float(iou.mean())
        if score > best_score:
            best, best_score = current, score
        moved = [
            (float(np.median(w[label == j])), float(np.median(h[label == j]))) if np.any(label == j) else current[j]
            for j in range(len(current))
        ]
        if moved == current:
            break
        current = moved
    return sorted(best, key=lambda wh: wh[0] * wh[1]), best_score


def fit_shapes(
    w: Array, h: Array, k: int, starts: list[list[tuple[float, float]]] | None = None, restarts: int = 4
) -> list[tuple[float, float]]:
    """k anchor shapes maximising the mean best IoU: log-space k-means from ``restarts`` seeds (plus any given
    starting sets, e.g. the toolkit defaults), each refined by :func:`refine_iou`; the best set wins. With fewer
    distinct boxes than k, those shapes, each once, in order of area (every box then has IoU 1; a starting set
    would only add shapes no box chose)."""
    import numpy as np

    distinct = np.unique(np.column_stack([w, h]), axis=0)
    if len(distinct) < k:
        return sorted(((float(a), float(b)) for a, b in distinct), key=lambda wh: wh[0] * wh[1])
    candidates = [kmeans_log(w, h, k, seed=s) for s in range(restarts)] + [list(s) for s in starts or []]
    scored = [refine_iou(w, h, c) for c in candidates if len(c) == k]
    if not scored:
        return kmeans_log(w, h, k)
    return max(scored, key=lambda t: t[1])[0]
