"""Shared fixtures for the report tests: real datasets matched once per module, artist look-up by gid."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from scalematch.dataset import LoadResult, load, sample_path
from scalematch.match.design import Design, design

DATA = Path(__file__).parent.parent / "data"


def designed(
    name: str | Path, backbone: str = "resnet50", neck: str | None = "fpn", **kw: Any
) -> tuple[LoadResult, Design]:
    data = load(DATA / name)
    return data, design(data, backbone, neck, **kw)


@pytest.fixture(scope="package")
def coco() -> tuple[LoadResult, Design]:
    """COCO val2014, 100 images (830 usable objects), resnet50 + fpn, rule rf."""
    return designed(sample_path())


@pytest.fixture(scope="package")
def lvis() -> tuple[LoadResult, Design]:
    """LVIS val, 100 images, 1,230 categories declared."""
    return designed("fce_lvis_val_100.json")


def _by_gid(fig: Any, prefix: str) -> dict[str, Any]:
    found = {}
    for ax in fig.axes:
        for artist in ax.get_children():
            gid = artist.get_gid()
            if gid and gid.startswith(prefix):
                found[gid[len(prefix) :]] = artist
    return found


@pytest.fixture
def by_gid() -> Callable[[Any, str], dict[str, Any]]:
    """``by_gid(fig, prefix)``: every artist of ``fig`` whose gid starts with ``prefix``, keyed by the rest."""
    return _by_gid


@pytest.fixture(autouse=True)
def _rc_untouched() -> Iterator[None]:
    """No plotting function may leave a global rcParams change behind."""
    import matplotlib as mpl

    before = dict(mpl.rcParams)
    yield
    after = dict(mpl.rcParams)
    changed = {k for k in before if before[k] != after[k] and k != "backend"}
    assert not changed, f"rcParams changed: {sorted(changed)[:5]}"
