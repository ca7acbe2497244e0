# mypy: disable-error-code="no-any-return"
"""The autograd oracle of the import tests: which input pixels a feature unit depends on, measured.

:func:`measurable` makes a copy of a network in which every dependency shows as a nonzero gradient, and
:func:`support` reads the rows and columns of that gradient. Nothing here uses scalematch (nor needs torchvision).
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import fx, nn


def edge_heavy(shape: tuple[int, ...], gen: Any) -> Any:
    """Positive convolution weights that sum to about 1 per output channel, random (so that channels differ
    and a layer norm does not cancel them out) and heaviest at the kernel's border: the share of the outermost
    taps stays near one half per layer, so the gradient at the edge of a deep receptive field stays far
    from float32's underflow (with uniform weights it decays as 1/k per layer and per axis)."""
    _, in_c, kh, kw = shape
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
            if type(module).__name__ == "SqueezeExcitation":  # torchvision's, without importing torchvision
                for fc in (module.get_submodule("fc1"), module.get_submodule("fc2")):
                    for param in fc.parameters():  # a constant gate: no gradient through it
                        param.zero_()
            elif isinstance(module, nn.Conv2d | nn.Linear) and module.weight.abs().sum() > 0:
                fan_in = module.weight[0].numel()
                if isinstance(module, nn.Linear) and module.weight.numel() > 10**7:  # a classifier: no tap
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


class Capture(fx.Interpreter):
    def __init__(self, module: Any, wanted: set[str]) -> None:
        super().__init__(module)
        self.wanted = wanted
        self.values: dict[str, Any] = {}

    def run_node(self, n: Any) -> Any:
        result = super().run_node(n)
        if n.name in self.wanted:
            self.values[n.name] = result
        return result


def measure(model: nn.Module, size: tuple[int, int], unit: tuple[int, int], channels: int = 3) -> Any:
    """``(box, map size)``: the input rows and columns that unit ``(i, j)`` of ``model``'s output depends on
    (measured in float64 on :func:`measurable`), and the output's spatial size."""
    net = measurable(model, torch.float64)
    gen = torch.Generator().manual_seed(2)
    x = (0.5 + torch.rand((1, channels, *size), generator=gen, dtype=torch.float64)).requires_grad_()
    out = net(x)
    mix = 0.5 + torch.rand(out.shape[1], generator=gen, dtype=torch.float64)
    (grad,) = torch.autograd.grad((out[0, :, unit[0], unit[1]] * mix).sum(), x)
    return support(grad), tuple(out.shape[-2:])
