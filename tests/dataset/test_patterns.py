"""Input glob patterns: without links, exactly what glob.glob(recursive=True) gives; with links to folders under
'**', each real folder searched once (a loop ends, a file is matched once)."""

from __future__ import annotations

import glob
import os
import random
from pathlib import Path

import pytest

from scalematch.dataset.patterns import matched_by, matches
from scalematch.dataset.shards import expand
from scalematch.errors import OptionError

NAMES = ("a", "b.json", ".h", ".h.json", "c.txt", "d[1].json")
PATTERNS = ("**", "**/*.json", "*/**/*.json", "**/b.json", "a/**", "**/a/**/*", "**/.h*", "*", "a/*/b.json",
            "**/d[[]1].json", "?/**/*.txt", "**/**/*.json")  # fmt: skip


def _tree(root: Path, rng: random.Random, depth: int = 0) -> None:
    for name in rng.sample(NAMES, rng.randint(1, len(NAMES))):
        if depth < 3 and rng.random() < 0.5:
            (root / name).mkdir()
            _tree(root / name, rng, depth + 1)
        else:
            (root / name).write_text("x")


def _glob(pattern: str) -> list[str]:
    """glob.glob's matches, each once, without its 'a/' for 'a/**' when a is a file (no folder to descend)."""
    found = set(glob.glob(pattern, recursive=True))
    return sorted(p for p in found if not p.endswith(os.sep) or os.path.isdir(p))


@pytest.mark.parametrize("seed", range(6))
def test_without_links_the_matches_are_glob_s(tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    _tree(tmp_path, random.Random(seed))
    for pattern in PATTERNS:
        absolute = str(tmp_path / pattern)
        assert sorted(matches(absolute)) == _glob(absolute), pattern
    monkeypatch.chdir(tmp_path)
    for pattern in PATTERNS:
        assert sorted(matches(pattern)) == _glob(pattern), pattern


def test_a_link_loop_ends_and_each_file_is_matched_once(tmp_path: Path) -> None:
    (tmp_path / "g" / "sub").mkdir(parents=True)
    (tmp_path / "g" / "x.json").write_text("{}")
    (tmp_path / "g" / "sub" / "y.json").write_text("{}")
    os.symlink(tmp_path / "g", tmp_path / "g" / "sub" / "loop")
    os.symlink(tmp_path / "g" / "sub", tmp_path / "g" / "a_link")  # sorted before sub: sub is still the name kept
    assert sorted(matches(str(tmp_path / "g" / "**" / "*.json"))) == [
        str(tmp_path / "g" / "sub" / "y.json"), str(tmp_path / "g" / "x.json")]  # fmt: skip


def test_consecutive_double_stars_are_one_and_a_loop_still_ends(tmp_path: Path) -> None:
    """'**/**' matches what '**' matches (glob.glob's files, each once); with a link back up it no longer follows
    the loop under the second '**' (each file was matched again under the link's path)."""
    (tmp_path / "g" / "sub" / "deep").mkdir(parents=True)
    for name in ("g/a.json", "g/sub/c.json", "g/sub/deep/d.json"):
        (tmp_path / name).write_text("{}")
    os.symlink("..", tmp_path / "g" / "sub" / "deep" / "up")
    g = tmp_path / "g"
    expected = sorted(str(g / n) for n in ("a.json", "sub/c.json", "sub/deep/d.json"))
    for pattern in ("**/**/*.json", "**/**/**/*.json", "sub/**/**/*.json"):
        got = sorted(matches(str(g / pattern)))
        assert got == (expected if not pattern.startswith("sub") else expected[1:]), pattern


def test_a_link_to_a_folder_elsewhere_is_followed(tmp_path: Path) -> None:
    (tmp_path / "elsewhere" / "deep").mkdir(parents=True)
    (tmp_path / "elsewhere" / "deep" / "z.json").write_text("{}")
    (tmp_path / "g").mkdir()
    os.symlink(tmp_path / "elsewhere", tmp_path / "g" / "shards")
    assert matches(str(tmp_path / "g" / "**" / "*.json")) == [str(tmp_path / "g" / "shards" / "deep" / "z.json")]


def test_one_file_under_two_names_is_named_with_both(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{}")
    os.symlink(tmp_path / "a.json", tmp_path / "b.json")
    pattern = str(tmp_path / "*.json")
    with pytest.raises(OptionError) as caught:
        expand(pattern)
    assert str(caught.value) == (
        f"{tmp_path / 'b.json'}: named twice among the inputs ({tmp_path / 'a.json'} from {pattern}, "
        f"{tmp_path / 'b.json'} from {pattern}); give each once"
    )


@pytest.mark.parametrize("seed", range(6))
def test_a_path_is_matched_by_a_pattern_exactly_when_glob_finds_it(
    tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``matched_by`` (is an output the next run would read?) against glob on the written tree: every file and
    folder of a random tree, under every pattern, relative and absolute."""
    _tree(tmp_path, random.Random(seed))
    monkeypatch.chdir(tmp_path)
    every = [os.path.relpath(os.path.join(d, n)) for d, dirs, files in os.walk(".") for n in (*dirs, *files)]
    assert len(every) > 3
    for pattern in PATTERNS:
        found = {os.path.normpath(p) for p in _glob(pattern)}
        for path in every:
            expected = pattern if path in found else None
            folder = os.path.isdir(path)
            assert matched_by(path, ["x.json", pattern], folder) == expected, (pattern, path)
            absolute = str(tmp_path / pattern)
            assert matched_by(tmp_path / path, [absolute], folder) == (expected and absolute), (pattern, path)
    assert matched_by("a", ["b", 3, None]) is None  # names without a pattern, and no path at all: nothing matches


def test_a_path_is_matched_through_a_link_on_either_side(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``'link/*.json' --csv data/x.json`` with link -> data wrote a file the next run read (review round 43,
    D-F2): the folders before the first wildcard, and the output's, are compared resolved too."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.json").write_text("{}")
    (tmp_path / "link").symlink_to("data")
    assert matched_by("data/x.json", ["link/*.json"]) == "link/*.json"
    assert matched_by("link/x.json", ["data/*.json"]) == "data/*.json"
    assert matched_by("other/x.json", ["link/*.json"]) is None
    (tmp_path / "data" / "x.json").write_text("{}")  # and glob finds it there, as matched_by said
    assert "link/x.json" in glob.glob("link/*.json")


def test_a_path_is_matched_through_a_link_below_the_first_wildcard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``'sh/*/*.json' --csv data/new.json`` with ``sh/b`` a link to ``data``: the next run read the output as
    ``sh/b/new.json`` (review round 44); only expanding the pattern's folders shows it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "sh" / "a").mkdir(parents=True)
    (tmp_path / "sh" / "b").symlink_to(tmp_path / "data")
    for pattern in ("sh/*/*.json", "sh/**/*.json", str(tmp_path / "sh" / "?" / "*.json")):
        assert matched_by("data/new.json", [pattern]) == pattern
        assert matched_by(tmp_path / "data" / "new.json", [pattern]) == pattern
        assert matched_by("data/new.csv", [pattern]) is None
        assert matched_by("data/.new.json", [pattern]) is None  # a hidden name: glob's '*' never takes it
        (tmp_path / "data" / "new.json").write_text("{}")  # and glob finds it there, as matched_by said
        assert any(os.path.realpath(p) == str(tmp_path / "data" / "new.json") for p in matches(pattern))
        (tmp_path / "data" / "new.json").unlink()
    assert matched_by("other/new.json", ["sh/*/*.json"]) is None


def test_a_folder_to_be_made_below_a_link_a_final_double_star_reaches_is_matched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``'sh/**/*.json' --out data/rep`` with ``sh/b`` a link to ``data``: the next run read the report's
    recommendation.json as ``sh/b/rep/recommendation.json`` (review round 46, C11)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "sh" / "a").mkdir(parents=True)
    (tmp_path / "sh" / "b").symlink_to(tmp_path / "data")
    for pattern in ("sh/**/*.json", "s?/**/*.json"):
        assert matched_by("data/rep/recommendation.json", [pattern]) == pattern
        assert matched_by("data/rep/deeper/x.json", [pattern]) == pattern
        assert matched_by("data/.rep/x.json", [pattern]) is None  # ** enters no hidden folder
        assert matched_by("other/rep/x.json", [pattern]) is None
        (tmp_path / "data" / "rep").mkdir()
        (tmp_path / "data" / "rep" / "recommendation.json").write_text("{}")  # and glob finds it, as said
        assert any(
            os.path.realpath(p) == str(tmp_path / "data" / "rep" / "recommendation.json") for p in matches(pattern)
        )
        (tmp_path / "data" / "rep" / "recommendation.json").unlink()
        (tmp_path / "data" / "rep").rmdir()
