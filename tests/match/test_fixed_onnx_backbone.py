"""A backbone ONNX model whose input fixes its size (exported without dynamic axes) runs at that size only: detector
mode simulates it where the preset's resize gives every image that size, and stops with one line elsewhere (it
was simulated at every image's input size without a word); a neck attached to it keeps the fixed size."""

from __future__ import annotations

from pathlib import Path

import pytest
from required import need

import scalematch as sm
from scalematch.errors import GraphError, OptionError
from scalematch.profile.api import build
from scalematch.profile.engine import profile


def _five_stages(path: Path, height: int | str, width: int | str) -> Path:
    """Five stride-2 3x3 convolutions on a 1x3xHxW input (a text: a symbolic side), outputs C3, C4, C5."""
    need("onnx", "SCALEMATCH_REQUIRE_TOOLKITS", "onnx is not installed (the onnx extra)")
    import onnx
    from onnx import TensorProto, helper

    names = ["x", "C1", "C2", "C3", "C4", "C5"]
    nodes = [
        helper.make_node("Conv", [names[k], "w"], [names[k + 1]], strides=[2, 2], pads=[1, 1, 1, 1]) for k in range(5)
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, height, width])],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in ("C3", "C4", "C5")],
        initializer=[helper.make_tensor("w", TensorProto.FLOAT, [3, 3, 3, 3], [0.0] * 81)],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), path)
    return path


def test_a_fixed_size_backbone_is_simulated_only_at_its_size(tmp_path: Path) -> None:
    fixed = _five_stages(tmp_path / "fixed640.onnx", 640, 640)
    data = sm.read_annotations(None)
    letterbox = sm.recommend(data, "yolov8", backbone=str(fixed))  # every image becomes a 640x640 input
    free = sm.recommend(data, "yolov8", backbone=str(_five_stages(tmp_path / "free.onnx", "H", "W")))
    assert letterbox.to_dict()["positives"] == free.to_dict()["positives"]  # the same grids: the same result
    assert letterbox.to_dict()["positives"]["objects"] > 0  # type: ignore[index]
    with pytest.raises(OptionError) as refused:
        sm.recommend(data, "retinanet", backbone=str(fixed))
    message = str(refused.value)
    assert message.startswith(
        f"{fixed} + built-in neck 'fpn-retinanet': input 'x' has the fixed size 640x640 (WxH); expected that size or "
        "none, got "
    )
    assert ": under retinanet's resize an image of " in message and message.endswith("(dynamic axes)")
    assert "\n" not in message
    with pytest.raises(GraphError, match=r"fixed size 640x640 \(WxH\); expected that size or none, got 800x800"):
        profile(build(str(fixed), "fpn-retinanet"), (800, 800))  # the neck keeps the backbone's fixed size
    assert profile(build(str(fixed), "fpn-retinanet"), (640, 640))["P5"].size == (20, 20)


def test_the_design_search_skips_inputs_a_fixed_size_backbone_cannot_take(tmp_path: Path) -> None:
    """Under a preset whose resize gives the model's size, a dataset that misses the target starts the design
    search: its other input scales are designs the model cannot run, skipped as inputs beyond the network's limits
    are (the whole run stopped with an error blaming the preset's resize), and the chosen design keeps the input."""
    import json

    images = [{"id": i, "width": 640, "height": 640, "file_name": f"{i}.jpg"} for i in range(1, 6)]
    boxes = [[20 + 60 * j, 30, 2, 2] for j in range(10)] + [[100, 300, 100, 100]]  # tiny objects miss the target
    annotations = [
        {"id": 11 * i + k, "image_id": i, "category_id": 1, "bbox": box, "area": box[2] * box[3], "iscrowd": 0}
        for i in range(1, 6)
        for k, box in enumerate(boxes)
    ]
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps({"images": images, "annotations": annotations, "categories": [{"id": 1, "name": "t"}]}))
    fixed = _five_stages(tmp_path / "fixed640.onnx", 640, 640)
    result = sm.recommend(str(path), "yolov5", backbone=str(fixed))
    searched = result.to_dict()["search"]
    assert searched is not None and searched["before"]["share"] < 0.99  # type: ignore[index]
    free_model = _five_stages(tmp_path / "free.onnx", "H", "W")
    free = sm.recommend(str(path), "yolov5", backbone=str(free_model))
    before, free_before = dict(searched["before"]), dict(free.to_dict()["search"]["before"])  # type: ignore[index]
    # the same design but for its backbone, which each names
    assert before.pop("changes") == f"the preset with backbone {fixed}"
    assert free_before.pop("changes") == f"the preset with backbone {free_model}"
    assert free_before == before
    assert len(searched["trials"]) >= 2  # type: ignore[index]
    for trial in searched["trials"]:  # type: ignore[index]
        assert trial["input_scale"] == 1.0, trial
