"""A preset's levels are in increasing stride order in its network, wherever the levels come from: a backbone
config, a neck, an imported backbone, or ``--levels``. Names in order (C3, C4, C5) whose strides are not (16, 8,
32) were simulated and reported as given (review round 40, B-F2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from preset_files import preset_file
from typer.testing import CliRunner

from scalematch.cli.main import app
from scalematch.errors import ConfigError
from scalematch.match.widen import level_graph
from scalematch.presets import load_preset

DATA = Path(__file__).resolve().parents[1] / "data"
EXPECTED = "expected levels in increasing stride order, as the toolkits list and match them"


def _reversed_backbone(tmp_path: Path) -> Path:
    """Outputs C3, C4, C5 at strides 16, 8, 32."""
    path = tmp_path / "rev.yaml"
    path.write_text(
        "name: rev\nnodes:\n  - {name: a, type: conv, kernel: 3, stride: 8, padding: 1}\n"
        "  - {name: b, type: conv, kernel: 3, stride: 2, padding: 1}\n"
        "  - {name: c, type: conv, kernel: 3, stride: 2, padding: 1}\n"
        "outputs: {C3: b, C4: a, C5: c}\n",
        encoding="utf-8",
    )
    return path


def _preset(tmp_path: Path, backbone: str, neck: str, levels: list[str]) -> Path:
    sizes = [[32 * 2**k] for k in range(len(levels))]
    return preset_file(tmp_path, "retinanet", backbone=backbone, neck=neck, levels=levels, **{"anchors.sizes": sizes})


def test_backbone_levels_named_in_order_but_not_in_stride_order_are_refused(tmp_path: Path) -> None:
    backbone = _reversed_backbone(tmp_path)
    path = _preset(tmp_path, str(backbone), "none", ["C3", "C4", "C5"])
    with pytest.raises(ConfigError) as caught:
        level_graph(load_preset(path))
    assert str(caught.value) == (
        f"{path}: key 'levels': C3, C4, C5 have strides 16, 8, 32 in {backbone} (no neck): C4 (stride 8) comes "
        f"after C3 (stride 16); {EXPECTED}"
    )


def test_neck_outputs_of_other_names_are_held_to_the_order_listed(tmp_path: Path) -> None:
    """A neck's outputs not named P<k> say nothing of their stride when it is read; the preset listing them
    coarse first is refused."""
    neck = tmp_path / "nk.yaml"
    neck.write_text(
        "name: nk\nkind: neck\ninputs: [C5]\nnodes:\n  - {name: x, type: conv, kernel: 1, input: C5}\n"
        "  - {name: y, type: conv, kernel: 3, stride: 2, padding: 1}\noutputs: {fine: x, coarse: y}\n",
        encoding="utf-8",
    )
    path = _preset(tmp_path, "resnet18", str(neck), ["coarse", "fine"])
    with pytest.raises(ConfigError) as caught:
        level_graph(load_preset(path))
    assert str(caught.value) == (
        f"{path}: key 'levels': coarse, fine have strides 64, 32 in resnet18 + {neck}: fine (stride 32) comes "
        f"after coarse (stride 64); {EXPECTED}"
    )


def _onnx_reversed() -> bytes:
    """Two strided convolutions: output C4 (the first, stride 4) and C3 (the second, stride 8)."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.ones((3, 3, 3, 3), dtype=np.float32), "w")
    first = helper.make_node("Conv", ["x", "w"], ["C4"], strides=[4, 4], pads=[1, 1, 1, 1])
    second = helper.make_node("Conv", ["C4", "w"], ["C3"], strides=[2, 2], pads=[1, 1, 1, 1])
    image = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "h", "w"])
    outs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in ("C3", "C4")]
    graph = helper.make_graph([first, second], "g", [image], outs, [weight])
    return bytes(helper.make_model(graph).SerializeToString())


def test_an_imported_backbone_s_levels_are_checked_when_it_is_read(tmp_path: Path) -> None:
    pytest.importorskip("onnx", reason="the 'onnx' extra is not installed (pip install '.[onnx]')")
    model = tmp_path / "rev.onnx"
    model.write_bytes(_onnx_reversed())
    path = _preset(tmp_path, str(model), "none", ["C3", "C4"])
    result = CliRunner().invoke(app, ["recommend", str(DATA / "rbc_valid.json"), "-q", "--detector", str(path)])
    assert (result.exit_code, result.stdout) == (2, ""), result.output
    assert result.stderr == (
        f"Error: {path}: key 'levels': C3, C4 have strides 8, 4 in {model} (no neck): C4 (stride 4) comes after C3 "
        f"(stride 8); {EXPECTED}\n"
    )


def test_levels_chosen_by_option_are_held_to_the_order_too(tmp_path: Path) -> None:
    """--levels takes a run of the preset's own levels: one whose strides decrease is refused, one whose strides
    increase is simulated."""
    backbone = _reversed_backbone(tmp_path)
    path = _preset(tmp_path, str(backbone), "none", ["C3", "C4", "C5"])
    args = ["recommend", str(DATA / "rbc_valid.json"), "-q", "--detector", str(path), "--levels"]
    result = CliRunner().invoke(app, [*args, "C3,C4"])
    assert (result.exit_code, result.stdout) == (2, ""), result.output
    assert result.stderr == (
        f"Error: {path}: key 'levels': C3, C4 have strides 16, 8 in {backbone} (no neck): C4 (stride 8) comes after "
        f"C3 (stride 16); {EXPECTED}\n"
    )
    assert CliRunner().invoke(app, [*args, "C4,C5"]).exit_code == 0
