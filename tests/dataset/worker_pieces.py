"""COCO files read in parallel in small pieces, counting what the worker processes decoded."""

from __future__ import annotations

from typing import Any

import pytest

from scalematch.dataset.formats import _jsonstream, coco


def count_worker_pieces(monkeypatch: pytest.MonkeyPatch, piece: int, block: int | None = None) -> list[int]:
    """Every COCO file read in parallel (whatever its size) in pieces of ``piece`` bytes (and blocks of ``block``);
    the list receives the records of each piece a worker decoded, as this process takes it."""
    monkeypatch.setattr(_jsonstream, "PIECE", piece)
    if block is not None:
        monkeypatch.setattr(_jsonstream, "BLOCK", block)
    monkeypatch.setattr(coco, "PARALLEL_MIN", 0)
    taken: list[int] = []
    append = coco._append

    def counted(raw: Any, columns: Any) -> None:
        taken.append(columns[0])
        append(raw, columns)

    monkeypatch.setattr(coco, "_append", counted)
    return taken
