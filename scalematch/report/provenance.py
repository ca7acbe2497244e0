"""Where a report comes from: scalematch version, command line, input digest and date."""

from __future__ import annotations

import hashlib
import os
import platform
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from scalematch.errors import DatasetError

CHUNK = 1 << 20


def sha256_of(path: Path) -> str:
    """SHA-256 of a file's bytes; for a folder (VOC, YOLO), of every file's relative path and bytes in sorted
    order (so renaming or editing any file changes it), files behind links to folders included."""
    from scalematch.dataset.formats._walk import walk

    digest = hashlib.sha256()
    files = [((), path)] if path.is_file() else [(rel, Path(e.path)) for rel, e, _ in walk(path) if e.is_file()]
    for rel, file in files:  # a folder's files as its readers list them: links to folders followed, each once
        if rel:
            digest.update("/".join(rel).encode("utf-8", "surrogateescape") + b"\0")
        try:
            with file.open("rb") as handle:
                while chunk := handle.read(CHUNK):
                    digest.update(chunk)
        except OSError as exc:
            raise DatasetError(
                f"{file}: cannot be read for the report's input digest, which covers every file of the dataset "
                f"({exc.strerror or exc}); make it readable or move it out of {path}"
            ) from None
    return digest.hexdigest()


def report_time() -> datetime:
    """Now (UTC), or ``SOURCE_DATE_EPOCH`` when set, for reproducible reports."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc)
    return datetime.now(timezone.utc).replace(microsecond=0)


@dataclass(frozen=True)
class Provenance:
    """What the report's provenance table shows."""

    version: str
    python: str
    command: str
    input_name: str
    """The dataset as the text output names it (:func:`dataset_label`)."""
    input_kind: str
    """``file`` or ``folder`` for one input; empty for several (their count is in ``input_name``)."""
    sha256: str
    created: str
    files: tuple[tuple[str, str], ...] = ()
    """For several inputs (shards, a glob): each file as given with its SHA-256, in input order."""


def dataset_label(source: str | Path, inputs: tuple[Path, ...] = ()) -> str:
    """The name the text output and the report give a dataset read from ``source`` (a path as given, or the paths
    and patterns of several inputs as given, joined by spaces), ``inputs`` being the files or folders read: one
    input by its base name (``ann.json``; a path that has none, ``.``, ``..`` or ``/``, as given), several by the
    inputs as given and their count (``shards/*.json (2 files)``, ``voc_a voc_b (2 folders)``; files and folders
    together, ``(3 inputs)``)."""
    text = str(source)
    if len(inputs) > 1:
        folders = sum(path.is_dir() for path in inputs)
        kind = "files" if not folders else "folders" if folders == len(inputs) else "inputs"
        return f"{text} ({len(inputs)} {kind})"
    name = Path(text).name
    return name if name not in ("", "..") else text


def provenance(
    source: str | Path, command: str, created: datetime | None = None, inputs: tuple[Path, ...] = ()
) -> Provenance:
    """Provenance of a report made from ``source`` (the dataset's source, as :func:`dataset_label` names it) by
    ``command``; with several ``inputs`` (the files a glob or a list named), each one's SHA-256."""
    from scalematch import __version__  # here, not at the top: the package imports report, not the reverse

    when = created or report_time()
    files = tuple((str(p), sha256_of(p)) for p in inputs) if len(inputs) > 1 else ()
    path = Path(source)
    return Provenance(
        files=files,
        version=__version__,
        python=platform.python_version(),
        command=command,
        input_name=dataset_label(source, inputs),
        input_kind="" if files else "folder" if path.is_dir() else "file",
        sha256="(per file, below)" if files else sha256_of(path) if path.exists() else "(not available)",
        created=when.isoformat(),
    )
