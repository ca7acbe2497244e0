"""Bad configs and options: one line naming the file and the key or node, exit code 2, no traceback."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scalematch.cli.main import app

CASES = {
    "unknown_type": (
        "nodes:\n  - {name: a, type: convv, kernel: 3}\n",
        "{f}: nodes[0] (a): unknown layer type 'convv'; expected one of: conv, dwconv, maxpool, avgpool, deconv, "
        "upsample, global_avgpool, global_maxpool, add, concat, or a pass-through type (identity, relu, bn, ... "
        "keep the geometry)",
    ),
    "zero_kernel": (
        "nodes:\n  - {name: a, type: conv, kernel: 0}\n",
        "{f}: nodes[0] (a): 'kernel' must be a positive integer or [h, w], got 0",
    ),
    "negative_stride": (
        "nodes:\n  - {name: a, type: conv, kernel: 3, stride: [2, -1]}\n",
        "{f}: nodes[0] (a): 'stride' must be a positive integer or [h, w], got [2, -1]",
    ),
    "cycle": (
        "nodes:\n  - {name: a, type: conv, kernel: 3, input: b}\n  - {name: b, type: conv, kernel: 3, input: a}\n",
        "{f}: the graph has a cycle: a -> b -> a",
    ),
    "missing_input": (
        "nodes:\n  - {name: a, type: conv, kernel: 3}\n  - {name: b, type: add, inputs: [a, nowhere]}\n",
        "{f}: nodes[1] (b): input 'nowhere' is not defined",
    ),
    "misaligned_add": (
        "nodes:\n  - {name: a, type: conv, kernel: 3, padding: 1}\n  - {name: b, type: conv, kernel: 3, input: image}\n"
        "  - {name: c, type: add, inputs: [a, b]}\n",
        "{f}: node 'c' (add): inputs are misaligned along y: unit 0 is centred at 0 for 'a' and at 1 for 'b'; "
        "write 'align: union' on the node or pass --allow-misaligned to take their exact union",
    ),
    "yaml_syntax": (
        "nodes:\n  - {name: a, type: conv, kernel: 3\n",
        "{f}:3:1: YAML syntax error: expected ',' or '}', but got '<stream end>'",
    ),
    "unknown_field": (
        "nodes:\n  - {name: a, type: conv, kernal: 3}\n",
        "{f}: nodes[0] (a): 'kernal' is not a field of a conv layer "
        "(fields: ceil_mode, dilation, groups, kernel, padding, stride)",
    ),
    "duplicate_name": (
        "nodes:\n  - {name: a, type: conv, kernel: 3}\n  - {name: a, type: conv, kernel: 3}\n",
        "{f}: nodes[1] (a): the name 'a' is used twice",
    ),
    "stride_mismatch": (
        "nodes:\n  - {name: a, type: conv, kernel: 1, stride: 2}\n  - {name: b, type: add, inputs: [a, image]}\n",
        "{f}: node 'b' (add): inputs have different y strides: 2 ('a') vs 1 ('image') (maps at different strides "
        "have no common grid to merge on: align: union and --allow-misaligned only lift misaligned centres)",
    ),
    "template_name_number": (
        "templates:\n  5:\n    nodes: [{name: c, type: conv, kernel: 3}]\nnodes:\n  - {name: a, use: 5}\n",
        "{f}: templates: a template name must be text, got 5",
    ),
    "template_param_names": (
        "templates:\n  blk:\n    params: {~: 1}\n    nodes: [{name: c, type: conv, kernel: 3}]\n"
        "nodes:\n  - {name: a, use: blk, with: {q: 1}}\n",
        "{f}: templates.blk.params: a parameter name must be text, got None",
    ),
    "template_list": (
        "templates: {blk: [1]}\nnodes:\n  - {name: a, use: blk}\n",
        "{f}: templates.blk: expected a mapping with 'nodes' (and 'params'), got a list",
    ),
    "template_extra_key": (
        "templates:\n  blk:\n    extra: 1\n    nodes: [{name: c, type: conv, kernel: 3}]\n"
        "nodes:\n  - {name: a, use: blk}\n",
        "{f}: templates.blk: 'extra' is not a template key (keys: nodes, params)",
    ),
    "template_params_list": (
        "templates:\n  blk:\n    params: [k]\n    nodes: [{name: c, type: conv, kernel: 3}]\n"
        "nodes:\n  - {name: a, use: blk}\n",
        "{f}: templates.blk.params: expected a mapping of name -> default, got a list",
    ),
    "not_a_mapping": ("42\n", "{f}: expected a mapping with 'nodes' or 'layers', got int"),
    "empty_file": ("", "{f}: the file is empty (0 bytes)"),
    "comments_only": (
        "\n# a backbone, one day\n",
        "{f}: expected a mapping with 'nodes' or 'layers', got an empty document (blank lines, comments or null only)",
    ),
    "bad_seed_name": (
        "layers: [conv_5x5_stride_3]\n",
        "{f}: layers[0]: layer spec 'conv_5x5_stride_3': expected a seed layer name (conv_3x3_stride_1, "
        "conv_3x3_stride_2, conv_1x1_stride_1, conv_1x1_stride_2, conv_7x7_stride_2, conv_3x3_stride_1_dilate_2, "
        "pooling_2x2_stride_2, pooling_3x3_stride_2) or type:key=value,...",
    ),
    # YAML 1.1 reads 2e0 as text; the note tells an integer field's value as the integer (2.0e+0 or 2.0 are floats,
    # refused in turn)
    "exponent_stride": (
        "nodes:\n  - {name: a, type: conv, kernel: 3, stride: 2e0, padding: 1}\n",
        "{f}: nodes[0] (a): 'stride' must be a positive integer or [h, w], got '2e0' (YAML reads '2e0' as text: write "
        "the integer plainly, as 2)",
    ),
    "exponent_kernel": (
        "nodes:\n  - {name: a, type: conv, kernel: [5e0, 3]}\n",
        "{f}: nodes[0] (a): 'kernel' must be a positive integer or [h, w], got ['5e0', 3] (YAML reads '5e0' as text: "
        "write the integer plainly, as 5)",
    ),
    "exponent_groups": (
        "nodes:\n  - {name: a, type: conv, kernel: 3, groups: 1e0}\n",
        "{f}: nodes[0] (a): 'groups' must be a positive integer, got '1e0' (YAML reads '1e0' as text: write the "
        "integer plainly, as 1)",
    ),
    # groups is never used, but a 32-digit count was accepted and printed (review round 42 F1)
    "huge_groups": (
        "nodes:\n  - {name: a, type: conv, kernel: 3, groups: 99999999999999999999999999999999}\n",
        "{f}: nodes[0] (a): 'groups' must be at most 1048576 (a count of channels; no network has more), got "
        "99999999999999999999999999999999",
    ),
    # a pool has no groups: it was accepted and shown as g7 (review round 42, B-F13)
    "pool_groups": (
        "nodes:\n  - {name: a, type: avgpool, kernel: 2, groups: 7}\n",
        "{f}: nodes[0] (a): 'groups' is not a field of an avgpool layer (fields: ceil_mode, dilation, kernel, padding, "
        "stride)",
    ),
    # a detector preset where a config goes: 'anchors' is not a config key (review round 42, B-F8)
    "a_preset": (
        "name: x\nlevels: [P3]\nanchors: {kind: points}\nassigner: {kind: fcos}\n",
        "{f}: a detector preset (anchors, assigner, levels), not a backbone or neck config (nodes or layers); "
        "recommend takes it as --detector",
    ),
    # the order of inputs chose what a neck's first node read (review round 42, B-F9)
    "neck_first_without_input": (
        "kind: neck\ninputs: [C5, C3]\nnodes:\n  - {name: p, type: conv, kernel: 3}\noutputs: {P3: p}\n",
        "{f}: nodes[0] (p): a neck reads no image, and this one several backbone outputs: its first node needs "
        "'input' (C5, C3)",
    ),
    # a plain list names no input: the advice must be one it can follow (review round 43, D-F7)
    "neck_layers_of_several_inputs": (
        "kind: neck\ninputs: [C4, C5]\nlayers: ['conv:k=1']\noutputs: {P5: L1}\n",
        "{f}: layers: a neck's plain list of layers reads one input, and this neck lists several (C4, C5); list the "
        "one it reads in 'inputs', or write 'nodes' and give the first its 'input'",
    ),
    "float_text_stride": (
        "nodes:\n  - {name: a, type: conv, kernel: 3, stride: '2.0'}\n",
        "{f}: nodes[0] (a): 'stride' must be a positive integer or [h, w], got '2.0' (text, not a number: write 2 "
        "without quotes)",
    ),
    "undefined_template": (
        "nodes:\n  - {name: a, use: block}\n",
        "{f}: nodes[0] (a): template 'block' is not defined; templates: none",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_config_is_one_line_exit_2(case: str, tmp_path: Path) -> None:
    text, expected = CASES[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(text)
    result = CliRunner().invoke(app, ["profile", str(path)])
    assert result.exit_code == 2
    assert result.stderr == "Error: " + expected.replace("{f}", str(path)) + "\n"
    assert result.stdout == ""
    assert "Traceback" not in result.output


def test_allow_misaligned_takes_union_and_warns(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(CASES["misaligned_add"][0])
    table = CliRunner().invoke(app, ["profile", str(path), "--allow-misaligned"])
    assert table.exit_code == 0
    assert "warning: node 'c' (add): inputs are misaligned along y" in table.stdout
    result = CliRunner().invoke(app, ["profile", str(path), "--allow-misaligned", "--json"])
    c = json.loads(result.stdout)["feature_maps"][-1]
    # union of a's [-1, 1] and b's [0, 2]: pixels -1..2, span 4, centred at 0.5
    assert (c["rf"], c["spatial_scale"], c["center"], c["padding"]) == ([4, 4], [4, 4], [0.5, 0.5], [1, 1])
    assert "warning: node 'c' (add)" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["profile", "nope"],
            "unknown backbone 'nope'; expected a YAML or .onnx path, a torch 'module:attribute', or one of: "
            "convnext_tiny, cspdarknet, darknet53, efficientnet_b0, mobilenet_v1, mobilenet_v2, "
            "mobilenet_v3_large, regnetx_400mf, resnet18, resnet34, resnet50, resnet50-caffe, resnet50-tfslim, "
            "resnet101, resnet152, resnext50_32x4d, seed-resnet50, vgg16, vgg16-ssd",
        ),
        (
            ["profile", "resnet50", "--neck", "bifpn"],
            "--neck: unknown neck 'bifpn'; expected a YAML path or one of: fpn, fpn-fcos, fpn-retinanet, pan, ssd",
        ),
        (
            ["profile", "resnet50", "--size", "1333x"],
            "--size: expected W or WxH (width first, e.g. 800 or 1333x800) in positive pixels, got '1333x'",
        ),
        (
            ["profile", "c5only.yaml", "--neck", "fpn"],
            "neck 'fpn' reads C2, C3, C4, C5, but backbone 'c5only' has no C2, C3, C4 (outputs: C5)",
        ),
        (
            ["profile", "vgg16", "--size", "16"],
            "built-in backbone 'vgg16': node 'pool5': its y input is 1 unit, smaller than the "
            "kernel's 2 (the input size is too small for this network)",
        ),
        (
            ["profile", "resnet50", "--plot", "out.jpg"],
            "--plot out.jpg: expected a file ending in .png, .svg, .pdf, got '.jpg'",
        ),
        (["profile", "missing.yaml"], "missing.yaml: no such config file"),
    ],
)
def test_bad_options(args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c5only.yaml").write_text("nodes: [{name: a, type: conv, kernel: 3, stride: 32}]\noutputs: {C5: a}\n")
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr == f"Error: {message}\n"


def test_the_python_api_names_its_argument_where_the_cli_names_its_flag(tmp_path: Path) -> None:
    """The misaligned-merge errors offer what lifts them in the caller's own terms: ``allow_misaligned=True`` to
    ``profile_model`` and ``measure_erf``, ``--allow-misaligned`` to ``profile`` and ``erf``; after a CLI run,
    Python again."""
    from scalematch import profile_model
    from scalematch.errors import GraphError
    from scalematch.profile.erf_measure import measure_erf

    for case, tap in (("misaligned_add", "c"), ("stride_mismatch", "b")):
        text, message = CASES[case]
        path = tmp_path / f"{case}.yaml"
        path.write_text(text)
        result = CliRunner().invoke(app, ["profile", str(path)])
        assert result.exit_code == 2 and f"Error: {message.format(f=path)}" in result.output
        python = message.format(f=path).replace("--allow-misaligned", "allow_misaligned=True")
        with pytest.raises(GraphError) as raised:
            profile_model(str(path))
        assert str(raised.value) == python
        if importlib.util.find_spec("torch") is not None:  # (measure_erf runs the network with torch)
            with pytest.raises(GraphError) as measured:
                measure_erf(str(path), "64x64", tap=tap, samples=1)
            assert str(measured.value) == python
