"""The run registry: every run's tables and manifest under ``models/<run-id>/``.

A run is written to a hidden temporary folder and renamed into place only when complete;
then ``models/LATEST`` (a one-line text file, replaced atomically) names it. A crash at
any moment leaves the previous published run intact and ``LATEST`` pointing at it.

Tables are stored as Parquet (data only, never pickled objects) and listed in
``manifest.json`` with their SHA-256; loading checks every checksum and refuses a run
whose files changed. Run ids are validated against a strict pattern before any path is
built from them, so an id can never point outside the registry.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import re
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from forecast import __version__
from forecast.errors import RegistryError
from forecast.results import RunResult
from forecast.safeio import atomic_write

LATEST = "LATEST"
MANIFEST = "manifest.json"
RUN_ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{6}(-\d+)?$")
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


def save_run(
    result: RunResult,
    models_dir: Path,
    *,
    durations: dict[str, float] | None = None,
    extra_manifest: dict[str, Any] | None = None,
) -> Path:
    """Write ``result`` to ``models_dir/<run-id>/`` atomically (not yet published).

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
        manifest = {
            "run_id": run_id,
            "created_at": result.created_at,
            "saved_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "freq": result.freq,
            "horizon": result.horizon,
            "levels": list(result.levels),
            "last_period": str(result.last_period),
            "synthetic": result.synthetic,
            "data_vintage": result.data_vintage,
            "reconcile_method": result.reconcile_method,
            "config": result.config,
            "versions": versions(),
            "durations_s": durations or {},
            "models_chosen": result.selection["model"].value_counts().to_dict(),
            "period_columns": period_cols,
            "files": files,
            **(extra_manifest or {}),
        }
        (tmp / MANIFEST).write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True, default=str),
            encoding="utf-8",
        )
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def publish(models_dir: Path, run_id: str) -> None:
    """Point ``LATEST`` at ``run_id`` (atomic replace of a one-line file)."""
    check_run_id(run_id)
    if not (models_dir / run_id / MANIFEST).exists():
        raise RegistryError(f"Cannot publish {run_id}: no complete run in {models_dir}.")
    atomic_write(models_dir / LATEST, (run_id + "\n").encode())


def latest_run_id(models_dir: Path) -> str | None:
    """The published run id, or None when nothing is published yet."""
    path = models_dir / LATEST
    if not path.exists():
        return None
    return check_run_id(path.read_text(encoding="utf-8").strip())


def list_runs(models_dir: Path) -> list[dict[str, Any]]:
    """Manifests of every complete run, oldest first."""
    if not models_dir.exists():
        return []
    out = []
    for child in sorted(models_dir.iterdir()):
        if child.is_dir() and RUN_ID.fullmatch(child.name) and (child / MANIFEST).exists():
            out.append(json.loads((child / MANIFEST).read_text(encoding="utf-8")))
    return out


def resolve(models_dir: Path, run: str) -> str:
    """``latest`` -> the published run id; otherwise a validated id that exists."""
    if run == "latest":
        rid = latest_run_id(models_dir)
        if rid is None:
            raise RegistryError(
                f"No published run in {models_dir}. Run the pipeline first: forecast run"
            )
        return rid
    rid = check_run_id(run)
    if not (models_dir / rid / MANIFEST).exists():
        raise RegistryError(f"Run {rid} not found in {models_dir}. List runs: forecast runs list")
    return rid


def read_manifest(models_dir: Path, run_id: str) -> dict[str, Any]:
    """The manifest of a run (validated id)."""
    path = models_dir / check_run_id(run_id) / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise RegistryError(f"Manifest of run {run_id} cannot be read: {exc}") from None


def _read_table(
    folder: Path, name: str, entry: dict[str, Any], periods: list[str], freq: str
) -> pd.DataFrame:
    data = (folder / name).read_bytes()
    if _sha256(data) != entry["sha256"]:
        raise RegistryError(
            f"{folder.name}/{name} fails its checksum: the run was modified or damaged. "
            "Re-run the pipeline (forecast run) or restore the folder from a backup."
        )
    df = pd.read_parquet(io.BytesIO(data), engine="pyarrow")
    for col in periods:
        if col in df.columns:
            df[col] = pd.PeriodIndex(df[col], freq=freq)
    return df


def load_run(run: str, settings: Any) -> RunResult:
    """Load a run from the registry after checking every file's checksum.

    Parameters
    ----------
    run
        ``latest`` or a run id.
    settings
        Anything with a ``models_dir`` attribute (:class:`forecast.config.Settings`).
    """
    models_dir = Path(settings.models_dir)
    rid = resolve(models_dir, run)
    folder = models_dir / rid
    man = read_manifest(models_dir, rid)
    freq = man["freq"]
    tables: dict[str, pd.DataFrame] = {}
    for fname, entry in man["files"].items():
        name = fname.removesuffix(".parquet")
        tables[name] = _read_table(folder, fname, entry, man["period_columns"].get(name, []), freq)
    extra = {k.removeprefix("extra."): v for k, v in tables.items() if k.startswith("extra.")}
    fields = {f.name for f in dataclasses.fields(RunResult)}
    missing = [n for n in _FRAMES if n not in tables]
    if missing:
        raise RegistryError(f"Run {rid} lacks tables {missing}; it was written by another version.")
    return RunResult(
        run_id=rid,
        created_at=man["created_at"],
        freq=freq,
        horizon=int(man["horizon"]),
        levels=tuple(int(x) for x in man["levels"]),
        last_period=pd.Period(man["last_period"], freq=freq),
        synthetic=bool(man["synthetic"]),
        data_vintage=man["data_vintage"],
        reconcile_method=man["reconcile_method"],
        config=man["config"],
        extra=extra,
        **{n: tables[n] for n in _FRAMES if n in fields},
    )
