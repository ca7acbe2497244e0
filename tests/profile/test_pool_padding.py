"""Which pool paddings a config may give, against torch's own pools over a grid of kernel, dilation and padding."""

from __future__ import annotations

import itertools

import pytest

torch = pytest.importorskip("torch", reason="the 'torch' extra is not installed (pip install '.[torch]')")

from scalematch.errors import ConfigError  # noqa: E402
from scalematch.profile.importers.layer_list import parse_layer  # noqa: E402


def _torch_runs(kind: str, kernel: tuple[int, int], dilation: tuple[int, int], padding: tuple[int, int]) -> bool:
    x = torch.zeros(1, 1, 40, 40)
    try:
        if kind == "maxpool":
            torch.nn.functional.max_pool2d(x, kernel, 1, padding, dilation)
        else:
            torch.nn.functional.avg_pool2d(x, kernel, 1, padding)
    except RuntimeError:
        return False
    return True


def _parsed(kind: str, kernel: tuple[int, int], dilation: tuple[int, int], padding: tuple[int, int]) -> bool:
    fields = {"kernel": list(kernel), "stride": 1, "padding": list(padding), "dilation": list(dilation)}
    if kind == "avgpool":
        del fields["dilation"]
    try:
        parse_layer(kind, fields)
    except ConfigError:
        return False
    return True


@pytest.mark.parametrize("kind", ["maxpool", "avgpool"])
def test_a_pool_padding_is_accepted_exactly_when_torch_runs_the_pool(kind: str) -> None:
    dilations = [(1, 1), (2, 1), (1, 3), (2, 2), (3, 2)] if kind == "maxpool" else [(1, 1)]
    kernels = [(k, k) for k in range(1, 6)] + [(1, 3), (3, 2), (4, 1)]
    paddings = [(y, x) for y in range(4) for x in range(4)]
    checked = 0
    for kernel, dilation, padding in itertools.product(kernels, dilations, paddings):
        expected = _torch_runs(kind, kernel, dilation, padding)
        assert _parsed(kind, kernel, dilation, padding) == expected, (kernel, dilation, padding)
        checked += 1
    assert checked >= 128
