"""The axis algebra of the importers against brute force: random reshapes and permutes of a tensor whose
elements carry their source row, column and image (numpy), checked element by element. Whenever the algebra
reads a feature map, every element is where it says; whenever it refuses one it followed, no space-to-depth /
depth-to-space reading fits. (When it gives up on an uneven split, the importer refuses: never wrong, at worst
too careful.)"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scalematch.profile.layout import Layout, as_feature_map, canonical, permute, reshape


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


@st.composite
def rearrangements(draw: st.DrawFn) -> tuple[tuple[int, ...], list[tuple[str, tuple[int, ...]]]]:
    """A 4-D (N, C, H, W) shape and 1-4 reshapes/permutes; often a space-to-depth or depth-to-space."""
    n, c = draw(st.sampled_from([1, 2])), draw(st.sampled_from([1, 2, 3, 4]))
    h, w = draw(st.sampled_from([4, 6, 8, 12])), draw(st.sampled_from([4, 6, 8]))
    shape = (n, c, h, w)
    ops: list[tuple[str, tuple[int, ...]]] = []
    kind = draw(st.sampled_from(["s2d", "d2s", "random"]))
    if kind == "s2d":
        b = draw(st.sampled_from([d for d in divisors(math.gcd(h, w)) if d > 1]))
        moved = draw(st.permutations([1, 3, 5]))
        ops = [("reshape", (n, c, h // b, b, w // b, b)), ("permute", (0, *moved, 2, 4))]
        ops.append(("reshape", (n, c * b * b, h // b, w // b)))
    elif kind == "d2s":
        r = draw(st.sampled_from([2, 3]))
        c2 = c * r * r
        shape = (n, c2, h, w)
        ops = [("reshape", (n, c, r, r, h, w)), ("permute", (0, 1, 4, 2, 5, 3)), ("reshape", (n, c, h * r, w * r))]
    current = list(ops[-1][1] if ops else shape)
    for _ in range(draw(st.integers(0 if ops else 1, 3))):
        if draw(st.booleans()):
            order = tuple(draw(st.permutations(range(len(current)))))
            ops.append(("permute", order))
            current = [current[k] for k in order]
        else:
            total = math.prod(current)
            new: list[int] = []
            rest = total
            for _ in range(draw(st.integers(1, 4))):
                d = draw(st.sampled_from(divisors(rest)))
                new.append(d)
                rest //= d
            new.append(rest)
            ops.append(("reshape", tuple(new)))
            current = list(new)
    return shape, ops


def follow(shape: tuple[int, ...], ops: list[tuple[str, tuple[int, ...]]]) -> tuple[Layout | None, np.ndarray]:
    layout: Layout | None = canonical(shape)
    batch, _, rows, cols = np.indices(shape)
    coords = np.stack([rows, cols, batch], axis=-1)  # every element's source (row, column, image)
    for op, arg in ops:
        if op == "permute":
            coords = coords.transpose((*arg, len(arg)))
            layout = permute(layout, arg) if layout is not None else None
        else:
            coords = coords.reshape((*arg, 3))
            layout = reshape(layout, arg) if layout is not None else None
    return layout, coords


@settings(max_examples=300, deadline=None)
@given(rearrangements())
def test_feature_map_reading_matches_brute_force(
    case: tuple[tuple[int, ...], list[tuple[str, tuple[int, ...]]]],
) -> None:
    shape, ops = case
    layout, coords = follow(shape, ops)
    if layout is None:  # an atom split unevenly (e.g. rows of 4 regrouped by 3): the importer refuses
        return
    found = as_feature_map(layout)
    if isinstance(found, str):  # then no (s, r) reading explains the result
        if coords.ndim != 5:
            return
        # but a unit covering the whole source axis (s = its size) fits at this size only: the axis went whole
        # into the channels (a transpose(1, 3)), and the reading would not hold at another input size
        for s_y in divisors(shape[2])[:-1]:
            for s_x in divisors(shape[3])[:-1]:
                rows, cols = coords[..., 0], coords[..., 1]
                h_out, w_out = coords.shape[2:4]
                if h_out * s_y % shape[2] or w_out * s_x % shape[3]:
                    continue
                r_y, r_x = h_out * s_y // shape[2], w_out * s_x // shape[3]
                n, _, i, j = np.indices(coords.shape[:4])
                assert not (
                    np.array_equal(rows // s_y, i // r_y)
                    and np.array_equal(cols // s_x, j // r_x)
                    and np.array_equal(coords[..., 2], n)
                    and covers(coords, s_y, s_x)
                ), f"{found}, but rows // {s_y} and columns // {s_x} match"
        return
    (s_y, r_y), (s_x, r_x) = found
    assert coords.ndim == 5
    n, _, i, j = np.indices(coords.shape[:4])
    assert np.array_equal(coords[..., 2], n)  # images stay apart
    # unit i of the result covers source rows (i // r) * s ... + s - 1 and every one of them (over channels)
    assert np.array_equal(coords[..., 0] // s_y, i // r_y)
    assert np.array_equal(coords[..., 1] // s_x, j // r_x)
    assert covers(coords, s_y, s_x)


def covers(coords: np.ndarray, s_y: int, s_x: int) -> bool:
    """Every unit (i, j) of the result reads all s_y x s_x source pixels of its block (over the channels)."""
    for i in range(coords.shape[2]):
        for j in range(coords.shape[3]):
            pixels = {(int(r), int(c)) for r, c in coords[0, :, i, j, :2].reshape(-1, 2)}
            if len(pixels) != s_y * s_x:
                return False
    return True


def test_examples() -> None:
    s2d = reshape(canonical((1, 3, 8, 8)) or (), (1, 3, 2, 4, 2, 4))
    assert s2d is not None
    out = reshape(permute(s2d, (0, 3, 5, 1, 2, 4)), (1, 48, 2, 2))
    assert out is not None and as_feature_map(out) == ((4, 1), (4, 1))
    nhwc = permute(canonical((1, 3, 8, 8)) or (), (0, 2, 3, 1))
    assert as_feature_map(nhwc) == "its rows mix rows and columns"
    assert as_feature_map(permute(nhwc, (0, 3, 1, 2))) == ((1, 1), (1, 1))
    assert reshape(canonical((1, 3, 8, 8)) or (), (1, 5, 8, 8)) is None  # 3 channels do not split into 5


def test_channels_swapped_with_a_spatial_axis_are_no_feature_map() -> None:
    """A transpose(1, 3) of a (1, 4, 480, 159) map was read as an avgpool over the whole width then a x4
    up-sampling: exact at the traced size only, since the result's width is the channel count at any size
    (review round 21, F2)."""
    chans = canonical((1, 4, 480, 159)) or ()
    assert as_feature_map(permute(chans, (0, 3, 2, 1))) == "all source columns moved into the channels"
    assert as_feature_map(permute(chans, (0, 2, 1, 3))) == "all source rows moved into the channels"
    one = canonical((1, 1, 480, 159)) or ()  # one channel: the width becomes the channels, the result 1 wide
    assert as_feature_map(permute(one, (0, 3, 2, 1))) == "all source columns moved into the channels"
    row = canonical((1, 4, 1, 159)) or ()  # one row: its channels become the rows
    assert as_feature_map(permute(row, (0, 2, 1, 3))) == "its rows are source channels"
    whole = reshape(canonical((1, 1, 6, 6)) or (), (1, 1, 1, 6, 1, 6))  # a 6x6 space-to-depth of a 6x6 map
    assert whole is not None
    whole = reshape(permute(whole, (0, 1, 3, 5, 2, 4)), (1, 36, 1, 1))
    assert whole is not None and as_feature_map(whole) == "all source rows moved into the channels"
    assert as_feature_map(permute(canonical((1, 1, 1, 6)) or (), (0, 2, 1, 3))) == ((1, 1), (1, 1))  # no-op
