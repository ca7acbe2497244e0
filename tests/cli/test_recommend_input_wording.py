"""The input-size sentence of rule mode says what its minimum size is under each rule: the rf rule's own smallest
resolved size (min cells x the finest stride), and under the other rules, which refuse --min-cells, scalematch's
floor of 2 finest strides, named as such (not as a parameter of the rule)."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scalematch.cli.main import app

FLOOR = "x the finest stride: scalematch's floor for the input size, not a test of the {rule} rule"


def run(*args: str, code: int = 0) -> tuple[str, str]:
    result = CliRunner().invoke(app, ["recommend", "-q", *args])
    assert result.exit_code == code, result.output
    return result.stdout, result.stderr


CASES = [
    (["--rule", "rf"], "min cells x the finest stride"),
    (["--rule", "rf", "--min-cells", "1.5"], "min cells x the finest stride"),
    (["--rule", "fcos"], "2 " + FLOOR.format(rule="fcos")),
    (["--rule", "fpn"], "2 " + FLOOR.format(rule="fpn")),
    (["--rule", "anchors"], "2 " + FLOOR.format(rule="anchors")),
    (
        ["--rule", "yolo", "--levels", "P3,P4,P5", "--resize", "shortest-edge:1600,2666"],
        "2 " + FLOOR.format(rule="yolo"),
    ),
]


@pytest.mark.parametrize(("args", "why"), CASES, ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_input_sentence_names_the_test_of_its_rule(args: list[str], why: str) -> None:
    text = run(*args)[0]
    doc = json.loads(run(*args, "--json")[0])
    advice = doc["input_advice"]
    assert advice["factor"] == 1.0  # the sentence of an input size that is enough
    finest = next(lv for lv in doc["levels"] if lv["name"] == doc["recommended_levels"][0])
    cells = float(args[args.index("--min-cells") + 1]) if "--min-cells" in args else 2.0
    assert advice["min_size"] == cells * finest["stride"]  # the floor the sentence explains
    share = f"{100 * advice['share_now']:.1f}%"
    last = text.rstrip("\n").splitlines()[-1]
    assert last == f"Input size is enough: {share} of objects are at least {advice['min_size']:g} px ({why})."


@pytest.mark.parametrize("rule", ["fcos", "fpn", "anchors", "yolo"])
def test_rules_that_refuse_min_cells_never_name_it(rule: str) -> None:
    refused = run("--rule", rule, "--min-cells", "3", code=2)[1]
    assert refused.strip() == f"Error: --min-cells: applies to --rule rf, not to --rule {rule}"
    extra = ["--levels", "P3,P4,P5"] if rule == "yolo" else []
    text = run("--rule", rule, *extra)[0]
    assert "min cells" not in text.lower() and "--min-cells" not in text


RF_NOTE = (
    "* recommended. Sizes are √(w·h) in input pixels; min size = min cells × stride; ERF limit = 2 × ERF factor × σ "
    "(on the longer side); range: FCOS-style regress range on max(w, h)/2."
)


@pytest.mark.parametrize("rule", ["rf", "fcos", "fpn", "anchors"])
def test_report_levels_note_names_the_rf_parameters_under_rf_only(rule: str, tmp_path: Path) -> None:
    out = tmp_path / "report"
    run("--rule", rule, "--out", str(out))
    page = (out / "report.html").read_text(encoding="utf-8")
    note = html.unescape(
        page.split('<h2 id="levels">Levels</h2>', 1)[1].split('<p class="sub">', 1)[1].split("</p>")[0]
    )
    if rule == "rf":  # the sample's P6 objects go to P5 when P2-P5 alone are present: the summary says so, once
        regrouped = "With P2-P5 alone the rf rule places P2 63, P3 176, P4 206, P5 155 objects; the table places each"
        assert note == RF_NOTE
        assert page.count(regrouped) == 1
    else:
        assert "min cells" not in note and "ERF factor" not in note
        assert note == (
            "* recommended. Sizes are √(w·h) in input pixels; min size = 2 × stride, scalematch's floor for the input "
            "size, and ERF limit = 2 × 3 × σ (on the longer side), the rf rule's cut: for reference, neither is a "
            f"test of the {rule} rule; range: FCOS-style regress range on max(w, h)/2."
        )
