"""YAML loading with a bound on the size of the result: anchors and aliases can make a 1 kB file expand into
10**9 values (the "billion laughs"), which any later ``str()`` or traversal would try to build."""

from __future__ import annotations

from functools import cache
from typing import Any

from scalematch._text import KEPT_DIGITS, converts, described, first_digits, int_digits

MAX_VALUES = 1_000_000  # values in a loaded document, counting each use of an alias


class TooLarge(ValueError):
    """The document expands to more than :data:`MAX_VALUES` values, or nests deeper than the reader can go."""


class RepeatedKey(ValueError):
    """A mapping of the document gives a key twice (YAML loaders keep the last value without a word)."""


_STANDARD = "tag:yaml.org,2002:"
"""The prefix that YAML's ``!!`` stands for in a tag (``!!python/name:os.system``)."""


class UnsupportedTag(ValueError):
    """A node carries a tag the safe loader has no constructor for (``!!python/object/apply:os.system``, a local
    ``!foo``): refused where it stands (``line`` and ``column`` count from 1), never built. :func:`syntax_error`
    words it with the file's name."""

    def __init__(self, tag: str, line: int, column: int) -> None:
        shown = "!!" + tag.removeprefix(_STANDARD) if tag.startswith(_STANDARD) else tag
        python = " (no Python object is built from YAML)" if "python/" in tag else ""
        super().__init__(f"unsupported YAML tag {shown}{python}")
        self.line, self.column = line, column


@cache
def _loaders() -> tuple[Any, Any]:
    """Two ``yaml.SafeLoader`` classes: the plain one, and one that raises :class:`RepeatedKey` for a key given
    twice in one mapping (a merge ``<<: *anchor`` may still be overridden by the mapping's own keys, as YAML
    defines). Both read an integer of more digits than Python converts (``sys.get_int_max_str_digits()``, 4,300 by
    default, where PyYAML's ``int()`` raises ValueError) as its first :data:`KEPT_DIGITS` digits and sign
    (:func:`~scalematch._text.first_digits`): still out of every range a key is checked against, so the key's own
    check refuses it as one of hundreds of digits, without changing the interpreter's limit. An integer that PyYAML
    reads whole in another base (hex, binary, octal, base 60) with more digits than Python converts is kept as its
    first digits too (:func:`leading_digits`). A tag they have no constructor for (``!!python/...``: the safe
    loader builds no Python object) is :class:`UnsupportedTag`."""
    import yaml

    class Loader(yaml.SafeLoader):
        def construct_object(self, node: Any, deep: bool = False) -> Any:
            try:
                return super().construct_object(node, deep)
            except (TooLarge, RepeatedKey, UnsupportedTag):
                raise
            except (ValueError, KeyError, IndexError, AttributeError, TypeError, OverflowError):
                # a scalar that its explicit tag does not fit (!!int abc, !!float "", !!timestamp x): PyYAML's
                # constructors raise Python's own errors, with no place; a YAML error here names its line
                tag = "!!" + node.tag.removeprefix(_STANDARD) if node.tag.startswith(_STANDARD) else node.tag
                value = node.value if isinstance(node, yaml.ScalarNode) else None
                raise yaml.constructor.ConstructorError(
                    None, None, f"{described(value, 60)} is not a value of its tag {tag}", node.start_mark
                ) from None

        def construct_yaml_int(self, node: Any) -> Any:
            try:
                value = super().construct_yaml_int(node)
            except ValueError:  # "Exceeds the limit (4300 digits) for integer string conversion"
                # (a sexagesimal 1:30: its parts run together)
                return first_digits(str(self.construct_scalar(node)).replace("_", "").replace(":", ""))
            return value if converts(value) else leading_digits(value)

    def unsupported(loader: Any, node: Any) -> Any:
        raise UnsupportedTag(node.tag, node.start_mark.line + 1, node.start_mark.column + 1)

    Loader.add_constructor("tag:yaml.org,2002:int", Loader.construct_yaml_int)
    Loader.add_constructor(None, unsupported)  # (PyYAML's own names the tag as a syntax error)

    class Unique(Loader):
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            if isinstance(node, yaml.MappingNode):
                first: dict[object, int] = {}
                for key_node, _ in node.value:
                    if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                        continue
                    key = self.construct_object(key_node)
                    line = key_node.start_mark.line + 1
                    try:
                        hash(key)
                    except TypeError:  # a key tagged !!map, !!set, !!seq, ...: PyYAML's own words for it
                        raise yaml.constructor.ConstructorError(
                            "while constructing a mapping", node.start_mark, "found unhashable key", key_node.start_mark
                        ) from None
                    if key in first:
                        raise RepeatedKey(
                            f"the key {described(key, 60)} is given again on line {line} (first on line "
                            f"{first[key]}; YAML loaders keep only the last one without a word); give each key once"
                        )
                    first[key] = line
            return super().construct_mapping(node, deep)

    return Loader, Unique


def leading_digits(value: int) -> int:
    """An integer of more digits than Python converts, as its first :data:`KEPT_DIGITS` decimal digits and sign: the
    value a decimal literal of it is read as. PyYAML reads ``0x...`` (hex), ``0b...`` (binary), ``0...`` (octal)
    and ``1:59:59...`` (base 60) without the interpreter's limit (it covers no base that is a power of two, and base
    60 is summed), so these reach it whole. The digits are found by one division by a power of 10 (no ``str()``);
    beyond :data:`scalematch._text._EXACT_BITS` bits (a literal of some 250,000 hex digits), whose count of digits
    is an estimate, the leading bits are kept instead: a number of :data:`KEPT_DIGITS` digits all the same."""
    count, exact = int_digits(value)
    sign = -1 if value < 0 else 1
    if exact:
        scale: int = 10 ** (count - KEPT_DIGITS)  # (count > KEPT_DIGITS: an int)
        return sign * (abs(value) // scale)
    return sign * (abs(value) >> (abs(value).bit_length() - _KEPT_BITS))


_KEPT_BITS = 1993
"""2**1992 > 10**599 and 2**1993 < 10**600: an integer of 1,993 bits has :data:`KEPT_DIGITS` digits."""


def safe_load(text: str, unique_keys: bool = False) -> Any:
    """``yaml.safe_load(text)`` (an integer beyond Python's conversion limit read as :func:`_loaders` says), or
    :class:`TooLarge` when the document holds more than :data:`MAX_VALUES`
    values once its aliases are expanded (checked without expanding them) or nests too deeply to be read. With
    ``unique_keys``, a key given twice in one mapping is :class:`RepeatedKey`."""
    import yaml

    try:
        data = yaml.load(text, Loader=_loaders()[1 if unique_keys else 0])  # (a SafeLoader subclass)
    except RecursionError:  # PyYAML composes and constructs nested nodes by recursion
        raise TooLarge("the document is nested too deeply for the YAML reader") from None
    except (TooLarge, RepeatedKey, UnsupportedTag):
        raise
    except (ValueError, KeyError, IndexError, AttributeError, TypeError, OverflowError) as exc:
        # a constructor's own error outside any node's construction (a collection's items are filled in after
        # it is made): a YAML error still, without its place
        raise yaml.error.MarkedYAMLError(problem=f"{type(exc).__name__}: {exc}") from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow: placed by its line and column
        at = max(0, min(int(exc.position), len(text)))
        line = text.count("\n", 0, at)
        mark = yaml.error.Mark("<text>", at, line, at - (text.rfind("\n", 0, at) + 1), None, 0)
        problem = (
            f"unacceptable character #x{exc.character:04x}: {exc.reason}"
            if isinstance(exc.character, int)
            else str(exc)
        )
        raise yaml.error.MarkedYAMLError(problem=problem, problem_mark=mark) from None
    count, stack, inside = 0, [(data, False)], set()  # (an item, whether the walk leaves it); containers entered
    while stack:
        item, leaving = stack.pop()
        if leaving:
            inside.discard(id(item))
            continue
        count += 1
        if count > MAX_VALUES:
            raise TooLarge(f"the document holds more than {MAX_VALUES} values (each use of a YAML alias counted)")
        if isinstance(item, dict | list):
            if id(item) in inside:
                raise TooLarge("the document holds itself: a YAML alias inside the node its anchor names")
            inside.add(id(item))
            stack.append((item, True))
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, False) for child in children)
    return data


def kind_of_document(data: object) -> str:
    """What a loaded YAML document is, as an error that expected a mapping says it: a document of blank lines,
    comments or ``null`` only is ``an empty document (...)``; anything else is its type's name."""
    return "an empty document (blank lines, comments or null only)" if data is None else type(data).__name__


def yaml_words(value: object, limit: int = 60) -> str:
    """A loaded YAML value as an error quotes it, in YAML's words: ``true``, ``false``, ``null``; a list or a mapping
    by its kind only (aliases can nest them exponentially deep); anything else quoted and shortened to ``limit``."""
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    import datetime

    if isinstance(value, list | dict | set):
        return "a list" if isinstance(value, list) else "a set" if isinstance(value, set) else "a mapping"
    if isinstance(value, bytes):
        return "binary data (!!binary)"
    if isinstance(value, datetime.date):  # (a datetime too: a timestamp)
        return f"a date ({value.isoformat()})"
    return described(value, limit)


def key_words(key: object, limit: int = 60) -> str:
    """A mapping key (or a value standing where one number goes) as an error names it: text quoted and escaped as
    Python quotes it (``'nodes'``), any other YAML value in YAML's words (``null``, ``true``, ``3``, ``a list``)."""
    return described(key, limit) if isinstance(key, str) else yaml_words(key, limit)


def ultralytics_model(data: object, where: str) -> str | None:
    """The error for an ultralytics model YAML (``yolov8n.yaml``: ``backbone`` and ``head`` lists of ``[from,
    repeats, module, args]`` rows), which is neither a scalematch config nor a preset; None for anything else."""
    if not isinstance(data, dict):
        return None
    parts = [data.get("backbone"), data.get("head")]
    rows = all(isinstance(p, list) and p and all(isinstance(r, list) and len(r) == 4 for r in p) for p in parts)
    if not rows:
        return None
    return (
        f"{where}: an ultralytics model YAML (backbone and head as [from, repeats, module, args] rows), which "
        "scalematch does not read; give --detector yolov8 or yolov5 (presets of those networks), or profile an ONNX "
        "export of the model with --taps naming its feature maps"
    )


def syntax_error(where: object, exc: Exception) -> str:
    """The one-line message of a YAML syntax error: ``<where>:<line>:<column>: YAML syntax error: <problem>``
    (PyYAML's own message spans several lines and puts the cause last); of an :class:`UnsupportedTag`,
    ``<where>:<line>:<column>: unsupported YAML tag !!python/...``."""
    if isinstance(exc, UnsupportedTag):
        return f"{where}:{exc.line}:{exc.column}: {exc}"
    mark = getattr(exc, "problem_mark", None)
    at = f"{where}:{mark.line + 1}:{mark.column + 1}" if mark else str(where)
    problem = getattr(exc, "problem", None) or (str(exc).splitlines() or [type(exc).__name__])[0]
    return f"{at}: YAML syntax error: {problem}"


def text_number_note(value: object, integer: bool = False) -> str:
    """``''``, or, when ``value`` (or an item of a list of it) is text that reads as a number, a note that the YAML
    reader took it as text: PyYAML follows YAML 1.1, where an exponent needs a dot and a sign (``4e0`` and ``5e-1``
    are strings; ``4.0e+0`` and ``0.5`` are numbers). For a key that takes an ``integer`` (where ``4.0e+0`` and
    ``4.0`` are floats, refused too) the note says to write the integer: ``4``."""
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, str):
            try:
                number = float(item.strip())
            except ValueError:
                continue
            text = item.strip().lower()
            if "n" in text:  # nan, inf, infinity: not what a number field takes in any spelling
                continue
            plain = item.strip()
            if integer:
                whole = number.is_integer() and abs(number) < 1e15  # written out in at most 15 digits
                plain = str(int(number)) if whole else ""
                if "e" in text:
                    advice = f"write the integer plainly, as {plain}" if plain else "this key takes an integer"
                    return f" (YAML reads {item!r} as text: {advice})"
                if not plain:
                    return " (text, not a number, and this key takes an integer)"
            elif "e" in text:
                return (
                    f" (YAML reads {item!r} as text: an exponent needs a dot and a sign, as 4.0e+0, or write the "
                    "number plainly, as 4.0)"
                )
            return f" (text, not a number: write {plain} without quotes)"
    return ""
