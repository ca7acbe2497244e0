"""Malformed inputs never seen before: random byte-level mutations of the bad-input corpus (tests/bad/) are read
either into a table with counts by reason or stopped by a ScalematchError, never another exception or warning."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scalematch.dataset import load, summarize
from scalematch.errors import ScalematchError

BAD = Path(__file__).resolve().parents[1] / "bad"
FILES = sorted(
    str(p.relative_to(BAD)) for p in BAD.rglob("*") if p.is_file() and p.suffix in (".json", ".xml", ".txt", ".yaml")
)
TOKENS = [b"9" * 300, b"-1", b"1e400", b"nan", b"\xff", b"\x00", b"[]", b"{}", b'"x"', b"null", b"true", b"-0",
          b"1e-400", b"\\ud800", b"<", b"&", b"0.5", b"\n", b",", b":", b"9223372036854775808"]  # fmt: skip
EDIT = st.tuples(st.floats(0, 1), st.sampled_from(TOKENS), st.integers(0, 8))


@settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=st.sampled_from(FILES), edits=st.lists(EDIT, min_size=1, max_size=4))
def test_mutated_inputs_are_read_or_refused_cleanly(
    tmp_path: Path, name: str, edits: list[tuple[float, bytes, int]]
) -> None:
    root = Path(name).parts[0]
    work = tmp_path / "case"
    shutil.rmtree(work, ignore_errors=True)
    if (BAD / root).is_dir():
        shutil.copytree(BAD / root, work / root, symlinks=True)  # yolo_linked's links stay links (one loops)
    else:
        work.mkdir()
        shutil.copy(BAD / root, work / root)
    target = work / name
    data = bytearray(target.read_bytes())
    for where, token, cut in edits:
        pos = int(where * len(data))
        data[pos : pos + cut] = token
    target.write_bytes(bytes(data))
    for policy in ("none", "shortest-edge:800,1333"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                size = (64, 48) if root.startswith("yolo") else None
                result = load(work / root, resize=policy, image_size=size)
                json.dumps(summarize(result), allow_nan=False)
        except ScalematchError as exc:
            assert "\n" not in str(exc)
        except Exception as exc:  # pragma: no cover - the failure being tested for
            pytest.fail(f"{name} mutated by {edits}: {type(exc).__name__}: {exc}")
