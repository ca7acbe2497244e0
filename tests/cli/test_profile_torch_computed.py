"""torch modules with arguments computed from shapes, and the pass-through hint, through the CLI (review round 16
F2, F18): the exact line a user reads, no traceback."""

from __future__ import annotations

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
