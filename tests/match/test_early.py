"""recommend's simulation started on the reader's columns (scalematch.match.early) gives the regular result,
object by object, and is dropped whenever its rows are not the ones the regular run simulates."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from required import need

import scalematch.dataset.formats.coco as coco
import scalematch.match.api as api
from scalematch import recommend
from scalematch.dataset.loader import read_annotations
from scalematch.dataset.table import columns_watched
from scalematch.match.assign import Simulation, simulate
from scalematch.match.detector import DetectorResult, toolkit_rows
from scalematch.match.early import Early
from scalematch.match.result import Selected
from scalematch.match.widen import level_graph
from scalematch.presets import load_preset

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "scalematch" / "data" / "coco_val2014_100.json"


def _same(a: Simulation, b: Simulation) -> None:
    assert len(a.table) == len(b.table) and a.table.index.equals(b.table.index)
    assert np.array_equal(a.per_level, b.per_level) and np.array_equal(a.positives, b.positives)
    assert np.array_equal(a.best_iou, b.best_iou, equal_nan=True)
    assert np.array_equal(a.reason_code, b.reason_code) and np.array_equal(a.weak, b.weak)
    assert np.array_equal(a.w_in, b.w_in) and np.array_equal(a.h_in, b.h_in)
    assert a.anchors_per_image == b.anchors_per_image


def _spied(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each early run gave its result (a spy on Early.take); the reader's parallel size lowered to the
    sample's, so that the sample is read as a large file is."""
    used: list[bool] = []
    real = Early.take

    def spy(self: Early, *args: Any) -> Simulation | None:
        found = real(self, *args)
        used.append(found is not None)
        return found

    monkeypatch.setattr(Early, "take", spy)
    monkeypatch.setattr(coco, "PARALLEL_MIN", 1)
    return used


@pytest.fixture
def compiled(monkeypatch: pytest.MonkeyPatch) -> None:
    need("numba", "SCALEMATCH_REQUIRE_FAST", "numba is not installed (the fast extra)")
    from scalematch.match.assign import _compiled

    monkeypatch.setenv(_compiled.ENV, "1")


def _mmdet_retinanet() -> Any:
    """RetinaNet's anchors and max-IoU assigner behind mmdetection's input pipeline (a preset file may say so):
    the simulation then reads the records' ``area`` and ``ignore``."""
    return replace(load_preset("retinanet"), input=load_preset("atss").input, name="retinanet-mmdet-input")


@pytest.mark.parametrize("detector", ["retinanet", "faster-rcnn", "ssd300", "mmdet-input"])
def test_the_early_run_gives_the_regular_result(
    detector: str, compiled: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A COCO file the reader decodes in worker processes (here the parallel size is lowered to the sample's,
    whose crowd objects the early run must leave out as the table's toolkit rows do; one record marked
    ``ignore``): the early run is used, and its result is the regular one."""
    given = json.loads(SAMPLE.read_text())
    given["annotations"][3]["ignore"] = 1
    path = tmp_path / "sample.json"
    path.write_text(json.dumps(given))
    assert any(a.get("iscrowd") for a in given["annotations"])
    preset: Any = _mmdet_retinanet() if detector == "mmdet-input" else detector
    used = _spied(monkeypatch)
    early = recommend(path, preset, workers=2, coverage=0.5)
    assert used == [True]
    monkeypatch.setattr(api, "_early", lambda *args: None)
    plain = recommend(path, preset, workers=2, coverage=0.5)
    assert used == [True]  # no early run the second time
    assert isinstance(early, DetectorResult) and isinstance(plain, DetectorResult)
    _same(early.simulation, plain.simulation)
    assert early.summary == plain.summary and early.to_dict() == plain.to_dict()


def test_no_early_result_when_an_image_is_too_small_and_the_result_is_the_regular_one(
    compiled: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An image too small an input for the network: its objects are left out of the rows (image_too_small),
    so the early run, which sets up every image, stops there and gives nothing; the regular run counts it."""
    given = json.loads(SAMPLE.read_text())
    given["images"][0]["width"] = 10_000_000  # 1333 px long side: the height becomes 0 px
    path = tmp_path / "sample.json"
    path.write_text(json.dumps(given))
    used = _spied(monkeypatch)
    result = recommend(path, "retinanet", workers=2, coverage=0.5)
    assert used == [False]
    assert isinstance(result, DetectorResult) and result.excluded.get("image_too_small", 0) > 0


def test_the_early_result_is_dropped_when_the_rows_differ(compiled: None) -> None:
    """Early.take compares the rows with those it ran on: one box moved, a row less, another quality floor or
    preset give None (and the regular run's result stands); the same rows give the regular result."""
    preset = load_preset("retinanet")
    graph = level_graph(preset)
    data = read_annotations(SAMPLE, resize=preset.resize_policy())
    rows = toolkit_rows(data, preset)[0]
    columns = {name: data.table[name].to_numpy() for name in data.table.columns}

    def started() -> Early:
        early = Early(preset, lambda: graph, 0.1, 2)
        early.start(columns)
        assert early.thread is not None
        return early

    moved = rows.copy()
    moved.iloc[5, moved.columns.get_loc("x")] += 0.5
    assert started().take(preset, Selected(moved), 0.1, 2) is None
    assert started().take(preset, Selected(rows.iloc[1:]), 0.1, 2) is None
    assert started().take(preset, Selected(data.table, np.arange(1, len(data.table))), 0.1, 2) is None
    assert started().take(preset, Selected(rows), 0.2, 2) is None
    assert started().take(load_preset("ssd300"), Selected(rows), 0.1, 2) is None
    found = started().take(preset, Selected(rows), 0.1, 2)
    assert found is not None
    _same(found, simulate(preset, rows, graph, 0.1, 2))
    crowd = data.table["iscrowd"].to_numpy() != 0
    assert crowd.any()  # the rows are the table's others: taken by position, not yet copied
    lazy = Selected(data.table, np.flatnonzero(~crowd))
    found = started().take(preset, lazy, 0.1, 2)
    assert found is not None and "frame" not in vars(lazy)
    _same(found, simulate(preset, rows, graph, 0.1, 2))
    assert found.table.equals(rows) and found.table.index.equals(rows.index)
    swapped = np.flatnonzero(~crowd)  # the same arrays at other positions: compared value by value
    swapped[[3, 4]] = swapped[[4, 3]]
    assert not np.array_equal(rows["x"].to_numpy()[[3, 4]], rows["x"].to_numpy()[[4, 3]])
    assert started().take(preset, Selected(data.table, swapped), 0.1, 2) is None


def test_the_watcher_is_called_once_with_the_coco_columns_before_the_table_and_never_for_other_formats() -> None:
    calls: list[dict[str, Any]] = []
    with columns_watched(lambda columns: calls.append(dict(columns))):
        data = read_annotations(SAMPLE)
        read_annotations(SAMPLE)  # once only
    assert len(calls) == 1
    for name in ("image_id", "image_w", "image_h", "x", "y", "w", "h", "area", "iscrowd", "ignore"):
        assert np.array_equal(calls[0][name], data.table[name].to_numpy(), equal_nan=True), name
    with columns_watched(lambda columns: calls.append(dict(columns))):
        read_annotations(ROOT / "tests" / "data" / "voc_rbc")
        read_annotations(ROOT / "tests" / "data" / "yolo_rbc")
    assert len(calls) == 1
    read_annotations(SAMPLE)  # after the block: not called
    assert len(calls) == 1
