# mypy: disable-error-code="no-any-return"
"""A torch graph whose geometry was read at its example size (review round 17 F3, F4, F9): it is profiled at
that size only, refused at another one in one line, and traced again where it is used; a graph without such
arguments holds at every size. Expected boxes and sizes come from autograd (tests/profile/autograd_rf.py).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

torch = pytest.importorskip("torch", reason="the 'torch' extra is not installed (pip install '.[torch]')")

import torch.nn.functional as F  # noqa: E402
from autograd_rf import measure  # noqa: E402
from torch import Tensor, nn  # noqa: E402
from torch_computed_models import Computed, OneSide, PositionGrid  # noqa: E402

from scalematch import measure_erf, profile_model  # noqa: E402
from scalematch.errors import GraphError, ModelError, OptionError  # noqa: E402
from scalematch.profile import profile  # noqa: E402
from scalematch.profile.importers.torch import from_torch  # noqa: E402


class Strided(nn.Module):
    """A stride computed from the input's height: 2 below 224 rows, more above."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.full((4, 3, 3, 3), 0.1))

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.w, stride=x.size(2) // 16, padding=1)


class ToSize(nn.Module):
    """An up-sampling to a written size: its factor is the one at the example size only."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, 2, 1)

    def forward(self, x: Tensor) -> Tensor:
        return F.interpolate(self.a(x), size=(40, 72), mode="nearest")


class Adaptive(nn.Sequential):
    """An adaptive pool to a written size: its window is the one at the example size only."""

    def __init__(self) -> None:
        super().__init__(nn.Conv2d(3, 4, 3, 1, 1), nn.AdaptiveAvgPool2d((5, 9)))


class TransposedToSkip(nn.Module):
    """A UNet decoder step: ConvTranspose2d(output_size=skip's size), whose output padding follows the size."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.d = nn.Conv2d(3, 4, 3, 1, 1), nn.Conv2d(4, 4, 3, 2, 1)
        self.u = nn.ConvTranspose2d(4, 4, 3, 2, 1)

    def forward(self, x: Tensor) -> Tensor:
        s = self.a(x)
        return s + self.u(self.d(s), output_size=s.shape[-2:])


class Halves(nn.Module):
    """The top and bottom halves of the map stacked as channels: a block of half the map's height."""

    def __init__(self) -> None:
        super().__init__()
        self.c = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        y = self.c(x)
        n, c, _, w = y.shape
        return y.reshape(n, c, 2, -1, w).permute(0, 1, 3, 2, 4).reshape(n, -1, 2, w)


class SpaceToDepth(nn.Module):
    """TResNet's space-to-depth by 4 (view, permute, view, sizes from the shape) or pixel_unshuffle(2): a
    block of fixed size at any input."""

    def __init__(self, unshuffle: bool) -> None:
        super().__init__()
        self.c, self.unshuffle = nn.Conv2d(3, 4, 3, padding=1), unshuffle

    def forward(self, x: Tensor) -> Tensor:
        y = self.c(x)
        if self.unshuffle:
            return F.pixel_unshuffle(y, 2)
        n, c, h, w = y.shape
        y = y.view(n, c, h // 4, 4, w // 4, 4).permute(0, 3, 5, 1, 2, 4).contiguous()
        return y.view(n, c * 16, h // 4, w // 4)


ODD = (41, 51)  # (h, w): another pad, stride, kernel, factor and output padding than at 36x20 (WxH)
ARGS = "takes arguments computed from the input's shape"
BOUND = [
    (Computed("pad to a multiple of 8"), "pad", f"(pad) {ARGS}", ODD),
    (Computed("pool by a computed kernel"), "avg_pool2d", f"(avg_pool2d) {ARGS}", ODD),
    (Adaptive(), "1", "(AdaptiveAvgPool2d) has a window read from its input's size", (30, 54)),
    (Computed("up-sampling by a computed factor"), "interpolate", f"(interpolate) {ARGS}", ODD),
    (Strided(), "conv2d", f"(conv2d) {ARGS}", ODD),
    (
        ToSize(),
        "interpolate",
        "(interpolate) up-samples to a size, its factor read from the sizes in that run",
        (40, 72),
    ),
    (TransposedToSkip(), "u", "(ConvTranspose2d) has its output padding read from output_size", ODD),
    (
        Halves(),
        "reshape",
        "(a rearrangement read as a feature map) has a 10x1 block read from the input's size",
        (28, 36),
    ),
]


def boxes(model: nn.Module, hw: tuple[int, int]) -> tuple[tuple[int, int], list[object]]:
    """autograd's output size and the input boxes of the corner, centre and far corner units at ``hw``."""
    _, (h, w) = measure(model, hw, (0, 0))
    return (h, w), [measure(model, hw, unit)[0] for unit in ((0, 0), (h // 2, w // 2), (h - 1, w - 1))]


def profiled(graph: object, hw: tuple[int, int]) -> tuple[tuple[int, int], list[object]]:
    fm = profile(graph, hw).feature_maps[-1]  # type: ignore[arg-type]
    assert fm.size is not None
    h, w = fm.size
    return fm.size, [fm.input_box(*u, clip_to=hw) for u in ((0, 0), (h // 2, w // 2), (h - 1, w - 1))]


@pytest.mark.parametrize(("model", "node", "why", "other"), BOUND)
def test_a_graph_read_at_its_example_size_holds_there_and_is_refused_elsewhere(
    model: nn.Module, node: str, why: str, other: tuple[int, int]
) -> None:
    """The graph traced at 36x20 (WxH) is autograd's there; at ``other`` its old arguments give another geometry
    than torch (checked with the check taken off), so it is refused naming the node and both sizes; traced again
    at ``other`` it is autograd's there."""
    graph = from_torch(model, "36x20")
    assert graph.traced_at == (20, 36)
    assert graph.size_bound == ((node, why),)
    assert graph.convention.endswith(f"\nnote: '{node}' read the input's size: the geometry holds at 36x20 (WxH) only")
    assert profiled(graph, (20, 36)) == boxes(model, (20, 36))
    try:  # stale: why it is refused (the output padding read at 36x20 even gives a misaligned sum)
        stale: object = profiled(replace(graph, size_bound=()), other)
    except GraphError as exc:
        stale = str(exc)
    assert stale != boxes(model, other)
    with pytest.raises(GraphError) as err:
        profile(graph, other)
    (h, w), name = other, type(model).__name__
    assert str(err.value) == (
        f"{name}: traced at 36x20 (WxH), where node '{node}' {why}, so the graph holds at 36x20 only, not at "
        f"{w}x{h}; import the module again at that size: from_torch(model, '{w}x{h}') (on the command line, "
        f"--size {w}x{h})"
    )
    with pytest.raises(GraphError):
        profile_model(graph, input_size=(w, h))
    assert profiled(from_torch(model, (w, h)), other) == boxes(model, other)
    assert profile(graph).feature_maps  # without a size: the geometry as traced, as before


@pytest.mark.parametrize(
    "model",
    [
        Computed("softmax along C"),
        Computed("conv padded by a computed amount"),
        Computed("global pool by the map's size"),
        SpaceToDepth(unshuffle=False),
        SpaceToDepth(unshuffle=True),
    ],
)
def test_arguments_that_do_not_read_h_or_w_leave_the_graph_usable_at_any_size(model: nn.Module) -> None:
    """``a.dim() - 3``, a pad of a quarter of the channels and a pool by the map's own size hold at every size."""
    graph = from_torch(model, "36x20")
    assert graph.size_bound == ()
    fm = profile(graph, (44, 52)).feature_maps[-1]
    if fm.size == (1, 1):  # the global pool: each unit reads the whole input
        assert measure(model, (44, 52), (0, 0)) == (((0, 43), (0, 51)), (1, 1))
        return
    assert profiled(graph, (44, 52)) == boxes(model, (44, 52))


UP = "up-samples to a size, its factor read from the sizes in that run"
ONE_SIDE = [  # (h, w) where the size read is not the map's own (or the skip's), nor the one read at 32x32
    ("pool by the width", "avg_pool2d", ARGS, (96, 48)),
    ("pool by the height", "avg_pool2d", ARGS, (48, 96)),
    ("pool by the sides swapped", "avg_pool2d", ARGS, (64, 32)),
    ("up to the skip's width", "interpolate", UP, (64, 32)),
    ("up to the skip's height twice", "interpolate", UP, (32, 64)),
    ("up to the skip's sides swapped", "interpolate", UP, (64, 32)),
    ("up to the input's width", "interpolate", UP, (64, 32)),
]


def torch_size(model: nn.Module, hw: tuple[int, int]) -> tuple[int, ...] | None:
    """The (h, w) of ``model``'s output at ``hw``, as torch runs it; None where torch refuses the size."""
    try:
        return tuple(model(torch.zeros(1, 3, *hw)).shape[-2:])
    except RuntimeError:  # a kernel larger than its input
        return None


@pytest.mark.parametrize(("how", "node", "why", "other"), ONE_SIDE)
def test_a_size_read_from_one_side_of_a_square_map_binds_the_graph(
    how: str, node: str, why: str, other: tuple[int, int]
) -> None:
    """Traced at a square size, a kernel or an up-sampling size read from one side (or the sides swapped) is the
    map's own size, or the skip's: it was taken for a global pool or for following the skip at every size, and
    profiled at a non-square size as a 1x1 map, or at the skip's size, where torch gives another size or none
    (review round 18 F2). It binds the graph to the square size; traced again at that size, it is torch's."""
    model = OneSide(how).eval()
    graph = from_torch(model, "32x32")
    assert graph.size_bound == ((node, f"({node}) {why}"),)
    assert profiled(graph, (32, 32)) == boxes(model, (32, 32))
    assert profiled(replace(graph, size_bound=()), other)[0] != torch_size(model, other)
    (h, w) = other
    with pytest.raises(GraphError) as err:
        profile(graph, other)
    assert str(err.value) == (
        f"OneSide: traced at 32x32 (WxH), where node '{node}' ({node}) {why}, so the graph holds at 32x32 only, "
        f"not at {w}x{h}; import the module again at that size: from_torch(model, '{w}x{h}') (on the command line, "
        f"--size {w}x{h})"
    )
    if torch_size(model, other) is not None:
        assert profiled(from_torch(model, (w, h)), other) == boxes(model, other)


@pytest.mark.parametrize("how", ["pool by each side", "pool by the unpacked size", "up to the skip's size"])
def test_a_size_read_axis_by_axis_holds_at_every_size(how: str) -> None:
    """The same arguments with each axis read from its own side: a global pool, an up-sampling that follows the
    skip; traced at a square size, they hold at 32x48 and 40x24 (WxH) as torch runs them."""
    model = OneSide(how).eval()
    graph = from_torch(model, "32x32")
    assert graph.size_bound == ()
    for hw in ((48, 32), (24, 40)):
        size, _ = profiled(graph, hw)
        assert size == torch_size(model, hw)
        if how.startswith("up"):
            assert profiled(graph, hw) == boxes(model, hw)


class FirstLevel(nn.Module):
    """An FPN's first output (stride 4), whose top-down path interpolates to each lateral's size."""

    def __init__(self, fpn: nn.Module) -> None:
        super().__init__()
        self.fpn = fpn

    def forward(self, x: Tensor) -> Tensor:
        return self.fpn(x)["0"]


def test_torchvision_backbones_traced_once_profile_at_any_size() -> None:
    """ResNet's body and its FPN hold at every size: traced at the default 224x224 and profiled at 97x65 (WxH),
    the output's size and its units' boxes are autograd's at 97x65."""
    torchvision = pytest.importorskip("torchvision")
    from torchvision.models.detection.backbone_utils import resnet_fpn_backbone

    body = nn.Sequential(*list(torchvision.models.resnet18().children())[:-2]).eval()
    fpn = FirstLevel(resnet_fpn_backbone(backbone_name="resnet18", weights=None, trainable_layers=5)).eval()
    for model in (body, fpn):
        graph = from_torch(model)
        assert (graph.traced_at, graph.size_bound) == ((224, 224), ())
        assert profiled(graph, (65, 97)) == boxes(model, (65, 97))


def test_from_torch_takes_the_size_width_first() -> None:
    """``input_size`` was (h, w) while profile_model's is WxH: the same (66, 34) traced an adaptive pool at the
    transposed size (8x8 against torch's 16x4), and "64x64" ran a 1x3x6x4 input."""
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.AdaptiveAvgPool2d((16, 4))).eval()
    prof = profile_model(from_torch(model, input_size=(66, 34)), input_size=(66, 34))
    assert prof.feature_maps[-1].size == tuple(model(torch.zeros(1, 3, 34, 66)).shape[-2:]) == (16, 4)
    assert from_torch(model, input_size="66x34").traced_at == (34, 66)
    assert from_torch(nn.Conv2d(3, 4, 3), input_size="64x64").traced_at == (64, 64)
    with pytest.raises(OptionError) as err:
        from_torch(model, input_size=None)  # type: ignore[arg-type]
    assert str(err.value) == (
        "input_size: expected W or WxH (width first, e.g. 800 or '1333x800') or a (width, height) pair of "
        "integers, got NoneType None"
    )


def test_erf_traces_a_size_bound_module_again_at_its_measuring_size() -> None:
    """Traced at 224x224 and measured at the default size, the pool's kernel (a quarter of the width) was the one
    at 224: "'avg_pool2d' is (8, 8) when run, the profile says (5, 5)" (F9). Traced again at the measuring size,
    its RF is the one autograd gives there."""
    model = Computed("pool by a computed kernel")
    result = measure_erf(model, samples=1, weights="uniform")
    h, w = result.input_size
    (box, _) = measure(model, (h, w), result.unit)
    assert result.box == box


def test_erf_on_a_graph_read_at_its_example_size_measures_there() -> None:
    graph = from_torch(Computed("pool by a computed kernel"), "40x40")
    assert measure_erf(graph, samples=1).input_size == (40, 40)
    with pytest.raises(GraphError):
        measure_erf(graph, "48x48", samples=1)


def test_erf_on_a_module_that_does_not_run_at_the_default_size_is_one_error() -> None:
    """It was the RuntimeError's traceback (F4)."""
    with pytest.raises(ModelError) as err:
        measure_erf(PositionGrid(), samples=1)
    assert str(err.value) == (
        "PositionGrid: measuring 'add': running the module on 64x64 (WxH) inputs failed (RuntimeError: The size of "
        "tensor a (16) must match the size of tensor b (56) at non-singleton dimension 3) (the default: the RF plus "
        "four strides); give input_size=WxH at which the module runs"
    )
    assert measure_erf(PositionGrid(), "224x224", samples=1).input_size == (224, 224)


def test_erf_names_a_module_given_by_name_as_profile_does_in_every_kind_of_error() -> None:
    """A map too large (a GraphError of its own kind) was named by the module's class alone ('UpByAThousand: node
    ...'), where profile names it as given (review round 45, B4)."""
    given = "torch_computed_models:UpByAThousand"
    with pytest.raises(GraphError) as measured:
        measure_erf(given, samples=1)
    with pytest.raises(GraphError) as profiled:
        profile_model(given, input_size="224x224")
    assert str(measured.value).startswith(f"{given}: node 'interpolate': its feature map would be ")
    assert str(profiled.value).startswith(f"{given}: node 'interpolate': its feature map would be ")
