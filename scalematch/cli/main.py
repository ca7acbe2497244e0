"""The ``scalematch`` command: a typer app whose commands live in one small module each."""

from __future__ import annotations

import os
from typing import Any, NoReturn

import click
import typer
from typer.core import TyperGroup

from scalematch.cli import erf_cmd, explain_cmd, profile_cmd, recommend_cmd, stats_cmd
from scalematch.errors import ScalematchError


class _Group(TyperGroup):
    """Turns every :class:`ScalematchError` and every usage error (unknown option, bad choice, missing
    argument) into one ``Error: ...`` line on stderr and exit code 2, instead of typer's framed box."""

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        """Keeps the arguments as given (``ctx.meta["argv"]``) for the provenance of reports."""
        argv = list(args)
        try:
            ctx = super().make_context(info_name, args, parent=parent, **extra)
            command = self.get_command(ctx, argv[0]) if argv else None
            if command is not None:
                _check_tokens(command, argv[1:])
        except click.UsageError as exc:
            _usage_error(exc)
        ctx.meta["argv"] = argv
        return ctx

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ScalematchError as exc:
            typer.echo(f"Error: {exc}", err=True)
            raise typer.Exit(2) from None
        except click.UsageError as exc:
            _usage_error(exc)


def _check_tokens(command: click.Command, args: list[str]) -> None:
    """Refuses what click would let through without a word: an option given twice (click keeps the last value)
    and a file option whose value ends in '/' (the slash names a folder, but the path drops it)."""
    takes: dict[str, click.Option] = {}
    for param in command.params:
        if isinstance(param, click.Option) and not param.multiple and not param.count:
            takes.update((name, param) for name in (*param.opts, *param.secondary_opts))
    seen: set[str] = set()
    index = 0
    while index < len(args) and args[index] != "--":
        name, eq, inline = args[index].partition("=")
        option = takes.get(name)
        index += 1
        if option is None:
            continue
        if option.opts[0] in seen:
            raise click.UsageError(f"{option.opts[0]}: given twice; give it once")
        seen.add(option.opts[0])
        nargs = 0 if option.is_flag else max(option.nargs, 1)
        values = [inline] if eq else args[index : index + nargs]
        index += 0 if eq else nargs
        kinds = getattr(option.type, "types", None) or [option.type] * len(values)
        for kind, value in zip(kinds, values, strict=False):
            if isinstance(kind, click.Path) and option.metavar != "DIR" and value.endswith(("/", os.sep)):
                raise click.UsageError(f"{option.opts[0]} {value}: names a folder; expected a file name")


def _usage_error(exc: click.UsageError) -> NoReturn:
    where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
    message = " ".join(exc.format_message().split())
    typer.echo(f"Error: {message}{where}", err=True)
    raise typer.Exit(exc.exit_code) from None


app = typer.Typer(
    cls=_Group,
    name="scalematch",
    help="Match a CNN's feature maps to the objects in a detection dataset.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("profile")(profile_cmd.profile)
app.command("backbones")(profile_cmd.backbones)
app.command("stats")(stats_cmd.stats)
app.command("recommend")(recommend_cmd.recommend)
app.command("explain")(explain_cmd.explain)
app.command("erf")(erf_cmd.erf)


def main() -> None:  # pragma: no cover - thin console-script wrapper
    app()
