# mypy: disable-error-code="no-any-return"
"""torch.fx import semantics the trace alone does not show: in-place ops on aliases, ``ConvTranspose2d`` called
with ``output_size``, index tensors, forward hooks, token sequences, lazy modules and the caller's train/eval modes.

Expected geometry comes from autograd (tests/profile/autograd_rf.py) and sizes from running the module, never
from the engine; refusals are checked by their exact one-line message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch", reason="the 'torch' extra is not installed (pip install '.[torch]')")

import torch.nn.functional as F  # noqa: E402
from autograd_rf import measure  # noqa: E402
from torch import Tensor, nn  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from scalematch.cli.main import app  # noqa: E402
from scalematch.errors import ModelError  # noqa: E402
from scalematch.profile import profile  # noqa: E402
from scalematch.profile.importers.torch import from_torch  # noqa: E402

SIZE = (24, 32)
WH = SIZE[::-1]  # from_torch takes the size width first


def conv(i: int, o: int, k: int = 3, s: int = 1, p: int = 1) -> nn.Conv2d:
    return nn.Conv2d(i, o, k, s, p)


def truth(model: nn.Module, unit: tuple[int, int]) -> tuple[tuple[tuple[int, int], tuple[int, int]], Any]:
    """(input rows and columns that ``unit`` of the output reads, output size), by autograd."""
    return measure(model, SIZE, unit)


def perturbed(model: nn.Module, unit: tuple[int, int]) -> tuple[tuple[tuple[int, int], tuple[int, int]], Any]:
    """:func:`truth` by finite perturbation, for modules whose in-place ops autograd cannot differentiate: the input
    pixels whose change changes ``unit`` (random float64 weights and input, one perturbed pixel per batch item)."""
    torch.manual_seed(0)
    net = model.double().eval()
    x = torch.randn(1, 3, *SIZE, dtype=torch.float64)
    batch = x.repeat(SIZE[0] * SIZE[1], 1, 1, 1)
    batch.view(SIZE[0] * SIZE[1], 3, -1)[range(SIZE[0] * SIZE[1]), :, range(SIZE[0] * SIZE[1])] += 1.0
    with torch.no_grad():
        base, out = net(x.clone()), net(batch)
    changed = (out[:, :, unit[0], unit[1]] - base[:, :, unit[0], unit[1]]).abs().amax(1) > 1e-9
    rows, cols = torch.nonzero(changed.view(SIZE)).unbind(1)
    return ((int(rows.min()), int(rows.max())), (int(cols.min()), int(cols.max()))), tuple(out.shape[-2:])


def imported(model: nn.Module, **kwargs: Any) -> Any:
    """The last tap of the imported model, profiled at :data:`SIZE`."""
    prof = profile(from_torch(model, WH, **kwargs), SIZE)
    return [fm for fm in prof.feature_maps if fm.tap][-1]


def box(fm: Any, unit: tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int]]:
    """The input rows and columns of ``unit`` of a profiled map, clipped to the image."""
    out = []
    for geom, u, n in zip(fm.geom, unit, SIZE, strict=True):
        runs = [(max(a, 0), min(b - 1, n - 1)) for a, b in geom.unit(u)[0]]
        out.append((min(r[0] for r in runs), max(r[1] for r in runs)))
    return out[0], out[1]


def assert_matches_autograd(model: nn.Module, oracle: Any = truth, **kwargs: Any) -> Any:
    fm = imported(model, **kwargs)
    for unit in ((0, 0), (12, 16), (SIZE[0] - 1, SIZE[1] - 1)):
        measured, shape = oracle(model, unit)
        assert fm.size == shape
        assert box(fm, unit) == measured, unit
    return fm


# -- F3: in-place ops on aliases -----------------------------------------------------------------------------
class AddInPlace(nn.Module):
    """``a.add_(b); return a``: the module returns a + b."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = conv(3, 4), conv(4, 4)

    def forward(self, x: Tensor) -> Tensor:
        a = self.a(x)
        b = self.b(a)
        a.add_(b)
        return a


class AugmentedAlias(nn.Module):
    """``y = a; a += b; return y``: ``y`` is the same tensor, so the module returns a + b."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = conv(3, 4), conv(4, 4)

    def forward(self, x: Tensor) -> Tensor:
        a = self.a(x)
        y = a
        b = self.b(a)
        a += b
        return y


@pytest.mark.parametrize("model", [AddInPlace(), AugmentedAlias()], ids=["add_", "+="])
def test_an_in_place_add_is_seen_by_every_later_use_of_the_value(model: nn.Module) -> None:
    fm = assert_matches_autograd(model, perturbed)
    assert fm.y is not None and fm.y.rf == 5  # b's receptive field; conv a's alone (the value before) is 3


def test_the_erf_of_an_in_place_add_autograd_cannot_go_back_through_is_one_line() -> None:
    from scalematch.profile.erf_measure import measure_erf

    with pytest.raises(ModelError) as info:  # torch itself cannot differentiate it: conv b saved a, changed later
        measure_erf(AugmentedAlias(), (32, 32), samples=1)
    assert str(info.value) == (
        "AugmentedAlias: measuring 'add': autograd cannot go back through an in-place op of the module that changes "
        "a value a later op saved (a.add_(b) or a += b after reading a); write it out of place (a = a + b)"
    )


class ViewAdd(nn.Module):
    """An in-place add through a view changes the viewed map: not followed, refused."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = conv(3, 4), conv(4, 2)

    def forward(self, x: Tensor) -> Tensor:
        a = self.a(x)
        a[:, :2].add_(self.b(a))
        return a


class InPlaceActivations(nn.Module):
    """In-place activations, on the value and through a view, keep the geometry."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.relu, self.b = conv(3, 4), nn.ReLU(inplace=True), conv(4, 4)

    def forward(self, x: Tensor) -> Tensor:
        a = self.a(x)
        a[:, :2].relu_()
        F.relu(a, inplace=True)
        self.relu(a)
        return self.b(a)


def test_an_in_place_op_through_a_view_is_refused_an_in_place_activation_is_not() -> None:
    with pytest.raises(ModelError) as info:
        from_torch(ViewAdd(), WH)
    assert str(info.value) == (
        "ViewAdd: node 'add_': changes 'getitem' in place, which shares its data with 'a' (a view or an alias); "
        "the geometry of a value changed through a view is not followed"
    )
    fm = assert_matches_autograd(InPlaceActivations(), perturbed)
    assert fm.y is not None and fm.y.rf == 5


# -- F4: ConvTranspose2d(x, output_size=...) -----------------------------------------------------------------
class UNetUp(nn.Module):
    """A UNet decoder step: up-sample to the skip's size (torch works out output_padding 1 at 24x32), add."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.d, self.o = conv(3, 4), conv(4, 4, 3, 2, 1), conv(4, 4)
        self.u = nn.ConvTranspose2d(4, 4, 3, 2, 1)

    def forward(self, x: Tensor) -> Tensor:
        skip = self.a(x)
        return self.o(self.u(self.d(skip), output_size=skip.shape[-2:]) + skip)


def test_conv_transpose_takes_the_output_padding_of_its_output_size() -> None:
    fm = assert_matches_autograd(UNetUp())  # was refused: input sizes differ: 31x23 ('u') vs 32x24 ('a')
    assert fm.size == SIZE
    up = imported(UNetUp(), taps="u")
    assert up.size == SIZE  # torch's size at 24x32; output_padding 0 gave 23x31


# -- F5: index tensors and lists -----------------------------------------------------------------------------
class Indexed(nn.Module):
    def __init__(self, how: str) -> None:
        super().__init__()
        self.how = how
        self.a = conv(3, 4)
        self.register_buffer("flip", torch.arange(SIZE[0]).flip(0))
        self.register_buffer("channels", torch.tensor([3, 2, 1, 0]))

    def forward(self, x: Tensor) -> Tensor:
        a = self.a(x)
        if self.how == "tensor":
            return a[:, :, self.flip]
        if self.how == "list":
            return a[:, :, [0] * SIZE[0]]
        if self.how == "ellipsis list":
            return a[..., list(range(SIZE[1]))]
        if self.how == "channels":
            return a[:, self.channels]
        return a[:, :, :, 0 : SIZE[1]]


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("tensor", "indexes spatial axis 2 with the tensor 'flip'"),
        ("list", "indexes spatial axis 2 with a list"),
        ("ellipsis list", "indexes spatial axis 3 with a list"),
    ],
)
def test_indexing_rows_or_columns_with_a_tensor_or_list_is_refused(how: str, message: str) -> None:
    with pytest.raises(ModelError) as info:
        from_torch(Indexed(how), WH)
    assert str(info.value) == (
        f"Indexed: node 'getitem' (getitem): {message}, which may move or repeat rows or columns; expected slicing "
        "along channels only"
    )


@pytest.mark.parametrize("how", ["channels", "whole slice"])
def test_indexing_channels_or_whole_slices_keeps_the_measured_geometry(how: str) -> None:
    fm = assert_matches_autograd(Indexed(how))
    assert fm.y is not None and fm.y.rf == 3


# -- F7: forward hooks ---------------------------------------------------------------------------------------
class Hooked(nn.Module):
    def __init__(self, hook: Any) -> None:
        super().__init__()
        self.a, self.b = conv(3, 4), conv(4, 4)
        self.a.register_forward_hook(hook)

    def forward(self, x: Tensor) -> Tensor:
        return self.b(self.a(x))


def test_a_forward_hook_that_changes_the_size_is_refused_one_that_returns_none_is_not() -> None:
    with pytest.raises(ModelError) as info:
        from_torch(Hooked(lambda m, i, o: F.avg_pool2d(o, 2)), WH)
    assert str(info.value) == (
        "Hooked: node 'a': its value is 16x12 in the example run, but its layer gives 32x24: a forward hook or "
        "pre-hook of 'a' changes it, which torch.fx does not trace; expected hooks that return None"
    )
    seen: list[Any] = []
    fm = assert_matches_autograd(Hooked(lambda m, i, o: seen.append(o.shape)))
    assert fm.y is not None and fm.y.rf == 5


def test_a_declared_pass_through_that_changes_the_size_is_refused() -> None:
    model = nn.Sequential(conv(3, 4), nn.AvgPool2d(2))
    with pytest.raises(ModelError) as info:
        from_torch(model, WH, passthrough=["AvgPool2d"])
    assert str(info.value) == (
        "Sequential: node '_1': its value is 16x12 in the example run, but its layer gives 32x24: it is taken as "
        "pass-through, which keeps the size; expected an op that keeps the geometry"
    )


def test_hooks_on_the_module_itself_are_refused() -> None:
    model = nn.Sequential(conv(3, 4))
    model.register_forward_pre_hook(lambda m, args: (F.avg_pool2d(args[0], 2),))
    with pytest.raises(ModelError) as info:
        from_torch(model, WH)
    assert str(info.value) == (
        "Sequential: the Sequential has forward hooks or pre-hooks of its own, which torch.fx does not trace (they "
        "run around its forward); expected a module without them"
    )


# -- F19: token sequences ------------------------------------------------------------------------------------
class Tokens(nn.Module):
    """ViT-like: patchify, flatten to tokens, (a class token), a position embedding; returns logits."""

    def __init__(self, cls_token: bool) -> None:
        super().__init__()
        self.cls_token = cls_token
        self.p = nn.Conv2d(3, 8, 8, 8)
        self.cls = nn.Parameter(torch.zeros(1, 1, 8))
        self.pos = nn.Parameter(torch.zeros(1, 12 + cls_token, 8))
        self.fc = nn.Linear(8, 5)

    def forward(self, x: Tensor) -> Tensor:
        t = self.p(x).flatten(2).transpose(1, 2)
        if self.cls_token:
            t = torch.cat([self.cls.expand(t.shape[0], -1, -1), t], 1)
        t = t + self.pos
        return self.fc(t[:, 0])


@pytest.mark.parametrize(
    ("cls_token", "message"),
    [
        (True, "Tokens: node 'cat' (cat): concatenates along axis 1, which holds rows or columns; expected channels"),
        (
            False,
            "Tokens: tap 'add': 'add' is not an (N, C, H, W) feature map: 'flatten' rearranges the axes (it has 3 "
            "axes, not (N, C, H, W))",
        ),
    ],
)
def test_a_token_sequence_is_no_feature_map(cls_token: bool, message: str) -> None:
    graph = from_torch(Tokens(cls_token), WH)
    assert graph.taps == (("C3", "p"),)  # the patch embedding; the tokens (13 or 12 of them) were tapped as 4x3
    with pytest.raises(ModelError) as info:
        from_torch(Tokens(cls_token), WH, taps="add")
    assert str(info.value) == message


# -- F21, F22: the caller's module is left as it was ---------------------------------------------------------
class Lazy(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.LazyConv2d(8, 3, 2, 1), nn.LazyConv2d(8, 3, 1, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.b(self.a(x))


def test_lazy_parameters_are_refused_and_left_uninitialised(tmp_path: Path, monkeypatch: Any) -> None:
    from torch.nn.parameter import is_lazy

    model = Lazy()
    with pytest.raises(ModelError) as info:
        from_torch(model, WH)
    assert str(info.value) == (
        "Lazy: 'a' (LazyConv2d) has lazy parameters whose shapes are not known yet; run the module once on an input "
        "first (model(x)), which sets them"
    )
    assert is_lazy(model.a.weight)  # was materialised with 0 input channels, breaking the caller's module
    assert model(torch.zeros(1, 3, *SIZE)).shape == (1, 8, 12, 16)
    assert imported(model).size == (12, 16)  # once run, it imports
    (tmp_path / "lazy_module.py").write_text(
        "import torch.nn as nn\n"
        "class L(nn.Module):\n"
        "    def __init__(self):\n        super().__init__(); self.a = nn.LazyConv2d(8, 3, 2, 1)\n"
        "    def forward(self, x):\n        return self.a(x)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    for command in ("profile", "erf"):
        result = CliRunner().invoke(app, [command, "lazy_module:L", "--size", "32x24"])
        assert result.exit_code == 2
        assert result.stderr == (
            "Error: lazy_module:L: 'a' (LazyConv2d) has lazy parameters whose shapes are not known yet; run the "
            "module once on an input first (model(x)), which sets them\n"
        )


def test_each_submodule_keeps_its_own_train_or_eval_mode() -> None:
    model = nn.Sequential(conv(3, 8, 3, 2, 1), nn.BatchNorm2d(8), nn.Dropout(0.5))
    model.train()
    model[1].eval()  # a frozen BatchNorm in a model being trained (mmdetection's norm_eval)
    before = {name: m.training for name, m in model.named_modules()}
    from_torch(model, WH)
    assert {name: m.training for name, m in model.named_modules()} == before
    assert before["1"] is False and before[""] is True


def test_an_output_that_is_no_map_is_left_out_of_the_default_taps() -> None:
    class ChannelMean(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = conv(3, 4, 3, 2, 1)

        def forward(self, x: Tensor) -> Tensor:
            return self.a(x).mean(1)  # (N, H, W): no channel axis

    graph = from_torch(ChannelMean(), WH)
    assert graph.taps == (("C1", "a"),)
    with pytest.raises(ModelError) as info:
        from_torch(ChannelMean(), WH, taps="mean")
    assert str(info.value) == (
        "ChannelMean: tap 'mean': 'mean' is not an (N, C, H, W) feature map: its value has the shape (1, 12, 16)"
    )


class _LineGate(nn.Module):
    """``a * pool(a)`` with the pool over one axis only: a coordinate-attention gate, one value per row or column."""

    def __init__(self, size: tuple[int | None, int | None]) -> None:
        super().__init__()
        self.a, self.b, self.size = conv(3, 8), conv(8, 8), size

    def forward(self, x: Tensor) -> Tensor:
        a = self.a(x)
        return self.b(a * F.adaptive_avg_pool2d(a, self.size))


@pytest.mark.parametrize(("size", "line", "axis"), [((None, 1), "row", "W"), ((1, None), "column", "H")])
def test_a_gate_along_one_axis_is_refused(size: tuple[int | None, int | None], line: str, axis: str) -> None:
    """Autograd: a unit reads its whole row (or column), which no receptive field describes; the import refuses
    it instead of following the full-size operand (which gave rf 5)."""
    (rows, cols), _ = truth(_LineGate(size), (12, 16))
    assert (cols if line == "row" else rows) == ((0, SIZE[1] - 1) if line == "row" else (0, SIZE[0] - 1))
    with pytest.raises(ModelError) as refused:
        from_torch(_LineGate(size), WH)
    assert str(refused.value) == (
        f"_LineGate: node 'mul' (mul): its operand 'adaptive_avg_pool2d' holds one value per {line} (it is broadcast "
        f"along {axis} only), so each unit reads its whole {line}, which no receptive field describes; a gate "
        "broadcast along both H and W (squeeze-excitation) is left out, one along a single axis (coordinate "
        "attention) is refused"
    )
    assert imported(_LineGate((1, 1))).size == SIZE  # squeeze-excitation: left out, as documented
