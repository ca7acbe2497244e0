"""A preset's parts must fit each other and its network as the toolkit builds them: the strides its grid is placed
at are the network's, its anchors suit its assigner, and a YOLO preset's letterbox size is one the toolkit trains
at (yolov5's check_img_size, ultralytics' check_imgsz)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from required import need

from scalematch.errors import ConfigError, OptionError
from scalematch.match.search import at_input
from scalematch.match.widen import level_graph
from scalematch.presets import builtin_presets, load_preset, override

NETWORK = "expected the network's strides [{}] (the toolkits take them from the model)"


def _variant(tmp_path: Path, name: str, old: str, new: str) -> Path:
    text = builtin_presets()[name].read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / f"{name}_variant.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


@pytest.mark.parametrize("name", sorted(builtin_presets()))
def test_builtin_presets_place_their_grids_at_the_network_s_strides(name: str) -> None:
    level_graph(load_preset(name))


def test_yolov5_strides_are_the_model_s_own() -> None:
    """The yolov5 preset's strides are the ones yolov5's Model measures on its yolov5s network."""
    yolov5 = need("yolov5")
    from yolov5.models.yolo import Model

    model = Model(str(Path(str(yolov5.__file__)).parent / "models" / "yolov5s.yaml"))
    assert [int(s) for s in model.stride] == list(load_preset("yolov5").anchors.strides)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("name", "old", "new", "level", "network", "placed", "expected"),
    [
        ("yolov8", "strides: [8, 16, 32]", "strides: [4, 8, 16]", "P3", "cspdarknet + pan", 4, "8, 16, 32"),
        ("yolov5", "strides: [8, 16, 32]", "strides: [8, 16, 64]", "P5", "cspdarknet + pan", 64, "8, 16, 32"),
        ("yolov5", "strides: [8, 16, 32]", "strides: [32, 16, 8]", "P3", "cspdarknet + pan", 32, "8, 16, 32"),
        ("atss", "strides: [8, 16, 32, 64, 128]", "strides: [8, 16, 32, 64, 64]", "P7", "resnet50 + fpn-fcos", 64,
         "8, 16, 32, 64, 128"),
    ],
)  # fmt: skip
def test_strides_other_than_the_network_s_are_refused(
    tmp_path: Path, name: str, old: str, new: str, level: str, network: str, placed: int, expected: str
) -> None:
    path = _variant(tmp_path, name, old, new)
    preset = load_preset(path)
    with pytest.raises(ConfigError) as caught:
        level_graph(preset)
    stride = {"P3": 8, "P5": 32, "P7": 128}[level]
    assert str(caught.value) == (
        f"{path}: key 'anchors.strides': level {level} has stride {stride} in {network}, but the preset places its "
        f"grid at stride {placed}; " + NETWORK.format(expected)
    )


def test_a_backbone_with_other_strides_is_refused_with_the_preset(tmp_path: Path) -> None:
    """--backbone swaps the network under the preset's strides: the mismatch is named, not simulated."""
    backbone = tmp_path / "s16.yaml"
    backbone.write_text(
        "name: s16\nnodes:\n  - {name: s1, type: conv, kernel: 3, stride: 4, padding: 1}\n"
        "  - {name: s2, type: conv, kernel: 3, stride: 4, padding: 1}\n"
        "  - {name: s3, type: conv, kernel: 3, stride: 2, padding: 1}\n"
        "  - {name: s4, type: conv, kernel: 3, stride: 2, padding: 1}\n"
        "outputs: {C2: s1, C3: s2, C4: s3, C5: s4}\n",
        encoding="utf-8",
    )
    preset = override(load_preset("atss"), backbone=str(backbone))
    with pytest.raises(ConfigError) as caught:
        level_graph(preset)
    assert str(caught.value) == (
        f"{preset.path}: key 'anchors.strides': level P3 has stride 16 in {backbone} + fpn-fcos, but the preset "
        "places its grid at stride 8; " + NETWORK.format("16, 32, 64, 128, 256")
    )


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        ("yolov5", "kind: letterbox, size: 640, style: yolov5", "kind: torchvision, min_size: 800, max_size: 1333",
         "key 'input.kind': expected letterbox for assigner yolov5 (build_targets reads the letterboxed label), got "
         "'torchvision'"),
        ("retinanet", "kind: max-iou, high: 0.5, low: 0.4, low_quality: true", "kind: yolov5",
         "key 'anchors.kind': expected yolov5 for assigner yolov5, got 'torchvision'"),
        ("yolov8", "kind: tal, topk: 10, min_side: 16", "kind: atss, topk: 9",
         "key 'anchors.kind': expected torchvision or mmdet for assigner atss, got 'points'"),
        ("yolov5", "style: yolov5", "style: ultralytics",
         "key 'input.style': expected yolov5 for assigner yolov5 (its build_targets reads yolov5's normalised "
         "labels), got 'ultralytics'"),
    ],
)  # fmt: skip
def test_parts_that_do_not_fit_are_named_by_their_key(
    tmp_path: Path, name: str, old: str, new: str, message: str
) -> None:
    path = _variant(tmp_path, name, old, new)
    with pytest.raises(ConfigError) as caught:
        load_preset(path)
    assert str(caught.value) == f"{path}: {message}"


SIZES = [32, 64, 96, 320, 600, 608, 640, 641, 650, 672, 1000, 1280]


@pytest.mark.parametrize("size", SIZES)
def test_yolov5_sizes_are_those_check_img_size_keeps(size: int) -> None:
    """yolov5 train.py: imgsz = check_img_size(imgsz, gs, floor=gs * 2) with gs = max(max stride, 32)."""
    need("yolov5.utils.general")
    from yolov5.utils import general

    check_img_size: Any = general.check_img_size
    theirs = check_img_size(size, 32, floor=64)
    _check_size(
        "yolov5",
        size,
        theirs,
        f"a multiple of 32, at least 64 (yolov5's check_img_size would train at {theirs} instead)",
    )


@pytest.mark.parametrize("size", SIZES)
def test_ultralytics_sizes_are_those_check_imgsz_keeps(size: int) -> None:
    """ultralytics' trainer: imgsz = check_imgsz(imgsz, stride=gs, floor=gs, max_dim=1)."""
    need("ultralytics.utils.checks")
    from ultralytics.utils import checks

    check_imgsz: Any = checks.check_imgsz
    theirs = check_imgsz(size, stride=32, floor=32, max_dim=1)
    expected = f"a multiple of 32, at least 32 (ultralytics' check_imgsz would train at {theirs} instead)"
    _check_size("yolov8", size, theirs, expected)


def _check_size(name: str, size: int, theirs: int, expected: str) -> None:
    preset = load_preset(name)
    if theirs == size:
        assert override(preset, **{"input.size": size}).input.size == size  # type: ignore[union-attr]
        assert at_input(preset, f"longest-edge:{size}").input.size == size  # type: ignore[union-attr]
        return
    with pytest.raises(ConfigError) as in_file:
        override(preset, **{"input.size": size})
    assert str(in_file.value) == f"override of preset {name}: key 'input.size': expected {expected}, got {size}"
    with pytest.raises(OptionError) as as_option:
        at_input(preset, f"longest-edge:{size}")
    assert str(as_option.value) == (
        f"resize: detector {name} takes longest-edge:L with L {expected}; got 'longest-edge:{size}'"
    )


@pytest.mark.parametrize("levels", [("P3", "C4", "P5", "P6", "P7"), ("C3", "P4", "P5", "P6", "P7")])
def test_levels_of_the_neck_and_of_the_backbone_are_not_mixed(levels: tuple[str, ...]) -> None:
    """An FPN head reads the neck's maps: a backbone map among them is another design, refused."""
    with pytest.raises(ConfigError) as caught:
        override(load_preset("retinanet"), levels=levels)
    assert str(caught.value) == (
        "override of preset retinanet: key 'levels': expected levels of one kind: all from the neck (P3, P4, ...) or "
        f"all from the backbone (C3, C4, ...), got {list(levels)!r}"
    )
    kept = override(load_preset("retinanet"), levels=("C1", "C2", "C3", "C4", "C5"), neck=None)
    assert kept.levels == ("C1", "C2", "C3", "C4", "C5")
    with pytest.raises(ConfigError, match=r"key 'levels': expected outputs of resnet50 \(no neck\): C1, C2, C3, C4"):
        override(load_preset("retinanet"), levels=("C3", "C4", "C5", "C6", "C7"), neck=None)  # no C6, C7


def test_a_preset_built_in_python_meets_the_checks_of_a_file(tmp_path: Path) -> None:
    """A Preset given to recommend() is read back through the checks of a preset YAML: an ultralytics letterbox
    under yolov5's assigner is named by its key, not by the simulator's class names."""
    from dataclasses import replace

    from scalematch import recommend
    from scalematch.presets.preset import LetterboxInput

    preset = load_preset("yolov5")
    assert isinstance(preset.input, LetterboxInput)
    odd = replace(preset, input=replace(preset.input, style="ultralytics"))
    data = tmp_path / "a.json"
    data.write_text(
        '{"images": [{"id": 1, "width": 64, "height": 48}], "categories": [{"id": 1, "name": "c"}], '
        '"annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [4, 4, 20, 10]}]}',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        recommend(data, detector=odd)
    assert str(caught.value) == (
        "preset yolov5: key 'input.style': expected yolov5 for assigner yolov5 (its build_targets reads yolov5's "
        "normalised labels), got 'ultralytics'"
    )
