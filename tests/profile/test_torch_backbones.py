"""Every built-in config against an independent PyTorch build of the same network, imported with torch.fx.

The builds (tests/profile/torch_models.py) follow the source architectures and never read the configs; the
numbers of each named output (stride, RF, padding, centre, union, overlap, ERF sigma per axis, 2-D union
area) must be identical, and the feature sizes the engine predicts must equal the shapes torch computes.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("torch", reason="the 'torch' extra is not installed (pip install '.[torch]')")

from torch_models import BACKBONES, NECKS

from scalematch.profile import Profile, build, profile
from scalematch.profile.importers.config import builtin
from scalematch.profile.importers.torch import Traced, trace

SIZE = (128, 160)


def assert_same(ours: Profile, theirs: Profile, taps: list[str]) -> None:
    for tap in taps:
        a, b = ours[tap], theirs[tap]
        assert a.y is not None and a.x is not None, tap
        assert (a.y, a.x, a.area, a.size) == (b.y, b.x, b.area, b.size), tap


def torch_sizes(traced: Traced, prof: Profile, taps: list[str]) -> dict[str, tuple[int, int]]:
    nodes = {n.name: n for n in traced.module.graph.nodes}
    out = {}
    for tap in taps:
        shape: Any = nodes[traced.fx_names[prof[tap].name]].meta["tensor_meta"].shape
        out[tap] = (int(shape[-2]), int(shape[-1]))
    return out


def test_every_builtin_backbone_has_a_torch_build() -> None:
    assert set(BACKBONES) == set(builtin("backbones"))
    assert {neck for _, neck in NECKS} == set(builtin("necks"))


@pytest.mark.parametrize("name", sorted(BACKBONES))
def test_backbone_matches_its_torch_build(name: str) -> None:
    model, taps = BACKBONES[name]()
    traced = trace(model, SIZE, taps=taps, name=name)
    config = build(name)
    names = [t for t, _ in config.taps]
    assert [t for t, _ in traced.graph.taps] == names
    assert_same(profile(config), profile(traced.graph), names)
    sized, imported = profile(config, SIZE), profile(traced.graph, SIZE)
    assert_same(sized, imported, names)
    assert {t: sized[t].size for t in names} == torch_sizes(traced, imported, names)


@pytest.mark.parametrize(("backbone", "neck"), sorted(NECKS))
def test_neck_matches_its_torch_build(backbone: str, neck: str) -> None:
    model, taps = NECKS[(backbone, neck)]()
    size = (300, 300) if neck == "ssd" else SIZE
    if all(v == "" for v in taps.values()):  # the returned maps, in order
        outputs = [v for _, v in trace(model, size).graph.taps]
        taps = dict(zip(taps, outputs, strict=True))
    traced = trace(model, size, taps=taps)
    config = build(backbone, neck)
    names = list(taps)
    # the toolkits' top-down adds are half a cell off after nearest up-sampling; the configs say align: union,
    # and the importer marks every merge of a nearest up-sampled map so, without --allow-misaligned
    assert_same(profile(config), profile(traced.graph), names)
    sized, imported = profile(config, size), profile(traced.graph, size)
    assert_same(sized, imported, names)
    assert {t: sized[t].size for t in names} == torch_sizes(traced, imported, names)
