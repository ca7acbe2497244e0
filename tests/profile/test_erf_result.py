"""The result of ``measure_erf`` is a result like the others (review round 18, F12): ``to_dict()`` is the
``scalematch erf --json`` document, ``to_frame()`` a one-row DataFrame and its ``repr`` one line."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

pytest.importorskip("torch", reason="the 'torch' extra is not installed (pip install '.[torch]')")

from scalematch.cli.main import app
from scalematch.profile.erf_measure import MeasuredErf, measure_erf


@pytest.fixture(scope="module")
def wide() -> MeasuredErf:
    """resnet18's C3 on a 96x64 (WxH) input: not square, so that the axes cannot be mixed up unseen."""
    return measure_erf("resnet18", "96x64", "C3", samples=1)


def test_to_dict_is_the_erf_json_document(wide: MeasuredErf) -> None:
    run = CliRunner().invoke(app, ["erf", "resnet18", "--tap", "C3", "--samples", "1", "--size", "96x64", "--json"])
    assert run.exit_code == 0, run.output
    assert wide.to_dict() == json.loads(run.stdout)
    doc = json.loads(json.dumps(wide.to_dict()))  # plain JSON
    assert doc["input_size"] == [64, 96] and doc["rf"] == [99, 99]  # pairs are [y, x]
    assert doc["squares"] == {f"{share:g}": side for share, side in wide.squares}
    assert doc["clipped"] is wide.clipped


def test_to_frame_is_one_row_of_the_document(wide: MeasuredErf) -> None:
    import pandas as pd

    frame = wide.to_frame()
    assert len(frame) == 1
    row = frame.iloc[0]
    assert (row["model"], row["tap"], row["node"], row["weights"], row["samples"]) == (
        "resnet18", "C3", "layer2.1.add", "uniform", 1,
    )  # fmt: skip
    assert (row["input_size_h"], row["input_size_w"]) == (64, 96)
    assert (row["unit_h"], row["unit_w"]) == wide.unit
    assert (row["sigma_h"], row["sigma_w"]) == tuple(round(v, 4) for v in wide.sigma)
    assert (row["analytic_sigma_h"], row["analytic_sigma_w"]) == tuple(round(v, 4) for v in wide.analytic_sigma)
    assert [c for c in frame.columns if c.startswith("square_")] == ["square_0.2", "square_0.5", "square_0.9",
                                                                      "square_0.99"]  # fmt: skip
    assert row["square_0.5"] == dict(wide.squares)[0.5]
    assert bool(row["clipped"]) is wide.clipped
    assert len(pd.concat([frame, frame], ignore_index=True)) == 2  # measurements side by side


def test_repr_is_one_line() -> None:
    r = measure_erf("resnet18", tap="C3", samples=1)  # 160x160, the field inside: uniform weights give sigma 9.9
    assert repr(r) == (
        "<MeasuredErf resnet18 C3: sigma 9.9 px (analytic 9.9), rf 99 px, 160x160 (WxH) input, uniform weights, "
        "1 sample>"
    )


def test_repr_shows_both_axes_width_first_and_a_clipped_field(wide: MeasuredErf) -> None:
    text = repr(wide)
    assert "\n" not in text and len(text) < 200
    sigma_y, sigma_x = wide.sigma
    assert f"sigma {sigma_x:.1f} x {sigma_y:.1f} (WxH) px" in text
    assert text.endswith(", 96x64 (WxH) input, uniform weights, 1 sample, clipped by the input's border>")
    assert wide.clipped  # a 99-px field in a 64-px high input
