"""The max-IoU assigners on crowded images and large windows, where memory must follow the anchors the objects'
windows reach: the numpy one folds its pairs piece by piece (at most CELLS_PER_BATCH candidate cells expanded at
once), the compiled one keeps a slot per anchor touched (tables that start small and grow), not per anchor of
the image. Both against a dense brute force of torchvision's Matcher and SSDMatcher over every anchor, with tiny
budgets so that every streaming path runs; and running out of memory is a one-line error, not a traceback.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from required import need

from scalematch.errors import DatasetError
from scalematch.match import geometry
from scalematch.match.api import resolve_preset
from scalematch.match.assign import _compiled, maxiou
from scalematch.match.assign._grid import AnchorLevel, anchor_levels
from scalematch.match.assign.maxiou import Assigned, Boxes
from scalematch.presets import load_preset
from scalematch.presets.preset import MaxIoU, SSDBoxes, SSDMatch, TorchvisionAnchors
from scalematch.profile.api import build

RULES = {"retinanet": (True, False), "faster-rcnn": (True, False), "ssd300": (False, True)}
FIELDS = ("positives", "best", "lost", "weak")


@functools.cache
def _levels(detector: str, width: int, height: int, resize: str = "") -> tuple[list[AnchorLevel], float, float]:
    """The anchor levels of ``detector`` (at the ``resize`` policy, when given) on one image of ``width`` x
    ``height`` (original pixels), and its thresholds."""
    preset = resolve_preset(detector, resize=resize) if resize else load_preset(detector)
    imgs = geometry.images(preset, np.array([float(width)]), np.array([float(height)]))
    gen, rule = preset.anchors, preset.assigner
    assert isinstance(gen, TorchvisionAnchors | SSDBoxes)
    grids = geometry.grids(preset, build(preset.backbone, preset.neck), imgs)
    if isinstance(rule, MaxIoU):
        return anchor_levels(gen, grids, imgs), rule.high, rule.low
    assert isinstance(rule, SSDMatch)
    return anchor_levels(gen, grids, imgs), rule.threshold, rule.threshold


def _crowd(levels: list[AnchorLevel], copies: int, seed: int) -> Boxes:
    """One image crowded with duplicates: ``copies`` boxes covering the whole input, ``copies`` thin strips across
    it (below every threshold, their best anchors tied along the strip), ``copies`` copies of one mid-sized box,
    and a few random boxes; every box overlaps some anchor."""
    rng = np.random.default_rng(seed)
    w, h = float(levels[0].input_w[0]), float(levels[0].input_h[0])
    boxes = [(0.0, 0.0, w, h)] * copies + [(0.0, h / 2, w, h / 2 + 3)] * copies
    boxes += [(w / 3, h / 4, w / 3 + 90, h / 4 + 70)] * copies
    for _ in range(copies):
        x1, y1 = rng.uniform(0, w - 20), rng.uniform(0, h - 20)
        bw, bh = rng.uniform(4, min(400, w - x1)), rng.uniform(4, min(400, h - y1))
        boxes.append((x1, y1, x1 + bw, y1 + bh))
    order = rng.permutation(len(boxes))
    xyxy = np.array(boxes, np.float32)[order]
    return Boxes(np.zeros(len(xyxy), np.int64), *(np.ascontiguousarray(xyxy[:, i]) for i in range(4)))


def _dense(boxes: Boxes, levels: list[AnchorLevel], high: float, low: float, lq: bool, forced: bool) -> Assigned:
    """torchvision's Matcher(high, low, allow_low_quality_matches=lq) or, with ``forced``, SSDMatcher(high), on the
    full IoU matrix of one image's objects and every anchor (in the toolkit's order: level, row, column, shape):
    positives per level and each object's best IoU."""
    anchors, level_of = [], []
    for li, lv in enumerate(levels):
        rows, cols, shapes = int(lv.grid.rows[0]), int(lv.grid.cols[0]), lv.shapes
        iy, ix, a = (v.ravel() for v in np.meshgrid(np.arange(rows), np.arange(cols), np.arange(shapes), indexing="ij"))
        img = np.zeros(len(ix), np.int64)
        box = np.zeros((len(ix), 4), np.float32)
        for s in range(shapes):
            sel = a == s
            bx1, bx2 = lv.at(ix[sel], s, lv.factor(img[sel], "x"), "x")
            by1, by2 = lv.at(iy[sel], s, lv.factor(img[sel], "y"), "y")
            box[sel] = np.stack([bx1, by1, bx2, by2], axis=1)
        anchors.append(box)
        level_of.append(np.full(len(box), li))
    anc = np.concatenate(anchors)
    level = np.concatenate(level_of)
    g = np.stack([boxes.x1, boxes.y1, boxes.x2, boxes.y2], axis=1)[:, None, :]
    area_g = (g[..., 2] - g[..., 0]) * (g[..., 3] - g[..., 1])
    area_a = (anc[:, 2] - anc[:, 0]) * (anc[:, 3] - anc[:, 1])
    wx = np.maximum(np.minimum(g[..., 2], anc[:, 2]) - np.maximum(g[..., 0], anc[:, 0]), np.float32(0))
    wy = np.maximum(np.minimum(g[..., 3], anc[:, 3]) - np.maximum(g[..., 1], anc[:, 1]), np.float32(0))
    inter = wx * wy
    iou = inter / (area_g + area_a - inter)  # (objects, anchors), float32 as torchvision computes it
    matched = iou.max(axis=0)
    matches = iou.argmax(axis=0)  # the first object on ties
    every = matches.copy()
    matches[matched < high] = -1  # below low or between: no positive either way
    if lq:
        _, anchor = np.nonzero(iou == iou.max(axis=1)[:, None])
        matches[anchor] = every[anchor]
    if forced:
        matches[iou.argmax(axis=1)] = np.arange(len(iou))  # in object order: a later object overrides
    n = len(iou)
    positives = np.zeros((n, len(levels)), np.int64)
    pos = matches >= 0
    np.add.at(positives, (matches[pos], level[pos]), 1)
    # lost to another object (recommend.md): no positive, though some anchor was its to take: one at or above the
    # threshold, or, where low-quality or forced matches give an object its best anchors, any it overlaps
    could = (iou >= high).any(axis=1) | ((lq or forced) & (iou.max(axis=1) > 0))
    return Assigned(positives, iou.max(axis=1), (positives.sum(axis=1) == 0) & could)


def _same(a: Assigned, b: Assigned, fields: tuple[str, ...] = FIELDS) -> None:
    for f in fields:
        x, y = getattr(a, f), getattr(b, f)
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), f


@pytest.mark.parametrize("low_quality", [True, False])
@pytest.mark.parametrize("detector", ["retinanet", "faster-rcnn"])
def test_lost_means_an_anchor_it_could_take_went_to_another(detector: str, low_quality: bool) -> None:
    """Without low-quality matches an object below the threshold has no anchor to take, so it is not lost to
    another object (it was, for every object with any overlap: a lone 4 x 300 px box was 'lost'); numpy and the
    compiled kernel against the dense brute force."""
    levels, high, low = _levels(detector, 640, 480)
    boxes = _crowd(levels, 12, seed=5)
    dense = _dense(boxes, levels, high, low, low_quality, False)
    alone = Boxes(np.zeros(1, np.int64), *(np.array([v], np.float32) for v in (100.0, 100.0, 104.0, 400.0)))
    assert ((dense.positives.sum(axis=1) == 0) & ~dense.lost).any() != low_quality  # both outcomes, or lost only
    for case, want in ((boxes, dense), (alone, _dense(alone, levels, high, low, low_quality, False))):
        _same(maxiou.assign_numpy(case, levels, high, low_quality, False, 0.1), want, ("positives", "lost"))
        if _compiled.kernel() is not None:
            _same(_compiled.run(case, levels, high, low_quality, False, 0.1), want, ("positives", "lost"))
    if not low_quality:  # alone, with no anchor at the threshold: lost to no one
        assert not _dense(alone, levels, high, low, False, False).lost.any()


@pytest.mark.parametrize("detector", list(RULES))
def test_numpy_streams_a_crowded_image_in_bounded_pieces(detector: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a budget of 64 cells the windows of a crowded image come in many small pieces (none larger than the
    budget or one column of the grid), and the folded result is the dense Matcher's, and the one-piece run's."""
    levels, high, low = _levels(detector, 640, 480)
    boxes = _crowd(levels, 12, seed=5)
    lq, forced = RULES[detector]
    whole = maxiou.assign_numpy(boxes, levels, high, lq, forced, 0.1)
    dense = _dense(boxes, levels, high, low, lq, forced)
    _same(whole, dense, ("positives",))
    if forced:  # SSD: the best IoU from the cells around an object's centre can be a float32 step below the
        # exhaustive maximum (an anchor farther away rounds up); the positives above are exact all the same
        assert np.allclose(whole.best, dense.best, rtol=1e-6, atol=0)
    else:
        assert np.array_equal(whole.best, dense.best)
    # the crowd reaches the hard cases: objects that lost every anchor, and positives below the threshold
    assert whole.lost.sum() >= 10
    assert ((whole.best < high) & (whole.positives.sum(axis=1) > 0)).any()

    sizes: list[int] = []
    real = maxiou._pieces

    def spy(*args: object, **kwargs: object) -> object:
        for c, part in real(*args, **kwargs):  # type: ignore[arg-type]
            sizes.append(len(part.key))
            yield c, part

    monkeypatch.setattr(maxiou, "CELLS_PER_BATCH", 64)
    monkeypatch.setattr(maxiou, "_pieces", spy)
    _same(maxiou.assign_numpy(boxes, levels, high, lq, forced, 0.1), whole)
    column = max(int(lv.grid.rows[0]) for lv in levels)
    assert len(sizes) > 10
    assert max(sizes) <= max(64, column)
    assert sum(sizes) > 5 * max(sizes)  # the pairs were never all held at once


@pytest.mark.parametrize("detector", list(RULES))
def test_compiled_tables_start_at_one_slot_and_grow(detector: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiled assigner's scratch tables, started at one slot and one entry, grow to what the crowd needs
    (every growth path of the hash table runs) and give the numpy result, as do the slots indexed by key (the
    dense tables of small images, at least one slot per anchor of the image)."""
    need("numba", "SCALEMATCH_REQUIRE_FAST", "numba is not installed (the fast extra)")
    monkeypatch.setattr(_compiled, "ROOM", 1)
    monkeypatch.setattr(_compiled, "DENSE_ANCHORS", 0)  # every image through the hash table
    levels, high, _ = _levels(detector, 640, 480)
    lq, forced = RULES[detector]
    boxes = _crowd(levels, 12, seed=6)
    room = [0, 0]
    _same(
        _compiled.run(boxes, levels, high, lq, forced, 0.1, room),
        maxiou.assign_numpy(boxes, levels, high, lq, forced, 0.1),
    )
    assert room[0] > 8 and room[1] > 8  # both grew from one
    for both in ((True, True), (False, False)):
        _same(_compiled.run(boxes, levels, high, *both, 0.1), maxiou.assign_numpy(boxes, levels, high, *both, 0.1))
    monkeypatch.setattr(_compiled, "DENSE_ANCHORS", 10**9)  # a slot per anchor of the image, as small images get
    monkeypatch.setattr(_compiled, "_dense", [True])  # (after a call that found its images packed)
    room = [0, 0]
    _same(
        _compiled.run(boxes, levels, high, lq, forced, 0.1, room),
        maxiou.assign_numpy(boxes, levels, high, lq, forced, 0.1),
    )
    assert room[0] >= sum(int(lv.grid.rows[0] * lv.grid.cols[0]) * lv.shapes for lv in levels)


def test_compiled_memory_follows_the_windows_not_the_image(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ten overlapping boxes on a 4096 x 4096 input: the compiled assigner's slots (one per anchor the windows touch)
    are a small fraction of the image's anchors (there was one per anchor of the image), and it agrees with numpy."""
    need("numba", "SCALEMATCH_REQUIRE_FAST", "numba is not installed (the fast extra)")
    monkeypatch.setattr(_compiled, "ROOM", 1)
    levels, high, _ = _levels("retinanet", 4096, 4096, "shortest-edge:4096,4096")
    assert (int(levels[0].input_w[0]), int(levels[0].input_h[0])) == (4096, 4096)
    x = np.arange(10, dtype=np.float32) * 10 + 110
    boxes = Boxes(np.zeros(10, np.int64), x, np.full(10, 100, np.float32), x + 400, np.full(10, 400, np.float32))
    room = [0, 0]
    got = _compiled.run(boxes, levels, high, True, False, 0.1, room)
    _same(got, maxiou.assign_numpy(boxes, levels, high, True, False, 0.1))
    assert got.positives.sum() > 0
    anchors = sum(int(lv.grid.rows[0] * lv.grid.cols[0]) * lv.shapes for lv in levels)
    assert 0 < room[0] * 100 < anchors


def test_running_out_of_memory_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    levels, high, _ = _levels("retinanet", 640, 480)
    boxes = _crowd(levels, 2, seed=1)

    def no_memory(*args: object, **kwargs: object) -> Assigned:
        raise MemoryError("Unable to allocate 304. MiB")

    monkeypatch.setenv(_compiled.ENV, "0")
    monkeypatch.setattr(maxiou, "assign_numpy", no_memory)
    with pytest.raises(DatasetError) as info:
        maxiou.assign(boxes, levels, high, True)
    assert str(info.value) == (
        "not enough memory to simulate the max-IoU assigner on 8 objects in 1 image, inputs up to 1088x800 px: "
        "the anchors their windows reach do not fit; a smaller input size (--resize) or fewer objects per image "
        "needs less"
    )


@pytest.mark.parametrize("detector", list(RULES))
@pytest.mark.parametrize("dense", [0, 10**9])
def test_compiled_restarts_from_the_image_that_needs_more(
    detector: str, dense: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Images of four sizes, a crowded one among them: with tables started at one slot and one entry, each call of
    the kernel stops at the first image that needs more and the next starts again from that image with larger
    tables; the images done before keep their results, and every object's result equals numpy's."""
    need("numba", "SCALEMATCH_REQUIRE_FAST", "numba is not installed (the fast extra)")
    monkeypatch.setattr(_compiled, "ROOM", 1)
    monkeypatch.setattr(_compiled, "DENSE_ANCHORS", dense)
    monkeypatch.setattr(_compiled, "_dense", [True])
    preset = load_preset(detector)
    sizes = np.array([[320.0, 240.0], [640.0, 480.0], [500.0, 375.0], [800.0, 600.0]])
    imgs = geometry.images(preset, sizes[:, 0], sizes[:, 1])
    gen, rule = preset.anchors, preset.assigner
    assert isinstance(gen, TorchvisionAnchors | SSDBoxes)
    levels = anchor_levels(gen, geometry.grids(preset, build(preset.backbone, preset.neck), imgs), imgs)
    high = rule.high if isinstance(rule, MaxIoU) else rule.threshold  # type: ignore[union-attr]
    rng = np.random.default_rng(11)
    parts = []
    for k, count in enumerate((3, 40, 2, 25)):
        w, h = float(levels[0].input_w[k]), float(levels[0].input_h[k])
        x1, y1 = rng.uniform(0, w - 8, count), rng.uniform(0, h - 8, count)
        x2 = np.minimum(x1 + rng.uniform(4, w, count), w)
        y2 = np.minimum(y1 + rng.uniform(4, h, count), h)
        if count > 20:  # duplicates of a whole-image box: ties everywhere
            x1[:5], y1[:5], x2[:5], y2[:5] = 0.0, 0.0, w, h
        parts.append(np.stack([np.full(count, k), x1, y1, x2, y2], axis=1))
    rows = np.concatenate(parts)
    boxes = Boxes(rows[:, 0].astype(np.int64), *(np.ascontiguousarray(rows[:, i], np.float32) for i in range(1, 5)))
    lq, forced = RULES[detector]
    room = [0, 0]
    _same(
        _compiled.run(boxes, levels, high, lq, forced, 0.1, room),
        maxiou.assign_numpy(boxes, levels, high, lq, forced, 0.1),
    )
    assert room[1] > 8  # restarted with more entries


BIG_INPUT = """
import resource, sys
import numpy as np
from scalematch.match.api import as_data, resolve_preset
from scalematch.match.assign import simulate
from scalematch.match.detector import toolkit_rows
from scalematch.match.search import at_input, scaled, with_levels
from scalematch.match.widen import level_graph, widen

preset = at_input(resolve_preset('retinanet'), 'shortest-edge:16384,16384')
rows = toolkit_rows(as_data(None), preset)[0]
rows = rows[rows['image_id'].isin(np.unique(rows['image_id'])[:6])]
wide = widen(preset, level_graph(preset))
design = scaled(scaled(with_levels(wide.preset, ('P3', 'P4', 'P5')), 2.0), 1.0, 0.25)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
sim = simulate(design, rows, wide.graph, workers=1)
grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024
print(len(rows), int(sim.positives.sum()), grown)
"""


def test_numpy_memory_on_the_largest_input_stays_bounded() -> None:
    """The bundled sample's first 6 images (37 objects) at the largest accepted input (shortest-edge:16384,16384)
    under a design the search simulates there (input x2, P3-P5, anchors x0.25): large objects whose best anchors
    are all the anchors inside them (equal IoU, millions in all, up to 1.7 million in one image and level). The
    numpy assigner keeps only one group of images' keys and a batch of pairs at a time: its peak memory grows by
    under 400 MB (about 150 MB here; it grew by 1.1 GB when it held the chunk's best anchors, their boxes and their
    competitors at once), in a child process whose peak resident size is measured (ru_maxrss)."""
    env = {**os.environ, _compiled.ENV: "0"}
    root = str(Path(__file__).resolve().parents[2])
    out = subprocess.run(
        [sys.executable, "-c", BIG_INPUT], capture_output=True, text=True, check=True, env=env, cwd=root
    ).stdout.split()
    objects, positives, grown_mb = (int(v) for v in out)
    assert objects == 37 and positives == 4878915
    assert grown_mb < 400
