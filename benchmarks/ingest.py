"""Ingest benchmark: scalematch's COCO reader vs ``pycocotools.coco.COCO(path)`` on a train2017-shaped file.

    python benchmarks/ingest.py [--seed 2017] [--scales 0.25,0.5,1,2] [--repeat 3]

Writes synthetic files (benchmarks/synth.py, deterministic from the seed) into benchmarks/_work/ once,
then runs every measurement in a fresh subprocess: wall time (from before the imports to the result) and
peak RSS (``ru_maxrss`` of that process). Three measurements run in paired rounds (interleaved, so that
the load of a shared machine hits all alike): ``scalematch stats --json`` (the target), ``load(path)`` (the
box table) and pycocotools' ``COCO(path)`` + bbox array. Ratios are taken per round, then the median. Checks
that scalematch's and pycocotools' boxes are identical, and writes the "ingest" section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import compiled, write_section

HERE = Path(__file__).resolve().parent
WORK = HERE / "_work"

STATS = """
import time, resource, sys, io, contextlib, json
t0 = time.perf_counter()
from scalematch.cli.main import app
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        app(["stats", "--json", sys.argv[1]])
    except SystemExit as exc:
        assert not exc.code, exc.code
wall = time.perf_counter() - t0
stats = json.loads(out.getvalue())
use = resource.getrusage(resource.RUSAGE_SELF)
print(wall, use.ru_maxrss, stats["annotations"] + stats["crowd"], 0, use.ru_utime + use.ru_stime)
"""

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
use = resource.getrusage(resource.RUSAGE_SELF)
print(wall, use.ru_maxrss, len(boxes), table, use.ru_utime + use.ru_stime)
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
use = resource.getrusage(resource.RUSAGE_SELF)
print(wall, use.ru_maxrss, len(boxes), boxes.nbytes, use.ru_utime + use.ru_stime)
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
    """Run ``code`` on ``path`` in a fresh interpreter: wall s, CPU s (user + system, the whole process), peak
    RSS MiB, number of boxes."""
    env = dict(os.environ, PYTHONPATH=str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run(
        [sys.executable, "-c", code, str(path), str(out)], check=True, capture_output=True, text=True, env=env
    )
    wall, rss_kib, n, table, cpu = done.stdout.split()
    return {
        "wall_s": float(wall),
        "cpu_s": float(cpu),
        "rss_mib": int(rss_kib) / 1024,
        "boxes": int(n),
        "table_mib": int(table) / 2**20,
    }


def main() -> None:
    compiled()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument("--scales", default="0.25,0.5,1,2")
    parser.add_argument("--repeat", type=int, default=3, help="paired rounds on the 1x file")
    args = parser.parse_args()
    import numpy as np
    import pandas as pd

    scales = [float(s) for s in args.scales.split(",")]
    files = {s: synthetic(s, args.seed) for s in scales}
    one = files[1.0] if 1.0 in files else synthetic(1.0, args.seed)
    load_start = os.getloadavg()
    rounds: list[dict[str, dict[str, float]]] = []
    for k in range(args.repeat):
        runs = {
            "stats": lambda: measure(STATS, one, WORK / "stats.npy"),
            "load": lambda: measure(OURS, one, WORK / "ours.npy"),
            "pycocotools": lambda: measure(PYCOCO, one, WORK / "pycocotools.npy"),
        }
        order = list(runs) if k % 2 == 0 else list(reversed(runs))
        rounds.append({name: runs[name]() for name in order})
        print(f"round {k + 1}: " + ", ".join(f"{n} {r['wall_s']:.2f} s" for n, r in rounds[-1].items()), flush=True)
    identical = bool(np.array_equal(np.load(WORK / "ours.npy"), np.load(WORK / "pycocotools.npy")))
    sizes = {s: {"stats": measure(STATS, files[s], WORK / "x.npy"), "load": measure(OURS, files[s], WORK / "x.npy")}
             for s in scales}  # fmt: skip

    def median(name: str, key: str) -> float:
        return statistics.median(r[name][key] for r in rounds)

    def ratio(name: str, key: str) -> float:
        return statistics.median(r[name][key] / r["pycocotools"][key] for r in rounds)

    report: dict[str, Any] = {
        "file": one.name,
        "file_mb": one.stat().st_size / 1e6,
        "boxes": rounds[0]["load"]["boxes"],
        "rounds": rounds,
        "median": {n: {k: median(n, k) for k in ("wall_s", "cpu_s", "rss_mib")} for n in rounds[0]},
        "ratio": {n: {k: ratio(n, k) for k in ("wall_s", "cpu_s", "rss_mib")} for n in ("stats", "load")},
        "identical_boxes": identical,
        "scales": {f"{s:g}": {"file_mb": files[s].stat().st_size / 1e6, **v} for s, v in sizes.items()},
        "load_average": (load_start, os.getloadavg()),
        "versions": f"Python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
        f"msgspec {__import__('msgspec').__version__}",
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
    }
    (WORK / "ingest.json").write_text(json.dumps(report, indent=2))
    text = markdown(report, args)
    write_section("ingest", text)
    print(text)


def markdown(r: dict[str, Any], args: argparse.Namespace) -> str:
    med, ratio = r["median"], r["ratio"]
    loads = "; ".join(", ".join(f"{x:.1f}" for x in la) for la in r["load_average"])
    lines = [
        "## Ingest",
        "",
        f"Command: `python benchmarks/ingest.py --seed {args.seed} --scales {args.scales} --repeat {args.repeat}`",
        f"File: {r['file']} ({r['file_mb']:.0f} MB, {r['boxes']:,} boxes). {r['versions']}; {r['machine']}; "
        f"load average (1, 5, 15 min) at the start {loads.split('; ')[0]}, at the end {loads.split('; ')[1]}.",
        f"{len(r['rounds'])} paired rounds; medians of the rounds, ratios per round then the median.",
        "",
        "| reader | wall s | CPU s | peak RSS MiB | wall ratio | CPU ratio | RSS ratio |",
        "|---|---|---|---|---|---|---|",
        f"| `scalematch stats --json` | {med['stats']['wall_s']:.2f} | {med['stats']['cpu_s']:.2f} | "
        f"{med['stats']['rss_mib']:.0f} | **{ratio['stats']['wall_s']:.3f}** | {ratio['stats']['cpu_s']:.3f} | "
        f"**{ratio['stats']['rss_mib']:.3f}** |",
        f"| scalematch `load(path)` (box table after resize) | {med['load']['wall_s']:.2f} | "
        f"{med['load']['cpu_s']:.2f} | {med['load']['rss_mib']:.0f} | {ratio['load']['wall_s']:.3f} | "
        f"{ratio['load']['cpu_s']:.3f} | {ratio['load']['rss_mib']:.3f} |",
        f"| `pycocotools.coco.COCO(path)` + bboxes to numpy | {med['pycocotools']['wall_s']:.2f} | "
        f"{med['pycocotools']['cpu_s']:.2f} | {med['pycocotools']['rss_mib']:.0f} | 1 | 1 | 1 |",
        "",
        "Targets (issue 12): `stats` <= 0.10 of pycocotools' wall time and peak RSS. CPU time (user + system of the",
        "process) is shown because the machine is shared: under load, wall time depends on the share of the cores",
        "each process gets.",
        f"Boxes identical to pycocotools' (np.array_equal, file order): {r['identical_boxes']}.",
        "",
        "| round | stats wall s (CPU s) | load wall s (CPU s) | pycocotools wall s (CPU s) | stats / pycocotools |",
        "|---|---|---|---|---|",
    ]
    for k, rd in enumerate(r["rounds"], 1):
        lines.append(
            f"| {k} | {rd['stats']['wall_s']:.2f} ({rd['stats']['cpu_s']:.2f}) | {rd['load']['wall_s']:.2f} "
            f"({rd['load']['cpu_s']:.2f}) | {rd['pycocotools']['wall_s']:.2f} ({rd['pycocotools']['cpu_s']:.2f}) | "
            f"{rd['stats']['wall_s'] / rd['pycocotools']['wall_s']:.3f} |"
        )
    lines += [
        "",
        "| file scale | MB | boxes | stats wall s | stats peak RSS MiB | load wall s | load peak RSS MiB | table MiB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s, v in r["scales"].items():
        st, ld = v["stats"], v["load"]
        lines.append(
            f"| {s}x | {v['file_mb']:.0f} | {ld['boxes']:,} | {st['wall_s']:.2f} | {st['rss_mib']:.0f} | "
            f"{ld['wall_s']:.2f} | {ld['rss_mib']:.0f} | {ld['table_mib']:.0f} |"
        )
    stats_rss = [v["stats"]["rss_mib"] for v in r["scales"].values()]
    load_rss = [v["load"]["rss_mib"] for v in r["scales"].values()]
    lines += [
        "",
        f"Peak RSS max/min over the sizes: `stats` {max(stats_rss) / min(stats_rss):.2f} (target <= 1.2), "
        f"`load` {max(load_rss) / min(load_rss):.2f} (returns the table, which grows with the file).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
