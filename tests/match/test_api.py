"""The notebook API (``import scalematch``): results equal the CLI's --json documents, DataFrames in and out,
short reprs, errors naming parameters (and the CLI naming its flags for the same mistake)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

import scalematch as sm
from scalematch.cli.main import app
from scalematch.errors import MissingExtraError, OptionError
from scalematch.match.detector import DetectorResult


def cli_json(*args: str) -> object:
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def boxes() -> sm.LoadResult:
    return sm.read_annotations()


def test_detector_result_is_the_cli_document(boxes: sm.LoadResult) -> None:
    result = sm.recommend(boxes, "fcos")
    assert isinstance(result, sm.DetectorResult)
    assert result.to_dict() == cli_json("recommend", "-q", "--detector", "fcos")


def test_detector_sweep_is_the_cli_document() -> None:
    policies = "shortest-edge:512,853;shortest-edge:800,1333"
    result = sm.sweep(None, "retinanet", resize=policies.split(";"))
    assert isinstance(result, sm.DetectorResult) and result.sweep is not None
    assert result.to_dict() == cli_json("recommend", "-q", "--resize", policies)


def test_rule_design_and_sweep_are_the_cli_documents(boxes: sm.LoadResult) -> None:
    design = sm.recommend(None, rule="fcos", backbone="resnet18")
    assert isinstance(design, sm.Design)
    assert design.to_dict() == cli_json("recommend", "-q", "--rule", "fcos", "--backbone", "resnet18")
    swept = sm.sweep(None, rule="rf", backbone=["resnet18", "resnet50"])
    assert isinstance(swept, sm.RuleSweep)
    assert swept.to_dict() == cli_json("recommend", "-q", "--rule", "rf", "--backbone", "resnet18,resnet50")
    frame = swept.to_frame()
    assert list(frame["backbone"]) == [row["backbone"] for row in swept.to_dict()["sweep"]]


def test_profile_and_stats_are_the_cli_documents(boxes: sm.LoadResult) -> None:
    profile = sm.profile_model("resnet50", "fpn", input_size="1333x800")
    assert profile.to_dict() == cli_json("profile", "resnet50", "--neck", "fpn", "--size", "1333x800")
    assert sm.profile_model("resnet50", "fpn", input_size=(1333, 800)).input_size == (800, 1333)  # engine: (h, w)
    assert boxes.to_dict() == cli_json("stats", "-q")


def test_profile_frame_names_the_axes() -> None:
    profile = sm.profile_model("resnet50", input_size="1333x800")
    frame = profile.to_frame()
    c5 = frame[frame["output"] == "C5"].iloc[0]
    fm = profile["C5"]
    assert fm.size == (25, 42) and (c5["height"], c5["width"]) == (25, 42)
    assert (c5["rf_h"], c5["rf_w"], c5["stride_w"]) == (fm.y.rf, fm.x.rf, 32)  # type: ignore[union-attr]
    assert len(frame) == len(profile.feature_maps)


def test_design_frames_agree_with_its_counts(boxes: sm.LoadResult) -> None:
    design = sm.recommend(boxes, rule="rf")
    assert isinstance(design, sm.Design)
    levels = design.to_frame("levels")
    objects = design.to_frame("objects")
    full = design.recommendation.full
    counted = Counter(objects["level"])
    assert dict(zip(levels["name"], levels["count"], strict=True)) == {n: counted[n] for n in levels["name"]}
    assert (counted["too small"], counted["too large"]) == (full.too_small, full.too_large)
    assert len(objects) == full.total == int(levels["count"].sum()) + full.too_small + full.too_large
    categories = design.to_frame("categories")
    for name in ("person", "car", "bowl"):
        mine = Counter(objects.loc[objects["category"].astype(str) == name, "level"])
        row = categories.loc[name]
        assert {k: int(v) for k, v in row.items() if v} == dict(mine)
        assert int(row.sum()) == sum(mine.values())


def test_detector_frames_agree_with_the_objects(boxes: sm.LoadResult) -> None:
    result = sm.recommend(boxes, "retinanet")
    assert isinstance(result, sm.DetectorResult)
    objects = result.to_frame("objects")
    categories = result.to_frame("categories")
    assert int(categories["objects"].sum()) == len(objects) == result.summary.objects
    for name in ("person", "bowl"):
        mine = objects[objects["category"] == name]
        row = categories.loc[name]
        assert (row["objects"], row["no_positive"]) == (len(mine), int((mine["positives"] == 0).sum()))
    levels = result.to_frame("levels")
    assert list(levels["level"]) == list(result.preset.levels)
    assert int(levels["positives"].sum()) == int(objects["positives"].sum())


def test_a_dataframe_is_taken_where_a_box_table_is(boxes: sm.LoadResult, tmp_path: Path) -> None:
    """The box table as a DataFrame (as given, or read back from ``stats --csv``) gives the same design."""
    from scalematch.match.design import design

    from_path = sm.recommend(boxes, rule="rf")
    from_table = design(boxes.table, "resnet50")
    assert isinstance(from_path, sm.Design)
    assert from_table.recommendation.to_dict() == from_path.recommendation.to_dict()
    csv = tmp_path / "boxes.csv"
    assert CliRunner().invoke(app, ["stats", "-q", "--csv", str(csv)]).exit_code == 0
    import pandas as pd

    frame = pd.read_csv(csv)[["x", "y", "w", "h", "image_w", "image_h", "category", "iscrowd"]]
    again = sm.recommend(frame, rule="rf", resize="shortest-edge:800,1333")
    assert isinstance(again, sm.Design)
    assert again.recommendation.to_dict() == from_path.recommendation.to_dict()
    detector = sm.recommend(boxes.table, "retinanet")
    assert isinstance(detector, sm.DetectorResult)
    assert detector.summary == sm.recommend(boxes, "retinanet").summary  # type: ignore[union-attr]
    with pytest.raises(OptionError) as missing:
        sm.recommend(frame.drop(columns=["w"]), rule="rf")
    assert str(missing.value).startswith("annotations: the DataFrame has no w column")


def test_reprs_are_one_short_line(boxes: sm.LoadResult) -> None:
    results = [boxes, sm.recommend(boxes, "fcos"), sm.recommend(boxes, rule="rf"), sm.profile_model("resnet18")]
    for result in results:
        text = repr(result)
        assert "\n" not in text and len(text) < 200, text
    assert repr(results[3]).startswith("<Profile resnet18: ") and repr(results[3]).endswith(
        "outputs C1, C2, C3, C4, C5>"
    )
    assert repr(results[2]).startswith("<Design resnet50 + fpn at shortest-edge:800,1333, rule rf: use P2, P3, P4, P5")


def test_a_table_given_back_names_its_own_scales_and_no_policy(boxes: sm.LoadResult) -> None:
    """A box table given back without resize= keeps its own scales; its results said "as given" where a policy
    goes: ``<Design resnet50 + fpn at as given, ...>``, and the JSON's ``resize`` held that phrase, which is no
    policy. They name the table's own scales in words and hold None (JSON null) as the policy."""
    from scalematch.report.recommend_text import sweep_table
    from scalematch.report.stats_text import render

    table = boxes.to_frame()
    data = sm.from_frame(table)
    assert data.resize is None and data.to_dict()["resize"] is None
    assert repr(data) == (
        "<LoadResult DataFrame: 839 boxes in 100 images, 70 categories, coco, the table's own scales, "
        "0 records excluded>"
    )
    assert render(data.to_dict()).splitlines()[0] == "DataFrame (coco), the table's own scales"
    design = sm.recommend(table, rule="fpn")
    assert isinstance(design, sm.Design) and design.resize is None and design.to_dict()["resize"] is None
    assert repr(design) == (
        "<Design resnet50 + fpn at the table's own scales, rule fpn: use P2, P3, P4, P5, P6 (61.7% of 830 objects, "
        "target 99% missed)>"
    )
    swept = sm.sweep(table, rule="fpn", backbone="resnet50,resnet18")
    assert isinstance(swept, sm.RuleSweep)
    assert repr(swept) == "<RuleSweep of 2 designs: best resnet50 at the table's own scales>"
    assert [row["resize"] for row in swept.to_dict()["sweep"]] == [None, None]
    assert swept.to_frame()["resize"].tolist() == [None, None]
    assert sweep_table(list(swept.designs)).splitlines()[1].startswith("1     resnet50  the table's own scales  61.7%")
    from scalematch.report.bundle import ReportInput, build_report

    assert design.data is not None
    page = build_report(ReportInput(design.data, design))["report.html"].decode("utf-8")
    assert "resnet50 + fpn · the table&#39;s own scales · rule fpn" in page
    assert "<dt>Resize</dt><dd>the table&#39;s own scales</dd>" in page
    again = sm.recommend(table, rule="fpn", resize="shortest-edge:800,1333")
    assert isinstance(again, sm.Design) and again.to_dict()["resize"] == "shortest-edge:800,1333"
    assert again.to_dict()["levels"] == design.to_dict()["levels"]  # the same scales, now named


@pytest.mark.parametrize(
    ("kwargs", "library", "cli_args", "cli"),
    [
        (
            {"rule": "rf", "min_positives": 3},
            "min_positives: applies to a detector's assigner (drop rule=)",
            ["--rule", "rf", "--min-positives", "3"],
            "--min-positives: applies to a detector's assigner (drop --rule)",
        ),
        (
            {"rule": "fpn", "erf_factor": 2.0},
            "erf_factor: applies to rule=rf, not to rule=fpn",
            ["--rule", "fpn", "--erf-factor", "2"],
            "--erf-factor: applies to --rule rf, not to --rule fpn",
        ),
        (
            {"resize": "fixed:0x3"},
            "resize: expected one of",
            ["--resize", "fixed:0x3"],
            "--resize: expected one of",
        ),
        (
            {"detector": "fcos", "rule": "rf"},
            "detector= and rule= are two modes: give one",
            ["--detector", "fcos", "--rule", "rf"],
            "--detector and --rule are two modes: give one",
        ),
    ],
)
def test_errors_name_parameters_and_the_cli_its_flags(
    kwargs: dict[str, object], library: str, cli_args: list[str], cli: str
) -> None:
    with pytest.raises(OptionError) as caught:
        sm.recommend(None, **kwargs)  # type: ignore[arg-type]
    assert str(caught.value).startswith(library)
    result = CliRunner().invoke(app, ["recommend", "-q", *cli_args])
    assert result.exit_code == 2 and result.stderr.startswith(f"Error: {cli}")


def test_missing_extra_is_one_error_naming_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    model = tmp_path / "model.onnx"
    model.write_bytes(b"not read")
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(MissingExtraError, match=r"install scalematch\[onnx\]"):
        sm.profile_model(str(model))
    from scalematch.profile.importers.onnx import load_onnx

    with pytest.raises(MissingExtraError, match=r"install scalematch\[onnx\]"):
        load_onnx(model)
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(MissingExtraError, match=r"install scalematch\[torch\]"):
        sm.profile_model("torchvision.models:resnet18")
    with pytest.raises(MissingExtraError, match=r"install scalematch\[torch\]"):
        sm.measure_erf("resnet18")


def test_import_is_lazy_and_every_name_resolves() -> None:
    code = (
        "import sys, scalematch\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'numpy', 'matplotlib', 'typer'})\n"
        "print(heavy)\n"
        "print(all(getattr(scalematch, name) is not None for name in scalematch.__all__))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[:2] == ["[]", "True"]
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        sm.nope  # noqa: B018


def test_to_frame_is_a_copy() -> None:
    """Changing the DataFrame a notebook gets does not change the result it came from."""
    boxes = sm.read_annotations(sm.sample_path())
    frame = boxes.to_frame()
    before = boxes.table["w"].to_numpy().copy()
    frame["w"] = 0.0
    frame.loc[frame.index[0], "h"] = -1.0
    assert (boxes.table["w"].to_numpy() == before).all()
    assert boxes.table["h"].iloc[0] != -1.0


@pytest.mark.parametrize("mode", [{"rule": "rf"}, {"detector": "retinanet"}])
@pytest.mark.parametrize(
    ("param", "several"),
    [
        ("backbone", "resnet18,resnet50"),
        ("backbone", ["resnet18", "resnet50"]),
        ("backbone", ("resnet50", "resnet18")),
        ("resize", "shortest-edge:600,1000;shortest-edge:800,1333"),
        ("resize", ["shortest-edge:600,1000", "shortest-edge:800,1333"]),
        ("resize", ("shortest-edge:800,1333", "shortest-edge:600,1000")),
    ],
)
def test_recommend_refuses_several_backbones_or_policies_in_any_form(
    boxes: sm.LoadResult, mode: dict[str, str], param: str, several: object
) -> None:
    """recommend() computes one design: several backbones or policies, as a text list or as a list or tuple, are
    one typed error pointing to sweep(), never a sweep whose first or best design comes back alone; a text list of
    backbones says that ',' separates them (no file has that name)."""
    note = r" \(',' separates backbones in 'resnet18,resnet50', and no file has that whole name\)"
    note = note if param == "backbone" and isinstance(several, str) else ""
    with pytest.raises(OptionError, match=rf"^{param}: recommend\(\) takes one{note}; sweep\(\) takes several$"):
        sm.recommend(boxes, **mode, **{param: several})  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", [{"rule": "rf"}, {"detector": "retinanet"}])
def test_recommend_takes_a_list_of_one_as_that_one(boxes: sm.LoadResult, mode: dict[str, str]) -> None:
    one = {"backbone": "resnet18", "resize": "shortest-edge:600,1000"}
    listed = {"backbone": ["resnet18"], "resize": ("shortest-edge:600,1000",)}
    assert (
        sm.recommend(boxes, **mode, **listed).to_dict()  # type: ignore[arg-type]
        == sm.recommend(boxes, **mode, **one).to_dict()  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("side", [float("nan"), 0.0, -5.0, 1e30])
def test_an_image_of_no_usable_size_in_a_table_with_its_own_scales_is_missing_its_size(
    boxes: sm.LoadResult, side: float
) -> None:
    """A table that brings its own scales passed from_frame with an image_w of NaN, 0, -5 or 1e30; a detector (whose
    resize needs every image's size) counted it image_too_small, with numpy's cast warning and -2^63 sizes in its
    message (review round 42, A-F10): it is missing_image_size, as a file reader counts it, and nothing warns."""
    import warnings

    table = boxes.to_frame()
    first = table["image_id"] == table["image_id"].iloc[0]
    table.loc[first, "image_w"] = side
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        whole = sm.recommend(boxes, "retinanet")
        result = sm.recommend(sm.from_frame(table), "retinanet")
    assert isinstance(result, DetectorResult) and isinstance(whole, DetectorResult)
    assert result.excluded.get("missing_image_size") == int(first.sum()) > 0
    assert "image_too_small" not in result.excluded
    assert result.summary.objects == whole.summary.objects - int(first.sum())
    with pytest.raises(sm.ScalematchError, match=r"image \d+ has no usable width/height .* \[missing_image_size\]$"):
        sm.recommend(sm.from_frame(table), "retinanet", strict=True)


def test_an_image_of_more_objects_than_a_max_iou_simulation_takes_is_refused(
    boxes: sm.LoadResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One image of 20,000 boxes took 4 minutes under RetinaNet's assigner, 200,000 hours (review round 43, E-F2):
    an image over MAX_OBJECTS_PER_IMAGE is an error naming it for the max-IoU presets; FCOS takes it."""
    from scalematch.match import detector

    counts = boxes.table.groupby("image_id").size()
    monkeypatch.setattr(detector, "MAX_OBJECTS_PER_IMAGE", int(counts.max()) - 1)
    with pytest.raises(sm.ScalematchError) as caught:
        sm.recommend(boxes, "retinanet")
    assert str(caught.value).startswith(
        f"{boxes.source}: image {counts.idxmax()} holds {counts.max()} objects; retinanet's max-IoU assigner is "
        f"simulated for at most {counts.max() - 1} in one image"
    )
    assert isinstance(sm.recommend(boxes, "fcos"), DetectorResult)
