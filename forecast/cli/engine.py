"""``forecast predict-csv`` and ``forecast backtest``: the engine on a long table (no
warehouse), or the backtest of the warehouse's hierarchy per level."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pandas as pd
import typer
from rich import box
from rich.measure import Measurement
from rich.table import Table

from forecast.cli._app import app, err_console, handle_errors, out_console, reporter, settings
from forecast.config import check_paths
from forecast.data.long_table import read_long_table
from forecast.date_labels import format_ds
from forecast.errors import DataError, Problem, WarehouseNotFoundError
from forecast.panel import Panel, period_freq
from forecast.safeio import atomic_write, csv_bytes, neutralise, output_errors, ten_digits

if TYPE_CHECKING:  # the engine pulls in statsforecast and scikit-learn: import on use
    from forecast.engine import EngineConfig, EngineResult

LevelOpt = Annotated[
    list[int] | None,
    typer.Option(
        "--level",
        help="Interval level in whole percent (1-99); repeat for several (default 80 and 95).",
    ),
]
ModelsOpt = Annotated[
    str | None,
    typer.Option("--models", help="Comma-separated candidates, e.g. 'ets,theta,gbm' or 'default'."),
]
JobsOpt = Annotated[
    int | None, typer.Option("--jobs", "-j", help="Worker processes (-1 = all cores).")
]
WindowsOpt = Annotated[
    int | None,
    typer.Option("--windows", help="Backtest windows (default: 1 for 500+ series, else 3)."),
]
SeedOpt = Annotated[
    int | None,
    typer.Option(
        "--seed", min=0, help="Root random seed (default: the seed setting, FORECAST_SEED)."
    ),
]


SheetOpt = Annotated[
    str | None,
    typer.Option("--sheet", help="XLSX input: the sheet to read (default: the first visible)."),
]


def _read_input(path: Path, sheet: str | None) -> pd.DataFrame:
    """The long table of ``path``; what the reader decided is said on stderr."""
    table = read_long_table(path, sheet=sheet)
    for warning in table.warnings:
        err_console.print(f"Note: {warning}", highlight=False, soft_wrap=True)
    return table.frame


def _check_freq(freq: str | None) -> None:
    """A ``--freq`` the engine cannot use is a usage error (exit 2), found before any work."""
    if freq is None:
        return
    if freq.strip().upper().split("-")[0] in ("B", "C", "BD", "BH", "CBH"):
        raise typer.BadParameter(
            f"business-day data ({freq!r}) is not supported: the engine forecasts calendar "
            "periods; sum the days into weeks or months first (then --freq W or MS).",
            param_hint="'--freq'",
        )
    try:
        period_freq(freq)
    except DataError as exc:
        raise typer.BadParameter(str(exc), param_hint="'--freq'") from None


def _check_output(
    path: Path | None,
    option: str,
    *,
    source: Path,
    folder: bool = False,
    source_is: str = "the input file",
) -> None:
    """Refuse, before any work, an output path that cannot be written: a folder where a
    file goes (or a file where a folder goes), a parent that is a file, or the ``source``
    read (``source_is`` says what it is)."""
    if path is None:
        return
    if path.exists() and source.exists() and path.resolve() == source.resolve():
        raise typer.BadParameter(
            f"{path} is {source_is}; write the results elsewhere.", param_hint=f"'{option}'"
        )
    if path.exists() and path.is_dir() != folder:
        what = "a folder" if path.is_dir() else "a file"
        raise typer.BadParameter(
            f"{path} is {what}; give a {'folder' if folder else 'file'} path.",
            param_hint=f"'{option}'",
        )
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise typer.BadParameter(
                    f"{parent} is a file, so {path} cannot be written under it.",
                    param_hint=f"'{option}'",
                )
            break


def _check_models(models: str | None) -> None:
    """An empty ``--models`` is a usage error (exit 2), found before any work."""
    if models is not None and not models.replace(",", "").strip():
        raise typer.BadParameter(
            f"give at least one model name (e.g. default or theta,ets); got {models!r}. "
            "'forecast models' lists them.",
            param_hint="'--models'",
        )


def _config(
    horizon: int | None,
    levels: list[int] | None,
    models: str | None,
    jobs: int | None,
    windows: int | None,
    seed: int | None,
) -> EngineConfig:
    from forecast.engine import EngineConfig, configured_models

    _check_models(models)
    s = settings(jobs=jobs, seed=seed)
    return EngineConfig(
        horizon=horizon if horizon is not None else s.horizon,
        levels=tuple(sorted(set(levels))) if levels else s.levels,
        models=tuple(models.split(",")) if models else configured_models(s),
        n_windows=windows,
        n_jobs=s.jobs,
        backend=s.backend,
        scheduler=s.scheduler,
        seed=s.seed,
    )


@app.command("predict-csv")
@handle_errors
def predict_csv(
    input: Annotated[
        Path,
        typer.Argument(help="Long table with columns unique_id,ds,y (CSV, TSV, XLSX or Parquet)."),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write the forecasts CSV.")
    ],
    horizon: Annotated[int, typer.Option("--horizon", "-h", min=1, help="Periods to forecast.")],
    season_length: Annotated[
        int | None,
        typer.Option(
            "--season-length", min=1, help="Periods per season (default from the frequency)."
        ),
    ] = None,
    freq: Annotated[
        str | None, typer.Option("--freq", help="Pandas frequency of ds, e.g. MS or QS (inferred).")
    ] = None,
    level: LevelOpt = None,
    models: ModelsOpt = None,
    jobs: JobsOpt = None,
    windows: WindowsOpt = None,
    seed: SeedOpt = None,
    sheet: SheetOpt = None,
    details: Annotated[
        Path | None,
        typer.Option("--details", help="Folder for the backtest, selection and leaderboard CSVs."),
    ] = None,
) -> None:
    """Forecast every series of a long CSV (no warehouse needed).

    Writes one row per series and future period with columns unique_id, ds, yhat, then
    lo_L and hi_L for each --level L (lo_80, hi_80, lo_95, hi_95 by default), and model.

    Example: forecast predict-csv sales.csv --horizon 12 --output forecasts.csv
    """
    t0 = time.monotonic()
    cfg = _config(horizon, level, models, jobs, windows, seed)
    _check_freq(freq)
    _check_output(output, "--output", source=input)
    _check_output(details, "--details", source=input, folder=True)
    frame = _read_input(input, sheet)
    panel = Panel.from_long(frame, freq=freq, season_length=season_length, source=input.name)
    panel.check_horizon(horizon)
    from forecast.engine import run_engine

    result = run_engine(panel, cfg, reporter=reporter())
    quoted = [uid for uid in panel.ids if neutralise(uid) != uid]
    if quoted:
        result = dataclasses.replace(result, notes=(*result.notes, _quoted_note(quoted)))
    out = result.forecasts.copy()
    out["ds"] = format_ds(out, panel, frame)  # from_long checked the columns
    with output_errors(f"the forecasts {output}", "--output"):
        atomic_write(output, csv_bytes(out, float_format=ten_digits))
    if details is not None:
        with output_errors(f"the details in {details}", "--details"):
            _write_details(result, details, panel, frame)
    elapsed = time.monotonic() - t0
    out_console.print(
        f"Forecast {len(panel)} series x {horizon} periods in {elapsed:.1f} s -> {output}",
        highlight=False,
    )
    _print_leaderboard(
        result, limit=8, more_in=f"{details / 'leaderboard.csv'}" if details else "--details DIR"
    )
    _print_notes(result, "all in notes.txt of --details" if details else "--details DIR keeps all")


def _quoted_note(ids: list[str]) -> str:
    """Say that the output CSVs write these ids with a leading ``'`` (formula guard)."""
    shown = ", ".join(repr(uid) for uid in ids[:3]) + (" ..." if len(ids) > 3 else "")
    return (
        f"{len(ids)} unique_id(s) ({shown}) start with =, +, - or @ and are written with a "
        "leading ' in the output CSVs, so that spreadsheets show them as text instead of "
        "running them as formulas; strip it to join with the input"
    )


#: Notes shown on the console; the rest are counted (all are in ``--details``).
NOTES_SHOWN = 5


def _print_notes(result: EngineResult, where: str) -> None:
    """What the engine noted (gaps filled, failed fits, models left out), on stderr."""
    notes = result.notes
    if not notes:
        return
    err_console.print(f"{len(notes)} note(s) from the engine ({where}):", highlight=False)
    for note in notes[:NOTES_SHOWN]:
        err_console.print(f"  - {note}", highlight=False, soft_wrap=True)
    if len(notes) > NOTES_SHOWN:
        err_console.print(f"  ... and {len(notes) - NOTES_SHOWN} more", highlight=False)


def _write_details(result: EngineResult, folder: Path, panel: Panel, raw: pd.DataFrame) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("backtest", "selection", "leaderboard"):
        frame = getattr(result, name).copy()
        for col in ("ds", "cutoff"):
            if col in frame and isinstance(frame[col].dtype, pd.PeriodDtype):
                # Written as the forecasts' ds are, so the tables join with them and the input.
                frame[col] = format_ds(pd.DataFrame({"ds": frame[col]}), panel, raw).to_numpy()
        atomic_write(folder / f"{name}.csv", csv_bytes(frame, float_format=ten_digits))
    text = "".join(f"{note}\n" for note in result.notes)
    atomic_write(folder / "notes.txt", text.encode("utf-8"))


def _print_wide(table: Table) -> None:
    """Print ``table`` whole: never cut a column (a log line wider than 80 beats a header
    that reads "cov9")."""
    wide = out_console.options.update_width(1000)
    width = Measurement.get(out_console, wide, table).maximum
    console_width = out_console.width
    out_console.width = max(console_width, width)  # print(width=) cannot exceed it
    try:
        out_console.print(table)
    finally:
        out_console.width = console_width


def _print_leaderboard(
    result: EngineResult, limit: int = 20, more_in: str = "the leaderboard CSV"
) -> None:
    """Leaderboard per profile on the terminal, by model name (as ``--models`` takes them)
    so it stays readable at 80 columns (cron logs); ensembles' members in a footnote."""
    from forecast.methods.registry import SPECS  # loaded already by the engine that ran

    lb = result.leaderboard
    if lb.empty:
        return
    table = Table(
        title="Backtest leaderboard (pooled, scaled errors; lower is better)",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    cov = [c for c in lb.columns if c.startswith("coverage_")]
    for c in ["profile", "model", "n_rows", "mase", "rmsse", "smape", "bias", *cov]:
        text = c in ("profile", "model")
        widest = int(lb[c].astype(str).str.len().max()) + (2 if c == "model" else 0)
        table.add_column(
            c.replace("coverage_", "cov"),
            justify="left" if text else "right",
            min_width=widest if text else None,
        )
    members: dict[str, str] = {}
    hidden = 0
    for profile, grp in lb.groupby("profile", sort=False):
        hidden += max(0, len(grp) - limit)
        for _, row in grp.head(limit).iterrows():
            mark = " *" if row["selected"] else ""
            if row["model"] not in SPECS:
                members.setdefault(f"{profile} {row['model']}", str(row["label"]))
            table.add_row(
                str(profile),
                str(row["model"]) + mark,
                str(int(row["n_rows"])),
                *(f"{row[c]:.3f}" for c in ["mase", "rmsse", "smape", "bias"]),
                *("" if pd.isna(row[c]) else f"{row[c]:.3f}" for c in cov),
            )
    _print_wide(table)
    out_console.print("* chosen; coverage is cross-fitted (calibrated on other series).")
    if hidden:
        out_console.print(
            f"The best {limit} per profile are shown; {hidden} more in {more_in}.",
            highlight=False,
        )
    for key, label in members.items():
        out_console.print(f"{key} = {label}", soft_wrap=True)


@app.command("backtest")
@handle_errors
def backtest(
    input: Annotated[
        Path | None,
        typer.Option(
            "--input",
            help="Long table unique_id,ds,y to backtest (CSV, TSV, XLSX, Parquet); without "
            "it, every node of the warehouse's hierarchy, scored per level.",
        ),
    ] = None,
    horizon: Annotated[
        int | None,
        typer.Option(
            "--horizon",
            "-h",
            min=1,
            help="Forecast horizon (default: the horizon setting, 12 unless configured).",
        ),
    ] = None,
    season_length: Annotated[
        int | None,
        typer.Option(
            "--season-length",
            min=1,
            help="With --input: periods per season (default from the frequency).",
        ),
    ] = None,
    freq: Annotated[
        str | None,
        typer.Option("--freq", help="With --input: pandas frequency of ds (inferred)."),
    ] = None,
    level: LevelOpt = None,
    models: ModelsOpt = None,
    jobs: JobsOpt = None,
    windows: Annotated[
        int | None,
        typer.Option(
            "--windows",
            help="Backtest windows (with --input, default 1 for 500+ series, else 3; "
            "without, the backtest_windows setting, 2 unless configured).",
        ),
    ] = None,
    seed: SeedOpt = None,
    sheet: Annotated[
        str | None,
        typer.Option("--sheet", help="With an XLSX --input: the sheet to read (first visible)."),
    ] = None,
    warehouse: Annotated[
        Path | None, typer.Option("--warehouse", help="Warehouse file (without --input).")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Without --input: the warehouse as of a batch id or UTC time "
            "(YYYY-MM-DD[THH:MM]).",
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Leaderboard CSV to write.")
    ] = None,
) -> None:
    """Rolling-origin backtest: leaderboard of every candidate model and ensemble.

    With --input, the series of a long table, per profile. Without it, every node of the
    warehouse's hierarchy as forecast run would backtest it, per level of the hierarchy,
    with every reconciliation method.

    Example: forecast backtest --input sales.csv --horizon 12 --windows 3 -o leaderboard.csv
    """
    if input is None:
        only_input = {"--season-length": season_length, "--freq": freq, "--sheet": sheet}
        for option, given in only_input.items():
            if given is not None:
                raise typer.BadParameter(
                    "only with --input (the warehouse's periods and seasons are known)",
                    param_hint=f"'{option}'",
                )
        _warehouse_backtest(horizon, level, models, jobs, windows, seed, warehouse, as_of, output)
        return
    only_warehouse = {"--warehouse": warehouse, "--as-of": as_of}
    for option, set_ in only_warehouse.items():
        if set_ is not None:
            raise typer.BadParameter(
                "only without --input (it backtests the warehouse)", param_hint=f"'{option}'"
            )
    cfg = _config(horizon, level, models, jobs, windows, seed)
    _check_freq(freq)
    _check_output(output, "--output", source=input)
    panel = Panel.from_long(
        _read_input(input, sheet), freq=freq, season_length=season_length, source=input.name
    )
    from forecast.engine import run_engine

    result = run_engine(panel, cfg, reporter=reporter())
    if not (result.leaderboard["n_rows"] > 0).any():
        from forecast.engine import panel_window_fix

        raise DataError(
            Problem.whole_file(
                input.name,
                f"nothing to backtest at horizon {cfg.horizon}: no series is long enough for "
                f"one window ({cfg.horizon} values to score after those the models train on)",
                panel_window_fix(panel, cfg.horizon, options=True),
            )
        )
    _print_leaderboard(result, more_in=str(output) if output else "the --output CSV")
    shown = min(NOTES_SHOWN, len(result.notes))
    _print_notes(result, f"the first {shown}" if len(result.notes) > shown else "all")
    if output is not None:
        with output_errors(f"the leaderboard {output}", "--output"):
            atomic_write(output, csv_bytes(result.leaderboard, float_format="%.10g"))
        out_console.print(f"Leaderboard written to {output}", highlight=False)


def _warehouse_backtest(
    horizon: int | None,
    level: list[int] | None,
    models: str | None,
    jobs: int | None,
    windows: int | None,
    seed: int | None,
    warehouse: Path | None,
    as_of: str | None,
    output: Path | None,
) -> None:
    """``forecast backtest`` without ``--input``: the warehouse's hierarchy, per level."""
    _check_models(models)
    if windows is not None and windows < 1:
        raise typer.BadParameter(f"at least 1; got {windows}", param_hint="'--windows'")
    cfg = settings(
        horizon=horizon,
        levels=tuple(sorted(set(level))) if level else None,
        models=models.split(",") if models else None,
        jobs=jobs,
        seed=seed,
        warehouse=warehouse,
        backtest_windows=windows,
    )
    check_paths(cfg, ("warehouse",), create=False)
    from forecast.engine import configured_models

    configured_models(cfg)  # an unknown name: exit 2 before the warehouse is read
    if not cfg.warehouse.exists():
        raise WarehouseNotFoundError(
            f"No warehouse at {cfg.warehouse}: without --input, forecast backtest backtests "
            "the warehouse. Ingest data first (forecast ingest FILE...), point --warehouse or "
            "FORECAST_WAREHOUSE at it, or give --input FILE to backtest a long table."
        )
    _check_output(output, "--output", source=cfg.warehouse, source_is="the warehouse")
    from forecast.pipeline import backtest_hierarchy

    batch_or_time: int | str | None = int(as_of) if as_of and as_of.isdigit() else as_of
    result = backtest_hierarchy(cfg, as_of=batch_or_time, reporter=reporter())
    board = result.leaderboard
    if board.empty or not (board["n_series"].fillna(0) > 0).any():
        raise DataError(
            f"Nothing to backtest at horizon {cfg.horizon}: the warehouse {cfg.warehouse} "
            f"holds {len(result.hierarchy.periods)} periods, too few for one window. Use a "
            "shorter --horizon, or ingest more history."
        )
    h = result.hierarchy
    n_windows = result.engine.backtest["cutoff"].nunique()
    out_console.print(
        f"Backtest of {len(result.engine.selection)} series of {cfg.warehouse} "
        f"({len(h.bottom_ids)} bottom), {h.periods[0]} to {h.last_period}: {n_windows} "
        f"window(s) of {cfg.horizon} periods; reconciliation: {result.reconcile_reason}",
        highlight=False,
        soft_wrap=True,
    )
    if result.synthetic:
        out_console.print("Data: synthetic demonstration data.")
    lb = result.engine.leaderboard
    _print_level_leaderboard(board, cfg.levels, dict(zip(lb["label"], lb["model"], strict=True)))
    _print_leaderboard(result.engine, limit=len(lb))  # every row: no other file holds them
    notes = result.engine.notes
    if output is None:
        more = "--output FILE keeps all"
    else:
        notes_file = output.with_name(f"{output.stem}.notes.txt")
        more = f"all in {notes_file}"
    shown = min(NOTES_SHOWN, len(notes))
    _print_notes(result.engine, f"the first {shown}; {more}" if len(notes) > shown else "all")
    if output is not None:
        with output_errors(f"the leaderboard {output}", "--output"):
            atomic_write(output, csv_bytes(board, float_format="%.10g"))
            atomic_write(notes_file, "".join(f"{n}\n" for n in notes).encode("utf-8"))
        out_console.print(
            f"Leaderboard by level written to {output} (engine notes: {notes_file})",
            highlight=False,
            soft_wrap=True,
        )


def _print_level_leaderboard(
    board: pd.DataFrame, levels: tuple[int, ...], names: dict[str, str]
) -> None:
    """One line per level of the hierarchy: the forecasts as chosen, the best candidate
    (by the name ``--models`` takes, from ``names``: label -> name), and every
    reconciliation method (``*`` on the one a run uses)."""
    from forecast.pipeline import UNRECONCILED

    base = board[board["stage"] == "base"]
    rec = board[board["stage"] == "reconciled"]
    methods = list(dict.fromkeys(rec.sort_values("model")["model"]))
    if UNRECONCILED in methods:  # the reference first
        methods.remove(UNRECONCILED)
        methods.insert(0, UNRECONCILED)
    table = Table(
        title="Backtest MASE per level of the hierarchy (lower is better)",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    cov = [lv for lv in levels if f"coverage_{lv}" in base.columns]
    for col in ["level", "series", "selected", *(f"cov{lv}" for lv in cov), "best model"]:
        table.add_column(col, justify="left" if col in ("level", "best model") else "right")
    for m in methods:
        table.add_column("none" if m == UNRECONCILED else m, justify="right")
    for lvl, rows in base.groupby("level", sort=True):
        sel = rows[rows["model"] == "selected"]
        # A candidate scored on only some of the level's series (another profile's) is
        # not comparable: it was spared the rest.
        n_level = int(rows["n_series"].max())
        cands = rows[rows["model"] != "selected"].dropna(subset=["mase"])
        whole = cands[cands["n_series"] == n_level]
        best = (whole if not whole.empty else cands).head(1)  # sorted by MASE
        r = rec[rec["level"] == lvl].set_index("model")
        cells = [
            str(lvl),
            str(n_level),
            _num(sel["mase"].iloc[0]) if not sel.empty else "-",
            *(_num(sel[f"coverage_{lv}"].iloc[0], 2) if not sel.empty else "-" for lv in cov),
            _best_cell(best, names, n_level),
        ]
        for m in methods:
            if m not in r.index:
                cells.append("-")
                continue
            cells.append(_num(r.at[m, "mase"]) + ("*" if bool(r.at[m, "chosen"]) else ""))
        table.add_row(*cells)
    _print_wide(table)
    if methods:
        out_console.print(
            "selected: the forecasts as chosen per series, errors scaled per window; best "
            "model: the best candidate scored on every series of the level, else the best "
            "of those scored on part of it (how many shown); none and the "
            "methods after it: scored as the reconciliation choice scores them (each "
            "node's scale over its history), * the method a run uses.",
            highlight=False,
            soft_wrap=True,
        )


def _best_cell(best: pd.DataFrame, names: dict[str, str], n_level: int) -> str:
    """``ens_mean 0.912``; ``mean 0.861 (1 of 24)`` when scored on part of the level only."""
    if best.empty:
        return "-"
    row = best.iloc[0]
    cell = f"{names.get(row['model'], row['model'])} {_num(row['mase'])}"
    n = int(row["n_series"])
    return cell if n == n_level else f"{cell} ({n} of {n_level})"


def _num(value: object, digits: int = 3) -> str:
    v = float(value)  # type: ignore[arg-type]
    return "-" if v != v else f"{v:.{digits}f}"


@app.command("models")
@handle_errors
def list_models() -> None:
    """List the model names --models takes, what each is, and which sets use it.

    Example: forecast models
    """
    from forecast.methods import registry as reg

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for col in ("name", "shown as", "kind", "sets", "what it is"):
        table.add_column(col, no_wrap=col != "what it is")
    sets = {"D": reg.DEFAULT_MODELS, "S": reg.SHORT_MODELS, "I": reg.INTERMITTENT_MODELS}
    for name, spec in reg.SPECS.items():
        used = "".join(code for code, names in sets.items() if name in names) or "-"
        kind = "global" if spec.is_global else "local"
        table.add_row(name, spec.label, kind, used, spec.description)
    for name in reg.ENSEMBLES:
        rule = "median" if "median" in name else "mean"
        which = (
            "the 3 members with the lowest backtest error" if name.endswith("3") else "all members"
        )
        used = "D" if name.endswith("3") else "DS"  # short series get median and mean
        table.add_row(name, f"{rule.title()}(...)", "ensemble", used, f"{rule} of {which}")
    out_console.print(table)
    out_console.print(
        "Sets: D default (--models default also brings the ensembles; --models ensembles "
        "names the four ensembles), S short series, "
        "I intermittent series; --models chooses the candidates of regular series, and "
        "without default narrows S to the named ones (I only when croston, sba or tsb is "
        "named).\n"
        f"Ensemble members, when among the candidates: {', '.join(reg.ENSEMBLE_MEMBERS)}.",
        highlight=False,
    )
