"""The assigner simulation gives the same result in worker processes as in one process, whatever the chunking."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import scalematch.match.assign as assign
import scalematch.pool as pool
from scalematch.dataset.loader import read_annotations
from scalematch.match.assign import simulate
from scalematch.match.result import usable
from scalematch.match.widen import level_graph
from scalematch.presets import load_preset

SAMPLE = Path(__file__).resolve().parents[2] / "scalematch" / "data" / "coco_val2014_100.json"


@pytest.mark.parametrize("detector", ["retinanet", "atss", "fcos", "yolov5"])
def test_workers_give_the_single_process_result(detector: str, monkeypatch: pytest.MonkeyPatch) -> None:
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
