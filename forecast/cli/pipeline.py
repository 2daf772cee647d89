"""``forecast run`` and ``forecast demo``: the whole pipeline, stored and published."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from forecast.cli._app import app, handle_errors, out_console, report_formats, reporter, settings
from forecast.cli.ops import BackendOpt, SchedulerOpt
from forecast.config import Settings, check_folder, check_paths
from forecast.data.ingest import ingest_file
from forecast.data.warehouse import Warehouse
from forecast.errors import DataError
from forecast.logs import json_log

if TYPE_CHECKING:  # the pipeline pulls in the engine and matplotlib: import on use
    from forecast.publish import Published

DEMO_DATA = Path(__file__).resolve().parents[2] / "datasets" / "demo_sales.csv"


def _summary(pub: Published, elapsed: float) -> None:
    r = pub.result
    n_nodes = len(r.nodes)
    n_bottom = int(
        (r.nodes["level"] == "province/category/domestic").sum()
        + (r.nodes["level"] == "province/category/export").sum()
    )
    pdfs = [f for f in pub.report_files if f.suffix == ".pdf"]
    csvs = [f for f in pub.report_files if f.suffix == ".csv"]
    # One line per fact, unwrapped: under cron a wrap at 80 columns split sentences.
    out_console.print(
        f"Run {r.run_id}: {n_nodes} series ({n_bottom} province x category x market), "
        f"{r.horizon} periods ahead from {r.last_period}; reconciliation: "
        f"{r.reconcile_method.split(' — ')[0]}; {elapsed:.0f} s.",
        highlight=False,
        soft_wrap=True,
    )
    timing = ", ".join(f"{k} {v:.1f} s" for k, v in pub.durations.items())
    out_console.print(f"Stages: {timing}", highlight=False, soft_wrap=True)
    if r.synthetic:
        out_console.print(
            "Data: synthetic demonstration data (labelled on every report page).", soft_wrap=True
        )
    out_console.print(
        f"Reports: {pub.reports_dir}/ ({len(pdfs)} PDF, {len(csvs)} CSV)",
        highlight=False,
        soft_wrap=True,
    )
    national = pub.reports_dir / "national.pdf"
    if national.exists():
        out_console.print(f"National outlook: {national}", highlight=False, soft_wrap=True)
    out_console.print(f"Run record: {pub.run_dir}/manifest.json", highlight=False, soft_wrap=True)


JobsOpt = Annotated[
    int | None, typer.Option("--jobs", "-j", help="Worker processes (-1 = all cores).")
]
LangOpt = Annotated[
    str | None,
    typer.Option(
        "--lang", help="Report language: vi or en (default: the lang setting, vi if not set)."
    ),
]
FormatOpt = Annotated[str, typer.Option("--format", help="Report formats: pdf, csv or pdf,csv.")]


@app.command("run")
@handle_errors
def run(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="Use the warehouse as of a batch id or UTC time (YYYY-MM-DD[THH:MM])."
        ),
    ] = None,
    horizon: Annotated[
        int | None,
        typer.Option(
            "--horizon",
            min=1,
            help="Periods to forecast (default: the horizon setting, 12 unless configured).",
        ),
    ] = None,
    models: Annotated[
        str | None, typer.Option("--models", help="Candidate models, comma-separated.")
    ] = None,
    reconcile: Annotated[
        str | None,
        typer.Option(
            "--reconcile",
            help="auto (by backtest), base, bottom_up, top_down, mint_shrink or wls_var.",
        ),
    ] = None,
    jobs: JobsOpt = None,
    lang: LangOpt = None,
    fmt: FormatOpt = "pdf,csv",
    warehouse: Annotated[Path | None, typer.Option("--warehouse", help="Warehouse file.")] = None,
    backend: BackendOpt = None,
    scheduler: SchedulerOpt = None,
) -> None:
    """Forecast every series in the warehouse, reconcile, write reports and publish the run.

    Example: forecast run --jobs 2
    """
    t0 = time.monotonic()
    cfg = settings(
        horizon=horizon,
        models=models.split(",") if models else None,
        reconcile=reconcile,
        jobs=jobs,
        lang=lang,
        warehouse=warehouse,
        backend=backend.value if backend else None,
        scheduler=scheduler,
    )
    batch_or_time: int | str | None = int(as_of) if as_of and as_of.isdigit() else as_of
    # Every path the run writes, before any work: a reports_dir that is a file must not
    # be found only after the forecast.
    check_paths(cfg, ("log_file", "models_dir", "reports_dir", "warehouse"))
    from forecast.engine import configured_models

    configured_models(cfg)  # an unknown model name: exit 2 before taking the lock
    with json_log(cfg.log_file):
        from forecast.publish import locked_run_and_publish

        pub = locked_run_and_publish(
            cfg, as_of=batch_or_time, formats=report_formats(fmt), reporter=reporter()
        )
    _summary(pub, time.monotonic() - t0)


@app.command("demo")
@handle_errors
def demo(
    workspace: Annotated[
        Path, typer.Option("--workspace", help="Folder for the demo's warehouse, runs and reports.")
    ] = Path("workspace/demo"),
    data: Annotated[Path, typer.Option("--data", help="Demo CSV to load.")] = DEMO_DATA,
    jobs: JobsOpt = None,
    lang: LangOpt = None,
    fmt: FormatOpt = "pdf,csv",
) -> None:
    """Load the bundled synthetic demo data into a fresh warehouse and run everything.

    Writes the national, 6 regional and 34 provincial outlooks (PDF and CSV) and prints
    where they are. The data are synthetic and every report page says so.
    """
    t0 = time.monotonic()
    if not data.exists():
        raise DataError(
            f"Demo data not found at {data}. Regenerate it with "
            "'python datasets/generate_demo.py' or pass --data PATH."
        )
    base = settings(jobs=jobs, lang=lang)
    check_folder(workspace, f"--workspace folder {str(workspace)!r}", "Change --workspace")
    cfg: Settings = base.replace(
        warehouse=workspace / "warehouse.duckdb",
        models_dir=workspace / "models",
        reports_dir=workspace / "reports",
        origin="the --workspace option",
    )
    check_paths(cfg, ("models_dir", "reports_dir", "warehouse"))
    from forecast.engine import configured_models

    configured_models(cfg)  # an unknown model name: exit 2 before the warehouse is replaced
    for leftover in (cfg.warehouse, cfg.warehouse.with_suffix(".duckdb.wal")):
        leftover.unlink(missing_ok=True)  # a fresh warehouse every time
    from forecast.pipeline import SYNTHETIC_LABEL
    from forecast.publish import locked_run_and_publish

    with Warehouse(cfg.warehouse) as wh:
        res = ingest_file(wh, data, source=SYNTHETIC_LABEL)
    out_console.print(
        f"Loaded {res.rows} rows of synthetic demo data into {cfg.warehouse}", highlight=False
    )
    pub = locked_run_and_publish(
        cfg, formats=report_formats(fmt), reporter=reporter(), command="forecast demo"
    )
    _summary(pub, time.monotonic() - t0)
