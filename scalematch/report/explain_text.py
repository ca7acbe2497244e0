"""The text printed by ``scalematch explain``: the numbers before and after a layer, the units one output unit
reads, and one sentence saying what the layer did. Formatting only: every number comes from the engine. Names
from a config or a command line are printed :func:`~scalematch.report.style.printable` (control characters as
escapes)."""

from __future__ import annotations

import textwrap
from fractions import Fraction

from scalematch._text import cut_runs
from scalematch.profile.explain import AxisReads, Explanation, summary_of
from scalematch.profile.layers import Layer, Merge, Passthrough, TransposedConv, Upsample, Window, describe, type_name
from scalematch.profile.runs import Runs, size, span
from scalematch.profile.summary import AxisSummary
from scalematch.report.style import printable
from scalematch.report.table import aligned

_MAX_RUNS = 6
_MAX_UNITS = 12
_WINDOW_WORDS = {"conv": "convolution", "maxpool": "max-pool", "avgpool": "average pool"}


def number(value: Fraction | int | float, digits: int | None = None) -> str:
    """``2``, ``1/2``, or a float with ``digits`` decimals."""
    if isinstance(value, Fraction):
        return str(value.numerator) if value.denominator == 1 else str(value)
    if digits is not None:
        return f"{value:.{digits}f}"
    return str(value)


def _pair(y: str, x: str) -> str:
    """A per-axis value shown width first (``x`` then ``y``), as every pair in scalematch's output."""
    return y if y == x else f"{x}x{y}"


def pixels(runs: Runs) -> str:
    """A pixel set as ``1..3`` (inclusive) or ``0, 2, 4`` (runs), shortened to its ends beyond six runs."""
    parts = [f"{a}" if b - a == 1 else f"{a}..{b - 1}" for a, b in runs]
    if len(parts) > _MAX_RUNS:
        parts = [*parts[:3], "...", parts[-1]]
        return ", ".join(parts) + f" ({len(runs)} runs)"
    return ", ".join(parts)


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _units(units: tuple[int, ...]) -> str:
    if len(units) > 3 and units == tuple(range(units[0], units[-1] + 1)):
        return f"units {units[0]}..{units[-1]}"
    return ("unit " if len(units) == 1 else "units ") + ", ".join(str(u) for u in units)


def layer_label(layer: Layer) -> str:
    """``conv k3 s2``, ``upsample x2 nearest``, ``add``."""
    return f"{type_name(layer)} {describe(layer)}".strip()


def table(exp: Explanation, labels: dict[str, str] | None = None) -> str:
    """The numbers of every map in ``exp.chain``: stride, RF, union width, overlap, ERF sigma (``y x x`` when the
    axes differ)."""
    labels = labels or {}
    head = ("map", "layer", "stride", "rf", "union", "overlap", "erf_sigma")
    rows = [head]
    for name in exp.chain:
        y, x = summary_of(exp.profile, name)
        layer = "input" if name == "image" else labels.get(name, layer_label(exp.profile[name].layer))
        rows.append(
            (
                printable(name),
                printable(layer),
                _pair(number(y.stride), number(x.stride)),
                _pair(str(y.rf), str(x.rf)),
                _pair(str(y.union), str(x.union)),
                _pair(f"{y.overlap:.3f}", f"{x.overlap:.3f}"),
                _pair(f"{y.erf_sigma:.2f}", f"{x.erf_sigma:.2f}"),
            )
        )
    return aligned(rows, left=2)


def _axis_lines(reads: AxisReads, node: str) -> list[str]:
    lines = []
    for src, units, sets in zip(reads.sources, reads.units, reads.sets, strict=True):
        shown: list[tuple[int, Runs] | None] = list(zip(units, sets, strict=True))
        if len(shown) > _MAX_UNITS:
            shown = [*shown[:5], None, *shown[-2:]]
        width = max(len(str(u)) for u in units)
        for item in shown:
            if item is None:
                lines.append("  ...")
            else:
                read = f"input pixels {pixels(item[1])}" if item[1] else "no input pixel (it reads the padding only)"
                lines.append(f"  {printable(src)} unit {str(item[0]).ljust(width)}  {read}")
    u = reads.union
    lines.append(
        f"  union of {node} unit {reads.unit}: input pixels {pixels(u)}; {_count(size(u), 'pixel')}, span {span(u)}"
    )
    return lines


def reads_text(exp: Explanation) -> str:
    """Which units of the input map(s) the chosen unit reads, per axis, with their input pixels and the union."""
    node = printable(exp.node.name)
    ay, ax = exp.axes
    srcs = " and ".join(f"{_units(units)} of {printable(src)}" for src, units in zip(ax.sources, ax.units, strict=True))
    lines: list[str] = []
    same = (ay.units, ay.sets, ay.union) == (ax.units, ax.sets, ax.union)
    if same:
        lines.append(f"Unit {ay.unit} of {node} (rows and columns alike) reads {srcs}:")
        lines += _axis_lines(ay, node)
    else:
        for word, reads in (("Rows", ay), ("Columns", ax)):
            srcs = " and ".join(
                f"{_units(units)} of {printable(src)}" for src, units in zip(reads.sources, reads.units, strict=True)
            )
            lines.append(f"{word}: unit {reads.unit} of {node} reads {srcs}:")
            lines += _axis_lines(reads, node)
    uy, ux = exp.union.rows, exp.union.cols
    wxh = "" if size(ux) == size(uy) else " (WxH)"
    product = f"{size(ux)} x {size(uy)}{wxh} = {_count(size(uy) * size(ux), 'pixel')}"
    area = product if exp.product_exact else _count(exp.area, "pixel")
    spans = "" if (size(uy), size(ux)) == (span(uy), span(ux)) else f" within a {span(ux)} x {span(uy)} span"
    if len(exp.regions) == 1:
        lines.append(f"2-D: one unit read; its region is {area}{spans}.")
    else:
        lines.append(f"2-D: {len(exp.regions)} regions, one per unit read; their union is {area}{spans}.")
    if not exp.product_exact:
        lines.append(
            f"  (the merged regions are not rectangles: the per-axis product, {product}, is what the figure draws)"
        )
    if at_edge(exp):
        unit = str(exp.unit[0]) if exp.unit[0] == exp.unit[1] else f"({exp.unit[0]}, {exp.unit[1]})"
        lines.append(
            f"  (unit {unit} is at the image's edge: the padding and units past a map's edge read nothing; the table "
            "and the sentence describe inner units)"
        )
    return "\n".join(lines)


def at_edge(exp: Explanation) -> bool:
    """Whether the explained unit reads fewer pixels than a unit inside the image (its window reaches the
    padding or past the edge of a map)."""
    geom = exp.node.geom
    assert geom is not None  # explain() only builds bounded maps
    return any(geom[a].unit(exp.unit[a])[0] != exp.axes[a].union for a in (0, 1))


def _stride_clause(before: Fraction, after: Fraction) -> str:
    r = after / before
    s = number(after)
    if r == 1:
        return f"keeps the stride at {s}"
    if r == 2:
        return f"doubles the stride to {s}"
    if r == Fraction(1, 2):
        return f"halves the stride to {s}"
    if r > 1:
        return f"multiplies the stride by {number(r)} to {s}"
    return f"divides the stride by {number(1 / r)} to {s}"


def _rf_clause(layer: Layer, a: int, before: AxisSummary, after: AxisSummary) -> str:
    grow = after.rf - before.rf
    if isinstance(layer, Window):
        k, d = layer.kernel[a], layer.dilation[a]
        k_eff = d * (k - 1) + 1
        if grow == (k_eff - 1) * before.stride:
            if grow == 0:
                return f"the receptive field stays {after.rf} (a kernel 1 pixel wide adds nothing)"
            term = "k−1" if d == 1 else "k_eff−1"
            text = (
                f"the receptive field grows by ({term})·S = {k_eff - 1}·{number(before.stride)} = {grow} to {after.rf}"
            )
            return text + (f" (k_eff = d·(k−1)+1 = {k_eff})" if d > 1 else "")
    if grow == 0:
        return f"the receptive field stays {after.rf}"
    return f"the receptive field grows by {grow} to {after.rf}"


def _tail(before: AxisSummary, after: AxisSummary) -> str:
    text = ""
    if after.union < after.rf:
        text += f", but a unit depends on only {after.union} of those {after.rf} pixels: the rest are gaps"
    elif before.union < before.rf:
        text += f", and the gaps are filled: all {after.rf} pixels count"
    if after.stride.denominator == 1 and after.stride > after.rf and after.union == after.rf:
        gap = int(after.stride) - after.rf
        text += (
            f"; units {after.stride} pixels apart with an RF of {after.rf} leave {gap} of every {after.stride} "
            "pixels unread"
        )
    return text


def _noun(layer: Layer) -> str:
    if isinstance(layer, Window):
        k = _pair(str(layer.kernel[0]), str(layer.kernel[1]))
        s = _pair(str(layer.stride[0]), str(layer.stride[1]))
        kind = _WINDOW_WORDS[layer.kind]
        d = _pair(str(layer.dilation[0]), str(layer.dilation[1]))
        wxh = " (WxH)"  # a pair that differs per axis is shown width first, as the layer's own text is not
        spec = f"{k if 'x' in k else f'{k}x{k}'}{'' if s == '1' else f'/{s}'}{wxh if 'x' in k + s else ''}"
        return f"The {spec} {kind}" + (f" with dilation {d}{wxh if 'x' in d else ''}" if d != "1" else "")
    if isinstance(layer, Upsample):
        f = _pair(str(layer.scale[0]), str(layer.scale[1]))
        return f"The {layer.mode} {f}x up-sampling"
    if isinstance(layer, TransposedConv):
        return f"The transposed convolution ({describe(layer).removesuffix(' (transposed)')})"
    return f"The {type_name(layer)}"


def sentence(exp: Explanation) -> str:
    """One sentence saying what the node's layer did to stride, receptive field and union."""
    layer = exp.node.layer
    after = (exp.node.y, exp.node.x)
    assert after[0] is not None and after[1] is not None  # explain() only builds bounded maps
    if isinstance(layer, Passthrough):
        return f"The {printable(type_name(layer))} keeps the geometry: stride, receptive field and ERF are unchanged."
    if isinstance(layer, Merge):
        rfs = ", ".join(_pair(str(y.rf), str(x.rf)) for _, y, x in exp.inputs)
        sig = _pair(f"{after[0].erf_sigma:.2f}", f"{after[1].erf_sigma:.2f}")
        return (
            f"The {layer.kind} takes the exact union of its inputs' regions (receptive fields {rfs}): the stride "
            f"stays {_pair(number(after[0].stride), number(after[1].stride))}, the receptive field is the "
            f"largest, {_pair(str(after[0].rf), str(after[1].rf))}, and the ERF, an equal mix of the inputs, has "
            f"σ {sig}."
        )
    _, *before = exp.inputs[0]
    clauses = []
    for a in (0, 1):
        b, f = before[a], after[a]
        assert f is not None
        text = f"{_stride_clause(b.stride, f.stride)}; {_rf_clause(layer, a, b, f)}{_tail(b, f)}"
        if isinstance(layer, Upsample) and layer.mode == "nearest" and layer.scale[a] > 1:
            text += f"; {layer.scale[a]} neighbouring units copy the same unit of {printable(exp.inputs[0][0])}"
        clauses.append(text)
    noun = _noun(layer)
    if clauses[0] == clauses[1]:
        return f"{noun} {clauses[0]}."
    return f"{noun}, along y, {clauses[0]}; along x, {clauses[1]}."


def chain_title(specs: list[str], width: int = 100) -> str:
    """``conv_3x3_stride_1 → 5 × conv_3x3_stride_1_dilate_2``: repeats grouped, wrapped at ``width``."""
    groups: list[list[str | int]] = []
    for spec in specs:
        if groups and groups[-1][0] == spec:
            groups[-1][1] = int(groups[-1][1]) + 1
        else:
            groups.append([spec, 1])
    text = " → ".join(f"{n} × {printable(str(spec))}" if n != 1 else printable(str(spec)) for spec, n in groups)
    return textwrap.fill(cut_runs(text), width)


def explain_text(exp: Explanation, labels: dict[str, str] | None = None) -> str:
    """The full text: table, units read, sentence."""
    return "\n\n".join([table(exp, labels), reads_text(exp), sentence(exp)])
