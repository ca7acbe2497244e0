"""torch modules with arguments computed from shapes, and the pass-through hint, through the CLI (review round 16
F2, F18): the exact line a user reads, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scalematch.cli.main import app

pytest.importorskip("torch", reason="the 'torch' extra is not installed (pip install '.[torch]')")

MODELS = str(Path(__file__).resolve().parents[1] / "profile")
DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.mark.parametrize(
    "args",
    [
        ["profile", "torch_computed_models:PadToMultiple", "--size", "28x20", "--outputs-only"],
        ["erf", "torch_computed_models:PadToMultiple", "--size", "32x32", "--samples", "2"],
        [
            "recommend",
            str(DATA / "rbc_valid.json"),
            "--rule",
            "rf",
            "--backbone",
            "torch_computed_models:PadToMultiple",
        ],
    ],
)
def test_a_pad_to_a_multiple_computed_from_the_shape_runs(args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Swin's and UNet's ``F.pad(a, (0, (8 - w % 8) % 8, ...))`` ended in a traceback in every command."""
    monkeypatch.syspath_prepend(MODELS)
    result = CliRunner().invoke(app, args)
    if args[0] == "recommend":  # imported: then the neck finds no C2-C5 taps, a one-line error
        assert (result.exit_code, result.stdout) == (2, ""), result.output
        assert result.stderr == (
            "Error: neck 'fpn' reads C2, C3, C4, C5, but backbone 'PadToMultiple' has no C2, C3, C4, C5 (outputs: "
            "pool)\n"
        )
        return
    assert result.exit_code == 0, result.output
    if args[0] == "profile":  # 28x20 padded to 32x24, then a window of 8: 4x3 (WxH), as torch gives
        rows = [line.split() for line in result.stdout.splitlines() if line.startswith("pool ")]
        assert [(r[-7], r[-1]) for r in rows] == [("8", "4x3")]


def test_the_pass_through_hint_is_what_a_user_types(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hint read ``(--passthrough ['LPPool2d' or 'p'], CLI --passthrough)``, which does not run (F18)."""
    monkeypatch.syspath_prepend(MODELS)
    refused = CliRunner().invoke(app, ["profile", "torch_computed_models:Shrunk", "--size", "32x24"])
    assert (refused.exit_code, refused.stdout) == (2, "")
    assert refused.stderr == (
        "Error: torch_computed_models:Shrunk: node 'p': unsupported operation 'Hardshrink'; declare it pass-through if "
        "it keeps the geometry (--passthrough Hardshrink, or --passthrough p for this module only)\n"
    )
    for declared in ("Hardshrink", "p"):
        args = ["profile", "torch_computed_models:Shrunk", "--size", "32x24", "--passthrough", declared]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output


def test_erf_traces_a_module_read_at_its_size_again_where_it_measures(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --size, the module traced at 224x224 was measured at the default size with the kernel read at 224:
    "Error: ...: 'avg_pool2d' is (8, 8) when run, the profile says (5, 5)" (review round 17 F9)."""
    monkeypatch.syspath_prepend(MODELS)
    result = CliRunner().invoke(app, ["erf", "torch_computed_models:QuarterKernel", "--samples", "1", "--json"])
    assert result.exit_code == 0, result.output
    # at 224 the kernel is 28 (RF 30): the default size is 30 + 4 strides of 28 rounded up to 32, 160; traced
    # again there, the kernel is 160 // 8 = 20 and the RF 3 + 20 - 1 = 22
    doc = json.loads(result.stdout)
    assert (doc["input_size"], doc["rf"]) == ([160, 160], [22, 22])


def test_erf_on_a_module_that_fails_at_the_default_size_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """It was a 66-line traceback ending in the RuntimeError (review round 17 F4)."""
    monkeypatch.syspath_prepend(MODELS)
    result = CliRunner().invoke(app, ["erf", "torch_computed_models:PositionGrid", "--samples", "1"])
    assert (result.exit_code, result.stdout) == (2, ""), result.output
    assert result.stderr == (
        "Error: torch_computed_models:PositionGrid: measuring 'add': running the module on 64x64 (WxH) inputs "
        "failed (RuntimeError: The size of tensor a (16) must match the size of tensor b (56) at non-singleton "
        "dimension 3) (the default: the RF plus four strides); give --size WxH at which the module runs\n"
    )
    result = CliRunner().invoke(app, ["erf", "torch_computed_models:PositionGrid", "--samples", "1", "--size", "224"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("detector", [None, "retinanet"])
def test_recommend_refuses_a_backbone_whose_geometry_follows_the_input_size(
    detector: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It was traced at 224x224 and matched at every image's input size as if the pad were the one at 224 (review
    round 17 F3); the same pyramid without the pad is recommended for."""
    monkeypatch.syspath_prepend(MODELS)
    how = ["--rule", "rf", "--neck", "fpn-retinanet"] if detector is None else ["--detector", detector]
    args = ["recommend", str(DATA / "rbc_valid.json"), *how, "-q", "--backbone"]
    result = CliRunner().invoke(app, [*args, "torch_computed_models:PaddedPyramid"])
    assert (result.exit_code, result.stdout) == (2, ""), result.output
    assert result.stderr == (
        "Error: --backbone: 'torch_computed_models:PaddedPyramid' reads the input's size (node 'pad' (pad) takes "
        "arguments computed from the input's shape, traced at 224x224), so its geometry changes with each image's "
        "input size under the resize policy; expected a backbone whose geometry holds at every size (profile it at "
        "one size with: scalematch profile torch_computed_models:PaddedPyramid --size WxH)\n"
    )
    result = CliRunner().invoke(app, [*args, "torch_computed_models:Pyramid"])
    assert result.exit_code == 0, result.output


def test_recommend_refuses_an_up_sampling_to_one_side_of_a_skip(monkeypatch: pytest.MonkeyPatch) -> None:
    """``F.interpolate(z, size=y.shape[-1])`` traced at 224x224 was taken to follow ``y`` at every size, and
    recommended for with stride 2 where torch up-samples the skip's width to a square (review round 18 F2)."""
    monkeypatch.syspath_prepend(MODELS)
    args = ["recommend", str(DATA / "rbc_valid.json"), "--rule", "rf", "--neck", "none", "--levels", "c", "-q"]
    result = CliRunner().invoke(app, [*args, "--backbone", "torch_computed_models:UpToWidth"])
    assert (result.exit_code, result.stdout) == (2, ""), result.output
    assert result.stderr == (
        "Error: --backbone: 'torch_computed_models:UpToWidth' reads the input's size (node 'interpolate' "
        "(interpolate) up-samples to a size, its factor read from the sizes in that run, traced at 224x224), so its "
        "geometry changes with each image's input size under the resize policy; expected a backbone whose geometry "
        "holds at every size (profile it at one size with: scalematch profile torch_computed_models:UpToWidth "
        "--size WxH)\n"
    )
