"""The typer application, global options and the error-to-exit-code boundary."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from forecast import __version__
from forecast.config import Settings, load_settings
from forecast.errors import ForecastError
from forecast.progress import LogReporter, Reporter, RichReporter

F = TypeVar("F", bound=Callable[..., Any])

app = typer.Typer(
    name="forecast",
    help=(
        "Market outlook forecasts for Vietnam's rural industry products (CNNT): "
        "ingest sales data, forecast, reconcile across provinces and regions, write reports."
    ),
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
    add_completion=False,
)

err_console = Console(stderr=True)
out_console = Console()


class _State:
    config_file: Path | None = None
    verbose: int = 0


state = _State()


def _version(value: bool) -> None:
    if value:
        typer.echo(f"forecast {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    config: Annotated[
        Path | None,
        typer.Option("--config", help="Settings file (TOML). Default: ./forecast.toml if present."),
    ] = None,
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="More log output.")
    ] = 0,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    state.config_file = config
    state.verbose = verbose
    setup_logging(verbose)


def setup_logging(verbose: int) -> None:
    """Human log lines on stderr; INFO by default, DEBUG with ``-v``."""
    level = logging.DEBUG if verbose else logging.INFO
    root = logging.getLogger("forecast")
    root.setLevel(level)
    if not any(getattr(h, "_forecast_cli", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
        handler._forecast_cli = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    for h in root.handlers:
        h.setLevel(level)


def settings(**flags: Any) -> Settings:
    """Settings with CLI ``flags`` applied on top of file and environment."""
    return load_settings(state.config_file, **flags)


def reporter() -> Reporter:
    """A rich progress bar on an interactive terminal, plain log lines otherwise."""
    if err_console.is_terminal:
        return RichReporter(err_console)
    return LogReporter()


#: Exit code after Ctrl-C (SIGINT), as shells report it (128 + 2).
INTERRUPTED = 130


def handle_errors(func: F) -> F:
    """Turn :class:`ForecastError` into a message on stderr and its exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ForecastError as exc:
            err_console.print(Text.assemble(("Error: ", "bold red"), str(exc)), soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err_console.print(
                Text.assemble(
                    ("Interrupted: ", "bold red"),
                    "the step under way was abandoned. What was stored or published before "
                    "it is kept, and a warehouse write is all or nothing.",
                ),
                soft_wrap=True,
            )
            raise typer.Exit(INTERRUPTED) from None

    return wrapper  # type: ignore[return-value]


def main() -> None:
    """Console-script entry point."""
    app()


#: Report formats ``--format`` accepts (kept here so that parsing the option needs no
#: import of the report package).
REPORT_FORMATS = ("pdf", "csv")


def report_formats(value: str) -> tuple[str, ...]:
    """Parse ``--format`` (``pdf``, ``csv`` or ``pdf,csv``) or raise a usage error."""
    chosen = tuple(v.strip().lower() for v in value.split(",") if v.strip())
    if not chosen or any(v not in REPORT_FORMATS for v in chosen):
        raise typer.BadParameter(
            f"use pdf, csv or pdf,csv; got {value!r}.", param_hint="'--format'"
        )
    return chosen
