# mypy: disable-error-code="no-any-return"
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

The inputs are tall and narrow: tall enough for the deepest tap's whole receptive field along y, 32 pixels
wide to keep the run short (about 40 s, one thread), so x is compared on clipped boxes. A tap whose receptive
field is larger than its image would be compared on the clipped box only; the table printed with ``-s`` says
which (none at the sizes below).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

torch = pytest.importorskip("torch", reason="the 'torch' extra is not installed (pip install '.[torch]')")
torchvision = pytest.importorskip("torchvision", reason="torchvision is not installed")

from autograd_rf import Capture, measurable, support  # noqa: E402
from torch import nn  # noqa: E402
from torchvision import models  # noqa: E402
from torchvision.models.detection import backbone_utils, ssd300_vgg16  # noqa: E402
from torchvision.ops.feature_pyramid_network import LastLevelP6P7  # noqa: E402

from scalematch.profile import profile  # noqa: E402
from scalematch.profile.importers.torch import trace  # noqa: E402


def fpn(extra: Any = None, layers: list[int] | None = None) -> nn.Module:
    return backbone_utils.resnet_fpn_backbone(
        backbone_name="resnet50", weights=None, returned_layers=layers, extra_blocks=extra
    )


ZOO: dict[str, tuple[Callable[[], nn.Module], tuple[int, int]]] = {
    # name: (a builder, the input (h, w) of the measurement: tall enough for the deepest tap's whole
    # receptive field along y where that is affordable, narrow to keep it fast; the x axis is then compared
    # on clipped boxes)
    "resnet18": (lambda: models.resnet18(weights=None), (480, 32)),
    "resnet50": (lambda: models.resnet50(weights=None), (480, 32)),
    "mobilenet_v2": (lambda: models.mobilenet_v2(weights=None), (544, 32)),
    "mobilenet_v3_large": (lambda: models.mobilenet_v3_large(weights=None), (640, 32)),
    "efficientnet_b0": (lambda: models.efficientnet_b0(weights=None), (896, 32)),
    "convnext_tiny": (lambda: models.convnext_tiny(weights=None), (1728, 32)),
    "regnet_x_400mf": (lambda: models.regnet_x_400mf(weights=None), (1024, 32)),
    "vgg16": (lambda: models.vgg16(weights=None), (256, 32)),
    "alexnet": (lambda: models.alexnet(weights=None), (256, 96)),
    "densenet121": (lambda: models.densenet121(weights=None), (2112, 32)),
    "shufflenet_v2_x1_0": (lambda: models.shufflenet_v2_x1_0(weights=None), (576, 32)),
    "squeezenet1_0": (lambda: models.squeezenet1_0(weights=None), (225, 63)),
    "resnet50_fpn": (lambda: fpn(), (544, 32)),
    "retinanet_resnet50_fpn": (lambda: fpn(LastLevelP6P7(256, 256), [2, 3, 4]), (768, 32)),
    "retinanet_resnet50_fpn_v2": (lambda: fpn(LastLevelP6P7(2048, 256), [2, 3, 4]), (704, 32)),
    "ssd300_vgg16": (lambda: ssd300_vgg16(weights=None, weights_backbone=None).backbone, (800, 300)),
}
"""Every model runs without options at the default 224x224 except SSD300's extractor, whose last 3x3
convolutions need its 300x300 input."""


DOUBLE = {"densenet121", "convnext_tiny"}
"""Measured in float64: the gradient at the edge of their deepest receptive fields underflows float32
(DenseNet dilutes it by each layer's share of the next layer's input channels; ConvNeXt's C5 is 1688 px)."""


ROWS: list[str] = []


@pytest.fixture(autouse=True, scope="module")
def one_thread() -> Any:
    """One intra-op thread: on a shared machine, torch's spinning worker threads cost more than they save."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


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
