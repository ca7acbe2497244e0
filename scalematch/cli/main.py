"""The ``scalematch`` command: a typer app whose commands live in one small module each."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import warnings
from typing import Annotated, Any, NoReturn

import click

with warnings.catch_warnings():  # typer imports names click deprecates (PYTHONWARNINGS=error)
    warnings.filterwarnings("ignore", r"'click\.utils\.get_\w+_stream' is deprecated", DeprecationWarning)
    import typer
from typer.core import TyperGroup

from scalematch import __version__
from scalematch._text import cut_name, cut_words
from scalematch.cli import erf_cmd, explain_cmd, profile_cmd, recommend_cmd, stats_cmd
from scalematch.cli.flags import flag_message
from scalematch.errors import ScalematchError
from scalematch.pool import finish, own_process
from scalematch.report.style import printable

CONTEXT = {"help_option_names": ["-h", "--help"]}
EXIT_BROKEN_PIPE = 141
"""Exit code when the reader of stdout has gone (``| head -1``): 128 + SIGPIPE, as a shell reports a Unix tool
stopped by that signal; nothing is printed, and the files already written stay."""
EXIT_INTERRUPTED = 130
"""Exit code of a run stopped by SIGINT (Ctrl-C): 128 + SIGINT, as typer gives a KeyboardInterrupt."""
os.environ["MPLBACKEND"] = "agg"  # the CLI only writes figures to files, whatever backend the environment names


class _Group(TyperGroup):
    """Turns every :class:`ScalematchError` and every usage error (unknown option, bad choice, missing
    argument) into one ``Error: ...`` line on stderr and exit code 2, instead of typer's framed box."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        if sys.stdout is None:  # file descriptor 1 closed (``>&-``): the output would be lost without a word
            _say_error("Error: stdout is closed; nowhere to print the output")
            sys.exit(2)
        given = sys.stdout
        sys.stdout = _whole_writes(given)
        try:
            return super().main(*args, **kwargs)
        finally:
            if sys.stdout is not given:
                with contextlib.suppress(OSError, ValueError):  # a reader gone is reported already
                    sys.stdout.flush()
                sys.stdout = given

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        """Keeps the arguments as given (``ctx.meta["argv"]``) for the provenance of reports."""
        argv = list(args)
        try:
            if argv[:1] == ["--version"] and len(argv) > 1:  # the eager option would print and ignore the rest
                raise click.UsageError(f"--version takes no other argument; got {argv[1]!r}")
            ctx = super().make_context(info_name, args, parent=parent, **extra)
            command = self.get_command(ctx, argv[0]) if argv else None
            if command is not None:
                _check_tokens(command, argv[1:])
        except click.UsageError as exc:
            _usage_error(exc)
        ctx.meta["argv"] = argv
        return ctx

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _argument_help(command, dict(_COMMANDS).get(cmd_name))
        return command

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ScalematchError as exc:
            if interrupted(exc):  # a Ctrl-C the work turned into its own error (an interrupted import of a module)
                raise typer.Exit(EXIT_INTERRUPTED) from None
            _say_error(f"Error: {printable(flag_message(str(exc), _invoked(ctx)))}")
            raise typer.Exit(2) from None
        except click.UsageError as exc:
            _usage_error(exc)
        except BrokenPipeError as exc:
            if exc.filename is not None:
                raise
            _quiet_broken_pipe()
        except Exception as exc:
            # Ctrl-C inside a C extension's module init (ImportError: matplotlib's Agg, loaded lazily) or a class
            # body being built (RuntimeError from __set_name__, matplotlib's Axes while seaborn is imported)
            if interrupted(exc):
                raise typer.Exit(EXIT_INTERRUPTED) from None
            if not isinstance(exc, OSError):
                raise
            # the last net: a file-system refusal no check foresaw (a name too long, ...)
            where = f"{cut_name(exc.filename)}: " if exc.filename else ""
            _say_error(f"Error: {printable(where)}{exc.strerror or exc}")
            raise typer.Exit(2) from None


def interrupted(exc: BaseException) -> bool:
    """Whether ``exc`` comes from a Ctrl-C: a KeyboardInterrupt, or an error raised because of one (a
    KeyboardInterrupt inside a C extension's module init comes out as ``ImportError: initialization failed``, its
    ``__cause__``)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _check_tokens(command: click.Command, args: list[str]) -> None:
    """Refuses what click would let through without a word: an option given twice (click keeps the last value),
    a path given as an empty value (click reads it as '.'), a path option given '-' (a file named '-'), a number
    with digit underscores (``1_0``) and a file option whose value ends in '/' (the slash names a folder, but the
    path drops it)."""
    takes: dict[str, click.Option] = {}
    for param in command.params:
        if isinstance(param, click.Option) and not param.multiple and not param.count:
            takes.update((name, param) for name in (*param.opts, *param.secondary_opts))
    seen: set[str] = set()
    paths = [p for p in command.params if isinstance(p, click.Argument) and isinstance(p.type, click.Path)]
    index = 0
    while index < len(args) and args[index] != "--":
        name, eq, inline = args[index].partition("=")
        option = takes.get(name)
        index += 1
        letters = [takes.get(f"-{c}") for c in name[1:]] if option is None and not name.startswith("--") else []
        if len(letters) > 1 and not eq and all(o is not None and o.is_flag for o in letters):  # -qq: -q -q
            for flag in letters:
                assert flag is not None
                if flag.opts[0] in seen:
                    raise click.UsageError(f"{flag.opts[0]}: given twice; give it once")
                seen.add(flag.opts[0])
            continue
        if option is None:
            if args[index - 1] == "" and paths:  # click would make it '.', the current folder
                raise click.UsageError(f"{paths[0].name}: expected a path, got an empty value")
            continue
        if option.opts[0] in seen:
            raise click.UsageError(f"{option.opts[0]}: given twice; give it once")
        seen.add(option.opts[0])
        nargs = 0 if option.is_flag else max(option.nargs, 1)
        values = [inline] if eq else args[index : index + nargs]
        index += 0 if eq else nargs
        kinds = getattr(option.type, "types", None) or [option.type] * len(values)
        for kind, value in zip(kinds, values, strict=False):
            if isinstance(kind, click.types.IntParamType | click.types.FloatParamType):
                _check_number(option.opts[0], value, isinstance(kind, click.types.FloatParamType))
            if isinstance(kind, click.Path) and value == "-":  # click would write a file named '-'
                what = "folder" if option.metavar == "DIR" else "file"
                raise click.UsageError(
                    f"{option.opts[0]} -: standard output is not a {what} to write; give a {what} name"
                )
            if isinstance(kind, click.Path) and not value:  # click would make it '.', the current folder
                wanted = "a folder" if option.metavar == "DIR" else "a file name"
                raise click.UsageError(f"{option.opts[0]}: expected {wanted}, got an empty value")
            if isinstance(kind, click.Path) and option.metavar != "DIR" and value.endswith(("/", os.sep)):
                raise click.UsageError(f"{option.opts[0]} {value}: names a folder; expected a file name")


LONGEST_NUMBER = 30
"""Characters of the longest number an option takes (a longer one is refused, shown cut)."""


def _check_number(flag: str, value: str, real: bool) -> None:
    """Refuse a number click would take but misquote: with digit underscores (Python's int() and float() read
    ``1_0`` as 10; the data files' numbers refuse it too), longer than :data:`LONGEST_NUMBER` characters (echoed
    whole, a 400-digit value made a 450-character line), finite as written but beyond a float (``1e400``,
    which the range check would show as ``inf``), not 0 as written but too close to 0 for a float's full
    precision (``1e-400`` reads as 0, ``1e-320`` as a subnormal that prints as ``9.99988867183e-321``), or not an
    integer as written but read as one (``0.99999999999999999999`` reads as 1.0, which a bound of ``[0, 1)``
    would refuse as ``got 1.0``)."""
    import math
    import re
    import sys

    if not value.isascii() or "_" in value:
        raise click.UsageError(f"{flag} {value}: expected a number in ASCII digits, without '_'")
    if value != value.strip() or value.lstrip().startswith("+"):  # click takes ' 2' and '+2'; --size does not
        raise click.UsageError(f"{flag} {value!r}: expected a number without spaces or a '+' sign")
    if len(value) > LONGEST_NUMBER:
        raise click.UsageError(
            f"{flag} {value[:12]}...: a number of {len(value)} characters; expected at most {LONGEST_NUMBER}"
        )
    try:
        number = float(value)
    except ValueError:
        return  # click's own message says what it expected
    if real and math.isinf(number) and "inf" not in value.lower():
        raise click.UsageError(f"{flag} {value}: beyond the range of a floating-point number")
    if real and abs(number) < sys.float_info.min and re.search("[1-9]", re.split("[eE]", value)[0]):
        raise click.UsageError(f"{flag} {value}: too close to 0 for a floating-point number")
    if real and number.is_integer() and not _integral(value):
        raise click.UsageError(f"{flag} {value}: rounds to {number + 0.0:.17g} as a floating-point number")


def _integral(value: str) -> bool:
    """Whether the number ``value`` is an integer as written (``1``, ``1.0``, ``1e2``; not ``0.99999999999999999999``,
    which a float reads as 1): decimal arithmetic, exact on the digits given."""
    from decimal import Decimal, InvalidOperation

    try:
        exact = Decimal(value)
    except InvalidOperation:
        return True  # click's own message says what it expected
    return not exact.is_finite() or exact == exact.to_integral_value()


def _invoked(ctx: Any) -> click.Command | None:
    """The subcommand being run (its parameters name the flags a library message maps to)."""
    name = ctx.invoked_subcommand or (ctx.protected_args[0] if ctx.protected_args else None)
    return ctx.command.get_command(ctx, name) if name else None


def _argument_help(command: click.Command, function: Any) -> None:
    """Give the positional arguments their help and metavar back in the help panel: click 8.5's Argument sets
    ``help`` to None after typer has set it, and typer's panel shows a required argument's type name (TEXT)
    where its metavar spells the argument's name."""
    if function is None:
        return
    for param in command.params:
        if not isinstance(param, click.Argument) or param.name is None:
            continue
        annotation = function.__annotations__.get(param.name)
        if isinstance(annotation, str):  # postponed (PEP 563): evaluate this one annotation only
            annotation = eval(annotation, function.__globals__)  # the module's own annotation text
        for info in getattr(annotation, "__metadata__", ()):
            if getattr(info, "help", None) and not getattr(param, "help", None):
                param.help = info.help
        if param.metavar and param.type is click.STRING:
            named = click.types.StringParamType()
            named.name = param.metavar.strip(".")
            param.type = named


class _WholeWrites(io.RawIOBase):
    """File descriptor ``fd``, written whole: a pipe whose reader leaves partway through a write makes the rest
    of it raise :class:`BrokenPipeError`. (A plain ``sys.stdout`` returns the first part's length from its buffer
    and drops the rest without an error, so a run cut short by ``| head -c 10`` would exit 0.)"""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        done = 0
        try:
            while done < len(view):
                done += os.write(self._fd, view[done:])
        except BrokenPipeError:
            raise
        except OSError as exc:  # a full disk behind '> out.txt': the error names stdout (see _Group.invoke)
            raise OSError(exc.errno, exc.strerror, "stdout") from None
        return done


def _whole_writes(stream: Any) -> Any:
    """``stream`` (the process's stdout) as a text stream over :class:`_WholeWrites`, with its encoding, error
    handler and line buffering; any other stream (a test runner's capture) as it is."""
    if sys.__stdout__ is None or stream is not sys.__stdout__:
        return stream
    try:
        fd = stream.fileno()
        stream.flush()
    except (OSError, ValueError, AttributeError):
        return stream
    raw = io.BufferedWriter(_WholeWrites(fd))
    return io.TextIOWrapper(raw, encoding=stream.encoding, errors=stream.errors, line_buffering=stream.line_buffering)


def _quiet_broken_pipe() -> NoReturn:
    """The reader of stdout has gone: exit silently with :data:`EXIT_BROKEN_PIPE`; stdout is pointed at the null
    device so that the final flush at exit does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # not a real file (a test's capture): nothing to flush
        pass
    raise typer.Exit(EXIT_BROKEN_PIPE) from None


def _usage_error(exc: click.UsageError) -> NoReturn:
    if isinstance(exc, click.exceptions.NoArgsIsHelpError) and not exc.format_message().strip():
        raise typer.Exit(exc.exit_code) from None  # the help is printed already (typer prints it itself)
    where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
    message = cut_words(" ".join(_usage_text(exc).split()))  # click quotes a value whole: --format c<5000>
    _say_error(f"Error: {message}{where}")
    raise typer.Exit(exc.exit_code) from None


def _usage_text(exc: click.UsageError) -> str:
    """click's message about an option in the form of the others, ``<flag>: <reason>``: ``--coverage: 'x' is not
    a valid float``, ``--resize: requires an argument``, ``--bogus: no such option; did you mean '--out'?``."""
    if isinstance(exc, click.NoSuchOption):
        maybe = " or ".join(repr(p) for p in exc.possibilities or ())
        return f"{exc.option_name}: no such option" + (f"; did you mean {maybe}?" if maybe else "")
    if isinstance(exc, click.BadOptionUsage):
        return f"{exc.option_name}: {exc.message.removeprefix(f'Option {exc.option_name!r} ').rstrip('.')}"
    if type(exc) is click.BadParameter and isinstance(exc.param, click.Option):
        return f"{exc.param.opts[0]}: {exc.message.rstrip('.')}"
    return exc.format_message()


def _say_error(line: str) -> None:
    """Print the ``Error:`` line on stderr; when it cannot be written (stderr full or closed), the exit code stays
    the error's: stderr is pointed at the null device, so that the final flush at exit does not fail again."""
    try:
        typer.echo(line, err=True)
        if sys.stderr is not None:
            sys.stderr.flush()
    except (OSError, ValueError):
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stderr.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):  # not a real file (a test's capture)
            pass


app = typer.Typer(
    cls=_Group,
    name="scalematch",
    help="Match a CNN's feature maps to the objects in a detection dataset.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings=CONTEXT,
)
_COMMANDS: tuple[tuple[str, Any], ...] = (
    ("profile", profile_cmd.profile), ("backbones", profile_cmd.backbones), ("stats", stats_cmd.stats),
    ("recommend", recommend_cmd.recommend), ("explain", explain_cmd.explain), ("erf", erf_cmd.erf),
)  # fmt: skip
for _name, _command in _COMMANDS:
    app.command(_name, context_settings=CONTEXT)(_command)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"scalematch {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Match a CNN's feature maps to the objects in a detection dataset."""


def main(prog_name: str = "scalematch") -> None:
    """The console command (``scalematch``, ``python -m scalematch``): the app in a process of its own, whose
    allocator may keep freed memory and whose numba needs no BLAS (a library, or a test runner calling the app,
    keeps its host's settings: :func:`scalematch.pool.own_process`)."""
    own_process()
    try:
        app(prog_name=prog_name)
    except SystemExit as done:  # (typer's way to end every run, a successful one included)
        finish()  # worker processes left to end while the command printed its results
        _leave(done)
    finally:
        finish()


def _leave(done: SystemExit) -> NoReturn:
    """End the console command's process at once with ``done``'s exit code, once its output is flushed: every file
    it wrote is closed already and its worker processes have ended, so the interpreter's teardown (freeing each
    object of a large run one by one, numba's compiled code) would only add time, 0.2-0.3 s on train2017-sized
    data. When a stream cannot be flushed, or the code is not a number, the interpreter ends it as usual."""
    code = 0 if done.code is None else done.code
    if not isinstance(code, int):
        raise done
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            raise done from None
    os._exit(code)
