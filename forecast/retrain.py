"""Unattended retraining: ingest the inbox, retrain when the data changed, publish.

:func:`retrain` is what ``forecast retrain`` (the monthly cron or systemd job) runs:

1. take the run lock (:class:`forecast.lock.RunLock`; another holder -> ``BusyError``,
   exit 75), remove what a killed run left behind and repair ``reports/latest``;
2. ingest every new file of the inbox in name order, each in its own transaction: a
   stored (or already known) file moves to ``inbox/done/``, a rejected one to
   ``inbox/rejected/`` with ``<name>.errors.txt`` beside it saying why;
3. compare the warehouse state hash with the published run's ``data_vintage``: unchanged
   (and no ``--force``) -> stop, nothing to do;
4. otherwise run the pipeline, monitoring, reports, and publish atomically
   (:func:`forecast.publish.run_and_publish`).

Files in the inbox are taken when their name does not start with ``.`` and does not end
with ``.part``, ``.tmp``, ``.partial`` or ``.crdownload``: upload under such a name and
rename when complete, so a half-copied file is never read.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from forecast.config import Settings, check_paths
from forecast.data.ingest import ingest_file
from forecast.data.warehouse import Warehouse
from forecast.engine import configured_models
from forecast.errors import DataError
from forecast.lock import RunLock
from forecast.progress import NULL, Reporter
from forecast.publish import RUN_PATHS, Published, prepare, run_and_publish
from forecast.registry import latest_run_id, read_manifest

log = logging.getLogger(__name__)

DONE = "done"
REJECTED = "rejected"
#: Suffixes of files still being written (never ingested).
PARTIAL_SUFFIXES = (".part", ".tmp", ".partial", ".crdownload")
ERRORS_SUFFIX = ".errors.txt"

FileStatus = Literal["stored", "revised", "unchanged", "rejected"]


@dataclass(frozen=True)
class InboxFile:
    """What happened to one inbox file."""

    name: str
    status: FileStatus
    detail: str
    moved_to: Path


@dataclass
class RetrainOutcome:
    """What :func:`retrain` did, for the summary line and the exit code."""

    files: list[InboxFile] = field(default_factory=list)
    retrained: bool = False
    reason: str = ""
    previous_run: str | None = None
    published: Published | None = None
    cleaned: int = 0
    stale_lock: bool = False
    durations: dict[str, float] = field(default_factory=dict)

    def count(self, *statuses: FileStatus) -> int:
        """Number of inbox files with one of ``statuses``."""
        return sum(f.status in statuses for f in self.files)

    @property
    def rejected(self) -> list[InboxFile]:
        """Inbox files that were rejected."""
        return [f for f in self.files if f.status == "rejected"]

    def summary(self) -> str:
        """The one-line summary: files, decision, run and timings."""
        files = (
            f"{len(self.files)} file(s): {self.count('stored', 'revised')} stored, "
            f"{self.count('unchanged')} unchanged, {self.count('rejected')} rejected"
        )
        if self.published is not None:
            r = self.published.result
            n_alerts = 0
            mon = r.extra.get("monitoring")
            if mon is not None and len(mon):
                n_alerts = int(mon["alert"].sum())
            what = (
                f"published run {r.run_id} ({len(r.nodes)} series, "
                f"{len(self.published.report_files)} report files, {n_alerts} monitoring "
                f"alert(s))"
            )
        else:
            what = f"no retrain ({self.reason})"
        timing = ", ".join(f"{k} {v:.1f} s" for k, v in self.durations.items())
        return f"retrain: {files}; {what}; {timing}"


def inbox_files(inbox: Path) -> list[Path]:
    """Regular files directly in ``inbox`` that are ready to ingest, in name order."""
    if not inbox.is_dir():
        return []
    return sorted(
        p
        for p in inbox.iterdir()
        if p.is_file()
        and not p.is_symlink()
        and not p.name.startswith(".")
        and not p.name.lower().endswith(PARTIAL_SUFFIXES)
        and not p.name.endswith(ERRORS_SUFFIX)
    )


def _stamp() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}"


def _free_name(folder: Path, name: str) -> Path:
    """``folder/name``, or ``folder/<stem>.<UTC time>[-k]<suffixes>`` if taken."""
    target = folder / name
    if not target.exists() and not target.is_symlink():
        return target
    base = name.split(".", 1)
    stem, rest = base[0], ("." + base[1]) if len(base) > 1 else ""
    stamp = _stamp()
    for k in range(1000):
        candidate = folder / f"{stem}.{stamp}{f'-{k}' if k else ''}{rest}"
        if not candidate.exists():
            return candidate
    raise FileExistsError(f"no free name for {name} in {folder}")


def _move(path: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = _free_name(folder, path.name)
    os.replace(path, target)
    return target


def ingest_inbox(
    settings: Settings, inbox: Path, *, source: str | None = None, reporter: Reporter = NULL
) -> list[InboxFile]:
    """Ingest every ready file of ``inbox``; move each to ``done/`` or ``rejected/``.

    A rejected file gets ``<name>.errors.txt`` beside it in ``rejected/`` with every
    problem found. Database failures (:class:`WarehouseError`, :class:`BusyError`) are not
    the file's fault: they propagate and leave the file in the inbox.
    """
    files = inbox_files(inbox)
    out: list[InboxFile] = []
    if not inbox.is_dir():
        log.warning(
            "Inbox %s does not exist: no new files to ingest (create it, or pass --inbox).",
            inbox,
            extra={"event": "inbox", "files": 0},
        )
    if not files:
        return out
    with Warehouse(settings.warehouse) as wh, reporter.stage("ingest", len(files)) as advance:
        for path in files:
            try:
                res = ingest_file(wh, path, source=source)
            except DataError as exc:
                moved = _move(path, inbox / REJECTED)
                report = moved.with_name(moved.name + ERRORS_SUFFIX)
                report.write_text(
                    f"{path.name}: rejected, nothing stored ({_stamp()}).\n{exc}\n",
                    encoding="utf-8",
                )
                out.append(InboxFile(path.name, "rejected", str(exc), moved))
                log.error(
                    "%s: rejected, nothing stored; moved to %s (problems in %s)\n%s",
                    path.name,
                    moved,
                    report.name,
                    exc,
                    extra={"event": "ingest", "file": path.name, "status": "rejected"},
                )
            else:
                moved = _move(path, inbox / DONE)
                out.append(InboxFile(path.name, res.status, res.describe(), moved))
                log.info(
                    "%s; moved to %s",
                    res.describe(),
                    moved,
                    extra={
                        "event": "ingest",
                        "file": path.name,
                        "status": res.status,
                        "batch_id": res.batch_id,
                        "rows": res.rows,
                    },
                )
                for warning in res.warnings:
                    log.warning("%s: %s", path.name, warning, extra={"event": "ingest_warning"})
            advance(1)
    return out


def data_changed(settings: Settings, previous_run: str | None) -> tuple[bool | None, str]:
    """Whether the warehouse differs from what ``previous_run`` was trained on.

    Returns ``(None, why)`` when there is no data yet, else ``(changed, why)``. Fast path:
    when the warehouse's newest batch is the newest batch the run used, nothing can have
    changed and the (full-scan) state hash is not computed.
    """
    if not settings.warehouse.exists():
        return None, "the warehouse holds no data yet; put sales files in the inbox"
    with Warehouse(settings.warehouse, read_only=True) as wh:
        last_batch = wh.resolve_as_of(None)
        if last_batch == 0:
            return None, "the warehouse holds no data yet; put sales files in the inbox"
        if previous_run is None:
            return True, "no published run yet"
        man = read_manifest(settings.models_dir, previous_run)
        used = man.get("batches") or []
        if used and max(used) == last_batch:
            return False, f"no new data since run {previous_run} (batch {last_batch})"
        if wh.state_hash() == man["data_vintage"]:
            return False, f"data unchanged since run {previous_run} (same state hash)"
        return True, "data changed"


def retrain(
    settings: Settings,
    *,
    inbox: Path | None = None,
    force: bool = False,
    source: str | None = None,
    formats: tuple[str, ...] = ("pdf", "csv"),
    reporter: Reporter = NULL,
) -> RetrainOutcome:
    """Ingest the inbox and, when the data changed (or ``force``), retrain and publish.

    Raises
    ------
    BusyError
        Another run holds the lock (nothing was done).
    ConfigError
        A path setting is unusable, e.g. ``reports_dir`` is a file, or the ``models``
        setting names an unknown model (nothing was done).
    WarehouseError, RegistryError, ForecastError
        The run failed; the previous publication is intact.
    """
    out = RetrainOutcome()
    t0 = time.perf_counter()
    inbox = inbox if inbox is not None else settings.inbox
    # Before the lock and the inbox: a folder that cannot be written must not be found
    # only after ingesting and forecasting.
    check_paths(settings, (*RUN_PATHS, "warehouse"))
    configured_models(settings)  # nor an unknown model name after the inbox was taken in
    with RunLock(settings.models_dir, command="forecast retrain") as lock:
        out.stale_lock = lock.stale
        out.cleaned = len(prepare(settings))
        start = time.perf_counter()
        out.files = ingest_inbox(settings, inbox, source=source, reporter=reporter)
        out.durations["ingest"] = round(time.perf_counter() - start, 3)
        out.previous_run = latest_run_id(settings.models_dir)
        changed, out.reason = data_changed(settings, out.previous_run)
        if changed is not None and (changed or force):
            if force and not changed:
                out.reason = f"forced ({out.reason})"
            log.info(
                "retraining: %s",
                out.reason,
                extra={"event": "retrain", "reason": out.reason},
            )
            out.published = run_and_publish(settings, formats=formats, reporter=reporter)
            out.retrained = True
            out.durations.update(out.published.durations)
    out.durations["total"] = round(time.perf_counter() - t0, 3)
    return out
