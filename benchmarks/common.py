"""Helpers shared by the benchmarks: timing subprocesses and writing a section of RESULTS.md."""

from __future__ import annotations

import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")


def wall_times(command: list[str], runs: int) -> list[float]:
    """Wall time of each of ``runs`` runs of ``command`` (seconds)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def cpu_wall_times(command: list[str], runs: int) -> list[tuple[float, float]]:
    """Wall time and CPU time (user + system, the command's worker processes included) of each run."""
    import resource

    out = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        out.append((wall, cpu))
    return out


def interleaved_cpu_medians(commands: dict[str, list[str]], runs: int) -> dict[str, tuple[float, float]]:
    """Median wall and CPU time of each command, the runs interleaved so that machine noise hits all alike."""
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            samples[name] += cpu_wall_times(command, 1)
    return {
        name: (statistics.median(w for w, _ in values), statistics.median(c for _, c in values))
        for name, values in samples.items()
    }


def tree_pss_peak(command: list[str], env: dict[str, str] | None = None, every: float = 0.01) -> tuple[str, float]:
    """Run ``command``; return its stdout and the peak over time of the summed proportional set size (PSS, MiB)
    of the process and its descendants (Linux /proc, sampled every ``every`` s). PSS shares each page among the
    processes that map it, so a forked worker's pages shared with its parent are not counted twice, as a sum of
    peak RSS would count them."""
    import threading

    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak = [0.0]

    def pids(root: int) -> list[int]:
        out, todo = [], [root]
        while todo:
            pid = todo.pop()
            out.append(pid)
            try:
                for task in Path(f"/proc/{pid}/task").iterdir():
                    todo += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
        return out

    def pss(pid: int) -> float:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], sum(pss(pid) for pid in pids(proc.pid)))
            time.sleep(every)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    out, err = proc.communicate()
    watcher.join()
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, command, out, err)
    return out, peak[0]


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, to judge how busy the machine was."""
    return ", ".join(f"{v:.2f}" for v in __import__("os").getloadavg())


def interleaved_medians(commands: dict[str, list[str]], runs: int) -> dict[str, float]:
    """Median wall time of each command, the runs interleaved so that machine noise hits all alike."""
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            samples[name] += wall_times(command, 1)
    return {name: statistics.median(values) for name, values in samples.items()}


def machine() -> str:
    """One line describing where the figures were taken."""
    from importlib.metadata import version

    cores = len(__import__("os").sched_getaffinity(0))
    return (
        f"Python {platform.python_version()} (numpy {version('numpy')}, pandas {version('pandas')}) on "
        f"{platform.machine()}, {cores} cores"
    )


def compiled() -> None:
    """Byte-compile the scalematch package the benchmarks run, as an installed package is (pip compiles at
    install): without it, a run under PYTHONDONTWRITEBYTECODE compiles every module it imports each time, which
    weighs on the command that imports more."""
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("scalematch")
    if spec is not None and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            compileall.compile_dir(folder, quiet=1)


def write_section(name: str, body: str) -> None:
    """Replace (or append) the section between ``<!-- name -->`` markers in RESULTS.md."""
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    block = f"<!-- {name} -->\n{body.rstrip()}\n<!-- /{name} -->"
    pattern = re.compile(rf"<!-- {re.escape(name)} -->.*?<!-- /{re.escape(name)} -->", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(text, encoding="utf-8")


PYTHON = sys.executable
