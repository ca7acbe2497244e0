"""The compiled max-IoU assigner (numba, the ``fast`` extra) against the numpy one: the same arrays, byte for byte.

Adversarial boxes on real anchor grids (boxes equal to anchors, duplicates, clusters of tiny boxes competing for
the same anchors, degenerate and huge boxes, several images of different sizes), the presets' rules and every
combination of low-quality and forced matches; then real annotation files through ``simulate``, in one process
and in worker processes. Skipped when numba is missing, unless SCALEMATCH_REQUIRE_FAST=1 (CI sets it).
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from exit_probe import at_exit
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from required import need

import scalematch.match.assign as assign_pkg
from scalematch.dataset import load, sample_path
from scalematch.match import geometry
from scalematch.match.assign import _compiled, maxiou, simulate
from scalematch.match.assign._grid import AnchorLevel, anchor_levels
from scalematch.match.assign.maxiou import Assigned, Boxes
from scalematch.match.result import usable
from scalematch.presets import load_preset
from scalematch.presets.preset import MaxIoU, SSDBoxes, SSDMatch, TorchvisionAnchors
from scalematch.profile.api import build

DATA = Path(__file__).parent.parent / "data"
PRESETS = ("retinanet", "faster-rcnn", "ssd300")
FIELDS = ("positives", "best", "lost", "weak")
SIZES = ((640, 480), (480, 640), (1333, 800), (300, 300), (97, 1200), (1024, 1024))


@pytest.fixture(autouse=True)
def _numba() -> None:
    need("numba", "SCALEMATCH_REQUIRE_FAST", "numba is not installed (the fast extra)")


@functools.cache
def _setup(detector: str, sizes: tuple[tuple[int, int], ...]) -> tuple[list[AnchorLevel], geometry.Images, float]:
    """The anchor levels of ``detector`` on images of ``sizes`` (original width, height), and its threshold."""
    preset = load_preset(detector)
    graph = build(preset.backbone, preset.neck)
    imgs = geometry.images(preset, np.array([w for w, _ in sizes], float), np.array([h for _, h in sizes], float))
    gen, rule = preset.anchors, preset.assigner
    assert isinstance(gen, TorchvisionAnchors | SSDBoxes)
    high = rule.high if isinstance(rule, MaxIoU) else rule.threshold if isinstance(rule, SSDMatch) else None
    assert high is not None
    return anchor_levels(gen, geometry.grids(preset, graph, imgs), imgs), imgs, high


def _boxes(levels: list[AnchorLevel], imgs: geometry.Images, counts: list[int], seed: int) -> Boxes:
    """``counts[k]`` adversarial objects on image k, in input pixels."""
    rng = np.random.default_rng(seed)
    image: list[int] = []
    coords: list[tuple[float, float, float, float]] = []
    for k, count in enumerate(counts):
        width, height = float(imgs.input_w[k]), float(imgs.input_h[k])
        mine: list[tuple[float, float, float, float]] = []
        for _ in range(count):
            kind = rng.choice(["anchor", "duplicate", "cluster", "tiny", "degenerate", "random", "huge"])
            if kind in ("duplicate", "cluster") and not mine:
                kind = "random"
            if kind == "anchor":  # an anchor's own box (IoU 1), sometimes shifted by half a pixel or a cell
                lv = levels[int(rng.integers(len(levels)))]
                a = int(rng.integers(lv.shapes))
                ix = np.array([int(rng.integers(lv.grid.cols[k]))])
                iy = np.array([int(rng.integers(lv.grid.rows[k]))])
                img = np.array([k])
                x1, x2 = (float(v[0]) for v in lv.at(ix, a, lv.factor(img, "x"), "x"))
                y1, y2 = (float(v[0]) for v in lv.at(iy, a, lv.factor(img, "y"), "y"))
                shift = float(rng.choice([0.0, 0.0, 0.5, -0.5, float(lv.grid.stride_w[k])]))
                box = (x1 + shift, y1, x2 + shift, y2)
            elif kind == "duplicate":
                box = mine[int(rng.integers(len(mine)))]
            elif kind == "cluster":  # near another object, of about its size: competition for its anchors
                x1, y1, x2, y2 = mine[int(rng.integers(len(mine)))]
                dx, dy = rng.normal(0, 2, 2)
                grow = float(rng.uniform(0.7, 1.3))
                box = (x1 + dx, y1 + dy, x1 + dx + (x2 - x1) * grow, y1 + dy + (y2 - y1) * grow)
            elif kind == "tiny":
                cx, cy = rng.uniform(0, width), rng.uniform(0, height)
                w, h = rng.uniform(0.2, 6, 2)
                box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
            elif kind == "degenerate":  # zero width or height
                cx, cy = rng.uniform(0, width), rng.uniform(0, height)
                w, h = rng.uniform(0, 40, 2) * (rng.random(2) < 0.5)
                box = (cx, cy, cx + w, cy + h)
            elif kind == "huge":
                box = (0.0, 0.0, width * float(rng.uniform(0.5, 1)), height * float(rng.uniform(0.5, 1)))
            else:
                w, h = np.exp(rng.uniform(np.log(2), np.log(max(width, height)), 2))
                x1, y1 = rng.uniform(-0.1 * width, width), rng.uniform(-0.1 * height, height)
                box = (x1, y1, x1 + w, y1 + h)
            x1, y1, x2, y2 = box
            box = (max(x1, 0.0), max(y1, 0.0), min(x2, width), min(y2, height))  # as the pipeline clamps
            if box[2] < box[0] or box[3] < box[1]:
                box = (box[0], box[1], box[0], box[1])
            mine.append(box)
        image += [k] * count
        coords += mine
    xyxy = np.array(coords, np.float32).reshape(-1, 4)
    return Boxes(np.array(image, np.int64), *(np.ascontiguousarray(xyxy[:, i]) for i in range(4)))


def _same(a: Assigned, b: Assigned) -> None:
    for f in FIELDS:
        x, y = getattr(a, f), getattr(b, f)
        assert x.dtype == y.dtype and x.shape == y.shape, f
        if x.tobytes() != y.tobytes():
            rows = np.flatnonzero((x != y).reshape(len(x), -1).any(axis=1))
            pytest.fail(f"{f} differs at objects {rows[:5].tolist()}: numpy {x[rows[:5]]}, compiled {y[rows[:5]]}")


def _both(boxes: Boxes, levels: list[AnchorLevel], high: float, lq: bool, forced: bool, floor: float) -> Assigned:
    """The numpy assigner's result, after checking that the compiled one gives the same."""
    expected = maxiou.assign_numpy(boxes, levels, high, lq, forced, floor)
    _same(expected, _compiled.run(boxes, levels, high, lq, forced, floor))
    return expected


RULES = {"retinanet": (True, False), "faster-rcnn": (True, False), "ssd300": (False, True)}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    detector=st.sampled_from(PRESETS),
    sizes=st.lists(st.sampled_from(SIZES), min_size=1, max_size=4),
    counts=st.lists(st.integers(0, 40), min_size=4, max_size=4),
    seed=st.integers(0, 2**32 - 1),
    rule=st.sampled_from(["preset", "none", "low_quality", "forced", "both"]),
    floor=st.sampled_from([0.0, 0.1, 0.5, 0.9]),
)
@example(  # one object that overlaps no anchor (its best IoU is 0): SSD has no forced match to make
    detector="ssd300", sizes=[(640, 480)] * 3, counts=[0, 0, 1, 0], seed=0, rule="preset", floor=0.0
)
def test_compiled_equals_numpy_on_adversarial_boxes(
    detector: str, sizes: list[tuple[int, int]], counts: list[int], seed: int, rule: str, floor: float
) -> None:
    levels, imgs, high = _setup(detector, tuple(sizes))
    boxes = _boxes(levels, imgs, counts[: len(sizes)], seed)
    if not len(boxes.image):
        return
    lq, forced = {
        "preset": RULES[detector], "none": (False, False), "low_quality": (True, False),
        "forced": (False, True), "both": (True, True),
    }[rule]  # fmt: skip
    _both(boxes, levels, high, lq, forced, floor)


@pytest.mark.parametrize("detector", PRESETS)
def test_compiled_equals_numpy_on_crowded_images(detector: str) -> None:
    """Hundreds of objects per image, most of them tiny and clustered: the low-quality matches that go to a
    neighbour, anchors shared by duplicates (the first object keeps them), objects left with none."""
    sizes = ((640, 480), (1333, 800), (97, 1200))
    levels, imgs, high = _setup(detector, sizes)
    boxes = _boxes(levels, imgs, [400, 300, 150], seed=7)
    lq, forced = RULES[detector]
    got = _both(boxes, levels, high, lq, forced, 0.1)
    # The data reach the hard cases: objects that lost every anchor to another, positives below the floor, and
    # objects below the threshold that still have positives (low-quality or forced matches).
    assert got.lost.sum() > 0
    assert got.weak is not None and got.weak.sum() > 0
    assert ((got.best < high) & (got.positives.sum(axis=1) > 0)).sum() > 0


def test_a_changed_box_changes_the_result() -> None:
    """The comparison sees differences: one object moved by a pixel changes the arrays compared above."""
    levels, imgs, high = _setup("retinanet", ((640, 480),))
    boxes = _boxes(levels, imgs, [60], seed=3)
    moved = Boxes(boxes.image, boxes.x1 + np.float32(1), boxes.y1, boxes.x2 + np.float32(1), boxes.y2)
    a = _compiled.run(boxes, levels, high, True, False, 0.1)
    b = _compiled.run(moved, levels, high, True, False, 0.1)
    assert any(getattr(a, f).tobytes() != getattr(b, f).tobytes() for f in FIELDS)


SIMULATION = ("per_level", "positives", "best_iou", "w_in", "h_in", "reason_code", "weak")


@pytest.mark.parametrize("path", [sample_path(), DATA / "rbc_train.json", DATA / "fce_lvis_val_100.json"], ids=str)
@pytest.mark.parametrize("detector", PRESETS)
def test_simulate_on_real_files(detector: str, path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """simulate on real files: numpy in one process; compiled in one process and in two worker processes
    (small chunks), which inherit the kernel the parent loaded."""
    preset = load_preset(detector)
    graph = build(preset.backbone, preset.neck)
    rows = usable(load(path, resize="none").table)
    monkeypatch.setenv(_compiled.ENV, "0")
    expected = simulate(preset, rows, graph, workers=1)
    assert (expected.positives > 0).sum() > 0.9 * len(rows)
    monkeypatch.setenv(_compiled.ENV, "1")
    calls: list[int] = []
    real = maxiou.assign_numpy

    def spy(*args: object, **kwargs: object) -> Assigned:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(maxiou, "assign_numpy", spy)
    runs = [simulate(preset, rows, graph, workers=1)]
    monkeypatch.setattr(assign_pkg, "CHUNK", 200)
    runs.append(simulate(preset, rows, graph, workers=2))
    assert not calls  # the numpy assigner never ran in this process
    for got in runs:
        for f in SIMULATION:
            assert getattr(got, f).tobytes() == getattr(expected, f).tobytes(), f


def test_selection(monkeypatch: pytest.MonkeyPatch) -> None:
    """SCALEMATCH_COMPILED=0 runs numpy; =1 the compiled kernel; unset, a small simulation in a fresh process
    does not import numba (loading it would cost more than it saves), and simulations that reach
    AUTO_OBJECTS objects in all do."""
    levels, imgs, high = _setup("retinanet", ((640, 480),))
    boxes = _boxes(levels, imgs, [30], seed=1)
    used: list[str] = []
    real_numpy, real_run = maxiou.assign_numpy, _compiled.run

    def numpy_spy(*args: object, **kwargs: object) -> Assigned:
        used.append("numpy")
        return real_numpy(*args, **kwargs)  # type: ignore[arg-type]

    def compiled_spy(*args: object, **kwargs: object) -> Assigned:
        used.append("compiled")
        return real_run(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(maxiou, "assign_numpy", numpy_spy)
    monkeypatch.setattr(_compiled, "run", compiled_spy)
    for setting in ("0", "1"):
        monkeypatch.setenv(_compiled.ENV, setting)
        maxiou.assign(boxes, levels, high, True)
    assert used == ["numpy", "compiled"]
    code = (
        "import sys\n"
        "from scalematch.dataset import load, sample_path\n"
        "from scalematch.match.assign import _compiled, simulate\n"
        "from scalematch.match.result import usable\n"
        "from scalematch.presets import load_preset\n"
        "from scalematch.profile.api import build\n"
        "preset = load_preset('retinanet')\n"
        "rows = usable(load(sample_path(), resize='none').table)\n"
        "simulate(preset, rows, build(preset.backbone, preset.neck), workers=1)\n"
        "small = 'numba' in sys.modules\n"
        "_compiled.AUTO_OBJECTS = 2 * len(rows) + 1\n"
        "simulate(preset, rows, build(preset.backbone, preset.neck), workers=1)\n"
        "two = 'numba' in sys.modules\n"
        "simulate(preset, rows, build(preset.backbone, preset.neck), workers=1)\n"
        "print(small, two, 'numba' in sys.modules, _compiled.active())\n"
    )
    env = {k: v for k, v in os.environ.items() if k != _compiled.ENV}
    root = str(Path(__file__).resolve().parents[2])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, cwd=root)
    assert out.stdout.split() == ["False", "False", "True", "True"]


def test_the_command_line_loads_numba_without_scipy_and_gives_the_same_result() -> None:
    """The console command loads numba without its BLAS probe (scipy.linalg, a third of the load: the kernel
    calls no BLAS): the compiled assigner's `recommend --json` equals the numpy assigner's, and scipy.linalg was
    never imported; a library process (no own_process) imports it as numba does by itself, when SciPy is there."""
    probe = at_exit("print('scipy.linalg' in sys.modules, file=sys.stderr, flush=True)") + (
        "import sys\n"
        "sys.argv = ['scalematch', 'recommend', '-q', '--json', '--detector', 'retinanet']\n"
        "from scalematch.cli.main import main\n"
        "main()\n"
    )
    root = str(Path(__file__).resolve().parents[2])
    runs = {}
    for setting in ("0", "1"):
        env = {**os.environ, _compiled.ENV: setting}
        runs[setting] = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=root, check=True
        )
    assert runs["1"].stdout == runs["0"].stdout and '"share_meeting"' in runs["1"].stdout
    assert runs["1"].stderr.split() == ["False"]
    library = "import sys\nfrom scalematch.match.assign import _compiled\n_compiled.prepare(None)\n"
    library += "print('scipy.linalg' in sys.modules, 'numba' in sys.modules)\n"
    out = subprocess.run([sys.executable, "-c", library], capture_output=True, text=True, cwd=root, check=True)
    scipy_there = subprocess.run([sys.executable, "-c", "import scipy.linalg"], capture_output=True).returncode == 0
    assert out.stdout.split() == [str(scipy_there), "True"]
