"""``scalematch erf``: text, JSON, figure and errors."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from scalematch.cli.main import app

pytest.importorskip("torch", reason="the 'torch' extra is not installed (pip install '.[torch]')")


def test_text_json_and_plot(tmp_path: Path) -> None:
    out = tmp_path / "erf.png"
    result = CliRunner().invoke(app, ["erf", "resnet18", "--tap", "C3", "--samples", "1", "--plot", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:4] == [
        "resnet18 C3 (layer2.1.add): unit (x, y) 10,10 of a 160x160 (WxH) input, uniform weights, 1 sample",
        "receptive field    99 px",
        "analytic ERF sigma 9.9 px (uniform linear model)",
        "measured ERF sigma 9.9 px",
    ]
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    doc = json.loads(CliRunner().invoke(app, ["erf", "resnet18", "--tap", "C3", "--samples", "1", "--json"]).stdout)
    assert doc["rf"] == [99, 99] and doc["sigma"] == doc["analytic_sigma"]
    assert list(doc["squares"]) == ["0.2", "0.5", "0.9", "0.99"]


def test_bad_tap_is_one_line() -> None:
    result = CliRunner().invoke(app, ["erf", "resnet18", "--tap", "C9"])
    assert result.exit_code == 2
    assert result.stderr == ("Error: --tap: 'C9' is not an output or node of resnet18 (outputs: C1, C2, C3, C4, C5)\n")


def test_erf_figure_draws_measured_and_analytic() -> None:
    from scalematch.profile.erf_measure import measure_erf
    from scalematch.report.erf_plot import erf_figure

    r = measure_erf("resnet18", tap="C2", samples=1)
    fig = erf_figure(r)
    labels = [str(line.get_label()) for line in fig.axes[1].lines]
    assert any(lab.startswith("measured") for lab in labels) and any(lab.startswith("analytic") for lab in labels)


def test_an_input_smaller_than_the_field_is_flagged() -> None:
    """C3's field is 99 px: a 64 px input cannot hold it, so the border cuts the measured ERF (said in text and
    JSON); the default input (the field plus four strides) holds it."""
    small = ["erf", "resnet18", "--tap", "C3", "--samples", "1", "--size", "64"]
    text = CliRunner().invoke(app, small).stdout.splitlines()
    assert (
        text[-1].startswith("note: the unit's receptive field (columns ") and "past the 64x64 (WxH) input" in text[-1]
    )
    # not square: width first, as the header and every size in the output, and the option that is not deprecated;
    # unit (x, y) 6,4 of the 12x8 C3 map (stride 8, RF 99, padding 49): columns 48 - 49.., rows 32 - 49..
    wide = CliRunner().invoke(app, ["erf", "resnet18", "--tap", "C3", "--samples", "1", "--size", "96x64"]).stdout
    assert wide.splitlines()[0].endswith("of a 96x64 (WxH) input, uniform weights, 1 sample")
    assert wide.splitlines()[-1] == (
        "note: the unit's receptive field (columns -1..97, rows -17..81) reaches past the 96x64 (WxH) input, so "
        "the border cuts the measured ERF; use a larger --size (the default holds the whole field)"
    )
    assert json.loads(CliRunner().invoke(app, [*small, "--json"]).stdout)["clipped"] is True
    default = CliRunner().invoke(app, ["erf", "resnet18", "--tap", "C3", "--samples", "1", "--json"]).stdout
    assert json.loads(default)["clipped"] is False


MISALIGNED = (
    "nodes:\n  - {name: a, type: conv, kernel: 3, stride: 2, padding: 1}\n"
    "  - {name: b, type: conv, kernel: 4, stride: 2, padding: 1, input: image}\n"
    "  - {name: c, type: add, inputs: [a, b]}\n"
)


def test_a_misaligned_merge_is_refused_as_profile_refuses_it_unless_allowed(tmp_path: Path) -> None:
    """The analytic numbers erf prints rest on the profile: a misaligned add is the error profile gives, and with
    --allow-misaligned the union is taken with the same warning (on stderr) and the RF of that union."""
    path = tmp_path / "m.yaml"
    path.write_text(MISALIGNED)
    refused = CliRunner().invoke(app, ["erf", str(path), "--tap", "c", "--samples", "1"])
    assert refused.exit_code == 2
    assert refused.stderr == CliRunner().invoke(app, ["profile", str(path)]).stderr
    assert refused.stderr.startswith(f"Error: {path}: node 'c' (add): inputs are misaligned along y")
    for extra in ([], ["--json"]):
        args = ["erf", str(path), "--tap", "c", "--samples", "1", "--allow-misaligned", *extra]
        allowed = CliRunner().invoke(app, args)
        assert allowed.exit_code == 0, allowed.output
        assert allowed.stderr.startswith("warning: node 'c' (add): inputs are misaligned along y")
        assert allowed.stderr.rstrip().endswith("took their exact union")
    assert json.loads(allowed.stdout)["rf"] == [4, 4]  # unit 0: a's pixels [-1, 1] and b's [-1, 2]: -1..2
    from scalematch.errors import GraphError
    from scalematch.profile.erf_measure import measure_erf

    with pytest.raises(GraphError, match="misaligned"):
        measure_erf(str(path), tap="c", samples=1)
    assert measure_erf(str(path), tap="c", samples=1, allow_misaligned=True).warnings


def test_a_torch_module_with_a_misaligned_add_is_named_as_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The error names the module as typed (erf_misaligned_net:Net), as profile's does, not by its class alone."""
    (tmp_path / "erf_misaligned_net.py").write_text(
        "import torch.nn as nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.a = nn.Conv2d(3, 4, 2, 2, 0)\n        self.b = nn.Conv2d(3, 4, 3, 2, 1)\n\n"
        "    def forward(self, x):\n        return self.a(x) + self.b(x)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    refused = CliRunner().invoke(app, ["erf", "erf_misaligned_net:Net", "--samples", "1"])
    assert refused.exit_code == 2
    assert refused.stderr.startswith("Error: erf_misaligned_net:Net: node 'add' (add): inputs are misaligned along y")
    assert refused.stderr == CliRunner().invoke(app, ["profile", "erf_misaligned_net:Net"]).stderr


def test_the_misaligned_merge_error_offers_what_applies_to_the_input_and_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An imported model has no config node to write 'align: union' on; recommend takes no --allow-misaligned."""
    import torch

    (tmp_path / "misaligned_advice_net.py").write_text(
        "import torch.nn as nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.a = nn.Conv2d(3, 4, 2, 2, 0)\n        self.b = nn.Conv2d(3, 4, 3, 2, 1)\n\n"
        "    def forward(self, x):\n        return self.a(x) + self.b(x)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    from misaligned_advice_net import Net  # type: ignore[import-not-found]

    onnx_path = tmp_path / "net.onnx"
    torch.onnx.export(Net().eval(), (torch.zeros(1, 3, 64, 64),), str(onnx_path), output_names=["s"], dynamo=False)
    yaml_path = tmp_path / "m.yaml"
    yaml_path.write_text(MISALIGNED)
    data = str(Path(__file__).parents[1] / "data" / "rbc_test.json")
    misaligned = "inputs are misaligned along y: unit 0 is centred at 0.5 for 'a' and at 0 for 'b'"
    onnx_misaligned = (
        "inputs are misaligned along y: unit 0 is centred at 0.5 for '/a/Conv_output_0' and at 0 for '/b/Conv_output_0'"
    )
    flag = "pass --allow-misaligned to take their exact union"
    none = "expected aligned inputs (an imported model has no config node to write 'align: union' on)"
    cases = [
        (
            ["profile", "misaligned_advice_net:Net"],
            f"misaligned_advice_net:Net: node 'add' (add): {misaligned}; {flag}",
        ),
        (
            ["erf", "misaligned_advice_net:Net", "--samples", "1"],
            f"misaligned_advice_net:Net: node 'add' (add): {misaligned}; {flag}",
        ),
        (["profile", str(onnx_path)], f"{onnx_path}: node 's' (add): {onnx_misaligned}; {flag}"),
        (
            ["recommend", data, "--rule", "rf", "--neck", "none", "--backbone", "misaligned_advice_net:Net"],
            f"misaligned_advice_net:Net: node 'add' (add): {misaligned}; {none}",
        ),
        (
            ["recommend", data, "--rule", "rf", "--neck", "none", "--backbone", str(onnx_path)],
            f"{onnx_path}: node 's' (add): {onnx_misaligned}; {none}",
        ),
        (
            ["recommend", data, "--rule", "rf", "--neck", "none", "--backbone", str(yaml_path)],
            f"{yaml_path}: node 'c' (add): inputs are misaligned along y: unit 0 is centred at 0 for 'a' and at 0.5 "
            "for 'b'; write 'align: union' on the node to take their exact union",
        ),
    ]
    for args, message in cases:
        result = CliRunner().invoke(app, args)
        assert (result.exit_code, result.stderr) == (2, f"Error: {message}\n"), args


def test_recommend_in_detector_mode_and_explain_offer_no_flag_they_lack(tmp_path: Path) -> None:
    """Neither `recommend` (detector mode too) nor `explain` takes --allow-misaligned: their error offers only
    'align: union' on a config's node, and so do sm.recommend and sm.explain."""
    import scalematch as sm
    from scalematch.errors import GraphError

    five = tmp_path / "m5.yaml"
    five.write_text(
        MISALIGNED + "  - {name: c2, type: conv, kernel: 3, stride: 2, padding: 1}\n"
        "  - {name: c3, type: conv, kernel: 3, stride: 2, padding: 1}\n"
        "  - {name: c4, type: conv, kernel: 3, stride: 2, padding: 1}\n"
        "  - {name: c5, type: conv, kernel: 3, stride: 2, padding: 1}\n"
        "outputs: {C1: c, C2: c2, C3: c3, C4: c4, C5: c5}\n"
    )
    plain = tmp_path / "m.yaml"
    plain.write_text(MISALIGNED)
    data = str(Path(__file__).parents[1] / "data" / "rbc_test.json")
    misaligned = "inputs are misaligned along y: unit 0 is centred at 0 for 'a' and at 0.5 for 'b'"
    union = "write 'align: union' on the node to take their exact union"
    detector = f"{five} + built-in neck 'fpn-retinanet': node 'c' (add): {misaligned}; {union}"
    result = CliRunner().invoke(app, ["recommend", data, "--backbone", str(five)])
    assert (result.exit_code, result.stderr) == (2, f"Error: {detector}\n")
    result = CliRunner().invoke(app, ["explain", str(plain)])
    assert (result.exit_code, result.stderr) == (2, f"Error: {plain}: node 'c' (add): {misaligned}; {union}\n")
    with pytest.raises(GraphError, match=f"^{re.escape(detector)}$"):
        sm.recommend(data, backbone=str(five))
    with pytest.raises(GraphError, match=f"; {union}$"):
        sm.explain(str(plain))


def _blocked_onnx(path: Path) -> None:
    """conv/2, conv/2, an unknown Einsum, conv/2, conv/2, a global pool: the default taps stop at the Einsum."""
    onnx = pytest.importorskip("onnx")
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    def weight(name: str, cin: int = 4) -> Any:
        return numpy_helper.from_array(np.ones((4, cin, 3, 3), np.float32), name)

    conv: dict[str, Any] = {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}
    nodes = [
        helper.make_node("Conv", ["x", "W1"], ["c1"], name="c1", **conv),
        helper.make_node("Conv", ["c1", "W2"], ["u"], name="c2", **conv),
        helper.make_node("Einsum", ["u", "u"], ["v"], name="ein", equation="nchw,nchw->nchw"),
        helper.make_node("Conv", ["v", "W3"], ["c3"], name="c3", **conv),
        helper.make_node("Conv", ["c3", "W4"], ["c4"], name="c4", **conv),
        helper.make_node("GlobalAveragePool", ["c4"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["y"], name="flat"),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "H", "W"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [weight("W1", 3), weight("W2"), weight("W3"), weight("W4")],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def test_an_import_refusal_offers_only_the_options_the_command_takes(tmp_path: Path) -> None:
    """profile takes --passthrough and --taps; erf takes --passthrough and --tap (a map before the refused node is
    imported as its only tap); recommend takes neither, and says so."""
    path = tmp_path / "blocked.onnx"
    _blocked_onnx(path)
    data = str(Path(__file__).parents[1] / "data" / "rbc_test.json")
    refusal = (
        f"{path}: node 'ein' (Einsum): unknown operator type 'Einsum'; declare it pass-through if it keeps the geometry"
    )
    blocked = (
        "no graph output is a feature map, and the default taps (the last feature map at each stride) would stop "
        "before that node, leaving out the feature maps after it ('c4' and 1 other)"
    )
    runner = CliRunner()
    profiled = runner.invoke(app, ["profile", str(path)])
    assert profiled.stderr == (
        f"Error: {refusal} (--passthrough Einsum, or the node name); {blocked}; to profile only the maps before it, "
        "name them (--taps C1=c1,C2=u)\n"
    )
    erf_refused = runner.invoke(app, ["erf", str(path)])
    assert (erf_refused.exit_code, erf_refused.stderr) == (
        2,
        f"Error: {refusal} (--passthrough Einsum, or the node name); {blocked}; to measure a map before it, name it "
        "(--tap u)\n",
    )
    recommend = (
        f"Error: {refusal} (scalematch profile takes --passthrough Einsum, or the node name; recommend takes no "
        f"--passthrough); {blocked}\n"
    )
    for mode in (["--rule", "rf"], []):
        result = runner.invoke(app, ["recommend", data, *mode, "--backbone", str(path)])
        assert (result.exit_code, result.stderr) == (2, recommend), mode
    before = runner.invoke(app, ["erf", str(path), "--tap", "u", "--samples", "1"])
    assert before.exit_code == 0, before.stderr
    assert before.stdout.startswith(f"{path} u (u): ") and "receptive field    7 px" in before.stdout
    declared = runner.invoke(app, ["erf", str(path), "--passthrough", "Einsum", "--samples", "1"])
    assert declared.exit_code == 0, declared.stderr
    assert declared.stdout.startswith(f"{path} C4 (c4): ") and "receptive field    31 px" in declared.stdout
    from scalematch.errors import OptionError
    from scalematch.profile.erf_measure import measure_erf

    assert measure_erf(str(path), passthrough=["Einsum"], samples=1).tap == "C4"
    with pytest.raises(OptionError, match=r"^passthrough: expected names"):
        measure_erf(str(path), passthrough=5)  # type: ignore[arg-type]


def test_an_error_names_only_the_options_given(tmp_path: Path) -> None:
    """Review B-F6: erf's --passthrough on a config was refused as 'taps= and --passthrough apply ...': taps= is
    the library's keyword, which erf passes itself, and no option of erf. The line names the flag the user gave
    (the keyword in the Python API), and a --tap that only a blocked import takes is a tap's name as given, never a
    list of taps (',' was refused as 'taps: expected names ...')."""
    from scalematch.errors import OptionError
    from scalematch.profile.erf_measure import measure_erf

    runner = CliRunner()
    result = runner.invoke(app, ["erf", "resnet18", "--passthrough", "Relu", "--samples", "1"])
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: --passthrough applies to ONNX and torch models, not to the config 'resnet18'\n",
    )
    with pytest.raises(OptionError) as caught:
        measure_erf("resnet18", passthrough="Relu", samples=1)
    assert str(caught.value) == "passthrough= applies to ONNX and torch models, not to the config 'resnet18'"
    path = tmp_path / "blocked.onnx"
    _blocked_onnx(path)
    feature_maps = "(the last feature maps: u, v, c3, c4, g)"
    for tap in (",", "u=c3"):
        named = runner.invoke(app, ["erf", str(path), "--tap", tap, "--samples", "1"])
        assert (named.exit_code, named.stderr) == (
            2,
            f"Error: {path}: tap '{tap}': no feature map or module named '{tap}' {feature_maps}\n",
        )


def _named_onnx(path: Path) -> None:
    """Two strided convolutions whose nodes are named apart from their values (as torch's exporter names them),
    a global pool and a flatten: no output is a feature map."""
    onnx = pytest.importorskip("onnx")
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    conv: dict[str, Any] = {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}
    nodes = [
        helper.make_node("Conv", ["x", "W1"], ["a_out"], name="/stem/Conv", **conv),
        helper.make_node("Conv", ["a_out", "W2"], ["b_out"], name="/layer1/Conv", **conv),
        helper.make_node("GlobalAveragePool", ["b_out"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["y"], name="flat"),
    ]
    weights = [numpy_helper.from_array(np.ones((4, c, 3, 3), np.float32), n) for n, c in (("W1", 3), ("W2", 4))]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "H", "W"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        weights,
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def _tap_results(model: str, tap: str) -> tuple[Any, Any]:
    """``erf MODEL --tap TAP`` and ``profile MODEL --taps TAP``."""
    erf = CliRunner().invoke(app, ["erf", model, "--tap", tap, "--samples", "1", "--size", "32x32"])
    return erf, CliRunner().invoke(app, ["profile", model, "--taps", tap])


def test_erf_takes_the_onnx_node_names_profile_takes(tmp_path: Path) -> None:
    """erf refused an ONNX node name (``/layer1/layer1.1/relu_1/Relu``) that profile --taps takes (review round
    40, B-F4); a name neither takes gets profile's error, listing the last feature maps, not only the outputs."""
    path = tmp_path / "named.onnx"
    _named_onnx(path)
    erf, profile = _tap_results(str(path), "/stem/Conv")
    assert (erf.exit_code, profile.exit_code) == (0, 0), erf.output + profile.output
    assert erf.stdout.startswith(f"{path} /stem/Conv (a_out): unit (x, y) "), erf.stdout
    assert "receptive field    3 px" in erf.stdout
    erf, profile = _tap_results(str(path), "nosuch")
    assert (erf.exit_code, erf.stdout) == (2, "")
    assert (
        erf.stderr
        == profile.stderr
        == (
            f"Error: {path}: tap 'nosuch': no feature map or module named 'nosuch' (the last feature maps: a_out, "
            "b_out, g)\n"
        )
    )


def test_erf_takes_the_torch_module_paths_profile_takes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A module path (``layer1``, a Sequential) is measured as profile --taps takes it; a name neither takes gets
    profile's error, naming the module as given."""
    (tmp_path / "erf_paths_net.py").write_text(
        "import torch.nn as nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.layer1 = nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1), nn.ReLU())\n"
        "        self.layer2 = nn.Conv2d(4, 4, 3, 2, 1)\n\n"
        "    def forward(self, x):\n        return self.layer2(self.layer1(x))\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    erf, profile = _tap_results("erf_paths_net:Net", "layer1")
    assert (erf.exit_code, profile.exit_code) == (0, 0), erf.output + profile.output
    assert erf.stdout.startswith("erf_paths_net:Net layer1 ("), erf.stdout
    assert "receptive field    3 px" in erf.stdout
    erf, profile = _tap_results("erf_paths_net:Net", "nosuch")
    assert (erf.exit_code, erf.stdout) == (2, "")
    assert erf.stderr == profile.stderr
    assert erf.stderr.startswith("Error: erf_paths_net:Net: tap 'nosuch': no feature map or module named 'nosuch' (")


def test_a_unit_that_reads_only_padding_is_named_so(tmp_path: Path) -> None:
    """A measured unit whose window lies in the zero padding alone (100 px of padding before an 8 px input): its
    gradient is zero whatever the weights, so the error says so and does not suggest random weights."""
    config = tmp_path / "padonly.yaml"
    config.write_text(
        "name: padonly\nnodes:\n  - {name: a, type: conv, kernel: 1, padding: [[100, 0], [100, 0]]}\noutputs: {C1: a}\n"
    )
    result = CliRunner().invoke(app, ["erf", str(config), "--size", "8", "--samples", "1"])
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {config}: the measured unit (54, 54) of 'C1' reads no input pixel along y at 8x8 (WxH), only the "
        "zero padding: its gradient is zero whatever the weights; give a larger size, or measure another map\n"
    )
    assert CliRunner().invoke(app, ["erf", str(config), "--size", "300", "--samples", "1"]).exit_code == 0


def test_erf_measures_a_tap_before_a_refused_node_profile_takes(tmp_path: Path) -> None:
    """A model whose output is a spatial Slice (refused) after a convolution: profile --taps c profiles the
    convolution, and so does erf --tap c (review round 41, F3: erf retried with the tap only when the default outputs
    stopped before a refused node, not when they needed one); without --tap the refusal is the error."""
    onnx = pytest.importorskip("onnx")
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    path = tmp_path / "sliced.onnx"
    bounds = [numpy_helper.from_array(np.array([v], np.int64), n) for n, v in (("s", 0), ("e", 4), ("ax", 2))]
    graph = helper.make_graph(
        [
            helper.make_node("Conv", ["x", "W"], ["c"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
            helper.make_node("Slice", ["c", "s", "e", "ax"], ["y"], name="slice"),
        ],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "H", "W"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), "W"), *bounds],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    erf, profile = _tap_results(str(path), "c")
    assert (erf.exit_code, profile.exit_code) == (0, 0), erf.output + profile.output
    assert "receptive field    3 px" in erf.stdout
    whole = CliRunner().invoke(app, ["erf", str(path), "--samples", "1", "--size", "32x32"])
    assert whole.exit_code == 2
    assert (
        whole.stderr
        == f"Error: {path}: node 'slice' (Slice): slices a spatial axis; expected slicing along channels only\n"
    )


@pytest.mark.parametrize(("dims", "shown"), [((20000, 20000), "20000x20000 (WxH)"), ((64, 300000), "300000x64 (WxH)")])
def test_a_model_s_fixed_input_too_large_to_measure_is_named_not_size(
    tmp_path: Path, dims: tuple[int, int], shown: str
) -> None:
    """An ONNX model fixed at 20000x20000 was refused as ``--size`` though no --size was given (review round 42
    F3): the error names the model's input; a --size given is still checked against the model's fixed size."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(__import__("numpy").ones((4, 3, 3, 3), dtype="float32"), "w")
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["c"], name="conv")],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, *dims])],
        [helper.make_tensor_value_info("c", TensorProto.FLOAT, None)],
        initializer=[weight],
    )
    path = tmp_path / "fixed.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    result = CliRunner().invoke(app, ["erf", str(path)])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"Error: {path}: its input 'x' is fixed at {shown}; the measured ERF runs networks on at most 16777216 "
        "pixels (4096x4096), beyond which the activations would exhaust memory\n"
    )


def test_a_module_in_the_current_folder_is_imported_and_its_source_never_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``scalematch profile mynet:Net`` could not import mynet.py from the current folder, which ``python -m
    scalematch`` can (review round 43, F-F1); ``recommend --backbone mynet:Net --export mmdet mynet.py`` replaced
    the network's source with the export (F-F11): refused before the work, the file intact."""
    import sys

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    source = "import torch.nn as nn\n\nclass Net(nn.Sequential):\n    def __init__(self):\n"
    source += "        super().__init__(nn.Conv2d(3, 8, 3, 2, 1), nn.ReLU())\n"
    (tmp_path / "cwdnet_f1.py").write_text(source)
    result = CliRunner().invoke(app, ["profile", "cwdnet_f1:Net"])
    assert result.exit_code == 0 and "imported from PyTorch module 'cwdnet_f1:Net'" in result.stdout, result.output
    argv = ["recommend", "-q", "--rule", "rf", "--backbone", "cwdnet_f1:Net", "--neck", "none", "--levels", "1"]
    (tmp_path / "config.py").write_text("SIZE = 3\n")  # a file the module could import (round 44, G-F9)
    for name in ("cwdnet_f1.py", "config.py"):
        result = CliRunner().invoke(app, [*argv, "--export", "mmdet", name])
        assert (result.exit_code, result.stderr) == (
            2,
            f"Error: --export {name}: lies in the folder of the torch module's source, whose files it may import (a "
            "Python file written there could replace one); choose another place\n",
        )
    assert (tmp_path / "cwdnet_f1.py").read_text() == source and (tmp_path / "config.py").read_text() == "SIZE = 3\n"
    (tmp_path / "out").mkdir()
    result = CliRunner().invoke(app, [*argv, "--export", "mmdet", "out/export.py"])  # in another folder: written
    assert result.exit_code == 0 and (tmp_path / "out" / "export.py").is_file(), result.output
