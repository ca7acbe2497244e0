"""Rule mode under a multi-scale policy judges both ends: an object is covered by a run of levels only when the
rule places it there at the smallest and at the largest scale; too small at the smallest, too large at the
largest. Checked against a per-object loop over the box table's two ends, on hand-made boxes and on the bundled
sample, for every rule, and through the text, --json, the report and the sweep."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from scalematch.cli.main import app
from scalematch.dataset import load
from scalematch.match.design import design
from scalematch.match.levels import Level
from scalematch.match.recommend import recommend
from scalematch.match.result import match
from scalematch.match.rules import TOO_LARGE, TOO_SMALL, Rule, RuleParams, assign

SAMPLE = Path(__file__).parents[2] / "scalematch" / "data" / "coco_val2014_100.json"
POLICY = "multi-scale:480-800,1333"
FPN_LEVELS = tuple(Level(f"P{k}", float(2**k), 459.0, 30.0, 0.0) for k in range(2, 6))


def _table(lo: list[float], hi: list[float]) -> pd.DataFrame:
    """Square boxes of side ``lo`` at the smallest scale and ``hi`` at the largest."""
    table: pd.DataFrame = pd.DataFrame({"w_in": lo, "h_in": lo, "w_in_hi": hi, "h_in_hi": hi})
    return table


def test_hand_made_objects_that_fit_at_one_end_only() -> None:
    """The fpn rule (k = floor(4 + log2(size / 224))) on P2-P5: 224 px -> P4 and 448 -> P5 (covered); 224 -> P4
    but 896 -> k 6 (too large at the largest scale); 20 -> k 0 (too small at the smallest) but 80 -> P2; 100 -> P2
    and 200 -> P3 (covered). Matched at the smallest scale alone, three of four would be covered."""
    table = _table([224, 224, 20, 100], [448, 896, 80, 200])
    rec = recommend(table, FPN_LEVELS, Rule.FPN, target=0.5)
    assert (rec.full.too_small, rec.full.too_large, rec.full.assigned) == (1, 1, 2)
    assert rec.both_ends
    assert list(rec.full.assignment.level) == [2, TOO_LARGE, TOO_SMALL, 0]  # covered ones at the smallest's level
    assert rec.chosen.coverage == 0.5
    assert match(table, FPN_LEVELS, Rule.FPN).too_large == 1
    one_end = recommend(table[["w_in", "h_in"]], FPN_LEVELS, Rule.FPN, target=0.5)
    assert (one_end.full.too_small, one_end.full.too_large, one_end.both_ends) == (1, 0, False)


def test_failing_at_the_other_end_counts_by_what_fails_there() -> None:
    """A box too large at the smallest scale but covered at the largest (possible under a rule not monotone in
    size) is too large; one covered at the smallest but too small at the largest is too small; too small at the
    smallest and too large at the largest is too small (judged at the smallest first)."""
    table = _table([2000, 100, 20], [448, 10, 2000])
    rec = recommend(table, FPN_LEVELS, Rule.FPN, target=0.5)
    assert list(rec.full.assignment.level) == [TOO_LARGE, TOO_SMALL, TOO_SMALL]


def _reference(rule: Rule, data_table: pd.DataFrame, window: tuple[Level, ...], params: RuleParams) -> list[int]:
    """Each object's outcome by a plain loop over its two ends' levels (each end matched as one scale)."""
    w, h = data_table["w_in"].to_numpy(np.float64), data_table["h_in"].to_numpy(np.float64)
    wh, hh = data_table["w_in_hi"].to_numpy(np.float64), data_table["h_in_hi"].to_numpy(np.float64)
    low = assign(rule, w, h, window, params).level.tolist()
    high = assign(rule, wh, hh, window, params).level.tolist()
    out = []
    for a, b in zip(low, high, strict=True):
        if a == TOO_SMALL:
            out.append(TOO_SMALL)
        elif a >= 0 and b >= 0:
            out.append(a)
        elif TOO_LARGE in (a, b):
            out.append(TOO_LARGE)
        else:
            out.append(TOO_SMALL)
    return out


@pytest.mark.parametrize("rule", list(Rule))
def test_every_rule_on_the_sample_is_the_loop_over_both_ends(rule: Rule) -> None:
    """On the bundled sample under multi-scale:480-800,1333, every run of levels tried has the coverage of the
    per-object reference over the box table's two ends (the smallest end being shortest-edge:480,1333's boxes and
    the largest shortest-edge:800,1333's), the levels table its counts, and the recommended run its coverage."""
    data = load(SAMPLE, resize=POLICY)
    at_480, at_800 = load(SAMPLE, resize="shortest-edge:480,1333"), load(SAMPLE, resize="shortest-edge:800,1333")
    table = data.table[~data.table["iscrowd"].astype(bool)]
    for end, fixed in (("", at_480), ("_hi", at_800)):
        rows = fixed.table[~fixed.table["iscrowd"].astype(bool)]
        np.testing.assert_allclose(table[f"w_in{end}"].to_numpy(), rows["w_in"].to_numpy(), rtol=1e-12)
    neck = "pan" if rule is Rule.YOLO else "fpn"  # YOLOv5's default anchors are at strides 8, 16, 32
    d = design(data, "resnet50", neck, rule=rule)
    rec = d.recommendation
    levels = rec.full.levels
    params = RuleParams()
    expected = _reference(rule, table, levels, params)
    assert rec.full.assignment.level.tolist() == expected
    assert rec.full.too_small == expected.count(TOO_SMALL)
    assert rec.full.too_large == expected.count(TOO_LARGE)
    assert [load_.count for load_ in rec.full.loads] == [expected.count(k) for k in range(len(levels))]
    from scalematch.match.recommend import _params_for

    by_name = {lv.name: lv for lv in levels}
    for names, coverage in rec.windows:
        window = tuple(by_name[n] for n in names)
        ref = _reference(rule, table, window, _params_for(rule, window, levels, params))
        assert coverage == pytest.approx(sum(k >= 0 for k in ref) / len(ref), abs=1e-12), names
    chosen = dict(rec.windows)[rec.recommended_levels]
    assert rec.chosen.coverage == pytest.approx(chosen, abs=1e-12)
    objects = d.to_frame("objects")
    outcome = np.array([lv.name for lv in levels] + ["too large", "too small"], dtype=object)
    high = assign(rule, table["w_in_hi"].to_numpy(np.float64), table["h_in_hi"].to_numpy(np.float64), levels, params)
    assert objects["level"].tolist() == outcome[expected].tolist()
    assert objects["level_largest"].tolist() == outcome[high.level].tolist()
    # the multi-scale policy covers no more than either of its ends alone
    for fixed in (at_480, at_800):
        alone = design(fixed, "resnet50", neck, rule=rule).recommendation
        assert rec.chosen.coverage <= alone.chosen.coverage + 1e-12
        assert not alone.both_ends


def test_rf_on_the_sample_is_too_small_at_480_and_too_large_at_800() -> None:
    """The rf rule is monotone in size: its too small are the 480 end's, its too large the 800 end's."""
    data = load(SAMPLE, resize=POLICY)
    rec = design(data, "resnet50", "fpn", rule=Rule.RF).recommendation
    at_480 = design(load(SAMPLE, resize="shortest-edge:480,1333"), "resnet50", "fpn").recommendation
    at_800 = design(load(SAMPLE, resize="shortest-edge:800,1333"), "resnet50", "fpn").recommendation
    assert rec.full.too_small == at_480.full.too_small
    assert rec.full.too_large == at_800.full.too_large
    assert rec.full.coverage < min(at_480.full.coverage, at_800.full.coverage)


def test_the_sweep_the_text_the_json_and_the_report_say_both_ends(tmp_path: Path) -> None:
    """The sweep ranks the multi-scale policy by its coverage at both ends (below either end alone), shows its
    input pixels at both ends; the text, --json and the report say that both ends are judged."""
    runner = CliRunner()
    policies = f"{POLICY};shortest-edge:480,1333;shortest-edge:800,1333"
    doc = json.loads(runner.invoke(app, ["recommend", "-q", "--rule", "rf", "--resize", policies, "--json"]).stdout)
    ranks = [row["resize"] for row in doc["sweep"]]
    assert ranks[-1] == POLICY
    multi = doc["sweep"][-1]
    assert multi["input_pixels"] < multi["input_pixels_largest"]
    assert all(row["input_pixels_largest"] is None for row in doc["sweep"][:-1])
    text = runner.invoke(app, ["recommend", "-q", "--rule", "rf", "--resize", policies]).stdout
    row = next(line for line in text.splitlines() if POLICY in line and line[:1].isdigit())
    assert re.search(r"\s0\.31-0\.85$", row), row
    single = json.loads(runner.invoke(app, ["recommend", "-q", "--rule", "rf", "--resize", POLICY, "--json"]).stdout)
    assert single["scale_ends"] == {
        "covered": "both",
        "too_small": "smallest",
        "too_large": "largest",
        "levels": "smallest",
        "ranges": "smallest",
        "input_advice": "smallest",
        "anchors": "both",
    }
    assert single["too_large"] == 229 and single["too_small"] == 8
    assert single["input_advice"]["pixels_largest"] > single["input_advice"]["pixels_now"]
    assert doc["scale_ends"] is None  # the best design, shortest-edge:480,1333, has one scale
    out = tmp_path / "r"
    shown = runner.invoke(app, ["recommend", "-q", "--rule", "rf", "--resize", POLICY, "--out", str(out)])
    assert shown.exit_code == 0, shown.output
    words = runner.invoke(app, ["recommend", "-q", "--rule", "rf", "--resize", POLICY]).stdout
    assert f"resize {POLICY} (both ends judged), rule rf" in words
    assert "Multi-scale resize, both ends judged:" in words
    assert "at least 8 px at the smallest scale" in words
    html = re.sub(r"\s+", " ", (out / "report.html").read_text(encoding="utf-8"))
    assert "Multi-scale resize, both ends judged:" in html
    assert "objects covered at both ends of the multi-scale policy" in html


def test_the_sweep_figure_names_the_policy_judged_at_both_ends() -> None:
    from scalematch.match.api import sweep
    from scalematch.match.design import RuleSweep
    from scalematch.report.sweep_plot import sweep_figure

    swept = sweep(rule="rf", resize=[POLICY, "shortest-edge:800,1333"])
    assert isinstance(swept, RuleSweep)
    fig = sweep_figure(list(swept.designs))
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert f"{POLICY}\n(both ends judged)" in labels and "shortest-edge:800,1333" in labels


def test_exports_of_a_multi_scale_recommendation_say_where_anchors_and_ranges_were_judged() -> None:
    """An export's sizes are input pixels of a policy with two ends: its header says the anchors come from the
    boxes at both ends, and mmdetection's regress ranges say they are at the smallest scale."""
    from scalematch.report.export import detectron2, mmdet

    table = _table([224, 224, 20, 100, 60], [448, 896, 80, 200, 120])
    both = "# Multi-scale resize: the anchors are fitted to its boxes at both ends (smallest and largest scale).\n"
    rec = recommend(table, FPN_LEVELS, Rule.ANCHORS, target=0.5, anchors_per_level=1)
    assert both in mmdet(rec) and both in detectron2(rec)
    assert "# FCOS-style regress ranges on max(l, t, r, b) at the smallest scale, one per level.\n" in mmdet(rec)
    one_end = recommend(table[["w_in", "h_in"]], FPN_LEVELS, Rule.ANCHORS, target=0.5, anchors_per_level=1)
    assert "Multi-scale" not in mmdet(one_end)
    assert "# FCOS-style regress ranges on max(l, t, r, b), one per level.\n" in mmdet(one_end)
