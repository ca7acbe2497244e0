"""The explain figure draws exactly the profile's unit sets: one rectangle per row run x column run."""

from __future__ import annotations

from collections import defaultdict

from matplotlib.figure import Figure
from matplotlib.patches import Ellipse, Rectangle

from scalematch.profile import from_layers, profile
from scalematch.profile.explain import Explanation, explain
from scalematch.report.explain_plot import explain_figure

Box = tuple[int, int, int, int]


def _drawn(fig: Figure) -> dict[str, set[Box]]:
    """Rectangles of the input panel by gid, as half-open pixel boxes (y0, y1, x0, x1); the outlines and the grey
    of the pixels outside the image (checked in tests/profile/test_explain_edges.py) left out."""
    out: dict[str, set[Box]] = defaultdict(set)
    for patch in fig.axes[0].patches:
        gid = patch.get_gid()
        if isinstance(patch, Rectangle) and gid and gid not in ("edge", "outside"):
            x, y = patch.get_xy()
            x0, y0 = x + 0.5, y + 0.5  # pixel i is centred on coordinate i
            assert x0 == int(x0) and y0 == int(y0)
            box = (int(y0), int(y0 + patch.get_height()), int(x0), int(x0 + patch.get_width()))
            out[gid].add(box)
    return out


def _expected(exp: Explanation) -> dict[str, set[Box]]:
    out = {f"region {r.source} {r.unit[0]},{r.unit[1]}": set(r.rectangles()) for r in exp.regions}
    out["union"] = set(exp.union.rectangles())
    return out


def test_pooling_after_conv_draws_four_regions_and_their_union() -> None:
    exp = explain(profile(from_layers(["conv_3x3_stride_1", "pooling_2x2_stride_2"])))
    drawn = _drawn(explain_figure(exp))
    # the profile's sets, written out: conv units 2 and 3 cover pixels 1-3 and 2-4 on each axis
    assert drawn == {
        "region L1 2,2": {(1, 4, 1, 4)},
        "region L1 2,3": {(1, 4, 2, 5)},
        "region L1 3,2": {(2, 5, 1, 4)},
        "region L1 3,3": {(2, 5, 2, 5)},
        "union": {(1, 5, 1, 5)},
    }
    assert drawn == _expected(exp)


def test_dilation_gaps_are_drawn() -> None:
    exp = explain(profile(from_layers(["conv_3x3_stride_1_dilate_2"] * 2)))
    drawn = _drawn(explain_figure(exp))
    assert drawn == _expected(exp)
    # the union is every other pixel of a 9-pixel span: 5 x 5 single-pixel cells
    assert len(drawn["union"]) == 25
    assert all(y1 - y0 == 1 and x1 - x0 == 1 for y0, y1, x0, x1 in drawn["union"])
    covered = {
        (y, x) for boxes in drawn.values() for y0, y1, x0, x1 in boxes for y in range(y0, y1) for x in range(x0, x1)
    }
    assert covered == {(y, x) for y in range(0, 9, 2) for x in range(0, 9, 2)}


def test_erf_ellipse_and_side_panels() -> None:
    exp = explain(profile(from_layers(["conv_3x3_stride_1", "pooling_2x2_stride_2"])))
    fig = explain_figure(exp)
    (erf,) = [p for p in fig.axes[0].patches if p.get_gid() == "erf"]
    assert isinstance(erf, Ellipse)
    assert erf.center == (2.5, 2.5)
    assert erf.width == 2 * exp.erf_sigma[1]
    assert len(fig.axes) == 3  # input, output map, the one input map


def test_given_axes_gets_the_input_panel_only() -> None:
    exp = explain(profile(from_layers(["conv_3x3_stride_1", "pooling_2x2_stride_2"])))
    fig = Figure()
    ax = fig.add_subplot()
    assert explain_figure(exp, ax=ax) is fig
    assert len(fig.axes) == 1
    assert _drawn(fig) == _expected(exp)


def test_many_units_read_are_drawn_as_their_union_and_one_image() -> None:
    """Two 64x64/64 convolutions read 4096 units: one patch each (and 4096 map cells, and 66 x 66 grid cells) took
    10 s, and 256x256/256 gigabytes (review round 11, F23). Beyond 1024 units the regions are their filled union
    and the map cells one image whose coloured pixels are exactly the units read; at 1024 they are drawn one by
    one still."""
    from matplotlib.image import AxesImage

    exp = explain(profile(from_layers(["conv:k=64,s=64", "conv:k=64,s=64"])))
    fig = explain_figure(exp)
    drawn = _drawn(fig)
    assert drawn == {"regions": {(0, 4096, 0, 4096)}, "union": {(0, 4096, 0, 4096)}}
    assert "4096 unit(s) read (drawn as their union)" in fig.axes[0].get_title(loc="left")
    (image,) = [im for im in fig.axes[2].get_images() if isinstance(im, AxesImage)]
    assert image.get_gid() == "cells" and len(fig.axes[2].patches) == 0
    pixels = image.get_array()
    assert pixels is not None and pixels.shape[:2] == (66, 66)  # units -1..64 of L1
    coloured = {(y - 1, x - 1) for y in range(66) for x in range(66) if tuple(pixels[y, x]) != (1.0, 1.0, 1.0, 1.0)}
    assert coloured == {(y, x) for y in range(64) for x in range(64)}
    at_bound = explain(profile(from_layers(["conv:k=32,s=32", "conv:k=32,s=32"])))
    assert _drawn(explain_figure(at_bound)) == _expected(at_bound)  # 1024 regions: one by one


def test_few_units_of_many_runs_each_are_drawn_as_their_union() -> None:
    """Four units of a 64-dilated 64x64 kernel are 64 x 64 rectangles each: drawn one by one, a 1024-dilated kernel
    never finished (over 180 s and 2.6 GB: review round 47, F5). Beyond 1024 rectangles in all the regions are
    their union (here its span, the union itself having 128 x 128 runs); at 1024 (four units of 16 x 16) they are
    drawn one by one still."""
    exp = explain(profile(from_layers(["conv:k=64,d=64", "conv:k=2"])))
    assert len(exp.regions) == 4 and all(len(r.rows) * len(r.cols) == 64 * 64 for r in exp.regions)
    fig = explain_figure(exp)
    drawn = _drawn(fig)
    assert set(drawn) == {"regions", "union"} and len(drawn["regions"]) == 1
    assert "4 unit(s) read (drawn as their span)" in fig.axes[0].get_title(loc="left")
    few = explain(profile(from_layers(["conv:k=16,d=16", "conv:k=2"])))
    assert sum(len(r.rows) * len(r.cols) for r in few.regions) == 1024
    assert _drawn(explain_figure(few)) == _expected(few)
