"""The max-IoU assigner, compiled (numba, the ``fast`` extra) against numpy: ``simulate`` in one process.

Run from the repository root: ``python benchmarks/compiled_maxiou.py [--detectors retinanet,faster-rcnn,ssd300]
[--scale 1] [--runs 3]``. For each preset it reads the train2017-shaped file once, times ``simulate`` with one
worker on the numpy assigner (``SCALEMATCH_COMPILED=0``) and on the compiled one, interleaved, and checks that
every per-object array of the simulation is identical (bytes). It also times the first call in a fresh process
with the on-disk cache emptied (numba compiles) and with it filled (numba loads). Writes the "compiled" section of
RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import load_average, machine, write_section

ROOT = Path(__file__).resolve().parent.parent
FIELDS = ("per_level", "positives", "best_iou", "w_in", "h_in", "reason_code", "weak")
FIRST_CALL = (
    "import time; t = time.perf_counter(); from scalematch.match.assign import _compiled; "
    "ok = _compiled.prepare(); print(f'{time.perf_counter() - t:.2f}' if ok else 'numba missing')"
)


def first_call() -> tuple[str, str]:
    """Seconds to make the kernel ready in a fresh process: with the cache emptied (compile), then filled (load)."""
    import scalematch.match.assign._compiled as compiled

    folder = Path(compiled.__file__).parent / "__pycache__"
    for cache in folder.glob("_kernel.*.nb[ic]"):
        cache.unlink()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = [
        subprocess.run(
            [sys.executable, "-c", FIRST_CALL], check=True, capture_output=True, text=True, env=env
        ).stdout.strip()
        for _ in range(2)
    ]
    return out[0], out[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--detectors", default="retinanet,faster-rcnn,ssd300")
    args = parser.parse_args()
    import numpy as np
    from ingest import synthetic

    from scalematch.match.api import as_data, resolve_preset
    from scalematch.match.assign import _compiled, simulate
    from scalematch.match.detector import toolkit_rows, without_small_images
    from scalematch.match.widen import level_graph

    version = _compiled.numba_version()
    if version is None:
        sys.exit("numba does not import (pip install 'scalematch[fast]'), or SCALEMATCH_COMPILED=0 is set")
    compile_s, load_s = first_call()
    path = synthetic(args.scale, args.seed)
    lines = []
    for name in args.detectors.split(","):
        preset = resolve_preset(name, backbone=None, neck=None, levels=None, resize=None)
        graph = level_graph(preset)
        rows = toolkit_rows(without_small_images(as_data(path, preset.resize_policy()), preset, graph), preset)[0]
        _compiled.prepare()
        times: dict[str, list[float]] = {"numpy": [], "compiled": []}
        results = {}
        for _ in range(args.runs):
            for label, flag in (("numpy", "0"), ("compiled", "1")):
                os.environ[_compiled.ENV] = flag
                start = time.perf_counter()
                results[label] = simulate(preset, rows, graph, workers=1)
                times[label].append(time.perf_counter() - start)
        os.environ.pop(_compiled.ENV)
        same = all(getattr(results["numpy"], f).tobytes() == getattr(results["compiled"], f).tobytes() for f in FIELDS)
        a, b = statistics.median(times["numpy"]), statistics.median(times["compiled"])
        line = (
            f"| {name} | {len(rows):,} | {a:.2f} s | {b:.2f} s | {a / b:.1f}x | {'identical' if same else 'DIFFER'} |"
        )
        print(line, flush=True)
        lines.append(line)
        assert np.isfinite(a)
    body = "\n".join(
        [
            "## The compiled max-IoU assigner (the `fast` extra) against numpy",
            "",
            f"`python benchmarks/compiled_maxiou.py --scale {args.scale:g} --runs {args.runs}` on {machine()}, "
            f"numba {version}: {path.name}, `simulate` in one process (`workers=1`), medians of {args.runs} "
            f"interleaved runs; load average at the end {load_average()}. `identical`: every per-object array "
            "of the two simulations has the same bytes.",
            "",
            "| detector | objects | numpy | compiled | speed-up | results |",
            "|---|---|---|---|---|---|",
            *lines,
            "",
            f"First use in a fresh process (`_compiled.prepare()`, numba imported): {compile_s} s when numba "
            f"compiles the kernel (empty cache), {load_s} s when it loads it from its on-disk cache.",
        ]
    )
    write_section("compiled", body)
    print(body)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    sys.path.insert(0, str(ROOT))
    main()
