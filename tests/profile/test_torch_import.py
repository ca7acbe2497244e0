# mypy: disable-error-code="no-any-return"
"""torch.fx import of layouts, known pass-through modules, heads and input channels, against autograd.

The expected strides and receptive fields come from measuring the gradient of output units with respect
to the input (tests/profile/autograd_rf.py), never from the engine.
"""

from __future__ import annotations

import math
import sys
from fractions import Fraction
from typing import Any

import pytest

torch = pytest.importorskip("torch", reason="the 'torch' extra is not installed (pip install '.[torch]')")

import torch.nn.functional as F  # noqa: E402
from autograd_rf import measure  # noqa: E402
from torch import Tensor, nn  # noqa: E402

from scalematch.errors import ModelError  # noqa: E402
from scalematch.profile import Passthrough, Upsample, Window, profile  # noqa: E402
from scalematch.profile.importers.torch import from_torch, trace  # noqa: E402


class SpaceToDepth(nn.Module):
    """TResNet's space-to-depth stem, written as TResNet writes it (view, permute, view)."""

    def __init__(self, block: int = 4) -> None:
        super().__init__()
        self.bs = block

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.size()
        x = x.view(n, c, h // self.bs, self.bs, w // self.bs, self.bs)
        x = x.permute(0, 3, 5, 1, 2, 4).contiguous()
        return x.view(n, c * self.bs * self.bs, h // self.bs, w // self.bs)


class TinyTResNet(nn.Module):
    """A TResNet-style stem: space-to-depth by 4, then a 3x3 conv and a strided 3x3 conv (48 input channels)."""

    def __init__(self) -> None:
        super().__init__()
        self.space_to_depth = SpaceToDepth(4)
        self.conv1 = nn.Conv2d(48, 8, 3, 1, 1)
        self.conv2 = nn.Conv2d(8, 8, 3, 2, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv2(F.relu(self.conv1(self.space_to_depth(x))))


def measured(model: nn.Module, size: tuple[int, int], i: int) -> tuple[int, int, tuple[int, int]]:
    """(stride, rf, map size) along y from the gradients of units (i, 1) and (i + 1, 1)."""
    (rows, _), shape = measure(model, size, (i, 1))
    (rows_next, _), _ = measure(model, size, (i + 1, 1))
    return rows_next[0] - rows[0], rows[1] - rows[0] + 1, shape


def test_tresnet_space_to_depth_has_the_measured_stride_and_rf() -> None:
    model = TinyTResNet()
    stride, rf, shape = measured(model, (96, 32), 5)  # interior units: the box is not clipped
    assert (stride, rf) == (8, 20)  # measured; passing the view through as before gave stride 2, rf 7
    traced = trace(model, (96, 32))
    assert traced.channels == 3  # found by running it: the first conv's 48 channels come after the stem
    fm = profile(traced.graph, (96, 32)).feature_maps[-1]
    assert fm.y is not None and fm.y.stride == stride and fm.y.rf == rf and fm.size == shape
    stem = next(n for n in traced.graph.nodes if n.name.startswith("space_to_depth"))
    assert stem.layer == Window("avgpool", (4, 4), (4, 4))


def test_pixel_shuffle_and_unshuffle_match_autograd() -> None:
    class Shuffles(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.unshuffle = nn.PixelUnshuffle(2)
            self.conv = nn.Conv2d(12, 16, 3, 1, 1)
            self.shuffle = nn.PixelShuffle(2)
            self.out = nn.Conv2d(4, 4, 3, 1, 1)

        def forward(self, x: Tensor) -> Tensor:
            y = self.shuffle(self.conv(self.unshuffle(x)))
            return self.out(F.pixel_unshuffle(F.pixel_shuffle(y, 1), 1) + x[:, :1])

    model = Shuffles()
    graph = from_torch(model, (32, 32))
    layers = {n.name: n.layer for n in graph.nodes}
    assert layers["unshuffle"] == Window("avgpool", (2, 2), (2, 2))
    # read as a map where the add needs one, after the identity shuffles: named after the last of them
    assert layers["pixel_unshuffle"] == Upsample((2, 2), "nearest")
    assert "shuffle" not in layers
    prof = profile(graph, (32, 32))
    fm = prof.feature_maps[-1]
    for unit in ((7, 7), (8, 9), (0, 0)):
        box, shape = measure(model, (32, 32), unit)
        assert (fm.input_box(*unit, clip_to=(32, 32)), fm.size) == (box, shape), unit


class ChannelMove(nn.Module):
    """A (1, 7) conv of stride (1, 4), 3 -> 4 channels, then ``move`` of its output."""

    def __init__(self, move: Any) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, (1, 7), stride=(1, 4))
        self.move = move

    def forward(self, x: Tensor) -> Tensor:
        return self.move(self.conv(x))


COLUMNS = "all source columns moved into the channels"
ROWS = "all source rows moved into the channels"


@pytest.mark.parametrize(
    ("move", "node", "why", "shape"),
    [
        (lambda y: y.transpose(1, 3), "transpose", COLUMNS, (1, 9, 48, 4)),
        (lambda y: y.permute(0, 3, 2, 1), "permute", COLUMNS, (1, 9, 48, 4)),
        (lambda y: torch.swapaxes(y, 1, 3), "swapaxes", COLUMNS, (1, 9, 48, 4)),
        (lambda y: y.transpose(1, 2), "transpose", ROWS, (1, 48, 4, 9)),
        (lambda y: y.movedim(1, 2), "movedim", ROWS, (1, 48, 4, 9)),
        (lambda y: y.flatten(1, 2).unsqueeze(2), "unsqueeze/flatten", ROWS, (1, 192, 1, 9)),
        (lambda y: y.transpose(0, 1), "transpose", "the batch axis holds channels", (4, 1, 48, 9)),
    ],
)
def test_channels_swapped_with_a_spatial_axis_are_refused(move: Any, node: str, why: str, shape: Any) -> None:
    """A transpose(1, 3) of a conv's output was profiled as an avgpool over the whole width then a x4
    up-sampling, exit 0 (review round 21, F2): the result's width is the conv's 4 channels at any input size."""
    model = ChannelMove(move)
    assert tuple(model(torch.zeros(1, 3, 48, 40)).shape) == shape
    node, origin = (node.split("/") * 2)[:2]  # the returned node, the one that rearranged
    with pytest.raises(ModelError) as err:
        from_torch(model, (40, 48))
    assert str(err.value) == (
        f"ChannelMove: the module returns '{node}', which is not an (N, C, H, W) feature map: '{origin}' rearranges "
        f"the axes ({why}); name its feature maps as taps (profile --taps, erf --tap)"
    )


def test_a_conv_on_channels_swapped_with_the_width_is_refused() -> None:
    class Swapped(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = nn.Conv2d(3, 4, (1, 7), stride=(1, 4))
            self.b = nn.Conv2d(9, 8, 3)

        def forward(self, x: Tensor) -> Tensor:
            return self.b(self.a(x).transpose(1, 3))

    assert tuple(Swapped()(torch.zeros(1, 3, 48, 40)).shape) == (1, 8, 46, 2)
    with pytest.raises(ModelError) as err:
        from_torch(Swapped(), (40, 48))
    assert str(err.value) == (
        "Swapped: node 'b' (Conv2d): reads 'transpose', which is not an (N, C, H, W) feature map: 'transpose' "
        f"rearranges the axes ({COLUMNS}); its geometry cannot be read"
    )


def test_rearrangements_that_are_no_feature_map_are_refused_with_the_node() -> None:
    class Transposed(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)

        def forward(self, x: Tensor) -> Tensor:
            return self.conv(x.transpose(2, 3))

    with pytest.raises(ModelError) as err:
        from_torch(Transposed(), (48, 32))
    message = str(err.value)
    assert message.startswith("Transposed: node 'conv' (Conv2d): reads 'transpose', which is not an (N, C, H, W)")
    assert "'transpose' rearranges the axes (its rows mix rows and columns)" in message

    class Tokens(nn.Module):  # a vision-transformer patch flattening feeding a conv again
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)

        def forward(self, x: Tensor) -> Tensor:
            n, c, h, w = x.shape
            tokens = x.flatten(2).transpose(1, 2)  # (N, HW, C)
            return self.conv(tokens.reshape(n, c, h, w))

    with pytest.raises(ModelError) as err:
        from_torch(Tokens(), (16, 16))
    assert str(err.value) == (
        "Tokens: node 'conv' (Conv2d): reads 'reshape', which is not an (N, C, H, W) feature map: 'reshape' "
        "splits or merges axes unevenly; its geometry cannot be read"
    )


class Halves(nn.Module):
    """Two strided convs with a split of the first one's map between them (the review's models, round 11 F1)."""

    def __init__(self, how: str) -> None:
        super().__init__()
        self.how = how
        self.c1 = nn.Conv2d(3, 4, 3, 2, 1)
        self.c2 = nn.Conv2d(2, 2, 3, 2, 1)

    def forward(self, x: Tensor) -> Tensor:
        y = self.c1(x)
        if self.how == "chunk":  # the two halves added: every unit reads two regions
            a, b = y.chunk(2, dim=3)
            return self.c2((a + b)[:, :2])
        if self.how == "split":
            return self.c2(torch.split(y, [8, 24], dim=2)[1][:, :2])
        if self.how == "tensor_split":
            return self.c2(torch.tensor_split(y, 4, dim=-1)[3][:, :2])
        if self.how == "unbind":
            return self.c2(torch.stack(y.unbind(dim=2)[4:], dim=2)[:, :2])
        a, b = y.chunk(2, dim=1)  # along channels: the geometry is kept
        return self.c2(b + a)


@pytest.mark.parametrize(("how", "axis"), [("chunk", "3"), ("split", "2"), ("tensor_split", "-1"), ("unbind", "2")])
def test_a_split_along_a_spatial_axis_is_refused_with_the_node(how: str, axis: str) -> None:
    """Followed as pass-through, a spatial split gave the map before it (16x16 instead of 16x8 for the chunk,
    unit (1, 1) reading columns 1..7 instead of 33..39): refused, as slicing a spatial axis is."""
    with pytest.raises(ModelError) as err:
        from_torch(Halves(how), (64, 64))
    assert str(err.value) == (
        f"Halves: node '{how}' ({how}): splits along spatial axis {axis}; expected the channel axis"
    )


def test_a_split_along_channels_keeps_the_measured_geometry() -> None:
    model = Halves("channels")
    fm = profile(from_torch(model, (64, 64)), (64, 64)).feature_maps[-1]
    for unit in ((1, 1), (5, 9), (0, 15)):
        box, shape = measure(model, (64, 64), unit)
        assert (fm.input_box(*unit, clip_to=(64, 64)), fm.size) == (box, shape), unit


def test_tapping_a_flattened_map_is_an_error() -> None:
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(4 * 30 * 30, 10))
    with pytest.raises(ModelError) as err:
        from_torch(model, (32, 32), taps="logits=2")
    assert str(err.value) == (
        "Sequential: tap 'logits': '2' is not an (N, C, H, W) feature map: '2' mixes spatial positions "
        "(a Linear layer over rows or columns)"
    )


class VGGLike(nn.Module):
    """Two VGG stages and VGG's classifier: adaptive average pooling to 7x7, flatten, linear."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 4, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 4, 3, 1, 1), nn.MaxPool2d(2)
        )
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Linear(4 * 49, 10)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def test_a_classifier_head_never_blocks_the_import() -> None:
    graph = from_torch(VGGLike(), (1333, 800))  # 200x333 does not pool evenly to 7x7
    assert graph.taps == (("C1", "features.3"), ("C2", "features.4"))  # the last maps at strides 2 and 4
    assert "note: taps: the last feature map at each stride (the module returns no feature map)" in graph.convention
    assert {n.name for n in graph.nodes} == {f"features.{k}" for k in range(5)}
    prof = profile(graph, (800, 1333))
    assert prof["C2"].size == (200, 333)
    with pytest.raises(ModelError) as err:  # ... unless a tap needs it
        from_torch(VGGLike(), (1333, 800), taps="pool=avgpool")
    assert str(err.value) == (
        "VGGLike: node 'avgpool' (adaptive avgpool): output 7 does not divide the input 200 at the example size"
    )


def test_unknown_ops_off_the_tapped_path_are_dropped_on_it_refused() -> None:
    class Odd(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)

        def forward(self, x: Tensor) -> Any:
            y = self.conv(x)
            return y, torch.fliplr(y)

    graph = from_torch(Odd(), (32, 32), taps="conv")
    assert [n.name for n in graph.nodes] == ["conv"]
    with pytest.raises(ModelError, match=r"^Odd: node 'fliplr': unsupported operation 'fliplr'"):
        from_torch(Odd(), (32, 32))


class Blocked(nn.Module):
    """A classifier whose second stage follows an unknown op (a flip): the default taps cannot reach it."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, 2, 1)
        self.conv2 = nn.Conv2d(4, 4, 3, 2, 1)
        self.fc = nn.Linear(4, 10)

    def forward(self, x: Tensor) -> Tensor:
        y = self.conv2(torch.fliplr(F.relu(self.conv1(x))))
        return self.fc(F.adaptive_avg_pool2d(y, 1).flatten(1))


def test_default_taps_never_stop_silently_before_a_refused_node() -> None:
    with pytest.raises(ModelError) as err:  # (the stride-2 map alone, without a word, before)
        from_torch(Blocked(), (32, 32))
    assert str(err.value) == (
        "Blocked: node 'fliplr': unsupported operation 'fliplr'; declare it pass-through if it keeps the geometry "
        "(--passthrough fliplr); the module returns no feature map, and the default taps (the last feature map at "
        "each stride) would stop before that node, leaving out the feature maps after it ('conv2'); to profile "
        "only the maps before it, name them (--taps C1=relu)"
    )
    assert from_torch(Blocked(), (32, 32), taps="C1=relu").taps == (("C1", "relu"),)
    declared = from_torch(Blocked(), (32, 32), passthrough=["fliplr"])
    assert declared.taps == (("C1", "fliplr"), ("C2", "conv2"))


def test_torchvision_swin_is_refused_and_vit_keeps_its_documented_tap() -> None:
    models = pytest.importorskip("torchvision", reason="torchvision is not installed").models
    with pytest.raises(ModelError) as err:  # stages 2 to 4 follow the window attention
        from_torch(models.swin_t(), (224, 224))
    assert str(err.value).startswith(
        "SwinTransformer: node 'shifted_window_attention': unsupported operation 'shifted_window_attention', which "
        "does not keep the geometry (each position attends to every position of its (shifted) window); declaring "
        "it pass-through would give wrong numbers; "
    )
    assert str(err.value).endswith("; to profile only the maps before it, name them (--taps C2=features.0.0)")
    assert from_torch(models.vit_b_16(), (224, 224)).taps == (("C4", "conv_proj"),)  # tokens after it: no map


class DropPath(nn.Module):
    """timm's DropPath, written here (timm is not a dependency): recognised by its class name."""

    def __init__(self, p: float = 0.1) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        if self.p == 0.0 or not self.training:
            return x
        keep = x.new_empty((x.shape[0], 1, 1, 1)).bernoulli_(1 - self.p)
        return x * keep / (1 - self.p)


def test_no_ops_in_eval_are_known_pass_through() -> None:
    pytest.importorskip("torchvision", reason="torchvision is not installed")
    from torchvision.ops import DropBlock2d, StochasticDepth, stochastic_depth

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 3, 1, 1)
            self.drop_path = DropPath()
            self.sd = StochasticDepth(0.2, "row")
            self.block = DropBlock2d(0.1, 3)
            self.alpha = nn.AlphaDropout(0.1)

        def forward(self, x: Tensor) -> Tensor:
            y = self.alpha(self.block(self.sd(self.drop_path(self.conv(x)))))
            return x + stochastic_depth(y, 0.1, "batch", self.training) + F.dropout2d(y, 0.1, self.training)

    model = Block().train()  # traced as in eval whatever its mode; the mode is restored afterwards
    graph = from_torch(model, (16, 16))
    assert model.training
    kinds = {n.name: n.layer for n in graph.nodes if isinstance(n.layer, Passthrough)}
    assert {k: v.kind for k, v in kinds.items()} == {
        "drop_path": "droppath",
        "sd": "stochasticdepth",
        "block": "dropblock2d",
        "alpha": "alphadropout",
        "dropout2d": "dropout2d",
    }
    fm = profile(graph, (16, 16)).feature_maps[-1]
    assert fm.x is not None and fm.x.rf == 3


def test_input_channels_can_be_given_and_are_checked() -> None:
    assert trace(TinyTResNet(), (32, 32), channels=3).channels == 3
    with pytest.raises(ModelError) as err:
        trace(TinyTResNet(), (32, 32), channels=5)
    assert str(err.value).startswith(
        "TinyTResNet: running 'TinyTResNet' on a 1x5x32x32 input failed (RuntimeError: Given groups=1, weight of "
        "size [8, 48, 3, 3], expected input[1, 80, 8, 8] to have 48 channels"
    )


def test_a_channels_last_block_on_a_one_column_map_is_not_read_as_a_feature_map() -> None:
    """On a map one unit wide, ConvNeXt's permute to (N, H, W, C) looks like an (N, C, H, W) map of rows
    folded into channels; it is an intermediate and must not be read as one (it used to give C5 the
    geometry of a whole-column window)."""
    from torch_models import CNBlock

    model = nn.Sequential(nn.Conv2d(3, 8, 4, 4), CNBlock(), CNBlock())
    for size in ((64, 4), (64, 64)):
        fm = profile(from_torch(model, size), size).feature_maps[-1]
        assert fm.y is not None and fm.y.stride == 4 and fm.y.rf == 4 + 2 * 6 * 4, size
        box, shape = measure(model, size, (8, 0))
        assert (fm.input_box(8, 0, clip_to=size), fm.size) == (box, shape), size


def test_only_modules_subclasses_and_torch_factories_are_called(tmp_path: Any, monkeypatch: Any) -> None:
    """A factory of a module that uses torch is called and must return a module (a sys.exit inside it is one
    error); a function of a module without torch, a built-in and any other callable are never called."""
    from scalematch.profile.importers.torch import load_module

    (tmp_path / "zoo_factories.py").write_text(
        "import sys\nfrom torch import nn\n\n"
        "def good():\n    return nn.Conv2d(3, 4, 3)\n\n"
        "def quits():\n    sys.exit(3)\n\n"
        "def number():\n    return 7\n\n"
        "made = nn.ReLU()\n"
        "unmade = nn.ReLU.__new__(nn.ReLU)\n\n"
        "def unmade_factory():\n    return nn.ReLU.__new__(nn.ReLU)\n"
    )
    (tmp_path / "zoo_plain.py").write_text("CALLS = []\n\ndef factory():\n    CALLS.append(1)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert isinstance(load_module("zoo_factories:good"), nn.Conv2d)
    assert isinstance(load_module("zoo_factories:made"), nn.ReLU)
    assert isinstance(load_module("torch.nn:ReLU"), nn.ReLU)
    with pytest.raises(ModelError) as quits:
        load_module("zoo_factories:quits")
    assert str(quits.value) == "zoo_factories:quits: calling 'quits()' failed (SystemExit: 3)"
    with pytest.raises(ModelError) as number:
        load_module("zoo_factories:number")
    assert str(number.value) == "zoo_factories:number: calling 'number()' returned int, expected an nn.Module"
    unmade = "the ReLU instance was never initialised (nn.Module.__init__ did not run on it, e.g. made by __new__ "
    unmade += "alone); expected a module built by calling its class"
    for attr in ("unmade", "unmade_factory"):  # an AttributeError traceback before (review round 11, F21)
        with pytest.raises(ModelError) as never:
            load_module(f"zoo_factories:{attr}")
        assert str(never.value) == f"zoo_factories:{attr}: {unmade}"
    with pytest.raises(ModelError) as never:
        from_torch(nn.ReLU.__new__(nn.ReLU))
    assert str(never.value) == f"ReLU: {unmade}"
    with pytest.raises(ModelError, match="got the function 'factory' of 'zoo_plain', which does not use torch"):
        load_module("zoo_plain:factory")
    import sys

    assert sys.modules["zoo_plain"].CALLS == []  # refused before any call
    with pytest.raises(ModelError, match=r"got the built-in function 'getpid'$"):
        load_module("os:getpid")


def test_a_factory_taking_weights_backbone_is_called_without_weights(tmp_path: Any, monkeypatch: Any) -> None:
    """A factory that takes ``weights_backbone`` (torchvision's detection builders, whose default fetches the
    backbone's ImageNet weights) gets ``weights=None`` and ``weights_backbone=None`` (scalematch issue 11, B-F11);
    one that does not take it is called without arguments, its own defaults kept."""
    from scalematch.profile.importers.torch import load_module

    (tmp_path / "zoo_weights.py").write_text(
        "from torch import nn\n\nCALLS = []\n\n"
        "def detector(num_classes=91, weights='COCO', weights_backbone='IMAGENET'):\n"
        "    CALLS.append((weights, weights_backbone))\n    return nn.Conv2d(3, 4, 3)\n\n"
        "def backbone_only(*, weights_backbone='IMAGENET'):\n"
        "    CALLS.append(weights_backbone)\n    return nn.Conv2d(3, 4, 3)\n\n"
        "def classifier(weights='MINE'):\n    CALLS.append(weights)\n    return nn.Conv2d(3, 4, 3)\n\n"
        "def failing(weights=None, weights_backbone='IMAGENET'):\n    raise RuntimeError('offline')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    for attr in ("detector", "backbone_only", "classifier"):
        assert isinstance(load_module(f"zoo_weights:{attr}"), nn.Conv2d)
    assert sys.modules["zoo_weights"].CALLS == [(None, None), None, "MINE"]
    with pytest.raises(ModelError) as failed:
        load_module("zoo_weights:failing")
    assert str(failed.value) == (
        "zoo_weights:failing: calling 'failing(weights=None, weights_backbone=None)' failed (RuntimeError: offline)"
    )


@pytest.mark.parametrize("factory", ["fasterrcnn_mobilenet_v3_large_320_fpn", "ssdlite320_mobilenet_v3_large"])
def test_torchvision_detection_factories_build_without_a_download(
    factory: str, tmp_path: Any, monkeypatch: Any
) -> None:
    """Called without arguments they fetched the backbone's ImageNet weights (``weights_backbone`` defaults to
    them): offline, the call hung or failed. With every download failing and no cached checkpoint, they build."""
    pytest.importorskip("torchvision", reason="torchvision is not installed")
    import torch.hub

    from scalematch.profile.importers.torch import load_module

    def no_network(url: str, *args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"a download was attempted: {url}")

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))  # no checkpoint cached there
    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    module = load_module(f"torchvision.models.detection:{factory}")
    assert isinstance(module, nn.Module) and not list(tmp_path.iterdir())


def test_a_torchscript_module_is_refused_with_what_to_do(tmp_path: Any, monkeypatch: Any) -> None:
    """torch.jit.script and torch.jit.trace give modules torch.fx cannot trace: said so, not 'never initialised'
    (review round 14, F8), whether named, returned by a factory, given to from_torch or to measure_erf."""
    from scalematch.profile.erf_measure import measure_erf
    from scalematch.profile.importers.torch import load_module

    (tmp_path / "zoo_jit.py").write_text(
        "import torch\nfrom torch import nn\n\n"
        "net = nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1), nn.ReLU())\n"
        "scripted = torch.jit.script(net)\n"
        "traced = torch.jit.trace(net, torch.zeros(1, 3, 16, 16))\n\n"
        "def factory():\n    return torch.jit.script(net)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    script, trace = ("RecursiveScriptModule", "torch.jit.script"), ("TopLevelTracedModule", "torch.jit.trace")
    for attr, (cls, how) in (("scripted", script), ("traced", trace), ("factory", script)):
        why = (
            f"the {cls} is a TorchScript module (made by {how}), which torch.fx cannot trace; expected the nn.Module "
            "it was made from, or export that to ONNX and give the .onnx file"
        )
        with pytest.raises(ModelError) as named:
            load_module(f"zoo_jit:{attr}")
        assert str(named.value) == f"zoo_jit:{attr}: {why}"
        with pytest.raises(ModelError) as named:
            measure_erf(f"zoo_jit:{attr}", input_size=(16, 16))
        assert str(named.value) == f"zoo_jit:{attr}: {why}"
        if attr != "factory":
            with pytest.raises(ModelError) as given:
                from_torch(getattr(sys.modules["zoo_jit"], attr), (16, 16))
            assert str(given.value) == f"{cls}: {why}"
    assert isinstance(load_module("zoo_jit:net"), nn.Sequential)  # the eager module is read


class ToSize(nn.Module):
    """A 7-unit map (from 26 or 14) interpolated to 13 units: to the 13-unit map's shape, or to a constant."""

    def __init__(self, mode: str, constant: bool = False) -> None:
        super().__init__()
        self.c, self.d = nn.Conv2d(3, 4, 3, 2, 1), nn.Conv2d(4, 4, 3, 2, 1)
        self.mode, self.constant = mode, constant

    def forward(self, x: Tensor) -> Tensor:
        c = self.c(x)
        d = self.d(c) if not self.constant else c
        return F.interpolate(d, size=(13, 13) if self.constant else c.shape[-2:], mode=self.mode)


def test_interpolate_to_a_size_short_of_a_multiple() -> None:
    """To another map's size in mode 'nearest' (unit j // 2, as torch reads it) it is taken; to a constant size
    (the factor would give 14) or in 'nearest-exact' (unit 4 for j = 7) it is refused with the node."""
    x = torch.arange(7.0).view(1, 1, 1, 7).expand(1, 1, 7, 7)
    assert F.interpolate(x, size=(13, 13), mode="nearest")[0, 0, 0].tolist() == [j // 2 for j in range(13)]
    assert F.interpolate(x, size=(13, 13), mode="nearest-exact")[0, 0, 0, 7].item() == 4
    g = from_torch(ToSize("nearest"), (26, 26))
    assert [n.layer for n in g.nodes if isinstance(n.layer, Upsample)] == [Upsample((2, 2), "nearest", "c")]
    assert profile(g, (26, 26)).feature_maps[-1].size == (13, 13)
    for module, size, why in (
        (ToSize("nearest", constant=True), (14, 14), "scales 7x7 to 13x13; expected an integer factor"),
        (
            ToSize("nearest-exact"),
            (26, 26),
            "scales 7x7 to 13x13 in mode 'nearest-exact'; expected an integer factor, or mode 'nearest' for a size "
            "short of a multiple",
        ),
    ):
        with pytest.raises(ModelError) as caught:
            from_torch(module, size)
        assert str(caught.value) == f"ToSize: node 'interpolate' (interpolate): {why}"


def test_imported_layers_are_held_to_the_config_bounds() -> None:
    """The shared importer step refuses what a config refuses, naming the module and the node."""
    huge = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Upsample(scale_factor=2000))
    with pytest.raises(ModelError) as info:
        from_torch(huge, (8, 8))
    assert str(info.value) == (
        "Sequential: node '1': 'scale' must be at most 1024 (larger layers would exhaust memory), got 2000"
    )


def test_two_tap_names_for_one_map_are_refused() -> None:
    model = nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1), nn.Conv2d(4, 4, 3, 2, 1))
    with pytest.raises(ModelError) as err:
        from_torch(model, (32, 32), taps="C3=0,C4=0")
    assert str(err.value) == (
        "Sequential: taps 'C3' and 'C4' both name the feature map '0'; expected one tap name per map (a feature map "
        "carries one name)"
    )
    assert from_torch(model, (32, 32), taps="C3=0,C4=1").taps == (("C3", "0"), ("C4", "1"))


def test_the_example_input_holds_no_data_at_the_largest_size(monkeypatch: Any) -> None:
    """At --size 16384 the example input was a real 3.2 GB torch.zeros before the fake-tensor mode took over (out of
    memory under 4 GB, review round 11 F11): it is now made inside the mode. A large tensor made outside any
    dispatch mode, and not on the meta device, fails here instead of allocating."""
    from torch.utils._python_dispatch import _get_current_dispatch_mode

    def guarded(make: Any) -> Any:
        def factory(*args: Any, **kwargs: Any) -> Any:
            shape = args[0] if args and isinstance(args[0], tuple | list) else args
            fake = _get_current_dispatch_mode() is not None or str(kwargs.get("device")) == "meta"
            if math.prod(int(d) for d in shape) > 10**8 and not fake:
                raise MemoryError(f"a real {tuple(shape)} tensor")
            return make(*args, **kwargs)

        return factory

    for name in ("zeros", "empty", "ones"):
        monkeypatch.setattr(torch, name, guarded(getattr(torch, name)))
    model = nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1), nn.Conv2d(4, 4, 3, 2, 1))
    fm = profile(from_torch(model, (16384, 16384)), (16384, 16384)).feature_maps[-1]
    assert fm.size == (4096, 4096)


@pytest.mark.parametrize(
    ("pad", "cls", "mode"),
    [
        (nn.ReflectionPad2d(1), "ReflectionPad2d", "reflect"),
        (nn.CircularPad2d(1), "CircularPad2d", "circular"),
        (nn.Conv2d(3, 3, 3, 1, 2, padding_mode="reflect"), "Conv2d", "reflect"),
        (nn.Conv2d(3, 3, 3, 1, "same", padding_mode="circular"), "Conv2d", "circular"),
    ],
)
def test_mirrored_padding_is_refused(pad: nn.Module, cls: str, mode: str) -> None:
    """A border unit after reflect padding reads the mirrored rows (unit 0 of a reflect-padded 3x3/2 conv reads rows
    0..2, measured), not the zeros the profile puts outside the image (rows -2..0): refused with the node (review
    round 11, F25). Replicate padding reads border pixels the clipped box holds, and stays."""
    model = nn.Sequential(pad, nn.Conv2d(3, 4, 3, 2))
    with pytest.raises(ModelError) as err:
        from_torch(model, (32, 32))
    read = "mirrored" if mode == "reflect" else "from the other side"
    assert str(err.value) == (
        f"Sequential: node '_0' ({cls}): pads in '{mode}' mode: border units read pixels of the image ({read}), "
        "not the zeros the profile models; expected zero, constant or replicate padding"
    )
    assert from_torch(nn.Sequential(nn.ReplicationPad2d(1), nn.Conv2d(3, 4, 3, 2)), (32, 32)).nodes


def test_reflect_padding_reads_other_rows_than_zero_padding() -> None:
    """The measurement behind the refusal: unit 0 of a 3x3/2 conv after 2 rows of reflect padding depends on input
    rows 0..2; zero padding would make it read row 0 only."""
    model = nn.Sequential(nn.ReflectionPad2d(2), nn.Conv2d(3, 4, 3, 2))
    (rows, _), _ = measure(model, (32, 32), (0, 5))
    assert rows == (0, 2)


class AlongAxis(nn.Module):
    """Two strided convs with a GLU or a softmax between them; ``how`` names the call and its axis."""

    def __init__(self, how: str) -> None:
        super().__init__()
        self.how = how
        self.c1 = nn.Conv2d(3, 8, 3, 2, 1)
        self.c2 = nn.Conv2d(4 if how in ("GLU(1)", "glu(dim=-3)") else 8, 2, 3, 2, 1)
        modules: dict[str, nn.Module] = {
            "GLU()": nn.GLU(),
            "GLU(-2)": nn.GLU(dim=-2),
            "GLU(1)": nn.GLU(dim=1),
            "Softmax(3)": nn.Softmax(dim=3),
            "LogSoftmax(-2)": nn.LogSoftmax(dim=-2),
            "Softmax(1)": nn.Softmax(dim=1),
            "Softmax()": nn.Softmax(),
            "Softmax2d": nn.Softmax2d(),
        }
        self.m = modules.get(how, nn.Identity())

    def forward(self, x: Tensor) -> Tensor:
        y = self.c1(x)
        if self.how == "glu(dim=2)":
            y = F.glu(y, dim=2)
        elif self.how == "glu(dim=-3)":
            y = F.glu(y, dim=-3)
        elif self.how == "softmax(dim=-1)":
            y = F.softmax(y, dim=-1)
        elif self.how == "log_softmax(dim=2)":
            y = F.log_softmax(y, dim=2)
        elif self.how == "Tensor.softmax(3)":
            y = y.softmax(3)
        elif self.how == "softmax(dim=1)":
            y = F.softmax(y, dim=1)
        elif self.how == "channels last":  # a softmax over the last axis of an (N, H, W, C) tensor: channels
            y = y.permute(0, 2, 3, 1).softmax(-1).permute(0, 3, 1, 2)
        else:
            y = self.m(y)
        return self.c2(y)


@pytest.mark.parametrize(
    ("how", "node", "what", "axis"),
    [("GLU()", "m", "GLU", "-1"), ("GLU(-2)", "m", "GLU", "-2"), ("glu(dim=2)", "glu", "glu", "2")],
)
def test_a_glu_along_a_spatial_axis_is_refused_with_the_node(how: str, node: str, what: str, axis: str) -> None:
    """GLU was pass-through on every axis: nn.GLU() (dim -1) halves the width, so the map after it was shown
    twice as wide as it is, with the wrong rf (review round 15 F1). Refused as a split along H or W is."""
    with pytest.raises(ModelError) as err:
        from_torch(AlongAxis(how), (48, 64))
    assert (
        str(err.value)
        == f"AlongAxis: node '{node}' ({what}): splits along spatial axis {axis}; expected the channel axis"
    )


SOFTMAX_HINT = "expected the channel axis, or declare it pass-through to leave that out"


@pytest.mark.parametrize(
    ("how", "node", "what", "axis", "hint"),
    [
        ("Softmax(3)", "m", "Softmax", "3", "Softmax, or --passthrough m for this module only"),
        ("LogSoftmax(-2)", "m", "LogSoftmax", "-2", "LogSoftmax, or --passthrough m for this module only"),
        ("softmax(dim=-1)", "softmax", "softmax", "-1", "softmax"),
        ("log_softmax(dim=2)", "log_softmax", "log_softmax", "2", "log_softmax"),
        ("Tensor.softmax(3)", "softmax", "softmax", "3", "softmax"),
    ],
)
def test_a_softmax_along_a_spatial_axis_is_refused_with_the_node(
    how: str, node: str, what: str, axis: str, hint: str
) -> None:
    """A softmax along W makes each unit read its whole row; it was taken as pass-through, rf unchanged
    (review round 15 F2). Refused as a cumsum is; declared pass-through by the user it is left out."""
    with pytest.raises(ModelError) as err:
        from_torch(AlongAxis(how), (48, 64))
    assert str(err.value) == (
        f"AlongAxis: node '{node}' ({what}): normalises along spatial axis {axis} (each unit reads the whole axis); "
        f"{SOFTMAX_HINT} (--passthrough {hint})"
    )
    declared = profile(from_torch(AlongAxis(how), (48, 64), passthrough=[hint.split(",")[0]]), (64, 48))
    assert declared.feature_maps[-1].size == (16, 12)  # (h, w): 64x48 by two stride-2 convolutions


@pytest.mark.parametrize(
    "how",
    ["GLU(1)", "glu(dim=-3)", "Softmax(1)", "Softmax()", "Softmax2d", "softmax(dim=1)", "channels last"],
)
def test_a_glu_or_softmax_along_channels_keeps_the_measured_geometry(how: str) -> None:
    """Along channels (nn.Softmax() picks axis 1 of a 4-D input, torch's implicit rule) each unit reads its
    own position only: the geometry measured by autograd is the one of the two convolutions."""
    model = AlongAxis(how)
    fm = profile(from_torch(model, (64, 48)), (48, 64)).feature_maps[-1]
    for unit in ((1, 1), (5, 9), (0, 15)):
        box, shape = measure(model, (48, 64), unit)
        assert (fm.input_box(*unit, clip_to=(48, 64)), fm.size) == (box, shape), unit


class ChannelsLast(nn.Module):
    """Two strided convs with a split or a reduction of the (N, H, W, C) tensor between them; ``how`` names it."""

    def __init__(self, how: str) -> None:
        super().__init__()
        self.how = how
        self.c1, self.lin, self.c2 = nn.Conv2d(3, 8, 3, 2, 1), nn.Linear(8, 16), nn.Conv2d(8, 2, 3, 2, 1)

    def forward(self, x: Tensor) -> Tensor:
        y = self.c1(x).permute(0, 2, 3, 1)  # N, H, W, C
        if self.how == "chunk(-1)":
            a, b = self.lin(y).chunk(2, dim=-1)
            y = a * torch.sigmoid(b)
        elif self.how == "split(dim=3)":
            a, b = torch.split(self.lin(y), 8, dim=3)
            y = a + b
        elif self.how == "amax(-1)":
            y = y - y.amax(-1, keepdim=True)
        elif self.how == "mean(3)":  # no keepdim: the result is (N, H, W), unsqueezed back
            y = y * y.mean(3).unsqueeze(-1)
        elif self.how == "chunk(1)":  # the rows
            y = torch.cat(y.chunk(2, dim=1), dim=1)
        elif self.how == "amax(2)":  # the columns
            y = y - y.amax(2, keepdim=True)
        return self.c2(y.permute(0, 3, 1, 2))


@pytest.mark.parametrize("how", ["chunk(-1)", "split(dim=3)", "amax(-1)", "mean(3)"])
def test_a_split_or_reduction_over_the_channels_of_a_channels_last_tensor_keeps_the_geometry(how: str) -> None:
    """Axis -1 (3) of an (N, H, W, C) tensor holds the channels: a chunk, a split or a reduction along it was
    refused as 'spatial axis -1' while a GLU or a softmax along it passed. Autograd measures the two convs."""
    model = ChannelsLast(how)
    fm = profile(from_torch(model, (64, 48)), (48, 64)).feature_maps[-1]
    for unit in ((1, 1), (5, 9), (0, 15)):
        box, shape = measure(model, (48, 64), unit)
        assert (fm.input_box(*unit, clip_to=(48, 64)), fm.size) == (box, shape), unit


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("chunk(1)", "node 'chunk' (chunk): splits along spatial axis 1; expected the channel axis"),
        ("amax(2)", "node 'amax' (amax): reduces along spatial axis 2 (each unit reads the whole axis)"),
    ],
)
def test_a_split_or_reduction_over_the_rows_or_columns_of_a_channels_last_tensor_is_refused(
    how: str, message: str
) -> None:
    with pytest.raises(ModelError) as err:
        from_torch(ChannelsLast(how), (48, 64))
    assert str(err.value).startswith(f"ChannelsLast: {message}")


class SwinParts(nn.Module):
    """A conv, then torchvision Swin's window attention or patch merging on the (N, H, W, C) tensor, then a conv."""

    def __init__(self, part: str) -> None:
        super().__init__()
        from torchvision.models.swin_transformer import PatchMerging, ShiftedWindowAttention

        self.c1, self.c2 = nn.Conv2d(3, 8, 3, 2, 1), nn.Conv2d(16 if part == "merging" else 8, 2, 3, 2, 1)
        self.part = ShiftedWindowAttention(8, [4, 4], [2, 2], 2) if part == "attention" else PatchMerging(8)

    def forward(self, x: Tensor) -> Tensor:
        return self.c2(self.part(self.c1(x).permute(0, 2, 3, 1)).permute(0, 3, 1, 2))


@pytest.mark.parametrize(
    ("part", "what", "why"),
    [
        ("attention", "shifted_window_attention", "each position attends to every position of its (shifted) window"),
        ("merging", "patch_merging_pad", "each 2x2 block of positions is merged into the channels: the map halves"),
    ],
)
def test_swin_s_window_attention_and_patch_merging_are_refused_without_the_pass_through_advice(
    part: str, what: str, why: str
) -> None:
    """Both were refused with 'declare it pass-through if it keeps the geometry (--passthrough ...)': they do
    not, and the patch merging declared pass-through would profile a map twice its size."""
    pytest.importorskip("torchvision", reason="torchvision is not installed")
    with pytest.raises(ModelError) as err:
        from_torch(SwinParts(part), (32, 32))
    assert str(err.value) == (
        f"SwinParts: node '{'_' * (part == 'merging')}{what}': unsupported operation '{what}', which does not keep "
        f"the geometry ({why}); declaring it pass-through would give wrong numbers"
    )


@pytest.mark.parametrize("model", [None, 3, nn.Conv2d])
def test_a_model_that_is_no_module_is_named_by_its_parameter(model: object) -> None:
    with pytest.raises(ModelError) as err:
        from_torch(model)
    kind = type(model).__name__
    assert str(err.value) == f"model: expected an nn.Module or a 'file.py:name' text, got {kind}"


def test_profile_model_takes_an_nn_module_as_measure_erf_does() -> None:
    """Review round 30: profile_model(module) was refused with 'got a Adapt' while measure_erf(module) took it.
    Two 3x3 stride-2 convolutions: stride 4, receptive field 1 + 2 + 2*2 = 7, a 64x48 input gives 16x12."""
    import scalematch as sm
    from scalematch.errors import OptionError

    net = nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1), nn.Conv2d(4, 4, 3, 2, 1))
    last = sm.profile_model(net, input_size="64x48").feature_maps[-1]
    assert last.x is not None and last.y is not None
    assert (last.x.stride, last.x.rf, last.y.rf, last.size) == (Fraction(4), 7, 7, (12, 16))
    sizeless = sm.profile_model(net).feature_maps[-1].x
    assert sizeless is not None and sizeless.rf == 7
    with pytest.raises(OptionError, match=r"^neck: an nn.Module is profiled as it is"):
        sm.profile_model(net, "fpn")

    class Adapt:
        def __repr__(self) -> str:
            return "two\nlines"

    with pytest.raises(OptionError, match=r"got an object of type Adapt$"):
        sm.profile_model(Adapt())
