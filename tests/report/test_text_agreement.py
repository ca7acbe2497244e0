"""The printed sentences agree with the number they speak of: the receptive-field context line with the count of
objects longer than the receptive field (not with the total), the recommendation with its count of levels; and
the design search and the ``--resize`` sweep count points, not anchors, for an anchor-free head."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import scalematch as sm
from scalematch.cli.main import app
from scalematch.match.documents import search_document, sweep_document
from scalematch.match.recommend import Recommendation
from scalematch.match.search import Search, Sweep, Trial
from scalematch.presets import builtin_presets, load_preset
from scalematch.report.positives_text import search_lines, sweep_table
from scalematch.report.recommend_text import sentences

CONTEXT = "Context (scalematch's receptive-field view, a heuristic): "


def _write(path: Path, boxes: list[list[float]]) -> Path:
    images = [{"id": i, "file_name": f"{i}.jpg", "width": 640, "height": 480} for i in range(1, 6)]
    anns = [
        {"id": k, "image_id": 1 + k % 5, "category_id": 1, "bbox": box, "iscrowd": 0}
        for k, box in enumerate(boxes, start=1)
    ]
    path.write_text(json.dumps({"images": images, "annotations": anns, "categories": [{"id": 1, "name": "car"}]}))
    return path


def _context(*args: str) -> str:
    result = CliRunner().invoke(app, ["recommend", "-q", *args])
    assert result.exit_code == 0, result.output
    return next(line for line in result.stdout.splitlines() if line.startswith("Context"))


SMALL: list[list[float]] = [[10 * k % 300, 20, 40, 30] for k in range(2, 11)]  # 9 boxes inside their level's RF


def test_one_object_longer_than_the_receptive_field_is_singular(tmp_path: Path) -> None:
    """1 of 10 objects: the verb, the possessive and the pronoun follow the 1, not the 10."""
    src = _write(tmp_path / "one.json", [[0, 0, 639, 479], *SMALL])
    assert _context(str(src)) == (
        f"{CONTEXT}1 of 10 objects (10.0%) is longer than the receptive field of the level holding most of its "
        "positives; a one-stage head predicts it from units that see only part of it."
    )
    report = tmp_path / "report"
    result = CliRunner().invoke(app, ["recommend", str(src), "-q", "--out", str(report)])
    assert result.exit_code == 0, result.output
    html = (report / "report.html").read_text()
    assert (
        "<p>Context (scalematch&#39;s receptive-field view, a heuristic): 1 of 10 objects (10.0%) is longer than the "
        "receptive field of the level holding most of its positives; a one-stage head predicts it from units that "
        "see only part of it.</p>" in html
    )


def test_several_or_no_objects_longer_than_the_receptive_field_are_plural(tmp_path: Path) -> None:
    src = _write(tmp_path / "two.json", [[0, 0, 639, 479], [0, 0, 639, 479], *SMALL[1:]])
    assert _context(str(src)) == (
        f"{CONTEXT}2 of 10 objects (20.0%) are longer than the receptive field of the level holding most of their "
        "positives; a one-stage head predicts each of them from units that see only part of it."
    )
    src = _write(tmp_path / "none.json", [[0, 0, 40, 30], *SMALL])
    assert _context(str(src)) == (
        f"{CONTEXT}0 of 10 objects (0.0%) are longer than the receptive field of the level holding most of their "
        "positives; a one-stage head predicts each of them from units that see only part of it."
    )


def _rule(*args: str, **kw: object) -> Recommendation:
    found = sm.recommend(*args, **kw)  # type: ignore[arg-type]
    assert isinstance(found, sm.Design)
    return found.recommendation


def _single_object(tmp_path: Path) -> Path:
    box = {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 50, 40], "area": 2000, "iscrowd": 0}
    image = {"id": 1, "width": 640, "height": 480, "file_name": "a.jpg"}
    path = tmp_path / "single.json"
    path.write_text(json.dumps({"images": [image], "annotations": [box], "categories": [{"id": 1, "name": "x"}]}))
    return path


def test_the_recommendation_agrees_with_its_count_of_levels(tmp_path: Path) -> None:
    """One recommended level "takes"; several other levels "take"; one other level "takes" (the bundled sample
    under rf, README's own example)."""
    lines = sentences(_rule(str(_single_object(tmp_path)), rule="rf"))
    assert lines[:2] == [
        "Use P4 (1 level): under the rf rule it takes 100.0% of 1 object (target 99.0%).",
        "The other levels (P2, P3, P5, P6) take no object the recommended ones miss.",
    ]
    assert "The other level (P6) takes no object the recommended ones miss." in sentences(_rule(rule="rf"))


def test_the_other_level_that_would_add_coverage_is_singular() -> None:
    lines = sentences(_rule(rule="fpn", levels=["P2", "P3", "P4", "P5"], coverage=0.5))
    others = [line for line in lines if line.startswith("The other")]
    assert len(others) == 1 and others[0].startswith("The other level (P"), lines


@pytest.mark.parametrize("name", builtin_presets())
def test_anchor_free_presets_are_fcos_and_yolov8(name: str) -> None:
    preset = load_preset(name)
    assert preset.anchor_free is (name in ("fcos", "yolov8"))
    assert preset.head_units == ("points" if name in ("fcos", "yolov8") else "anchors")


def _search(name: str) -> Search:
    preset = load_preset(name)
    before = Trial(preset, 1, 1, 0, 0.5, 18134.0)
    chosen = Trial(preset, 2, 1, 0, 1.0, 70350.0)
    return Search(before, chosen, (before, chosen), 0.99, True, 10, 10, simulated=1)


@pytest.mark.parametrize(("name", "units"), [("fcos", "points"), ("yolov8", "points"), ("retinanet", "anchors")])
def test_the_design_search_counts_what_the_head_scores(name: str, units: str) -> None:
    lines = search_lines(_search(name))
    assert "; 1 design simulated, visiting input scales" in lines[0]
    assert lines[1:] == [
        f"  before: the preset as it is: 50.0%, 18,134 {units} per image",
        f"  after:  input x2: 100.0%, 70,350 {units} per image",
    ]
    # the JSON document's field keeps its documented name, whatever the head scores
    assert search_document(_search(name))["chosen"]["anchors_per_image"] == 70350.0  # type: ignore[index]


@pytest.mark.parametrize(
    ("name", "why"),
    [
        (
            "retinanet",
            "The search scales the input up only (x1.25 to x3) and the anchors down only (x0.75 to x0.25), which "
            "helps objects too small for the design, not those too large.",
        ),
        (
            "yolov8",
            "The search scales the input up only (x1.25 to x3), which helps objects too small for the design, not "
            "those too large.",
        ),
        ("fcos", None),  # its ranges are scaled both ways
    ],
)
def test_a_search_that_changes_nothing_says_so_and_shows_the_preset_once(name: str, why: str | None) -> None:
    """When no variation beats the design the search started from, the chosen design is that design: the text
    shows it once, as 'before', and says that nothing beats it (not 'the one above comes closest')."""
    preset = load_preset(name)
    before = Trial(preset, 1, 1, 0, 0.5, 18134.0)
    tried = Trial(preset, 2, 1, 0, 0.4, 70350.0)
    found = Search(before, before, (before, tried), 0.99, False, 10, 10, simulated=25)
    units = preset.head_units
    lines = search_lines(found)
    assert lines[1:] == [
        f"  before: the preset as it is: 50.0%, 18,134 {units} per image",
        f"No change beats it: none of the 24 variations simulated raises its share or keeps it with fewer {units} "
        "per image.",
        *([why] if why else []),
    ]
    one = search_lines(Search(before, before, (before, tried), 0.99, False, 10, 10, simulated=2))[2]
    assert one.startswith("No change beats it: the one variation simulated does not raise its share")
    closer = Trial(preset, 2, 1, 0, 0.6, 70350.0)
    varied = search_lines(Search(before, closer, (before, closer), 0.99, False, 10, 10, simulated=2))
    assert varied[2:] == [
        f"  after:  input x2: 60.0%, 70,350 {units} per image",
        "No variation reaches 99.0%; the one above comes closest.",
    ]


@pytest.mark.parametrize(("name", "units"), [("fcos", "points"), ("yolov8", "points"), ("ssd300", "anchors")])
def test_the_sweep_table_names_its_cost_column_for_the_head(name: str, units: str) -> None:
    sweep = Sweep((("longest-edge:320", Trial(load_preset(name), 0.5, 1, 0, 1.0, 2100.0), 0),), 0.99)
    assert sweep_table(sweep).splitlines()[0].split() == [
        "rank", "resize", "meeting", "no_positive", f"{units}_per_image", "target"
    ]  # fmt: skip
    assert sweep_document(sweep)[0]["anchors_per_image"] == 2100.0


def test_the_resize_sweep_of_yolov8_prints_points_per_image(tmp_path: Path) -> None:
    src = _write(tmp_path / "tiny.json", [[50 + 60 * k, 100, 50, 40] for k in range(6)])
    result = CliRunner().invoke(
        app, ["recommend", str(src), "-q", "--detector", "yolov8", "--resize", "longest-edge:640;longest-edge:320"]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    header = next(line for line in lines if line.startswith("rank"))
    assert header.split() == ["rank", "resize", "meeting", "no_positive", "points_per_image", "target"]
    assert "anchors" not in "\n".join(lines[lines.index(header) :])
