"""``scalematch recommend``: bundled-sample golden output (with invariants), exports, sweep and bad options."""

from __future__ import annotations

import ast
import json
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
import yaml
from required import need
from typer.testing import CliRunner

from scalematch.cli.main import app
from scalematch.dataset import sample_path


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_bundled_sample_text(golden: Callable[[str, str], None]) -> None:
    text = run("recommend", "--quiet", "--rule", "rf")
    golden("recommend_sample.txt", text)
    assert text.startswith("coco_val2014_100.json: 830 objects, resnet50 + fpn, resize shortest-edge:800,1333, rule rf")


def test_bundled_sample_json(golden: Callable[[str, str], None]) -> None:
    text = run("recommend", "--quiet", "--json", "--rule", "fcos", "--neck", "fpn-fcos")
    golden("recommend_sample_fcos.json", text)
    doc = json.loads(text)
    assert set(doc) >= {"rule", "backbone", "neck", "resize", "levels", "too_small", "too_large",
                        "too_small_fraction", "too_large_fraction", "coverage", "recommended_levels", "anchors",
                        "ranges", "input_advice", "excluded"}  # fmt: skip
    counts = [lv["count"] for lv in doc["levels"]]
    assert sum(counts) + doc["too_small"] + doc["too_large"] == doc["objects"] == 830  # 839 minus 9 crowd
    assert math.isclose(sum(lv["fraction"] for lv in doc["levels"]) + doc["too_small_fraction"]
                        + doc["too_large_fraction"], 1.0, abs_tol=1e-5)  # fmt: skip
    assert [lv["name"] for lv in doc["levels"]] == ["P3", "P4", "P5", "P6", "P7"]
    assert [lv["stride"] for lv in doc["levels"]] == [8, 16, 32, 64, 128]
    assert set(doc["recommended_levels"]) <= {lv["name"] for lv in doc["levels"]}
    # FCOS keeps the toolkit's ranges on the levels it recommends
    edges = {"P3": [0, 64], "P4": [64, 128], "P5": [128, 256], "P6": [256, 512], "P7": [512, None]}
    assert doc["ranges"] == {name: edges[name] for name in doc["recommended_levels"]}
    assert doc["anchors"]["fitted_mean_iou"] >= doc["anchors"]["default_mean_iou"]


def test_exports_parse_and_carry_the_recommended_anchors(tmp_path: Path) -> None:
    doc = json.loads(run("recommend", "-q", "--json", "--rule", "yolo", "--neck", "pan"))
    fitted = doc["anchors"]["recommended"]  # the defaults here: the fitted anchors do not raise BPR
    assert list(fitted) == ["P3", "P4", "P5"]
    mm, d2, ul = tmp_path / "mm.py", tmp_path / "d2.yaml", tmp_path / "ul.yaml"
    run("recommend", "-q", "--rule", "yolo", "--neck", "pan", "--export", "mmdet", str(mm))
    run("recommend", "-q", "--rule", "yolo", "--neck", "pan", "--export", "detectron2", str(d2))
    run("recommend", "-q", "--rule", "yolo", "--neck", "pan", "--export", "ultralytics", str(ul))
    namespace: dict[str, object] = {}
    exec(compile(ast.parse(mm.read_text()), str(mm), "exec"), {"dict": dict}, namespace)
    gen = namespace["anchor_generator"]
    assert isinstance(gen, dict) and gen["strides"] == [8, 16, 32]
    for level, shapes in zip(fitted.values(), gen["base_sizes"], strict=True):
        assert len(level) == len(shapes)
        for (w, h), (ew, eh) in zip(level, shapes, strict=True):  # JSON keeps 2 decimals, the export 6 digits
            assert abs(w - ew) <= 0.0051 and abs(h - eh) <= 0.0051
    d2cfg = yaml.safe_load(d2.read_text())["MODEL"]
    assert d2cfg["RPN"]["IN_FEATURES"] == ["p3", "p4", "p5"]
    assert len(d2cfg["ANCHOR_GENERATOR"]["SIZES"]) == 3
    per_level = len(d2cfg["ANCHOR_GENERATOR"]["SIZES"][0])  # crossed with as many ratios: the count is said
    assert f"({per_level} sizes x {per_level} ratios = {per_level**2} anchors per location)" in d2.read_text()
    rows = yaml.safe_load(ul.read_text())["anchors"]
    assert [[v for wh in level for v in wh] for level in fitted.values()] == [
        pytest.approx(row, abs=0.0051) for row in rows
    ]  # the floats, not rounded to whole pixels


def test_a_neckless_rule_export_names_detectron2s_resnet_features(tmp_path: Path) -> None:
    """Without a neck the levels are backbone stages C<k>; detectron2's ResNet calls its outputs res2-res5."""
    doc = json.loads(run("recommend", "-q", "--json", "--rule", "rf", "--neck", "none"))
    d2 = tmp_path / "d2.yaml"
    run("recommend", "-q", "--rule", "rf", "--neck", "none", "--export", "detectron2", str(d2))
    features = yaml.safe_load(d2.read_text())["MODEL"]["RPN"]["IN_FEATURES"]
    assert doc["recommended_levels"] and all(name.startswith("C") for name in doc["recommended_levels"])
    assert features == [f"res{name[1:]}" for name in doc["recommended_levels"]]
    assert set(features) <= {"res2", "res3", "res4", "res5"}


def test_a_detectron2_export_of_stages_and_neck_levels_together_is_refused(tmp_path: Path) -> None:
    """--levels P4,C3 wrote IN_FEATURES ["res3", "p4"], which no detectron2 backbone gives together (an FPN's
    outputs are its p<k>): refused before anything is written (review round 44)."""
    d2 = tmp_path / "d2.yaml"
    result = CliRunner().invoke(
        app, ["recommend", "-q", "--rule", "fpn", "--levels", "P4,C3", "--export", "detectron2", str(d2)]
    )
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "Error: --export detectron2: the levels C3, P4 mix the backbone's stages (C) and the neck's levels (P), but "
        "detectron2's RPN reads the outputs of one backbone (res<k> of a ResNet, or p<k> of its FPN); give --levels "
        "of one kind"
    ]
    assert not d2.exists()


def test_a_detectron2_export_of_a_level_detectron2_has_no_output_for_is_refused(tmp_path: Path) -> None:
    """--levels C1,C2 wrote IN_FEATURES ["res1", "res2"]: detectron2's ResNet has no res1 (its stem, max-pool
    included, has stride 4), so the config failed to build (review round 46, C12)."""
    d2 = tmp_path / "d2.yaml"
    argv = ["recommend", "-q", "--rule", "rf", "--neck", "none", "--levels", "C1,C2", "--export", "detectron2", str(d2)]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 2 and not d2.exists()
    assert result.stderr == (
        "Error: --export detectron2: the level C1 has no detectron2 counterpart (its ResNet gives res2-res5, its FPN "
        "p2-p7); give --levels among C2-C5 or P2-P7\n"
    )


def test_a_three_level_rule_export_builds_a_yolov5_model(tmp_path: Path) -> None:
    """Rule rf's fitted anchors (9 per level) as an ultralytics block: yolov5's own builder takes them."""
    need("yolov5.models.yolo")
    import yolov5
    from yolov5.models.yolo import Model

    ul = tmp_path / "ul.yaml"
    run("recommend", "-q", "--rule", "rf", "--levels", "P3,P4,P5", "--export", "ultralytics", str(ul))
    anchors = yaml.safe_load(ul.read_text())["anchors"]
    assert len(anchors) == 3 and all(len(row) == 18 for row in anchors)
    cfg = yaml.safe_load((Path(yolov5.__file__).parent / "models" / "yolov5s.yaml").read_text())
    detect = Model({**cfg, "anchors": anchors}).model[-1]
    built = (detect.anchors * detect.stride.view(-1, 1, 1)).tolist()
    assert built == [[pytest.approx([row[i], row[i + 1]]) for i in range(0, 18, 2)] for row in anchors]


def test_one_level_exports_keep_their_sequence_types(tmp_path: Path) -> None:
    """A recommendation of one level: mmdetection reads a tuple of (min, max) pairs, not one flat pair; the
    detectron2 YAML keeps a list per level; ultralytics, whose YOLOv5 head has three levels, is refused."""
    box = "<bndbox><xmin>10</xmin><ymin>20</ymin><xmax>50</xmax><ymax>80</ymax></bndbox>"
    size = "<size><width>640</width><height>480</height><depth>3</depth></size>"
    voc = tmp_path / "voc"
    voc.mkdir()
    for k in (1, 2):
        (voc / f"{k}.xml").write_text(f"<annotation><filename>{k}.jpg</filename>{size}<object><name>dog</name>"
                                      f"{box}</object></annotation>")  # fmt: skip
    doc = json.loads(run("recommend", "-q", "--json", "--rule", "rf", str(voc)))
    assert len(doc["recommended_levels"]) == 1
    mm, d2, ul = tmp_path / "mm.py", tmp_path / "d2.yaml", tmp_path / "ul.yaml"
    for toolkit, out in (("mmdet", mm), ("detectron2", d2)):
        run("recommend", "-q", "--rule", "rf", "--export", toolkit, str(out), str(voc))
    refused = CliRunner().invoke(app, ["recommend", "-q", "--rule", "rf", "--export", "ultralytics", str(ul), str(voc)])
    assert (refused.exit_code, refused.stdout, refused.stderr) == (2, "", (
        "Error: --export ultralytics: writes the anchors of a three-level YOLOv5 head; the recommendation has 1 "
        f"level ({doc['recommended_levels'][0]}), so the block would build no such head (--export mmdet or "
        "detectron2 take any number)\n"))  # fmt: skip
    assert not ul.exists()
    pytest.importorskip("mmengine")
    from mmengine.config import Config

    ranges = Config.fromfile(str(mm)).regress_ranges
    assert isinstance(ranges, tuple) and len(ranges) == 1
    assert isinstance(ranges[0], tuple) and ranges[0] == (-1, 1e8)
    assert len(Config.fromfile(str(mm)).anchor_generator.base_sizes) == 1
    d2cfg = yaml.safe_load(d2.read_text())["MODEL"]["ANCHOR_GENERATOR"]
    assert all(isinstance(level, list) for level in d2cfg["SIZES"] + d2cfg["ASPECT_RATIOS"])


def test_sweep_ranks_designs() -> None:
    doc = json.loads(run("recommend", "-q", "--json", "--backbone", "resnet50,resnet18", "--rule", "fcos",
                         "--neck", "fpn-fcos", "--resize", "shortest-edge:800,1333;shortest-edge:512,853"))  # fmt: skip
    sweep = doc["sweep"]
    assert len(sweep) == 4
    assert {(r["backbone"], r["resize"]) for r in sweep} == {
        (b, r) for b in ("resnet50", "resnet18") for r in ("shortest-edge:800,1333", "shortest-edge:512,853")
    }
    keys = [(not r["target_reached"], -r["coverage"], len(r["levels"]), r["anchors"], r["input_pixels"]) for r in sweep]
    assert keys == sorted(keys)
    assert (doc["backbone"], doc["resize"]) == (sweep[0]["backbone"], sweep[0]["resize"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--backbone", "resnet9"],
            "--backbone: unknown backbone 'resnet9'; expected a YAML or .onnx path, a torch 'module:attribute', or "
            "one of: convnext_tiny, cspdarknet, darknet53, efficientnet_b0, mobilenet_v1, mobilenet_v2, "
            "mobilenet_v3_large, regnetx_400mf, resnet18, resnet34, resnet50, resnet50-caffe, resnet50-tfslim, "
            "resnet101, resnet152, resnext50_32x4d, seed-resnet50, vgg16, vgg16-ssd",
        ),
        (
            ["--neck", "bifpn"],
            "--neck: unknown neck 'bifpn'; expected a YAML path or one of: fpn, fpn-fcos, fpn-retinanet, pan, ssd",
        ),
        (
            ["--levels", "P3,P9"],
            "--levels: unknown level 'P9'; expected names from: C1, C2, C3, C4, C5, P2, P3, P4, P5, P6",
        ),
        (["--coverage", "0"], "--coverage: expected a share from 0.001 to 1 (0.1% to 100%), got 0.0"),
        (["--coverage", "1.5"], "--coverage: expected a share from 0.001 to 1 (0.1% to 100%), got 1.5"),
        (
            ["--rule", "yolo"],
            "--rule yolo: YOLOv5 default anchors exist for strides 8, 16, 32 only; levels P2 (4), P6 (64) have "
            "none (pick --levels with those strides, e.g. --neck pan or --levels P3,P4,P5)",
        ),
        (
            ["--rule", "fpn", "--levels", "P3,P5"],
            "--rule fpn: expected levels with strides 2^k, k consecutive; got P3 (8), P5 (32)",
        ),
        (["--anchors-per-level", "0"], "--anchors-per-level: expected an integer from 1 to 64, got 0"),
        (
            ["--backbone", "resnet18,resnet9"],
            "--backbone: unknown backbone 'resnet9'; expected a YAML or .onnx path, a torch 'module:attribute', or "
            "one of: convnext_tiny, cspdarknet, darknet53, efficientnet_b0, mobilenet_v1, mobilenet_v2, "
            "mobilenet_v3_large, regnetx_400mf, resnet18, resnet34, resnet50, resnet50-caffe, resnet50-tfslim, "
            "resnet101, resnet152, resnext50_32x4d, seed-resnet50, vgg16, vgg16-ssd (',' separates backbones in "
            "'resnet18,resnet9', and no file has that whole name)",
        ),
    ],
)
def test_bad_options(args: list[str], message: str) -> None:
    rule = [] if "--rule" in args else ["--rule", "rf"]
    result = CliRunner().invoke(app, ["recommend", "-q", *rule, *args])
    assert result.exit_code == 2
    assert result.stderr == f"Error: {message}\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--detector", "yolov5", "--neck", "none"],
            "--neck: preset yolov5's levels P3, P4, P5 are not outputs of cspdarknet (no neck): C1, C2, C3, C4, C5; "
            "keep a network that gives them, or write a preset file with levels among those (see "
            "docs/reference/recommend.md, Presets)",
        ),
        (
            ["--detector", "retinanet", "--neck", "nope"],
            "--neck: unknown neck 'nope'; expected a YAML path or one of: fpn, fpn-fcos, fpn-retinanet, pan, ssd",
        ),
    ],
)
def test_a_preset_with_another_network_names_the_option(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["recommend", "-q", *args])
    assert result.exit_code == 2
    assert result.stderr == f"Error: {message}\n"


def test_json_rule_details_and_per_category() -> None:
    fpn = json.loads(run("recommend", "-q", "--json", "--rule", "fpn"))
    clamped = fpn["rule_detail"]["clamped_counts"]
    levels = {lv["name"]: lv["count"] for lv in fpn["levels"]}
    # clamping moves the too-small objects into the finest level and the too-large into the coarsest
    assert clamped["P2"] == levels["P2"] + fpn["too_small"]
    assert clamped["P6"] == levels["P6"] + fpn["too_large"]
    assert sum(clamped.values()) == fpn["objects"]
    per_cat = {row["category"]: row["counts"] for row in fpn["per_category"]}
    assert sum(sum(c.values()) for c in per_cat.values()) == fpn["objects"]
    assert sum(c["P3"] for c in per_cat.values()) == levels["P3"]
    anchors = json.loads(run("recommend", "-q", "--json", "--rule", "anchors", "--neck", "fpn-retinanet"))
    detail = anchors["rule_detail"]
    positive = sum(lv["count"] for lv in anchors["levels"])
    assert detail["share_iou_positive"] == pytest.approx(positive / anchors["objects"], abs=1e-6)
    assert detail["best_iou"]["min"] <= detail["best_iou"]["q50"] <= detail["best_iou"]["max"] <= 1
    yolo = json.loads(run("recommend", "-q", "--json", "--rule", "yolo", "--neck", "pan"))
    assert yolo["rule_detail"]["bpr"] == pytest.approx(1 - yolo["too_small_fraction"] - yolo["too_large_fraction"])


def test_sweep_text_table_follows_the_json_ranking() -> None:
    args = ["recommend", "-q", "--backbone", "resnet50,resnet18", "--rule", "fcos", "--neck", "fpn-fcos"]
    ranking = json.loads(run(*args, "--json"))["sweep"]
    lines = run(*args).splitlines()
    assert lines[0].split() == ["rank", "backbone", "resize", "coverage", "levels", "anchors", "input", "MP"]
    rows = [line.split() for line in lines[1:3]]
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (str(k), d["backbone"], d["resize"]) for k, d in enumerate(ranking, 1)
    ]
    assert [r[3] for r in rows] == [f"{100 * d['coverage']:.1f}%" for d in ranking]
    assert lines[4] == f"Best: {ranking[0]['backbone']} at {ranking[0]['resize']}"


def test_quiet_hides_the_progress_bar_only(tmp_path: Path) -> None:
    """--quiet drops the progress bar (never drawn off a terminal) and nothing else, as the docs say: the same
    results on stdout, the same 'wrote' line and errors on stderr."""
    runs = []
    for quiet in ([], ["--quiet"]):
        out = tmp_path / f"r{len(quiet)}"
        result = CliRunner().invoke(app, ["recommend", *quiet, "--rule", "rf", "--json", "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert result.stderr == f"wrote {out / 'report.html'}\n"
        bad = CliRunner().invoke(app, ["stats", *quiet, "--strict", str(tmp_path / "missing.json")])
        runs.append((json.loads(result.stdout), bad.exit_code, bad.stderr))
    assert runs[0] == runs[1]
    assert runs[0][1:] == (2, f"Error: {tmp_path / 'missing.json'}: no such file or folder\n")


def _boxes_file(path: Path, boxes: Sequence[tuple[float, float]], side: int = 1000) -> Path:
    images = [{"id": 1, "width": side, "height": side, "file_name": "a.jpg"}]
    annotations = [{"id": k + 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, w, h], "area": w * h,
                    "iscrowd": 0} for k, (w, h) in enumerate(boxes)]  # fmt: skip
    path.write_text(json.dumps({"images": images, "annotations": annotations,
                                "categories": [{"id": 1, "name": "thing"}]}))  # fmt: skip
    return path


def test_rule_exports_with_fewer_distinct_boxes_than_anchors_build_in_each_toolkit(tmp_path: Path) -> None:
    """3 distinct box shapes, 2 anchors per level on 3 levels: every level still holds 2 anchors (shapes repeat),
    so yolov5's model builder, torchvision's AnchorGenerator (detectron2's crossing of sizes and ratios) and
    mmdetection's YOLOAnchorGenerator all build the file, with the same number of anchors on every level."""
    need("yolov5.models.yolo")
    need("torchvision")
    need("mmengine")
    import yolov5
    from mmengine.config import Config
    from torchvision.models.detection.anchor_utils import AnchorGenerator
    from yolov5.models.yolo import Model

    src = _boxes_file(tmp_path / "three.json", [(12, 12)] * 5 + [(60, 30)] * 5 + [(250, 250)] * 5)
    args = ["recommend", "-q", "--rule", "anchors", "--anchors-per-level", "2", "--levels", "P3,P4,P5", str(src)]
    doc = json.loads(run(*args, "--json"))
    assert doc["anchors"]["per_level"] == 2
    assert [len(level) for level in doc["anchors"]["fitted"].values()] == [2] * len(doc["recommended_levels"])
    mm, d2, ul = tmp_path / "mm.py", tmp_path / "d2.yaml", tmp_path / "ul.yaml"
    for toolkit, out in (("mmdet", mm), ("detectron2", d2), ("ultralytics", ul)):
        run(*args, "--export", toolkit, str(out))
    rows = yaml.safe_load(ul.read_text())["anchors"]
    cfg = yaml.safe_load((Path(yolov5.__file__).parent / "models" / "yolov5s.yaml").read_text())
    detect = Model({**cfg, "anchors": rows}).model[-1]
    assert detect.anchors.shape == (3, 2, 2)
    gen = yaml.safe_load(d2.read_text())["MODEL"]["ANCHOR_GENERATOR"]
    generator = AnchorGenerator(tuple(tuple(s) for s in gen["SIZES"]), tuple(tuple(r) for r in gen["ASPECT_RATIOS"]))
    assert generator.num_anchors_per_location() == [4, 4, 4]
    sys.path.insert(0, str(Path(__file__).parents[1] / "match"))
    import mmdet_ref

    mmdet_ref._load()
    from mmdet.models.task_modules.prior_generators.anchor_generator import YOLOAnchorGenerator

    mmgen = dict(Config.fromfile(str(mm)).anchor_generator)
    mmgen.pop("type")
    assert YOLOAnchorGenerator(**mmgen).num_base_priors == [2, 2, 2]


@pytest.mark.parametrize("per_level", [None, "2", "9"])
def test_fewer_distinct_boxes_than_anchors_give_those_shapes_only(tmp_path: Path, per_level: str | None) -> None:
    """At any count, the default one too (9, RetinaNet's): the fitted anchors are the 3 box shapes, repeated in
    order of area, never toolkit defaults that no box chose; the text says they repeat."""
    src = _boxes_file(tmp_path / "three.json", [(12, 12)] * 5 + [(60, 30)] * 5 + [(250, 250)] * 5)
    args = ["recommend", "-q", "--rule", "anchors", "--levels", "P3,P4,P5", "--resize", "none", str(src)]
    args += ["--anchors-per-level", per_level] if per_level else []
    doc = json.loads(run(*args, "--json"))
    shapes = [tuple(s) for level in doc["anchors"]["fitted"].values() for s in level]
    k = int(per_level or 9)
    assert len(shapes) == 3 * k
    assert shapes == sorted(shapes, key=lambda s: s[0] * s[1])
    assert set(shapes) == {(12.0, 12.0), (60.0, 30.0), (250.0, 250.0)}
    assert f"the boxes have 3 distinct shapes, repeated so that every level holds {k}" in run(*args)


def test_rule_exports_never_write_a_zero_anchor_side_or_ratio(tmp_path: Path) -> None:
    """Boxes a fraction of a pixel thin: the fitted sides and ratios are written with their digits, never as 0."""
    src = _boxes_file(tmp_path / "thin.json", [(999, 0.2), (900, 0.3), (50, 50), (0.3, 0.2)])
    d2, mm = tmp_path / "d2.yaml", tmp_path / "mm.py"
    run("recommend", "-q", "--rule", "anchors", "--export", "detectron2", str(d2), str(src))
    run("recommend", "-q", "--rule", "anchors", "--export", "mmdet", str(mm), str(src))
    gen = yaml.safe_load(d2.read_text())["MODEL"]["ANCHOR_GENERATOR"]
    values = [v for level in gen["SIZES"] + gen["ASPECT_RATIOS"] for v in level]
    assert values and min(values) > 0
    namespace: dict[str, object] = {}
    exec(compile(ast.parse(mm.read_text()), str(mm), "exec"), {"dict": dict}, namespace)
    base = namespace["anchor_generator"]
    assert isinstance(base, dict)
    assert min(v for level in base["base_sizes"] for wh in level for v in wh) > 0


def test_a_sweep_export_names_the_design_its_anchors_were_fitted_at(tmp_path: Path) -> None:
    """After a backbone x resize sweep the pixel sizes belong to the best design: the export's header says which."""
    args = ["recommend", "-q", "--rule", "rf", "--backbone", "resnet18,resnet50", "--resize",
            "shortest-edge:800,1333;longest-edge:640"]  # fmt: skip
    doc = json.loads(run(*args, "--json"))
    best = doc  # the best design's document
    out = tmp_path / "sweep.py"
    run(*args, "--export", "mmdet", str(out))
    neck = f" + {best['neck']}" if best.get("neck") else ""
    assert f"# Design: {best['backbone']}{neck} at resize {best['resize']} (sizes in input pixels" in out.read_text()


def test_a_report_of_several_inputs_lists_each_file_with_its_sha256(tmp_path: Path) -> None:
    import hashlib
    import html

    coco = json.loads(sample_path().read_text())
    halves = []
    for k in (0, 1):
        images = coco["images"][k::2]
        ids = {i["id"] for i in images}
        part = {**coco, "images": images, "annotations": [a for a in coco["annotations"] if a["image_id"] in ids]}
        halves.append(tmp_path / f"p{k}.json")
        halves[-1].write_text(json.dumps(part))
    out = tmp_path / "report"
    run("recommend", "-q", str(tmp_path / "p[01].json"), "--out", str(out))
    page = html.unescape((out / "report.html").read_text(encoding="utf-8"))
    for path in halves:
        assert f"{path}: <code>{hashlib.sha256(path.read_bytes()).hexdigest()}</code>" in page
    assert f"<dd>{tmp_path / 'p[01].json'} (2 files)</dd>" in page


def test_the_default_anchor_count_typed_gives_what_the_default_gives(tmp_path: Path) -> None:
    """A one-object dataset runs with the default 9 anchors per level (the one shape repeated); typing
    --anchors-per-level 9 was refused as more than the objects (1). Any count up to 64 now repeats alike."""
    image = {"id": 1, "file_name": "a.jpg", "width": 800, "height": 800}
    box = {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 83, 100], "area": 8300, "iscrowd": 0}
    path = tmp_path / "one.json"
    doc = {"images": [image], "annotations": [box], "categories": [{"id": 1, "name": "a"}]}
    path.write_text(json.dumps(doc), encoding="utf-8")
    default = json.loads(run("recommend", str(path), "-q", "--rule", "rf", "--json"))
    typed = json.loads(run("recommend", str(path), "-q", "--rule", "rf", "--json", "--anchors-per-level", "9"))
    assert typed == default and default["anchors"]["per_level"] == 9
    most = json.loads(run("recommend", str(path), "-q", "--rule", "rf", "--json", "--anchors-per-level", "64"))
    assert {level: len(shapes) for level, shapes in most["anchors"]["fitted"].items()} == {"P5": 64}
    assert {tuple(s) for shapes in most["anchors"]["fitted"].values() for s in shapes} == {(83.0, 100.0)}


def test_rule_mode_leaves_out_the_images_too_small_for_the_network(tmp_path: Path) -> None:
    """An unpadded 400 x 400 conv needs inputs of 400 px or more: with --resize none the 300 x 300 image's three
    objects are left out as image_too_small (as detector mode counts them), the others kept; a network no input
    of the dataset can run is an error, where rule mode recommended it with 'Input size is enough'."""
    config = tmp_path / "k.yaml"
    config.write_text(
        "name: k400\nnodes:\n  - {name: a, type: conv, kernel: 400, stride: 8}\n"
        "  - {name: b, type: conv, kernel: 3, stride: 2, padding: 1}\noutputs: {C3: a, C4: b}\n",
        encoding="utf-8",
    )
    sizes = {1: (600, 600), 2: (300, 300), 3: (640, 480)}
    images = [{"id": i, "file_name": f"{i}.jpg", "width": w, "height": h} for i, (w, h) in sizes.items()]
    owners = [1, 1, 2, 2, 2, 3]
    anns = [
        {"id": k + 1, "image_id": i, "category_id": 1, "bbox": [10, 10, 40 + k, 40], "area": 1600, "iscrowd": 0}
        for k, i in enumerate(owners)
    ]
    data = tmp_path / "d.json"
    data.write_text(json.dumps({"images": images, "annotations": anns, "categories": [{"id": 1, "name": "a"}]}))
    args = ["recommend", str(data), "-q", "--rule", "rf", "--backbone", str(config), "--neck", "none", "--json"]
    doc = json.loads(run(*args, "--resize", "none"))
    small = sum(min(sizes[i]) < 400 for i in owners)  # the network's one limit: 400 px on each side
    assert doc["excluded"] == {"image_too_small": small} and doc["objects"] == len(owners) - small == 3
    result = CliRunner().invoke(app, [*args, "--resize", "fixed:320x320"])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"Error: {data}: every image becomes too small an input for the network; the")
    assert "smaller than the kernel's 400" in result.stderr and result.stderr.count("\n") == 1


def test_vgg16_fpn_rule_mode_reads_every_object_of_the_bundled_sample(tmp_path: Path) -> None:
    """VGG's floor pooling makes a 1067-px side 133 units at C3 and 66 at C4; the FPN up-samples 66 to the
    lateral's 133, as torchvision's and mmdetection's ``interpolate(size=...)`` do. Rule mode counted 804 of the
    830 objects as image_too_small and recommended from the other 35 (review round 29 F1); every object is read
    now, under both FPN rules, while an image that really is too small (16777216x1 px: a 1333x0 input) is still
    left out, and named by --strict."""
    for rule in ("rf", "fpn"):
        doc = json.loads(run("recommend", "-q", "--json", "--rule", rule, "--backbone", "vgg16", "--neck", "fpn"))
        assert doc["objects"] == 830 and doc["excluded"] == {}, rule
        assert sum(lv["count"] for lv in doc["levels"]) + doc["too_small"] + doc["too_large"] == 830
    coco = json.loads(sample_path().read_text())
    coco["images"].append({"id": 999999, "file_name": "thin.jpg", "width": 16777216, "height": 1})
    coco["annotations"].append({"id": 999999, "image_id": 999999, "category_id": 1, "bbox": [0, 0, 50, 1],
                                "area": 50, "iscrowd": 0})  # fmt: skip
    src = tmp_path / "thin.json"
    src.write_text(json.dumps(coco), encoding="utf-8")
    args = ["recommend", str(src), "-q", "--rule", "rf", "--backbone", "vgg16", "--neck", "fpn"]
    doc = json.loads(run(*args, "--json"))
    assert doc["objects"] == 830 and doc["excluded"] == {"image_too_small": 1}
    result = CliRunner().invoke(app, [*args, "--strict"])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == (
        f"Error: {src}: image 999999 (thin.jpg, 16777216x1 px) becomes a 1333x0 input under resize "
        "shortest-edge:800,1333, too small for vgg16: its y input is 0 units, smaller than the kernel's 3 (the input "
        "size is too small for this network) [image_too_small]\n"
    )


def test_every_image_too_small_names_the_first_image_in_both_modes(tmp_path: Path) -> None:
    """Detector mode named the first image (in table order) of a dataset that every image makes too small an input;
    rule mode named only the network and the smallest input size ("the first: k.yaml + built-in neck 'fpn': at input
    1202x800 (WxH): ..."), not which image. Both now describe the image the same way, each under its own resize
    (rule mode's input is unpadded: 1333x800 where the detector pads to 1344x800)."""
    config = tmp_path / "k.yaml"
    config.write_text(
        "nodes:\n  - {name: a, type: conv, kernel: 1024, stride: 8}\n"
        "  - {name: b, type: conv, kernel: 3, stride: 2, padding: 1, input: a}\n"
        "  - {name: c, type: conv, kernel: 3, stride: 2, padding: 1, input: b}\n"
        "  - {name: e, type: conv, kernel: 3, stride: 2, padding: 1, input: c}\n"
        "outputs: {C2: a, C3: b, C4: c, C5: e}\n",
        encoding="utf-8",
    )
    images = [{"id": 3, "file_name": "a.jpg", "width": 640, "height": 426},
              {"id": 5, "file_name": "b.jpg", "width": 500, "height": 300}]  # fmt: skip
    box = {"category_id": 1, "bbox": [10, 10, 40, 40], "area": 1600, "iscrowd": 0}
    anns = [{"id": 1, "image_id": 5, **box}, {"id": 2, "image_id": 3, **box}]  # image 5 first, the larger input
    data = tmp_path / "d.json"
    data.write_text(json.dumps({"images": images, "annotations": anns, "categories": [{"id": 1, "name": "a"}]}))
    every = f"Error: {data}: every image becomes too small an input for the network; the first: "
    every += "image 5 (b.jpg, 500x300 px)"
    kernel = (
        f"too small for {config}: its y input is 800 units, smaller than the kernel's 1024 (the input size is too "
        "small for this network)\n"
    )
    for mode, resize in (([], "1344x800 input under retinanet's resize"),
                         (["--rule", "rf"], "1333x800 input under resize shortest-edge:800,1333")):  # fmt: skip
        result = CliRunner().invoke(app, ["recommend", str(data), "-q", "--backbone", str(config), *mode])
        assert result.exit_code == 2 and result.stdout == ""
        assert result.stderr == f"{every} becomes a {resize}, {kernel}"


def test_a_crowd_only_file_is_one_error_in_both_modes(tmp_path: Path) -> None:
    """Rule mode said 'no usable object to recommend for (excluded: none)', with no reason, and raised
    DatasetError where detector mode raised OptionError for the same data. Then both said 'every record is excluded
    or crowd; excluded: none' of 2 crowd objects, no record excluded: the crowd objects are counted now."""
    import scalematch as sm
    from scalematch.errors import DatasetError

    path = tmp_path / "crowd.json"
    box = {"image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5], "iscrowd": 1}
    anns = [{"id": 1, **box}, {"id": 2, **box}]
    image = {"id": 1, "width": 10, "height": 10}
    doc = {"images": [image], "annotations": anns, "categories": [{"id": 1, "name": "a"}]}
    path.write_text(json.dumps(doc), encoding="utf-8")
    flat = tmp_path / "flat.json"  # and a record excluded (a box of width 0): counted by reason, as before
    anns.append({"id": 3, **box, "iscrowd": 0, "bbox": [0, 0, 0, 5]})
    flat.write_text(json.dumps(doc), encoding="utf-8")
    for kwargs, verb in (({}, "match"), ({"rule": "fcos"}, "recommend for")):
        with pytest.raises(DatasetError) as caught:
            sm.recommend(path, **kwargs)  # type: ignore[arg-type]
        crowd = "every record is excluded or crowd: 2 crowd, none excluded"
        assert str(caught.value) == f"{path}: no usable object to {verb} ({crowd})"
        args = ["--rule", kwargs["rule"]] if kwargs else []
        both = "every record is excluded or crowd: 2 crowd, excluded: bbox_nonpositive 1"
        for data, why in ((path, crowd), (flat, both)):
            result = CliRunner().invoke(app, ["recommend", str(data), "-q", *args])
            assert result.exit_code == 2 and result.stdout == ""
            assert result.stderr == f"Error: {data}: no usable object to {verb} ({why})\n"


def test_a_crowd_beside_objects_the_training_set_leaves_out_names_them(tmp_path: Path) -> None:
    """'1 crowd, none excluded' of a file of 2 records: the other, of an image whose boxes are all 1 px thin, was
    left out by torchvision's reference without a word in the error (review round 45, A3)."""
    path = tmp_path / "crowd.json"
    images = [{"id": 1, "width": 640, "height": 480}, {"id": 2, "width": 640, "height": 480}]
    anns = [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 50, 50], "iscrowd": 1},
        {"id": 2, "image_id": 2, "category_id": 1, "bbox": [1, 0, 50, 1], "iscrowd": 0},
    ]
    path.write_text(json.dumps({"images": images, "annotations": anns, "categories": [{"id": 1, "name": "c"}]}))
    result = CliRunner().invoke(app, ["recommend", str(path), "-q"])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == (
        f"Error: {path}: no usable object to match (every record is excluded, crowd or left out of the training set: "
        "1 crowd, none excluded; 1 object in 1 image not simulated: torchvision 0.29's detection reference leaves out "
        "1 image whose records all have a box side of 1 px or less (_coco_remove_images_without_annotations))\n"
    )


def test_levels_that_are_not_consecutive_are_listed_not_spanned() -> None:
    """``--levels P7,P3`` was recommended as "P3-P7", which everywhere else means P3 to P7 (review round 43,
    F-F5): levels whose strides do not double from one to the next are listed."""
    given = CliRunner().invoke(app, ["recommend", "-q", "--rule", "rf", "--neck", "fpn-retinanet", "--levels", "P7,P3"])
    assert given.exit_code == 0, given.output
    assert "the best is P3, P7 with " in given.stdout and "P3-P7" not in given.stdout
    run = CliRunner().invoke(app, ["recommend", "-q", "--rule", "rf"])
    assert "the best is P2-P5 with " in run.stdout, run.stdout
