"""Backbone and neck configs: YAML files (built in under configs/ or given by path) and layer lists.

A config is either a plain ``layers: [...]`` list (seed layer names or inline specs, applied in sequence) or
``nodes: [...]`` records ``{name, type, <fields>, input | inputs}``; a node without an input reads the previous
node. ``templates`` define blocks used as ``{name, use, with, repeat, start}``: the block's nodes are named
``<name>.<node>``, ``$input`` is the block's input, ``$param`` a parameter, and the block's name stands for its
last node. ``outputs`` maps output names (C2, P3, ...) to nodes. A neck lists the backbone ``inputs`` it reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from scalematch._paths import kind as path_kind
from scalematch._paths import problem
from scalematch._text import described
from scalematch._yaml import key_words as _key
from scalematch._yaml import yaml_words
from scalematch.errors import ConfigError
from scalematch.profile.graph import INPUT, Graph, Node
from scalematch.profile.importers.emit import repeated_map
from scalematch.profile.importers.layer_list import parse_layer, parse_spec
from scalematch.profile.layers import Upsample

MAX_REPEAT = 10_000
"""Most repetitions of one template use."""

MAX_NODES = 100_000
"""Most nodes a config may expand to (templates and repeats included; checked while expanding): the largest
detector backbones have a few thousand, and nested repeats could otherwise ask for 10**8."""

_NODE_KEYS = {"name", "type", "input", "inputs", "use", "with", "repeat", "start"}
_TOP_KEYS = {
    "name",
    "kind",
    "convention",
    "source",
    "description",
    "templates",
    "nodes",
    "layers",
    "outputs",
    "inputs",
}
_PARAM = re.compile(r"^\$([A-Za-z_]\w*)$")


@dataclass(frozen=True)
class Config:
    """A loaded config: its graph (for a neck, inputs are the names in ``inputs``) and metadata."""

    name: str
    kind: str
    graph: Graph
    inputs: tuple[str, ...] = ()
    description: str = ""


def config_dir() -> Path:
    """Built-in configs: inside the installed package, else the source tree's configs/."""
    here = Path(__file__).resolve().parents[2]  # the scalematch package
    packaged = here / "configs"
    return packaged if packaged.is_dir() else here.parent / "configs"


def builtin(kind: str) -> dict[str, Path]:
    """Built-in configs of one kind ("backbones" or "necks"), name -> path, sorted by name."""
    paths = (config_dir() / kind).glob("*.yaml")
    return {
        p.stem: p
        for p in sorted(paths, key=lambda p: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", p.stem)])
    }


UNNAMED = "\x00unnamed"
"""What a neck's first node reads when it names no input and the neck reads several outputs: an error."""


class _Builder:
    """Expands node records and templates into :class:`Node` objects, tracking names and aliases."""

    def __init__(self, where: str, templates: dict[str, Any], external: tuple[str, ...]) -> None:
        self.where = where
        self.templates = templates
        self.nodes: list[Node] = []
        self.alias: dict[str, str] = {name: name for name in external}
        self.alias[INPUT] = INPUT
        self.pending: dict[str, str] = {}
        self.active: list[str] = []  # templates being expanded, innermost last (a template may not use itself)

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.where}: {key}: {message}")

    def first_of_neck(self) -> str:
        named = ", ".join(n for n in self.alias if n != INPUT)
        return f"a neck reads no image, and this one several backbone outputs: its first node needs 'input' ({named})"

    def resolve(self, ref: Any, key: str, local: dict[str, str]) -> str:
        """A reference: a local (template) name, a known name, or a later node (checked in :meth:`finish`)."""
        if not isinstance(ref, str):
            raise self.fail(key, f"expected a node name, got {ref!r}")
        if ref in local:
            return local[ref]
        if ref in self.alias:
            return self.alias[ref]
        self.pending.setdefault(ref, key)
        return ref

    def finish(self) -> list[Node]:
        """The nodes with forward references resolved; an undefined name is an error naming its node."""
        for ref, key in self.pending.items():
            if ref not in self.alias:
                raise self.fail(key, f"input '{ref}' is not defined")

        def fix(name: str) -> str:
            return self.alias.get(name, name)

        return [
            Node(
                n.name,
                replace(n.layer, size_like=fix(n.layer.size_like))
                if isinstance(n.layer, Upsample) and n.layer.size_like
                else n.layer,
                tuple(fix(r) for r in n.inputs),
            )
            for n in self.nodes
        ]

    def add(self, record: Any, key: str, prev: str, local: dict[str, str], prefix: str) -> str:
        """Add one record (a layer or a template use); returns the name that stands for its output."""
        if not isinstance(record, dict):
            raise self.fail(key, f"expected a mapping like {{name: ..., type: ...}}, got {record!r}")
        name = record.get("name")
        if not isinstance(name, str) or not name:
            raise self.fail(key, "every node needs a 'name' (a non-empty string)")
        full = prefix + name
        key = f"{key} ({full})"
        if full == INPUT:
            raise self.fail(key, f"the name '{INPUT}' is the network's input's; give the node another name")
        if full in self.alias:
            raise self.fail(key, f"the name '{full}' is used twice")
        if "use" in record:
            return self._use(record, key, prev, local, full)
        if "type" not in record:
            raise self.fail(key, "expected 'type' (a layer) or 'use' (a template)")
        if "input" in record and "inputs" in record:
            raise self.fail(key, "give 'input' or 'inputs', not both")
        use_only = [k for k in ("with", "repeat", "start") if k in record]
        if use_only:  # they were dropped without a word: a layer repeated 3 times was one layer
            raise self.fail(
                key,
                f"'{use_only[0]}' is a field of a template use ({{name, use, with, repeat, start}}), not of a layer",
            )
        if prev == UNNAMED and "input" not in record and "inputs" not in record:
            raise self.fail(key, self.first_of_neck())
        refs = record.get("inputs", [record["input"]] if "input" in record else [prev])
        if not isinstance(refs, list):
            raise self.fail(key, f"'inputs' must be a list of node names, got {refs!r}")
        fields = {k: v for k, v in record.items() if k not in _NODE_KEYS}
        try:
            layer = parse_layer(record["type"], fields)
        except ConfigError as exc:
            raise self.fail(key, str(exc)) from None
        inputs = tuple(self.resolve(r, key, local) for r in refs)
        if isinstance(layer, Upsample) and layer.size_like is not None:
            layer = replace(layer, size_like=self.resolve(layer.size_like, key, local))
        if len(self.nodes) >= MAX_NODES:
            raise self.fail(
                key,
                f"the config expands to more than {MAX_NODES} nodes (templates and repeats); expected at most "
                f"{MAX_NODES}",
            )
        self.nodes.append(Node(full, layer, inputs))
        local[name] = full
        self.alias[full] = full
        return full

    def _use(self, record: dict[str, Any], key: str, prev: str, local: dict[str, str], full: str) -> str:
        if "type" in record:  # the block's own layers have types; this one would be dropped without a word
            raise self.fail(key, "give 'type' (a layer) or 'use' (a template), not both")
        if "inputs" in record:  # a block reads one input, its $input; the list would be dropped for the previous node
            raise self.fail(
                key, "'inputs' is not a field of a template use: its block reads one input, given as 'input'"
            )
        extra = sorted(set(record) - _NODE_KEYS, key=str)  # (keys of any YAML type)
        if extra:
            raise self.fail(key, f"{_key(extra[0])} is not a field of a template use (use, with, repeat, start, input)")
        tname = record["use"]
        template = self.templates.get(tname) if isinstance(tname, str) else None
        if not isinstance(template, dict):
            raise self.fail(key, f"template {tname!r} is not defined; templates: {', '.join(self.templates) or 'none'}")
        args = record.get("with", {})
        if not isinstance(args, dict):
            raise self.fail(key, f"'with' must be a mapping of template parameters, got {args!r}")
        repeat, start = record.get("repeat", 1), record.get("start", 0)
        for field, value in (("repeat", repeat), ("start", start)):
            if not isinstance(value, int) or isinstance(value, bool) or value < (1 if field == "repeat" else 0):
                raise self.fail(
                    key,
                    f"'{field}' must be a {'positive' if field == 'repeat' else 'non-negative'} integer, got "
                    f"{described(value, 40)}",
                )
        if repeat > MAX_REPEAT:
            too_many = "(larger graphs would not finish)"
            raise self.fail(key, f"'repeat' must be at most {MAX_REPEAT} {too_many}, got {described(repeat, 40)}")
        if tname in self.active:
            raise self.fail(key, f"template {tname!r} uses itself (through {' -> '.join([*self.active, tname])})")
        declared = template.get("params", {})  # (a mapping: checked when the config was read)
        known = set(declared) | _referenced(template.get("nodes"))
        unknown = sorted(set(args) - known, key=str)
        if unknown:
            raise self.fail(
                key,
                f"'with' names {unknown[0]!r}, which template {tname!r} does not use (its parameters: "
                f"{', '.join(sorted(known)) or 'none'})",
            )
        params = {**declared, **args}
        body = template.get("nodes")
        if not isinstance(body, list) or not body:
            raise self.fail(f"templates.{tname}", "expected 'nodes', a non-empty list")
        if prev == UNNAMED and "input" not in record:
            raise self.fail(key, self.first_of_neck())
        source = self.resolve(record.get("input", prev), key, local)
        self.active.append(tname)
        for k in range(start, start + repeat):
            instance = f"{full}.{k}" if "repeat" in record else full
            inner: dict[str, str] = {"$input": source}
            last = source
            for n, item in enumerate(body):
                bound = _substitute(item, params, f"templates.{tname}.nodes[{n}]", self)
                last = self.add(bound, f"templates.{tname}.nodes[{n}] in {instance}", last, inner, instance + ".")
            self.alias[instance] = last
            source = last
        self.active.pop()
        local[record["name"]] = source
        self.alias[full] = source
        return source


_TEMPLATE_KEYS = frozenset({"params", "nodes"})


def _check_templates(templates: dict[Any, Any], where: str) -> None:
    """Each template named by text, a mapping of ``params`` (a mapping of parameter names, text, to defaults) and
    ``nodes``, and nothing else (a key there would be dropped without a word)."""
    for tname, template in templates.items():
        if not isinstance(tname, str):
            raise ConfigError(f"{where}: templates: a template name must be text, got {described(tname, 40)}")
        if not isinstance(template, dict):
            raise ConfigError(
                f"{where}: templates.{tname}: expected a mapping with 'nodes' (and 'params'), got {_got(template)}"
            )
        extra = sorted(str(k) for k in set(template) - _TEMPLATE_KEYS)
        if extra:
            raise ConfigError(f"{where}: templates.{tname}: '{extra[0]}' is not a template key (keys: nodes, params)")
        params = template.get("params", {})
        if not isinstance(params, dict):
            raise ConfigError(
                f"{where}: templates.{tname}.params: expected a mapping of name -> default, got {_got(params)}"
            )
        bad = [k for k in params if not isinstance(k, str)]
        if bad:
            raise ConfigError(
                f"{where}: templates.{tname}.params: a parameter name must be text, got {described(bad[0], 40)}"
            )


def _got(value: object) -> str:
    """``value`` as an error shows what was given instead of a mapping: a list by its type, anything else cut."""
    return f"a {type(value).__name__}" if isinstance(value, list) else described(value, 40)


def _referenced(item: Any) -> set[str]:
    """The ``$name`` parameters a template body refers to (``$input`` aside)."""
    if isinstance(item, dict):
        return set().union(*(_referenced(v) for v in item.values()))
    if isinstance(item, list):
        return set().union(*(_referenced(v) for v in item))
    match = _PARAM.match(item) if isinstance(item, str) else None
    return {match.group(1)} if match and item != "$input" else set()


def _substitute(item: Any, params: dict[str, Any], key: str, builder: _Builder) -> Any:
    """A template record with ``$param`` values replaced (``$input`` is kept for resolution)."""
    if isinstance(item, dict):
        return {k: _substitute(v, params, key, builder) for k, v in item.items()}
    if isinstance(item, list):
        return [_substitute(v, params, key, builder) for v in item]
    match = _PARAM.match(item) if isinstance(item, str) else None
    if match and item != "$input":
        if match.group(1) not in params:
            raise builder.fail(key, f"parameter '{item}' has no value (give it in 'with' or 'params')")
        return params[match.group(1)]
    return item


def from_data(data: Any, where: str, default_name: str = "network") -> Config:
    """A config from parsed YAML data (``where`` names the file in errors)."""
    if isinstance(data, list):
        data = {"layers": data}
    if not isinstance(data, dict):
        from scalematch._yaml import kind_of_document

        raise ConfigError(f"{where}: expected a mapping with 'nodes' or 'layers', got {kind_of_document(data)}")
    from scalematch._yaml import ultralytics_model

    other = ultralytics_model(data, where)
    if other is not None:
        raise ConfigError(other)
    unknown = sorted(set(data) - _TOP_KEYS, key=str)  # (a null or a number is a key too)
    preset = sorted(set(unknown) & {"anchors", "assigner", "head", "levels"})
    if preset and not {"nodes", "layers"} & set(data):
        raise ConfigError(
            f"{where}: a detector preset ({', '.join(preset)}), not a backbone or neck config (nodes or layers); "
            "recommend takes it as --detector"
        )
    if unknown:
        raise ConfigError(f"{where}: {_key(unknown[0])} is not a config key (keys: {', '.join(sorted(_TOP_KEYS))})")
    kind = data.get("kind", "backbone")
    if kind not in ("backbone", "neck"):
        raise ConfigError(f"{where}: kind: expected backbone or neck, got {yaml_words(kind)}")
    name = data.get("name", default_name)
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}: name: expected a non-empty string, got {yaml_words(name)}")
    convention, description = (_text_field(data, key, where) for key in ("convention", "description"))
    given = data.get("inputs", [])
    if not isinstance(given, list) or not all(isinstance(x, str) and x.strip() for x in given):
        raise ConfigError(f"{where}: inputs: expected a list of backbone output names, e.g. [C3, C4, C5]")
    inputs = tuple(given)
    again = next((x for k, x in enumerate(inputs) if x in inputs[:k]), None)
    if again is not None:
        raise ConfigError(f"{where}: inputs: {again!r} is listed twice; expected each backbone output once")
    if kind == "neck" and not inputs:
        raise ConfigError(f"{where}: inputs: a neck must list the backbone outputs it reads, e.g. [C3, C4, C5]")
    templates = data.get("templates", {})
    if not isinstance(templates, dict):
        raise ConfigError(f"{where}: templates: expected a mapping of name -> {{params, nodes}}")
    _check_templates(templates, where)
    builder = _Builder(where, templates, inputs)
    prev = INPUT if not inputs else inputs[0] if len(inputs) == 1 else UNNAMED
    if "layers" in data and "nodes" in data:
        raise ConfigError(
            f"{where}: 'layers' and 'nodes' are both given; expected one of them (a plain list of layers, or nodes)"
        )
    if "layers" in data:
        layers = data["layers"]
        if not isinstance(layers, list) or not layers:
            raise ConfigError(f"{where}: layers: expected a non-empty list of layer names or specs")
        for i, spec in enumerate(layers, start=1):
            if isinstance(spec, dict):  # a node record: 'nodes' takes those (named by type: aliases nest them)
                raise ConfigError(
                    f"{where}: layers[{i - 1}]: expected a layer name or spec string, got a mapping; a record such as "
                    "{type: conv, kernel: 3} is a node: list it under 'nodes' (and every other layer as a node too)"
                )
            if not isinstance(spec, str):
                raise ConfigError(
                    f"{where}: layers[{i - 1}]: expected a layer name or spec string, got {yaml_words(spec)}"
                )
            try:
                record = {"name": f"L{i}", **parse_spec(spec)}
            except ConfigError as exc:
                raise ConfigError(f"{where}: layers[{i - 1}]: {exc}") from None
            if prev == UNNAMED:  # a spec string names no input
                raise ConfigError(
                    f"{where}: layers: a neck's plain list of layers reads one input, and this neck lists several "
                    f"({', '.join(inputs)}); list the one it reads in 'inputs', or write 'nodes' and give the first "
                    "its 'input'"
                )
            prev = builder.add(record, f"layers[{i - 1}]", prev, {}, "")
    else:
        nodes = data.get("nodes")
        if not isinstance(nodes, list) or not nodes:
            raise ConfigError(f"{where}: nodes: expected a non-empty list of nodes")
        local: dict[str, str] = {}
        for i, record in enumerate(nodes):
            prev = builder.add(record, f"nodes[{i}]", prev, local, "")
    outputs = data.get("outputs", {})
    if not isinstance(outputs, dict):
        raise ConfigError(f"{where}: outputs: expected a mapping like {{C3: node, C4: node}}")
    for tap in outputs:
        if not isinstance(tap, str) or not tap.strip():
            raise ConfigError(
                f"{where}: outputs: expected output names as non-empty strings (C3, P4, ...), got {described(tap, 60)}"
            )
    taps = tuple((tap, builder.resolve(ref, f"outputs.{tap}", {})) for tap, ref in outputs.items())
    nodes = builder.finish()
    taps = tuple((tap, builder.alias[ref]) for tap, ref in taps)
    twice = repeated_map(taps)
    if twice is not None:
        raise ConfigError(
            f"{where}: outputs: '{twice[0]}' and '{twice[1]}' both name node '{twice[2]}'; expected one output name "
            "per node (a feature map carries one name)"
        )
    graph = Graph(name, tuple(nodes), taps, convention, where, inputs or (INPUT,))
    graph.ordered()  # report structural problems now, naming the file
    return Config(name, kind, graph, inputs, description)


def _text_field(data: dict[str, Any], key: str, where: str) -> str:
    """The text of an optional top-level field such as ``convention`` ('' when absent)."""
    value = data.get(key, "")
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {key}: expected text, got {yaml_words(value)}")
    return value.strip()


def read(path: Path, label: str | None = None) -> Config:
    """A config from a YAML file; errors name ``label`` (default: the path)."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config ({exc.__class__.__name__}: {exc})") from None
    if not text:
        raise ConfigError(f"{label or path}: the file is empty (0 bytes)")
    from scalematch._yaml import RepeatedKey, TooLarge, UnsupportedTag, safe_load, syntax_error

    try:
        data = safe_load(text, unique_keys=True)
    except RepeatedKey as exc:
        raise ConfigError(f"{label or path}: {exc}") from None
    except (yaml.YAMLError, UnsupportedTag) as exc:
        raise ConfigError(syntax_error(path, exc)) from None
    except TooLarge as exc:
        raise ConfigError(f"{label or path}: {exc}") from None
    return from_data(data, label or str(path), path.stem)


def load(name_or_path: str, kind: str = "backbones", param: str = "") -> Config:
    """A built-in config by name, or a YAML file by path; a neck where a backbone is wanted (or the reverse) is a
    :class:`ConfigError`. ``param`` names the parameter (or option) that gave an unknown name, as its message
    begins (``backbone: unknown backbone 'x'; ...``); an error in a file names the file instead."""
    known = builtin(kind)
    if name_or_path in known:
        return read(known[name_or_path], f"built-in {kind[:-1]} '{name_or_path}'")
    path = Path(name_or_path)
    what = path_kind(path)
    if path.suffix in (".yaml", ".yml") or what != "missing":
        if what == "missing":
            raise ConfigError(f"{path}: no such config file")
        if what is not None:
            raise ConfigError(problem(path, what))
        config = read(path)
        if kind == "backbones" and config.kind == "neck":
            raise ConfigError(
                f"{path}: kind: expected a backbone, got a neck (it reads {', '.join(config.inputs)}); "
                "give it as --neck with a backbone"
            )
        if kind == "necks" and config.kind != "neck":
            raise ConfigError(f"{path}: kind: expected a neck (kind: neck, inputs: [C3, ...]), got a backbone")
        if kind == "necks" and not config.graph.taps:
            raise ConfigError(f"{path}: outputs: a neck must name the maps it gives, e.g. {{P3: node, P4: node}}")
        return config
    lead = f"{param}: " if param else ""
    if kind == "backbones":
        raise ConfigError(
            f"{lead}unknown backbone '{name_or_path}'; expected a YAML or .onnx path, a torch 'module:attribute', "
            f"or one of: {', '.join(known)}"
        )
    bare = " (no neck: leave the option out; 'none' is recommend's word for a preset's neck taken off)"
    bare = bare if name_or_path.strip().lower() == "none" else ""
    raise ConfigError(f"{lead}unknown neck '{name_or_path}'; expected a YAML path or one of: {', '.join(known)}{bare}")


def from_layers(layers: list[str], name: str = "layers") -> Graph:
    """A sequential graph from seed layer names or inline specs, e.g. ``["conv_7x7_stride_2", "conv:k=3,s=2"]``."""
    return from_data({"name": name, "layers": list(layers)}, "<layers>").graph


def attach(backbone: Config, neck: Config) -> Graph:
    """The backbone graph with the neck's nodes added; the neck's inputs are the backbone's outputs."""
    taps = dict(backbone.graph.taps)
    missing = [name for name in neck.inputs if name not in taps]
    if missing:
        raise ConfigError(
            f"neck '{neck.name}' reads {', '.join(neck.inputs)}, but backbone '{backbone.name}' has no "
            f"{', '.join(missing)} (outputs: {', '.join(taps) or 'none'})"
        )
    for tap, node in neck.graph.taps:
        if tap in taps:
            raise ConfigError(
                f"{neck.graph.source}: outputs: '{tap}' names the neck's node '{node}', but backbone "
                f"'{backbone.name}' has an output '{tap}' already (node '{taps[tap]}'); expected a name the backbone "
                "does not use (one name, one map)"
            )
    prefix = neck.name + "."
    rename = {
        **{name: taps[name] for name in neck.inputs},
        **{n.name: prefix + n.name for n in neck.graph.nodes},
    }
    nodes = [
        Node(
            rename[n.name],
            replace(n.layer, size_like=rename[n.layer.size_like])
            if isinstance(n.layer, Upsample) and n.layer.size_like
            else n.layer,
            tuple(rename[r] for r in n.inputs),
        )
        for n in neck.graph.nodes
    ]
    neck_taps = tuple((tap, rename[node]) for tap, node in neck.graph.taps)
    convention = backbone.graph.convention
    if neck.graph.convention:
        convention = f"{convention}\nNeck: {neck.graph.convention}".strip()
    graph = Graph(
        f"{backbone.name}+{neck.name}",
        backbone.graph.nodes + tuple(nodes),
        backbone.graph.taps + neck_taps,
        convention,
        f"{backbone.graph.source} + {neck.graph.source}",
        traced_at=backbone.graph.traced_at,
        size_bound=backbone.graph.size_bound,
        fixed_input=backbone.graph.fixed_input,
        imported=backbone.graph.imported,
    )
    _check_level_order(graph, neck_taps, neck.graph.source)
    return graph


def _check_level_order(graph: Graph, taps: tuple[tuple[str, str], ...], where: str) -> None:
    """A :class:`ConfigError` when a neck's output ``P<k>`` (or ``C<k>``) has a smaller stride than one of a smaller
    ``k``: ``P6`` at stride 32 and ``P5`` at 64 would be listed and matched out of order (a preset's levels are
    in increasing stride order, :func:`~scalematch.profile.level_order.first_decrease`, which a preset's levels
    meet too)."""
    from scalematch.errors import GraphError
    from scalematch.profile.level_order import first_decrease, stride_text, tap_strides

    numbered = sorted((m[1], int(m[2]), tap) for tap, _ in taps if (m := re.fullmatch(r"([PC])(\d{1,3})", tap)))
    if len(numbered) < 2:
        return
    try:
        strides = tap_strides(graph, [tap for _, _, tap in numbered])
    except GraphError:
        return  # the profile that follows reports it, as for any graph
    for kind in ("C", "P"):
        found = first_decrease([tap for k, _, tap in numbered if k == kind], strides)
        if found is not None:
            a, b = found
            raise ConfigError(
                f"{where}: outputs: '{a}' has stride {stride_text(strides[a])} and '{b}' stride "
                f"{stride_text(strides[b])}; expected {kind}<k> names in stride order (a larger number, a stride at "
                "least as large), as a preset's levels are"
            )
