"""``forecast ingest`` and ``forecast data show``: load files into the warehouse, inspect it."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.text import Text

from forecast.cli._app import app, err_console, handle_errors, reporter, settings
from forecast.config import check_paths
from forecast.data.ingest import ingest_file
from forecast.data.warehouse import Warehouse
from forecast.errors import DataError
from forecast.textutil import printable

data_app = typer.Typer(
    help="Inspect the warehouse: batches (vintages) and what they hold.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(data_app, name="data")


class LayoutChoice(StrEnum):
    """Table layout of an input file."""

    auto = "auto"
    long = "long"
    wide = "wide"


WarehouseOption = Annotated[
    Path | None,
    typer.Option(
        "--warehouse",
        help="DuckDB warehouse file. Default: setting 'warehouse' (data/warehouse.duckdb).",
    ),
]


@app.command("ingest")
@handle_errors
def ingest(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="CSV/TSV (optionally .gz), XLSX or Parquet files with sales data.",
            show_default=False,
        ),
    ],
    layout: Annotated[
        LayoutChoice,
        typer.Option(
            "--layout",
            help="long: one row per observation; wide: one column per period; "
            "auto: detect from the header.",
        ),
    ] = LayoutChoice.auto,
    source: Annotated[
        str | None,
        typer.Option("--source", help="Where the data came from (kept with each batch)."),
    ] = None,
    sheet: Annotated[
        str | None,
        typer.Option("--sheet", help="XLSX sheet to read. Default: the first visible sheet."),
    ] = None,
    warehouse: WarehouseOption = None,
) -> None:
    """Validate sales data files and store each as a batch in the warehouse.

    Each file is checked against the data contract (see README, "Data contract") and
    stored in its own transaction: a file with any problem stores nothing, and every
    problem in it is listed with row, column and a fix. Re-ingesting a file already
    stored changes nothing; a file that restates earlier periods becomes a new vintage.
    Exits with 65 if any file was rejected.

    Example: forecast ingest sales_2024.xlsx exports.csv --source "Sở Công Thương Huế"
    """
    cfg = settings(warehouse=warehouse)
    check_paths(cfg, ("warehouse",))
    path = cfg.warehouse
    rejected: list[str] = []
    with Warehouse(path) as wh, reporter().stage("ingest", total=len(files)) as advance:
        for file in files:
            try:
                result = ingest_file(wh, file, layout=layout.value, source=source, sheet=sheet)
            except DataError as exc:
                rejected.append(file.name)
                err_console.print(
                    Text.assemble(
                        ("Error: ", "bold red"),
                        f"{printable(file.name)}: rejected, nothing stored.\n",
                        str(exc),
                    ),
                    soft_wrap=True,
                )
            else:
                typer.echo(result.describe())
                for warning in result.warnings:
                    err_console.print(
                        Text.assemble(
                            ("Warning: ", "yellow"), printable(f"{file.name}: {warning}")
                        ),
                        soft_wrap=True,
                    )
            advance(1)
    if rejected:
        err_console.print(
            Text(
                f"{len(rejected)} of {len(files)} file(s) rejected: "
                f"{printable(', '.join(rejected))}."
            ),
            soft_wrap=True,
        )
        raise typer.Exit(DataError.exit_code)


@data_app.command("show")
@handle_errors
def show(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Show the state at a batch id (e.g. 3) or UTC time (2025-06-30 or "
            "2025-06-30T12:00). Default: latest.",
        ),
    ] = None,
    notes: Annotated[
        bool, typer.Option("--notes", help="Also list the warnings recorded with each batch.")
    ] = False,
    warehouse: WarehouseOption = None,
) -> None:
    """List the batches (vintages) in the warehouse and the series they hold."""
    cfg = settings(warehouse=warehouse)
    check_paths(cfg, ("warehouse",), create=False)
    path = cfg.warehouse
    with Warehouse(path, read_only=True) as wh:
        # Before anything is printed: an --as-of before the first batch is one error.
        batch = wh.resolve_as_of(as_of, before_first=False)
        batches = wh.batches()
        shown = batches[batches["batch_id"] <= batch]
        typer.echo(f"Warehouse {path}: {len(batches)} batch(es); state as of batch {batch}.")
        if not shown.empty:
            table = shown.assign(
                ingested_at=shown["ingested_at"].dt.strftime("%Y-%m-%d %H:%M:%S UTC"),
                periods=shown["first_period"] + " … " + shown["last_period"],
                source=shown["source_label"].fillna(""),
            )[["batch_id", "ingested_at", "source_file", "source", "freq", "row_count",
               "periods", "restated_periods", "revised_values"]]  # fmt: skip
            typer.echo("\nBatches:\n" + _frame_text(table))
            if notes:
                for batch_id in shown["batch_id"]:
                    for note in wh.notes(int(batch_id)):
                        typer.echo(f"  batch {batch_id}: {printable(note)}")
        summary = wh.summary(batch)
        if summary.empty:
            typer.echo("\nNo observations yet. Load data with 'forecast ingest FILE'.")
            return
        typer.echo("\nSeries:\n" + _frame_text(summary))
        typer.echo(f"\nState hash: {wh.state_hash(batch)}")


def _frame_text(frame: pd.DataFrame) -> str:
    """A table for the terminal; text from input files has its control characters escaped."""
    # Cells are escaped, not the table's own line breaks (which printable would escape).
    cells = frame.map(lambda v: printable(v) if isinstance(v, str) else v)
    return cells.to_string(index=False)
