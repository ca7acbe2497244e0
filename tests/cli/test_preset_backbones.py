"""A preset file whose backbone, an ONNX file or a torch module, cannot be imported (scalematch issue 11, B-F5):
one line naming the preset file, its key and the model, with the reason ``scalematch profile MODEL`` gives for
the same model, exit code 2, no traceback."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from preset_files import preset_file
from typer.testing import CliRunner

from scalematch.cli.main import app

DATA = Path(__file__).resolve().parents[1] / "data"
MODELS = str(Path(__file__).resolve().parents[1] / "profile")


def _errors(tmp_path: Path, model: str) -> tuple[str, str, Path]:
    """The error lines of ``recommend`` with a preset file naming ``model`` as its backbone and of ``profile
    model``, each checked to be one line with exit code 2 and nothing on stdout; and the preset file."""
    preset = preset_file(tmp_path, "retinanet", backbone=model)
    lines = []
    for args in (["recommend", str(DATA / "rbc_valid.json"), "-q", "--detector", str(preset)], ["profile", model]):
        result = CliRunner().invoke(app, args)
        assert (result.exit_code, result.stdout) == (2, ""), result.output
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
        lines.append(result.stderr.removesuffix("\n"))
    return lines[0], lines[1], preset


def _onnx_model() -> bytes:
    """A small valid ONNX model (a strided convolution with its weight), serialised."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.ones((8, 3, 3, 3), dtype=np.float32), "w")
    conv = helper.make_node("Conv", ["x", "w"], ["y"], strides=[2, 2], pads=[1, 1, 1, 1])
    image = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "h", "w"])
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    return bytes(helper.make_model(helper.make_graph([conv], "g", [image], [out], [weight])).SerializeToString())


NO_PARSE = "not an ONNX model (protobuf parse failed)"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("missing", "no such file"),
        ("random", NO_PARSE),
        ("text", NO_PARSE),
        ("truncated", NO_PARSE),
        ("empty", "the file is empty (0 bytes)"),
        ("no_graph", "not an ONNX model (it parses as protobuf but holds no graph)"),
        ("folder", "is not a regular file (a folder)"),
    ],
)
def test_an_onnx_backbone_that_cannot_be_read(name: str, reason: str, tmp_path: Path) -> None:
    """They ended in the model's line alone (``x.onnx: cannot read the ONNX model (DecodeError: Error parsing
    message with type 'onnx.ModelProto': ...)``), without the preset file or its key, in protobuf's words."""
    pytest.importorskip("onnx", reason="the 'onnx' extra is not installed (pip install '.[onnx]')")
    model = tmp_path / f"{name}.onnx"
    good = _onnx_model()
    contents = {
        "random": random.Random(11).randbytes(2000),
        "text": b"a text file renamed .onnx\nwith two lines\n",
        "truncated": good[: len(good) // 2],
        "empty": b"",
        "no_graph": good[:2],  # ir_version alone: protobuf, but no model
    }
    if name == "folder":
        model.mkdir()
    elif name != "missing":
        model.write_bytes(contents[name])
    preset_line, profile_line, preset = _errors(tmp_path, str(model))
    assert preset_line == f"Error: {preset}: backbone: {model}: {reason}"
    assert profile_line == f"Error: {model}: {reason}"
    assert not (tmp_path / "missing.onnx").exists()  # nothing was written in its place


@pytest.mark.parametrize(
    ("attribute", "reason"),
    [
        ("nothing", "'zoo_preset_nets' has no attribute 'nothing'"),
        ("broken", "calling 'broken()' failed (RuntimeError: no such architecture: 'resnet5O')"),
    ],
)
def test_a_torch_backbone_that_cannot_be_built(
    attribute: str, reason: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("torch", reason="the 'torch' extra is not installed (pip install '.[torch]')")
    (tmp_path / "zoo_preset_nets.py").write_text(
        "from torch import nn\n\ndef broken():\n    raise RuntimeError(\"no such architecture: 'resnet5O'\")\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    model = f"zoo_preset_nets:{attribute}"
    preset_line, profile_line, preset = _errors(tmp_path, model)
    assert preset_line == f"Error: {preset}: backbone: {model}: {reason}"
    assert profile_line == f"Error: {model}: {reason}"
    missing = "no_such_package_zoo:Net"
    preset_line, profile_line, preset = _errors(tmp_path, missing)
    why = "cannot import 'no_such_package_zoo' (ModuleNotFoundError: No module named 'no_such_package_zoo')"
    assert (preset_line, profile_line) == (f"Error: {preset}: backbone: {missing}: {why}", f"Error: {missing}: {why}")


def test_a_preset_backbone_refused_for_its_sizes_names_the_file_not_an_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The refusal of a backbone whose geometry follows the input size named ``--backbone``, which the user never
    gave: it names the preset file that gave the backbone."""
    pytest.importorskip("torch", reason="the 'torch' extra is not installed (pip install '.[torch]')")
    monkeypatch.syspath_prepend(MODELS)
    model = "torch_computed_models:PaddedPyramid"
    preset = preset_file(tmp_path, "retinanet", backbone=model)
    result = CliRunner().invoke(app, ["recommend", str(DATA / "rbc_valid.json"), "-q", "--detector", str(preset)])
    assert (result.exit_code, result.stdout) == (2, ""), result.output
    assert result.stderr.startswith(f"Error: {preset}: backbone: '{model}' reads the input's size (node 'pad' ")


def test_a_backbone_given_by_option_is_not_blamed_on_the_preset_file(tmp_path: Path) -> None:
    """``--backbone`` replaces the file's backbone: its error names the model alone, as before."""
    pytest.importorskip("onnx", reason="the 'onnx' extra is not installed (pip install '.[onnx]')")
    preset = preset_file(tmp_path, "retinanet", backbone="resnet18")
    model = tmp_path / "absent.onnx"
    args = ["recommend", str(DATA / "rbc_valid.json"), "-q", "--detector", str(preset), "--backbone", str(model)]
    result = CliRunner().invoke(app, args)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"Error: {model}: no such file\n")


def test_a_preset_backbone_whose_outputs_do_not_fit_its_neck_names_the_file(tmp_path: Path) -> None:
    """An imported backbone without the maps the preset's neck reads was named alone, ``neck 'fpn-retinanet' reads
    C3, ...``, not the preset file that gave it (review round 39, F8); given by ``--backbone`` it still is."""
    pytest.importorskip("onnx", reason="the 'onnx' extra is not installed (pip install '.[onnx]')")
    model = tmp_path / "one_conv.onnx"
    model.write_bytes(_onnx_model())
    preset = preset_file(tmp_path, "retinanet", backbone=str(model))
    result = CliRunner().invoke(app, ["recommend", str(DATA / "rbc_valid.json"), "-q", "--detector", str(preset)])
    assert (result.exit_code, result.stdout) == (2, ""), result.output
    reads = "neck 'fpn-retinanet' reads C3, C4, C5, but backbone '"
    assert result.stderr.startswith(f"Error: {preset}: backbone: {reads}"), result.stderr
    assert result.stderr.endswith("' has no C3, C4, C5 (outputs: y)\n") and result.stderr.count("\n") == 1
    plain = preset_file(tmp_path, "retinanet", backbone="resnet18")
    args = ["recommend", str(DATA / "rbc_valid.json"), "-q", "--detector", str(plain), "--backbone", str(model)]
    result = CliRunner().invoke(app, args)
    assert (result.exit_code, result.stdout) == (2, ""), result.output
    assert result.stderr.startswith(f"Error: {reads}"), result.stderr
