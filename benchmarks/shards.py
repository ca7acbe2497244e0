"""Sharded input on every core: ``scalematch stats`` on COCO shards with ``--workers 1`` against ``--workers 2``.

Run: ``python benchmarks/shards.py [--shards 16] [--scale 0.08] [--runs 5]``. Writes the "shards" section of
RESULTS.md. Target (issue 12, point 4): ``--workers 2`` >= 1.6x faster than one worker on two cores, the output
identical.

The shards are generated once into benchmarks/_work/ by synth.py (train2017-shaped, each at ``--scale`` of
train2017 and its own seed; their image ids repeat from shard to shard, as per-image exports number them, and are
read as different images). Whole processes are timed, start-up included, in paired runs (one worker, then two,
``--runs`` times); the ratio is taken per pair and its median reported, with the median wall and CPU times.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import time
from pathlib import Path

import msgspec
import numpy
import pandas
import synth
from common import PYTHON, machine, write_section

CLI = [PYTHON, "-c", "from scalematch.cli.main import app; app()"]


def shards(count: int, scale: float, seed: int) -> Path:
    """A folder of ``count`` synthetic COCO shards (written once)."""
    folder = Path(__file__).with_name("_work") / f"shards_{count}x{scale}_seed{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(count):
        path = folder / f"part-{k:03d}.json"
        if not path.exists():
            synth.write(path, scale=scale, seed=seed + k)
    return folder


def timed(command: list[str]) -> tuple[float, float, bytes]:
    """Wall and CPU time (user + system of the process and its children) of one run, and its stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", type=int, default=16)
    parser.add_argument("--scale", type=float, default=0.08)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2017)
    args = parser.parse_args()
    folder = shards(args.shards, args.scale, args.seed)
    pattern = str(folder / "*.json")
    size = sum(p.stat().st_size for p in folder.glob("*.json"))
    commands = {w: [*CLI, "stats", pattern, "--json", "--quiet", "--workers", str(w)] for w in (1, 2)}
    load_start = os.getloadavg()
    rounds: list[dict[int, tuple[float, float]]] = []
    outputs: set[bytes] = set()
    for _ in range(args.runs):
        pair = {}
        for workers, command in commands.items():
            seconds, cpu_seconds, out = timed(command)
            pair[workers] = (seconds, cpu_seconds)
            outputs.add(out)
        rounds.append(pair)
    load_end = os.getloadavg()
    boxes = msgspec.json.decode(outputs.pop())["annotations"] if len(outputs) == 1 else None
    ratios = [r[1][0] / r[2][0] for r in rounds]
    wall = {w: statistics.median(r[w][0] for r in rounds) for w in (1, 2)}
    cpu = {w: statistics.median(r[w][1] for r in rounds) for w in (1, 2)}
    count = f"{boxes:,}" if boxes is not None else "?"
    start, end = (", ".join(f"{v:.1f}" for v in load) for load in (load_start, load_end))
    rows = "\n".join(
        f"| {i} | {r[1][0]:.2f} ({r[1][1]:.2f}) | {r[2][0]:.2f} ({r[2][1]:.2f}) | {ratios[i - 1]:.2f} |"
        for i, r in enumerate(rounds, 1)
    )
    body = f"""## Sharded input on two cores (`stats --workers 1` against `--workers 2`)

Command: `python benchmarks/shards.py --shards {args.shards} --scale {args.scale} --runs {args.runs}`
({machine()}, numpy {numpy.__version__}, pandas {pandas.__version__}, msgspec {msgspec.__version__}; whole
processes, start-up included, {args.runs} paired runs). Input: {args.shards} COCO shards made by synth.py,
{size / 1e6:.0f} MB, {count} non-crowd boxes, as a quoted glob. Load average (1, 5, 15 min) at the start
{start}, at the end {end}: the machine is shared, so two workers rarely have two idle cores.

| workers | median wall s | median CPU s |
|---|---|---|
| 1 | {wall[1]:.2f} | {cpu[1]:.2f} |
| 2 | {wall[2]:.2f} | {cpu[2]:.2f} |

Speed-up (median of the per-pair ratios): **{statistics.median(ratios):.2f}x** (target >= 1.6x). Output identical
for 1 and 2 workers: {boxes is not None}.

| pair | 1 worker wall s (CPU s) | 2 workers wall s (CPU s) | ratio |
|---|---|---|---|
{rows}
"""
    write_section("shards", body)
    print(body)


if __name__ == "__main__":
    main()
