"""``recommend`` keys its per-category results by category id, as ``stats`` does: two ids sharing a name stay two
rows (``person (id 2)``) in the JSON, the HTML tables, the figures and the ``--objects`` CSV, each with the count
taken from the annotation file by plain ``json``; a file whose names are unique is shown as before (the names)."""

from __future__ import annotations

import csv
import html
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scalematch.cli.main import app
from scalematch.dataset import sample_path

SHARED = {1: "person", 2: "person", 3: "person"}  # the sample's categories 2 and 3 renamed 'person'


def run(*args: str) -> str:
    result = CliRunner().invoke(app, ["recommend", "-q", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def dupnames(tmp_path_factory: pytest.TempPathFactory) -> Path:
    coco = json.loads(sample_path().read_text())
    for cat in coco["categories"]:
        cat["name"] = SHARED.get(cat["id"], cat["name"])
    path = tmp_path_factory.mktemp("names") / "dupnames.json"
    path.write_text(json.dumps(coco))
    return path


def counted(path: Path) -> dict[str, int]:
    """Non-crowd objects per category, from the file with plain json, labelled ``name (id N)`` where the file gives
    several ids one name."""
    coco = json.loads(path.read_text())
    names = {c["id"]: c["name"] for c in coco["categories"]}
    per_id = Counter(a["category_id"] for a in coco["annotations"] if not a.get("iscrowd"))
    uses = Counter(names[i] for i in per_id)
    return {(names[i] if uses[names[i]] == 1 else f"{names[i]} (id {i})"): n for i, n in per_id.items()}


def html_rows(page: str) -> dict[str, int]:
    section = page.split('<h2 id="categories">Categories</h2>', 1)[1].split("<h2", 1)[0]
    rows = [re.findall(r"<td>(.*?)</td>", line) for line in re.findall(r"<tr><td>.*?</tr>", section)]
    return {html.unescape(r[0]): int(r[1]) for r in rows}


def test_the_fixture_counts_three_person_ids(dupnames: Path) -> None:
    want = counted(dupnames)
    assert {k: v for k, v in want.items() if k.startswith("person")} == {
        "person (id 1)": 250,
        "person (id 2)": 4,
        "person (id 3)": 19,
    }
    assert "person" not in want


@pytest.mark.parametrize("rule", ["rf", "fcos"])
def test_rule_mode_json_and_report_keep_ids_apart(dupnames: Path, tmp_path: Path, rule: str) -> None:
    out = tmp_path / "report"
    doc = json.loads(run(str(dupnames), "--rule", rule, "--json", "--out", str(out)))
    want = counted(dupnames)
    got = {c["category"]: sum(c["counts"].values()) for c in doc["per_category"]}
    assert got == want
    assert html_rows((out / "report.html").read_text(encoding="utf-8")) == want
    assert json.loads((out / "recommendation.json").read_text())["per_category"] == doc["per_category"]


def test_detector_report_and_objects_csv_keep_ids_apart(dupnames: Path, tmp_path: Path) -> None:
    out, objects = tmp_path / "report", tmp_path / "objects.csv"
    run(str(dupnames), "--out", str(out), "--objects", str(objects))
    want = counted(dupnames)
    assert html_rows((out / "report.html").read_text(encoding="utf-8")) == want
    with objects.open() as handle:
        table = list(csv.DictReader(handle))
    assert list(table[0])[:4] == ["image_id", "annotation_id", "category_id", "category"]
    coco = json.loads(dupnames.read_text())
    by_ann = {a["id"]: a["category_id"] for a in coco["annotations"]}
    assert all(int(r["category_id"]) == by_ann[int(r["annotation_id"])] for r in table)
    per_id = Counter((int(r["category_id"]), r["category"]) for r in table)
    persons = {k: v for k, v in per_id.items() if k[1] == "person"}
    assert persons == {(1, "person"): 250, (2, "person"): 4, (3, "person"): 19}


def test_figures_label_each_id(dupnames: Path) -> None:
    import scalematch
    from scalematch.match.design import Design
    from scalematch.report.level_plot import category_figure
    from scalematch.report.overlay_plot import overlay_figure

    data = scalematch.read_annotations(dupnames)
    design = scalematch.recommend(data, rule="rf")
    assert isinstance(design, Design)
    fig = category_figure(design.recommendation.full, top=80)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert {"person (id 1) (250)", "person (id 2) (4)", "person (id 3) (19)"} <= set(labels)
    overlay = overlay_figure(data.table, design.recommendation, split="category", top=3)
    box = overlay.axes[0].get_legend()
    assert box is not None
    legend = [t.get_text() for t in box.get_texts()]
    assert "person (id 1)" in legend


def test_unique_names_are_shown_as_before(tmp_path: Path) -> None:
    out, objects = tmp_path / "report", tmp_path / "objects.csv"
    doc = json.loads(run("--rule", "rf", "--json"))
    want = counted(sample_path())
    coco = json.loads(sample_path().read_text())
    assert set(want) <= {c["name"] for c in coco["categories"]}  # no '(id N)' where every name is unique
    assert [c["category"] for c in doc["per_category"]] == sorted(want)
    assert {c["category"]: sum(c["counts"].values()) for c in doc["per_category"]} == want
    run("--out", str(out), "--objects", str(objects))
    assert html_rows((out / "report.html").read_text(encoding="utf-8")) == want
    with objects.open() as handle:
        table = list(csv.DictReader(handle))
    names = {c["id"]: c["name"] for c in coco["categories"]}
    assert all(r["category"] == names[int(r["category_id"])] for r in table)


def test_category_labels_against_brute_force() -> None:
    import numpy as np
    import pandas as pd

    from scalematch.dataset.table import category_labels

    rng = np.random.default_rng(5)
    ids = rng.integers(-3, 40, 5000)
    names = np.array([f"n{i % 30}" for i in range(43)], dtype=object)[ids + 3]  # ids k and k + 30 share a name
    for column in (names, pd.Categorical(names)):
        table = pd.DataFrame({"category_id": ids, "category": column})
        ids_of: dict[str, set[int]] = {}
        for cid, name in zip(ids.tolist(), names.tolist(), strict=True):
            ids_of.setdefault(name, set()).add(cid)
        want = [
            n if len(ids_of[n]) == 1 else f"{n} (id {c})" for c, n in zip(ids.tolist(), names.tolist(), strict=True)
        ]
        got = category_labels(table)
        assert got is not None and got.tolist() == want
    assert category_labels(pd.DataFrame({"category": ["a", "a"]})).tolist() == ["a", "a"]  # type: ignore[union-attr]
    assert category_labels(pd.DataFrame({"category_id": [1]})) is None
    assert category_labels(pd.DataFrame({"category_id": [], "category": []})).tolist() == []  # type: ignore[union-attr]
