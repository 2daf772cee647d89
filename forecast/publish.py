"""Run the pipeline, store the run, write its reports, and publish — all or nothing.

Order of the steps, and what a crash (``kill -9``) at each leaves behind:

1. compute the run (warehouse -> forecasts -> outlook) and the monitoring of earlier
   published runs against the new actuals — nothing written yet;
2. write every report into ``reports/.tmp-<run-id>-*/`` — a crash leaves a temporary
   folder, ignored by readers and removed by the next run (:func:`prepare`);
3. save the run into ``models/.tmp-<run-id>-*/`` and rename it to ``models/<run-id>/`` —
   a crash before the rename leaves a temporary folder; after it, a complete but
   unpublished run (listed by ``forecast runs list``, removed by ``runs prune``);
4. rename the reports folder to ``reports/<run-id>/``;
5. **commit**: replace ``models/LATEST`` (atomic rename of a one-line file);
6. repoint the ``reports/latest`` symlink (atomic rename of a new link). A crash between
   5 and 6 leaves the link one run behind; :func:`prepare` repairs it at the next start.

Until step 5, ``LATEST`` and ``reports/latest`` still name the previous complete run.
Callers hold the run lock (:class:`forecast.lock.RunLock`) around :func:`prepare` and
:func:`run_and_publish`, so only one process writes at a time.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from forecast.config import Settings, check_paths
from forecast.data.warehouse import AsOf
from forecast.errors import RegistryError
from forecast.lock import RunLock
from forecast.monitoring import Thresholds, monitor
from forecast.pipeline import run_pipeline
from forecast.progress import NULL, Reporter
from forecast.registry import (
    clean_leftovers,
    latest_run_id,
    load_tables,
    next_run_time,
    publish,
    save_run,
)
from forecast.reports import write_reports
from forecast.results import RunResult
from forecast.safeio import output_errors, public_mode

log = logging.getLogger(__name__)

#: Name of the symlink to the published run's reports folder.
LATEST_LINK = "latest"
#: The path settings a run writes to, checked before any work (:func:`check_paths`).
RUN_PATHS = ("models_dir", "reports_dir")
#: How to write elsewhere, for the messages of write failures.
_REPORTS_ELSEWHERE = "the reports_dir setting (FORECAST_REPORTS_DIR)"
_MODELS_ELSEWHERE = "the models_dir setting (FORECAST_MODELS_DIR)"


@dataclass(frozen=True)
class Published:
    """Where a published run lives and how long it took."""

    result: RunResult
    run_dir: Path
    reports_dir: Path
    report_files: tuple[Path, ...]
    durations: dict[str, float]


def previous_history(settings: Settings) -> pd.DataFrame | None:
    """History of the currently published run (for the ``revised`` flag), if any."""
    rid = latest_run_id(settings.models_dir)
    if rid is None:
        return None
    try:
        return load_tables(settings.models_dir, rid, ["history"])["history"]
    except (RegistryError, KeyError) as exc:
        log.warning("Previous run %s unreadable (%s); revision flags skipped.", rid, exc)
        return None


def prepare(settings: Settings) -> list[Path]:
    """Remove what a killed run left behind and repair the ``reports/latest`` link.

    Call under the run lock, before a run. Returns the leftovers removed.
    """
    removed = clean_leftovers(settings.models_dir, settings.reports_dir)
    rid = latest_run_id(settings.models_dir)
    link = settings.reports_dir / LATEST_LINK
    if rid is not None and (settings.reports_dir / rid).is_dir():
        current = os.readlink(link) if link.is_symlink() else None
        if current != rid:
            point_latest(settings.reports_dir, rid)
            log.warning(
                "reports/latest pointed at %s, not the published run %s (a run was "
                "interrupted while publishing); repaired.",
                current,
                rid,
                extra={"event": "repair", "run_id": rid},
            )
    return removed


def point_latest(reports_dir: Path, run_id: str) -> None:
    """Atomically repoint the ``reports/latest`` symlink at ``reports/<run_id>``."""
    link = reports_dir / LATEST_LINK
    tmp = reports_dir / f".latest-{secrets.token_hex(8)}"  # unpredictable, never reused
    os.symlink(run_id, tmp, target_is_directory=True)
    os.replace(tmp, link)


def _write_reports_tmp(
    result: RunResult, settings: Settings, *, formats: tuple[str, ...], reporter: Reporter
) -> tuple[Path, list[str]]:
    """Write every report of ``result`` into a fresh temporary folder in ``reports_dir``."""
    root = settings.reports_dir
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{result.run_id}-", dir=root))
    try:
        os.chmod(tmp, public_mode(directory=True))
        files = write_reports(
            result, tmp, lang=settings.lang, formats=formats, jobs=settings.jobs, reporter=reporter
        )
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tmp, [f.name for f in files]


def _move_into_place(tmp: Path, final: Path) -> None:
    if final.exists():  # an earlier attempt of the same run id (never published)
        shutil.rmtree(final)
    os.replace(tmp, final)


def monitoring_for(result: RunResult, settings: Settings) -> pd.DataFrame:
    """Realised accuracy of the published runs against ``result``'s actuals."""
    return monitor(
        settings.models_dir,
        result.history,
        thresholds=Thresholds.from_settings(settings),
        skip=(result.run_id,),
    )


def run_and_publish(
    settings: Settings,
    *,
    as_of: AsOf = None,
    formats: tuple[str, ...] = ("pdf", "csv"),
    reporter: Reporter = NULL,
) -> Published:
    """Compute a run, monitor the earlier runs, write reports, save and publish it.

    See the module docstring for the order of the steps and what a crash leaves.

    Raises
    ------
    ConfigError
        ``models_dir`` or ``reports_dir`` is not a writable folder (found before any work).
    OutputError
        A report or the run could not be written (disk full, permissions); the published
        run is unchanged.
    """
    check_paths(settings, RUN_PATHS)
    prev = previous_history(settings)
    result, durations = run_pipeline(
        settings,
        as_of=as_of,
        reporter=reporter,
        previous_history=prev,
        created=next_run_time(settings.models_dir),
    )
    start = time.perf_counter()
    table = monitoring_for(result, settings)
    result = dataclasses.replace(result, extra={**result.extra, "monitoring": table})
    durations["monitoring"] = round(time.perf_counter() - start, 3)
    if len(table):
        n_alerts = int(table["alert"].sum())
        log.info(
            "monitoring: %d group(s) of %d earlier run(s) with actuals, %d alert(s)",
            len(table),
            table["run_id"].nunique(),
            n_alerts,
            extra={"event": "monitoring", "alerts": n_alerts},
        )
    start = time.perf_counter()
    unchanged = f"run {result.run_id} (the published run is unchanged)"
    with output_errors(f"the reports of {unchanged}", _REPORTS_ELSEWHERE):
        tmp_reports, names = _write_reports_tmp(
            result, settings, formats=formats, reporter=reporter
        )
    durations["reports"] = round(time.perf_counter() - start, 3)
    try:
        start = time.perf_counter()
        with output_errors(unchanged, _MODELS_ELSEWHERE):
            run_dir = save_run(result, settings.models_dir, durations=durations)
        durations["save"] = round(time.perf_counter() - start, 3)
        reports_dir = settings.reports_dir / result.run_id
        with output_errors(f"the reports of {unchanged}", _REPORTS_ELSEWHERE):
            _move_into_place(tmp_reports, reports_dir)
    except BaseException:
        shutil.rmtree(tmp_reports, ignore_errors=True)
        raise
    with output_errors(f"the publication of {unchanged}", _MODELS_ELSEWHERE):
        publish(settings.models_dir, result.run_id)
    # Published now: a failure here leaves only the link behind, which prepare() repairs.
    with output_errors(
        f"the {settings.reports_dir / LATEST_LINK} link to run {result.run_id} (the run is "
        "published; the next run repairs the link)"
    ):
        point_latest(settings.reports_dir, result.run_id)
    log.info(
        "published run %s",
        result.run_id,
        extra={"event": "published", "run_id": result.run_id},
    )
    files = tuple(reports_dir / n for n in names)
    return Published(result, run_dir, reports_dir, files, durations)


def locked_run_and_publish(
    settings: Settings,
    *,
    as_of: AsOf = None,
    formats: tuple[str, ...] = ("pdf", "csv"),
    reporter: Reporter = NULL,
    command: str = "forecast run",
) -> Published:
    """:func:`run_and_publish` under the run lock, after :func:`prepare`.

    Raises :class:`forecast.errors.BusyError` at once when another run holds the lock, and
    :class:`forecast.errors.ConfigError` before any work when a path setting is unusable.
    """
    check_paths(settings, RUN_PATHS)  # before the lock, which lives in models_dir
    with RunLock(settings.models_dir, command=command):
        prepare(settings)
        return run_and_publish(settings, as_of=as_of, formats=formats, reporter=reporter)
