"""A run: warehouse -> hierarchy -> engine -> reconciliation -> outlook -> RunResult.

Each stage is a function of the previous stage's typed output; :func:`run_pipeline`
strings them together and times them. Writing reports and publishing the run are separate
steps (:mod:`forecast.reports`, :mod:`forecast.registry`), so a run can be re-reported
without being recomputed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from forecast.advantage import destination_outlook, location_quotients
from forecast.config import Settings
from forecast.data.warehouse import AsOf, Warehouse
from forecast.engine import EngineConfig, EngineResult, configured_models, run_engine
from forecast.errors import DataError, WarehouseNotFoundError
from forecast.evaluation import metrics
from forecast.hierarchy import Hierarchy, build_hierarchy
from forecast.linkage import build_linkage
from forecast.outlook import build_outlook
from forecast.panel import SEASON_LENGTHS, Panel
from forecast.progress import NULL, Reporter
from forecast.reconcile import reconcile, reconcile_cum_quantiles
from forecast.reconcile_choice import accuracy_table, choice_reason, choose_method
from forecast.results import SOURCE_COLUMNS, RunResult, accuracy_columns

log = logging.getLogger(__name__)

#: Source label that marks synthetic demonstration data (``forecast ingest --source``).
SYNTHETIC_LABEL = "synthetic-demo"


@dataclass(frozen=True)
class RunInputs:
    """What a run reads from the warehouse."""

    observations: pd.DataFrame
    sources: pd.DataFrame
    vintage: str
    as_of_batch: int


@contextmanager
def _timed(durations: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    log.info("%s ...", stage)
    yield
    durations[stage] = round(time.perf_counter() - start, 3)
    log.info("%s done in %.1f s", stage, durations[stage])


def load_inputs(settings: Settings, as_of: AsOf = None) -> RunInputs:
    """Read the observations (latest vintage, or as of a batch/time) and their batches."""
    if not settings.warehouse.exists():
        raise WarehouseNotFoundError(
            f"No warehouse at {settings.warehouse}. Ingest data first: "
            "forecast ingest FILE... (or run forecast demo), or set --warehouse / "
            "FORECAST_WAREHOUSE to the right file."
        )
    with Warehouse(settings.warehouse, read_only=True) as wh:
        batch = wh.resolve_as_of(as_of, before_first=False)
        obs = wh.observations(as_of)
        vintage = wh.state_hash(as_of)
        batches = wh.batches()
    if obs.empty:
        raise DataError(
            f"The warehouse {settings.warehouse} holds no observations"
            + (f" as of {as_of}" if as_of is not None else "")
            + ". Ingest data first: forecast ingest FILE..."
        )
    used = batches[batches["batch_id"] <= batch]
    return RunInputs(obs, used[list(SOURCE_COLUMNS)].reset_index(drop=True), vintage, int(batch))


def node_panel(hierarchy: Hierarchy) -> Panel:
    """Every node's history as a panel ending at the run's last period.

    A node whose data stop early is continued with zeros to the last period (it did not
    sell), so all forecasts start at the same period and backtest windows align.
    """
    h = hierarchy
    last = h.last_period
    ids, values, starts = [], [], []
    hist = h.history.sort_values(["node_id", "period"], kind="stable")
    grouped = {k: g for k, g in hist.groupby("node_id", sort=False)}
    for node in h.nodes["node_id"]:
        g = grouped.get(node)
        if g is None or g.empty:
            continue
        first = g["period"].iloc[0]
        n = (last - first).n + 1
        vals = np.zeros(n)
        pos = np.array([(p - first).n for p in g["period"]])
        vals[pos] = g["value"].to_numpy(dtype=float)  # NaN gaps stay NaN (interpolated)
        ids.append(str(node))
        values.append(vals)
        starts.append(first)
    return Panel(tuple(ids), tuple(values), tuple(starts), h.freq, SEASON_LENGTHS.get(h.freq, 1))


def _engine_config(settings: Settings) -> EngineConfig:
    return EngineConfig(
        horizon=settings.horizon,
        levels=settings.levels,
        models=configured_models(settings),
        n_windows=settings.backtest_windows,
        step=settings.backtest_step or None,
        selection=settings.selection,
        n_jobs=settings.jobs,
        backend=settings.backend,
        scheduler=settings.scheduler,
        seed=settings.seed,
    )


def _as_node_frame(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.rename(columns={"unique_id": "node_id", "ds": "period"})


def _level_metrics(frame: pd.DataFrame, col: str, levels: pd.Series) -> pd.DataFrame:
    """MASE, sMAPE and bias of forecast column ``col`` per hierarchy level.

    Errors are scaled per window (``scale`` column), averaged per node over its windows,
    then over the nodes of each level, so every node counts alike.
    """
    # One point per row: the metrics' mean over the last axis is then the row's own term.
    y = frame["y"].to_numpy(float)[:, None]
    f = frame[col].to_numpy(float)[:, None]
    s = frame["scale"].to_numpy(float)
    ae, err, sm = metrics.mase(y, f, s), metrics.bias(y, f, s), metrics.smape(y, f)
    per = pd.DataFrame({"node": frame["unique_id"].to_numpy(), "ae": ae, "err": err, "sm": sm})
    node = per.groupby("node", sort=False)[["ae", "err", "sm"]].mean()
    node["level"] = node.index.map(levels)
    out = node.groupby("level").agg(
        n_series=("ae", "count"), mase=("ae", "mean"), bias=("err", "mean"), smape=("sm", "mean")
    )
    return out.reset_index()


def _accuracy(
    hierarchy: Hierarchy,
    engine: EngineResult,
    choice: pd.DataFrame | None,
    method: str,
    levels: tuple[int, ...],
) -> pd.DataFrame:
    """Backtest accuracy per level of the hierarchy.

    Rows with ``stage == "base"`` score every candidate model (``model`` = its label) and
    the chosen forecasts (``model == "selected"``, with cross-fitted interval coverage);
    when the reconciliation method was chosen by backtest, ``stage == "reconciled"`` rows
    give the chosen method's scores on the same windows.
    """
    level_of = hierarchy.nodes.set_index("node_id")["level"]
    frames = []
    bm = engine.backtest_models
    skip = ("unique_id", "cutoff", "ds", "y", "scale")
    for col in [c for c in bm.columns if c not in skip]:
        sub = bm[bm[col].notna()]
        frames.append(_level_metrics(sub, col, level_of).assign(model=col, stage="base"))
    bt = engine.backtest
    if not bt.empty:
        sel = _level_metrics(bt, "yhat", level_of).assign(model="selected", stage="base")
        node_level = bt["unique_id"].map(level_of)
        y = bt["y"]
        for lv in levels:
            lo, hi = bt[f"lo_{lv}"], bt[f"hi_{lv}"]
            inside = ((y >= lo) & (y <= hi)).where(lo.notna())
            sel[f"coverage_{lv}"] = sel["level"].map(inside.groupby(node_level).mean())
            score = metrics.msis(
                y.to_numpy(float)[:, None],
                lo.to_numpy(float)[:, None],
                hi.to_numpy(float)[:, None],
                lv,
                bt["scale"].to_numpy(float),
            )
            msis = pd.Series(score, index=bt.index)
            sel[f"msis_{lv}"] = sel["level"].map(msis.groupby(node_level).mean())
        if choice is not None:  # RMSSE on the hierarchy's scale; reconciled rows alongside
            rec = accuracy_table(choice, method)
            base_rows = rec[rec["stage"] == "base"].set_index("level")
            sel["rmsse"] = sel["level"].map(base_rows["rmsse"])
            frames.extend([sel, rec[rec["stage"] == "reconciled"]])
        else:
            frames.append(sel)
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    columns = accuracy_columns(levels)
    for col in columns:
        if col not in out.columns:
            out[col] = np.nan
    return out[list(columns)].reset_index(drop=True)


#: ``model`` of :func:`level_leaderboard`'s reference row among the reconciliation methods.
UNRECONCILED = "none (base forecasts)"


def _reconciliation(
    setting: str, hierarchy: Hierarchy, engine: EngineResult, *, always_compare: bool = False
) -> tuple[str, str, pd.DataFrame | None]:
    """The reconciliation method for ``setting`` (``auto`` or a method), why, and the
    backtest comparison of the methods (:func:`choose_method`'s table) when one was made:
    always under ``auto``, and with ``always_compare`` for a configured method too."""
    backtest = _as_node_frame(engine.backtest)
    # Per-series choice made without each window (auto selection): each backtest window's
    # error-based methods take their errors from the choice made without it.
    folds = None if engine.backtest_folds is None else _as_node_frame(engine.backtest_folds)
    has_window = backtest["cutoff"].nunique() >= 1
    choice: pd.DataFrame | None = None
    if setting == "auto":
        if not has_window:
            return "bottom_up", "bottom_up (no backtest window to choose by)", None
        method, choice = choose_method(hierarchy, backtest, folds=folds)
        return method, choice_reason(method, choice), choice
    if always_compare and has_window:
        _, choice = choose_method(hierarchy, backtest, folds=folds)
    return setting, f"{setting} (set in configuration)", choice


def level_leaderboard(
    hierarchy: Hierarchy,
    engine: EngineResult,
    choice: pd.DataFrame | None,
    method: str,
    levels: tuple[int, ...],
) -> pd.DataFrame:
    """Backtest accuracy per level of the hierarchy, for every candidate model and every
    reconciliation method.

    Parameters
    ----------
    hierarchy, engine
        The hierarchy and the engine's run on its nodes.
    choice
        :func:`forecast.reconcile_choice.choose_method`'s table, or None (no reconciled rows).
    method
        The reconciliation method a run uses (marked ``chosen``).
    levels
        Interval levels of the coverage and MSIS columns.

    Returns
    -------
    pandas.DataFrame
        The columns of the run's accuracy table (:func:`forecast.results.accuracy_columns`)
        and ``chosen``. Stage ``base``: every candidate (``model`` = its label) and the
        forecasts as chosen per series (``model == "selected"``, with cross-fitted interval
        coverage and MSIS; ``chosen`` True). Stage ``reconciled``: each coherent method
        (``model`` = the method, ``"mint_shrink (as wls_var)"`` when it fell back) and, as
        the reference on the same scales, the selected forecasts before reconciliation
        (``model`` = :data:`UNRECONCILED`): MASE and RMSSE as the reconciliation choice
        scores them, each node's errors scaled by its seasonal-naive error over its history
        up to the window; ``chosen`` marks ``method`` (the reference row for ``base``). Sorted by
        level, stage, then MASE.
    """
    acc = _accuracy(hierarchy, engine, choice, method, levels)
    base = acc[acc["stage"] == "base"].assign(chosen=lambda d: d["model"] == "selected")
    frames = [base]
    if choice is not None:
        rec = choice[(choice["level"] != "all") & (choice["window"] == "all")]
        frames.append(
            pd.DataFrame(
                {
                    "level": rec["level"].to_numpy(),
                    # A method that fell back (too few errors for MinT) says to what.
                    "model": np.where(
                        rec["method"] == "base",
                        UNRECONCILED,
                        np.where(
                            rec["method_used"] == rec["method"],
                            rec["method"],
                            rec["method"] + " (as " + rec["method_used"].astype(str) + ")",
                        ),
                    ),
                    "stage": "reconciled",
                    "n_series": rec["n_series"].to_numpy(),
                    "mase": rec["mase"].to_numpy(),
                    "rmsse": rec["rmsse"].to_numpy(),
                    "chosen": (rec["method"] == method).to_numpy(),
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    out = out[[*accuracy_columns(levels), "chosen"]]
    out["chosen"] = out["chosen"].astype(bool)
    order = out["stage"].map({"base": 0, "reconciled": 1})
    return (
        out.assign(_stage=order)
        .sort_values(["level", "_stage", "mase", "model"], kind="stable")
        .drop(columns="_stage")
        .reset_index(drop=True)
    )


@dataclass(frozen=True)
class HierarchyBacktest:
    """The backtest of every node of the warehouse's hierarchy (``forecast backtest``).

    Attributes
    ----------
    hierarchy : Hierarchy
        Nodes and history the engine ran on.
    engine : EngineResult
        Every candidate's backtest, the choice per node and the leaderboard per profile.
    reconcile_method, reconcile_reason : str
        The reconciliation method a run with these settings would use, and why.
    leaderboard : pandas.DataFrame
        Accuracy per level of the hierarchy (:func:`level_leaderboard`).
    synthetic : bool
        The warehouse holds synthetic demonstration data.
    durations : dict of str to float
        Seconds per stage.
    """

    hierarchy: Hierarchy
    engine: EngineResult
    reconcile_method: str
    reconcile_reason: str
    leaderboard: pd.DataFrame
    synthetic: bool
    durations: dict[str, float]


def backtest_hierarchy(
    settings: Settings, *, as_of: AsOf = None, reporter: Reporter = NULL
) -> HierarchyBacktest:
    """Backtest every node of the warehouse's hierarchy, as ``forecast run`` would, and
    score every candidate model and reconciliation method per level; nothing is written.

    Parameters
    ----------
    settings
        Warehouse, horizon, levels, models, backtest windows and step, selection,
        reconciliation, parallelism and seed (as for :func:`run_pipeline`).
    as_of
        Warehouse state to use (batch id or time); None = latest.
    reporter
        Progress display for the long stages.

    Returns
    -------
    HierarchyBacktest

    Raises
    ------
    WarehouseNotFoundError, DataError
        No warehouse, or no observations in it.
    """
    durations: dict[str, float] = {}
    with _timed(durations, "load"):
        inputs = load_inputs(settings, as_of)
    with _timed(durations, "hierarchy"):
        hierarchy = build_hierarchy(inputs.observations)
        panel = node_panel(hierarchy)
    with _timed(durations, "backtest"):
        engine = run_engine(panel, _engine_config(settings), reporter=reporter)
    with _timed(durations, "reconcile"):
        method, why, choice = _reconciliation(
            settings.reconcile, hierarchy, engine, always_compare=True
        )
        board = level_leaderboard(hierarchy, engine, choice, method, settings.levels)
    synthetic = bool((inputs.sources["source_label"].fillna("") == SYNTHETIC_LABEL).any())
    return HierarchyBacktest(hierarchy, engine, method, why, board, synthetic, durations)


def run_id_for(created: datetime, vintage: str, config: dict[str, Any]) -> str:
    """Sortable run id: UTC time plus a short hash of data vintage and settings."""
    digest = hashlib.sha256((vintage + json.dumps(config, sort_keys=True)).encode()).hexdigest()
    return f"{created:%Y%m%dT%H%M%SZ}-{digest[:6]}"


def settings_record(settings: Settings) -> dict[str, Any]:
    """Settings as JSON-safe values (paths as strings)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(settings):
        if f.name == "origins":  # where values came from: not part of the configuration
            continue
        v = getattr(settings, f.name)
        out[f.name] = (
            str(v) if hasattr(v, "__fspath__") else (list(v) if isinstance(v, tuple) else v)
        )
    out["extra"] = dict(settings.extra)
    return out


def run_pipeline(
    settings: Settings,
    *,
    as_of: AsOf = None,
    reporter: Reporter = NULL,
    previous_history: pd.DataFrame | None = None,
    created: datetime | None = None,
) -> tuple[RunResult, dict[str, float]]:
    """Compute a full run from the warehouse.

    Parameters
    ----------
    settings
        Paths, horizon, levels, models, backtest, parallelism, reconciliation, outlook.
    as_of
        Warehouse state to use (batch id or time); None = latest.
    reporter
        Progress display for the long stages.
    previous_history
        History of the previous published run, to flag revised data.
    created
        Run start time (UTC); default now.

    Returns
    -------
    result, durations
        The run and the seconds spent per stage.
    """
    durations: dict[str, float] = {}
    created = created or datetime.now(UTC).replace(microsecond=0)
    with _timed(durations, "load"):
        inputs = load_inputs(settings, as_of)
    with _timed(durations, "hierarchy"):
        hierarchy = build_hierarchy(inputs.observations)
        panel = node_panel(hierarchy)
    log.info(
        "%d nodes (%d bottom series), %s to %s",
        len(panel),
        len(hierarchy.bottom_ids),
        hierarchy.periods[0],
        hierarchy.last_period,
    )
    engine_config = _engine_config(settings)
    with _timed(durations, "forecast"):
        engine = run_engine(panel, engine_config, reporter=reporter)
    base = _as_node_frame(engine.forecasts)
    backtest = _as_node_frame(engine.backtest)
    # Per-series choice made without each window (auto selection): MinT's errors are then
    # those of the models being reconciled, the final choice's.
    errors = backtest if engine.backtest_final is None else _as_node_frame(engine.backtest_final)
    with _timed(durations, "reconcile"):
        method, why, choice = _reconciliation(settings.reconcile, hierarchy, engine)
        rec = reconcile(
            hierarchy, base, method=method, backtest=errors, zeros=_as_node_frame(engine.closed)
        )
        cum = reconcile_cum_quantiles(_as_node_frame(engine.cum_quantiles), base, rec.forecasts)
    with _timed(durations, "outlook"):
        outlook = build_outlook(
            hierarchy, rec.forecasts, settings, cum_quantiles=cum, previous_history=previous_history
        )
        advantage = location_quotients(hierarchy)
        destinations = destination_outlook(hierarchy, rec.forecasts, outlook)
        linkage = build_linkage(hierarchy, advantage, rec.forecasts, settings)
        accuracy = _accuracy(hierarchy, engine, choice, method, settings.levels)
    config = settings_record(settings)
    synthetic = bool((inputs.sources["source_label"].fillna("") == SYNTHETIC_LABEL).any())
    result = RunResult(
        run_id=run_id_for(created, inputs.vintage, config),
        created_at=created.isoformat().replace("+00:00", "Z"),
        freq=hierarchy.freq,
        horizon=settings.horizon,
        levels=settings.levels,
        last_period=hierarchy.last_period,
        synthetic=synthetic,
        data_vintage=inputs.vintage,
        sources=inputs.sources,
        nodes=hierarchy.nodes,
        history=hierarchy.history,
        forecasts=rec.forecasts,
        base_forecasts=base,
        selection=_as_node_frame(engine.selection)[
            ["node_id", "model", "reason", "profile", "n_windows", "n_obs"]
        ],
        accuracy=accuracy,
        outlook=outlook,
        advantage=advantage,
        linkage=linkage,
        destinations=destinations,
        reconcile_method=f"{rec.describe()} — {why}",
        config=config,
        extra={
            "backtest": backtest,
            # what MinT was estimated from, when that is not the backtest as issued
            **({} if errors is backtest else {"backtest_errors": errors}),
            "cum_quantiles": cum,
            # bottoms kept at 0 by the reconciliation (months never sold in)
            "closed": _as_node_frame(engine.closed),
            "leaderboard": engine.leaderboard,
            "reconcile_choice": choice if choice is not None else pd.DataFrame(),
            "spans": hierarchy.spans,
            "notes": pd.DataFrame({"note": [*hierarchy.notes, *rec.notes, *engine.notes]}),
        },
        artifacts={
            "engine_config": engine_config,
            **{f"global_model_{name}": model for name, model in engine.fitted.items()},
        },
    )
    return result, durations
