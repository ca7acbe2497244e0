"""A --min-positives above what the preset's assigner can ever give one object is refused before any work: no
design of the search could meet it."""

from __future__ import annotations

import inspect

import pytest
from required import need
from typer.testing import CliRunner

import scalematch as sm
from scalematch.cli.main import app
from scalematch.dataset import sample_path
from scalematch.errors import OptionError
from scalematch.match.detector import DetectorResult
from scalematch.match.search import positives_cap
from scalematch.presets import builtin_presets, load_preset


def test_yolov8_refuses_more_than_its_topk() -> None:
    result = CliRunner().invoke(app, ["recommend", "--detector", "yolov8", "--min-positives", "11"])
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: --min-positives: yolov8 gives an object at most 10 positives (its task-aligned assigner keeps at "
        "most its top-k, 10); got 11\n"
    )


def test_refused_before_the_annotations_are_read() -> None:
    with pytest.raises(OptionError, match=r"^min_positives: yolov8 gives an object at most 10 positives"):
        sm.recommend("no-such-file.json", detector="yolov8", min_positives=11)


def test_the_cap_itself_is_accepted() -> None:
    result = sm.recommend(sample_path(), detector="yolov8", min_positives=10)
    assert isinstance(result, DetectorResult) and result.summary.min_positives == 10


def test_caps_of_the_builtin_presets() -> None:
    caps = {name: positives_cap(load_preset(name)) for name in builtin_presets()}
    assert {n: c[0] for n, c in caps.items() if c is not None} == {"yolov8": 10, "yolov5": 45, "atss": 120}
    with pytest.raises(OptionError, match=r"^min_positives: atss gives an object at most 120 positives"):
        sm.recommend(sample_path(), detector="atss", min_positives=121)


def test_yolov8_topk_is_ultralytics_own() -> None:
    """The cap is the top-k ultralytics' detection loss gives its task-aligned assigner."""
    loss = need("ultralytics.utils.loss", "SCALEMATCH_REQUIRE_TOOLKITS")
    topk = inspect.signature(loss.v8DetectionLoss).parameters["tal_topk"].default
    cap = positives_cap(load_preset("yolov8"))
    assert cap is not None and cap[0] == topk


def test_yolov5_cells_are_build_targets_own() -> None:
    """yolov5's build_targets offsets a target to at most 5 cells (its ``off`` rows: the centre and 4 neighbours)."""
    loss = need("yolov5.utils.loss")
    source = inspect.getsource(loss.ComputeLoss.build_targets)
    assert "j = torch.stack((torch.ones_like(j), j, k, l, m))" in source
    assert "t.repeat((5, 1, 1))" in source
