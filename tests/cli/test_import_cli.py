"""``scalematch profile`` on ONNX files and torch modules: taps, pass-through declarations, exact errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from scalematch.cli.main import app

onnx = pytest.importorskip("onnx", reason="the 'onnx' extra is not installed (pip install '.[onnx]')")
from onnx import TensorProto, helper  # noqa: E402


def write_model(path: Path, op: str = "Relu") -> Path:
    weight = helper.make_tensor("w", TensorProto.FLOAT, [4, 3, 3, 3], [0.0] * 108)
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c1"], name="conv1", strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node(op, ["c1"], ["a1"], name="act1", **({"domain": "custom"} if op != "Relu" else {})),
        helper.make_node(
            "MaxPool", ["a1"], ["p1"], name="pool1", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]
        ),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 64, 64])],
        [helper.make_tensor_value_info("p1", TensorProto.FLOAT, None)],
        initializer=[weight],
    )
    opsets = [helper.make_opsetid("", 17)] + ([helper.make_opsetid("custom", 1)] if op != "Relu" else [])
    onnx.save(helper.make_model(graph, opset_imports=opsets), path)
    return path


def test_profile_onnx_with_taps(tmp_path: Path) -> None:
    path = write_model(tmp_path / "tiny.onnx")
    result = CliRunner().invoke(app, ["profile", str(path), "--taps", "C1=c1,C2=p1", "--outputs-only"])
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.stdout.splitlines() if line.startswith(("c1 ", "p1 "))]
    assert [(r[0], r[1], r[-7], r[-6]) for r in rows] == [("c1", "C1", "2", "3"), ("p1", "C2", "4", "7")]


def test_unknown_op_error_and_passthrough(tmp_path: Path) -> None:
    path = write_model(tmp_path / "odd.onnx", op="Wobble")
    result = CliRunner().invoke(app, ["profile", str(path)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {path}: node 'act1' (Wobble): unknown operator type 'Wobble'; declare it pass-through if it keeps "
        "the geometry (--passthrough Wobble, or the node name)\n"
    )
    ok = CliRunner().invoke(app, ["profile", str(path), "--passthrough", "Wobble", "--outputs-only"])
    assert ok.exit_code == 0, ok.output


def test_taps_on_a_config_is_an_error() -> None:
    result = CliRunner().invoke(app, ["profile", "resnet50", "--taps", "C3=layer2"])
    assert result.stderr == "Error: --taps applies to ONNX and torch models, not to the config 'resnet50'\n"


def test_profile_torch_module(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("torch", reason="the 'torch' extra is not installed (pip install '.[torch]')")
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "profile"))
    result = CliRunner().invoke(
        app, ["profile", "torch_models:Darknet53", "--taps", "C3=conv_res_block3,C5=conv_res_block5", "--outputs-only"]
    )
    assert result.exit_code == 0, result.output
    assert "imported from PyTorch module 'torch_models:Darknet53' by torch.fx tracing at 224x224" in result.stdout
    rows = [line.split() for line in result.stdout.splitlines() if " C3 " in line or " C5 " in line]
    assert [(r[1], r[-7], r[-6]) for r in rows] == [("C3", "8", "165"), ("C5", "32", "725")]  # darknet53's config
    missing = CliRunner().invoke(app, ["profile", "torch_models:Nope"])
    assert missing.stderr == "Error: torch_models:Nope: 'torch_models' has no attribute 'Nope'\n"


def test_what_a_torch_module_prints_goes_to_stderr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The module's import, constructor and forward print; stdout stays one JSON document."""
    pytest.importorskip("torch", reason="the 'torch' extra is not installed (pip install '.[torch]')")
    import json

    (tmp_path / "noisy_module.py").write_text(
        "import torch.nn as nn\nprint('imported')\n"
        "class Noisy(nn.Module):\n"
        "    def __init__(self):\n        super().__init__(); print('built'); self.c = nn.Conv2d(3, 8, 3, 2, 1)\n"
        "    def forward(self, x):\n        print('forward'); return self.c(x)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    result = CliRunner().invoke(app, ["profile", "noisy_module:Noisy", "--size", "64", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["backbone"] == "Noisy"
    assert result.stderr.splitlines()[:2] == ["imported", "built"]
    assert "forward" in result.stderr.splitlines()


@pytest.mark.parametrize("command", ["profile", "erf"])
def test_a_plot_never_replaces_the_source_of_the_torch_module(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A --plot link to the module's .py file, to its package's __init__.py or to a package above it is refused as
    an input, as a link to an ONNX file or a config is, before the module is imported (review round 14, F4)."""
    pytest.importorskip("torch", reason="the 'torch' extra is not installed (pip install '.[torch]')")
    import sys

    code = "import torch.nn as nn\nclass A(nn.Module):\n    def __init__(s):\n        super().__init__()\n"
    code += "        s.c = nn.Conv2d(3, 8, 3, 2, 1)\n    def forward(s, x):\n        return s.c(x)\n"
    alone = tmp_path / f"f4_{command}_mod.py"
    package = tmp_path / f"f4_{command}_pkg"
    package.mkdir()
    (package / "__init__.py").write_text(code)
    (package / "inner.py").write_text(code)
    alone.write_text(code)
    monkeypatch.syspath_prepend(str(tmp_path))
    size = ["--size", "32x32"] if command == "erf" else []
    cases = [
        (f"{alone.stem}:A", alone),
        (f"{package.name}:A", package / "__init__.py"),
        (f"{package.name}.inner:A", package / "inner.py"),
        (f"{package.name}.inner:A", package / "__init__.py"),  # the package's code runs on import too
    ]
    for k, (spec, source) in enumerate(cases):
        link = tmp_path / f"link{k}.png"
        link.symlink_to(source)
        before = source.read_bytes()
        result = CliRunner().invoke(app, [command, spec, "--plot", str(link), *size])
        assert (result.exit_code, result.stdout) == (2, ""), result.output
        assert result.stderr == f"Error: --plot {link}: is the input {source.resolve()}; choose another file\n"
        assert source.read_bytes() == before
    assert not [name for name in sys.modules if name.startswith(f"f4_{command}")]  # refused before any import
    fine = CliRunner().invoke(app, [command, f"{package.name}.inner:A", "--plot", str(tmp_path / "ok.png"), *size])
    assert fine.exit_code == 0, fine.output
    assert (tmp_path / "ok.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("command", ["profile", "erf"])
def test_a_model_that_fixes_its_height_only_takes_that_height(command: str, tmp_path: Path) -> None:
    """``dynamic_axes={'x': {3: 'w'}}`` fixes the height only: another height ran, at which onnxruntime refuses
    the model (review round 18 F9); another width is the model's to take."""
    path = write_model(tmp_path / "tall.onnx")
    m = onnx.load(str(path))
    m.graph.input[0].type.tensor_type.shape.dim[3].dim_param = "w"
    onnx.save(m, str(path))
    more = ["--samples", "1"] if command == "erf" else []
    result = CliRunner().invoke(app, [command, str(path), "--size", "64x96", *more])
    assert (result.exit_code, result.stdout) == (2, ""), result.output
    assert result.stderr == (
        f"Error: {path}: input 'x' has the fixed height 64 (its width is free); expected a size of that height or "
        "none, got 64x96 (WxH)\n"
    )
    result = CliRunner().invoke(app, [command, str(path), "--size", "96x64", *more])
    assert result.exit_code == 0, result.output


def test_a_resize_to_another_map_under_a_symbolic_size_says_what_to_do(tmp_path: Path) -> None:
    """FPN's top-down Resize exported with dynamic axes: "cannot tell the scale factor (no constant scales and no
    shapes)", and recommend said nothing of why it cannot take the model (review round 18 F7)."""
    weight = helper.make_tensor("w", TensorProto.FLOAT, [3, 3, 3, 3], [0.0] * 81)
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="c", strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Conv", ["c", "w"], ["d"], name="d", strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Shape", ["c"], ["shape"]),
        helper.make_node("Resize", ["d", "", "", "shape"], ["up"], name="r", mode="nearest"),
    ]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "h", "w"])
    graph = helper.make_graph(nodes, "g", [x], [helper.make_tensor_value_info("up", TensorProto.FLOAT, None)], [weight])
    path = tmp_path / "fpn.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    result = CliRunner().invoke(app, ["profile", str(path)])
    assert (result.exit_code, result.stdout) == (2, ""), result.output
    why = f"{path}: node 'r' (Resize): its output size is computed from shapes, and the model's input size is symbolic"
    assert (
        result.stderr
        == f"Error: {why}; give --size WxH to import it at that size, or export the model with a fixed input size\n"
    )
    assert CliRunner().invoke(app, ["profile", str(path), "--size", "64x48"]).exit_code == 0
    data = Path(__file__).resolve().parents[1] / "data" / "rbc_valid.json"
    result = CliRunner().invoke(
        app, ["recommend", str(data), "--rule", "rf", "--neck", "none", "--backbone", str(path)]
    )
    assert (result.exit_code, result.stdout) == (2, ""), result.output
    assert result.stderr == (
        f"Error: --backbone: {why}; a backbone to recommend for is imported without an input size, as the images "
        f"come to many input sizes, so this model cannot be used (profile it at one size with: scalematch profile "
        f"{path} --size WxH)\n"
    )


def write_named(path: Path, conv_out: str = "c1", pool_out: str = "p1", pool_name: str = "pool1") -> Path:
    """A conv and a max-pool whose output values and node name are given; the pool's output is the graph's."""
    weight = helper.make_tensor("w", TensorProto.FLOAT, [4, 3, 3, 3], [0.0] * 108)
    nodes = [
        helper.make_node("Conv", ["x", "w"], [conv_out], name="conv1", strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node(
            "MaxPool", [conv_out], [pool_out], name=pool_name, kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4
        ),
    ]
    image = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 64, 64])
    out = helper.make_tensor_value_info(pool_out, TensorProto.FLOAT, None)
    graph = helper.make_graph(nodes, "named", [image], [out], initializer=[weight])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ({"pool_out": " "}, "node 'pool1' (MaxPool): output ' ' is whitespace only; expected a name of visible "
         "characters, or none"),
        ({"pool_out": " C3"}, "node 'pool1' (MaxPool): output ' C3' has leading or trailing whitespace, which "
         "--taps strips and the tables do not show; expected 'C3'"),
        ({"pool_name": "\t"}, "node '\\t' (MaxPool): its name '\\t' is whitespace only; expected a name of visible "
         "characters, or none"),
        ({"conv_out": "c1 "}, "node 'conv1' (Conv): output 'c1 ' has leading or trailing whitespace, which --taps "
         "strips and the tables do not show; expected 'c1'"),
    ],
)  # fmt: skip
def test_a_blank_name_or_one_with_whitespace_around_it_is_refused(
    names: dict[str, str], message: str, tmp_path: Path
) -> None:
    """They were accepted: an output ' ' printed as no name, ' C3' as C3, which --taps C3 could not name."""
    path = write_named(tmp_path / "named.onnx", **names)
    result = CliRunner().invoke(app, ["profile", str(path)])
    assert result.exit_code == 2
    assert result.stderr == f"Error: {path}: {message}\n"
    assert result.stdout == ""


def test_names_with_inner_spaces_are_kept(tmp_path: Path) -> None:
    path = write_named(tmp_path / "named.onnx", pool_out="stage 2", pool_name="pool 1")
    result = CliRunner().invoke(app, ["profile", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert '"stage 2"' in result.stdout


def test_an_if_whose_branch_reads_the_image_is_one_line(tmp_path: Path) -> None:
    """The reviewer's ``iffadd.onnx`` (R40B-F1): z = Add(Conv3x3/2(x), If(cond) of Conv9x9/2(x) in each branch)
    profiled z with receptive field 3, exit 0."""
    w = helper.make_tensor("w", TensorProto.FLOAT, [4, 3, 3, 3], [0.0] * 108)
    w9 = helper.make_tensor("w9", TensorProto.FLOAT, [4, 3, 9, 9], [0.0] * 972)
    cond = helper.make_tensor("cond", TensorProto.BOOL, [], [True])
    out = [helper.make_tensor_value_info("a", TensorProto.FLOAT, [1, 4, 32, 32])]
    big = [helper.make_node("Conv", ["x", "w9"], ["a"], strides=[2, 2], pads=[4, 4, 4, 4])]
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["y1"], name="c1", strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node(
            "If",
            ["cond"],
            ["y2"],
            name="iff",
            then_branch=helper.make_graph(big, "t", [], out),
            else_branch=helper.make_graph(big, "e", [], out),
        ),
        helper.make_node("Add", ["y1", "y2"], ["z"], name="add"),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 64, 64])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 4, 32, 32])],
        initializer=[w, w9, cond],
    )
    path = tmp_path / "iffadd.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    result = CliRunner().invoke(app, ["profile", str(path)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {path}: node 'iff' (If): runs subgraphs ('else_branch', 'then_branch') and reads 'x' (in a "
        "subgraph); control flow is not modelled\n"
    )


def test_level_names_from_a_model_are_quoted_in_the_exports(tmp_path: Path) -> None:
    """A model's output names went raw into the rule-mode exports: a newline put a Python statement into the
    mmdetection config, which mmengine runs when it loads it, and ': ' or '#' broke detectron2's YAML (review round
    43, F-F6). They are escaped in comments and quoted as YAML strings."""
    import ast

    import yaml

    weight = helper.make_tensor("w", TensorProto.FLOAT, [4, 3, 3, 3], [0.01] * 108)
    odd, colon = 'p3\nprint("ran") #', "stage: 3 #x"
    nodes = [
        helper.make_node("Conv", ["x", "w"], [odd], name="conv1", strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("MaxPool", [odd], [colon], name="pool1", kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4),
    ]
    outputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in (odd, colon)]
    graph = helper.make_graph(
        nodes, "odd", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "h", "w"])], outputs, [weight]
    )
    model = tmp_path / "odd.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), model)
    argv = ["recommend", "-q", "--rule", "rf", "--backbone", str(model), "--neck", "none", "--levels"]
    for level in (odd, colon):
        for toolkit, name in (("mmdet", "e.py"), ("detectron2", "e.yaml")):
            result = CliRunner().invoke(app, [*argv, level, "--export", toolkit, str(tmp_path / name)])
            assert result.exit_code == 0, result.output
        code = ast.parse((tmp_path / "e.py").read_text())
        assert all(isinstance(statement, ast.Assign) for statement in code.body)  # no call: nothing runs on loading
        assert yaml.safe_load((tmp_path / "e.yaml").read_text())["MODEL"]["RPN"]["IN_FEATURES"] == [level]
    assert "# scalematch recommendation (rule rf): level stage: 3 #x" in (tmp_path / "e.py").read_text()
