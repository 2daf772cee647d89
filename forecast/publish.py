"""Run the pipeline, store the run, write its reports, and publish — all or nothing.

The run's tables go to ``models/<run-id>/`` and its reports to ``reports/<run-id>/``,
each written under a temporary name and renamed into place when complete. Only then are
``models/LATEST`` and the ``reports/latest`` link switched to the new run, so readers (and
a killed process) only ever see complete runs.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from forecast.config import Settings
from forecast.data.warehouse import AsOf
from forecast.errors import RegistryError
from forecast.pipeline import run_pipeline
from forecast.progress import NULL, Reporter
from forecast.registry import latest_run_id, load_run, publish, save_run
from forecast.reports import write_reports
from forecast.results import RunResult

log = logging.getLogger(__name__)


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
        return load_run(rid, settings).history
    except RegistryError as exc:
        log.warning("Previous run %s unreadable (%s); revision flags skipped.", rid, exc)
        return None


def write_run_reports(
    result: RunResult, settings: Settings, *, formats: tuple[str, ...], reporter: Reporter = NULL
) -> tuple[Path, list[Path]]:
    """Write every report of ``result`` into ``reports/<run-id>/`` atomically."""
    root = settings.reports_dir
    root.mkdir(parents=True, exist_ok=True)
    final = root / result.run_id
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{result.run_id}-", dir=root))
    try:
        files = write_reports(
            result, tmp, lang=settings.lang, formats=formats, jobs=settings.jobs, reporter=reporter
        )
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final, [final / f.name for f in files]


def point_latest(reports_dir: Path, run_id: str) -> None:
    """Atomically repoint the ``reports/latest`` symlink at ``reports/<run_id>``."""
    link = reports_dir / "latest"
    tmp = reports_dir / f".latest-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    os.symlink(run_id, tmp, target_is_directory=True)
    os.replace(tmp, link)


def run_and_publish(
    settings: Settings,
    *,
    as_of: AsOf = None,
    formats: tuple[str, ...] = ("pdf", "csv"),
    reporter: Reporter = NULL,
) -> Published:
    """Compute a run, save it, write its reports, then publish it."""
    prev = previous_history(settings)
    result, durations = run_pipeline(
        settings, as_of=as_of, reporter=reporter, previous_history=prev
    )
    start = time.perf_counter()
    run_dir = save_run(result, settings.models_dir, durations=durations)
    durations["save"] = round(time.perf_counter() - start, 3)
    start = time.perf_counter()
    reports_dir, files = write_run_reports(result, settings, formats=formats, reporter=reporter)
    durations["reports"] = round(time.perf_counter() - start, 3)
    publish(settings.models_dir, result.run_id)
    point_latest(settings.reports_dir, result.run_id)
    return Published(result, run_dir, reports_dir, tuple(files), durations)
