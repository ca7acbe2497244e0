"""Atomic, durable output: a reader sees the old content or the new, never a half-written file or report.

Single files (:func:`atomic_path`, :func:`atomic_text`) are written to a hidden temporary file beside the target,
flushed to disk and renamed onto it. Folders (:func:`write_folder`, used for reports) are written to a hidden
temporary folder beside the target and swapped in with one exchange rename (Linux ``renameat2``), so the target
exists, complete, at every instant; where the exchange is not available the old folder is moved aside first and a
run killed between the two renames is repaired by the next run on the same target.

Targets given as symbolic links are followed (the link stays, the files land where it points). Files get the
process umask like any other tool's (0644 under umask 022). SIGTERM, like SIGINT, removes the temporary files of
a write in progress; what a SIGKILL leaves behind (``.NAME.tmp-*``) is removed by the next write to that target.
Two concurrent folder writes to one target: the second fails at once with :class:`OptionError`.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import shutil
import signal
import stat
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import IO, TYPE_CHECKING, ClassVar, Literal

from scalematch._text import cut_name
from scalematch.errors import OptionError

if TYPE_CHECKING:
    import pandas as pd

TMP = "tmp-"
OLD = "old-"
_SUFFIX = 16  # the longest suffix a temporary file keeps (a writer may pick its format by it: .png, .csv)
_TAIL = 32  # the most bytes a side name adds to the target's (.NAME + .tmp-XXXXXXXX + suffix, .lock, .old-...)


_KERNEL_FS = frozenset(
    ("proc", "sysfs", "cgroup", "cgroup2", "debugfs", "tracefs", "securityfs", "pstore", "bpf", "configfs", "devpts")
)


def _mounts() -> list[tuple[str, str]]:
    """The mount points of this process and their file-system types, from /proc/self/mounts (none where that
    cannot be read); the octal escapes of a point (``\\040`` for a space) decoded, its bytes as paths are."""
    import re

    try:
        with open("/proc/self/mounts", "rb") as mounts:
            lines = mounts.read().splitlines()
    except OSError:
        return []
    escape = re.compile(rb"\\([0-7]{3})")
    found = []
    for line in lines:
        fields = line.split()
        if len(fields) >= 3:
            point = escape.sub(lambda m: bytes([int(m.group(1), 8) & 0xFF]), fields[1])
            found.append((os.fsdecode(point), os.fsdecode(fields[2])))
    return found


def _fs_type(path: Path) -> str:
    """The type of the file system ``path`` is on, from /proc/self/mounts (its longest mount point above
    ``path``), or "no storage" where that cannot be read."""
    best, kind = "", "no storage"
    for point, fs in _mounts():
        inside = str(path) == point or str(path).startswith(point.rstrip("/") + "/")
        if inside and len(point) > len(best):
            best, kind = point, fs
    return kind


def is_mount_point(path: Path) -> bool:
    """Whether ``path`` (links followed) is a mount point: a file system mounted there, or a folder or file
    bind-mounted from elsewhere (a container's volume, ``docker run -v``), which no rename can replace. Its device
    differs from its folder's, or /proc/self/mounts lists it (a bind mount within one file system keeps the
    device)."""
    real = os.path.realpath(path)
    try:
        if os.stat(real).st_dev != os.stat(os.path.dirname(real)).st_dev:
            return True
    except OSError:
        return False
    return any(point == real for point, _ in _mounts())


def _stem(name: str) -> str:
    """The part of a target's name its side files (``.NAME.tmp-*``, ``.NAME.old-*``, ``.NAME.lock``) carry: the
    name itself, or, when a side name would pass the 255 bytes a file name may hold, its first bytes and a hash
    of the whole (the same for every run on that target, so a later run still finds what a killed one left)."""
    raw = os.fsencode(name)
    if len(raw) <= 255 - 1 - _TAIL:
        return name
    digest = hashlib.sha256(raw).hexdigest()[:16]
    return f"{os.fsdecode(raw[: 255 - 1 - _TAIL - 17])}~{digest}"


_HELD: set[str] = set()
"""The folder locks this process holds (their lock files' real paths)."""


def follow(target: Path) -> Path:
    """``target`` with symbolic links resolved (a dangling link gives the path it points to)."""
    return Path(os.path.realpath(target)) if target.is_symlink() else target


PATH_LIMIT = 4095
"""The longest path the system opens (Linux's PATH_MAX, 4096 bytes with the final NUL)."""


def check_length(target: Path, where: str) -> None:
    """An :class:`OptionError` ``<where>: ...`` when a name in ``target`` is longer than the 255 bytes a file name
    may hold, or the whole path longer than the system takes (:data:`PATH_LIMIT`): the system's refusal, 'File
    name too long', would name neither the option nor the part at fault."""
    too_long = [part for part in target.parts if len(os.fsencode(part)) > 255]
    if too_long:
        raise OptionError(f"{where}: the name {too_long[0][:40]!r}... is longer than 255 bytes")
    if len(os.fsencode(target)) > PATH_LIMIT:  # parts within 255 bytes, but more than the system takes in all
        raise OptionError(f"{where}: the path is longer than {PATH_LIMIT:,} bytes")


def check_output(target: Path, option: str, folder: bool = False, inputs: tuple[Path, ...] = ()) -> None:
    """Raise :class:`OptionError` ``<option> <target>: <reason>`` if ``target`` cannot be written, before any
    work: it is one of the ``inputs``, a symbolic-link loop or a link into a missing folder, an existing device,
    FIFO or socket (a rename would replace it), a folder (a file is wanted) or a file (a folder is wanted), an
    existing file or folder this process may not write (write-protected), a mount point (no rename replaces it),
    a parent is a file, the nearest existing parent is read-only or not writable, or its disk is full."""
    where = f"{option} {cut_name(target)}"
    check_length(target, where)
    _check_not_a_stream(target, where, folder)
    if target.is_symlink():
        try:
            Path(os.path.realpath(target, strict=True))
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise OptionError(f"{where}: is a loop of symbolic links") from None
            if not Path(os.path.realpath(target)).parent.is_dir():
                raise OptionError(f"{where}: is a symbolic link into a missing folder") from None
    path = follow(target)
    real = Path(os.path.realpath(path))
    here = Path(os.path.realpath(os.getcwd()))
    if folder and (real == here or real in here.parents):
        raise OptionError(
            f"{where}: is the current folder{'' if real == here else ' or holds it'}; a report replaces its folder "
            "whole, so give a folder of its own (e.g. --out report)"
        )
    for source in inputs:
        if os.path.lexists(path) and os.path.lexists(source) and os.path.samefile(path, source):
            raise OptionError(f"{where}: is the input {source}; choose another {'folder' if folder else 'file'}")
        if not os.path.lexists(source) and Path(os.path.realpath(source)) == real:
            raise OptionError(
                f"{where}: is {source}, a file a later read of the input would take as part of it (a YOLO "
                f"dataset's class names); choose another {'folder' if folder else 'file'}"
            )
        if source.is_dir() and Path(os.path.realpath(source)) in real.parents:
            kind = "folder" if folder else "file"
            raise OptionError(f"{where}: lies in the input folder {source}; choose a {kind} outside it")
    if os.path.lexists(path) and not (path.is_file() or path.is_dir()):
        wanted = "a folder" if folder else "a regular file"
        raise OptionError(f"{where}: exists and is {_special(path)}, not {wanted}; a write would replace it")
    if path.is_dir() and not folder:
        raise OptionError(f"{where}: is a folder; expected a file name")
    if path.exists() and not path.is_dir() and folder:
        raise OptionError(f"{where}: expected a folder, got a file")
    if path.is_file() and not os.access(path, os.W_OK):  # a rename would replace it: as open(), cp and > refuse
        raise OptionError(f"{where}: exists and is write-protected; make it writable or choose another file")
    if os.path.lexists(path) and is_mount_point(path):  # rename(2) onto it fails (EBUSY), after all the work
        inside = f"write into a folder inside it ({option} {cut_name(target)}/report) or " if folder else ""
        raise OptionError(
            f"{where}: is a mount point, which cannot be replaced atomically (a rename onto it fails); "
            f"{inside}choose another path"
        )
    parent = path.parent
    while not os.path.lexists(parent) and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        from scalematch._paths import kind as kind_of

        what = kind_of(parent)  # (a link that leads nowhere is no file either)
        what = "a file" if what is None else what if what.startswith("a ") else "not a folder"
        raise OptionError(f"{where}: {parent} is {what}, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        fs = _statvfs(parent)
        readonly = fs is not None and fs.f_flag & os.ST_RDONLY
        raise OptionError(f"{where}: {parent} is {'on a read-only file system' if readonly else 'not writable'}")
    if folder and path.is_dir() and not os.access(path, os.W_OK | os.X_OK):  # its swapped-out copy could not be
        raise OptionError(  # emptied and would stay beside it: refused as a write-protected file is
            f"{where}: exists and is write-protected; make it writable (chmod u+w) or choose another folder"
        )
    fs = _statvfs(parent)
    if fs is not None and fs.f_blocks == 0 and _fs_type(parent) in _KERNEL_FS:  # no storage: the kernel's files
        raise OptionError(f"{where}: {parent} is on a virtual file system ({_fs_type(parent)}), not a place for files")
    if fs is not None and fs.f_blocks > 0 and fs.f_bavail == 0:
        raise OptionError(f"{where}: no space left on the device of {parent}")


def _special(path: Path) -> str:
    """What stands at ``path`` when it is neither a regular file nor a folder (from its status only)."""
    import stat

    mode = os.stat(path).st_mode
    for test, name in ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket")):  # fmt: skip
        if test(mode):
            return name
    return "a special file"


def _check_not_a_stream(target: Path, where: str, folder: bool) -> None:
    """Refuse a ``target`` that is, links followed by the kernel (``/dev/stdout``, ``/proc/self/fd/1``), a device,
    pipe or socket, or the very file this process's stdout or stderr writes to: a rename would replace it."""
    try:
        status = os.stat(target)
    except OSError:
        return
    if not (stat.S_ISREG(status.st_mode) or stat.S_ISDIR(status.st_mode)):
        wanted = "a folder" if folder else "a regular file"
        raise OptionError(f"{where}: exists and is {_special(target)}, not {wanted}; a write would replace it")
    for fd, name in ((1, "output"), (2, "error")):
        try:
            stream = os.fstat(fd)
        except OSError:
            continue
        if (stream.st_dev, stream.st_ino) == (status.st_dev, status.st_ino):
            raise OptionError(
                f"{where}: is where the standard {name} goes (a rename would replace it); choose another file"
            )


def check_distinct(
    files: dict[str, Path | None], folder: tuple[str, Path | None] = ("--out", None), inputs: tuple[Path, ...] = ()
) -> None:
    """Raise :class:`OptionError` when two output options name one file, or a file (an output or an input) lies
    in the report folder, whose swap would remove it."""
    seen: dict[Path, str] = {}
    name, out = folder
    root = Path(os.path.realpath(out)) if out is not None else None
    for source in inputs:
        real_source = Path(os.path.realpath(source))
        if root is not None and (real_source == root or root in real_source.parents):
            raise OptionError(f"{name} {out}: holds the input {source}, which the report would replace")
    for option, path in files.items():
        if path is None:
            continue
        real = Path(os.path.realpath(path))
        if real in seen:
            raise OptionError(
                f"{option} {cut_name(path)}: is also the file of {seen[real]}; give each output its own file"
            )
        if root is not None and real == root:
            raise OptionError(
                f"{option} {cut_name(path)}: is the {name} folder, which the report replaces; give another path"
            )
        if root is not None and root in real.parents:
            raise OptionError(f"{option} {cut_name(path)}: lies in the {name} folder {out}, which the report replaces")
        seen[real] = option


def _statvfs(path: Path) -> os.statvfs_result | None:
    try:
        return os.statvfs(path)
    except (OSError, AttributeError):
        return None


@contextlib.contextmanager
def atomic_path(target: Path, option: str = "") -> Iterator[Path]:
    """Yields a temporary path in ``target``'s folder; renamed onto ``target`` only if the block succeeds.

    An :class:`OSError` while writing (disk full, permissions) becomes ``OptionError("<option> <target>: ...")``
    when ``option`` is given; the temporary file is removed in every case but SIGKILL.
    """
    check_length(target, f"{option} {cut_name(target)}" if option else cut_name(target))
    path = follow(target)
    with _oserror_as_option(target, option), terminate_raises():
        path.parent.mkdir(parents=True, exist_ok=True)
        with target_lock(path, option):  # a second writer of this file stops with one line
            _remove_stale_files(path)
            with _signals_held():  # signals act only inside the try, whose finally removes the temporary file
                tmp, fd = _new_temp_file(path)
                try:
                    with _signals_let_through():
                        yield tmp
                        _fsync_file(tmp)
                        _replace_file(tmp, path)
                finally:
                    tmp.unlink(missing_ok=True)
                    os.close(fd)


@contextlib.contextmanager
def atomic_text(target: Path, option: str = "") -> Iterator[IO[str]]:
    """A text file handle whose content replaces ``target`` atomically when the block ends without error."""
    with atomic_path(target, option) as tmp, tmp.open("w", encoding="utf-8", newline="") as handle:
        yield handle


def atomic_csv(frame: pd.DataFrame, target: Path, option: str = "") -> None:
    """``frame`` (without its index) as a CSV file replacing ``target`` atomically. Lines end in ``\\n``, and
    Python's csv writer then quotes a field holding a line break only when it holds a ``\\n``: a bare carriage
    return in a name from the data would be left bare, and csv.reader and pandas would split its row. A table
    holding one is written with every text field quoted (csv.QUOTE_NONNUMERIC), which both read back as the same
    rows and values."""
    import csv

    quoting: Literal[0, 2] = csv.QUOTE_NONNUMERIC if _has_carriage_return(frame) else csv.QUOTE_MINIMAL
    with atomic_text(target, option) as handle:
        frame.to_csv(handle, index=False, quoting=quoting)


def _has_carriage_return(frame: pd.DataFrame) -> bool:
    import pandas as pd

    for _, column in frame.items():
        values = column.cat.categories.to_series() if isinstance(column.dtype, pd.CategoricalDtype) else column
        text = values.dtype.kind in "OSU" or isinstance(values.dtype, pd.StringDtype)
        if text and values.astype(str).str.contains("\r", regex=False).any():
            return True
    return any("\r" in str(name) for name in frame.columns)


def _replace_file(tmp: Path, path: Path) -> None:
    """Rename ``tmp`` onto ``path`` and flush their folder. An existing ``path`` is swapped with ``tmp`` (one
    exchange rename, where the system has it), so that when the flush fails (an I/O error) it is swapped back:
    the error ends the write and ``path`` keeps its old content; ``tmp`` (the old content, or the new) is then
    the caller's to remove."""
    if os.path.lexists(path) and _exchange(tmp, path):
        try:
            _fsync_dir(path.parent)
        except OSError:
            _exchange(tmp, path)
            raise
        return
    new = not os.path.lexists(path)
    os.replace(tmp, path)
    try:
        _fsync_dir(path.parent)
    except OSError:
        if new:  # nothing was there: as before the write
            os.rename(path, tmp)
        raise


def _new_temp_file(path: Path) -> tuple[Path, int]:
    """A new empty ``.NAME.tmp-XXXX.SUFFIX`` beside ``path`` (mode 0666 less the umask) and an fd holding a
    ``flock`` on it, which tells a later run that the file is in use (a stale one has no lock)."""
    for _ in range(100):
        suffix = path.suffix if 0 < len(os.fsencode(path.suffix)) <= _SUFFIX else ".tmp"
        tmp = path.parent / f".{_stem(path.name)}.{TMP}{secrets.token_hex(4)}{suffix}"
        try:
            fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        _try_lock(fd)
        return tmp, fd
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(path.parent))  # pragma: no cover


def _remove_stale_files(path: Path) -> None:
    """Remove the temporary files a killed write to ``path`` left (those no live writer holds locked)."""
    for stale in path.parent.glob(f".{_glob_escape(_stem(path.name))}.{TMP}*"):
        if not stale.is_file() or stale.is_symlink():
            continue
        try:
            fd = os.open(stale, os.O_RDONLY)
        except OSError:
            continue
        try:
            if _try_lock(fd):
                stale.unlink(missing_ok=True)
        finally:
            os.close(fd)


def _try_lock(fd: int) -> bool:
    """Take an exclusive ``flock`` on ``fd`` without waiting; False if another process holds it."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no locking
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _glob_escape(name: str) -> str:
    import glob

    return glob.escape(name)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_NO_DIRECTORY_FSYNC = frozenset({errno.EINVAL, errno.EROFS, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EBADF, errno.ENOSYS})
"""What fsync(2) on a folder gives where the file system or platform cannot flush folders (EINVAL, EROFS: "does
not support synchronization"; ENOTSUP or ENOSYS from some FUSE and network file systems; EBADF where a
folder opened read-only cannot be flushed): nothing to do. Any other error (EIO, ENOSPC, EDQUOT) is raised."""


def _fsync_dir(path: Path) -> None:
    """Flush the entries of folder ``path`` to disk; an :class:`OSError` unless the system cannot flush folders
    (:data:`_NO_DIRECTORY_FSYNC`)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # pragma: no cover - platforms that cannot open folders
        return
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in _NO_DIRECTORY_FSYNC:
            raise
    finally:
        os.close(fd)


@contextlib.contextmanager
def _oserror_as_option(target: Path, option: str) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        if not option:
            raise
        raise OptionError(f"{option} {cut_name(target)}: {exc.strerror or exc}") from None


@contextlib.contextmanager
def terminate_raises() -> Iterator[None]:
    """While the block runs, SIGTERM (and SIGHUP) raise ``SystemExit(128 + signal)`` like SIGINT raises
    KeyboardInterrupt, so ``finally`` clauses remove temporary files; inside :func:`_signals_held` any of them
    waits until that block ends. A second SIGTERM during that clean-up is ignored. Only in the main thread
    (elsewhere signals cannot be handled); nested uses keep the outer handlers. SIGINT's handler is replaced
    only where it is Python's own (``KeyboardInterrupt``), by one that raises the same."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals = [signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    previous = {s: signal.getsignal(s) for s in signals}
    if any(p is _raise_exit for p in previous.values()):
        yield
        return
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        previous[signal.SIGINT] = signal.default_int_handler
    for s in previous:
        signal.signal(s, _raise_exit)
    try:
        yield
    finally:
        for s, p in previous.items():
            signal.signal(s, p)


class _Held:
    """The state of :func:`_signals_held` in the main thread: how deep it is nested, the thread's signal mask
    outside it, and the first signal that came meanwhile (delivered when the outermost block ends)."""

    depth = 0
    mask: ClassVar[set[int]] = set()
    pending: int | None = None


def _raise_exit(signum: int, frame: FrameType | None) -> None:
    """The handler of :func:`terminate_raises`: inside :func:`_signals_held`, note the signal for its end;
    otherwise raise it (:func:`_deliver`)."""
    if _Held.depth > 0:
        if _Held.pending is None:
            _Held.pending = signum
        return
    _deliver(signum)


def _deliver(signum: int) -> None:
    """Raise ``signum`` as KeyboardInterrupt (SIGINT) or ``SystemExit(128 + signum)``; a second signal during
    the clean-up that follows is ignored (until :func:`terminate_raises` ends)."""
    _Held.pending = None
    for s in _held_signals():
        if signal.getsignal(s) is _raise_exit:
            signal.signal(s, signal.SIG_IGN)
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise SystemExit(128 + signum)


def _held_signals() -> set[signal.Signals]:
    return {signal.SIGINT, signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])}


# ---- folders -------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def hold_outputs(files: dict[str, Path | None]) -> Iterator[None]:
    """Hold the lock of each output file (option -> path; None is skipped) until the block ends (the whole run):
    a second run writing one of them stops at once, before its work, with one line, rather than both writing and
    the last rename replacing the other's file unsaid. SIGTERM and SIGHUP end the block like SIGINT, so the locks
    go with the run. A file whose folder does not exist yet is locked when written (:func:`atomic_path`)."""
    with terminate_raises(), contextlib.ExitStack() as stack:
        for option, target in files.items():
            if target is not None and follow(target).parent.is_dir():
                with _signals_held():  # the lock is on the stack before a signal can end the run
                    stack.enter_context(target_lock(follow(target), option))
        yield


@contextlib.contextmanager
def target_lock(target: Path, option: str) -> Iterator[None]:
    """Hold the lock of output ``target``, a folder or a file (``.NAME.lock`` beside it, removed on release); if
    another process holds it, raise :class:`OptionError` at once rather than wait. Re-entrant: a lock this process
    already holds (a run that holds its outputs from its checks to their writes) is taken again at no cost."""
    lock = target.parent / f".{_stem(target.name)}.lock"
    key = os.path.realpath(lock)
    if key in _HELD:
        yield
        return
    with _signals_held():  # signals act only inside the try, whose finally removes the lock file
        fd = _take_lock(lock, target, option)
        _HELD.add(key)
        try:
            with _signals_let_through():
                yield
        finally:
            _HELD.discard(key)
            with contextlib.suppress(OSError):  # a folder made read-only meanwhile: the error that ends the
                lock.unlink(missing_ok=True)  # run is the one to tell; a lock file nobody holds is taken again
            os.close(fd)


def _take_lock(lock: Path, target: Path, option: str) -> int:
    where = f"{option} {cut_name(target)}" if option else cut_name(target)
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise OptionError(f"{where}: cannot create {lock.name} beside it ({exc.strerror})") from None
        if not _try_lock(fd):
            os.close(fd)
            raise OptionError(f"{where}: another scalematch run is writing there; try again when it has finished")
        try:
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # the holder removed the lock file between our open and our lock: take the new one


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP back while a temporary file, folder or lock is created and recorded for
    clean-up, and while that clean-up runs: the work between goes in :func:`_signals_let_through`, inside the
    ``try`` whose ``finally`` is the clean-up. A signal that came meanwhile is delivered as the outermost block
    ends (without this, a signal right after a creation left the entry behind, one at the start of or amid
    the clean-up left part of it). Main thread only (Python runs handlers there). Two guards, as the kernel
    gives a process-wide signal to any thread that does not block it: the signals are blocked in this thread
    (POSIX), and the handlers of :func:`terminate_raises`, which Python runs in this thread whichever thread
    took the signal (numpy's, a pool's), defer it to the block's end."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _Held.depth += 1  # first, and without a call: from here the handlers of terminate_raises defer a signal
    try:
        _block_if_first()
        yield
    finally:
        _Held.depth -= 1
        _unblock_if_last()


@contextlib.contextmanager
def _signals_let_through() -> Iterator[None]:
    """Inside :func:`_signals_held`: the signals it holds act at once during the block (unless an outer block
    holds them too), and are held again as the block ends, before the caller's clean-up."""
    if threading.current_thread() is not threading.main_thread() or _Held.depth == 0:
        yield
        return
    try:
        _Held.depth -= 1
        _unblock_if_last()  # a signal held back until now is raised here, inside the caller's try
        yield
    finally:
        _Held.depth += 1  # first, and without a call (as in _signals_held)
        _block_if_first()


_MASKS = hasattr(signal, "pthread_sigmask")


def _block_if_first() -> None:
    """The outermost :func:`_signals_held` (depth now 1) blocks the signals in this thread, keeping its mask."""
    if _Held.depth == 1 and _MASKS:
        _Held.mask = set(signal.pthread_sigmask(signal.SIG_BLOCK, ()))
        signal.pthread_sigmask(signal.SIG_BLOCK, _held_signals())


def _unblock_if_last() -> None:
    """The outermost :func:`_signals_held` (depth now 0) restores the mask and delivers a signal that came
    meanwhile."""
    if _Held.depth > 0:
        return
    pending = _Held.pending
    if _MASKS:
        signal.pthread_sigmask(signal.SIG_SETMASK, _Held.mask)  # a signal that reached this thread raises here
    if pending is not None:
        _deliver(pending)


def recover_folder(target: Path, ours: Callable[[Path], bool] | None = None) -> None:
    """Repair what a killed :func:`write_folder` on ``target`` left; call with :func:`target_lock` held.

    If the target is missing and an old copy was set aside (the run died between its two renames), the old copy
    is put back. If the target exists but ``ours(target)`` says it is not what the writer puts there (a folder
    made again by something else after such a run died), the newest old copy is kept, the only copy of what the
    target held, and one warning line names it. Every other ``.NAME.tmp-*`` / ``.NAME.old-*`` beside the target
    is removed (:func:`_remove_tree`), and one warning line (once a process) names each that cannot be, and why."""
    pattern = _glob_escape(_stem(target.name))
    olds = sorted(target.parent.glob(f".{pattern}.{OLD}*"), key=lambda p: p.stat().st_mtime)
    if olds and not os.path.lexists(target):
        os.replace(olds.pop(), target)
        _fsync_dir(target.parent)
    elif olds and ours is not None and not ours(target):
        kept = olds.pop()
        if str(kept) not in _WARNED:
            _WARNED.add(str(kept))
            _warn(
                f"{target}: kept {kept.name} beside it, what a killed write had set aside; {target.name} was made "
                "again since, so it is not put back: move it back by hand, or remove it"
            )
    for stale in [*olds, *target.parent.glob(f".{pattern}.{TMP}*")]:
        if not stale.is_dir() or stale.is_symlink():
            stale.unlink(missing_ok=True)
            continue
        reason = _remove_tree(stale)
        if reason is not None and str(stale) not in _WARNED:
            _WARNED.add(str(stale))
            _warn(
                f"{target}: could not remove {stale.name} beside it, left by an earlier write ({reason}); "
                "remove it by hand"
            )


def write_folder(
    target: Path, files: dict[str, bytes], check: Callable[[Path], None], option: str = "--out",
    ours: Callable[[Path], bool] | None = None,
) -> Path:  # fmt: skip
    """Write ``files`` (name -> content) as the folder ``target``, replacing it atomically; returns the folder
    written (``target`` with symbolic links followed).

    Under the target's lock: repair a killed earlier write, call ``check(folder)`` (which raises to refuse the
    target), write and fsync every file in a temporary folder beside it, then swap it in (see the module doc).
    An :class:`OSError` becomes ``OptionError("<option> <target>: ...")``.
    """
    check_length(target, f"{option} {cut_name(target)}" if option else cut_name(target))
    path = follow(target)
    with _oserror_as_option(target, option), terminate_raises():
        path.parent.mkdir(parents=True, exist_ok=True)
        with target_lock(path, option):
            recover_folder(path, ours)
            check(path)
            _write_and_swap(path, files)
    return path


def _write_and_swap(path: Path, files: dict[str, bytes]) -> None:
    tmp = path.parent / f".{_stem(path.name)}.{TMP}{secrets.token_hex(4)}"
    old = path.parent / f".{_stem(path.name)}.{OLD}{secrets.token_hex(4)}"
    with _signals_held():  # signals act only inside the work, which the clean-up below covers
        try:
            tmp.mkdir()
            with _signals_let_through():
                for name, content in files.items():
                    _write_durably(tmp / name, content)
                _fsync_dir(tmp)
                if not path.exists():
                    os.rename(tmp, path)
                    undo = [(path, tmp)]
                elif _exchange(tmp, path):
                    undo = []  # tmp now holds the old folder, removed below
                else:
                    os.rename(path, old)
                    os.rename(tmp, path)
                    undo = [(path, tmp), (old, path)]
                try:
                    _fsync_dir(path.parent)
                except OSError:  # the swap may not be on disk: the old folder is put back, and the error ends the run
                    if not undo:
                        _exchange(tmp, path)
                    for source, destination in undo:
                        os.rename(source, destination)
                    raise
        except BaseException:
            if old.exists() and not os.path.lexists(path):
                os.rename(old, path)  # put the previous folder back
            raise
        finally:
            for leftover in (tmp, old):
                if leftover.exists():
                    _remove_leftover(leftover, path)


def _remove_leftover(leftover: Path, target: Path) -> None:
    """Remove the temporary folder ``leftover`` of a write to ``target``; when that fails (a busy mount, an I/O
    error), one warning line on stderr says so: the write itself stands, and the next write to the target tries
    again (:func:`recover_folder`), and says so when it cannot either."""
    reason = _remove_tree(leftover)
    if reason is not None:
        _warn(
            f"{target}: could not remove the temporary folder {leftover.name} beside it ({reason}); the next write "
            "to it tries again"
        )


_WARNED: set[str] = set()
"""The leftovers of earlier writes this process has warned about (one line each, though a run repairs its target
both when it checks it and when it writes)."""


def _remove_tree(folder: Path) -> str | None:
    """Remove ``folder``, a temporary or swapped-out folder of a write: None once it is gone, else why it is not.
    A folder in it that is write-protected (a report made read-only with ``chmod a-w``, swapped out by an earlier
    version) cannot be emptied: it is given back its owner's write right first, where this process owns it."""
    shutil.rmtree(folder, ignore_errors=True)
    if not os.path.lexists(folder):
        return None
    for root, dirs, _ in [(str(folder), [], []), *os.walk(folder)]:
        for name in (root, *(os.path.join(root, d) for d in dirs)):
            with contextlib.suppress(OSError):
                mode = os.lstat(name).st_mode
                if stat.S_ISDIR(mode) and mode & stat.S_IRWXU != stat.S_IRWXU:
                    os.chmod(name, stat.S_IMODE(mode) | stat.S_IRWXU)
    shutil.rmtree(folder, ignore_errors=True)
    if not os.path.lexists(folder):
        return None
    try:
        shutil.rmtree(folder)  # again, for the reason it fails
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return None


def _warn(text: str) -> None:
    with contextlib.suppress(OSError, ValueError):  # stderr closed or full: the write stands all the same
        print(f"warning: {text}", file=sys.stderr, flush=True)


def _write_durably(path: Path, content: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        view = memoryview(content)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _exchange(a: Path, b: Path) -> bool:
    """Swap ``a`` and ``b`` with one atomic rename (Linux ``renameat2(RENAME_EXCHANGE)``); False where the
    platform or file system cannot, and nothing was changed."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):  # pragma: no cover - C library without renameat2
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))
