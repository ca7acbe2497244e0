"""``scalematch explain``: the printed numbers and sentence, the figure file, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

POOL = """\
map    layer                 stride  rf  union  overlap  erf_sigma
image  input                      1   1      1    0.000       0.00
L1     conv_3x3_stride_1          1   3      3    0.667       0.82
L2     pooling_2x2_stride_2       2   4      4    0.500       0.96

Unit 1 of L2 (rows and columns alike) reads units 2, 3 of L1:
  L1 unit 2  input pixels 1..3
  L1 unit 3  input pixels 2..4
  union of L2 unit 1: input pixels 1..4; 4 pixels, span 4
2-D: 4 regions, one per unit read; their union is 4 x 4 = 16 pixels.

The 2x2/2 max-pool doubles the stride to 2; the receptive field grows by (k−1)·S = 1·1 = 1 to 4.
"""


def test_pooling_after_conv(app: typer.Typer, tmp_path: Path) -> None:
    out = tmp_path / "pool.png"
    result = CliRunner().invoke(app, ["explain", "conv_3x3_stride_1", "pooling_2x2_stride_2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == POOL + f"\nwrote {out}\n"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_strided_conv_sentence(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["explain", "conv_3x3_stride_1", "conv_3x3_stride_1", "conv:k=3,s=2,p=1"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        "The 3x3/2 convolution doubles the stride to 2; the receptive field grows by (k−1)·S = 2·1 = 2 to 7."
    )


def test_backbone_node(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["explain", "resnet50", "--neck", "fpn", "--node", "fpn.up5"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        "The nearest 2x up-sampling halves the stride to 16; the receptive field stays 427; 2 neighbouring "
        "units copy the same unit of fpn.lateral5."
    )


def test_errors_are_one_line(app: typer.Typer, tmp_path: Path) -> None:
    runner = CliRunner()
    cases = [
        (["explain", "conv_3x3_stride_1", "conv_3x3"], "Error: layer 2 'conv_3x3': expected a seed layer name"),
        (["explain", "conv:k=3", "--out", str(tmp_path / "x.jpg")], "Error: --out "),
        (["explain", "resnet50", "--node", "nope"], "Error: --node: no map named 'nope' in resnet50"),
        (["explain", "conv:k=3", "global_avgpool"], "Error: map 'L2' depends on the whole input"),
        (["explain", "add:"], "Error: layer 1 'add:': an add node needs at least 2 inputs, got 1\n"),
        (
            ["explain", "maxpool:k=2,p=2"],
            "Error: layer 1 'maxpool:k=2,p=2': 'padding' of a maxpool layer must be at most half its kernel "
            "(1 along y, as torch requires), got 2\n",
        ),
        (
            ["explain", "maxpool:k=3,d=2,p=2"],
            "Error: layer 1 'maxpool:k=3,d=2,p=2': 'padding' of a maxpool layer must be at most half its kernel "
            "(1 along y, as torch requires), got 2\n",
        ),
        (
            ["explain", "avgpool:k=3,d=1,p=2"],
            "Error: layer 1 'avgpool:k=3,d=1,p=2': 'padding' of a avgpool layer must be at most half its kernel "
            "(1 along y, as torch requires), got 2\n",
        ),
        (["explain", "conv:k=3", "add:"], "Error: layer 2 'add:': an add node needs at least 2 inputs, got 1\n"),
    ]
    for args, start in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, args
        assert result.stderr.startswith(start), result.stderr
        assert result.stderr.count("\n") == 1


def test_a_torch_module_or_an_onnx_file_is_sent_to_profile(app: typer.Typer, tmp_path: Path) -> None:
    """``explain t1:T_base`` said ``layer 1 't1:T_base': expected key=value``, ``explain m.onnx`` listed the seed
    layers (review round 16 F20): one line says what explain takes and which commands take these models."""
    onnx_file = tmp_path / "m.onnx"
    onnx_file.write_bytes(b"")  # never read
    for spec, kind in (("torchvision.models:resnet18", "a torch module"), (str(onnx_file), "an ONNX file")):
        for args in (["explain", spec], ["explain", "conv:k=3", spec]):
            result = CliRunner().invoke(app, args)
            assert (result.exit_code, result.stderr) == (
                2,
                f"Error: '{spec}' is {kind}: explain takes a built-in backbone, a YAML config or layer specs; "
                f"profile and erf take torch modules and ONNX files (scalematch profile {spec})\n",
            )


def test_every_pair_is_width_first(app: typer.Typer, tmp_path: Path) -> None:
    """A kernel of 3 rows and 5 columns with strides 2 (rows) and 1 (columns): profile printed the layer height
    first (k3x5 s2x1) beside width-first columns, explain everything height first (review round 11, F15). Every
    pair is now width first, as the README says: kernel 5x3, stride 1x2, RF and union 5x3 (3 rows, 5 columns),
    padding 2x1 (1 row, 2 columns), and on a 64x32 (WxH) input a (32 + 2 - 3) // 2 + 1 = 16-row map of
    (64 + 4 - 5) + 1 = 64 columns."""
    config = tmp_path / "k35.yaml"
    config.write_text("nodes:\n  - {name: a, type: conv, kernel: [3, 5], stride: [2, 1], padding: [1, 2]}\n")
    profile = CliRunner().invoke(app, ["profile", str(config), "--size", "64x32"])
    assert profile.exit_code == 0, profile.output
    assert profile.stdout.splitlines()[-1].split() == [
        "a", "conv", "k5x3", "s1x2", "1x2", "5x3", "2x1", "5x3", "0.800x0.333", "1.4x0.8", "64x16"
    ]  # fmt: skip
    explain = CliRunner().invoke(app, ["explain", str(config)])
    assert explain.exit_code == 0, explain.output
    lines = explain.stdout.splitlines()
    assert lines[2].split() == ["a", "conv", "k5x3", "s1x2", "1x2", "5x3", "5x3", "0.800x0.333", "1.41x0.82"]
    assert "2-D: 15 regions, one per unit read; their union is 5 x 3 (WxH) = 15 pixels." in lines
    # the sentence says its pairs are width first, as the 2-D line does (the spec is typed height first)
    assert lines[-1].startswith("The 5x3/1x2 (WxH) convolution, along y, doubles the stride to 2;")


def test_the_library_function_gives_what_the_command_prints(app: typer.Typer) -> None:
    """``scalematch.explain`` is the command's function: its result, written as text, is the command's output,
    for layer specs, a backbone's node with a neck and a unit, and a Profile made first."""
    import scalematch as sm
    from scalematch.report.explain_text import explain_text

    specs = ["conv_3x3_stride_1", "pooling_2x2_stride_2"]
    cases = [
        (specs, sm.explain(specs)),
        (["resnet18", "--node", "C3", "--neck", "fpn", "--unit", "7"], sm.explain("resnet18", "C3", 7, neck="fpn")),
        (["resnet18", "--node", "C4"], sm.explain(sm.profile_model("resnet18"), "C4")),
    ]
    for args, result in cases:
        printed = CliRunner().invoke(app, ["explain", *args])
        assert printed.exit_code == 0, printed.output
        assert printed.stdout == explain_text(result, dict(result.labels)) + "\n"
    assert sm.explain(specs).labels == (("L1", specs[0]), ("L2", specs[1]))
    assert explain_text(sm.explain(specs), dict(sm.explain(specs).labels)) + "\n" == POOL
