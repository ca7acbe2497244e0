"""``recommend --detector --export``: each file loads in the toolkit's own code and carries the design."""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from scalematch.cli.main import app

SEARCHED = Path(__file__).parents[1] / "match"


def _need(module: str) -> None:
    try:
        importlib.import_module(module)
    except Exception as exc:
        if os.environ.get("SCALEMATCH_REQUIRE_TOOLKITS") == "1":
            pytest.fail(f"{module} does not import ({exc}), and SCALEMATCH_REQUIRE_TOOLKITS=1")
        pytest.skip(f"{module} is not installed")


def export(tmp_path: Path, detector: str, toolkit: str, *args: str) -> tuple[dict[str, Any], Path]:
    out = tmp_path / f"{detector}.{'py' if toolkit == 'mmdet' else 'yaml'}"
    result = CliRunner().invoke(
        app, ["recommend", "-q", "--json", "--detector", detector, "--export", toolkit, str(out), *args]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), out


@pytest.mark.parametrize(("detector", "scale"), [("retinanet", 4), ("atss", 8), ("faster-rcnn", 8)])
def test_mmdet_config_loads_and_builds_the_anchor_generator(tmp_path: Path, detector: str, scale: int) -> None:
    _need("mmengine")
    _need("mmdet")
    from mmengine.config import Config

    sys.path.insert(0, str(SEARCHED))
    import mmdet_ref  # the loader of mmdet's modules without its compiled operators

    doc, path = export(tmp_path, detector, "mmdet")
    cfg = Config.fromfile(str(path))
    search = doc["search"]
    chosen = search["chosen"] if search else {"anchor_scale": 1.0, "levels": doc["detector"]["levels"]}
    head = cfg.model.rpn_head if detector == "faster-rcnn" else cfg.model.bbox_head
    gen = dict(head.anchor_generator)
    assert gen.pop("type") == "AnchorGenerator"
    key = "scales" if detector == "faster-rcnn" else "octave_base_scale"
    value = gen[key][0] if key == "scales" else gen[key]
    assert value == pytest.approx(scale * chosen["anchor_scale"])
    assert cfg.model.neck.num_outs == len(chosen["levels"]) == len(gen["strides"])
    # mmdet's own AnchorGenerator builds from the exported settings, with the head's anchors per location.
    generator = mmdet_ref._load()["AnchorGenerator"](**gen)
    per_location = {"retinanet": 9, "atss": 1, "faster-rcnn": 3}[detector]
    assert generator.num_base_priors == [per_location] * len(gen["strides"])
    resize = next(step for step in cfg.train_dataloader.dataset.pipeline if step["type"] == "Resize")
    assert resize["scale"] == (1333, 800)


def test_mmdet_export_of_a_searched_design(tmp_path: Path) -> None:
    """ATSS on the sample misses the target: the export carries the search's choice, not the preset."""
    _need("mmengine")
    from mmengine.config import Config

    doc, path = export(tmp_path, "atss", "mmdet")
    chosen = doc["search"]["chosen"]
    assert chosen["changes"] != "the preset as it is"
    cfg = Config.fromfile(str(path))
    assert cfg.model.bbox_head.anchor_generator.octave_base_scale == pytest.approx(8 * chosen["anchor_scale"])


def test_detectron2_yaml_has_equal_anchor_counts(tmp_path: Path) -> None:
    _need("torchvision")
    from torchvision.models.detection.anchor_utils import AnchorGenerator

    for detector, key, count in (("retinanet", "RETINANET", 9), ("faster-rcnn", "RPN", 3)):
        doc, path = export(tmp_path, detector, "detectron2")
        model = yaml.safe_load(path.read_text())["MODEL"]
        sizes = model["ANCHOR_GENERATOR"]["SIZES"]
        ratios = model["ANCHOR_GENERATOR"]["ASPECT_RATIOS"]
        assert model[key]["IN_FEATURES"] == [lv.lower() for lv in doc["detector"]["levels"]]
        assert "RPN" not in model if key == "RETINANET" else "RETINANET" not in model
        generator = AnchorGenerator(tuple(tuple(s) for s in sizes), tuple(tuple(ratios[0]) for _ in sizes))
        assert generator.num_anchors_per_location() == [count] * len(sizes)


def test_yolov5_anchors_build_the_model(tmp_path: Path) -> None:
    _need("yolov5.models.yolo")
    import yolov5
    from yolov5.models.yolo import Model

    _, path = export(tmp_path, "yolov5", "ultralytics")
    anchors = yaml.safe_load(path.read_text())["anchors"]
    assert len(anchors) == 3 and all(len(row) == 6 for row in anchors)
    cfg = yaml.safe_load((Path(yolov5.__file__).parent / "models" / "yolov5s.yaml").read_text())
    cfg["anchors"] = anchors
    model = Model(cfg)
    detect = model.model[-1]
    built = (detect.anchors * detect.stride.view(-1, 1, 1)).round().tolist()
    assert built == [[[row[i], row[i + 1]] for i in range(0, 6, 2)] for row in anchors]


@pytest.mark.parametrize(
    ("detector", "toolkit", "message"),
    [
        ("yolov8", "ultralytics", "Error: --export ultralytics: detector yolov8 is anchor-free"),
        ("retinanet", "ultralytics", "Error: --export ultralytics: writes the anchors of a three-level YOLOv5 head"),
        ("ssd300", "mmdet", "Error: --export mmdet: detector ssd300 has no mmdetection counterpart here"),
        ("fcos", "detectron2", "Error: --export detectron2: detector fcos has no detectron2 counterpart here"),
    ],
)
def test_exports_that_do_not_apply_are_refused(tmp_path: Path, detector: str, toolkit: str, message: str) -> None:
    out = tmp_path / "x.txt"
    result = CliRunner().invoke(app, ["recommend", "-q", "--detector", detector, "--export", toolkit, str(out)])
    assert result.exit_code == 2
    assert result.stderr.startswith(message), result.stderr
    assert not out.exists()
