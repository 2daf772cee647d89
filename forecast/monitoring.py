"""Forecast-versus-actual monitoring of published runs.

Once actuals arrive for periods a published run forecast, its *realised* accuracy is
measured the way its backtest was, and compared with it:

- **MASE**: absolute error scaled by the node's in-sample seasonal-naive error (from the
  run's own history, one season apart; lag 1 when the history is shorter than a season),
  averaged over the periods with actuals per node, then over the nodes of a group (each
  node weighs the same);
- **coverage** of each interval level: the share of (node, period) actuals inside the run's
  interval.

Groups: every hierarchy ``level`` (``province/category/export``...), every ``category``
(all nodes of that category, any geography and market) and ``all`` nodes. The backtest
reference is computed the same way from the run's backtest of its selected base forecasts
(``extra.backtest``).

**Alerts** (settings ``alert_mase_ratio``, default 1.5, and ``alert_coverage_margin``,
default 10 points), on groups with at least :data:`MIN_POINTS` actuals:

- ``mase``: realised MASE above ``alert_mase_ratio`` × backtest MASE *and* above 1 (worse
  than the in-sample seasonal naive; a ratio alone would flag tiny absolute errors);
- ``coverage_<L>``: realised coverage of the L% interval below L − margin percent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.errors import RegistryError
from forecast.evaluation import metrics
from forecast.panel import SEASON_LENGTHS
from forecast.registry import load_tables, publications, read_manifest

log = logging.getLogger(__name__)

#: Fewest (node, period) actuals in a group before it can raise an alert.
MIN_POINTS = 10
#: Columns of the monitoring table, before the per-level coverage columns.
BASE_COLUMNS = (
    "run_id",
    "origin",
    "by",
    "key",
    "n_series",
    "n_points",
    "first_period",
    "last_period",
    "mase",
    "backtest_mase",
    "mase_ratio",
)
ALERT_COLUMNS = ("alert", "alert_reason")


@dataclass(frozen=True)
class Thresholds:
    """When realised accuracy is "much worse" than the backtest."""

    mase_ratio: float = 1.5
    coverage_margin: float = 10.0

    @classmethod
    def from_settings(cls, settings: object) -> Thresholds:
        """Thresholds from ``alert_mase_ratio`` / ``alert_coverage_margin`` settings."""
        return cls(
            float(getattr(settings, "alert_mase_ratio", cls.mase_ratio)),
            float(getattr(settings, "alert_coverage_margin", cls.coverage_margin)),
        )


def columns(levels: Iterable[int]) -> list[str]:
    """Every column of the monitoring table for interval ``levels``."""
    cov = [c for lv in levels for c in (f"coverage_{lv}", f"backtest_coverage_{lv}")]
    return [*BASE_COLUMNS, *cov, *ALERT_COLUMNS]


def node_scales(history: pd.DataFrame, freq: str, seasons: pd.Series | None = None) -> pd.Series:
    """In-sample naive mean absolute error per node, as the engine scales its backtest:
    one season apart (lag 1 for nodes whose ``seasons`` entry is 1: the engine's short
    and intermittent profiles), else lag 1, else a tenth of the node's mean level; NaN when
    undefined. Pairs are matched by period, so gaps never shift values into the wrong
    season.

    Parameters
    ----------
    history
        ``node_id, period, value`` rows.
    freq
        Period frequency (its usual season length is the default lag).
    seasons
        Season length per node id (e.g. from the run's selection profiles); missing
        nodes use the frequency's.
    """
    m = SEASON_LENGTHS.get(freq, 1)
    h = history[["node_id", "period", "value"]].dropna(subset=["value"])
    ids = pd.Index(h["node_id"].unique())

    def lagged(lag: int) -> pd.Series:
        prev = h.assign(period=h["period"] + lag).rename(columns={"value": "prev"})
        pairs = h.merge(prev, on=["node_id", "period"], how="inner")
        return (pairs["value"] - pairs["prev"]).abs().groupby(pairs["node_id"]).mean().reindex(ids)

    lag1 = lagged(1).to_numpy(float)
    seasonal = lagged(m).to_numpy(float) if m > 1 else lag1
    level = h["value"].abs().groupby(h["node_id"]).mean().reindex(ids).to_numpy(float)
    own = m if seasons is None else seasons.reindex(ids).fillna(m).to_numpy(int)
    first = np.where(np.asarray(own) > 1, seasonal, lag1)
    scale, _ = metrics.fallback_scales((first, first**2), (lag1, lag1**2), level)
    return pd.Series(np.where(scale > 0, scale, np.nan), index=ids)


def seasons_of(selection: pd.DataFrame | None, freq: str) -> pd.Series | None:
    """Season length per node the engine scaled with: its frequency's for ``regular``
    series, 1 for the others (see :meth:`forecast.evaluation.profiles.SeriesInfo.season`)."""
    if selection is None or "profile" not in selection:
        return None
    m = SEASON_LENGTHS.get(freq, 1)
    return pd.Series(
        np.where(selection["profile"].to_numpy() == "regular", m, 1),
        index=selection["node_id"].to_numpy(),
    )


def _group_scores(points: pd.DataFrame, keys: pd.Series, levels: tuple[int, ...]) -> pd.DataFrame:
    """MASE (node mean, then group mean) and coverage (pooled) per group key."""
    p = points.assign(_key=keys.to_numpy())
    p = p[p["_key"].notna()]
    node = p.groupby(["_key", "node_id"], sort=False)["ae"].mean()
    by = p.groupby("_key", sort=True)
    out = pd.DataFrame(
        {
            "n_series": by["node_id"].nunique(),
            "n_points": by.size(),
            "mase": node.groupby(level=0).mean(),
        }
    )
    for lv in levels:
        col = f"in_{lv}"
        if col in p:
            out[f"coverage_{lv}"] = by[col].mean()
    return out


def _points(
    frame: pd.DataFrame, y: str, scale: np.ndarray, levels: tuple[int, ...]
) -> pd.DataFrame:
    """Scaled absolute errors and interval hits of forecast rows with actual column ``y``
    (``scale``: one scale per row)."""
    yv = frame[y].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ae = np.where(scale > 0, np.abs(yv - frame["yhat"].to_numpy(float)) / scale, np.nan)
    out = pd.DataFrame({"node_id": frame["node_id"].to_numpy(), "ae": ae})
    for lv in levels:
        lo, hi = f"lo_{lv}", f"hi_{lv}"
        if lo in frame and hi in frame:
            lo_v, hi_v = frame[lo].to_numpy(float), frame[hi].to_numpy(float)
            hit = ((yv >= lo_v) & (yv <= hi_v)).astype(float)
            out[f"in_{lv}"] = np.where(np.isnan(lo_v) | np.isnan(hi_v), np.nan, hit)
    return out


def evaluate_run(
    *,
    run_id: str,
    freq: str,
    origin: str,
    levels: tuple[int, ...],
    nodes: pd.DataFrame,
    history: pd.DataFrame,
    forecasts: pd.DataFrame,
    backtest: pd.DataFrame | None,
    actuals: pd.DataFrame,
    thresholds: Thresholds = Thresholds(),
    selection: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Realised versus backtest accuracy of one run, by level, category and overall.

    Parameters
    ----------
    run_id, freq, origin, levels
        The run's id, period frequency, last period with actuals and interval levels.
    nodes, history, forecasts, backtest
        The run's tables (``backtest`` = ``extra.backtest``; may be None).
    actuals
        ``node_id, period, value`` now known (e.g. a newer run's history).
    thresholds
        When realised accuracy counts as much worse than the backtest.
    selection
        The run's ``selection`` table: its ``profile`` column sets each node's MASE scale
        as the engine's backtest set it (None: every node one season apart).

    Returns
    -------
    DataFrame
        Columns :func:`columns` (``levels``); empty when no forecast period has actuals.
    """
    if actuals.empty or forecasts.empty:
        return pd.DataFrame(columns=columns(levels))
    fc = forecasts.merge(
        actuals[["node_id", "period", "value"]].dropna(subset=["value"]),
        on=["node_id", "period"],
        how="inner",
    )
    if fc.empty:
        return pd.DataFrame(columns=columns(levels))
    seasons = seasons_of(selection, freq)
    scale = fc["node_id"].map(node_scales(history, freq, seasons)).to_numpy(float)
    real = _points(fc, "value", scale, levels)
    info = nodes.set_index("node_id")
    groups = {
        "level": lambda f: f["node_id"].map(info["level"]),
        "category": lambda f: f["node_id"].map(info["category"]).replace("", np.nan),
        "all": lambda f: pd.Series("", index=f.index),
    }
    bt_points = None
    if backtest is not None and not backtest.empty and "scale" in backtest:
        bt_points = _points(backtest, "y", backtest["scale"].to_numpy(float), levels)
    rows = []
    for by, key_of in groups.items():
        got = _group_scores(real, key_of(fc), levels)
        if bt_points is not None:
            ref = _group_scores(bt_points, key_of(backtest), levels)
            got["backtest_mase"] = ref["mase"].reindex(got.index)
            for lv in levels:
                if f"coverage_{lv}" in ref:
                    got[f"backtest_coverage_{lv}"] = ref[f"coverage_{lv}"].reindex(got.index)
        spans = fc.assign(_key=key_of(fc).to_numpy()).groupby("_key")["period"]
        got["first_period"] = spans.min().astype(str)
        got["last_period"] = spans.max().astype(str)
        got = got.reset_index(names="key").assign(by=by)
        rows.append(got)
    out = pd.concat(rows, ignore_index=True).assign(run_id=run_id, origin=origin)
    for col in columns(levels):
        if col not in out:
            out[col] = np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        out["mase_ratio"] = out["mase"] / out["backtest_mase"]
    reasons = [_alert_reason(r, levels, thresholds) for r in out.to_dict(orient="records")]
    out["alert_reason"] = reasons
    out["alert"] = out["alert_reason"] != ""
    out["n_series"] = out["n_series"].astype(int)
    out["n_points"] = out["n_points"].astype(int)
    return out[columns(levels)]


def _alert_reason(row: dict[str, object], levels: tuple[int, ...], t: Thresholds) -> str:
    if int(row["n_points"]) < MIN_POINTS:  # type: ignore[call-overload]
        return ""
    why = []
    mase, ref = float(row["mase"]), float(row["backtest_mase"])  # type: ignore[arg-type]
    if np.isfinite(mase) and np.isfinite(ref) and mase > 1.0 and mase > t.mase_ratio * ref:
        why.append(f"MASE {mase:.2f} > {t.mase_ratio:g} x backtest {ref:.2f}")
    for lv in levels:
        cov = float(row.get(f"coverage_{lv}", np.nan))  # type: ignore[arg-type]
        floor = lv - t.coverage_margin
        if np.isfinite(cov) and 100 * cov < floor:
            why.append(f"{lv}% interval covers {100 * cov:.0f}% < {floor:g}%")
    return "; ".join(why)


def monitor(
    models_dir: Path,
    actuals: pd.DataFrame,
    *,
    thresholds: Thresholds = Thresholds(),
    skip: Iterable[str] = (),
) -> pd.DataFrame:
    """Realised accuracy of every published run whose forecast periods have actuals.

    Parameters
    ----------
    models_dir
        The run registry (publications from ``published.json`` and ``LATEST``).
    actuals
        ``node_id, period, value`` known now (Period ``period`` column).
    thresholds
        Alert thresholds.
    skip
        Run ids to leave out (e.g. the run being built).

    Returns
    -------
    DataFrame
        Rows of :func:`evaluate_run` for each run, oldest run first; runs that cannot be
        read are left out with a warning in the log.
    """
    frames = []
    skipped = set(skip)
    levels: tuple[int, ...] = (80, 95)
    for pub in publications(Path(models_dir)):
        rid = pub["run_id"]
        if rid in skipped or not (Path(models_dir) / rid).is_dir():
            continue
        try:
            man = read_manifest(Path(models_dir), rid)
            t = load_tables(
                Path(models_dir), rid, ["nodes", "history", "forecasts", "extra.backtest"]
            )
        except RegistryError as exc:
            log.warning("Monitoring skips run %s: %s", rid, exc, extra={"event": "monitoring"})
            continue
        levels = tuple(int(v) for v in man["levels"])
        freq = str(man["freq"])
        acts = actuals
        if len(acts) and not isinstance(acts["period"].dtype, pd.PeriodDtype):
            acts = acts.assign(period=pd.PeriodIndex(acts["period"].astype(str), freq=freq))
        elif len(acts) and acts["period"].dtype != t["forecasts"]["period"].dtype:
            continue  # another frequency: nothing comparable
        frames.append(
            evaluate_run(
                run_id=rid,
                freq=freq,
                origin=str(man["last_period"]),
                levels=levels,
                nodes=t["nodes"],
                history=t["history"],
                forecasts=t["forecasts"],
                backtest=t.get("extra.backtest"),
                actuals=acts,
                thresholds=thresholds,
                selection=t.get("selection"),
            )
        )
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=columns(levels))
    return pd.concat(frames, ignore_index=True)


def alerts(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of a monitoring table that raise an alert."""
    if table.empty:
        return table
    return table[table["alert"].astype(bool)].reset_index(drop=True)
