"""Time of the full report (figures, PNG encoding, HTML, JSON) for a train2017-sized table of ~860k boxes.

Run: ``python benchmarks/report.py [--scale 1.0] [--runs 3]``. Writes the "report" section of RESULTS.md.
Target: the report in at most 3 s beyond reading the data.

The box table is generated in-process (same size distribution, image sizes and crowd share as synth.py's
file, deterministic seed) instead of reading the 445 MB file: reading is the ingest benchmark's job. Timed
separately: building the table (stands in for reading), the recommendation (match + anchor fit), then the
report; the first report build in the process includes importing matplotlib, seaborn and jinja2 (as the
CLI pays it), later runs show the warm time.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd
from common import compiled, machine, write_section
from synth import CROWD_FRACTION, IMAGE_SIZES, MU, N_ANNOTATIONS, N_CATEGORIES, N_IMAGES, SIGMA

from scalematch.dataset import DEFAULT_POLICY, LoadResult
from scalematch.dataset.resize import apply, parse_policy


def synthetic(scale: float = 1.0, seed: int = 2017) -> LoadResult:
    """A LoadResult shaped like train2017: log-normal sqrt(area), aspect ratio log-normal, 80 categories."""
    rng = np.random.default_rng(seed)
    n_img, n = round(N_IMAGES * scale), round(N_ANNOTATIONS * scale)
    sizes = np.array(IMAGE_SIZES, dtype=np.float64)[rng.integers(0, len(IMAGE_SIZES), n_img)]
    image = np.sort(rng.integers(0, n_img, n))
    iw, ih = sizes[image, 0], sizes[image, 1]
    side = np.exp(rng.normal(MU, SIGMA, n))
    aspect = np.exp(rng.normal(0.0, 0.5, n))
    w = np.minimum(side * np.sqrt(aspect), iw - 1)
    h = np.minimum(side / np.sqrt(aspect), ih - 1)
    names = [f"class{c:02d}" for c in range(1, N_CATEGORIES + 1)]
    cat = rng.integers(0, N_CATEGORIES, n)
    table = pd.DataFrame(
        {
            "ann_id": np.arange(1, n + 1),
            "image_id": image * 7 + 3,
            "image_w": iw,
            "image_h": ih,
            "category_id": cat + 1,
            "category": pd.Categorical.from_codes(cat, categories=pd.Index(names)),
            "x": np.zeros(n),
            "y": np.zeros(n),
            "w": w,
            "h": h,
            "area": w * h * 0.8,
            "iscrowd": rng.random(n) < CROWD_FRACTION,
        }
    )
    policy = parse_policy(DEFAULT_POLICY)
    return LoadResult(apply(table, policy), {}, n_img, dict(enumerate(names, 1)), "synthetic-train2017.json",
                      "coco", str(policy))  # fmt: skip


def main() -> None:
    compiled()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print only, leave RESULTS.md alone")
    args = parser.parse_args()

    start = time.perf_counter()
    data = synthetic(args.scale)
    t_table = time.perf_counter() - start

    from scalematch.match.design import design

    start = time.perf_counter()
    best = design(data, "resnet50", "fpn")
    t_recommend = time.perf_counter() - start

    from scalematch.report.bundle import ReportInput, build_report

    times = []
    size = 0
    for _ in range(args.runs):
        start = time.perf_counter()
        files = build_report(ReportInput(data, best, (best,), command="python benchmarks/report.py"))
        times.append(time.perf_counter() - start)
        size = sum(len(v) for v in files.values())
    boxes = len(data.table)
    cold, warm = times[0], statistics.median(times[1:]) if len(times) > 1 else times[0]
    print(f"{boxes} boxes: table {t_table:.2f} s, recommend {t_recommend:.2f} s, report cold {cold:.2f} s, "
          f"warm {warm:.2f} s ({size / 1e6:.1f} MB of files)")  # fmt: skip
    body = f"""## Report (`scalematch recommend --out`) at train2017 size

Command: `python benchmarks/report.py --runs {args.runs}` ({machine()}); {boxes:,} boxes generated in-process
(synth.py's distributions), resnet50 + fpn, rule rf.

| step | wall time |
|---|---|
| build the box table (stands in for reading the data; not counted) | {t_table:.2f} s |
| recommendation: match, level runs, anchor fit (not part of the report) | {t_recommend:.2f} s |
| **report, first in the process** (imports matplotlib/seaborn/jinja2, 5 figures, PNG, HTML, JSON) | **{cold:.2f} s** |
| report, warm (median of the later runs) | {warm:.2f} s |

Target: the report in at most 3 s beyond reading the data: {"met" if cold <= 3 else "NOT met"}
(report files {size / 1e6:.1f} MB in total)."""
    if not args.no_write:
        write_section("report", body)


if __name__ == "__main__":
    main()
