"""``summarize_file`` (the statistics without the box table, what ``stats`` runs) equals ``summarize(load(...))``
on real files, every resize form and the bad-input corpus, counts of exclusions included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from shard_files import same

from scalematch.dataset import load, sample_path, stats, summarize, summarize_file
from scalematch.errors import ScalematchError

DATA = Path(__file__).parent.parent / "data"
BAD = Path(__file__).parent.parent / "bad"
POLICIES = ["none", "shortest-edge:800,1333", "longest-edge:640", "fixed:300x300", "multi-scale:480-800,1333"]


@pytest.mark.parametrize("chunk", [7, None])
@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("name", ["fce_lvis_val_100.json", "rbc_train.json", None])
def test_real_files(monkeypatch: pytest.MonkeyPatch, name: str | None, policy: str, chunk: int | None) -> None:
    if chunk is not None:  # many chunks of rows
        monkeypatch.setattr(stats, "_CHUNK", chunk)
    path = sample_path() if name is None else DATA / name
    expected = summarize(load(path, resize=policy))
    assert expected["annotations"] > 0
    assert same(summarize_file(path, resize=policy), expected)


CORPUS = sorted(p for p in BAD.iterdir() if p.suffix == ".json" or p.name.startswith(("voc_", "yolo_")))


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_bad_corpus(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    monkeypatch.setattr(stats, "_CHUNK", 2)
    options: dict[str, Any] = {"image_size": (64, 48)} if path.name.startswith("yolo_") else {}
    try:
        expected: Any = summarize(load(path, **options))
    except ScalematchError as exc:
        expected = str(exc)
    try:
        got: Any = summarize_file(path, **options)
    except ScalematchError as exc:
        got = str(exc)
    assert same(got, expected)
