"""Entry points used by the CLI and notebooks: build a graph from names, parse sizes, list built-ins."""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from scalematch._text import converts, int_text
from scalematch.errors import ModelError, OptionError
from scalematch.profile.engine import Profile
from scalematch.profile.graph import Graph
from scalematch.profile.importers.config import Config, attach, builtin, load
from scalematch.profile.importers.emit import TapSpec, parse_taps
from scalematch.profile.layers import Pair

MAX_INPUT_SIDE = 16384  # input size bound per side (pixels): beyond every detector input, and exact math stays fast

_MODULE_SPEC = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


def is_imported(backbone: str) -> bool:
    """True when ``backbone`` names an ONNX file or a torch ``module:attribute`` rather than a config."""
    return backbone.lower().endswith(".onnx") or (
        _MODULE_SPEC.match(backbone) is not None and not Path(backbone).exists()
    )


def module_files(backbone: str | None) -> tuple[Path, ...]:
    """The source files a torch ``package.module:attribute`` is read from: the module's own (a package's
    ``__init__.py``) and those of the packages holding it, found as ``import`` finds them but without running any
    of them, so that an output can be refused before the work. Empty for other names, and from the first name
    that cannot be found (the import says why later)."""
    import importlib.machinery
    import sys

    if backbone is None or backbone.lower().endswith(".onnx") or not is_imported(backbone):
        return ()
    from scalematch._paths import importable_here

    importable_here()
    files: list[Path] = []
    path: Any = None  # where the next name is looked for: sys.path, then the package's folders
    parts = backbone.partition(":")[0].split(".")
    for k in range(len(parts)):
        name = ".".join(parts[: k + 1])
        loaded = sys.modules.get(name)
        spec: Any = getattr(loaded, "__spec__", None) if loaded is not None else None
        try:
            for finder in sys.meta_path if spec is None else ():
                find = getattr(finder, "find_spec", None)
                spec = find(name, path, None) if find is not None else None
                if spec is not None:
                    break
        except Exception:  # a broken finder or a name no finder takes: the import reports it
            spec = None
        if spec is None:
            break
        if isinstance(spec, importlib.machinery.ModuleSpec) and spec.origin and Path(spec.origin).is_file():
            files.append(Path(spec.origin).resolve())
        path = spec.submodule_search_locations
        if path is None:  # not a package: nothing lies below it
            break
    return tuple(files)


def check_given(value: object, param: str, expected: str) -> None:
    """An :class:`OptionError` naming ``param`` for an empty (or blank) name: it is never taken as the default."""
    if isinstance(value, str) and not value.strip():
        raise OptionError(f"{param}: expected {expected}, got an empty value")


MAX_CHANNELS = 1024
"""The bound on a torch model's input channels (``channels=``, ``--channels``): 1x1024x224x224 float32 is 205 MB."""


def build(
    backbone: str,
    neck: str | None = None,
    *,
    taps: TapSpec = None,
    passthrough: str | Sequence[str] | None = (),
    input_size: Pair | None = None,
    channels: int | None = None,
    param: str = "backbone",
) -> Graph:
    """The graph of a backbone, with a neck attached if one is named (``param`` names the backbone's parameter in
    errors: ``backbone: unknown backbone 'x'; ...``).

    ``backbone`` is a built-in name, a YAML path, an ``.onnx`` path or a torch ``package.module:attribute``.
    For the imported models, ``taps`` picks the named outputs (``"a,b"`` or ``"C3=a"``, a list or tuple of such
    texts, or a dict tap -> name), ``passthrough`` declares unknown operators geometry-preserving (``"A,B"`` or a
    list or tuple of texts; None: none) and ``input_size`` is the example input (torch: default 224x224); another
    type, and an empty name in ``taps`` or ``passthrough``, is an error, whatever the backbone.
    ``channels`` is a torch model's input channels (default: found by running it).
    """
    from scalematch import _args

    backbone = _args.path_or_name(backbone, param, "a backbone name or path (str)")  # a path as its text
    neck = _args.path_or_name(neck, "neck", "a neck name or path (str)", optional=True)
    check_given(backbone, param, "a backbone name or path")
    check_given(neck, "neck", "a neck name or path")
    passthrough, channels = check_import_options(taps, passthrough, channels)
    if channels is not None and (backbone.lower().endswith(".onnx") or not is_imported(backbone)):
        raise OptionError(f"channels: applies to torch models, not to '{backbone}'")
    if backbone.lower().endswith(".onnx"):
        from scalematch.profile.importers.onnx import from_onnx

        size = None if input_size is None else (input_size[1], input_size[0])  # from_onnx takes it width first
        config = Config(Path(backbone).stem, "backbone", from_onnx(backbone, taps, passthrough, size))
    elif is_imported(backbone):
        from scalematch.profile.importers.torch import trace

        graph = trace(backbone, input_size or (224, 224), taps, passthrough, channels=channels).graph
        config = Config(graph.name, "backbone", graph)
    else:
        given = [f"{p}=" for p, value in (("taps", taps is not None), ("passthrough", bool(passthrough))) if value]
        if given:  # (named as given: erf's own import of a config passes no taps)
            verb = "apply" if len(given) > 1 else "applies"
            raise OptionError(f"{' and '.join(given)} {verb} to ONNX and torch models, not to the config '{backbone}'")
        config = load(backbone, "backbones", param)
    return attach(config, load(neck, "necks", "neck")) if neck else config.graph


def check_any_size(graph: Graph, backbone: str) -> None:
    """An :class:`OptionError` when ``graph`` holds at its example size only (``Graph.size_bound``): a dataset's
    images come to many input sizes under a resize policy, and the geometry would change from one to another."""
    from scalematch.profile.graph import bound_nodes

    if graph.size_bound and graph.traced_at is not None:
        h, w = graph.traced_at
        raise OptionError(
            f"backbone: '{backbone}' reads the input's size ({bound_nodes(graph)}, traced at {w}x{h}), so its "
            "geometry changes with each image's input size under the resize policy; expected a backbone whose "
            f"geometry holds at every size (profile it at one size with: scalematch profile {backbone} --size WxH)"
        )


def build_any_size(backbone: str, neck: str | None = None) -> Graph:
    """The graph of ``backbone`` (+ ``neck``) to match at every image's input size: built without an example size
    and held to :func:`check_any_size`. An ONNX model whose geometry needs its input size to be read (a Resize
    or a Pad computed from shapes under a symbolic input size) is an :class:`OptionError` that says so."""
    try:
        graph = build(backbone, neck)
    except ModelError as exc:
        from scalematch.profile.importers.onnx import SYMBOLIC

        if SYMBOLIC not in str(exc):
            raise without_import_options(exc, "recommend") from None
        why = str(exc).split(SYMBOLIC, 1)[0] + SYMBOLIC.split(";", 1)[0]
        raise OptionError(
            f"backbone: {why}; a backbone to recommend for is imported without an input size, as the images come "
            "to many input sizes, so this model cannot be used (profile it at one size with: scalematch profile "
            f"{backbone} --size WxH)"
        ) from None
    check_any_size(graph, backbone)
    return graph


_DECLARE = re.compile(r"\(--passthrough ([^()]*)\)")


def without_import_options(exc: ModelError, command: str) -> ModelError:
    """``exc`` (an import's refusal) for ``command``, which takes neither ``--passthrough`` nor ``--taps``: the
    declaration it offers is one of ``scalematch profile``, and the taps that would reach only the maps before a
    refused node are not offered (the neck reads the maps after it)."""
    from scalematch.profile.importers.emit import BlockedTaps

    text = str(exc)
    if isinstance(exc, BlockedTaps):
        text = text.replace(exc.advice, "")
    text = _DECLARE.sub(
        lambda m: f"(scalematch profile takes --passthrough {m.group(1)}; {command} takes no --passthrough)", text
    )
    return exc if text == str(exc) else ModelError(text)


def _names(value: object, param: str) -> tuple[str, ...]:
    """The names of a ``'a,b'`` list (or a list or tuple of names; none for None), stripped; another type, and an
    empty or blank name, is an error naming ``param``, as for every list option."""
    from scalematch import _args

    expected = (
        "tap names ('a,b' or 'C3=a,C4=b'), a list of them or a dict tap -> name"
        if param == "taps"
        else "names ('A,B' or a list of texts)"
    )
    items = _args.names(value, param, expected)
    if not all(items):
        raise OptionError(f"{param}: expected names separated by ',', got an empty one in {value!r}")
    return tuple(items)


def check_import_options(
    taps: TapSpec, passthrough: str | Sequence[str] | None, channels: int | None
) -> tuple[tuple[str, ...], int | None]:
    """The ``passthrough`` names and the ``channels`` of an imported model, checked with its ``taps`` (a text, a
    list of texts or a dict of texts; names non-empty, none twice; channels an integer from 1 to
    :data:`MAX_CHANNELS`): an :class:`OptionError` naming the parameter otherwise, before any model is run."""
    from scalematch import _args

    names = _names(passthrough, "passthrough")
    if isinstance(taps, Mapping):
        bad = next(((k, v) for k, v in taps.items() if not (isinstance(k, str) and isinstance(v, str))), None)
        if bad is not None:
            raise OptionError(
                f"taps: expected a dict of tap names to value names, both texts, got {_args.shown(bad[0])}: "
                f"{_args.shown(bad[1])}"
            )
    elif taps is not None:
        _names(taps, "taps")
        pairs = parse_taps(taps) or []
        halves = [f"{tap}={value}" for tap, value in pairs if not tap or not value]
        if halves:
            raise OptionError(f"taps: expected NAME or LABEL=NAME, both non-empty, got {halves[0]!r}")
        named = [tap for tap, _ in pairs]
        twice = [tap for i, tap in enumerate(named) if tap in named[:i]]
        if twice:
            raise OptionError(f"taps: tap {twice[0]!r} is named twice")
    channels = _args.integer(channels, "channels", optional=True)
    if channels is not None and channels < 1:
        raise OptionError(f"channels: expected a positive number of input channels, got {int_text(channels)}")
    if channels is not None and channels > MAX_CHANNELS:
        raise OptionError(
            f"channels: expected at most {MAX_CHANNELS} input channels (the model is run once on an input of that "
            f"many; images have 1 to a few hundred), got {int_text(channels)}"
        )
    return names, channels


def load_backbone(
    backbone: str,
    neck: str | None = None,
    *,
    taps: TapSpec = None,
    passthrough: str | Sequence[str] | None = (),
    input_size: str | tuple[int, int] | None = None,
    channels: int | None = None,
) -> Graph:
    """The layer graph of ``backbone`` (+ ``neck``): a built-in name, a YAML path, an ``.onnx`` path or a torch
    ``package.module:attribute``. ``input_size`` is width first (``"1333x800"`` or ``(1333, 800)``); see
    :func:`build` for the other parameters (``passthrough`` may also be a comma list)."""
    return build(
        backbone, neck, taps=taps, passthrough=passthrough, input_size=parse_size(input_size), channels=channels
    )


def profile_model(
    backbone: str | Graph | Any,
    neck: str | None = None,
    *,
    input_size: str | tuple[int, int] | None = None,
    taps: TapSpec = None,
    passthrough: str | Sequence[str] | None = (),
    channels: int | None = None,
    allow_misaligned: bool = False,
) -> Profile:
    """The scale profile of every feature map of ``backbone`` (+ ``neck``), as ``scalematch profile`` prints it.

    ``backbone`` is a name or path as for :func:`load_backbone`, a :class:`Graph`, or a PyTorch ``nn.Module``
    (traced by :func:`scalematch.profile.importers.torch.from_torch` at ``input_size``, 224x224 when none is
    given; ``taps``, ``passthrough`` and ``channels`` go to it); ``input_size`` is width first (``"1333x800"`` or
    ``(1333, 800)``) and gives feature sizes and exact 'same' padding; ``taps`` and ``passthrough`` are as for
    :func:`build`; ``allow_misaligned`` is True or False.
    """
    from dataclasses import replace

    from scalematch import _args
    from scalematch.profile.engine import profile

    size = parse_size(input_size)
    torch_nn = sys.modules.get("torch.nn")  # an nn.Module's class is torch's: torch is imported once there is one
    if torch_nn is not None and isinstance(backbone, torch_nn.Module):
        if neck is not None:
            raise OptionError("neck: an nn.Module is profiled as it is; neck= applies to names and paths")
        from scalematch.profile.importers.torch import from_torch

        traced = (input_size if size else None) or "224x224"  # from_torch's example input when none is given
        names, channels = check_import_options(taps, passthrough, channels)
        backbone = from_torch(backbone, traced, taps, names, channels=channels)
        taps, passthrough, channels = None, (), None
    if not isinstance(backbone, Graph):
        _args.path_or_name(backbone, "backbone", "a backbone name or path, an nn.Module or a Graph")
    neck = _args.path_or_name(neck, "neck", "a neck name or path (str)", optional=True)  # the profile names its text
    allow_misaligned = _args.flag(allow_misaligned, "allow_misaligned")
    if isinstance(backbone, Graph):
        if neck is not None or taps is not None or _names(passthrough, "passthrough") or channels is not None:
            raise OptionError(
                "backbone: a Graph is profiled as it is; neck=, taps=, passthrough= and channels= "
                "apply to names and paths"
            )
        graph = backbone
    else:
        graph = build(backbone, neck, taps=taps, passthrough=passthrough, input_size=size, channels=channels)
    return replace(profile(graph, size, allow_misaligned=allow_misaligned, misaligned_flag=True), neck=neck)


def parse_size(text: str | tuple[int, int] | None, param: str = "input_size", required: bool = False) -> Pair | None:
    """An input size given width first, as every size option and output of scalematch is (WxH, like COCO's
    width/height and ``fixed:WxH``): ``"1333x800"`` or ``(1333, 800)`` -> (800, 1333) as the engine's (h, w);
    ``"800"`` -> (800, 800); None stays None (an error when ``required``). Errors name ``param``."""
    if text is None and not required:
        return None
    if isinstance(text, tuple | list) and len(text) == 2 and all(_whole(v) for v in text):
        text = "x".join(_side(v, param) for v in text)
    if _whole(text):  # one side: a square
        text = _side(text, param)
    if not isinstance(text, str):
        from scalematch._args import shown

        raise OptionError(
            f"{param}: expected W or WxH (width first, e.g. 800 or '1333x800') or a (width, height) pair of "
            f"integers, got {shown(text)}"
        )
    w, h = _two(text, param, "W or WxH (width first, e.g. 800 or 1333x800)")
    return h, w


def _side(value: Any, param: str) -> str:
    """A side given as an integer, as its digits; one of more digits than Python converts (``7 * 10**5000``) is
    refused here, named by its count of digits (``str()`` would raise a bare ValueError)."""
    if converts(int(value)):
        return str(value)
    if value > 0:
        raise OptionError(f"{param}: expected at most {MAX_INPUT_SIDE} pixels per side, got {int_text(int(value))}")
    raise OptionError(f"{param}: expected a side in positive pixels, got {int_text(int(value))}")


def _whole(value: object) -> bool:
    import numbers

    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def parse_input_size(text: str | None, param: str = "input_size") -> Pair | None:
    """The old height-first spelling (``"800x1333"`` -> (800, 1333) as (h, w)), kept for ``--input-size``."""
    if text is None:
        return None
    return _two(text, param, "H or HxW (height first, e.g. 800 or 800x1333)")


def _two(text: str, param: str, expected: str) -> Pair:
    parts = str(text).lower().split("x")
    shown = text if len(text) <= 40 else text[:37] + "..."
    if len(parts) not in (1, 2) or not all(p.strip().isascii() and p.strip().isdigit() for p in parts):
        raise OptionError(f"{param}: expected {expected} in positive pixels, got '{shown}'")
    sides = [_digits(p) for p in parts]
    if not all(side > 0 for side in sides):
        raise OptionError(f"{param}: expected {expected} in positive pixels, got '{shown}'")
    first, second = sides[0], sides[-1]
    if max(first, second) > MAX_INPUT_SIDE:
        raise OptionError(f"{param}: expected at most {MAX_INPUT_SIDE} pixels per side, got '{shown}'")
    return first, second


def _digits(text: str) -> int:
    """The number written in the ASCII digits ``text``; one of more than 18 digits (leading zeros aside) as 10**18,
    beyond every limit (``int()`` refuses more than 4,300 digits with a bare ValueError)."""
    digits = text.strip().lstrip("0")
    return int(digits or "0") if len(digits) <= 18 else 10**18


def title(convention: str) -> str:
    """The head of a convention text: what comes before its first ': ' outside parentheses, else its first
    sentence (never a cut inside brackets)."""
    depth = 0
    for k, char in enumerate(convention):
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(char, 0)
        if depth == 0 and convention.startswith((": ", ". "), k):
            return convention[:k]
    return convention.rstrip(".")


def catalogue() -> list[dict[str, Any]]:
    """Every built-in backbone and neck: name, kind, outputs, inputs, title (the head of the convention) and
    convention."""
    entries = []
    for kind in ("backbones", "necks"):
        for name in builtin(kind):
            config = load(name, kind)
            entries.append(
                {
                    "name": name,
                    "kind": config.kind,
                    "outputs": [tap for tap, _ in config.graph.taps],
                    "inputs": list(config.inputs),
                    "title": title(config.graph.convention),
                    "convention": config.graph.convention,
                }
            )
    return entries
