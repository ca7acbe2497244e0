"""torchvision's classification and detection backbones, imported with no options, against autograd.

Each model is built with ``weights=None`` and imported exactly as ``scalematch profile`` does without flags
(default taps, no pass-through declarations, no --allow-misaligned). The check is a measurement that shares
nothing with the engine: on a float64 copy whose convolutions and linear layers have positive weights and no
bias, whose max-pools are average pools of the same window (a max passes the gradient to one pixel only),
whose normalisations are the identity and whose squeeze-excitation gates are constant (the profile leaves a
gate's whole-image dependence out, as the built-in configs do), the gradient of one output unit with respect
to a positive input is nonzero exactly on the input pixels the unit depends on. For each tap, the extent of
that support for the centre unit and the corner unit must equal the engine's input box of the same unit
(clipped to the image), and the map's size must equal the size torch computes.

The input sizes keep the run short: taps whose receptive field is larger than the image are compared on the
clipped boxes (the table printed with ``-s`` says which); every other tap is compared on its whole extent.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

torch = pytest.importorskip("torch", reason="the 'torch' extra is not installed (pip install '.[torch]')")
torchvision = pytest.importorskip("torchvision", reason="torchvision is not installed")

from torch import fx, nn  # noqa: E402
from torchvision import models  # noqa: E402
from torchvision.models.detection import backbone_utils, ssd300_vgg16  # noqa: E402
from torchvision.ops import SqueezeExcitation  # noqa: E402
from torchvision.ops.feature_pyramid_network import LastLevelP6P7  # noqa: E402

from scalematch.profile import profile  # noqa: E402
from scalematch.profile.torch_import import trace  # noqa: E402


def fpn(extra: Any = None, layers: list[int] | None = None) -> nn.Module:
    return backbone_utils.resnet_fpn_backbone(
        backbone_name="resnet50", weights=None, returned_layers=layers, extra_blocks=extra
    )


ZOO: dict[str, tuple[Callable[[], nn.Module], tuple[int, int]]] = {
    # name: (a builder, the input (h, w) of the measurement: tall enough for the deepest tap's whole
    # receptive field along y, narrow to keep it fast; the x axis is then compared on clipped boxes)
    "resnet18": (lambda: models.resnet18(weights=None), (480, 64)),
    "resnet50": (lambda: models.resnet50(weights=None), (480, 64)),
    "mobilenet_v2": (lambda: models.mobilenet_v2(weights=None), (544, 64)),
    "mobilenet_v3_large": (lambda: models.mobilenet_v3_large(weights=None), (640, 64)),
    "efficientnet_b0": (lambda: models.efficientnet_b0(weights=None), (896, 64)),
    "convnext_tiny": (lambda: models.convnext_tiny(weights=None), (1152, 32)),
    "regnet_x_400mf": (lambda: models.regnet_x_400mf(weights=None), (1024, 64)),
    "vgg16": (lambda: models.vgg16(weights=None), (256, 64)),
    "alexnet": (lambda: models.alexnet(weights=None), (256, 96)),
    "densenet121": (lambda: models.densenet121(weights=None), (1088, 32)),
    "shufflenet_v2_x1_0": (lambda: models.shufflenet_v2_x1_0(weights=None), (576, 64)),
    "squeezenet1_0": (lambda: models.squeezenet1_0(weights=None), (225, 63)),
    "resnet50_fpn": (lambda: fpn(), (544, 64)),
    "retinanet_resnet50_fpn": (lambda: fpn(LastLevelP6P7(256, 256), [2, 3, 4]), (768, 64)),
    "retinanet_resnet50_fpn_v2": (lambda: fpn(LastLevelP6P7(2048, 256), [2, 3, 4]), (704, 64)),
    "ssd300_vgg16": (lambda: ssd300_vgg16(weights=None, weights_backbone=None).backbone, (300, 300)),
}
"""Every model runs without options at the default 224x224 except SSD300's extractor, whose last 3x3
convolutions need its 300x300 input."""


DOUBLE = {"densenet121", "convnext_tiny"}
"""Measured in float64: the gradient at the edge of their deepest receptive fields underflows float32
(DenseNet dilutes it by each layer's share of the next layer's input channels; ConvNeXt's C5 is 1688 px)."""


def edge_heavy(shape: tuple[int, ...], gen: Any) -> Any:
    """Positive convolution weights that sum to about 1 per output channel, random (so that channels differ
    and a layer norm does not cancel them out) and heaviest at the kernel's border: the share of the outermost
    taps stays near one half per layer, so the gradient at the edge of a deep receptive field stays far
    from float32's underflow (with uniform weights it decays as 1/k per layer and per axis)."""
    out_c, in_c, kh, kw = shape
    rows = 8.0 ** (torch.arange(kh) - (kh - 1) / 2).abs()
    cols = 8.0 ** (torch.arange(kw) - (kw - 1) / 2).abs()
    kernel = rows[:, None] * cols[None, :]
    return (0.5 + torch.rand(shape, generator=gen)) * kernel / (kernel.sum() * in_c)


def measurable(model: nn.Module, dtype: Any) -> nn.Module:
    """A copy with positive weights, no biases, identity normalisations, average instead of max pooling and
    constant squeeze-excitation gates: every dependency shows as a nonzero gradient."""
    model = copy.deepcopy(model).to(dtype).eval().requires_grad_(False)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, SqueezeExcitation):
                for fc in (module.fc1, module.fc2):
                    fc.weight.zero_()
                    fc.bias.zero_()
            elif isinstance(module, nn.Conv2d | nn.Linear) and module.weight.abs().sum() > 0:
                fan_in = module.weight[0].numel()
                if isinstance(module, nn.Linear) and module.weight.numel() > 10**6:  # a classifier: no tap
                    module.weight.fill_(1.0 / fan_in)  # needs it; constant weights are quicker to set
                elif isinstance(module, nn.Linear):  # random: a constant map makes a layer norm's gradient 0
                    module.weight.copy_((0.5 + torch.rand(module.weight.shape, generator=gen)) / fan_in)
                else:
                    module.weight.copy_(edge_heavy(module.weight.shape, gen))
                if module.bias is not None:
                    module.bias.zero_()
            elif isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.reset_parameters()
            elif isinstance(module, nn.LayerNorm | nn.GroupNorm) and module.weight is not None:
                module.weight.fill_(1.0)
                module.bias.zero_()
            scale = getattr(module, "layer_scale", None)  # ConvNeXt's 1e-6 would underflow deep paths
            if isinstance(scale, nn.Parameter):
                scale.fill_(1.0)
        for name, module in list(model.named_modules()):
            if isinstance(module, nn.MaxPool2d):
                assert module.dilation in (1, (1, 1)), name
                pool = nn.AvgPool2d(module.kernel_size, module.stride, module.padding, module.ceil_mode)
                parent, _, attr = name.rpartition(".")
                setattr(model.get_submodule(parent) if parent else model, attr, pool)
    return model


def support(grad: Any) -> tuple[tuple[int, int], tuple[int, int]]:
    """Rows and columns (first, last) where the input gradient is nonzero."""
    mass = grad.abs().sum(dim=(0, 1))
    rows = torch.nonzero(mass.sum(1)).flatten()
    cols = torch.nonzero(mass.sum(0)).flatten()
    return (int(rows[0]), int(rows[-1])), (int(cols[0]), int(cols[-1]))


class Capture(fx.Interpreter):  # type: ignore[misc]
    def __init__(self, module: Any, wanted: set[str]) -> None:
        super().__init__(module)
        self.wanted = wanted
        self.values: dict[str, Any] = {}

    def run_node(self, n: Any) -> Any:
        result = super().run_node(n)
        if n.name in self.wanted:
            self.values[n.name] = result
        return result


ROWS: list[str] = []


@pytest.mark.parametrize("name", list(ZOO))
def test_model_zoo_taps_match_autograd(name: str) -> None:
    build, size = ZOO[name]
    model = build()
    plain = trace(model, (300, 300) if name.startswith("ssd") else (224, 224))  # default taps, no options
    profile(plain.graph)
    taps = [t for t, _ in plain.graph.taps]
    assert len(taps) >= 4, plain.graph.taps
    dtype = torch.float64 if name in DOUBLE else torch.float32
    traced = trace(measurable(model, dtype), size)
    assert [t for t, _ in traced.graph.taps] == taps
    prof = profile(traced.graph, size)
    gen = torch.Generator().manual_seed(1)
    wanted = {traced.fx_names[node]: tap for tap, node in traced.graph.taps}
    x = (1e-3 * (0.5 + torch.rand((1, traced.channels, *size), generator=gen, dtype=dtype))).requires_grad_()
    capture = Capture(traced.module, set(wanted))
    capture.run(x)
    for fx_name, tap in wanted.items():
        out, fm = capture.values[fx_name], prof[tap]
        assert fm.size == tuple(out.shape[-2:]), tap
        assert fm.y is not None and fm.size is not None
        mix = 0.5 + torch.rand(out.shape[1], generator=gen, dtype=dtype)  # a plain sum cancels after a norm
        centre = (fm.size[0] // 2, fm.size[1] // 2)
        for unit in (centre, (0, 0)):
            (grad,) = torch.autograd.grad((out[0, :, unit[0], unit[1]] * mix).sum(), x, retain_graph=True)
            assert support(grad) == fm.input_box(*unit, clip_to=size), (tap, unit)
        box = fm.input_box(*centre)
        assert box is not None
        whole = box[0] == fm.input_box(*centre, clip_to=size)[0]  # type: ignore[index]
        ROWS.append(
            f"{name:26} {tap:5} stride {fm.y.stride!s:>3}  rf {fm.y.rf:5}  "
            + ("exact" if whole else f"exact on the clipped box (rf > {size[0]})")
        )


def teardown_module() -> None:
    print("\n" + "\n".join(ROWS))
