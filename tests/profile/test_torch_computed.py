# mypy: disable-error-code="no-any-return"
"""torch.fx import of arguments computed from shapes, reductions along one axis and refusal messages (review
round 16: F1, F2, F10, F12, F13, F15, F18), against autograd.

The expected boxes and sizes come from the gradient of output units (tests/profile/autograd_rf.py), never from
the engine.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch", reason="the 'torch' extra is not installed (pip install '.[torch]')")

from autograd_rf import measure  # noqa: E402
from torch import Tensor, nn  # noqa: E402
from torch_computed_models import AlongOneAxis, Computed, Shifted  # noqa: E402

from scalematch.errors import ModelError  # noqa: E402
from scalematch.profile import GlobalPool, Upsample, profile  # noqa: E402
from scalematch.profile.importers.torch import from_torch  # noqa: E402

SIZE = (20, 28)  # (h, w): no multiple of 8, so that a pad to a multiple of 8 pads both axes
WH = SIZE[::-1]  # from_torch takes the size width first


def assert_matches_autograd(model: nn.Module, size: tuple[int, int] = SIZE) -> None:
    """The last tap's size and the input box of its corner, edge and centre units equal autograd's."""
    fm = profile(from_torch(model, size[::-1]), size).feature_maps[-1]
    _, shape = measure(model, size, (0, 0))
    assert fm.size == shape
    h, w = shape
    for unit in {(0, 0), (h // 2, w // 2), (h - 1, w - 1), (0, w - 1), (h - 1, 0)}:
        box, _ = measure(model, size, unit)
        assert fm.input_box(*unit, clip_to=size) == box, unit


@pytest.mark.parametrize(
    ("how", "message"),
    [
        (
            "softmax along W",
            "node 'softmax' (softmax): normalises along spatial axis 3 (each unit reads the whole axis); expected "
            "the channel axis, or declare it pass-through to leave that out (--passthrough softmax)",
        ),
        ("chunk along W", "node 'chunk' (chunk): splits along spatial axis 3; expected the channel axis"),
        ("glu along H", "node 'glu' (glu): splits along spatial axis 2; expected the channel axis"),
        (
            "mean along W",
            "node 'mean' (mean): reduces along spatial axis 3 (each unit reads the whole axis); expected the channel "
            "axis or both H and W, or declare it pass-through to leave that out (--passthrough mean)",
        ),
    ],
)
def test_a_dim_computed_in_the_graph_is_checked_as_a_written_one(how: str, message: str) -> None:
    """``dim=a.dim() - 1`` was not an int, so the H/W checks were skipped: the softmax, chunk and GLU passed with
    the geometry of the map before them (review round 16 F1), and a mean along it was a traceback (F2)."""
    with pytest.raises(ModelError) as err:
        from_torch(Computed(how), WH)
    assert str(err.value) == f"Computed: {message}"


@pytest.mark.parametrize("how", ["softmax along C", "chunk along C"])
def test_a_dim_computed_in_the_graph_along_channels_keeps_the_measured_geometry(how: str) -> None:
    assert_matches_autograd(Computed(how))


@pytest.mark.parametrize(
    "how",
    [
        "global pool by the map's size",
        "pad to a multiple of 8",
        "adaptive pool to half",
        "pool by a computed kernel",
        "conv padded by a computed amount",
        "cat along a computed dim",
        "up-sampling by a computed factor",
        "up-sampling to twice the size",
        "max with a buffer",
    ],
)
def test_arguments_computed_from_shapes_take_their_value_at_the_example_size(how: str) -> None:
    """Each was a Python traceback (review round 16 F2; the last two F13 and the buffer case): the size, pad,
    kernel, factor or dim is the one torch computes in the example run, and the geometry is autograd's."""
    assert_matches_autograd(Computed(how))


def test_a_pool_over_the_map_s_own_size_is_a_global_pool() -> None:
    """CIFAR ResNets' ``F.avg_pool2d(out, out.size()[2:])`` covers the map at every input size: a global pool
    (the head, never a stage tap), not a window fixed at the example size."""
    graph = from_torch(Computed("global pool by the map's size"), WH)
    assert [n.layer for n in graph.nodes][-1] == GlobalPool("avg")


def test_an_up_sampling_to_twice_its_own_size_is_a_factor() -> None:
    """The size read from the map's own shape (twice it) was taken as the size of that map (size_like), and the
    profile refused it as one short of a multiple (review round 16 F13)."""
    graph = from_torch(Computed("up-sampling to twice the size"), WH)
    assert [n.layer for n in graph.nodes][-1] == Upsample((2, 2), "nearest")


def test_an_argument_that_is_no_number_is_refused_with_its_node() -> None:
    class TensorDim(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = nn.Conv2d(3, 4, 3, 1, 1)
            self.register_buffer("k", torch.tensor(2))

        def forward(self, x: Tensor) -> Tensor:
            return torch.softmax(self.a(x), dim=self.k)

    with pytest.raises(ModelError) as err:
        from_torch(TensorDim(), WH)
    assert str(err.value) == (
        "TensorDim: node 'softmax' (softmax): its dim comes from 'k', which is not a number in the example run; "
        "expected a number or a tuple of numbers"
    )


ALONG = "(each unit reads the whole axis); expected the channel axis"


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("normalize(2)", f"node 'normalize' (normalize): normalises along spatial axis 2 {ALONG}, or declare it"),
        ("amax(3)", f"node 'amax' (amax): reduces along spatial axis 3 {ALONG} or both H and W, or declare it"),
        ("logsumexp(3)", f"node 'logsumexp' (logsumexp): reduces along spatial axis 3 {ALONG} or both H and W, or"),
        ("var(2)", f"node 'var' (var): reduces along spatial axis 2 {ALONG} or both H and W, or declare it"),
        ("median(3)", f"node 'median' (median): reduces along spatial axis 3 {ALONG} or both H and W, or declare"),
        # read through the named tuple's .values, they were taken for a shape query: a constant (review round 45, B1)
        ("maxv(2)", f"node 'max_1' (max): reduces along spatial axis 2 {ALONG} or both H and W, or declare it"),
        ("minv(3)", f"node 'min_1' (min): reduces along spatial axis 3 {ALONG} or both H and W, or declare it"),
        (
            "vector_norm(2)",
            f"node 'linalg_vector_norm' (linalg_vector_norm): reduces along spatial axis 2 {ALONG} or both H and W",
        ),
    ],
)
def test_a_normalisation_along_one_spatial_axis_is_refused_as_a_softmax_is(how: str, message: str) -> None:
    """Each unit reads its whole row or column (autograd), as with a softmax along H or W, which is refused: these
    passed with the rf of the convolutions, the reduction dropped by the broadcast-gate rule (review round 16
    F10). Declared pass-through, they are left out."""
    model = AlongOneAxis(how)
    if not how.startswith(
        ("amax", "median", "maxv", "minv")
    ):  # those read one element of the axis, which one depends on the data
        box, _ = measure(model, (24, 32), (5, 5))
        assert box[int(how[-2]) - 2] == ((0, 23), (0, 31))[int(how[-2]) - 2]  # the whole axis, by autograd
    with pytest.raises(ModelError) as err:
        from_torch(model, (32, 24))
    assert str(err.value).startswith(f"AlongOneAxis: {message}")
    op = message.split("(")[1].split(")")[0]  # the operation, which a node's name may number (max_1)
    assert str(err.value).endswith(f"to leave that out (--passthrough {op})")
    declared = profile(from_torch(model, (32, 24), passthrough=[op]), (24, 32)).feature_maps[-1]
    assert declared.size == (24, 32)


@pytest.mark.parametrize(
    "how",
    ["normalize(1)", "amax(1)", "logsumexp(1)", "var(1)", "median(1)", "vector_norm(1)", "maxv(1)", "minv(1)"],
)
def test_a_normalisation_along_channels_keeps_the_measured_geometry(how: str) -> None:
    assert_matches_autograd(AlongOneAxis(how), (24, 32))


def test_a_maps_data_is_the_map_itself_and_its_erf_is_refused_as_cut() -> None:
    """``x.data`` was taken for a shape query (a constant): the layer after it read nothing. It is the map (the
    geometry of the same network without it); autograd follows no path through it, which ERF names (it said
    'AssertionError: no message')."""
    from scalematch.profile.erf_measure import measure_erf

    model, plain = AlongOneAxis("data(1)"), AlongOneAxis("maxv(1)")  # (a channel max keeps the geometry)
    got, expected = (profile(from_torch(m, (32, 24)), (24, 32)).feature_maps[-1] for m in (model, plain))
    assert (got.y, got.x, got.size) == (expected.y, expected.x, expected.size)
    assert got.input_box(12, 16) == expected.input_box(12, 16) == ((10, 14), (14, 18))  # two 3x3 convolutions
    with pytest.raises(ModelError) as err:
        measure_erf(model, (32, 24), samples=1)
    assert str(err.value) == (
        "AlongOneAxis: measuring 'b': autograd finds no path from the input to it (the module cuts the gradient on "
        "the way: x.detach(), x.data or torch.no_grad()), so its gradients cannot be measured"
    )


class Attribute(nn.Module):
    """``a + a.<attribute>``: a transpose (mT, mH), the map itself (real), or ``a`` gated by a shape query."""

    def __init__(self, attribute: str) -> None:
        super().__init__()
        self.attribute = attribute
        self.a = nn.Conv2d(3, 4, 3, 1, 1)
        self.b = nn.Conv2d(4, 4, 3, 1, 1)

    def forward(self, x: Tensor) -> Tensor:
        a = self.a(x)
        if self.attribute == "shape":
            return self.b(a * (a.shape[1] > 0))
        return self.b(a + getattr(a, self.attribute))


@pytest.mark.parametrize("attribute", ["mT", "mH"])
def test_a_transpose_read_as_an_attribute_is_refused(attribute: str) -> None:
    """``a + a.mT`` was profiled with the rf of the convolutions (rf 5), the attribute taken for a shape query (a
    constant), where a unit reads the mirrored corner too (review round 46, C2)."""
    box, _ = measure(Attribute(attribute), (16, 16), (0, 15))
    assert box == ((0, 15), (0, 15))  # by autograd: the corner unit reads its mirror across the diagonal
    with pytest.raises(ModelError) as err:
        from_torch(Attribute(attribute), (16, 16))
    assert str(err.value) == (
        f"Attribute: node 'getattr_1' (getattr {attribute}): reads the attribute '{attribute}' of a feature map, "
        "which the import cannot follow (a transpose such as x.mT rearranges the axes); expected a shape query "
        "(x.shape) or an operation on the map"
    )


@pytest.mark.parametrize("attribute", ["real", "shape"])
def test_the_real_part_and_a_shape_query_keep_the_measured_geometry(attribute: str) -> None:
    assert_matches_autograd(Attribute(attribute), (16, 16))


class TransposedTwice(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, 1, 1)
        self.b = nn.Conv2d(4, 4, (3, 1), 1, (1, 0))

    def forward(self, x: Tensor) -> Tensor:
        return self.b(self.a(x).transpose(2, 3)).transpose(2, 3)


class Attention(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, 1, 1)

    def forward(self, x: Tensor) -> Tensor:
        a = self.a(x)
        t = a.flatten(2)
        return (t @ (t.transpose(1, 2) @ t).softmax(-1)).view_as(a)


class Conv1dOnRows(nn.Module):
    """A 1-D convolution over the flattened positions (mixing the end of a row with the start of the next), viewed
    back as a map: profiled as the stages before it with the note 'the module returns no feature map' (review
    round 42, B-F7)."""

    def __init__(self) -> None:
        super().__init__()
        self.c, self.d = nn.Conv2d(3, 8, 3, 2, 1), nn.Conv1d(8, 8, 3, 1, 1)

    def forward(self, x: Tensor) -> Tensor:
        a = self.c(x)
        n, c, h, w = a.shape
        return self.d(a.flatten(2)).view(n, c, h, w)


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (
            TransposedTwice(),
            "TransposedTwice: node 'b' (Conv2d): reads 'transpose', which is not an (N, C, H, W) feature map: "
            "'transpose' rearranges the axes (its rows mix rows and columns); its geometry cannot be read",
        ),
        (
            Conv1dOnRows(),
            "Conv1dOnRows: node 'd': unsupported operation 'Conv1d'; declare it pass-through if it keeps the "
            "geometry (--passthrough Conv1d, or --passthrough d for this module only)",
        ),
        (
            Attention(),
            "Attention: node 'matmul': unsupported operation 'matmul'; declare it pass-through if it keeps the "
            "geometry (--passthrough matmul)",
        ),
    ],
)
def test_the_refusal_that_leaves_no_feature_map_is_the_error(model: nn.Module, message: str) -> None:
    """It was 'the module returns no feature map' for a module that returns one (review round 16 F12)."""
    with pytest.raises(ModelError) as err:
        from_torch(model, (32, 24))
    assert str(err.value) == message


class Raises(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        raise RuntimeError("boom\nsecond line")


class Exits(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        raise SystemExit(3)  # (sys.exit(3): it ended scalematch with exit 3 and no word, review round 42 B-F6)


class Branches(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return x if x.sum() > 0 else -x


class Counts(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return x * len(x)


@pytest.mark.parametrize(
    ("model", "why"),
    [
        (Raises(), "(RuntimeError: boom); the module raised this while torch.fx traced it with symbolic tensors, "
                   "which hold no values (one possible cause: code that reads the input's values)"),
        (Exits(), "(SystemExit: 3); the module raised this while torch.fx traced it with symbolic tensors, "
                  "which hold no values (one possible cause: code that reads the input's values)"),
        (Branches(), "(TraceError: symbolically traced variables cannot be used as inputs to control flow); "
                     "data-dependent control flow cannot be traced"),
        (Counts(), "(RuntimeError: 'len' is not supported in symbolic tracing by default. If you want this call to be "
                   "recorded, please call torch.fx.wrap('len') at module scope); code that reads a traced tensor's "
                   "values (len(), int(), an if on them) cannot be traced"),
    ],
)  # fmt: skip
def test_a_module_that_raises_is_not_said_to_have_control_flow(model: nn.Module, why: str) -> None:
    """A forward that raises RuntimeError('boom') was said to have data-dependent control flow (review round 24,
    F6): that cause is named only for torch.fx's own TraceError, one possible cause for the module's own error."""
    with pytest.raises(ModelError) as err:
        from_torch(model, (32, 24))
    name = type(model).__name__
    assert str(err.value) == f"{name}: torch.fx cannot trace module '{name}' {why}"


def test_item_assignment_is_named_with_what_to_do() -> None:
    """It was reported as data-dependent control flow (review round 16 F15)."""
    with pytest.raises(ModelError) as err:
        from_torch(Shifted(), (32, 24))
    assert str(err.value) == (
        "Shifted: torch.fx cannot trace module 'Shifted' (TypeError: 'Proxy' object does not support item "
        "assignment); an assignment to part of a tensor (x[...] = y) cannot be traced: build the tensor with "
        "torch.cat or F.pad instead, or export the model to ONNX and give the .onnx file"
    )
