"""A key given twice in a config or preset file is refused with the line numbers (YAML loaders would keep the last
value without a word); a merge key may still be overridden, as YAML defines."""

from __future__ import annotations

from pathlib import Path

import pytest

from scalematch._yaml import UnsupportedTag, safe_load
from scalematch.errors import ConfigError
from scalematch.presets import load_preset
from scalematch.profile.importers.config import read

CONFIG = """\
name: twice
input: {channels: 3}
layers:
  - {name: c1, kind: conv, kernel: 3, stride: 2, padding: 1}
  - {name: c2, kind: conv, kernel: 3, stride: 2, padding: 1, kernel: 5}
"""


def test_config_key_given_twice(tmp_path: Path) -> None:
    path = tmp_path / "twice.yaml"
    path.write_text(CONFIG)
    with pytest.raises(ConfigError) as err:
        read(path)
    assert str(err.value) == (
        f"{path}: the key 'kernel' is given again on line 5 (first on line 5; YAML loaders keep only the last one "
        "without a word); give each key once"
    )


def test_preset_key_given_twice(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("name: p\nbackbone: resnet50\nname: q\n")
    with pytest.raises(ConfigError, match=r"p\.yaml: cannot read the preset: the key 'name' is given again on line 3"):
        load_preset(str(path))


def test_merge_key_may_be_overridden() -> None:
    data = safe_load("base: &b {a: 1, k: 3}\nx: {<<: *b, k: 5}\n", unique_keys=True)
    assert data["x"] == {"a": 1, "k": 5}


def test_preset_syntax_error_names_the_line_and_the_cause(tmp_path: Path) -> None:
    """PyYAML's message starts with its context ('while scanning for the next token') and ends with the cause: the
    one line names the place and the cause."""
    path = tmp_path / "tab.yaml"
    path.write_text("name: p\ntitle: t\n\tbackbone: resnet50\n")
    with pytest.raises(ConfigError) as err:
        load_preset(str(path))
    assert str(err.value) == f"{path}:3:1: YAML syntax error: found character '\\t' that cannot start any token"


def test_preset_neck_none_is_no_neck(tmp_path: Path) -> None:
    """``neck: none`` in a preset means what ``--neck none`` means: the backbone's own maps (as ``neck: null``)."""
    from scalematch.presets.load import builtin_presets

    text = builtin_presets()["retinanet"].read_text(encoding="utf-8")
    text = text.replace("levels: [P3, P4, P5, P6, P7]", "levels: [C3, C4, C5]")
    text = text.replace(", [256, 322, 406], [512, 645, 812]]", "]")
    for value in ("none", "null"):
        path = tmp_path / f"{value}.yaml"
        path.write_text(text.replace("neck: fpn-retinanet", f"neck: {value}"))
        preset = load_preset(str(path))
        assert (preset.neck, preset.levels) == (None, ("C3", "C4", "C5"))


@pytest.mark.parametrize("text", ["levels: &x [P3, *x]\n", "a: &m {b: [1, *m]}\n", "&top [1, [2, *top]]\n"])
def test_a_node_holding_itself_is_named_as_such(text: str) -> None:
    """A recursive alias is a cycle, not a large document (PyYAML builds it as a list or dict holding itself)."""
    from scalematch._yaml import TooLarge, safe_load

    with pytest.raises(TooLarge, match=r"^the document holds itself: a YAML alias inside the node its anchor names$"):
        safe_load(text)


def test_a_node_used_twice_is_no_cycle() -> None:
    from scalematch._yaml import safe_load

    assert safe_load("a: &x [1, 2]\nb: [*x, *x]\n") == {"a": [1, 2], "b": [[1, 2], [1, 2]]}


@pytest.mark.parametrize(
    ("tagged", "tag", "column"),
    [
        ('!!python/object/apply:os.system ["touch {pwned}"]', "!!python/object/apply:os.system", 8),
        ("!!python/object/apply:pathlib.Path.touch [{pwned}]", "!!python/object/apply:pathlib.Path.touch", 8),
        ("!!python/name:os.system", "!!python/name:os.system", 8),
        ("[a, !!python/object:os.PathLike {}]", "!!python/object:os.PathLike", 12),
        ("!mine x", "!mine", 8),
    ],
)
def test_a_tag_without_a_constructor_is_named_never_built(tmp_path: Path, tagged: str, tag: str, column: int) -> None:
    """Review B-F12: a Python tag was reported as 'YAML syntax error: could not determine a constructor for the tag
    'tag:yaml.org,2002:python/...''. It is refused as an unsupported tag at its line and column, in configs, presets
    and YOLO data.yaml alike, and nothing is built: the command in it never runs."""
    from scalematch.dataset.loader import read_annotations
    from scalematch.errors import DatasetError

    pwned = tmp_path / "pwned"
    text = f"name: t\nnodes: {tagged.replace('{pwned}', str(pwned))}\n"
    python = " (no Python object is built from YAML)" if "python" in tag else ""
    with pytest.raises(UnsupportedTag) as loaded:
        safe_load(text, unique_keys=True)
    assert (str(loaded.value), loaded.value.line, loaded.value.column) == (
        f"unsupported YAML tag {tag}{python}",
        2,
        column,
    )
    config = tmp_path / "c.yaml"
    config.write_text(text)
    with pytest.raises(ConfigError) as caught:
        read(config)
    assert str(caught.value) == f"{config}:2:{column}: unsupported YAML tag {tag}{python}"
    preset = tmp_path / "p.yaml"
    preset.write_text(f"name: p\nbackbone: {tagged.replace('{pwned}', str(pwned))}\n")
    with pytest.raises(ConfigError) as caught:
        load_preset(str(preset))
    assert str(caught.value) == f"{preset}:2:{column + 3}: unsupported YAML tag {tag}{python}"
    labels = tmp_path / "yolo" / "labels"
    labels.mkdir(parents=True)
    (labels / "a.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    (tmp_path / "yolo" / "data.yaml").write_text(f"names: {tagged.replace('{pwned}', str(pwned))}\n")
    with pytest.raises(DatasetError) as refused:
        read_annotations(labels, image_size="64x64")
    assert str(refused.value) == f"{tmp_path / 'yolo' / 'data.yaml'}:1:{column}: unsupported YAML tag {tag}{python}"
    assert not pwned.exists()
