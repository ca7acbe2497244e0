"""The design search: it keeps a preset that meets the target, changes one that misses it on tiny objects, and
never proposes a level set the preset's head cannot use."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from scalematch.cli.main import app
from scalematch.dataset import load, sample_path
from scalematch.match.result import usable
from scalematch.match.search import cells_of, search
from scalematch.match.widen import widen
from scalematch.profile.api import build
from scalematch.presets import builtin_presets, load_preset


def tiny_objects(path: Path, images: int = 60, seed: int = 3) -> Path:
    """A COCO file of 640 x 480 images holding 6 objects each of 5 to 12 px (most under 16 px)."""
    rng = np.random.default_rng(seed)
    anns: list[dict[str, object]] = []
    for i in range(images):
        for _ in range(6):
            w, h = rng.uniform(5, 12, 2)
            x, y = rng.uniform(0, 640 - w), rng.uniform(0, 480 - h)
            anns.append({"id": len(anns) + 1, "image_id": i + 1, "category_id": 1, "bbox": [x, y, w, h],
                         "area": w * h, "iscrowd": 0})  # fmt: skip
    doc = {
        "images": [{"id": i + 1, "file_name": f"{i}.jpg", "width": 640, "height": 480} for i in range(images)],
        "annotations": anns,
        "categories": [{"id": 1, "name": "speck"}],
    }
    path.write_text(json.dumps(doc))
    return path


def test_tiny_objects_change_the_design(tmp_path: Path) -> None:
    src = tiny_objects(tmp_path / "tiny.json")
    result = CliRunner().invoke(app, ["recommend", str(src), "-q", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert not doc["meets_target"]
    found = doc["search"]
    before, chosen = found["before"], found["chosen"]
    assert before["changes"] == "the preset as it is"
    assert before["share"] == pytest.approx(doc["positives"]["share_meeting"], abs=1e-6)
    assert chosen["changes"] != before["changes"]
    assert chosen["share"] > before["share"]
    assert found["reached"] and chosen["share"] >= 0.99
    # The chosen design is the cheapest of those reaching the target.
    reaching = [t for t in found["trials"] if t["share"] >= 0.99]
    assert chosen["anchors_per_image"] == min(t["anchors_per_image"] for t in reaching)
    text = CliRunner().invoke(app, ["recommend", str(src), "-q"]).stdout
    assert "  before: the preset as it is: " in text
    assert f"  after:  {chosen['changes']}: " in text


def test_a_preset_meeting_the_target_is_kept() -> None:
    doc = json.loads(CliRunner().invoke(app, ["recommend", "-q", "--json"]).stdout)
    assert doc["meets_target"] and doc["search"] is None


@pytest.mark.parametrize("name", sorted(builtin_presets()))
def test_level_sets_stay_usable(name: str) -> None:
    preset = load_preset(name)
    wide = widen(preset, build(preset.backbone, preset.neck))
    for _, levels in cells_of(wide, preset):
        if name in ("ssd300", "yolov5", "yolov8"):
            assert levels == preset.levels  # three-level and per-level heads keep every level
        assert len(levels) >= 3
        numbers = [int(lv[1:]) for lv in levels]
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))  # contiguous
        assert set(levels) <= set(preset.levels) | {"P2", "P7"}


def test_search_on_the_sample_reports_its_designs() -> None:
    preset = load_preset("ssd300")
    rows = usable(load(sample_path(), resize=preset.resize_policy()).table)
    found = search(rows, preset)
    assert found.cells == 5 and found.simulated == len(found.trials)  # SSD: no fitted ratios to leave out
    assert found.before.share < 0.99
    best = max(t.share for t in found.trials)
    assert found.chosen.share == pytest.approx(best) if not found.reached else found.chosen.share >= 0.99
    # Costs grow with the input: 2x the input side scores about 4x the anchors.
    cost = {(t.input_scale, t.anchor_scale): t.cost for t in found.trials}
    if (2.0, 1.0) in cost:
        assert 3.5 < cost[(2.0, 1.0)] / cost[(1.0, 1.0)] < 4.5
    assert isinstance(rows, pd.DataFrame)
