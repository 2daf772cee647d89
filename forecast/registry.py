"""The run registry: every run's tables, artifacts and manifest under ``models/<run-id>/``.

A run is written to a hidden temporary folder and renamed into place only when complete;
then ``models/LATEST`` (a one-line text file, replaced atomically) names it, and the
publication is appended to ``models/published.json``. A crash at any moment leaves the
previous published run intact and ``LATEST`` pointing at it; what the crash left behind
(``.tmp-*`` folders, half-written temporary files) is removed by :func:`clean_leftovers`
under the run lock.

Tables are stored as Parquet (data only, never pickled objects) and listed in
``manifest.json`` with their SHA-256; loading checks every checksum and refuses a run
whose files changed. Fitted objects (the engine configuration, fitted global models) are
saved with joblib under ``artifacts/`` with their SHA-256 in the manifest, and
:func:`load_artifact` unpickles them only from inside the registry folder and only after
the checksum matches. Run ids and artifact names are validated against strict patterns
before any path is built from them, so neither can point outside the registry.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import logging
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd

from forecast import __version__
from forecast.errors import InvalidParameterError, RegistryError, RunNotFoundError
from forecast.results import RunResult
from forecast.safeio import atomic_write, public_mode

log = logging.getLogger(__name__)

LATEST = "LATEST"
MANIFEST = "manifest.json"
PUBLISHED = "published.json"
ARTIFACTS = "artifacts"
RUN_ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{6}(-\d+)?$")
#: Artifact names: lower-case letters, digits and ``_`` only (they become file names).
ARTIFACT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
#: Prefixes of what an interrupted writer leaves in the registry or reports folder.
_LEFTOVER_PREFIXES = (".tmp-", ".trash-", ".latest-", f".{LATEST}.", f".{PUBLISHED}.")
_FRAMES = (
    "sources",
    "nodes",
    "history",
    "forecasts",
    "base_forecasts",
    "selection",
    "accuracy",
    "outlook",
    "advantage",
    "linkage",
    "destinations",
)
_DEPENDENCIES = (
    "numpy",
    "pandas",
    "statsforecast",
    "scikit-learn",
    "statsmodels",
    "hierarchicalforecast",
    "duckdb",
    "holidays",
    "prophet",
    "fpdf2",
    "matplotlib",
    "scipy",
    "pyarrow",
    "joblib",
    "threadpoolctl",
    "dask",
    "distributed",
)


def check_run_id(run_id: str) -> str:
    """Return ``run_id`` if it has the registry's form, else raise RegistryError."""
    if not RUN_ID.fullmatch(run_id):
        raise RegistryError(
            f"{run_id!r} is not a run id (expected e.g. 20260105T030000Z-1a2b3c). "
            "List runs with: forecast runs list"
        )
    return run_id


def versions() -> dict[str, str]:
    """Python, this package and key dependency versions, for the manifest."""
    out = {"python": sys.version.split()[0], "forecast": __version__}
    for dist in _DEPENDENCIES:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def _to_storable(df: pd.DataFrame) -> pd.DataFrame:
    """Periods as strings (Parquet has no portable period type); everything else as is."""
    out = df.copy()
    for col in _period_columns(out):
        out[col] = out[col].astype(str)
    return out


def _period_columns(df: pd.DataFrame) -> list[str]:
    return [
        c
        for c in df.columns
        if isinstance(df[c].dtype, pd.PeriodDtype)
        or (df[c].dtype == object and len(df) and isinstance(df[c].iloc[0], pd.Period))
    ]


def _parquet_bytes(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    _to_storable(df).to_parquet(buf, index=False, engine="pyarrow")
    return buf.getvalue()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_artifact_name(name: str) -> str:
    """Return ``name`` if it is a valid artifact name, else raise RegistryError."""
    if not ARTIFACT_NAME.fullmatch(name):
        raise RegistryError(
            f"{name!r} is not an artifact name (lower-case letters, digits and '_')."
        )
    return name


def _joblib_bytes(obj: Any) -> bytes:
    buf = io.BytesIO()
    joblib.dump(obj, buf, compress=3)
    return buf.getvalue()


def backtest_summary(accuracy: pd.DataFrame) -> list[dict[str, Any]]:
    """Backtest accuracy of the selected (base) and reconciled forecasts per level, as
    JSON-safe records for the manifest."""
    if accuracy.empty:
        return []
    sel = accuracy[(accuracy["model"] == "selected") | (accuracy["stage"] == "reconciled")]
    cols = ["level", "stage", "model", "n_series", "mase", "smape"]
    cols += [c for c in accuracy.columns if c.startswith("coverage_")]
    out = sel[[c for c in cols if c in sel.columns]].copy()
    records = out.to_dict(orient="records")
    return [
        {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in r.items()}
        for r in records
    ]


def save_run(
    result: RunResult,
    models_dir: Path,
    *,
    durations: dict[str, float] | None = None,
    extra_manifest: dict[str, Any] | None = None,
) -> Path:
    """Write ``result`` to ``models_dir/<run-id>/`` atomically (not yet published).

    Tables go to ``<name>.parquet`` (``extra.<name>.parquet`` for ``result.extra``),
    ``result.artifacts`` to ``artifacts/<name>.joblib``; ``manifest.json`` lists every
    file with its SHA-256 and records what is needed to reproduce and judge the run.

    Returns the run folder. Raises RegistryError if the run already exists.
    """
    run_id = check_run_id(result.run_id)
    models_dir.mkdir(parents=True, exist_ok=True)
    final = models_dir / run_id
    if final.exists():
        raise RegistryError(f"Run {run_id} already exists in {models_dir}.")
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{run_id}-", dir=models_dir))
    try:
        files: dict[str, dict[str, Any]] = {}
        period_cols: dict[str, list[str]] = {}
        tables = {name: getattr(result, name) for name in _FRAMES}
        tables.update({f"extra.{k}": v for k, v in result.extra.items()})
        for name, frame in tables.items():
            data = _parquet_bytes(frame)
            (tmp / f"{name}.parquet").write_bytes(data)
            files[f"{name}.parquet"] = {"sha256": _sha256(data), "rows": len(frame)}
            period_cols[name] = _period_columns(frame)
        artifacts: dict[str, dict[str, Any]] = {}
        if result.artifacts:
            (tmp / ARTIFACTS).mkdir()
        for name, obj in sorted(result.artifacts.items()):
            data = _joblib_bytes(obj)
            rel = f"{ARTIFACTS}/{check_artifact_name(name)}.joblib"
            (tmp / rel).write_bytes(data)
            artifacts[name] = {
                "file": rel,
                "sha256": _sha256(data),
                "bytes": len(data),
                "type": f"{type(obj).__module__}.{type(obj).__qualname__}",
            }
        nodes = result.nodes
        bottom = nodes["level"].isin(["province/category/domestic", "province/category/export"])
        manifest = {
            "run_id": run_id,
            "created_at": result.created_at,
            "saved_at": _now(),
            "freq": result.freq,
            "horizon": result.horizon,
            "levels": list(result.levels),
            "last_period": str(result.last_period),
            "synthetic": result.synthetic,
            "data_vintage": result.data_vintage,
            "n_series": len(nodes),
            "n_bottom_series": int(bottom.sum()),
            "batches": [int(b) for b in result.sources.get("batch_id", [])],
            "reconcile_method": result.reconcile_method,
            "config": result.config,
            "versions": versions(),
            "durations_s": durations or {},
            "models_chosen": {
                str(k): int(v) for k, v in result.selection["model"].value_counts().items()
            },
            "backtest": backtest_summary(result.accuracy),
            "period_columns": period_cols,
            "files": files,
            "artifacts": artifacts,
            **(extra_manifest or {}),
        }
        (tmp / MANIFEST).write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True, default=str),
            encoding="utf-8",
        )
        _fsync_tree(tmp)
        _make_public(tmp)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _make_public(folder: Path) -> None:
    """Give the folder and its subfolders the usual permissions (``mkdtemp`` makes them
    private), so other users can read a published run."""
    for path in [folder, *(p for p in folder.rglob("*") if p.is_dir())]:
        os.chmod(path, public_mode(directory=True))


def _fsync_tree(folder: Path) -> None:
    """Flush every file of ``folder`` to disk before it is renamed into place."""
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def publish(models_dir: Path, run_id: str) -> None:
    """Point ``LATEST`` at ``run_id`` (atomic replace of a one-line file) and record the
    publication in ``published.json``.

    ``LATEST`` is the commit point: the run counts as published once it names it.
    """
    check_run_id(run_id)
    if not (models_dir / run_id / MANIFEST).exists():
        raise RegistryError(f"Cannot publish {run_id}: no complete run in {models_dir}.")
    previous = latest_run_id(models_dir)
    atomic_write(models_dir / LATEST, (run_id + "\n").encode())
    history = _recorded_publications(models_dir)
    known = {p["run_id"] for p in history}
    if previous is not None and previous not in known:  # published before this record
        history.append({"run_id": previous, "published_at": ""})
    if run_id not in known:
        history.append({"run_id": run_id, "published_at": _now()})
    atomic_write(models_dir / PUBLISHED, (json.dumps(history, indent=1) + "\n").encode())


def _recorded_publications(models_dir: Path) -> list[dict[str, str]]:
    path = models_dir / PUBLISHED
    if not path.exists():
        return []
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RegistryError(
            f"{path} cannot be read ({exc}); restore it from a backup or delete it "
            "(only the monitoring of earlier runs uses it)."
        ) from None
    if not isinstance(doc, list):
        raise RegistryError(f"{path} is not a list of publications; restore or delete it.")
    return [
        {"run_id": str(d["run_id"]), "published_at": str(d.get("published_at", ""))}
        for d in doc
        if isinstance(d, dict) and RUN_ID.fullmatch(str(d.get("run_id", "")))
    ]


def publications(models_dir: Path) -> list[dict[str, str]]:
    """Every publication, oldest first: ``[{"run_id": ..., "published_at": ...}]``.

    The run ``LATEST`` names is included even if ``published.json`` misses it (a crash
    between the two writes, or a registry from before the record existed).
    """
    out = _recorded_publications(models_dir)
    latest = latest_run_id(models_dir)
    if latest is not None and all(p["run_id"] != latest for p in out):
        out.append({"run_id": latest, "published_at": ""})
    return out


#: How far ahead of the clock a stored run may be dated and still move a new run after it.
#: Further ahead, the stored date is wrong (a stray folder, a clock set back for a while)
#: and following it would misdate every later run and its reports.
RUN_TIME_SLACK = timedelta(minutes=5)


def _run_time(name: str) -> datetime | None:
    """The time in a run folder's name, or None when it is not a real date."""
    try:
        return datetime.strptime(name[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def next_run_time(models_dir: Path, now: datetime | None = None) -> datetime:
    """Start time for a new run id: now, or one second after a stored run of the same
    second (or of the next few minutes).

    Run ids sort by their time, and ``runs list`` and ``runs prune`` take that order as
    age. Two runs started in the same second (``retrain --force`` twice from a script)
    would otherwise be ordered by their hash. A stored run dated more than
    :data:`RUN_TIME_SLACK` ahead is not followed (its date is wrong; a WARNING says so).
    Only run folders count, as ``runs list`` lists them. Called under the run lock, so no
    other run is being named.
    """
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    stamps = [
        (stamp, child.name)
        for child in (models_dir.iterdir() if models_dir.is_dir() else ())
        if RUN_ID.fullmatch(child.name) and child.is_dir() and not child.is_symlink()
        for stamp in [_run_time(child.name)]
        if stamp is not None
    ]
    if not stamps:
        return now
    newest, name = max(stamps)
    if newest > now + RUN_TIME_SLACK:
        log.warning(
            "run %s in %s is dated %s, ahead of the clock (%s): the new run is dated by "
            "the clock and lists before it; check the system time, or prune that run",
            name,
            models_dir,
            f"{newest:%Y-%m-%d %H:%M:%S} UTC",
            f"{now:%Y-%m-%d %H:%M:%S} UTC",
        )
        return now
    return max(now, newest + timedelta(seconds=1))


def latest_run_id(models_dir: Path) -> str | None:
    """The published run id, or None when nothing is published yet.

    Raises
    ------
    RegistryError
        ``LATEST`` does not hold a run id (edited or damaged); the message says what to do.
    """
    path = models_dir / LATEST
    if not path.exists():
        return None
    text = path.read_text(encoding="utf-8", errors="replace").strip()
    if not RUN_ID.fullmatch(text):
        raise RegistryError(
            f"{path} should name the published run but holds {text[:40]!r}. Write the id of "
            "the run to publish into it (forecast runs list shows them), or delete it and "
            "run forecast run."
        )
    return text


def list_runs(models_dir: Path) -> list[dict[str, Any]]:
    """Manifests of every run, oldest first, damaged ones included.

    Each gets ``published`` (ever published), ``latest`` (the current publication),
    ``size_bytes`` (of its folder) and ``damaged`` added: None, or why the manifest cannot
    be read (then the entry holds only ``run_id`` and these keys). A damaged run is
    listed, not fatal, so that the others can still be listed and the damaged one pruned.
    """
    if not models_dir.exists():
        return []
    latest = latest_run_id(models_dir)
    ever = {p["run_id"] for p in publications(models_dir)}
    out = []
    for child in sorted(models_dir.iterdir()):
        if not (child.is_dir() and not child.is_symlink() and RUN_ID.fullmatch(child.name)):
            continue
        # A run folder is renamed into place only with its manifest written (save_run), so
        # one without a manifest was damaged after.
        man: dict[str, Any] = {"run_id": child.name, "damaged": f"{MANIFEST} is missing"}
        if (child / MANIFEST).exists():
            try:
                man = {**read_manifest(models_dir, child.name), "damaged": None}
            except RegistryError as exc:
                man["damaged"] = str(exc)
        man["published"] = child.name in ever
        man["latest"] = child.name == latest
        man["size_bytes"] = sum(p.stat().st_size for p in child.rglob("*") if p.is_file())
        out.append(man)
    return out


def resolve(models_dir: Path, run: str) -> str:
    """``latest`` -> the published run id; otherwise a validated id that exists.

    Raises
    ------
    RunNotFoundError
        Nothing is published, ``run`` is not a run id, or no such run is stored (a usage
        error: exit code 2).
    """
    if run == "latest":
        rid = latest_run_id(models_dir)
        if rid is None:
            raise RunNotFoundError(
                f"No published run in {models_dir}. Run the pipeline first: forecast run"
            )
        return rid
    if not RUN_ID.fullmatch(run):
        raise RunNotFoundError(
            f"{run!r} is not a run id (expected e.g. 20260105T030000Z-1a2b3c, or latest). "
            f"List the runs in {models_dir} with: forecast runs list"
        )
    if not (models_dir / run / MANIFEST).exists():
        raise RunNotFoundError(
            f"Run {run} not found in {models_dir} (pruned, or from another registry). "
            "List the runs: forecast runs list"
        )
    return run


def read_manifest(models_dir: Path, run_id: str) -> dict[str, Any]:
    """The manifest of a run (validated id)."""
    path = models_dir / check_run_id(run_id) / MANIFEST
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RegistryError(
            f"Manifest of run {run_id} cannot be read ({exc}). " + _damaged_fix(path.parent)
        ) from None
    if not isinstance(doc, dict) or doc.get("run_id") != run_id:
        raise RegistryError(
            f"Manifest of run {run_id} does not describe that run. "
            + _damaged_fix(models_dir / run_id)
        )
    return doc


def _checked_bytes(folder: Path, rel: str, sha256: str) -> bytes:
    """Bytes of ``folder/rel`` after checking that the path stays inside ``folder`` and
    the content matches ``sha256``."""
    path = (folder / rel).resolve()
    if not path.is_relative_to(folder.resolve()):
        raise RegistryError(f"{folder.name}: file {rel!r} lies outside the run folder.")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RegistryError(
            f"{folder.name}/{rel} cannot be read ({exc.strerror or exc}). Re-run the pipeline "
            "(forecast run) or restore the folder from a backup."
        ) from None
    if _sha256(data) != sha256:
        raise RegistryError(
            f"{folder.name}/{rel} fails its checksum: the run was modified or damaged. "
            "Re-run the pipeline (forecast run) or restore the folder from a backup."
        )
    return data


def _read_table(
    folder: Path, name: str, entry: dict[str, Any], periods: list[str], freq: str
) -> pd.DataFrame:
    sha256 = entry.get("sha256") if isinstance(entry, dict) else None
    if not isinstance(sha256, str):
        raise RegistryError(
            f"{folder / MANIFEST}: the entry of {name} has no 'sha256' checksum. "
            + _damaged_fix(folder)
        )
    data = _checked_bytes(folder, name, sha256)
    df = pd.read_parquet(io.BytesIO(data), engine="pyarrow")
    for col in periods:
        if col in df.columns:
            df[col] = pd.PeriodIndex(df[col], freq=freq)
    return df


def load_tables(models_dir: Path, run: str, names: list[str]) -> dict[str, pd.DataFrame]:
    """Some tables of a run (``forecasts``, ``extra.backtest``...), checksums checked.

    Missing tables are left out of the result.
    """
    rid = resolve(Path(models_dir), run)
    folder = Path(models_dir) / rid
    man = read_manifest(Path(models_dir), rid)
    files = _manifest_field(man, "files", folder, dict)
    period_columns = _manifest_field(man, "period_columns", folder, dict)
    freq = _manifest_field(man, "freq", folder, str)
    out: dict[str, pd.DataFrame] = {}
    for name in names:
        entry = files.get(f"{name}.parquet")
        if entry is not None:
            periods = period_columns.get(name, [])
            out[name] = _read_table(folder, f"{name}.parquet", entry, periods, freq)
    return out


def load_run(run: str, settings: Any) -> RunResult:
    """Load a run from the registry after checking every file's checksum.

    Parameters
    ----------
    run
        ``latest`` or a run id.
    settings
        Anything with a ``models_dir`` attribute (:class:`forecast.config.Settings`).

    Returns
    -------
    RunResult
        The run's tables and manifest fields.

    Raises
    ------
    RegistryError
        Unknown run, a file that fails its checksum, or a manifest that lacks a key or
        holds an invalid value (the message names the manifest file and the key).
    """
    models_dir = Path(settings.models_dir)
    rid = resolve(models_dir, run)
    folder = models_dir / rid
    man = read_manifest(models_dir, rid)

    def field(key: str, convert: Callable[[Any], Any] = _same) -> Any:
        return _manifest_field(man, key, folder, convert)

    freq = field("freq", str)
    period_columns = field("period_columns", dict)
    tables: dict[str, pd.DataFrame] = {}
    for fname, entry in field("files", dict).items():
        name = fname.removesuffix(".parquet")
        tables[name] = _read_table(folder, fname, entry, period_columns.get(name, []), freq)
    extra = {k.removeprefix("extra."): v for k, v in tables.items() if k.startswith("extra.")}
    fields = {f.name for f in dataclasses.fields(RunResult)}
    missing = [n for n in _FRAMES if n not in tables]
    if missing:
        raise RegistryError(f"Run {rid} lacks tables {missing}; it was written by another version.")
    return RunResult(
        run_id=rid,
        created_at=field("created_at"),
        freq=freq,
        horizon=field("horizon", int),
        levels=field("levels", lambda v: tuple(int(x) for x in v)),
        last_period=field("last_period", lambda v: pd.Period(v, freq=freq)),
        synthetic=field("synthetic", bool),
        data_vintage=field("data_vintage"),
        reconcile_method=field("reconcile_method"),
        config=field("config"),
        extra=extra,
        **{n: tables[n] for n in _FRAMES if n in fields},
    )


def _same(value: Any) -> Any:
    return value


def _damaged_fix(folder: Path) -> str:
    """What to do about a run whose manifest is incomplete or damaged."""
    return (
        f"The run {folder.name} is incomplete or damaged: restore its folder from a backup, "
        f"or delete {folder} (forecast runs prune removes damaged runs before any other) "
        "and re-run the pipeline (forecast run)."
    )


def _manifest_field(
    man: dict[str, Any], key: str, folder: Path, convert: Callable[[Any], Any] = _same
) -> Any:
    """``man[key]`` passed through ``convert``, or a RegistryError naming the manifest file
    and the key when the key is missing or its value cannot be converted.

    A run's manifest is written in one piece by :func:`save_run`, so a missing or malformed
    key means the file was edited, truncated by hand or written by an incompatible version.
    """
    where = f"{folder / MANIFEST}"
    fix = _damaged_fix(folder)
    if key not in man:
        raise RegistryError(f"{where}: the manifest has no {key!r} entry. {fix}")
    try:
        return convert(man[key])
    except (TypeError, ValueError) as exc:
        raise RegistryError(
            f"{where}: the manifest's {key!r} entry is invalid ({exc}). {fix}"
        ) from None


def load_artifact(models_dir: Path, run: str, name: str) -> Any:
    """Unpickle artifact ``name`` of a run, only after its checksum matches the manifest.

    The path is built from a validated run id and artifact name and must lie inside the
    run's folder; the bytes are read once, checked, then unpickled from memory (no second
    read of a file that could have changed in between). Never point this at anything but
    the registry: unpickling runs code chosen by whoever wrote the file.

    Raises
    ------
    RegistryError
        Unknown run or artifact, file outside the run folder, or checksum mismatch.
    """
    models_dir = Path(models_dir)
    rid = resolve(models_dir, run)
    check_artifact_name(name)
    man = read_manifest(models_dir, rid)
    entry = man.get("artifacts", {}).get(name)
    if entry is None:
        known = ", ".join(sorted(man.get("artifacts", {}))) or "none"
        raise RegistryError(f"Run {rid} has no artifact {name!r} (artifacts: {known}).")
    if entry.get("file") != f"{ARTIFACTS}/{name}.joblib":
        raise RegistryError(f"Run {rid}: artifact {name!r} has an unexpected file name.")
    sha256 = entry.get("sha256")
    if not isinstance(sha256, str):
        raise RegistryError(
            f"{models_dir / rid / MANIFEST}: artifact {name!r} has no 'sha256' checksum. "
            + _damaged_fix(models_dir / rid)
        )
    data = _checked_bytes(models_dir / rid, entry["file"], sha256)
    return joblib.load(io.BytesIO(data))


def clean_leftovers(*folders: Path) -> list[Path]:
    """Remove what interrupted writers left in the registry and reports folders.

    Temporary run and report folders (``.tmp-<run-id>-*``), folders being deleted
    (``.trash-*``), temporary ``LATEST``/``published.json`` files and ``latest`` links.
    Call it only while holding the run lock (:class:`forecast.lock.RunLock`): then no other
    writer is active and everything matching is garbage.

    Returns the paths removed.
    """
    removed: list[Path] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for child in sorted(folder.iterdir()):
            if not child.name.startswith(_LEFTOVER_PREFIXES):
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink(missing_ok=True)
            removed.append(child)
    for path in removed:
        log.info("Removed leftover %s", path, extra={"event": "cleanup", "path": str(path)})
    return removed


def kept_runs(run_ids: list[str], keep: int, latest: str | None) -> set[str]:
    """The runs a prune keeps: the ``keep`` newest of ``run_ids`` plus the published one.

    The one place that decides what :func:`prune` deletes, so that ``forecast runs prune
    --dry-run`` lists exactly what the real prune would remove.

    Parameters
    ----------
    run_ids
        Ids of the complete runs, oldest first (as :func:`list_runs` gives them).
    keep
        How many of the newest runs to keep besides the published one; 0 keeps only the
        published run, and a number at or above ``len(run_ids)`` keeps them all.
    latest
        The published run id (:func:`latest_run_id`), or None when nothing is published.

    Returns
    -------
    set of str
        The ids to keep.

    Raises
    ------
    InvalidParameterError
        ``keep`` is negative.
    """
    if keep < 0:
        raise InvalidParameterError(
            f"keep must be 0 or more; got {keep}. Pass the number of newest runs to keep "
            "(0 keeps only the published run)."
        )
    # Clamp at 0: with keep > len(run_ids) the start would be negative and slice from the
    # end, keeping fewer runs than asked (it once deleted runs it should have kept).
    kept = set(run_ids[max(0, len(run_ids) - keep) :])
    if latest is not None:
        kept.add(latest)
    return kept


def runs_to_prune(models_dir: Path, keep: int) -> list[str]:
    """Ids of the runs :func:`prune` would delete, oldest first.

    Damaged runs (see :func:`list_runs`) count as older than every intact run, so they go
    first; the published run is never among them, damaged or not.

    Parameters
    ----------
    models_dir
        The registry folder.
    keep
        How many of the newest runs to keep besides the published one (see
        :func:`kept_runs`).

    Returns
    -------
    list of str
        The ids that would go; nothing is deleted.

    Raises
    ------
    InvalidParameterError
        ``keep`` is negative.
    """
    runs = list_runs(models_dir)
    # Damaged first (as the oldest), then the intact runs oldest first: a prune removes
    # what cannot be used before anything that can.
    ordered = [r["run_id"] for r in runs if r["damaged"]]
    ordered += [r["run_id"] for r in runs if not r["damaged"]]
    kept = kept_runs(ordered, keep, latest_run_id(models_dir))
    return [rid for rid in ordered if rid not in kept]


def prune(models_dir: Path, keep: int, *, reports_dir: Path | None = None) -> list[str]:
    """Delete all but the ``keep`` newest runs; never the published one.

    Damaged runs count as the oldest (:func:`runs_to_prune`), so they go first.

    With ``reports_dir``, the pruned runs' report folders go too. Each folder is first
    renamed to ``.trash-<run-id>`` (atomic), then deleted, so an interrupted prune leaves
    no half-deleted run that looks complete. Call it under the run lock.

    Parameters
    ----------
    models_dir
        The registry folder.
    keep
        How many of the newest runs to keep besides the published one; a number at or
        above the number of runs keeps them all.
    reports_dir
        The reports folder, whose ``<run-id>`` folders of the pruned runs are deleted
        too; None keeps every report.

    Returns
    -------
    list of str
        The ids removed, oldest first.

    Raises
    ------
    InvalidParameterError
        ``keep`` is negative.
    """
    removed = runs_to_prune(models_dir, keep)
    for rid in removed:
        for root in (models_dir, reports_dir):
            if root is None or not (root / rid).is_dir():
                continue
            trash = root / f".trash-{rid}"
            os.replace(root / rid, trash)
            shutil.rmtree(trash)
        log.info("Pruned run %s", rid, extra={"event": "prune", "run_id": rid})
    return removed
