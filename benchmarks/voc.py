"""Pascal VOC at file-system scale: ``scalematch stats`` on a folder of XML files against a bare ElementTree loop.

Run: ``python benchmarks/voc.py [--files 7000] [--runs 5]``. Writes the "voc" section of RESULTS.md. Target (issue:
reading at any scale): ``stats`` within 1.5x a bare loop that parses every file with the standard library's C
ElementTree and collects the four corners of every box into a numpy array, timed as whole processes (start-up
included) in interleaved runs, medians.

The folder is generated once into benchmarks/_work/ (deterministic, KITTI-shaped: 1242x375 images, 1-9 objects a
file, the tags KITTI's VOC conversions carry). ``stats`` does what the bare loop does not: the defusedxml
protections (a file with a document type declaration goes through defusedxml), every per-record check with its
named exclusion reason, the box table and the statistics.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import subprocess
from pathlib import Path

from common import PYTHON, compiled, interleaved_medians, machine, write_section

CLI = [PYTHON, "-c", "from scalematch.cli.main import main; main()"]
NAMES = ("Car", "Pedestrian", "Cyclist", "Van", "Truck", "Tram", "Misc")
BARE = """
import sys, xml.etree.ElementTree as ET
from pathlib import Path
import numpy as np
rows = []
for f in sorted(Path(sys.argv[1], "Annotations").glob("*.xml")):
    for o in ET.parse(f).getroot().iter("object"):
        b = o.find("bndbox")
        rows.append([float(b.findtext(t)) for t in ("xmin", "ymin", "xmax", "ymax")])
print(np.array(rows).shape[0])
"""


def folder(files: int, seed: int) -> Path:
    """A VOC year folder with ``files`` annotation files (written once)."""
    root = Path(__file__).with_name("_work") / f"voc_{files}_seed{seed}"
    ann = root / "Annotations"
    if ann.is_dir() and len(list(ann.glob("*.xml"))) == files:
        return root
    ann.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    for i in range(files):
        objects = []
        for _ in range(rng.randint(1, 9)):
            x0, y0 = rng.randint(1, 1100), rng.randint(1, 300)
            x1, y1 = x0 + rng.randint(5, 140), y0 + rng.randint(5, 74)
            objects.append(
                f"<object><name>{rng.choice(NAMES)}</name><pose>Unspecified</pose><truncated>0</truncated>"
                f"<difficult>0</difficult><bndbox><xmin>{x0}</xmin><ymin>{y0}</ymin><xmax>{x1}</xmax>"
                f"<ymax>{y1}</ymax></bndbox></object>"
            )
        (ann / f"{i:06d}.xml").write_text(
            f"<annotation><folder>KITTI</folder><filename>{i:06d}.png</filename><source><database>KITTI</database>"
            f"</source><size><width>1242</width><height>375</height><depth>3</depth></size><segmented>0</segmented>"
            + "".join(objects)
            + "</annotation>\n"
        )
    return root


def cpu_seconds(command: list[str], runs: int) -> float:
    """Median CPU time (user + system, the process and its children) of ``runs`` runs: less sensitive than wall
    time to other work on a shared machine, though not to its cache and memory traffic."""
    samples = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        samples.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(samples)


def main() -> None:
    compiled()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=7000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2012)
    args = parser.parse_args()
    root = folder(args.files, args.seed)
    boxes = int(subprocess.run([PYTHON, "-c", BARE, str(root)], check=True, capture_output=True).stdout)
    commands = {
        "stats": [*CLI, "stats", str(root), "--resize", "none", "--quiet", "--json"],
        "bare": [PYTHON, "-c", BARE, str(root)],
    }
    medians = interleaved_medians(commands, args.runs)
    ratio = medians["stats"] / medians["bare"]
    cpu = {name: cpu_seconds(command, args.runs) for name, command in commands.items()}
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else ["?"] * 3
    body = f"""## Pascal VOC folder (`stats` against a bare ElementTree loop)

Command: `python benchmarks/voc.py --files {args.files} --runs {args.runs}` ({machine()}; medians of interleaved
runs, whole processes, start-up included; load average at the end {", ".join(load)}).
Folder: {args.files:,} XML files, {boxes:,} boxes (KITTI-shaped, generated).

| reader | median wall time | median CPU time |
|---|---|---|
| `scalematch stats --resize none --json` | {medians["stats"]:.2f} s | {cpu["stats"]:.2f} s |
| bare loop: C ElementTree, corners into numpy | {medians["bare"]:.2f} s | {cpu["bare"]:.2f} s |

Ratio: **{ratio:.2f}x** wall (target <= 1.5x), {cpu["stats"] / cpu["bare"]:.2f}x CPU. `stats` reads the files in
one process per core (pieces of 256 files); its CPU time adds up every process's.
"""
    write_section("voc", body)
    print(body)


if __name__ == "__main__":
    main()
