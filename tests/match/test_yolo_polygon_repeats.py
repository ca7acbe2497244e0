"""Repeated polygons in a YOLO segmentation label file: ultralytics' ``verify_image_label`` removes a polygon only
when its class and points come again (so two polygons of one box but other points both stay), yolov5's removes a
row whose class and box come again. Each YOLO preset trains on the objects its toolkit's own function keeps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from required import need

from scalematch.dataset import load
from scalematch.match.detector import evaluate
from scalematch.presets import load_preset

FILES = {
    "same_box": "0 0.1 0.1 0.5 0.1 0.5 0.5 0.1 0.5\n0 0.1 0.1 0.5 0.5 0.1 0.5 0.3 0.3 0.5 0.1\n",
    "same_points": "0 0.1 0.1 0.5 0.1 0.5 0.5 0.1 0.5\n0 0.1 0.1 0.5 0.1 0.5 0.5 0.1 0.5\n",
    "signed_zero": "0 0.0 0.1 0.5 0.1 0.5 0.5\n0 -0.0 0.1 0.5 0.1 0.5 0.5\n",
    "other_class": "0 0.1 0.1 0.5 0.1 0.5 0.5 0.1 0.5\n1 0.1 0.1 0.5 0.5 0.1 0.5 0.3 0.3 0.5 0.1\n",
}


@pytest.mark.parametrize("detector", ["yolov8", "yolov5"])
def test_each_preset_trains_on_the_polygons_its_toolkit_keeps(tmp_path: Path, detector: str) -> None:
    from PIL import Image

    root = tmp_path / "ds"
    (root / "labels").mkdir(parents=True)
    (root / "images").mkdir()
    (root / "data.yaml").write_text("names: [a, b]\n")
    for name, text in FILES.items():
        (root / "labels" / f"{name}.txt").write_text(text)
        Image.new("RGB", (64, 48)).save(root / "images" / f"{name}.png")
    if detector == "yolov8":
        verify = need("ultralytics.data.utils").verify_image_label
    else:
        verify = need("yolov5.utils.dataloaders").verify_image_label
    theirs = {}
    for name in FILES:
        args: tuple[Any, ...] = (str(root / "images" / f"{name}.png"), str(root / "labels" / f"{name}.txt"), "")
        if detector == "yolov8":
            args = (*args, False, 2, 0, 0, False)
        theirs[name] = len(verify(args)[1])
    preset = load_preset(detector)
    data = load(root, resize=preset.resize_policy())
    files = dict(zip(data.table["image_id"].tolist(), data.table["label_file"].astype(str).tolist(), strict=True))
    frame = evaluate(data, preset, workers=1).to_frame("objects")
    ours = dict.fromkeys(FILES, 0)
    for image, reason in zip(frame["image_id"].tolist(), frame["no_positive_reason"].tolist(), strict=True):
        ours[Path(files[image]).stem] += reason != "dropped_by_pipeline"
    assert ours == theirs
    assert theirs["same_box"] == (2 if detector == "yolov8" else 1)
