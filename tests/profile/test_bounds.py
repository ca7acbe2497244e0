"""Bounds of the exact profile: feature-map sides and geometry periods are refused before anything grows."""

from __future__ import annotations

import pytest

from scalematch.errors import GraphError
from scalematch.profile import from_layers, profile
from scalematch.profile.engine import MAX_MAP_SIDE, MAX_PERIOD, feature_sizes


def test_a_map_beyond_the_side_bound_is_refused_with_its_size() -> None:
    graph = from_layers(["conv:k=3", "upsample:f=1024"])
    with pytest.raises(GraphError) as info:
        profile(graph, (64, 64))
    assert str(info.value) == (
        "<layers>: node 'L2': its feature map would be 63488x63488 units (HxW); expected at most 16384 per side "
        "(larger maps would exhaust memory)"
    )
    with pytest.raises(GraphError, match="63488x63488"):
        feature_sizes(graph, (64, 64))
    side = (MAX_MAP_SIDE // 1024 + 2, 8)  # (18 - 2) * 1024 = 16384 rows: just within
    assert profile(graph, side)["L2"].size == (16384, 6144)
    with pytest.raises(GraphError, match="17408x6144"):
        profile(graph, (side[0] + 1, 8))


def test_a_period_beyond_the_bound_is_refused_and_one_within_runs() -> None:
    assert MAX_PERIOD == 1024
    within = profile(from_layers(["upsample:f=32", "upsample:f=32"]))  # period 1024: the bound itself
    assert within["L2"].y is not None
    with pytest.raises(GraphError) as info:
        profile(from_layers(["upsample:f=32", "upsample:f=33"]))
    assert str(info.value) == (
        "<layers>: node 'L2': its y geometry would repeat only every 1056 units (up-sampling that no stride "
        "undoes); expected at most 1024 (longer periods would not finish)"
    )
