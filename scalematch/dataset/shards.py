"""Many annotation files (shards) read as one dataset: on every core of this machine, or on a Dask cluster.

Each input is read on its own (a process of a pool, or a task of a ``distributed.Client``) into a small mergeable
:class:`~scalematch.dataset.stats.Partial`, or into its box table when the table is asked for; the results are
merged here, in input order, so that any number of workers gives what one gives. Images are per input: image 5
of ``a.json`` and image 5 of ``b.json`` are two images (in a merged box table ``image_id`` is renumbered to stay
unique, the file's own id kept in ``shard_image_id``). Categories must agree by id (VOC: by name).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scalematch._text import counted, int_text
from scalematch.dataset.patterns import matches
from scalematch.dataset.resize import DEFAULT_POLICY, ResizePolicy, parse_policy
from scalematch.errors import DatasetError, OptionError, ScalematchError, raw_text

if TYPE_CHECKING:
    import pandas as pd

    from scalematch.dataset.loader import Format, LoadResult
    from scalematch.dataset.stats import Partial
    from scalematch.dataset.table import RepeatedIds

MAX_WORKERS = 1024
_MAX_PORT = 65535
Inputs = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]
_MAGIC = frozenset("*?[")


def expand(inputs: Inputs) -> tuple[Path, ...]:
    """The paths of ``inputs`` (a path, a glob pattern, or an iterable of them), in the order given, each pattern's
    matches sorted by name. A pattern (``*``, ``?`` or ``[`` in a name that does not exist as written; ``**``
    descends into subfolders) that matches nothing, and a file named twice, are errors."""
    given = listed(inputs)
    if not given:
        raise OptionError("annotations: expected at least one file or folder, got none")
    out: list[Path] = []
    named: dict[object, str] = {}
    for item in given:
        text = os.fspath(item)
        if _MAGIC.isdisjoint(text) or os.path.lexists(text):
            found = [Path(item)]
        else:
            found = [Path(p) for p in sorted(matches(text))]
            if not found:
                raise DatasetError(f"{text}: no file or folder matches this pattern")
            found = _without_class_lists(text, found)
        for path in found:
            key = _identity(path)
            shown = f"{path}" if os.fspath(path) == text else f"{path} from {text}"
            if key in named:
                raise OptionError(f"{path}: named twice among the inputs ({named[key]}, {shown}); give each once")
            named[key] = shown
            out.append(path)
    return tuple(out)


def _without_class_lists(pattern: str, found: list[Path]) -> list[Path]:
    """The matches of ``pattern`` but YOLO class lists (labelImg's ``labels/<split>/classes.txt``, the label file
    of no image): a folder read never reads one as a label file, nor does a pattern matching its label files
    (``'ds/labels/**/*.txt'``); the label files matched still name their classes from it. A pattern matching
    class lists only is an error."""
    if not any(path.name == "classes.txt" for path in found):
        return found
    from scalematch.dataset.formats import yolo

    kept = [path for path in found if not (path.name == "classes.txt" and yolo.is_class_list(path))]
    if not kept:
        raise DatasetError(
            f"{pattern}: matches YOLO class lists only (classes.txt that no image pairs with), no label file; "
            "give the label files or their folder"
        )
    return kept


def _identity(path: Path) -> object:
    """What tells two names of one file or folder apart from two files: its device and inode (a hard link is the
    same file under another name, and so is a symbolic link), or its real path when it cannot be looked at."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return os.path.realpath(path)
    return info.st_dev, info.st_ino


def listed(inputs: Inputs) -> list[str]:
    """``inputs`` as a list of paths (a path or a pattern is a list of one, any iterable is read once), as
    :func:`scalematch._args.given_paths` takes them: an :class:`OptionError` naming the first item that is not a
    ``str`` or an ``os.PathLike`` (bytes, a number, None) or is empty."""
    from scalematch._args import given_paths

    return given_paths(inputs, "annotations")


@contextmanager
def connect(address: str, timeout: float = 10.0) -> Iterator[Any]:
    """A ``distributed.Client`` of the Dask scheduler at ``address`` (``tcp://host:8786``), closed on exit; an
    unreachable scheduler is one :class:`OptionError` line after ``timeout`` seconds. While it is open,
    distributed's own log records are dropped (a lost scheduler is then the error of the read alone). Needs the
    ``dask`` extra."""
    from scalematch.extras import require

    require("distributed", "dask", "dask")
    import importlib

    _check_address(address)
    client_class: Any = importlib.import_module("distributed").Client  # untyped: used through Any
    try:
        client = _started(lambda: client_class(address, timeout=timeout, set_as_default=False), timeout + 5)
    except TimeoutError:
        raise OptionError(
            f"dask: no Dask scheduler answers at {address!r} within {timeout + 5:.0f} s, though something there "
            "accepts connections (another service: the dashboard's port, 8787 by default, rather than the "
            "scheduler's, 8786?)"
        ) from None
    except Exception as exc:  # whatever the transport raises (an abstract UCX connector, an inproc name, ...)
        _close_half_made(exc, client_class)
        detail = " ".join(str(exc).split()) or type(exc).__name__
        if isinstance(exc, MemoryError) or type(exc).__name__ == "error":  # the peer's first bytes read as the
            # length of a frame (numpy refusing it), or too few of them (struct.error)
            detail = "it answers, but not as a Dask scheduler: its reply is no Dask message"
        raise OptionError(f"dask: cannot reach a Dask scheduler at {address!r} ({detail})") from None
    with _silent("distributed"):
        try:
            yield client
        finally:
            client.close()


def _started(make: Callable[[], Any], deadline: float) -> Any:
    """``make()`` run in a thread of its own, or :class:`TimeoutError` when it has not returned after ``deadline``
    seconds: distributed's ``timeout`` bounds the connection, not the handshake after it, which a peer that accepts
    and never answers holds forever (the thread, a daemon, is left to it)."""
    import threading

    done: dict[str, Any] = {}

    def run() -> None:
        try:
            done["value"] = make()
        except BaseException as exc:  # handed to the caller's thread
            done["error"] = exc

    thread = threading.Thread(target=run, name="scalematch-dask-connect", daemon=True)
    thread.start()
    thread.join(deadline)
    if thread.is_alive():
        raise TimeoutError
    if "error" in done:
        raise done["error"]
    return done["value"]


@contextmanager
def _silent(name: str) -> Iterator[None]:
    """The handlers of logger ``name`` and of its children dropping every record: distributed logs a lost
    scheduler as tracebacks, which the one error line that follows says in words."""
    import logging

    loggers = [logging.getLogger(name)] + [
        logger
        for key, logger in logging.Logger.manager.loggerDict.items()
        if key.startswith(f"{name}.") and isinstance(logger, logging.Logger)
    ]
    handlers = {id(h): h for logger in loggers for h in logger.handlers}.values()
    drop = logging.Filter(f"{name}.(none)")  # (passes no record of name's loggers)
    for handler in handlers:
        handler.addFilter(drop)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(drop)


def _close_half_made(exc: BaseException, client_class: Any) -> None:
    """Close the client whose constructor raised ``exc`` (found in the traceback's frames): left to the garbage
    collector at exit, it waits 20 s for its stopped event loop, then prints nine lines of traceback."""
    tb = exc.__traceback__
    while tb is not None:
        half = tb.tb_frame.f_locals.get("self")
        if isinstance(half, client_class):
            with suppress(Exception):  # closing what never opened: its own failure says nothing more
                half.close(timeout=1)
            return
        tb = tb.tb_next


def _check_address(address: str) -> None:
    """Refuse an address the Dask client cannot parse or use (a port outside 1 to 65535; tls:// or wss:// without
    the Dask TLS settings) before a client exists (a client that fails on one hangs for 20 s when it is collected,
    then prints a traceback)."""
    import importlib

    addressing: Any = importlib.import_module("distributed.comm.addressing")
    backends: Any = importlib.import_module("distributed.comm.registry").backends
    try:
        scheme, where = addressing.parse_address(address)
        if scheme not in backends:
            raise ValueError(f"unknown scheme {scheme!r}; expected one of {', '.join(sorted(backends))}")
        if scheme == "inproc":
            raise ValueError("inproc:// names a scheduler inside one Python process, which a command cannot reach")
        if scheme in ("tcp", "tls", "ws", "wss"):
            port = where.rpartition(":")[2]
            if ":" in where and not where.endswith("]") and not _is_port(port):
                raise ValueError(f"the port must be a number from 1 to {_MAX_PORT}, got {port!r}")
            if not addressing.parse_host_port(where)[0]:
                raise ValueError("no host")
            if not _is_port(port):
                raise ValueError(f"the port must be a number from 1 to {_MAX_PORT}, got {port!r}")
    except ValueError as exc:
        raise OptionError(
            f"dask: expected a scheduler address such as tcp://host:8786, got {address!r} ({exc})"
        ) from None
    if scheme in ("tls", "wss"):
        try:
            security: Any = importlib.import_module("distributed.security").Security()
            context = security.get_connection_args("client")["ssl_context"]
        except (OSError, ValueError) as exc:
            detail = " ".join(str(exc).split()) or type(exc).__name__
            raise OptionError(f"dask: cannot set up TLS for {address!r} ({detail})") from None
        if context is None:
            raise OptionError(
                f"dask: {address!r} is a {scheme}:// address, but the Dask configuration names no TLS files "
                "for the client (distributed.comm.tls.ca-file and distributed.comm.tls.client.cert)"
            )


def _is_port(text: str) -> bool:
    return text.isascii() and text.isdigit() and 1 <= int(text) <= _MAX_PORT


def check_workers(workers: object, client: Any = None) -> int:
    """The number of processes to read with: ``workers`` checked (1 to :data:`MAX_WORKERS`), default the cores
    this process may use; with a Dask ``client`` the cluster decides, so ``workers`` may not be given."""
    from scalematch.pool import cores

    if client is not None and not all(callable(getattr(client, name, None)) for name in ("map", "nthreads")):
        # (the methods used of it: a pandas Series or DataFrame has a map() too)
        raise OptionError(f"client: expected a distributed.Client, got {type(client).__name__}")
    if client is not None and getattr(client, "status", None) in ("closing", "closed"):  # distributed's states
        raise OptionError("client: the distributed.Client is closed; give a client that is running")
    if workers is not None and client is not None:
        raise OptionError("workers: the Dask cluster runs the work (client=); give workers= or client=, not both")
    if workers is None:
        return cores()
    import numbers

    from scalematch import _args

    expected = f"workers: expected an integer from 1 to {MAX_WORKERS}"
    if isinstance(workers, bool) or not isinstance(workers, numbers.Integral):
        raise OptionError(f"{expected}, got {_args.shown(workers)}")  # (a Series: in one line, by its type)
    if not 1 <= int(workers) <= MAX_WORKERS:
        raise OptionError(f"{expected}, got {int_text(int(workers))}")
    return int(workers)  # a numpy integer too, as every integer parameter takes it


def summarize_files(
    inputs: Inputs,
    format: str | None = None,
    resize: str | ResizePolicy = DEFAULT_POLICY,
    *,
    strict: bool = False,
    split: str | None = None,
    image_size: tuple[int, int] | None = None,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
    client: Any = None,
    source: str | None = None,
) -> dict[str, Any]:
    """The ``stats --json`` object of several inputs read as one dataset (see :func:`expand` for ``inputs``),
    without building a box table: each input's :class:`~scalematch.dataset.stats.Partial` is computed in a pool
    of ``workers`` processes (default: every core), or on the Dask cluster of ``client`` (a
    ``distributed.Client``), and merged here. ``source`` names the dataset in the output (default: the inputs as
    given, joined by spaces). One input gives exactly :func:`~scalematch.dataset.stats.summarize_file`'s object.
    Other arguments as :func:`~scalematch.dataset.loader.load`."""
    from scalematch.dataset.stats import merge, summary

    parts, name = partials(inputs, format, resize, strict, split, image_size, progress, workers, client, source)
    merged = merge(parts, name)
    del parts  # their memory, free again, holds the summary's sorted values
    return summary(merged)


def partials(
    inputs: Inputs,
    format: str | None = None,
    resize: str | ResizePolicy = DEFAULT_POLICY,
    strict: bool = False,
    split: str | None = None,
    image_size: tuple[int, int] | None = None,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
    client: Any = None,
    source: str | None = None,
) -> tuple[list[Partial], str]:
    """Each input's :class:`~scalematch.dataset.stats.Partial`, in input order, and the dataset's name."""
    strict = _check_types(strict, format, split, progress)
    paths, fmt, name, count = _prepare(inputs, format, client, workers, source, split)
    options = (fmt, str(parse_policy(resize)), strict, split, image_size)
    if len(paths) == 1 and client is None:  # one input: its own reader's workers (VOC pieces) and progress
        from scalematch.dataset.stats import file_partial

        return [file_partial(paths[0], *options, progress=progress, workers=count)], name
    return list(_run(_partials_of, paths, options, count, client, progress)), name


def read_shards(
    inputs: Inputs,
    format: str | None = None,
    resize: str | ResizePolicy = DEFAULT_POLICY,
    *,
    strict: bool = False,
    split: str | None = None,
    image_size: tuple[int, int] | None = None,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
    client: Any = None,
    source: str | None = None,
) -> LoadResult:
    """The box table of several inputs read as one dataset: each input loaded (in ``workers`` processes or on
    ``client``'s cluster, as :func:`summarize_files`) and the tables joined in input order. With more than one
    input the table gains ``shard`` (the input it comes from) and ``shard_image_id`` (the image's id there), and
    ``image_id`` is renumbered so that it names one image over all inputs."""
    from scalematch.dataset.loader import load

    strict = _check_types(strict, format, split, progress)
    paths, fmt, name, count = _prepare(inputs, format, client, workers, source, split)
    if len(paths) == 1 and client is None:
        from dataclasses import replace

        result = load(paths[0], fmt, resize, strict=strict, split=split, image_size=image_size, progress=progress,
                      workers=count)  # fmt: skip
        return result if source is None else replace(result, source=source)
    options = (fmt, str(parse_policy(resize)), strict, split, image_size)
    return _join(list(_run(_loads_of, paths, options, count, client, progress)), paths, name)


_Options = tuple[str, str, bool, "str | None", "tuple[int, int] | None"]


def _check_types(strict: object, format: object, split: object, progress: object) -> bool:
    """The argument types of the readers; returns ``strict`` as the bool it stands for."""
    from scalematch._args import check_progress, expect, flag
    from scalematch.dataset.loader import given_format

    given_format(format)
    expect(split, "split", str, "a split name such as train or val", optional=True)
    check_progress(progress)
    return flag(strict, "strict")


def _prepare(
    inputs: Inputs, format: str | None, client: Any, workers: int | None, source: str | None, split: str | None
) -> tuple[tuple[Path, ...], Format, str, int]:
    """The paths, their one format, the dataset's name and the number of worker processes."""
    from scalematch.dataset.loader import _format

    count = check_workers(workers, client)
    given = listed(inputs)
    paths = expand(given)
    formats: dict[Format, Path] = {}
    for path in paths:
        formats.setdefault(_format(path, format), path)
    if len(formats) > 1:
        (fa, a), (fb, b) = list(formats.items())[:2]
        raise OptionError(f"{b}: read as {fb}, but {a} as {fa}; all inputs must be of one format")
    fmt = next(iter(formats))
    if len(paths) > 1:
        _check_overlap(paths, fmt)
        if fmt != "coco":
            _check_shared_files(paths, split, fmt)
    name = source if source is not None else " ".join(given)
    return paths, fmt, name, count


def _check_overlap(paths: tuple[Path, ...], fmt: Format) -> None:
    """Refuse an input that another input, a folder, reads too (a VOC folder and one of its XML files, a YOLO
    dataset and its ``labels/train``): its annotations would be counted twice. A folder reads what its format's
    reader reads: VOC the XML files in it (or in its ``Annotations``) and its subfolders, YOLO everything under its
    labels folder."""
    reads: dict[str, Path] = {}  # the real folder read (with its subfolders) -> the input
    for path in paths:
        if path.is_dir() and fmt != "coco":
            inner = "Annotations" if fmt == "voc" else "labels"
            root = os.path.realpath(path / inner if (path / inner).is_dir() else path)
            if root in reads:
                _twice(path, reads[root])
            reads[root] = path
    if not reads:
        return
    for path in paths:
        folder = os.path.realpath(path)
        while True:  # the input itself (a folder) or its folder, then their parents up to the root
            outer = reads.get(folder)
            if outer is not None and outer != path:
                _twice(path, outer)
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent


def _check_shared_files(paths: tuple[Path, ...], split: str | None, fmt: Format) -> None:
    """Refuse an XML or label file that two VOC or YOLO inputs read under two names (a folder holding a link to
    another input's file or folder): the same file, by device and inode, would be counted twice."""
    from scalematch.dataset.formats import yolo
    from scalematch.dataset.formats.pascal_voc import xml_files

    owner: dict[tuple[int, int], tuple[Path, Path]] = {}  # (device, inode) -> (the input, the file's name there)
    for path in paths:
        for xml in xml_files(path, split)[0] if fmt == "voc" else yolo.reached(path)[0]:
            info = xml.stat()
            first = owner.setdefault((info.st_dev, info.st_ino), (path, xml))
            if first[0] != path:
                alias = f" as {first[1]}" if first[1] != xml else ""
                raise OptionError(
                    f"{xml}: named twice among the inputs: {first[0]} reads it too{alias}, so its annotations would "
                    "be counted twice; give it once"
                )


def _twice(path: Path, outer: Path) -> None:
    raise OptionError(
        f"{path}: named twice among the inputs: {outer} reads it too, so its annotations would be counted twice; "
        "give one of them"
    )


def _run(
    task: Callable[[list[str], _Options], list[Any]],
    paths: tuple[Path, ...],
    options: _Options,
    workers: int,
    client: Any,
    progress: Callable[[int, int], None] | None,
) -> Iterator[Any]:
    """``task`` over batches of ``paths``, its results in input order: here, in a process pool, or on a Dask
    cluster. The first error in input order is raised (under ``strict``, the one a single process would give)."""
    sizes = [p.stat().st_size if p.is_file() else 0 for p in paths]
    total, done = sum(sizes), 0
    if client is not None:  # the cluster's workers may run elsewhere: paths from the root
        names = [os.path.abspath(p) for p in paths]
        given = dict(zip(names, map(os.fspath, paths), strict=True))
        _wait_for_workers(client)
        batches = _batches(names, sizes, 4 * max(_cluster_size(client), 1))
        futures = client.map(task, [b for b, _ in batches], options=options, pure=False)
        for future, (batch, size) in zip(futures, batches, strict=True):
            try:
                result = _result(future, client)
            except ScalematchError as error:  # named as the user gave it, as a local run names it
                raise _renamed(error, {name: given[name] for name in batch}) from None
            except Exception as error:
                if not _cluster_failure(error):
                    raise
                raise _cluster_error(error, client, given[batch[0]], len(batch)) from None
            yield from (_given_source(item, given) for item in result)  # (the merge's errors name the sources)
            done += size
            if progress is not None:
                progress(done, total)
        return
    batches = _batches([os.fspath(p) for p in paths], sizes, 8 * workers)
    from scalematch.pool import can_fork, ordered_map

    if workers <= 1 or len(batches) < 2 or not can_fork():
        results: Iterator[list[Any]] = (task(batch, options) for batch, _ in batches)
    else:
        import importlib

        for module in ("numpy", "scalematch.dataset.stats", f"scalematch.dataset.formats.{_READERS[options[0]]}"):
            importlib.import_module(module)  # once here, not once per forked worker
        run = partial(_apply, task=task, options=options)
        results = ordered_map(run, [batch for batch, _ in batches], min(workers, len(batches)), wait=False)
    for (_, size), result in zip(batches, results, strict=True):
        yield from result
        done += size
        if progress is not None:
            progress(done, total)


WORKER_WAIT = 30.0
"""Seconds a read on a Dask cluster waits while the cluster has no worker (none yet, or none left) before it is
refused."""
_POLL = 1.0


def _wait_for_workers(client: Any) -> None:
    """Return once the cluster of ``client`` has a worker; a :class:`DatasetError` after :data:`WORKER_WAIT`
    seconds without one."""
    if _cluster_size(client) > 0:
        return
    try:
        client.wait_for_workers(1, timeout=WORKER_WAIT)
    except Exception as error:  # distributed's TimeoutError, or a lost scheduler
        if isinstance(error, TimeoutError):
            raise _no_worker(client) from None
        if not _cluster_failure(error):
            raise
        raise _cluster_error(error, client, None, 0) from None


def _result(future: Any, client: Any) -> Any:
    """The result of ``future``, waited for as long as the cluster has a worker; a :class:`DatasetError` once it
    has had none for :data:`WORKER_WAIT` seconds (its tasks would wait for one for ever)."""
    import time

    since: float | None = None
    while True:
        try:
            return future.result(timeout=_POLL)
        except TimeoutError:
            if future.done():  # finished: its result is on its way (or its own error, raised by this call)
                return future.result()
        if not _without_worker(client):
            since = None
        elif since is None:
            since = time.monotonic()
        elif time.monotonic() - since >= WORKER_WAIT:
            raise _no_worker(client)


def _without_worker(client: Any) -> bool:
    """Whether the scheduler of ``client`` says that it has no worker (not when it cannot be asked: a lost
    scheduler cancels the tasks, which ends the wait)."""
    try:
        return not client.nthreads()
    except Exception:  # (distributed's errors of a lost connection)
        return False


def _scheduler(client: Any) -> str:
    """The address of the scheduler of ``client``, for a message."""
    try:
        return str(client.scheduler.address)
    except Exception:  # a client that lost its scheduler may no longer know it
        return "(unknown address)"


def _no_worker(client: Any) -> DatasetError:
    address = _scheduler(client)
    return DatasetError(
        f"dask: the Dask scheduler at {address} has had no worker for {WORKER_WAIT:g} s; start workers "
        f"(dask worker {address}) or check that they can reach the scheduler"
    )


def _cluster_failure(error: BaseException) -> bool:
    """Whether ``error``, raised while waiting for a task, is the cluster failing (the scheduler lost, the task
    cancelled, its workers killed), not the task's own error."""
    from concurrent.futures import CancelledError

    return isinstance(error, CancelledError) or type(error).__module__.split(".")[0] == "distributed"


def _cluster_error(error: BaseException, client: Any, first: str | None, count: int) -> DatasetError:
    """One line for the cluster failure ``error`` while it read ``count`` inputs from ``first`` on."""
    from concurrent.futures import CancelledError

    address = _scheduler(client)
    more = f" (and {counted(count - 1, 'more input')})" if count > 1 else ""
    what = "" if first is None else f" while reading {first}{more}"
    if type(error).__name__ == "KilledWorker":
        return DatasetError(
            f"dask: the workers of the Dask cluster at {address} died{what}, each time the read was tried; see the "
            "workers' logs (a memory limit too small for the input is the usual cause)"
        )
    if isinstance(error, (CancelledError, OSError)):
        return DatasetError(
            f"dask: lost the connection to the Dask scheduler at {address}{what}; check that the scheduler is "
            "running and reachable, then run again"
        )
    detail = " ".join(str(error).split()) or type(error).__name__
    return DatasetError(f"dask: the Dask cluster at {address} failed{what} ({detail})")


def _given_source(result: Any, given: dict[str, str]) -> Any:
    """``result`` (a :class:`~scalematch.dataset.stats.Partial` or a :class:`LoadResult`) with its ``source``, the
    absolute name a cluster's worker opened, as the input was given, as a local run names it (the error for two
    inputs that name a category differently names them by their sources)."""
    from dataclasses import replace

    source = getattr(result, "source", None)
    return replace(result, source=given[source]) if isinstance(source, str) and source in given else result


def _renamed(error: ScalematchError, given: dict[str, str]) -> ScalematchError:
    """``error`` with each input's absolute name (what a cluster's worker opened) replaced by the name given."""
    message = raw_text(error)  # (str() escapes a name holding a newline: it would not be found)
    for name in sorted(given, key=len, reverse=True):  # /a/b.json before /a/b
        message = message.replace(name, given[name])
    return type(error)(message)


def _apply(batch: list[str], task: Callable[[list[str], _Options], list[Any]], options: _Options) -> list[Any]:
    return task(batch, options)


def _batches(paths: list[str], sizes: list[int], count: int) -> list[tuple[list[str], int]]:
    """``paths`` cut into about ``count`` runs of consecutive inputs of similar total size (at least one input
    each, at most 64): an input joins the run in which the middle of its bytes falls, all inputs' bytes counted in
    order, so that inputs of about equal size go one to a run when there are about ``count`` of them, many small
    files go to a worker together and a large file alone; a folder (size unknown) goes alone."""
    target = max(sum(sizes) / max(count, 1), 1)
    out: list[tuple[list[str], int]] = []
    batch: list[str] = []
    size = done = 0
    run = -1
    for path, n in zip(paths, sizes, strict=True):
        middle = int((done + n / 2) // target)
        if batch and (n == 0 or middle != run or len(batch) >= _BATCH):
            out.append((batch, size))
            batch, size = [], 0
        batch.append(path)
        size += n
        done += n
        run = -1 if n == 0 else middle  # nothing joins a folder
    if batch:
        out.append((batch, size))
    return out


_BATCH = 64
_READERS = {"coco": "coco", "voc": "pascal_voc", "yolo": "yolo"}


def _cluster_size(client: Any) -> int:
    """The number of worker threads of a Dask cluster (0 when it cannot say)."""
    try:
        return int(sum(client.nthreads().values()))
    except Exception:  # an unreachable scheduler shows up at the first task instead
        return 0


def _partials_of(paths: list[str], options: _Options) -> list[Partial]:
    """The :class:`Partial` of each path (run in a worker process or on a cluster; one process per input)."""
    from scalematch.dataset.stats import file_partial

    fmt, resize, strict, split, image_size = options
    return [file_partial(path, fmt, resize, strict, split, image_size, workers=1) for path in paths]


def _loads_of(paths: list[str], options: _Options) -> list[LoadResult]:
    """The loaded box table of each path (see :func:`_partials_of`)."""
    from scalematch.dataset.loader import load

    fmt, resize, strict, split, image_size = options
    return [load(path, fmt, resize, strict=strict, split=split, image_size=image_size, workers=1) for path in paths]


def _join(results: list[LoadResult], paths: tuple[Path, ...], source: str) -> LoadResult:
    """One :class:`LoadResult` from those of several inputs (see :func:`read_shards`); the categories merged as
    :func:`scalematch.dataset.stats.merge` merges them."""
    import numpy as np

    from scalematch.dataset.loader import LoadResult
    from scalematch.dataset.stats import merge, table_partial
    from scalematch.dataset.table import category_column

    merged = merge([table_partial(r) for r in results], source)  # checks the categories, numbers VOC's
    tables: list[pd.DataFrame] = []
    inner: list[pd.DataFrame] = []  # the VOC objects nested in another element (LoadResult.nested)
    repeats: list[pd.DataFrame] = []  # COCO records of a repeated annotation id (LoadResult.repeats)
    offset = rows = 0
    for k, result in enumerate(results):
        parts = [result.table.copy()] + [t.copy() for t in (result.nested, result.repeats) if t is not None]
        # (a repeated id's record of an image the input does not list names no image: its image_id becomes 0)
        listed = [t["listed"].to_numpy(bool) if "listed" in t.columns else slice(None) for t in parts]
        ids = np.concatenate([t["image_id"].to_numpy()[m] for t, m in zip(parts, listed, strict=True)])
        rank = np.unique(ids, return_inverse=True)[1].reshape(-1)
        start = 0
        named = result.unnamed - merged.unnamed
        names = {cid: merged.categories[cid] if cid in named else name for cid, name in result.categories.items()}
        for table, m in zip(parts, listed, strict=True):
            table["shard_image_id"] = table["image_id"].to_numpy()
            number = np.zeros(len(table), dtype=np.int64)
            taken = len(number[m])
            number[m] = offset + rank[start : start + taken].astype(np.int64) + 1
            table["image_id"] = number
            start += taken
            table["shard"] = k
            if result.format == "voc":  # ids by name over all inputs
                by_name = {name: cid for cid, name in merged.categories.items()}
                lookup = np.zeros(max(result.categories, default=0) + 1, dtype=np.int64)
                for cid, name in result.categories.items():
                    lookup[cid] = by_name[name]
                table["category_id"] = lookup[table["category_id"].to_numpy()]
            elif named:  # the categories this input gives no name are named as another input names them
                table["category"] = category_column(names, table["category_id"].to_numpy())
        offset += result.images
        tables.append(parts[0])
        inner += parts[1:2] if result.nested is not None else []
        if result.repeats is not None:
            parts[-1]["before"] += rows  # (the joined table's rows before it)
            repeats.append(parts[-1])
        rows += len(result.table)
    shards = [os.fspath(p) for p in paths]
    table = _joined(tables, shards)
    first = results[0]
    return LoadResult(
        table, merged.excluded, merged.images, dict(sorted(merged.categories.items())), source, first.format,
        first.resize, nested=_joined(inner, shards) if inner else None, unnamed=merged.unnamed,
        repeated=_repeated(results),
        repeats=_joined(repeats, shards) if repeats else None,
        absent=dict(sorted(sum((Counter(r.absent) for r in results), Counter()).items())),
    )  # fmt: skip


def _repeated(results: list[LoadResult]) -> RepeatedIds | None:
    """The repeated annotation ids of several inputs: all counted, the first named (in the inputs' order)."""
    from dataclasses import replace

    found = [r for r in results if r.repeated is not None]
    if not found:
        return None
    first = found[0]
    assert first.repeated is not None
    count = sum(r.repeated.count for r in found if r.repeated is not None)
    stops = [(r.repeated.listed[0], r.source) for r in found if r.repeated is not None and r.repeated.listed]
    # (a cluster's input named as given)
    return replace(first.repeated, count=count, file=first.source, listed=stops[0] if stops else None)


def _joined(tables: list[pd.DataFrame], shards: list[str]) -> pd.DataFrame:
    """``tables`` (of the inputs ``shards``) as one, their categorical columns joined."""
    import numpy as np
    import pandas as pd

    from scalematch.dataset.table import stacked

    table = stacked(tables, ("file_name", "category", "label_file"))  # categories in order of first appearance
    table["shard"] = pd.Categorical.from_codes(
        table["shard"].to_numpy(np.int32), categories=pd.Index(shards, dtype=str)
    )
    return table
