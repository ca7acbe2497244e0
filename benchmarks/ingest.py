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
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import compiled, tree_pss_peak, write_section

HERE = Path(__file__).resolve().parent
WORK = HERE / "_work"

STATS = """
import time, resource, sys, io, contextlib, json
t0 = time.perf_counter()
from scalematch.cli.main import app
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        app(["stats", "--json", sys.argv[1], *sys.argv[3:]])
    except SystemExit as exc:
        assert not exc.code, exc.code
wall = time.perf_counter() - t0
stats = json.loads(out.getvalue())
use, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = use.ru_utime + use.ru_stime + kids.ru_utime + kids.ru_stime
print(wall, use.ru_maxrss, stats["annotations"] + stats["crowd"], 0, cpu, kids.ru_maxrss)
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
use, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = use.ru_utime + use.ru_stime + kids.ru_utime + kids.ru_stime
print(wall, use.ru_maxrss, len(boxes), table, cpu, kids.ru_maxrss)
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
print(wall, use.ru_maxrss, len(boxes), boxes.nbytes, use.ru_utime + use.ru_stime, 0)
"""


READS: dict[str, tuple[str, str, tuple[str, ...]]] = {  # name: (code, output file, extra arguments)
    "stats": (STATS, "stats.npy", ()),
    "stats1": (STATS, "stats.npy", ("--workers", "1")),
    "load": (OURS, "ours.npy", ()),
    "pycocotools": (PYCOCO, "pycocotools.npy", ()),
}
KEYS = ("wall_s", "cpu_s", "rss_mib", "worker_rss_mib", "pss_mib")


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


def sampled(code: str, path: Path, runs: int) -> dict[str, float]:
    """Per figure, the median of ``runs`` sampled runs (a single peak of the summed PSS varies by a few MiB from
    run to run, as much as the growth the sizes table is there to show)."""
    results = [measure(code, path, WORK / "x.npy", pss=True) for _ in range(runs)]
    return {key: statistics.median(r[key] for r in results) for key in results[0]}


def measure(code: str, path: Path, out: Path, *extra: str, pss: bool = False) -> dict[str, float]:
    """Run ``code`` on ``path`` in a fresh interpreter: wall s, CPU s (user + system, the whole process), peak
    RSS MiB, number of boxes; with ``pss``, the peak PSS of the process and its workers too (sampled: the sampling
    slows a process that maps much memory, so timed runs go without it)."""
    env = dict(os.environ, PYTHONPATH=str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    command = [sys.executable, "-c", code, str(path), str(out), *extra]
    peak = math.nan
    if pss:
        stdout, peak = tree_pss_peak(command, env)
    else:
        stdout = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
    wall, rss_kib, n, table, cpu, worker_kib = stdout.split()
    return {
        "wall_s": float(wall),
        "cpu_s": float(cpu),
        "rss_mib": int(rss_kib) / 1024,
        "worker_rss_mib": int(worker_kib) / 1024,
        "pss_mib": peak,
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
        order = list(READS) if k % 2 == 0 else list(reversed(READS))
        rounds.append({name: measure(READS[name][0], one, WORK / READS[name][1], *READS[name][2]) for name in order})
        print(f"round {k + 1}: " + ", ".join(f"{n} {r['wall_s']:.2f} s" for n, r in rounds[-1].items()), flush=True)
    identical = bool(np.array_equal(np.load(WORK / "ours.npy"), np.load(WORK / "pycocotools.npy")))
    memory = {name: measure(code, one, WORK / "x.npy", *extra, pss=True)["pss_mib"]
              for name, (code, _, extra) in READS.items()}  # fmt: skip
    for r in rounds:  # one sampled run each: its peak stands for every round
        for name, value in memory.items():
            r[name]["pss_mib"] = value
    sizes = {s: {"stats": sampled(STATS, files[s], args.repeat), "load": sampled(OURS, files[s], args.repeat)}
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
        "median": {n: {k: median(n, k) for k in KEYS} for n in rounds[0]},
        "ratio": {n: {k: ratio(n, k) for k in KEYS if k != "worker_rss_mib"} for n in ("stats", "stats1", "load")},
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
        "| reader | wall s | CPU s | peak RSS MiB (worker) | peak PSS MiB | wall ratio | CPU ratio | PSS ratio |",
        "|---|---|---|---|---|---|---|---|",
        *(_row(label, med[name], ratio.get(name)) for name, label in READERS.items()),
        "",
        "Targets (issue 12): `stats` <= 0.10 of pycocotools' wall time and peak memory. `stats` decodes the pieces",
        "of the annotations array in one worker process per core (forked; `--workers 1`: in the process itself).",
        "CPU time is user + system of the process and its workers. Peak RSS is the process's own and, in",
        "brackets, the largest worker's; a forked worker's RSS counts the pages it shares with its parent, so",
        "the memory of the whole command is given as the peak over time of the summed PSS (proportional set",
        "size, which divides a shared page among the processes that map it) of the process and its workers,",
        "sampled every 10 ms from /proc in one more run of each reader: reading a process's page tables that",
        "often slows one that maps much memory (pycocotools by 60%), so the timed rounds run unsampled, while the",
        "sizes table below gives, per figure, the median of as many sampled runs as there are rounds (one peak",
        "varies by a few MiB from run to run). Under load, wall time depends on the share of the cores each",
        "process gets.",
        f"Boxes identical to pycocotools' (np.array_equal, file order): {r['identical_boxes']}.",
        "",
        "| round | stats wall s (CPU s) | stats --workers 1 | load | pycocotools | stats / pycocotools |",
        "|---|---|---|---|---|---|",
    ]
    for k, rd in enumerate(r["rounds"], 1):
        cells = " | ".join(f"{rd[n]['wall_s']:.2f} ({rd[n]['cpu_s']:.2f})" for n in ("stats", "stats1", "load"))
        pyc = rd["pycocotools"]
        share = rd["stats"]["wall_s"] / pyc["wall_s"]
        lines.append(f"| {k} | {cells} | {pyc['wall_s']:.2f} ({pyc['cpu_s']:.2f}) | {share:.3f} |")
    lines += [
        "",
        "| file scale | MB | boxes | stats wall s | stats peak PSS MiB | load wall s | load peak PSS MiB | table MiB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s, v in r["scales"].items():
        st, ld = v["stats"], v["load"]
        lines.append(
            f"| {s}x | {v['file_mb']:.0f} | {ld['boxes']:,} | {st['wall_s']:.2f} | {st['pss_mib']:.0f} | "
            f"{ld['wall_s']:.2f} | {ld['pss_mib']:.0f} | {ld['table_mib']:.0f} |"
        )
    stats_pss = [v["stats"]["pss_mib"] for v in r["scales"].values()]
    load_pss = [v["load"]["pss_mib"] for v in r["scales"].values()]
    lines += [
        "",
        f"Peak PSS max/min over the sizes: `stats` {max(stats_pss) / min(stats_pss):.3f} (target <= 1.2), "
        f"`load` {max(load_pss) / min(load_pss):.3f} (returns the table, which grows with the file).",
    ]
    return "\n".join(lines)


READERS = {
    "stats": "`scalematch stats --json`",
    "stats1": "`scalematch stats --json --workers 1`",
    "load": "scalematch `load(path)` (box table after resize)",
    "pycocotools": "`pycocotools.coco.COCO(path)` + bboxes to numpy",
}


def _row(label: str, m: dict[str, float], ratio: dict[str, float] | None) -> str:
    worker = f" ({m['worker_rss_mib']:.0f})" if m["worker_rss_mib"] else ""
    ratios = " | ".join(f"{ratio[k]:.3f}" for k in ("wall_s", "cpu_s", "pss_mib")) if ratio else "1 | 1 | 1"
    memory = f"{m['rss_mib']:.0f}{worker} | {m['pss_mib']:.0f}"
    return f"| {label} | {m['wall_s']:.2f} | {m['cpu_s']:.2f} | {memory} | {ratios} |"


if __name__ == "__main__":
    main()
