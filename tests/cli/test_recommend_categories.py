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
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
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


NAMES = ["a", "b", "a (id 1)", "a (id 2)", "a (id 1) (id 5)", "b (id 5)", "a (id 1) (id 2)"]


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.integers(1, 6), st.sampled_from(NAMES), min_size=1), st.data())
def test_category_labels_are_one_per_id_even_for_names_shaped_like_labels(names: dict[int, str], data: Any) -> None:
    """A category may be named like another's label ('a (id 1)' beside two ids named 'a'): every id still gets a
    label of its own (its name, or its name + ' (id N)'), so no two categories merge in a per-category table; an id
    keeps its bare name when no other id's label is that name."""
    import pandas as pd

    from scalematch.dataset.table import category_labels

    ids = data.draw(st.lists(st.sampled_from(sorted(names)), min_size=1, max_size=30), "rows")
    got = category_labels(pd.DataFrame({"category_id": ids, "category": [names[i] for i in ids]}))
    assert got is not None
    label: dict[int, str] = {}
    for cid, shown in zip(ids, got.tolist(), strict=True):
        assert label.setdefault(cid, shown) == shown  # one label per id
    assert len(set(label.values())) == len(label)  # one id per label
    for cid, shown in label.items():
        assert shown in (names[cid], f"{names[cid]} (id {cid})")
        others = {v for k, v in label.items() if k != cid}
        if shown != names[cid]:  # suffixed only where the bare name would be another id's label too
            assert any(names[k] == names[cid] for k in label if k != cid) or names[cid] in others


def test_a_name_spelled_like_a_label_is_not_merged_with_it(tmp_path: Path) -> None:
    """Ids 1 and 2 are named 'a' (shown 'a (id 1)', 'a (id 2)'); id 5 is named 'a (id 1)': rule mode's
    per_category listed 4 entries for 5 ids, one of them ids 1 and 5 together (3 objects)."""
    cats = [{"id": 1, "name": "a"}, {"id": 2, "name": "a"}, {"id": 3, "name": "b"}, {"id": 5, "name": "a (id 1)"}]
    anns = [
        {"id": k + 1, "image_id": 1, "category_id": c, "bbox": [10 + 60 * k, 10, 50, 50], "area": 2500, "iscrowd": 0}
        for k, c in enumerate([1, 2, 3, 5, 5])
    ]
    path = tmp_path / "names.json"
    image = {"id": 1, "file_name": "x.jpg", "width": 640, "height": 480}
    path.write_text(json.dumps({"images": [image], "annotations": anns, "categories": cats}), encoding="utf-8")
    result = CliRunner().invoke(app, ["recommend", str(path), "-q", "--rule", "rf", "--json"])
    assert result.exit_code == 0, result.output
    entries = json.loads(result.stdout)["per_category"]
    got = {e["category"]: sum(e["counts"].values()) for e in entries}
    want = Counter({"a (id 1)": 1, "a (id 2)": 1, "b": 1, "a (id 1) (id 5)": 2})
    assert got == want  # counted from the annotations above: one entry per id
