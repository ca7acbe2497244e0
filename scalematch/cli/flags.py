"""Library messages name parameters (``resize: ...``, ``levels=``); the CLI shows the flags the user typed.

A message that starts with ``name:`` or mentions ``name=`` (``name=value``) for a parameter of the running
command gets that parameter's flag instead: ``--name:`` and ``--name`` (``--name value``). A message that starts
with the name of a positional argument (``backbone: unknown backbone 'x'`` for ``profile x``) loses it: the user
typed no name there, and the message quotes the value.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import click
import typer

_MENTION = re.compile(r"(?<![\w.-])([a-z][a-z_]*)=(?=(\S?))")
_LEAD = re.compile(r"^([a-z][a-z_]*):(?= )")
_LEAD_ARGUMENT = re.compile(r"^([a-z][a-z_]*): ")


def flags(command: click.Command | None) -> dict[str, str]:
    """Python parameter name -> the flag a user types, for the options of ``command``."""
    if command is None:
        return {}
    out = {}
    for param in command.params:
        if isinstance(param, click.Option) and param.name and param.opts:
            out[param.name] = max(param.opts, key=len)
    return out


def flag_message(message: str, command: click.Command | None) -> str:
    """``message`` with the library's parameter names replaced by the flags of ``command``."""
    names = flags(command)
    arguments = {p.name for p in command.params if isinstance(p, click.Argument)} if command is not None else set()
    message = _LEAD_ARGUMENT.sub(lambda m: "" if m.group(1) in arguments else m.group(0), message)
    if not names:
        return message

    def lead(m: re.Match[str]) -> str:
        return f"{names[m.group(1)]}:" if m.group(1) in names else m.group(0)

    def mention(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in names:
            return m.group(0)
        value_follows = m.group(2) not in ("", " ", ",", ")", ";", ".")
        return names[name] + (" " if value_follows else "")

    return _MENTION.sub(mention, _LEAD.sub(lead, message))


SIZE_HELP = "width first, WxH (e.g. 1333x800; one number for a square), as every size in scalematch"

Passthrough = Annotated[
    str | None,
    typer.Option(
        metavar="LIST", help="ONNX/torch models: op types, module classes or node names that keep the geometry, 'A,B'."
    ),
]
"""``--passthrough``, for the commands that import a model (profile, erf)."""

AllowMisaligned = Annotated[
    bool,
    typer.Option(
        "--allow-misaligned", help="Take the exact union at misaligned add/concat nodes and warn, instead of failing."
    ),
]
"""The ``--allow-misaligned`` flag of the commands that profile a network (``profile``, ``erf``)."""


def size_from(size: str | None, legacy: str | None) -> str | None:
    """The input size as WxH text from ``--size WxH`` or the deprecated, height-first ``--input-size HxW``
    (accepted with a warning on stderr, so that old commands keep their meaning)."""
    if legacy is None:
        return size
    from scalematch.errors import OptionError
    from scalematch.profile.api import parse_input_size

    if size is not None:
        raise OptionError("--size and --input-size: give the size once, as --size WxH (width first)")
    pair = parse_input_size(legacy, "legacy_input_size")
    assert pair is not None
    text = f"{pair[1]}x{pair[0]}"
    import typer

    typer.echo(
        f"warning: --input-size is deprecated: it reads height first (HxW); use --size {text} (width first)",
        err=True,
    )
    return text


def workers_option(what: str) -> Any:
    """``--workers N``: the processes that do ``what`` (a phrase such as 'reading the inputs')."""
    import typer

    return typer.Option(metavar="N", help=f"Processes {what} (1 to 1024); default: one per core.")


def image_size_option() -> Any:
    """``--image-size WxH``: the size of YOLO images that are missing or unreadable."""
    import typer

    return typer.Option(
        "--image-size",
        metavar="WxH",
        help="YOLO labels whose image is missing or unreadable: the image size, WxH (width first).",
    )


def split_option() -> Any:
    """``--split NAME``: the VOC ImageSets/Main split to read (``stats`` and ``recommend`` alike; the readers
    refuse it for other formats)."""
    import typer

    return typer.Option("--split", metavar="NAME", help="VOC: the ImageSets/Main split to read (e.g. val).")


def dask_option() -> Any:
    """``--dask ADDRESS``: the Dask scheduler that reads the inputs."""
    import typer

    return typer.Option(
        "--dask",
        metavar="ADDRESS",
        help="Read the inputs on the Dask cluster whose scheduler is at ADDRESS (tcp://host:8786); needs the dask "
        "extra.",
    )


def hold_outputs(files: dict[str, Any]) -> None:
    """Keep the locks of the running command's output files (option -> path or None) until the command ends, so
    that a second run writing one of them stops at once (see :func:`scalematch.atomic.hold_outputs`)."""
    from scalematch.atomic import hold_outputs as hold

    click.get_current_context().with_resource(hold(files))


def check_unmatched(given: list[Any], files: dict[str, Any], folder: tuple[str, Any] | None = None) -> None:
    """Refuse an output (option -> path or None; ``folder``: a report's option and folder) that an input pattern
    given matches: written, it would be read as an input by the next run of the same command (``--csv sh/new.json``
    beside the input ``'sh/*.json'``; a report's recommendation.json under ``'**/*.json'``)."""
    from pathlib import Path

    from scalematch._text import cut_name
    from scalematch.dataset.patterns import matched_by
    from scalematch.errors import OptionError
    from scalematch.report.bundle import REPORT_HTML, REPORT_JSON

    places = [(option, Path(path), Path(path), False) for option, path in files.items() if path is not None]
    if folder is not None and folder[1] is not None:
        out = Path(folder[1])
        places += [
            (folder[0], out, out, True),
            *((folder[0], out, out / name, False) for name in (REPORT_JSON, REPORT_HTML)),
        ]
    for option, path, place, is_folder in places:
        pattern = matched_by(place, given, folder=is_folder)
        if pattern is not None:
            what = "it" if place == path else f"its {place.name}"
            kind = "folder" if folder is not None and option == folder[0] else "file"
            raise OptionError(
                f"{option} {cut_name(path)}: the input pattern {cut_name(pattern)!r} matches {what}, so a later run "
                f"would read it as an input; choose another {kind}"
            )


def check_beside(paths: tuple[Any, ...], files: dict[str, Any]) -> None:
    """Refuse an output file (option -> path or None) beside or below one YOLO label file or VOC XML file given (or
    the file a link given names), of its suffix (or a classes.txt beside a label file): a later read of that folder
    would take it as a record, or as the class names, of the dataset (``stats ds/a.txt --csv ds/b.txt``). Other
    files there are read by no reader."""
    import os
    from pathlib import Path

    for given in map(Path, paths):
        if not given.is_file():
            continue
        real = Path(os.path.realpath(given))
        for suffix in dict.fromkeys(p.suffix.lower() for p in (given, real)):  # a link's own, and its file's
            if suffix not in (".txt", ".xml"):
                continue
            what = "label file" if suffix == ".txt" else "annotation file"
            for folder in dict.fromkeys((given.parent, real.parent)):
                _refuse_beside(
                    folder,
                    suffix,
                    files,
                    f"lies beside or below the {what} {_shown(given)} given, where a read of its folder (with its "
                    "subfolders) would take it as one; choose another place or suffix",
                    also="classes.txt" if suffix == ".txt" else None,
                    below=True,
                )


def check_beside_sources(sources: tuple[Any, ...], files: dict[str, Any]) -> None:
    """Refuse a Python file output (``--export mmdet x.py``) in the folder of a torch module's source: the module
    may import any file there (``config.py`` beside ``mynet.py``), and the export would replace it."""
    from pathlib import Path

    for source in map(Path, sources):
        _refuse_beside(
            source.parent,
            ".py",
            files,
            "lies in the folder of the torch module's source, whose files it may import (a Python file written "
            "there could replace one); choose another place",
        )


def _shown(path: Any) -> str:
    from scalematch._text import cut_name

    return cut_name(path)


def _refuse_beside(
    folder: Any, suffix: str, files: dict[str, Any], why: str, also: str | None = None, below: bool = False
) -> None:
    """An :class:`OptionError` ``<option> <path>: <why>`` for the first output (option -> path or None) of
    ``suffix`` (any case; or named ``also``) whose folder is ``folder`` (or, ``below``, lies in it at any depth),
    links resolved on both sides."""
    import os
    from pathlib import Path

    from scalematch.errors import OptionError

    real = Path(os.path.realpath(folder))
    for option, out in files.items():
        if out is None:
            continue
        out = Path(out)
        place = Path(os.path.realpath(out.parent))
        if (out.suffix.lower() == suffix or out.name == also) and (place == real or (below and real in place.parents)):
            raise OptionError(f"{option} {_shown(out)}: {why}")
