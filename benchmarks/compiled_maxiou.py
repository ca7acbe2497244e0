"""Prototype: the max-IoU assigner's window search (``maxiou._pairs_for``) as one compiled loop, to measure what a
compiled kernel would buy. Needs numba, which scalematch does not depend on: install it into a scratch folder and
put that on PYTHONPATH (``pip install --target /tmp/numba numba``; ``PYTHONPATH=/tmp/numba python
benchmarks/compiled_maxiou.py``).

Run from the repository root: ``python benchmarks/compiled_maxiou.py [--detectors retinanet,faster-rcnn,ssd300]
[--scale 1] [--runs 3]``. For each preset it reads the train2017-shaped file once, times ``simulate`` (one
process) with the numpy window search and with the compiled one, interleaved, and checks that every per-object
array of the simulation is identical. It also times the first call in a fresh process (JIT compile, or loading
the on-disk cache of ``cache=True``). Nothing here is imported by scalematch.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_KERNEL: list[Any] = []


def kernel() -> Any:
    """The compiled window search (compiled on first use; cached on disk next to this file)."""
    if _KERNEL:
        return _KERNEL[0]
    import numba  # type: ignore[import-not-found, unused-ignore]
    import numpy as np

    @numba.njit(cache=True, error_model="numpy")  # type: ignore[untyped-decorator, unused-ignore]
    def pairs(  # type: ignore[no-untyped-def]
        objs, img, gx1, gy1, gx2, gy2, t, relax, slack,
        rows, cols, sw, sh, swi, shi, in_w, in_h, first_key, nshapes, ssd, step,
        lo_w, hi_w, lo_h, hi_h, aw, ah, ox, oy, with_anchors,
        out_obj, out_key, out_iou, out_anchor, part_end,
    ):  # fmt: skip
        # Every (object, anchor) pair with float32 IoU >= t[object], part by part (level, then shape), inside a
        # part object by object, column by column, row by row: the order of maxiou._pairs_for. Returns the pairs
        # written, or -1 when the buffers are too small.
        f32 = np.float32
        zero = f32(0)
        half = f32(0.5)
        m = 0
        c = 0
        cap = len(out_key)
        n = len(objs)
        gw, gh, area_g = np.empty(n), np.empty(n), np.empty(n)
        tt, gcx, gcy = np.empty(n), np.empty(n), np.empty(n)
        area32 = np.empty(n, np.float32)
        for j in range(n):  # per object once: what every level and shape reads
            gw[j] = np.float64(gx2[j] - gx1[j])
            gh[j] = np.float64(gy2[j] - gy1[j])
            area_g[j] = gw[j] * gh[j]
            tt[j] = np.float64(t[j]) * (1 - relax)
            gcx[j] = (np.float64(gx1[j]) + np.float64(gx2[j])) / 2
            gcy[j] = (np.float64(gy1[j]) + np.float64(gy2[j])) / 2
            area32[j] = (gx2[j] - gx1[j]) * (gy2[j] - gy1[j])
        for li in range(rows.shape[0]):
            for a in range(nshapes[li]):
                awa, aha, oxa, oya = aw[li, a], ah[li, a], ox[li, a], oy[li, a]
                area_a = awa * aha
                for j in range(n):
                    # IoU >= t needs t * A_anchor <= A_object <= A_anchor / t: a cheap test first (loosened)
                    if area_g[j] < tt[j] * area_a * (1 - 1e-6) or area_a < tt[j] * area_g[j] * (1 - 1e-6):
                        continue
                    need = tt[j] / (1 + tt[j]) * (area_g[j] + area_a)
                    if min(area_g[j], area_a) < need:
                        continue
                    rx = (gw[j] + awa) / 2 - need / min(gh[j], aha)
                    if not rx >= -slack:
                        continue
                    im = img[j]
                    stw, sth = sw[li, im], sh[li, im]
                    lo_x = int(max(np.ceil((gcx[j] - rx - slack - oxa) / stw), 0.0))
                    hi_x = int(min(np.floor((gcx[j] + rx + slack - oxa) / stw), np.float64(cols[li, im] - 1)))
                    ncol = cols[li, im] * nshapes[li]
                    for ix in range(lo_x, hi_x + 1):
                        gap = abs(ix * stw + oxa - gcx[j])
                        overlap_x = min(min(gw[j], awa), (gw[j] + awa) / 2 - gap) + slack
                        if not overlap_x > 0:
                            continue
                        ry = (gh[j] + aha) / 2 - need / overlap_x
                        if not ry >= -slack:
                            continue
                        lo_y = int(max(np.ceil((gcy[j] - ry - slack - oya) / sth), 0.0))
                        hi_y = int(min(np.floor((gcy[j] + ry + slack - oya) / sth), np.float64(rows[li, im] - 1)))
                        if ssd[li]:
                            nw = f32(in_w[im] / step[li])
                            centre = (f32(ix) + half) / nw
                            hw = half * hi_w[li, a]
                            s = f32(in_w[im])
                            ax1, ax2 = (centre - hw) * s, (centre + hw) * s
                        else:
                            shift = f32(ix * swi[li, im])
                            ax1, ax2 = shift + lo_w[li, a], shift + hi_w[li, a]
                        wx = max(min(gx2[j], ax2) - max(gx1[j], ax1), zero)
                        aw32 = ax2 - ax1
                        for iy in range(lo_y, hi_y + 1):
                            if ssd[li]:
                                nh = f32(in_h[im] / step[li])
                                centre = (f32(iy) + half) / nh
                                hh = half * hi_h[li, a]
                                s = f32(in_h[im])
                                ay1, ay2 = (centre - hh) * s, (centre + hh) * s
                            else:
                                shift = f32(iy * shi[li, im])
                                ay1, ay2 = shift + lo_h[li, a], shift + hi_h[li, a]
                            inter = wx * max(min(gy2[j], ay2) - max(gy1[j], ay1), zero)
                            iou = inter / (area32[j] + aw32 * (ay2 - ay1) - inter)
                            if iou >= t[j]:
                                if m >= cap:
                                    return -1
                                out_obj[m] = objs[j]
                                out_key[m] = first_key[li, im] + ix * nshapes[li] + a + iy * ncol
                                out_iou[m] = iou
                                if with_anchors:
                                    out_anchor[m, 0] = ax1
                                    out_anchor[m, 1] = ay1
                                    out_anchor[m, 2] = ax2
                                    out_anchor[m, 3] = ay2
                                m += 1
                part_end[c] = m
                c += 1
        return m

    _KERNEL.append(pairs)
    return pairs


def compiled_pairs_for(
    boxes: Any, levels: list[Any], keys: tuple[Any, Any], objs: Any, t: Any, with_anchors: bool = False
) -> list[Any]:
    """A drop-in for ``maxiou._pairs_for`` (the same parts, pairs in the same order)."""
    import numpy as np

    from scalematch.match.assign.maxiou import RELAX, SLACK, Part

    image_start, level_start = keys
    first = int(boxes.image.min()) if len(boxes.image) else 0  # the chunk's images: first to len(image_start) - 1
    n_img = len(image_start) - first
    big = max(lv.shapes for lv in levels)
    nl = len(levels)

    def per_image(values: list[Any], dtype: Any) -> Any:
        out = np.zeros((nl, n_img), dtype)
        for li, v in enumerate(values):
            out[li] = v[first : first + n_img]
        return out

    def per_shape(values: list[Any], dtype: Any) -> Any:
        out = np.zeros((nl, big), dtype)
        for li, v in enumerate(values):
            out[li, : len(v)] = v
        return out

    nominal = [lv.nominal() for lv in levels]
    args = (
        per_image([lv.grid.rows for lv in levels], np.int64),
        per_image([lv.grid.cols for lv in levels], np.int64),
        per_image([lv.grid.stride_w for lv in levels], np.float64),
        per_image([lv.grid.stride_h for lv in levels], np.float64),
        per_image([lv.grid.stride_w.astype(np.int64) for lv in levels], np.int64),
        per_image([lv.grid.stride_h.astype(np.int64) for lv in levels], np.int64),
        levels[0].input_w[first : first + n_img].astype(np.float64),
        levels[0].input_h[first : first + n_img].astype(np.float64),
        np.stack([(image_start + level_start[:, li])[first:] for li in range(nl)]),
        np.array([lv.shapes for lv in levels], np.int64),
        np.array([lv.kind == "ssd" for lv in levels]),
        np.array([lv.step for lv in levels], np.float64),
        per_shape([lv.lo_w for lv in levels], np.float32),
        per_shape([lv.hi_w for lv in levels], np.float32),
        per_shape([lv.lo_h for lv in levels], np.float32),
        per_shape([lv.hi_h for lv in levels], np.float32),
        per_shape([nm[0] for nm in nominal], np.float64),
        per_shape([nm[1] for nm in nominal], np.float64),
        per_shape([nm[2] for nm in nominal], np.float64),
        per_shape([nm[3] for nm in nominal], np.float64),
    )
    boxes_in = (
        objs, boxes.image[objs] - first, boxes.x1[objs], boxes.y1[objs], boxes.x2[objs], boxes.y2[objs],
        np.asarray(t, np.float32), RELAX, SLACK,
    )  # fmt: skip
    combos = [(li, a) for li, lv in enumerate(levels) for a in range(lv.shapes)]
    part_end = np.zeros(len(combos), np.int64)
    cap = max(64 * len(objs), 1024)
    while True:
        out_obj, out_key = np.empty(cap, np.int64), np.empty(cap, np.int64)
        out_iou = np.empty(cap, np.float32)
        out_anchor = np.empty((cap if with_anchors else 1, 4), np.float32)
        m = kernel()(*boxes_in, *args, with_anchors, out_obj, out_key, out_iou, out_anchor, part_end)
        if m >= 0:
            break
        cap *= 4
    parts = []
    lo = 0
    for (li, _), hi in zip(combos, part_end, strict=True):
        anchor = tuple(out_anchor[lo:hi, i].copy() for i in range(4)) if with_anchors else None
        parts.append(Part(li, out_obj[lo:hi].copy(), out_key[lo:hi].copy(), out_iou[lo:hi].copy(), anchor))
        lo = int(hi)
    return parts


FIELDS = ("per_level", "positives", "best_iou", "w_in", "h_in", "reason_code", "weak")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--detectors", default="retinanet,faster-rcnn,ssd300")
    parser.add_argument("--first-call", action="store_true", help="time one call in this process and stop")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    import numpy as np
    from ingest import synthetic

    from scalematch.match.api import as_data, resolve_preset
    from scalematch.match.assign import maxiou, simulate
    from scalematch.match.detector import toolkit_rows, without_small_images
    from scalematch.match.widen import level_graph

    numpy_pairs = maxiou._pairs_for
    path = synthetic(args.scale, args.seed)
    if not args.first_call:
        for cache in (Path(__file__).parent / "__pycache__").glob("compiled_maxiou.*.nb[ic]"):
            cache.unlink()
        for state in ("cold (compiles)", "warm (cache=True)"):
            print(f"first call in a fresh process, {state}: ", end="", flush=True)
            subprocess.run([sys.executable, __file__, "--first-call", "--detectors", "retinanet"], check=True)
    for name in args.detectors.split(","):
        preset = resolve_preset(name, backbone=None, neck=None, levels=None, resize=[])
        graph = level_graph(preset)
        rows = toolkit_rows(without_small_images(as_data(path, preset.resize_policy()), preset, graph), preset)[0]
        if args.first_call:
            start = time.perf_counter()
            import numba  # type: ignore[import-not-found, unused-ignore]  # noqa: F401

            loaded = time.perf_counter()
            maxiou._pairs_for = compiled_pairs_for
            simulate(preset, rows.iloc[:2000], graph, workers=1)
            done = time.perf_counter()
            maxiou._pairs_for = numpy_pairs
            simulate(preset, rows.iloc[:2000], graph, workers=1)
            print(
                f"import numba {loaded - start:.2f} s, first compiled simulate (2,000 objects) {done - loaded:.2f} s "
                f"(numpy: {time.perf_counter() - done:.2f} s)"
            )
            return
        times: dict[str, list[float]] = {"numpy": [], "compiled": []}
        results = {}
        for _ in range(args.runs):
            for label, fn in (("numpy", numpy_pairs), ("compiled", compiled_pairs_for)):
                maxiou._pairs_for = fn
                start = time.perf_counter()
                results[label] = simulate(preset, rows, graph, workers=1)
                times[label].append(time.perf_counter() - start)
        same = all(
            np.array_equal(getattr(results["numpy"], f), getattr(results["compiled"], f), equal_nan=True)
            for f in FIELDS
        )
        print(
            f"{name}: simulate, one process, median of {args.runs}: numpy {statistics.median(times['numpy']):.2f} s, "
            f"compiled window search {statistics.median(times['compiled']):.2f} s; results "
            f"{'identical' if same else 'DIFFER'}"
        )
        maxiou._pairs_for = numpy_pairs


if __name__ == "__main__":
    main()
