"""The assigner simulation gives the same result in worker processes as in one process, whatever the chunking."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from required import need

import scalematch.match.assign as assign
import scalematch.pool as pool
from scalematch.dataset.loader import read_annotations
from scalematch.match.assign import simulate
from scalematch.match.detector import DetectorResult
from scalematch.match.result import usable
from scalematch.match.widen import level_graph
from scalematch.presets import load_preset

SAMPLE = Path(__file__).resolve().parents[2] / "scalematch" / "data" / "coco_val2014_100.json"


@pytest.mark.parametrize("detector", ["retinanet", "atss", "fcos", "yolov5"])
def test_workers_give_the_single_process_result(detector: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from scalematch.match.assign import _compiled

    monkeypatch.setenv(_compiled.ENV, "0")  # the numpy assigners, in worker processes (the compiled one: threads)
    rows = usable(read_annotations(SAMPLE).table)
    preset = load_preset(detector)
    graph = level_graph(preset)
    whole = simulate(preset, rows, graph, workers=1)
    monkeypatch.setattr(assign, "CHUNK", 40)  # about 18 chunks of whole images
    assert len(assign._chunks(np.sort(rows["image_id"].to_numpy()))) > 10
    forked: list[int] = []
    real = pool.ordered_map

    def spy(*args: object, **kwargs: object) -> object:
        forked.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pool, "ordered_map", spy)
    for workers in (1, 2):
        split = simulate(preset, rows, graph, workers=workers)
        assert len(forked) == (workers > 1)  # one process, then a pool
        assert np.array_equal(split.per_level, whole.per_level)
        assert np.array_equal(split.best_iou, whole.best_iou, equal_nan=True)
        assert np.array_equal(split.reason, whole.reason)
        assert np.array_equal(split.weak, whole.weak)


@pytest.mark.parametrize("detector", ["retinanet", "ssd300"])
def test_the_compiled_assigner_in_threads_gives_the_single_process_result(
    detector: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The compiled kernel runs without the GIL: with several workers its chunks run in threads of this process
    (nothing forked), in order, with the result of one."""
    need("numba", "SCALEMATCH_REQUIRE_FAST", "numba is not installed (the fast extra)")
    from scalematch.match.assign import _compiled

    monkeypatch.setenv(_compiled.ENV, "1")
    rows = usable(read_annotations(SAMPLE).table)
    preset = load_preset(detector)
    graph = level_graph(preset)
    whole = simulate(preset, rows, graph, workers=1)
    monkeypatch.setenv(_compiled.ENV, "0")
    numpy = simulate(preset, rows, graph, workers=1)
    monkeypatch.setenv(_compiled.ENV, "1")
    monkeypatch.setattr(assign, "CHUNK", 40)
    used: list[str] = []
    for name in ("ordered_map", "thread_map"):
        real = getattr(pool, name)

        def spy(*args: object, _real: Any = real, _name: str = name, **kwargs: object) -> object:
            used.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(pool, name, spy)
    split = simulate(preset, rows, graph, workers=2)
    assert used == ["thread_map"]
    for ran in (split, numpy):
        assert np.array_equal(ran.per_level, whole.per_level)
        assert np.array_equal(ran.best_iou, whole.best_iou, equal_nan=True)
        assert np.array_equal(ran.reason, whole.reason)
        assert np.array_equal(ran.weak, whole.weak)


def test_the_levels_profile_is_kept_for_the_same_graph_only() -> None:
    """:func:`preset_levels` gives what profiling the graph gives, keeps it for the same graph object and level
    names, and profiles again for another graph or other names."""
    from scalematch.match.detector import preset_levels
    from scalematch.match.levels import levels_from_profile
    from scalematch.match.search import with_levels
    from scalematch.profile.engine import profile

    preset = load_preset("retinanet")
    graph = level_graph(preset)
    first = preset_levels(preset, graph)
    assert first == levels_from_profile(profile(graph), list(preset.levels))
    assert preset_levels(preset, graph) is first
    other = level_graph(preset)
    assert preset_levels(preset, other) == first and preset_levels(preset, other) is not first
    fewer = with_levels(preset, ("P3", "P4", "P5"))
    assert [lv.name for lv in preset_levels(fewer, other)] == ["P3", "P4", "P5"]


def test_a_large_file_loads_the_compiled_assigner_while_it_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a COCO file the reader decodes in worker processes, a max-IoU preset's compiled assigner is loaded by
    a thread meanwhile (here the parallel size is lowered to the sample's); the result is the one without it."""
    need("numba", "SCALEMATCH_REQUIRE_FAST", "numba is not installed (the fast extra)")
    import threading

    import scalematch.dataset.formats.coco as coco
    import scalematch.match.detector as detector
    from scalematch import recommend
    from scalematch.match.assign import _compiled

    monkeypatch.delenv(_compiled.ENV, raising=False)
    monkeypatch.setattr(_compiled, "_loaded", [])
    monkeypatch.setattr(_compiled, "_simulated", [0])
    plain = recommend(SAMPLE, "retinanet", workers=2, coverage=0.5)
    assert not _compiled.active()  # 1,000 objects: the numpy assigner, numba not loaded
    loaders: list[str] = []
    real = _compiled.prepare

    def spy(*args: Any, **kwargs: Any) -> bool:
        loaders.append(threading.current_thread().name)
        return real(*args, **kwargs)

    profiled: list[str] = []
    real_levels = detector.levels_from_profile  # type: ignore[attr-defined]

    def levels_spy(*args: Any, **kwargs: Any) -> Any:
        profiled.append(threading.current_thread().name)
        return real_levels(*args, **kwargs)

    monkeypatch.setattr(_compiled, "prepare", spy)
    monkeypatch.setattr(detector, "levels_from_profile", levels_spy)
    monkeypatch.setattr(coco, "PARALLEL_MIN", 1)
    early = recommend(SAMPLE, "retinanet", workers=2, coverage=0.5)
    assert loaders[0] == "scalematch-meanwhile"
    assert profiled == ["scalematch-meanwhile"]  # the levels' profile: once, while the file was read
    assert _compiled.active()
    assert isinstance(plain, DetectorResult) and isinstance(early, DetectorResult)
    for a, b in ((plain.simulation, early.simulation),):
        assert np.array_equal(a.per_level, b.per_level)
        assert np.array_equal(a.best_iou, b.best_iou, equal_nan=True)
        assert np.array_equal(a.reason_code, b.reason_code)
    assert early.levels == plain.levels and early.summary == plain.summary
