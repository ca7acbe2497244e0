"""``scalematch recommend`` with a detector preset (the default): text, JSON and the per-object CSV."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from scalematch.cli.main import app
from scalematch.dataset import sample_path


def run(*args: str, code: int = 0) -> CliRunner:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result  # type: ignore[return-value]


def test_default_is_retinanet_and_meets_the_target(golden: Callable[[str, str], None]) -> None:
    text = run("recommend", "--quiet").stdout  # type: ignore[attr-defined]
    golden("recommend_detector_sample.txt", text)
    assert "detector retinanet" in text
    assert "retinanet with its defaults meets the target" in text


@pytest.mark.parametrize(
    ("args", "said"),
    [(["--levels", "P3"], "with level P3 "), (["--levels", "P4,P5,P6"], "with levels P4-P6"),
     (["--backbone", "resnet18"], "with backbone resnet18"),
     (["--resize", "shortest-edge:400,666"], "with resize shortest-edge:400,666"),
     (["--neck", "fpn-fcos"], "with neck fpn-fcos")],
)  # fmt: skip
def test_the_verdict_names_what_the_options_changed(args: list[str], said: str) -> None:
    """The defaults are not credited with what the user's settings did."""
    text = run("recommend", "--quiet", "--coverage", "0.5", *args).stdout  # type: ignore[attr-defined]
    assert f": retinanet {said}" in text
    assert "with its defaults" not in text


@pytest.mark.parametrize("detector", ["retinanet", "faster-rcnn", "fcos", "atss", "ssd300", "yolov5", "yolov8"])
def test_json_and_objects_agree(detector: str, tmp_path: Path) -> None:
    csv = tmp_path / "objects.csv"
    doc = json.loads(
        run("recommend", "-q", "--json", "--detector", detector, "--objects", str(csv)).stdout  # type: ignore[attr-defined]
    )
    frame = pd.read_csv(csv, keep_default_na=False)
    raw = json.loads(sample_path().read_text())
    usable = [a for a in raw["annotations"] if not a.get("iscrowd", 0)]
    # One row per non-crowd annotation of the file, in the file's order, with its ids and category.
    assert frame["annotation_id"].tolist() == [a["id"] for a in usable]
    assert frame["image_id"].tolist() == [a["image_id"] for a in usable]
    names = {c["id"]: c["name"] for c in raw["categories"]}
    assert frame["category"].tolist() == [names[a["category_id"]] for a in usable]
    levels = doc["detector"]["levels"]
    kind = "candidates" if doc["detector"]["upper_bound"] else "positives"  # an upper bound lists candidates
    per_level = frame[[f"{kind}_{lv}" for lv in levels]]
    if doc["detector"]["upper_bound"]:
        assert (frame["positives"] == per_level.sum(axis=1).clip(upper=10)).all()
        assert (frame["level"] == "").all()
    else:
        assert (frame["positives"] == per_level.sum(axis=1)).all()
        has = frame["positives"] > 0
        assert (frame.loc[has, "level"] == per_level[has].idxmax(axis=1).str.removeprefix("positives_")).all()
    assert ((frame["no_positive_reason"] == "") == (frame["positives"] > 0)).all()
    # The JSON summary counts what the CSV lists.
    pos = doc["positives"]
    assert pos["objects"] == len(frame) == 830
    bins = {"0": (0, 0), "1": (1, 1), "2-4": (2, 4), ">=5": (5, 10**9)}
    for key, (lo, hi) in bins.items():
        assert pos["positives_per_object"][key]["objects"] == int(frame["positives"].between(lo, hi).sum())
    assert sum(pos["no_positive"].values()) == int((frame["positives"] == 0).sum())
    for row in pos["levels"]:
        assert row["positives"] == int(frame[f"{kind}_{row['level']}"].sum())
    quality = frame["positives"] - frame["positives_below_floor"]
    assert pos["share_meeting"] == pytest.approx((quality >= 1).mean(), abs=1e-6)
    assert pos["objects_with_only_low_quality_positives"] == int(((frame["positives"] > 0) & (quality == 0)).sum())
    if pos["quality_floor"] is None:
        assert (frame["positives_below_floor"] == 0).all()
    # Box sizes are the input-pixel boxes of the toolkit: the bundled images are at most 640 px, scaled up.
    assert frame["w_in"].max() <= 1333 and frame["h_in"].max() <= 1333


def test_min_positives_and_coverage_move_the_verdict() -> None:
    strict = json.loads(run("recommend", "-q", "--json", "--min-positives", "5").stdout)  # type: ignore[attr-defined]
    loose = json.loads(run("recommend", "-q", "--json").stdout)  # type: ignore[attr-defined]
    assert strict["positives"]["share_meeting"] < loose["positives"]["share_meeting"]
    assert loose["meets_target"] and not strict["meets_target"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--detector", "nope"], "Error: --detector: unknown detector 'nope'; expected a file or one of:"),
        (["--rule", "rf", "--detector", "fcos"], "Error: --detector and --rule are two modes: give one"),
        (["--resize", "longest-edge:640"], "Error: --resize: detector retinanet resizes as shortest-edge:S,L; got"),
        (["--rule", "rf", "--objects", "x.csv"], "Error: --objects: applies to a detector's assigner (drop --rule)"),
        (["--levels", "P9"], "Error: --levels: detector retinanet has levels P3, P4, P5, P6, P7; got 'P9'"),
        (["--levels", "P5,P3"], "Error: --levels: expected a contiguous run of P3, P4, P5, P6, P7 in that order"),
        (["--levels", ""], "Error: --levels: expected level names such as P3,P4,P5, got ''"),
        (["--report", "--out", "x"], "Error: --report and --out: --report writes into reports/<dataset>/"),
        (["--resize", "shortest-edge:800,1333;"], "Error: --resize: expected policies separated by ';', got an empty"),
        (["--min-positives", "0"], "Error: --min-positives: expected an integer from 1 to 10,000, got 0"),
        (["--erf-factor", "5"], "Error: --erf-factor: applies to --rule rf, not to a detector's assigner"),
        (["--rule", "rf", "--min-iou", "0.3"], "Error: --min-iou: applies to a detector's assigner (drop --rule)"),
        (["--min-iou", "1"], "Error: --min-iou: expected an IoU in [0, 1), got 1.0"),
        (["--min-iou", "nan"], "Error: --min-iou: expected an IoU in [0, 1), got nan"),
    ],
)
def test_bad_options(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["recommend", "-q", *args])
    assert result.exit_code == 2
    assert result.stderr.startswith(message), result.stderr
    assert "Traceback" not in result.output


def test_out_writes_the_detector_report(tmp_path: Path) -> None:
    out = tmp_path / "rep"
    first = CliRunner().invoke(app, ["recommend", "-q", "--detector", "fcos", "--out", str(out)])
    assert first.exit_code == 0, first.output
    assert sorted(p.name for p in out.iterdir()) == [
        "positives.png",
        "profile.png",
        "recommendation.json",
        "report.html",
    ]
    for png in ("positives.png", "profile.png"):
        assert (out / png).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count('<img src="data:image/png;base64,') == 2
    assert "detector fcos as torchvision 0.29 builds it" in html
    shown = html.replace('<span class="opt">', "").replace("</span>", "")  # the option names kept whole on a line
    assert f"<code>scalematch recommend -q --detector fcos --out {out}</code>" in shown
    # The page's tables hold the JSON document's numbers.
    doc = json.loads((out / "recommendation.json").read_text())
    for label, row in doc["positives"]["positives_per_object"].items():
        assert f"<tr><td>{label.replace('>', '&gt;')}</td><td>{row['objects']}</td>" in html
    again = CliRunner().invoke(app, ["recommend", "-q", "--detector", "fcos", "--out", str(out)])
    assert again.exit_code == 2
    assert again.stderr == f"Error: --out {out}: a report is already there; pass --force to replace it\n"
    forced = CliRunner().invoke(app, ["recommend", "-q", "--detector", "fcos", "--out", str(out), "--force", "--json"])
    assert forced.exit_code == 0
    assert json.loads(forced.stdout) == doc


def test_resize_sweep_ranks_policies_leaving_objects_without_positives_lower(tmp_path: Path) -> None:
    """COCO-like images (640 x 480) with spread-out objects of 8-20 px: at 200 px FCOS's points miss many of them
    (a box smaller than the stride may hold no point), at 800 px none."""
    import numpy as np

    rng = np.random.default_rng(5)
    anns: list[dict[str, object]] = []
    images: list[dict[str, object]] = []
    for i in range(40):
        images.append({"id": i + 1, "file_name": f"{i}.jpg", "width": 640, "height": 480})
        for gx in range(4):
            for gy in range(3):
                w, h = rng.uniform(8, 20, 2)
                x, y = gx * 160 + 40 + rng.uniform(0, 60), gy * 160 + 40 + rng.uniform(0, 60)
                anns.append({"id": len(anns) + 1, "image_id": i + 1, "category_id": 1, "iscrowd": 0, "area": w * h,
                             "bbox": [x, y, w, h]})  # fmt: skip
    src = tmp_path / "spread.json"
    src.write_text(json.dumps({"images": images, "annotations": anns, "categories": [{"id": 1, "name": "dot"}]}))
    low, high = "shortest-edge:200,333", "shortest-edge:800,1333"
    result = run("recommend", str(src), "-q", "--json", "--detector", "fcos", "--resize", f"{low};{high}")
    sweep = json.loads(result.stdout)["sweep"]  # type: ignore[attr-defined]
    by_policy = {row["resize"]: row for row in sweep}
    assert by_policy[high]["objects_without_positive"] == 0
    assert by_policy[low]["objects_without_positive"] > 0
    assert [row["resize"] for row in sweep] == [high, low]
    text = run("recommend", str(src), "-q", "--detector", "fcos", "--resize", f"{low};{high}").stdout  # type: ignore[attr-defined]
    assert f"Best: {high}" in text


def test_levels_keep_their_own_anchors(tmp_path: Path) -> None:
    """--levels P4,P5 keeps P4's and P5's anchor sizes (64 and 128 px), not the first two of the preset."""
    doc, path = None, tmp_path / "d2.yaml"
    result = run("recommend", "-q", "--json", "--levels", "P4,P5", "--export", "detectron2", str(path))
    doc = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert doc["detector"]["levels"] == ["P4", "P5"]
    import yaml

    sizes = yaml.safe_load(path.read_text())["MODEL"]["ANCHOR_GENERATOR"]["SIZES"]
    assert [level[0] for level in sizes] == [64, 128]


@pytest.mark.parametrize("option", ["--objects", "--export"])
def test_outputs_never_replace_the_input_or_a_device(tmp_path: Path, option: str) -> None:
    src = tmp_path / "in.json"
    src.write_bytes(sample_path().read_bytes())
    before = src.read_bytes()
    extra = ["mmdet"] if option == "--export" else []
    for target, message in (
        (str(src), f"is the input {src}; choose another file"),
        ("/dev/null", "exists and is a character device, not a regular file; a write would replace it"),
    ):
        result = CliRunner().invoke(app, ["recommend", str(src), "-q", option, *extra, target])
        assert result.exit_code == 2, result.output
        assert result.stderr == f"Error: {option} {target}: {message}\n"
    assert src.read_bytes() == before
    assert Path("/dev/null").is_char_device()


DATA = Path(__file__).parents[1] / "data"


@pytest.mark.parametrize("fmt", ["voc", "yolo"])
def test_objects_name_voc_and_yolo_annotations_by_file_and_place(fmt: str, tmp_path: Path) -> None:
    """VOC: ``<xml file>:<object k>``, YOLO: ``<label file>:<line>``, relative to the dataset folder; each id
    points at the box the row describes (read back from that place in that file)."""
    import xml.etree.ElementTree as ET

    root = DATA / ("voc_rbc" if fmt == "voc" else "yolo_rbc")
    csv = tmp_path / "objects.csv"
    run("recommend", str(root), "-q", "--detector", "retinanet", "--coverage", "0.5", "--objects", str(csv))
    frame = pd.read_csv(csv, keep_default_na=False)
    expected: dict[str, tuple[float, float]] = {}  # id -> (w, h) in original pixels
    if fmt == "voc":
        for xml in sorted((root / "Annotations").glob("*.xml")):
            for k, obj in enumerate(ET.parse(xml).getroot().iter("object"), 1):
                box = [float(obj.findtext(f"bndbox/{t}") or "") for t in ("xmin", "ymin", "xmax", "ymax")]
                expected[f"Annotations/{xml.name}:{k}"] = (box[2] - box[0] + 1, box[3] - box[1] + 1)
    else:
        for label in sorted((root / "labels" / "test").glob("*.txt")):
            for n, line in enumerate(label.read_text().splitlines(), 1):
                if line.strip():
                    w, h = (float(v) * 416 for v in line.split()[3:])
                    expected[f"labels/test/{label.name}:{n}"] = (w, h)
    assert len(expected) == 63
    assert sorted(frame["annotation_id"]) == sorted(expected)
    if fmt == "yolo":  # the blank third line of image-81.txt: the next object is line 4, not the 3rd object
        assert "labels/test/image-81.txt:4" in expected and "labels/test/image-81.txt:3" not in expected
    scale = 800 / 416  # retinanet: short side 800, 416 x 416 images
    for ident, w_in, h_in in zip(frame["annotation_id"], frame["w_in"], frame["h_in"], strict=True):
        w, h = expected[ident]
        assert w_in == pytest.approx(w * scale, abs=2e-3) and h_in == pytest.approx(h * scale, abs=2e-3)


def test_a_swapped_backbone_is_named_in_the_header(tmp_path: Path) -> None:
    """The preset's title names ResNet-50; with --backbone resnet18 the text, JSON and HTML say what runs."""
    said = "RetinaNet, ResNet-50 + FPN (P3-P7) with backbone resnet18 (overridden)"

    def out(*args: str) -> str:
        return str(run("recommend", "-q", *args).stdout)  # type: ignore[attr-defined]

    text = out("--backbone", "resnet18")
    assert text.splitlines()[1].startswith(f"detector retinanet: {said}, as torchvision")
    doc = json.loads(out("--json", "--backbone", "resnet18"))
    assert (doc["detector"]["title"], doc["detector"]["backbone"]) == (said, "resnet18")
    run("recommend", "-q", "--backbone", "resnet18", "--out", str(tmp_path / "r"))
    assert f"<dt>Detector</dt><dd>{said} (torchvision 0.29)" in (tmp_path / "r" / "report.html").read_text()
    same = json.loads(out("--json", "--backbone", "resnet50"))
    assert same["detector"]["title"] == "RetinaNet, ResNet-50 + FPN (P3-P7)"  # the preset's own: no note


def test_the_verdict_names_a_preset_file_s_changes(tmp_path: Path) -> None:
    """Review round 29: a preset that changes only the padding was named by its own resize ('with resize
    shortest-edge:800,1333'); a verbatim copy of a built-in's file was 'with settings changed'."""
    from scalematch.presets import builtin_presets, load_preset, override
    from scalematch.report.positives_text import as_set

    shipped = builtin_presets()["retinanet"].read_text(encoding="utf-8")
    copy = tmp_path / "copy.yaml"
    copy.write_text(shipped, encoding="utf-8")
    assert as_set(load_preset(copy)) == "with its defaults"
    reworded = tmp_path / "reworded.yaml"  # only what describes it: title, toolkit, sources
    data = yaml.safe_load(shipped)
    data.update(title="My RetinaNet", toolkit="torchvision (my fork)", source="copied from the built-in")
    reworded.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert as_set(load_preset(reworded)) == "with its defaults"
    padded = tmp_path / "padded.yaml"
    padded.write_text(shipped.replace("size_divisible: 32", "size_divisible: 1024"), encoding="utf-8")
    assert as_set(load_preset(padded)) == "with padding to a multiple of 1024"
    retinanet = load_preset("retinanet")
    assert as_set(override(retinanet, **{"input.size_divisible": 64, "input.min_size": 600})) == (
        "with resize shortest-edge:600,1333, padding to a multiple of 64"
    )
    assert as_set(override(retinanet, **{"anchors.aspect_ratios": [1.0]})) == "with settings changed"
    assert as_set(override(retinanet, **{"assigner.high": 0.6})) == "with settings changed"
    assert as_set(override(retinanet, **{"input.max_size": 1000, "assigner.high": 0.6})) == (
        "with resize shortest-edge:800,1000, other settings changed"
    )
    assert as_set(override(load_preset("atss"), **{"input.size_divisor": 128})) == ("with padding to a multiple of 128")
    assert as_set(override(load_preset("yolov8"), **{"input.style": "yolov5"})) == "with letterbox style yolov5"
