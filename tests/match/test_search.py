"""The design search: it keeps a preset that meets the target, changes one that misses it on tiny objects, and
never proposes a level set the preset's head cannot use."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from required import need
from typer.testing import CliRunner

from scalematch.cli.main import app
from scalematch.dataset import load, sample_path
from scalematch.match.assign import simulate
from scalematch.match.documents import search_document
from scalematch.match.result import usable
from scalematch.match.search import Search, Trial, cells_of, fitted_ratios, input_size_words, scaled, search
from scalematch.match.widen import level_graph, widen
from scalematch.presets import builtin_presets, load_preset
from scalematch.presets.preset import LetterboxInput, Points, YoloAnchors
from scalematch.profile.api import build


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


def tiny_and_large(path: Path, images: int = 40, seed: int = 5) -> Path:
    """640 x 480 images, each with five objects of 1.5 to 2.5 px and one of 430 to 470 px: more octaves of object
    size than RetinaNet's P3-P7 anchors span at one anchor scale."""
    rng = np.random.default_rng(seed)
    anns: list[dict[str, object]] = []
    for i in range(images):
        for side in ((1.5, 2.5),) * 5 + ((430.0, 470.0),):
            w, h = rng.uniform(*side, 2)
            h = min(h, 478.0)
            x, y = rng.uniform(0, 640 - w), rng.uniform(0, 480 - h)
            anns.append({"id": len(anns) + 1, "image_id": i + 1, "category_id": 1, "bbox": [x, y, w, h],
                         "area": w * h, "iscrowd": 0})  # fmt: skip
    doc = {
        "images": [{"id": i + 1, "file_name": f"{i}.jpg", "width": 640, "height": 480} for i in range(images)],
        "annotations": anns,
        "categories": [{"id": 1, "name": "mixed"}],
    }
    path.write_text(json.dumps(doc))
    return path


def _cells(h: int, w: int, levels: range) -> int:
    """Grid cells of ResNet-50 + FPN levels P<k> at a padded input h x w: every stride-2 step rounds up."""
    total = 0
    for k in levels:
        rows, cols = h, w
        for _ in range(k):
            rows, cols = -(-rows // 2), -(-cols // 2)
        total += rows * cols
    return total


def test_p2_where_no_input_scale_reaches_the_target(tmp_path: Path) -> None:
    """RetinaNet on tiny and large objects together: the search adds P2 (one octave of anchors more) at x1 input.
    Under the cost (anchors per image) P2 at x1 costs about what x2 input costs (P2 at x1 and P3 at x2 are the
    same grid), so it is chosen because every x2 design misses the target; costs checked by grid arithmetic."""
    preset = load_preset("retinanet")
    rows = usable(load(tiny_and_large(tmp_path / "mixed.json"), resize=preset.resize_policy()).table)
    found = search(rows, preset)
    chosen = found.chosen
    assert found.reached and chosen.added == ("P2",) and chosen.input_scale == 1
    assert "levels P2-" in chosen.changes
    # 640 x 480 at short side 800: 1066 x 800, padded to 1088 x 800; x2 (1600, 2666): 2133 x 1600 -> 2144 x 1600.
    last = int(chosen.preset.levels[-1][1:])
    assert chosen.cost == 9 * _cells(800, 1088, range(2, last + 1))
    twice = [t for t in found.trials if t.input_scale == 2 and not t.added]
    assert twice, "the x2 designs come before P2 in cost order"
    for t in twice:
        assert t.cost == 9 * _cells(1600, 2144, range(3, int(t.preset.levels[-1][1:]) + 1))
        assert t.share < 0.99
    assert all(t.share < 0.99 for t in found.trials if t.cost < chosen.cost)
    # The chosen preset simulates again on its own (its graph gains P2 as the search's did).
    sim = simulate(chosen.preset, rows, level_graph(chosen.preset))
    assert float((sim.quality >= 1).mean()) == chosen.share and sim.anchors_per_image == chosen.cost


def test_fitted_ratios_are_the_quantiles_of_the_aspects() -> None:
    rows = usable(load(sample_path(), resize="shortest-edge:800,1333").table)
    v = np.sort(np.log(rows["h"].to_numpy() / rows["w"].to_numpy()))
    for name, k in (("retinanet", 3), ("faster-rcnn", 3), ("atss", 1)):
        fitted = fitted_ratios(rows, load_preset(name))
        assert fitted is not None and len(fitted) == k
        for j, r in enumerate(fitted):
            pos = (j + 0.5) / k * (len(v) - 1)  # linear interpolation between order statistics
            lo = int(pos)
            q = v[lo] + (pos - lo) * (v[min(lo + 1, len(v) - 1)] - v[lo])
            assert r == pytest.approx(float(np.exp(q)), rel=5e-3)
    for name in ("fcos", "ssd300", "yolov5", "yolov8"):
        assert fitted_ratios(rows, load_preset(name)) is None


def test_fitted_ratios_never_lower_the_share_with_positives() -> None:
    """ATSS on the sample misses the target: every design with fitted ratios kept among the trials has at least
    the share of objects with any positive of the same design with the preset's ratio."""
    preset = load_preset("atss")
    rows = usable(load(sample_path(), resize=preset.resize_policy()).table)
    found = search(rows, preset)
    fitted = [t for t in found.trials if t.ratios is not None]
    plain = {
        (t.input_scale, t.preset.levels, t.anchor_scale): t for t in found.trials if t.ratios is None and t.topk is None
    }
    for t in fitted:
        assert t.preset.anchors.ratios == t.ratios  # type: ignore[union-attr]
        if t.topk is None:
            assert t.covered >= plain[(t.input_scale, t.preset.levels, t.anchor_scale)].covered
    assert all(t.topk in (12, 15, 20) and t.preset.assigner.topk == t.topk for t in found.trials if t.topk)  # type: ignore[union-attr]


def test_fcos_ranges_and_radius_are_torchvisions_settings(tmp_path: Path) -> None:
    """An FCOS design's regress ranges (4 s, 8 s) scale through the anchor size s; the centre-sampling radius
    stays in strides (pixels) whatever the ranges."""
    preset = load_preset("fcos")
    rows = usable(load(tiny_and_large(tmp_path / "mixed.json"), resize=preset.resize_policy()).table)
    found = search(rows, preset)
    assert {t.range_scale for t in found.trials} >= {0.5, 0.75, 1.5, 2.0}
    assert {t.radius for t in found.trials} >= {1.0, 2.0, 2.5}
    strides = {"P2": 4, "P3": 8, "P4": 16, "P5": 32, "P6": 64, "P7": 128}
    for t in found.trials:
        gen, rule = t.preset.anchors, t.preset.assigner
        for level, sizes in zip(t.preset.levels, gen.sizes, strict=True):  # type: ignore[union-attr]
            assert sizes == (strides[level] * t.range_scale,)
            radius = 1.5 if t.radius is None else t.radius
            assert rule.center_sampling_radius * sizes[0] == pytest.approx(radius * strides[level])  # type: ignore[union-attr]
        assert ("ranges x" in t.changes) == (t.range_scale != 1) and ("centre radius" in t.changes) == bool(t.radius)


def test_designs_beyond_the_network_s_limits_are_skipped(tmp_path: Path) -> None:
    """A valid large input (yolov5 at 11008) is searched without the x3 cell, whose 33024-pixel input would make
    a 16512-unit stem map (over 16384 per side): that cell is skipped, not an error blaming a 'too small' image."""
    from scalematch.match.detector import evaluate, small_images
    from scalematch.match.search import at_input, scaled

    path = tmp_path / "one.json"
    path.write_text(
        json.dumps(
            {
                "images": [{"id": 1, "width": 64, "height": 64, "file_name": "t.jpg"}],
                "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [16, 16, 32, 32], "area": 1024}],
                "categories": [{"id": 1, "name": "cat"}],
            }
        ),
        encoding="utf-8",
    )
    preset = at_input(load_preset("yolov5"), "longest-edge:11008")
    data = load(path, resize="longest-edge:11008")
    result = evaluate(data, preset, workers=1)
    assert result.search is not None
    scales = {t.input_scale for t in result.search.trials}
    assert 3.0 not in scales and 2.0 in scales
    big = scaled(preset, 3.0)  # the x3 design, as the search builds it: its image is refused as too large
    small, first = small_images(big, level_graph(big), data.table)
    assert small.all()
    assert "becomes a 33024x33024 input under yolov5's resize, too large for cspdarknet" in first


def test_the_search_names_the_design_it_started_from() -> None:
    """Under --levels the search starts from the design as run, not the preset: its 'before' line names that
    design as the verdict does, and when no variation reaches the target the text says which of the preset's
    levels the search could not add back."""
    result = CliRunner().invoke(app, ["recommend", "--levels", "P7", "--json", "-q"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)["search"]
    assert found["before"]["changes"] == "the preset with level P7"
    assert not found["reached"] and found["levels_left_out"] == ["P3", "P4", "P5", "P6"]
    text = CliRunner().invoke(app, ["recommend", "--levels", "P7"]).stdout
    assert "retinanet with level P7 misses the target." in text
    assert "\n  before: the preset with level P7: 28.7%, 579 anchors per image\n" in text
    assert (
        "; the one above comes closest.\n"
        "The search cannot add back the preset's P3, P4, P5, P6, which the design (level P7) leaves out.\n"
    ) in text


def test_a_scaled_input_names_its_resize_after_a_changed_one() -> None:
    """x1.25 of the user's shortest-edge:400,666 is 500 px, not 1.25 times the preset's 800: the change says so."""
    from scalematch.match.search import Trial, at_input, scaled

    base = at_input(load_preset("retinanet"), "shortest-edge:400,666")
    words = ("resize shortest-edge:400,666",)
    before = Trial(base, 1.0, 1.0, 0, 0.9, 1.0, base=words)
    after = Trial(scaled(base, 1.25, 0.5), 1.25, 0.5, 0, 0.99, 2.0, base=words)
    assert before.changes == "the preset with resize shortest-edge:400,666" and not before.varied
    assert after.changes == "input x1.25 (resize shortest-edge:500,832), anchors x0.5" and after.varied
    shipped = Trial(scaled(load_preset("retinanet"), 1.25), 1.25, 1.0, 0, 0.99, 2.0)
    assert shipped.changes == "input x1.25"


@pytest.mark.parametrize(
    ("name", "size", "changes", "simulated"),
    [
        # a letterbox goes up to a multiple of 32, as yolov5's check_img_size: 320 x 1.25 = 400 is simulated at 416
        ("yolov5", 320, "input 416 (x1.3)", 1.3),
        ("yolov5", 640, "input x1.25", 1.25),  # 800, a multiple of 32
        ("retinanet", None, "input min_size 1000, max_size 1666 (x1.25)", 1.25),  # 1333 x 1.25 = 1666.25
        ("atss", None, "input scale (1666, 1000) (x1.25)", 1.25),
    ],
)
def test_a_rounded_input_scale_names_the_size_simulated(
    name: str, size: int | None, changes: str, simulated: float
) -> None:
    preset = load_preset(name)
    if size is not None:
        assert isinstance(preset.input, LetterboxInput)
        preset = replace(preset, input=replace(preset.input, size=size))
    design = scaled(preset, 1.25)
    trial = Trial(design, 1.25, 1.0, 0, 1.0, 1.0, base_input=preset.input)
    assert (trial.changes, trial.simulated_scale) == (changes, simulated)
    document = search_document(Search(trial, trial, (trial,), 0.99, True, 1, 1))
    chosen = document["chosen"]
    assert isinstance(chosen, dict)
    assert (chosen["changes"], chosen["input_scale"]) == (changes, simulated)
    assert chosen["input_size"] == input_size_words(design.input)


@pytest.mark.parametrize("name", ["yolov5", "yolov8"])
@pytest.mark.parametrize("grid", [32, 64])
def test_a_scaled_letterbox_is_the_size_the_toolkit_trains_at(name: str, grid: int) -> None:
    """The search's x1.25, x1.5, ... of a letterbox is what the toolkit makes of that size when asked for it:
    yolov5's train.py check_img_size(imgsz, gs, floor=2 gs), ultralytics' trainer check_imgsz(imgsz, stride=gs,
    floor=gs), gs = max(32, largest stride); both round up (never half-to-even: 400 is trained at 416, not 384)."""
    from scalematch.match.search import INPUT_SCALES

    need("yolov5.utils.general")
    need("ultralytics.utils.checks")
    from ultralytics.utils import checks
    from yolov5.utils import general

    check_img_size: Any = general.check_img_size
    check_imgsz: Any = checks.check_imgsz
    preset = load_preset(name)
    letterbox, gen = preset.input, preset.anchors
    assert isinstance(letterbox, LetterboxInput) and isinstance(gen, YoloAnchors | Points)
    if grid == 64:
        preset = replace(preset, anchors=replace(gen, strides=(16, 32, 64)))
    for size in (320, 352, 416, 448, 608, 640, 704):
        base = replace(preset, input=replace(letterbox, size=size))
        for scale in INPUT_SCALES:
            asked = round(size * scale)
            theirs = (
                check_img_size(asked, grid, floor=2 * grid)
                if name == "yolov5"
                else check_imgsz(asked, stride=grid, floor=grid, max_dim=1)
            )
            if scale == 1:
                theirs = size  # no scaling: the preset's own size
            design = scaled(base, scale)
            assert isinstance(design.input, LetterboxInput)
            assert design.input.size == theirs, (size, scale)
