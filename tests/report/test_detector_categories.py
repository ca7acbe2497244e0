"""The detector-mode report's categories table: each category's objects, those meeting the test and those
without a positive, checked against the annotation file and the per-object CSV."""

from __future__ import annotations

import csv
import html
import json
import re
from collections import Counter
from pathlib import Path

from typer.testing import CliRunner

from scalematch.cli.main import app
from scalematch.dataset import sample_path


def test_detector_report_lists_every_category_with_its_positives(tmp_path: Path) -> None:
    out, objects = tmp_path / "report", tmp_path / "objects.csv"
    args = ["recommend", "-q", "--out", str(out), "--objects", str(objects), "--min-positives", "3"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text(encoding="utf-8")
    section = page.split('<h2 id="categories">Categories</h2>', 1)[1].split("<h2", 1)[0]
    lines = re.findall(r"<tr><td>.*?</tr>", section)
    rows = [[html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", line)] for line in lines]
    # objects per category from the annotation file itself (crowd boxes are not matched)
    coco = json.loads(sample_path().read_text())
    names = {c["id"]: c["name"] for c in coco["categories"]}
    counted = Counter(names[a["category_id"]] for a in coco["annotations"] if not a.get("iscrowd"))
    assert {r[0]: int(r[1]) for r in rows} == dict(counted)
    assert [int(r[1]) for r in rows] == sorted((int(r[1]) for r in rows), reverse=True)
    # meeting the test (3 or more positives above the floor) and no positive, from the per-object CSV
    with objects.open() as handle:
        table = list(csv.DictReader(handle))
    none = Counter(r["category"] for r in table if int(r["positives"]) == 0)
    for name, _, meeting, without, _ in rows:
        mine = [r for r in table if r["category"] == name]
        assert int(without) == none.get(name, 0)
        good = [int(r["positives"]) - int(r["positives_below_floor"]) for r in mine]
        assert meeting.split(" ")[0] == str(sum(q >= 3 for q in good)), name
