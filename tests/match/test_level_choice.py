"""The recommended run of levels under a size rule, against a brute force over every run (plain per-box loops of
the rf rule), and its counts told alike by the text, --json and the report."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from scalematch.cli.main import app
from scalematch.match.levels import Level
from scalematch.match.recommend import choose_levels
from scalematch.match.rules import Rule, RuleParams

SIGMA = (18.5, 25.1, 33.9, 44.6, 44.6)  # resnet50 + fpn's P2-P6 ERF sigma at 800 x 1333
LEVELS = tuple(Level(f"P{k}", float(2**k), 459.0, s, 0.0) for k, s in zip(range(2, 7), SIGMA, strict=True))


def _fits(w: float, h: float, level: Level, min_cells: float = 2.0, factor: float = 3.0) -> bool:
    return math.sqrt(w * h) >= min_cells * level.stride and max(w, h) <= 2 * factor * level.erf_sigma


def _home(w: float, h: float) -> int:
    """The levels table's level of one box under the rf rule: the nearest preferred size 4 x stride (in log scale)
    among all levels it fits; -1 for none."""
    fitting = [k for k, lv in enumerate(LEVELS) if _fits(w, h, lv)]
    if not fitting:
        return -1
    return min(fitting, key=lambda k: abs(math.log(math.sqrt(w * h) / (4 * LEVELS[k].stride))))


def _expected(boxes: list[tuple[float, float]], target: float) -> tuple[str, ...]:
    home = [_home(w, h) for w, h in boxes]
    runs = []
    for n in range(1, len(LEVELS) + 1):
        for start in range(len(LEVELS) - n + 1):
            window = LEVELS[start : start + n]
            covered = sum(any(_fits(w, h, lv) for lv in window) for w, h in boxes) / len(boxes)
            at_home = sum(start <= k < start + n for k in home)
            runs.append((covered, n, at_home, start, window))
    reaching = [r for r in runs if r[0] >= target]
    if reaching:
        best = min(reaching, key=lambda r: (r[1], -r[2], r[3]))
    else:
        best = min(runs, key=lambda r: (-r[0], r[1], -r[2], r[3]))
    return tuple(lv.name for lv in best[4])


@settings(max_examples=300, deadline=None)
@given(
    boxes=st.lists(st.tuples(st.floats(2.0, 400.0), st.floats(2.0, 400.0)), min_size=1, max_size=40),
    target=st.sampled_from([0.5, 0.9, 0.99, 1.0]),
)
def test_the_run_chosen_is_the_brute_forces(boxes: list[tuple[float, float]], target: float) -> None:
    """Smallest run reaching the target; ties: the run the levels table gives the most objects, then finer."""
    w, h = (np.array(v, dtype=np.float64) for v in zip(*boxes, strict=True))
    table_level = np.array([_home(a, b) for a, b in boxes], dtype=np.int64)
    window, _, _ = choose_levels(w, h, LEVELS, Rule.RF, RuleParams(), target, table_level)
    assert tuple(lv.name for lv in window) == _expected(boxes, target)


def _coco(path: Path, boxes: list[list[int]]) -> Path:
    image = {"id": 1, "file_name": "a.jpg", "width": 800, "height": 800}
    anns = [
        {"id": k + 1, "image_id": 1, "category_id": 1, "bbox": box, "area": box[2] * box[3], "iscrowd": 0}
        for k, box in enumerate(boxes)
    ]
    doc = {"images": [image], "annotations": anns, "categories": [{"id": 1, "name": "a"}]}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_one_object_is_recommended_its_own_level(tmp_path: Path) -> None:
    """One 83 x 100 px object (at 800 x 800, unchanged by shortest-edge:800,1333): its size, 91 px, is nearest
    P5's preferred 128 px among the levels it fits, and P2 to P5 each take it alone; P2 was recommended (the
    finest), with the table giving P2 no object."""
    assert _home(83.0, 100.0) == 3 and all(_fits(83.0, 100.0, lv) for lv in LEVELS[:4])
    path = _coco(tmp_path / "one.json", [[10, 10, 83, 100]])
    result = CliRunner().invoke(app, ["recommend", str(path), "-q", "--rule", "rf", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [(lv["name"], lv["count"]) for lv in doc["levels"]] == [
        ("P2", 0),
        ("P3", 0),
        ("P4", 0),
        ("P5", 1),
        ("P6", 0),
    ]
    assert doc["recommended_levels"] == ["P5"]
    assert doc["recommended_counts"] == {"P5": 1}


def test_a_run_that_takes_other_levels_objects_says_how_many(tmp_path: Path) -> None:
    """Boxes of 12 px (P2's alone: under P3's 16-px minimum), 40 px (P3 in the table) and 120 px (P5 in the table,
    beyond P2's ERF but inside P3's): P2-P3 takes them all, P3 taking the table's P5 objects; the text, --json and
    the report's note give the same counts, which a count of the boxes gives too."""
    boxes = [[10, 10, 12, 12]] * 3 + [[100, 100, 40, 40]] * 5 + [[300, 300, 120, 120]] * 4
    path = _coco(tmp_path / "mixed.json", boxes)
    assert [_home(b[2], b[3]) for b in boxes] == [0] * 3 + [1] * 5 + [3] * 4
    result = CliRunner().invoke(app, ["recommend", str(path), "-q", "--rule", "rf", "--json"])
    doc = json.loads(result.stdout)
    assert doc["recommended_levels"] == ["P2", "P3"]
    assert doc["recommended_counts"] == {"P2": 3, "P3": 9}
    assert [lv["count"] for lv in doc["levels"]] == [3, 5, 0, 4, 0]
    said = "With P2-P3 alone the rf rule places P2 3, P3 9 objects; the table places each among all candidate levels."
    text = CliRunner().invoke(app, ["recommend", str(path), "-q", "--rule", "rf"]).stdout
    assert said in text
    out = tmp_path / "report"
    assert CliRunner().invoke(app, ["recommend", str(path), "-q", "--rule", "rf", "--out", str(out)]).exit_code == 0
    html = re.sub(r"\s+", " ", (out / "report.html").read_text(encoding="utf-8"))
    assert html.count(said) == 1  # in the summary, not again under the levels table
