"""Operations: ``forecast retrain`` (cron), ``forecast runs list|show|prune``, ``status``."""

from __future__ import annotations

import json
import logging
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from forecast.cli._app import app, handle_errors, report_formats, reporter, settings
from forecast.config import Settings, check_file, check_paths
from forecast.errors import BusyError, DataError, ForecastError
from forecast.lock import LOCK_FILE, Holder, RunLock
from forecast.logs import json_log
from forecast.safeio import atomic_write, csv_bytes, output_errors

log = logging.getLogger("forecast.cli.ops")

runs_app = typer.Typer(
    help="The run registry: list, inspect and prune stored runs.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(runs_app, name="runs")


class BackendChoice(StrEnum):
    """Where fitting and backtests run."""

    local = "local"
    dask = "dask"


BackendOpt = Annotated[
    BackendChoice | None,
    typer.Option(
        "--backend",
        help="local processes (default) or a dask cluster (needs --scheduler; "
        "pip install 'cnnt-forecast[dask]').",
    ),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option("--scheduler", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786."),
]
JobsOpt = Annotated[
    int | None, typer.Option("--jobs", "-j", help="Worker processes (-1 = all cores).")
]


# --------------------------------------------------------------------------- retrain
@app.command("retrain")
@handle_errors
def retrain_cmd(
    inbox: Annotated[
        Path | None,
        typer.Option("--inbox", help="Folder of new sales files. Default: setting 'inbox'."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Retrain and publish even if the data are unchanged.")
    ] = False,
    source: Annotated[
        str | None,
        typer.Option("--source", help="Where the inbox files came from (kept with each batch)."),
    ] = None,
    jobs: JobsOpt = None,
    backend: BackendOpt = None,
    scheduler: SchedulerOpt = None,
    fmt: Annotated[
        str, typer.Option("--format", help="Report formats: pdf, csv or pdf,csv.")
    ] = "pdf,csv",
) -> None:
    """Ingest new inbox files and, if the data changed, retrain, report and publish.

    For cron or a systemd timer: safe to run unattended and repeatedly. Processed files
    move to <inbox>/done/, rejected ones to <inbox>/rejected/ with <name>.errors.txt
    beside them. With nothing new it exits 0 within seconds. A second retrain while one runs
    exits 75. A run killed at any moment leaves the published run intact; the next one
    cleans up. Logs go to stderr and, as JSON lines, to the 'log_file' setting.

    Exit codes: 0 done (or nothing to do), 1 failure, 2 usage or configuration (checked
    before any work), 65 some inbox file rejected (the rest was processed and published),
    74 an output could not be written (disk full, permissions), 75 another run holds the
    lock.
    """
    from forecast.retrain import retrain

    formats = report_formats(fmt)
    cfg = settings(jobs=jobs, backend=backend.value if backend else None, scheduler=scheduler)
    if inbox is not None:
        cfg = cfg.replace(inbox=inbox, origin="the --inbox option")
    # Before any work: the log file here, the run's folders again in retrain() (library).
    check_paths(cfg, ("log_file", "models_dir", "reports_dir", "warehouse"))
    check_paths(cfg, ("inbox",), create=False)  # a missing inbox is only warned about
    with json_log(cfg.log_file):
        t0 = time.monotonic()
        try:
            out = retrain(
                cfg,
                inbox=cfg.inbox,
                force=force,
                source=source,
                formats=formats,
                reporter=reporter(),
            )
        except ForecastError as exc:
            # Another run holding the lock is a routine overlap (exit 75, "not a failure"
            # to systemd): a WARNING, so log-based alerting does not page on it.
            busy = isinstance(exc, BusyError)
            log.log(
                logging.WARNING if busy else logging.ERROR,
                "retrain skipped: %s" if busy else "retrain failed: %s",
                exc,
                extra={
                    "event": "busy" if busy else "failed",
                    "exit_code": exc.exit_code,
                    "error": type(exc).__name__,
                },
            )
            raise
        except KeyboardInterrupt:
            log.warning(
                "retrain interrupted: the published run is kept",
                extra={"event": "interrupted", "exit_code": 130},
            )
            raise
        except Exception:
            log.exception("retrain crashed", extra={"event": "failed", "exit_code": 1})
            raise
        line = out.summary()
        log.info(
            line,
            extra={
                "event": "summary",
                "files": len(out.files),
                "stored": out.count("stored", "revised"),
                "unchanged": out.count("unchanged"),
                "rejected": out.count("rejected"),
                "retrained": out.retrained,
                "run_id": out.published.result.run_id if out.published else None,
                "reason": out.reason,
                "durations_s": out.durations,
                "elapsed_s": round(time.monotonic() - t0, 3),
            },
        )
    typer.echo(line)
    if out.rejected:
        for f in out.rejected:
            typer.echo(
                f"Rejected: {f.name} -> {f.moved_to} (see {f.moved_to.name}.errors.txt)", err=True
            )
        raise typer.Exit(DataError.exit_code)


# --------------------------------------------------------------------------- runs
def _short(text: object, n: int = 12) -> str:
    s = str(text or "")
    return s[:n]


def _fmt_num(value: object, digits: int = 2) -> str:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "-"
    return "-" if v != v else f"{v:.{digits}f}"


def _headline_mase(man: dict[str, Any]) -> str:
    """Backtest MASE of the selected forecasts at the national total level."""
    for row in man.get("backtest", []):
        if row.get("level") == "national/total/total" and row.get("model") == "selected":
            return _fmt_num(row.get("mase"))
    return "-"


#: Columns of ``forecast runs list``.
_RUN_COLUMNS = (
    "",
    "run id",
    "created",
    "last period",
    "series",
    "vintage",
    "MASE nat.",
    "time s",
    "MB",
    "status",
)


@runs_app.command("list")
@handle_errors
def runs_list() -> None:
    """List stored runs, oldest first; '*' marks the published run (LATEST)."""
    from forecast.registry import list_runs

    cfg = settings()
    check_paths(cfg, ("models_dir",), create=False)
    runs = list_runs(cfg.models_dir)
    if not runs:
        typer.echo(f"No runs in {cfg.models_dir}. Create one with: forecast run")
        return
    rows = []
    damaged = [man for man in runs if man["damaged"]]
    for man in runs:
        if man["damaged"]:  # nothing but its id and size is known; the reason follows
            rows.append(
                {
                    **dict.fromkeys(_RUN_COLUMNS, "-"),
                    "": "*" if man["latest"] else "",
                    "run id": man["run_id"],
                    "MB": f"{man['size_bytes'] / 1e6:.1f}",
                    "status": "DAMAGED" + (", published" if man["latest"] else ""),
                }
            )
            continue
        total = sum(float(v) for v in man.get("durations_s", {}).values())
        status = "published" if man["latest"] else "earlier" if man["published"] else "unpublished"
        rows.append(
            {
                "": "*" if man["latest"] else "",
                "run id": man["run_id"],
                "created": str(man.get("created_at", "")),
                "last period": str(man.get("last_period", "")),
                "series": man.get("n_series", "-"),
                "vintage": _short(man.get("data_vintage")),
                "MASE nat.": _headline_mase(man),
                "time s": f"{total:.0f}",
                "MB": f"{man['size_bytes'] / 1e6:.1f}",
                "status": status,
            }
        )
    typer.echo(f"Runs in {cfg.models_dir} (oldest first; * = published, LATEST):")
    typer.echo(pd.DataFrame(rows, columns=list(_RUN_COLUMNS)).to_string(index=False))
    for man in damaged:
        typer.echo(f"Damaged run {man['run_id']}: {man['damaged']}", err=True)
    if damaged:
        typer.echo(
            f"{len(damaged)} damaged run(s): restore them from a backup, or remove them with "
            "'forecast runs prune --keep N' (damaged runs go before any other; the published "
            "run is never removed).",
            err=True,
        )


@runs_app.command("show")
@handle_errors
def runs_show(
    run: Annotated[str, typer.Argument(help="Run id, or 'latest'.")] = "latest",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the whole manifest as JSON.")
    ] = False,
) -> None:
    """Show what a run recorded: data vintage, config, versions, models, accuracy, timings."""
    from forecast.registry import latest_run_id, read_manifest, resolve

    cfg = settings()
    check_paths(cfg, ("models_dir",), create=False)
    rid = resolve(cfg.models_dir, run)
    man = read_manifest(cfg.models_dir, rid)
    if as_json:
        typer.echo(json.dumps(man, indent=2, ensure_ascii=False, sort_keys=True))
        return
    published = " (published)" if latest_run_id(cfg.models_dir) == rid else ""
    lines = [
        f"Run {rid}{published}",
        f"  created {man.get('created_at')}, saved {man.get('saved_at')}",
        f"  data: {man.get('freq')} to {man.get('last_period')}, "
        f"vintage {man.get('data_vintage')}, batches {_span(man.get('batches', []))}"
        + (", synthetic" if man.get("synthetic") else ""),
        f"  series: {man.get('n_series', '-')} ({man.get('n_bottom_series', '-')} bottom), "
        f"horizon {man.get('horizon')}, levels {man.get('levels')}",
        f"  reconciliation: {man.get('reconcile_method')}",
    ]
    cfg_rec = man.get("config", {})
    keys = ("models", "backtest_windows", "backtest_step", "reconcile", "jobs", "backend", "seed")
    lines.append("  config: " + ", ".join(f"{k}={cfg_rec.get(k)}" for k in keys if k in cfg_rec))
    vers = man.get("versions", {})
    lines.append("  versions: " + ", ".join(f"{k} {v}" for k, v in vers.items()))
    chosen = man.get("models_chosen", {})
    lines.append("  models chosen: " + ", ".join(f"{k} {v}" for k, v in chosen.items()))
    durations = man.get("durations_s", {})
    lines.append(
        "  durations (s): " + ", ".join(f"{k} {float(v):.1f}" for k, v in durations.items())
    )
    arts = man.get("artifacts", {})
    if arts:
        lines.append(
            "  artifacts: "
            + ", ".join(f"{k} ({v['bytes'] / 1e6:.1f} MB, {v['type']})" for k, v in arts.items())
        )
    lines.append(f"  tables: {len(man.get('files', {}))} Parquet files, SHA-256 in manifest.json")
    typer.echo("\n".join(lines))
    records = man.get("backtest", [])
    coverage = sorted(
        {k for r in records for k in r if k.startswith("coverage_")},
        key=lambda c: float(c.split("_", 1)[1]),
    )
    rows = [
        {
            "level": r.get("level"),
            "stage": r.get("stage"),
            "series": r.get("n_series") if r.get("n_series") is not None else "-",
            "MASE": _fmt_num(r.get("mase")),
            "sMAPE": _fmt_num(r.get("smape"), 1),
            **{f"cov. {c.split('_', 1)[1]}": _fmt_num(r.get(c)) for c in coverage},
        }
        for r in records
        if r.get("model") == "selected" or r.get("stage") == "reconciled"
    ]
    if rows:
        typer.echo("\nBacktest accuracy by level (selected base forecasts; reconciled):")
        typer.echo(pd.DataFrame(rows).to_string(index=False))


def _span(batches: list[int]) -> str:
    if not batches:
        return "-"
    return f"{min(batches)}–{max(batches)}" if len(batches) > 1 else str(batches[0])


@runs_app.command("prune")
@handle_errors
def runs_prune(
    keep: Annotated[
        int,
        typer.Option(
            "--keep",
            min=0,
            help="Keep the N newest runs, and the published run if it is older (0: only "
            "the published run; a number at or above the count of runs keeps them all).",
        ),
    ],
    keep_reports: Annotated[
        bool, typer.Option("--keep-reports", help="Keep the pruned runs' report folders.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would go.")] = False,
) -> None:
    """Delete all but the newest --keep runs (and their reports); never the published run."""
    from forecast.publish import prepare
    from forecast.registry import list_runs, prune, runs_to_prune

    cfg = settings()
    check_paths(cfg, ("models_dir", "reports_dir"), create=False)
    damaged = {r["run_id"] for r in list_runs(cfg.models_dir) if r["damaged"]}

    def named(ids: list[str]) -> str:
        return ", ".join(f"{rid} (damaged)" if rid in damaged else rid for rid in ids)

    if dry_run:
        # The same selection prune() applies, so the listing cannot drift from the deletion.
        gone = runs_to_prune(cfg.models_dir, keep)
        typer.echo(f"Would remove {len(gone)} run(s): {named(gone) or 'none'}")
        return
    with RunLock(cfg.models_dir, command="forecast runs prune"):
        prepare(cfg)
        with output_errors(f"the pruned runs in {cfg.models_dir}", action="delete"):
            gone = prune(
                cfg.models_dir, keep, reports_dir=None if keep_reports else cfg.reports_dir
            )
    typer.echo(f"Removed {len(gone)} run(s){': ' + named(gone) if gone else ''}.")
    left = sorted(damaged - set(gone))
    if left:
        typer.echo(
            f"Damaged run(s) kept: {', '.join(left)} (the published run, or within --keep); "
            "restore them from a backup, or prune with a smaller --keep.",
            err=True,
        )


# --------------------------------------------------------------------------- status
def current_actuals(cfg: Settings) -> pd.DataFrame:
    """Actuals of every hierarchy node from the warehouse's latest state."""
    from forecast.data.warehouse import Warehouse
    from forecast.hierarchy import build_hierarchy

    with Warehouse(cfg.warehouse, read_only=True) as wh:
        obs = wh.observations()
    if obs.empty:
        return pd.DataFrame(columns=["node_id", "period", "value"])
    return build_hierarchy(obs).history


@app.command("status")
@handle_errors
def status(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="CSV of the monitoring table. Default: <reports_dir>/monitoring.csv."
        ),
    ] = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="Print every group, not only levels and alerts.")
    ] = False,
) -> None:
    """Forecast vs actual: realised accuracy of published runs, with alerts.

    For every published run whose forecast periods now have actuals in the warehouse:
    MASE and the coverage of each of the run's interval levels (80%/95% by default)
    by level, by category and overall, beside the run's backtest. Alert when
    MASE > alert_mase_ratio x backtest (and > 1), or coverage falls more than
    alert_coverage_margin points below nominal. Writes the whole table as CSV.
    """
    from forecast.monitoring import Thresholds, alerts, monitor
    from forecast.registry import latest_run_id, read_manifest

    cfg = settings()
    check_paths(cfg, ("models_dir", "warehouse"), create=False)
    target = out if out is not None else cfg.reports_dir / "monitoring.csv"
    if out is not None:
        check_file(out, f"--out file {str(out)!r}", "Change --out", create=False)
    rid = latest_run_id(cfg.models_dir)
    lock_path = cfg.models_dir / LOCK_FILE
    holder = Holder.read(lock_path) if lock_path.exists() else None
    busy = holder is not None and holder.alive()
    if rid is None:
        typer.echo(f"No published run in {cfg.models_dir}. Create one with: forecast run")
    else:
        man = read_manifest(cfg.models_dir, rid)
        typer.echo(
            f"Published run {rid}: created {man.get('created_at')}, data to "
            f"{man.get('last_period')}, vintage {_short(man.get('data_vintage'))}."
        )
    typer.echo(f"Run lock: {'held by ' + holder.describe() if busy and holder else 'free'}.")
    if rid is None:
        return
    if out is None:  # before reading the warehouse and the runs
        check_paths(cfg, ("reports_dir",))
    table = monitor(cfg.models_dir, current_actuals(cfg), thresholds=Thresholds.from_settings(cfg))
    elsewhere = "--out" if out is not None else "the reports_dir setting (FORECAST_REPORTS_DIR)"
    with output_errors(f"the monitoring table {target}", elsewhere):
        atomic_write(target, csv_bytes(table, float_format="%.4f", bom=True))
    if table.empty:
        typer.echo(
            "No published run has actuals for its forecast periods yet; nothing to monitor. "
            f"(Empty table written to {target}.)"
        )
        return
    shown = table if show_all else table[(table["by"] != "category") | table["alert"]]
    _print_monitoring(shown)
    hits = alerts(table)
    typer.echo(
        f"{len(hits)} alert(s) in {len(table)} group(s) of {table['run_id'].nunique()} run(s). "
        f"Table: {target}"
    )
    for r in hits.itertuples(index=False):
        typer.echo(f"ALERT run {r.run_id} {r.by} {r.key or 'all'}: {r.alert_reason}", err=True)


def _print_monitoring(frame: pd.DataFrame) -> None:
    levels = sorted(int(c.split("_")[1]) for c in frame.columns if c.startswith("coverage_"))
    rows = []
    for r in frame.to_dict(orient="records"):
        row = {
            "run": r["run_id"],
            "from": r["origin"],
            "group": f"{r['by']}: {r['key'] or 'all'}",
            "series": r["n_series"],
            "periods": f"{r['first_period']}..{r['last_period']}",
            "MASE (backtest)": f"{_fmt_num(r['mase'])} ({_fmt_num(r['backtest_mase'])})",
        }
        for lv in levels:
            row[f"cov. {lv}"] = (
                f"{_pct(r.get(f'coverage_{lv}'))} ({_pct(r.get(f'backtest_coverage_{lv}'))})"
            )
        row["alert"] = "ALERT" if r["alert"] else ""
        rows.append(row)
    typer.echo("Realised accuracy of published runs (the run's backtest in brackets):")
    typer.echo(pd.DataFrame(rows).to_string(index=False))


def _pct(value: object) -> str:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "-"
    return "-" if v != v else f"{100 * v:.0f}%"
