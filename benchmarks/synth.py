"""Deterministic synthetic COCO instances file shaped like train2017, for the ingest benchmark.

At ``scale=1.0``: 118,287 images, 860,000 annotations (about 1 % crowd with uncompressed RLE, the rest with
one polygon each), roughly 445 MB. Object sizes are log-normal in sqrt(area) with parameters chosen so that
COCO's small / medium / large split is close to 41 / 34 / 24 %. Same seed and scale -> byte-identical file.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

N_IMAGES = 118_287
N_ANNOTATIONS = 860_000
IMAGE_SIZES = ((640, 480), (640, 427), (480, 640), (427, 640), (640, 425), (500, 375), (612, 612))
N_CATEGORIES = 80
# sqrt(area) ~ LogNormal(MU, SIGMA): P(<32) = 0.41 and P(<96) = 0.76 give these two numbers.
MU = math.log(32.0) + 0.2275 * 1.1765
SIGMA = 1.1765
CROWD_FRACTION = 0.009


def _fmt(values: np.ndarray) -> str:
    return ",".join(f"{v:.2f}" for v in values.tolist())


def write(path: Path, scale: float = 1.0, seed: int = 2017) -> Path:
    """Write the synthetic file to ``path`` (atomically) and return it."""
    rng = np.random.default_rng(seed)
    n_img = round(N_IMAGES * scale)
    n_ann = round(N_ANNOTATIONS * scale)
    sizes = np.array(IMAGE_SIZES)[rng.integers(0, len(IMAGE_SIZES), n_img)]
    # Annotations per image: most images get some, ~1 % get none, total fixed at n_ann.
    img_of_ann = np.sort(rng.integers(0, n_img, n_ann))
    img_ids = np.arange(1, n_img + 1) * 7 + 3
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        f.write(f'{{"info": {{"description": "scalematch synthetic train2017-shaped file", "seed": {seed}}},\n')
        f.write('"licenses": [{"id": 1, "name": "none", "url": ""}],\n"images": [\n')
        for i in range(n_img):
            w, h = sizes[i]
            sep = ",\n" if i else ""
            f.write(
                f'{sep}{{"license": 1, "file_name": "{img_ids[i]:012d}.jpg", "coco_url": "", '
                f'"height": {h}, "width": {w}, "date_captured": "2013-11-14 11:18:45", "id": {img_ids[i]}}}'
            )
        f.write('\n],\n"annotations": [\n')
        block = 500  # annotations in a block share their polygon's point count
        for start in range(0, n_ann, block):
            stop = min(n_ann, start + block)
            m = stop - start
            n = int(rng.integers(16, 38))
            side = np.exp(rng.normal(MU, SIGMA, m))
            aspect = np.exp(rng.normal(0.0, 0.5, m))
            crowd = rng.random(m) < CROWD_FRACTION
            cats = rng.integers(1, N_CATEGORIES + 1, m)
            iw = sizes[img_of_ann[start:stop], 0].astype(np.float64)
            ih = sizes[img_of_ann[start:stop], 1].astype(np.float64)
            t = np.sort(rng.random((m, n)), axis=1) * 2 * math.pi
            r = 1.0 + 0.15 * rng.standard_normal((m, n))
            px = r * np.cos(t)
            py = r * np.sin(t)
            a0 = 0.5 * np.abs((px * np.roll(py, -1, 1)).sum(1) - (py * np.roll(px, -1, 1)).sum(1))
            sx = side * np.sqrt(aspect) / np.sqrt(a0)
            sy = side / np.sqrt(aspect) / np.sqrt(a0)
            fit = np.minimum(1.0, np.minimum((iw - 2) / (sx * np.ptp(px, 1)), (ih - 2) / (sy * np.ptp(py, 1))))
            px = px * (sx * fit)[:, None]
            py = py * (sy * fit)[:, None]
            ox = rng.random(m) * (iw - 1 - np.ptp(px, 1)) - px.min(1)
            oy = rng.random(m) * (ih - 1 - np.ptp(py, 1)) - py.min(1)
            xs = np.round(px + ox[:, None], 2)
            ys = np.round(py + oy[:, None], 2)
            area = 0.5 * np.abs((xs * np.roll(ys, -1, 1)).sum(1) - (ys * np.roll(xs, -1, 1)).sum(1))
            pts = np.empty((m, 2 * n))
            pts[:, 0::2] = xs
            pts[:, 1::2] = ys
            for k in range(m):
                j = start + k
                x0 = round(float(xs[k].min()), 2)
                y0 = round(float(ys[k].min()), 2)
                bbox = f"[{x0:.2f},{y0:.2f},{float(xs[k].max()) - x0:.2f},{float(ys[k].max()) - y0:.2f}]"
                if crowd[k]:
                    runs = rng.integers(1, 400, 24).tolist()
                    runs.append(max(1, int(iw[k] * ih[k]) - sum(runs)))
                    counts = ",".join(map(str, runs))
                    seg = f'{{"counts": [{counts}], "size": [{int(ih[k])}, {int(iw[k])}]}}'
                    iscrowd = 1
                else:
                    seg = f"[[{_fmt(pts[k])}]]"
                    iscrowd = 0
                sep = ",\n" if j else ""
                f.write(
                    f'{sep}{{"segmentation": {seg}, "area": {float(area[k])!r}, "iscrowd": {iscrowd}, '
                    f'"image_id": {img_ids[img_of_ann[j]]}, "bbox": {bbox}, "category_id": {cats[k]}, '
                    f'"id": {j + 1}}}'
                )
        f.write('\n],\n"categories": [\n')
        f.write(
            ",\n".join(
                f'{{"supercategory": "thing", "id": {c}, "name": "class{c:02d}"}}' for c in range(1, N_CATEGORIES + 1)
            )
        )
        f.write("\n]}\n")
    tmp.replace(path)
    return path
