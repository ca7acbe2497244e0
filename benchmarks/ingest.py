"""Ingest benchmark: scalematch's COCO reader vs ``pycocotools.coco.COCO(path)`` on a train2017-shaped file.

    python benchmarks/ingest.py [--seed 2017] [--scales 0.25,0.5,1,2] [--repeat 1]

Writes synthetic files (benchmarks/synth.py, deterministic from the seed) into benchmarks/_work/ once,
then runs every measurement in a fresh subprocess: wall time (from before the imports to the boxes in a
numpy array) and peak RSS (``ru_maxrss`` of that process). Checks that both readers give identical boxes,
and prints a Markdown section for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WORK = HERE / "_work"

OURS = """
import time, resource, sys
t0 = time.perf_counter()
import numpy as np
from scalematch.dataset import load
result = load(sys.argv[1], resize="shortest-edge:800,1333")
boxes = result.table[["x", "y", "w", "h"]].to_numpy()
wall = time.perf_counter() - t0
np.save(sys.argv[2], boxes)
table = result.table.memory_usage(deep=True).sum()
print(wall, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, len(boxes), table)
"""

PYCOCO = """
import time, resource, sys, contextlib, io
t0 = time.perf_counter()
import numpy as np
from pycocotools.coco import COCO
with contextlib.redirect_stdout(io.StringIO()):
    coco = COCO(sys.argv[1])
boxes = np.array([a["bbox"] for a in coco.dataset["annotations"]], dtype=np.float64)
wall = time.perf_counter() - t0
np.save(sys.argv[2], boxes)
print(wall, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, len(boxes), boxes.nbytes)
"""


def synthetic(scale: float, seed: int) -> Path:
    sys.path.insert(0, str(HERE))
    import synth

    path = WORK / f"train2017_like_x{scale:g}_seed{seed}.json"
    if not path.exists():
        WORK.mkdir(exist_ok=True)
        t = time.perf_counter()
        synth.write(path, scale, seed)
        print(
            f"wrote {path.name} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.0f} s",
            flush=True,
        )
    return path


def measure(code: str, path: Path, out: Path) -> dict[str, float]:
    """Run ``code`` on ``path`` in a fresh interpreter: wall s, peak RSS MiB, number of boxes."""
    env = dict(os.environ, PYTHONPATH=str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run(
        [sys.executable, "-c", code, str(path), str(out)], check=True, capture_output=True, text=True, env=env
    )
    wall, rss_kib, n, table = done.stdout.split()
    return {
        "wall_s": float(wall),
        "rss_mib": int(rss_kib) / 1024,
        "boxes": int(n),
        "table_mib": int(table) / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument("--scales", default="0.25,0.5,1,2")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement; the best is kept")
    args = parser.parse_args()
    import numpy as np

    scales = [float(s) for s in args.scales.split(",")]
    files = {s: synthetic(s, args.seed) for s in scales}
    one = files[1.0] if 1.0 in files else synthetic(1.0, args.seed)

    def best(code: str, path: Path, out: Path) -> dict[str, float]:
        runs = [measure(code, path, out) for _ in range(args.repeat)]
        return min(runs, key=lambda r: r["wall_s"])

    ours = best(OURS, one, WORK / "ours.npy")
    theirs = best(PYCOCO, one, WORK / "pycocotools.npy")
    identical = bool(np.array_equal(np.load(WORK / "ours.npy"), np.load(WORK / "pycocotools.npy")))
    sizes = {s: best(OURS, files[s], WORK / f"ours_x{s:g}.npy") for s in scales}
    rss = [sizes[s]["rss_mib"] for s in scales]
    rest = [sizes[s]["rss_mib"] - sizes[s]["table_mib"] for s in scales]
    report: dict[str, Any] = {
        "file": one.name,
        "file_mb": one.stat().st_size / 1e6,
        "ours": ours,
        "pycocotools": theirs,
        "wall_ratio": ours["wall_s"] / theirs["wall_s"],
        "rss_ratio": ours["rss_mib"] / theirs["rss_mib"],
        "identical_boxes": identical,
        "scales": {f"{s:g}": {"file_mb": files[s].stat().st_size / 1e6, **sizes[s]} for s in scales},
        "rss_max_over_min": max(rss) / min(rss),
        "rss_minus_table_max_over_min": max(rest) / min(rest),
        "load_average": os.getloadavg(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
    }
    (WORK / "ingest.json").write_text(json.dumps(report, indent=2))
    print(markdown(report, args))


def markdown(r: dict[str, Any], args: argparse.Namespace) -> str:
    o, p = r["ours"], r["pycocotools"]
    lines = [
        "## Ingest",
        "",
        f"Command: `python benchmarks/ingest.py --seed {args.seed} --scales {args.scales} --repeat {args.repeat}`",
        f"File: {r['file']} ({r['file_mb']:.0f} MB, {o['boxes']:,} boxes). Machine: {r['machine']}; "
        f"load average at the end {', '.join(f'{x:.1f}' for x in r['load_average'])}.",
        "",
        "| reader | wall s | peak RSS MiB |",
        "|---|---|---|",
        f"| scalematch `load(path)` (box table after resize) | {o['wall_s']:.2f} | {o['rss_mib']:.0f} |",
        f"| `pycocotools.coco.COCO(path)` + bboxes to numpy | {p['wall_s']:.2f} | {p['rss_mib']:.0f} |",
        f"| ratio (target <= 0.10 wall, <= 0.20 RSS) | {r['wall_ratio']:.3f} | {r['rss_ratio']:.3f} |",
        "",
        f"Boxes identical to pycocotools' (np.array_equal, file order): {r['identical_boxes']}.",
        "",
        "| file scale | MB | boxes | wall s | peak RSS MiB | table MiB | RSS - table MiB |",
        "|---|---|---|---|---|---|---|",
    ]
    for s, v in r["scales"].items():
        lines.append(
            f"| {s}x | {v['file_mb']:.0f} | {v['boxes']:,} | {v['wall_s']:.2f} | {v['rss_mib']:.0f} | "
            f"{v['table_mib']:.0f} | {v['rss_mib'] - v['table_mib']:.0f} |"
        )
    lines += [
        "",
        f"Peak RSS max/min over the sizes: {r['rss_max_over_min']:.2f}; without the table itself: "
        f"{r['rss_minus_table_max_over_min']:.2f} (target <= 1.2).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
