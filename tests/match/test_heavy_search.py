"""Anchors far larger than their objects: every anchor that holds an object ties at one IoU with it, so a
simulation resolves thousands of (object, anchor) pairs per object. The process then loads the compiled assigner
for its later simulations (a design search's), and the console command shows how far a long search has got."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from preset_files import preset_file
from required import need

from scalematch.dataset.loader import read_annotations
from scalematch.match.assign import _compiled, simulate
from scalematch.match.result import usable
from scalematch.match.widen import level_graph
from scalematch.presets import load_preset

SAMPLE = Path(__file__).resolve().parents[2] / "scalematch" / "data" / "coco_val2014_100.json"


def _rows(images: int) -> object:
    rows = usable(read_annotations(SAMPLE).table)
    return rows[rows["image_id"].isin(np.unique(rows["image_id"])[:images])]


def _huge(tmp_path: Path) -> object:
    sizes = [[4096]] * 5
    return load_preset(preset_file(tmp_path, "retinanet", **{"anchors.sizes": sizes, "anchors.aspect_ratios": [1.0]}))


def test_a_simulation_of_tied_huge_anchors_loads_the_compiled_assigner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    need("numba", "SCALEMATCH_REQUIRE_FAST", "numba is not installed (the fast extra)")
    monkeypatch.delenv(_compiled.ENV, raising=False)
    monkeypatch.setattr(_compiled, "_loaded", [])
    monkeypatch.setattr(_compiled, "_simulated", [0])
    rows = _rows(40)
    plain = load_preset("retinanet")
    usual = simulate(plain, rows, level_graph(plain), workers=1)  # type: ignore[arg-type]
    assert int(usual.positives.sum()) < _compiled.TYPICAL_POSITIVES * len(usual.positives)
    assert not _compiled.active()  # a usual simulation leaves numba unloaded
    huge = _huge(tmp_path)
    graph = level_graph(huge)  # type: ignore[arg-type]
    first = simulate(huge, rows, graph, workers=1)  # type: ignore[arg-type]
    excess = int(first.positives.sum()) - _compiled.TYPICAL_POSITIVES * len(first.positives)
    assert excess >= _compiled.AUTO_EXCESS_POSITIVES  # (thousands of tied anchors per object)
    assert _compiled.active()  # loaded for what comes next
    again = simulate(huge, rows, graph, workers=1)  # type: ignore[arg-type]
    assert np.array_equal(again.per_level, first.per_level)  # the compiled kernel's result is the numpy one's
    assert np.array_equal(again.best_iou, first.best_iou, equal_nan=True)
    assert np.array_equal(again.reason, first.reason)


def test_turned_off_the_compiled_assigner_stays_unloaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_compiled.ENV, "0")
    monkeypatch.setattr(_compiled, "_loaded", [])
    huge = _huge(tmp_path)
    simulate(huge, _rows(3), level_graph(huge), workers=1)  # type: ignore[arg-type]
    assert _compiled._loaded == []


def test_a_design_search_reports_each_simulation_in_order() -> None:
    from scalematch.match.search import SIMULATED, search

    rows = usable(read_annotations(SAMPLE).table)
    seen: list[int] = []
    token = SIMULATED.set(seen.append)
    try:
        found = search(rows, load_preset("fcos"), target=0.999)
    finally:
        SIMULATED.reset(token)
    assert found.simulated > 1 and seen == list(range(1, found.simulated + 1))


def test_the_search_status_listens_only_inside_its_block(monkeypatch: pytest.MonkeyPatch) -> None:
    import scalematch.cli.progress as progress
    from scalematch.match.search import SIMULATED

    monkeypatch.setattr(progress, "LONG_SEARCH_SECONDS", 0.0)
    with progress.search_status(enabled=False):
        assert SIMULATED.get() is None
    with progress.search_status(enabled=True):
        hook = SIMULATED.get()
        assert hook is not None
        hook(1)
        hook(2)
    assert SIMULATED.get() is None


def test_the_kernel_indexes_slots_by_anchor_after_packed_images(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a kernel call whose images were packed (tied huge anchors: the objects touch most of each image's
    anchors), the next call gives images a slot per anchor; after one of ordinary anchors, whose objects touch a
    few hundred of an image's hundreds of thousands, every image goes through the hash table. The results are the
    same either way (each equals the numpy assigner's)."""
    need("numba", "SCALEMATCH_REQUIRE_FAST", "numba is not installed (the fast extra)")
    monkeypatch.setenv(_compiled.ENV, "1")
    monkeypatch.setattr(_compiled, "_dense", [False])
    rows = _rows(12)
    huge = _huge(tmp_path)
    plain = load_preset("retinanet")
    runs = []
    for preset in (plain, huge, huge, plain, plain):
        graph = level_graph(preset)  # type: ignore[arg-type]
        before = _compiled._dense[0]
        runs.append((preset, before, simulate(preset, rows, graph, workers=1)))  # type: ignore[arg-type]
        assert _compiled._dense[0] is (preset is huge)
    assert [before for _, before, _ in runs] == [False, False, True, True, False]  # each mode ran for each preset
    monkeypatch.setenv(_compiled.ENV, "0")
    for preset, _, got in runs:
        reference = simulate(preset, rows, level_graph(preset), workers=1)  # type: ignore[arg-type]
        assert np.array_equal(got.per_level, reference.per_level)
        assert np.array_equal(got.best_iou, reference.best_iou, equal_nan=True)
        assert np.array_equal(got.reason, reference.reason)
