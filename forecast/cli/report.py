"""``forecast report``: write the PDF bulletins and CSV outlooks of a stored run."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from forecast.cli._app import app, handle_errors, out_console, report_formats, reporter, settings

if TYPE_CHECKING:
    from forecast.config import Settings
    from forecast.results import RunResult


class ScopeChoice(StrEnum):
    """Which reports to write."""

    national = "national"
    region = "region"
    province = "province"


class LangChoice(StrEnum):
    """Report language."""

    vi = "vi"
    en = "en"


def _load_run(run: str, cfg: Settings) -> RunResult:
    # Imported here so that the reports do not load the registry (and its dependencies)
    # until a run is actually read.
    from forecast.registry import load_run

    return load_run(run, cfg)


@app.command("report")
@handle_errors
def report(
    run: Annotated[
        str,
        typer.Option("--run", help="Run id, or 'latest' for the newest published run."),
    ] = "latest",
    scope: Annotated[
        list[ScopeChoice] | None,
        typer.Option(
            "--scope",
            help="Reports to write: national, region or province (repeat for several). "
            "Default: all three.",
            show_default=False,
        ),
    ] = None,
    name: Annotated[
        list[str] | None,
        typer.Option(
            "--name",
            help="Only this region or province (name or code, any spelling; repeatable), "
            "e.g. 'Đắk Lắk', 'dak lak', 'DBSH'.",
            show_default=False,
        ),
    ] = None,
    lang: Annotated[
        LangChoice | None,
        typer.Option("--lang", help="Report language. Default: setting 'lang' (vi)."),
    ] = None,
    fmt: Annotated[
        str,
        typer.Option("--format", help="Comma-separated output formats: pdf, csv."),
    ] = "pdf,csv",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Output folder. Default: <reports_dir>/<run id> (setting 'reports_dir').",
            show_default=False,
        ),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", help="Worker processes for the PDFs (-1 = all cores)."),
    ] = None,
) -> None:
    """Write the outlook reports of a run: national, regional and provincial PDFs and CSVs.

    File names are ASCII slugs of the reference names (national.pdf,
    region-dong-bang-song-hong.pdf, province-ho-chi-minh.pdf, the same with .csv) plus
    outlook-full.csv and advantage-full.csv.
    """
    from forecast.config import check_folder, check_paths
    from forecast.safeio import output_errors

    formats = report_formats(fmt)
    cfg = settings(lang=lang.value if lang else None, jobs=jobs)
    # Before loading the run: where the reports go must be a writable folder.
    if out is not None:
        check_folder(out, f"--out folder {str(out)!r}", "Change --out")
    else:
        check_paths(cfg, ("reports_dir",))
    result = _load_run(run, cfg)
    target = out if out is not None else cfg.reports_dir / result.run_id
    scopes = [s.value for s in scope] if scope else [s.value for s in ScopeChoice]
    from forecast.reports import write_reports

    elsewhere = "--out" if out is not None else "the reports_dir setting (FORECAST_REPORTS_DIR)"
    with output_errors(f"the reports of run {result.run_id}", elsewhere):
        paths = write_reports(
            result,
            target,
            scopes=scopes,
            names=name or None,
            lang=cfg.lang,
            formats=formats,
            jobs=cfg.jobs,
            reporter=reporter(),
        )
    n_pdf = sum(p.suffix == ".pdf" for p in paths)
    n_csv = sum(p.suffix == ".csv" for p in paths)
    out_console.print(
        f"Run {result.run_id}: wrote {n_pdf} PDF and {n_csv} CSV file(s) to {target}",
        soft_wrap=True,
        highlight=False,
    )
