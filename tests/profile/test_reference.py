"""Published and hand-derived numbers (../shared/reference/receptive_fields.md) reproduced from our configs."""

from __future__ import annotations

from fractions import Fraction

import pytest

from scalematch.profile import Window, build, from_layers, profile

SEED_RESNET50 = {  # point: (spatial scale width = r, jump, overlap)
    "conv1": (7, 2, 0.714286),
    "maxpool": (11, 4, 0.636364),
    "C2": (35, 4, 0.885714),
    "C3": (99, 8, 0.919192),
    "C4": (291, 16, 0.945017),
    "C5": (483, 32, 0.933747),
}


def test_seed_resnet50_points() -> None:
    p = profile(build("seed-resnet50"))
    for point, (width, jump, overlap) in SEED_RESNET50.items():
        for axis in (p[point].y, p[point].x):
            assert axis is not None
            assert (axis.union, axis.rf, int(axis.stride)) == (width, width, jump)
            assert axis.stride.denominator == 1
            assert axis.overlap == pytest.approx(overlap, abs=5e-7)
            assert axis.overlap == pytest.approx(1 - jump / width, abs=1e-12)  # contiguous: 1 - S/r


def test_seed_resnet50_width_after_each_3x3() -> None:
    p = profile(build("seed-resnet50"))
    widths = [
        fm.x.union
        for fm in p.feature_maps
        if fm.x and isinstance(fm.layer, Window) and fm.layer.kind == "conv" and fm.layer.kernel == (3, 3)
    ]
    assert widths == [19, 27, 35, 51, 67, 83, 99, 131, 163, 195, 227, 259, 291, 355, 419, 483]


def test_seed_dilated_layers_grow_linearly() -> None:
    p = profile(from_layers(["conv_3x3_stride_1_dilate_2"] * 5))
    last = p.feature_maps[-1].x
    assert last is not None
    assert (last.rf, last.union) == (21, 11)
    assert [fm.x.rf for fm in p.feature_maps if fm.x] == [5, 9, 13, 17, 21]
    assert p.feature_maps[-1].area == 121


def test_seed_names_python_and_yaml_agree(tmp_path) -> None:  # type: ignore[no-untyped-def]
    names = [
        "conv_7x7_stride_2",
        "pooling_3x3_stride_2",
        "conv_3x3_stride_2",
        "pooling_2x2_stride_2",
        "conv_1x1_stride_2",
        "conv_1x1_stride_1",
        "conv_3x3_stride_1",
        "conv_3x3_stride_1_dilate_2",
    ]
    path = tmp_path / "seed.yaml"
    path.write_text("layers:\n" + "".join(f"  - {n}\n" for n in names))
    a = profile(from_layers(names))
    b = profile(build(str(path)))
    assert [fm.x for fm in a.feature_maps] == [fm.x for fm in b.feature_maps]
    # by hand: 7; 7+2*2=11; 3x3 at jump 4: 11+2*4=19; 2x2 at jump 8: 19+8=27; 1x1s keep 27;
    # 3x3 at jump 32: 27+2*32=91; dilated 3x3 (k_eff 5) at jump 32: 91+4*32=219
    assert [fm.x.rf for fm in a.feature_maps if fm.x] == [7, 11, 19, 27, 27, 27, 91, 219]
    assert [fm.x.stride for fm in a.feature_maps if fm.x] == [2, 4, 8, 16, 32, 32, 32, 32]


@pytest.mark.parametrize(
    ("name", "rf", "padding"),
    [
        ("resnet50", (35, 91, 267, 427), (17, 45, 133, 213)),
        ("resnet50-caffe", (35, 99, 291, 483), None),
    ],
)
def test_resnet50_layouts(name: str, rf: tuple[int, ...], padding: tuple[int, ...] | None) -> None:
    p = profile(build(name))
    levels = [p[f"C{k}"].x for k in (2, 3, 4, 5)]
    assert [a.rf for a in levels if a] == list(rf)
    assert [a.stride for a in levels if a] == [4, 8, 16, 32]
    if padding:
        assert [a.padding for a in levels if a] == list(padding)


VGG16 = {  # TF-slim RECEPTIVE_FIELD_TABLE.md: RF | stride | padding
    "conv1_1": (3, 1, 1),
    "pool1": (6, 2, 2),
    "conv2_1": (10, 2, 4),
    "pool2": (16, 4, 6),
    "conv3_1": (24, 4, 10),
    "conv3_2": (32, 4, 14),
    "pool3": (44, 8, 18),
    "conv4_1": (60, 8, 26),
    "conv4_2": (76, 8, 34),
    "pool4": (100, 16, 42),
    "conv5_1": (132, 16, 58),
    "conv5_2": (164, 16, 74),
    "pool5": (212, 32, 90),
}


def test_vgg16_matches_tf_slim_table() -> None:
    p = profile(build("vgg16"), input_size=(224, 224))
    for name, expected in VGG16.items():
        for axis in (p[name].y, p[name].x):
            assert axis is not None
            assert (axis.rf, int(axis.stride), axis.padding) == expected, name


def test_same_padding_matches_explicit_for_vgg16(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """TF 'SAME' at 224 input resolves to padding 1 on 3x3/1 convs and 0 on 2x2/2 pools."""
    text = build("vgg16")
    spec = "\n".join(
        f"  - {{name: {n.name}, type: {'conv' if n.name.startswith('conv') else 'maxpool'}, kernel: "
        f"{3 if n.name.startswith('conv') else 2}, stride: {1 if n.name.startswith('conv') else 2}, padding: same}}"
        for n in text.nodes
    )
    path = tmp_path / "vgg_same.yaml"
    path.write_text("nodes:\n" + spec + "\n")
    same = profile(build(str(path)), input_size=(224, 224))
    explicit = profile(text, input_size=(224, 224))
    assert [(fm.x, fm.size) for fm in same.feature_maps] == [(fm.x, fm.size) for fm in explicit.feature_maps]


@pytest.mark.parametrize(
    ("name", "c5_rf"),
    # Widely published torchvision receptive fields (e.g. the google-research receptive_field table and
    # hand derivations): ResNet-18 435, ResNet-34 899, ResNet-101 971, ResNet-152 1451, MobileNetV2 491.
    [("resnet18", 435), ("resnet34", 899), ("resnet101", 971), ("resnet152", 1451), ("mobilenet_v2", 491)],
)
def test_other_backbones_c5(name: str, c5_rf: int) -> None:
    p = profile(build(name))
    c5 = p["C5"].x
    assert c5 is not None
    assert (c5.rf, c5.stride) == (c5_rf, Fraction(32))
    # every backbone here is centre-aligned: unit 0 is centred on pixel 0 at every output
    assert all(fm.x is not None and fm.x.center == 0 for fm in p.taps.values())


def test_feature_sizes_resnet50_800x1333() -> None:
    p = profile(build("resnet50"), input_size=(800, 1333))
    assert [p[f"C{k}"].size for k in (2, 3, 4, 5)] == [(200, 334), (100, 167), (50, 84), (25, 42)]


def test_input_boxes_follow_the_box_formula_and_clip() -> None:
    """Unit (i, j) reads [i*S - P, i*S - P + r - 1], clipped to the image when an input size is given."""
    p = profile(build("resnet50"), input_size=(600, 1000))
    c4 = p["C4"]
    assert c4.y is not None and c4.size == (38, 63)
    s, pad, r = int(c4.y.stride), c4.y.padding, c4.y.rf
    for i, j in [(0, 0), (5, 9), (37, 62), (20, 40)]:
        unclipped = c4.input_box(i, j)
        assert unclipped == ((i * s - pad, i * s - pad + r - 1), (j * s - pad, j * s - pad + r - 1))
        (y0, y1), (x0, x1) = unclipped
        assert p.input_box("C4", i, j) == ((max(y0, 0), min(y1, 599)), (max(x0, 0), min(x1, 999)))
    assert p.input_box("C4", 0, 0) == ((0, 133), (0, 133))


def test_global_pool_reads_the_whole_input_and_needs_a_size(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "g.yaml"
    path.write_text("nodes:\n  - {name: c, type: conv, kernel: 3, padding: 1}\n  - {name: g, type: global_avgpool}\n")
    sized = profile(build(str(path)), input_size=(10, 6))
    g = sized["g"]
    assert g.size == (1, 1) and g.y is not None and g.x is not None
    # units 0..9 of the 3x3 conv read pixels -1..10 (padding included, as the RF convention counts it)
    assert (g.y.rf, g.y.union, g.y.padding) == (12, 12, 1)
    assert (g.x.rf, g.x.union) == (8, 8)
    assert g.area == 96
    # uniform mixture of the ten 3-tap units: variance = 2/3 (within a unit) + var(0..9) = 2/3 + 99/12
    assert abs(g.y.erf_sigma**2 - (2 / 3 + 99 / 12)) < 1e-12
    unsized = profile(build(str(path)))
    assert unsized["g"].y is None and unsized["g"].area is None


@pytest.mark.parametrize(
    ("name", "rf", "stride", "padding"),
    # google-research/receptive_field RECEPTIVE_FIELD_TABLE.md, TF-slim nets at 224 input
    [("mobilenet_v1", 315, 32, 126), ("resnet50-tfslim", 483, 32, 239)],
)
def test_tf_slim_table_headline_rows(name: str, rf: int, stride: int, padding: int) -> None:
    p = profile(build(name), input_size=(224, 224))
    for axis in (p["C5"].y, p["C5"].x):
        assert axis is not None
        assert (axis.rf, int(axis.stride), axis.padding) == (rf, stride, padding)
    assert p["C5"].size == (7, 7)


def test_ssd300_map_sizes() -> None:
    """SSD300's six maps are 38, 19, 10, 5, 3, 1 cells at 300x300 (Liu et al. 2016, Table/Fig. 2)."""
    p = profile(build("vgg16-ssd", "ssd"), input_size=(300, 300))
    assert [p[f"P{k}"].size for k in range(3, 9)] == [(n, n) for n in (38, 19, 10, 5, 3, 1)]
    assert [p[f"P{k}"].x.stride for k in range(3, 9)] == [8, 16, 32, 64, 64, 64]  # type: ignore[union-attr]
    fc7 = p["C4"].x
    assert fc7 is not None and (fc7.rf, int(fc7.stride)) == (420, 16)  # fc6: dilation 6 at stride 16 adds 2 x 96


def test_sppf_chained_pools_add_as_spp() -> None:
    """SPPF's three chained 5x5/1 max-pools at stride 32 add 3 x 4 x 32 = 384 px, as SPP's 13x13 pool."""
    p = profile(build("cspdarknet"))
    before, after = p["model.8.cv3"].x, p["C5"].x
    assert before is not None and after is not None
    assert after.rf - before.rf == 3 * 4 * 32
