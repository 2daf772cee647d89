"""The engine's choice per profile: which series are chosen for together, on which
backtest windows the candidates are compared, and the choice with its reasons.

Series of one profile are grouped (:func:`_selection_groups`), each group's candidates
are scored on the windows where all of them were fitted (a candidate unfitted on most
windows leaves the choice, :data:`MAX_UNFITTED`), and the pooled or per-series rule of
:mod:`forecast.evaluation.selection` picks a model or ensemble (:func:`_choose`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from forecast.evaluation import calibration, profiles
from forecast.evaluation.backtest import SeriesRun
from forecast.evaluation.profiles import PROFILE_REASON, SeriesInfo
from forecast.evaluation.selection import (
    WindowSet,
    choose_per_series,
    choose_pooled,
    ensemble_members,
    score_table,
    validate_per_series,
)
from forecast.methods.registry import ENSEMBLE_MEMBERS, SPECS

if TYPE_CHECKING:
    from forecast.engine import EngineConfig

#: Candidate models and ensembles of each series (by position).
Plan = dict[int, tuple[tuple[str, ...], tuple[str, ...]]]


#: A candidate not fitted on more than this share of a profile's backtest windows (too
#: short at the early origins, numerical failures) is left out of its choice: its score
#: would mostly be that of the naive stand-in.
MAX_UNFITTED = 0.5


@dataclass
class _Group:
    """One profile's series, backtest windows and the choice made for them."""

    profile: str
    members: list[int]
    windows: WindowSet
    unfitted: dict[str, np.ndarray]
    finals: dict[str, np.ndarray]
    final_lost: dict[str, np.ndarray]
    labels: dict[str, str]
    scores: pd.DataFrame
    picks: list[str]
    reasons: list[str]
    member_lists: dict[str, list[str]]
    #: The candidate of each backtest row when it differs from its series' final choice:
    #: per-series choice made without that row's window (``auto`` selection), so the
    #: errors that calibrate the intervals are those of a choice that had not seen them.
    row_picks: list[str] | None = None
    #: Per held-out window index, each series' candidate chosen without it (``auto``
    #: adopting per-series choice); None when every choice is the series' final one.
    fold_picks: dict[int, list[str]] | None = None

    def series_label(self, k: int) -> str:
        """Label of series ``k``'s forecast as issued: ``Naive`` for the naive stand-in,
        an ensemble without the members whose fit on the full series failed."""
        pick = self.picks[k]
        if self.final_lost[pick][k]:
            return "Naive"
        members = self.member_lists.get(pick, [])
        kept = [name for name in members if not self.final_lost[name][k]]
        if len(kept) == len(members):
            return self.labels[pick]
        rule = "Median" if "median" in pick else "Mean"
        return f"{rule}({', '.join(SPECS[name].label for name in kept)})"

    def chosen_backtest(self) -> tuple[np.ndarray, np.ndarray]:
        """Backtest forecasts of each row's chosen candidate, shape (R, h), and the rows
        where it was not fitted (naive stand-in), shape (R,)."""
        if self.row_picks is not None:
            return self._rows_of(np.array(self.row_picks))
        return self.final_backtest()

    def final_backtest(self) -> tuple[np.ndarray, np.ndarray]:
        """As :meth:`chosen_backtest`, for every row the series' final choice."""
        return self._rows_of(self._series_picks(self.picks))

    def fold_backtest(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        """As :meth:`chosen_backtest`, for every row the choice made without window
        ``j`` (the final choice where there is no such choice)."""
        picks = self.fold_picks.get(j, self.picks) if self.fold_picks else self.picks
        return self._rows_of(self._series_picks(picks))

    def _series_picks(self, picks: list[str]) -> np.ndarray:
        ws = self.windows
        return np.array([picks[r] for r in ws.series]) if ws.n_rows else np.array([])

    def _rows_of(self, pick_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ws = self.windows
        out = np.zeros_like(ws.actual)
        stand_in = np.zeros(ws.n_rows, dtype=bool)
        for name in set(pick_rows.tolist()):
            sel = pick_rows == name
            out[sel] = ws.forecasts[name][sel]
            stand_in[sel] = self.unfitted[name][sel]
        return out, stand_in


def _combine_fitted(
    forecasts: dict[str, np.ndarray], unfitted: dict[str, np.ndarray], chosen: list[str], rule: str
) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise combination of the members fitted on each row (of all of them, stand-ins
    included, where none was), and the rows where none was.

    ``forecasts[k]`` has shape (R, h) and ``unfitted[k]`` shape (R,): backtest windows or,
    for the final forecasts, series.
    """
    stack = np.stack([forecasts[k] for k in chosen])
    mask: np.ndarray = np.stack([unfitted[k] for k in chosen])  # (k, R)
    none: np.ndarray = np.all(mask, axis=0)
    masked = np.where(mask[:, :, None] & ~none[None, :, None], np.nan, stack)
    out: np.ndarray = (
        np.nanmedian(masked, axis=0) if rule == "median" else np.nanmean(masked, axis=0)
    )
    return out, none


def _metric_for(profile: str, metric: str) -> str:
    """The error a profile's choice is made on."""
    # Under absolute error every forecast between 0 and the order size scores alike on
    # intermittent demand; squared error separates Croston, SBA, TSB and the mean.
    return "rmsse" if profile == "intermittent" and metric == "mase" else metric


def _kept_candidates(
    models: tuple[str, ...], unfitted: dict[str, np.ndarray], profile: str, notes: list[str]
) -> list[str]:
    """Candidates fitted on enough windows to be compared, so that some windows have all
    of them fitted: those unfitted on more than ``MAX_UNFITTED`` of the windows leave, then
    the one unfitted on most windows, one at a time, until a window has all the rest."""
    n_rows = len(next(iter(unfitted.values()))) if unfitted else 0
    if n_rows == 0:
        return list(models)
    kept = [n for n in models if unfitted[n].mean() <= MAX_UNFITTED] or [
        min(models, key=lambda n: (int(unfitted[n].sum()), models.index(n)))
    ]
    while len(kept) > 1 and np.any([unfitted[n] for n in kept], axis=0).all():
        kept.remove(max(kept, key=lambda n: (int(unfitted[n].sum()), kept.index(n))))
    for name in models:
        if name not in kept:
            notes.append(
                f"{SPECS[name].label} left out of the choice for {profile} series: not "
                f"fitted on {int(unfitted[name].sum())} of {n_rows} backtest windows"
            )
    return kept


def _selection_groups(
    profile: str,
    idx: list[int],
    plan: Plan,
    cuts: dict[int, tuple[int, ...]],
    runs: list[SeriesRun],
    lags: list[int],
    notes: list[str],
) -> list[tuple[str | None, list[int]]]:
    """The groups a profile's choice is made in: ``(None, idx)``, or the series the global
    models could be backtested on and, apart, those they could not.

    On one calendar a series that ends before the panel's last period has all its global
    windows left unscored (their future is in the other series' training data, see
    :func:`end_lags`). Its windows then hold no candidate that the global models can be
    compared with, so in one group it adds nothing to the choice, which the other series
    make for it, and nothing to the calibration of its intervals. A data set that stopped
    earlier than the rest (a province that stopped reporting, a discontinued product, a
    collection of series from several sources) would be forecast by a model never
    checked on it. Such series choose apart, among the candidates fitted on their windows.
    """

    def global_names(i: int) -> list[str]:
        return [n for n in plan[i][0] if SPECS[n].is_global]

    def unscored(i: int) -> bool:
        failed = runs[i].failed
        return all(n in failed and bool(failed[n].all()) for n in global_names(i))

    early = [i for i in idx if lags[i] > 0 and cuts[i] and global_names(i) and unscored(i)]
    gone = set(early)
    rest = [i for i in idx if i not in gone]
    scored_elsewhere = any(cuts[i] and global_names(i) and not unscored(i) for i in rest)
    if not early or not scored_elsewhere:
        return [(None, idx)]
    labels = sorted({SPECS[n].label for i in early for n in global_names(i)})
    notes.append(
        f"{len(early)} {profile} series end before the panel's last period, so "
        f"{', '.join(labels)} could not be backtested on them: they are chosen for apart "
        f"(early-ending {profile}), among the candidates fitted on their windows"
    )
    return [(None, rest), (f"early-ending {profile}", early)]


def _crossfit_folds(
    series: np.ndarray, window: np.ndarray, usable: np.ndarray
) -> np.ndarray | None:
    """Two folds of the rows for choosing members on one and scoring on the other: by
    series (odd and even), else by window when there is one series; None when neither
    gives both folds usable rows."""
    for folds in (calibration.fold(series), window % 2):
        if all((usable & (folds == f)).any() for f in (0, 1)):
            return folds
    return None


def _group(
    profile: str,
    members: list[int],
    series: list[SeriesInfo],
    plan: Plan,
    cuts: dict[int, tuple[int, ...]],
    runs: list[SeriesRun],
    config: EngineConfig,
    m: int,
    notes: list[str],
    group: str | None = None,
) -> _Group:
    """Stack a profile's backtest windows, add its ensembles, and choose.

    ``group`` names the series in notes, reasons and the leaderboard when they are a part
    of the profile (see :func:`_selection_groups`); the profile's name otherwise.

    Candidates are compared on the windows where all of them were fitted (per-series
    choice: on each candidate's own fitted windows); an ensemble's window combines the
    members fitted there, and its final forecast the members whose fit on the whole
    series succeeded; the best-three ensembles take their members from the other half of
    the series (or of the windows, for one series), so that picking the members and
    scoring their combination never use the same windows.
    """
    h = config.horizon
    models, ens = plan[members[0]]
    metric = _metric_for(profile, config.metric)
    who = group or profile
    rows, window, actual, scale, scale2 = [], [], [], [], []
    fc: dict[str, list[np.ndarray]] = {name: [] for name in models}
    lost: dict[str, list[bool]] = {name: [] for name in models}
    for k, idx in enumerate(members):
        s = series[idx]
        for j, c in enumerate(cuts[idx]):
            rows.append(k)
            window.append(j)
            actual.append(s.y[c : c + h])
            s1, s2 = profiles.scales(s.y[:c], s.season(m))
            scale.append(s1)
            scale2.append(s2)
            for name in models:
                fc[name].append(runs[idx].backtest[name][j])
                failed = runs[idx].failed.get(name)
                lost[name].append(bool(failed[j]) if failed is not None else False)
    n_rows = len(rows)
    all_unfitted = {name: np.asarray(v, dtype=bool) for name, v in lost.items()}
    kept = _kept_candidates(models, all_unfitted, who, notes)
    ws = WindowSet(
        np.asarray(rows, dtype=int),
        np.asarray(actual, dtype=float).reshape(-1, h),
        np.asarray(scale, dtype=float),
        np.asarray(scale2, dtype=float),
        {name: np.asarray(fc[name], dtype=float).reshape(-1, h) for name in kept},
    )
    unfitted = {name: all_unfitted[name] for name in kept}
    common = ~np.any([unfitted[n] for n in kept], axis=0) if n_rows else np.zeros(0, bool)
    if n_rows and not common.any():  # a single candidate unfitted everywhere
        common = np.ones(n_rows, dtype=bool)
    finals = {name: np.stack([runs[idx].final[name] for idx in members]) for name in kept}
    final_lost = {
        name: np.array([name in runs[idx].final_failed for idx in members]) for name in kept
    }
    scores = score_table(ws.subset(common))
    ens_members = [name for name in kept if name in ENSEMBLE_MEMBERS]
    member_lists: dict[str, list[str]] = {}
    folds = _crossfit_folds(ws.series, np.asarray(window, dtype=int), common)
    buildable = ensemble_members(scores, ens_members, metric)
    for ens_name in ens:
        if ens_name not in buildable:
            need = 4 if ens_name.endswith("3") else 2
            notes.append(
                f"{ens_name} left out for {who} series: {len(ens_members)} ensemble "
                f"member(s) among the fitted candidates, it needs at least {need}"
            )
    for ens_name, chosen in buildable.items():
        if ens_name not in ens:
            continue
        rule = "median" if "median" in ens_name else "mean"
        bt, none = _combine_fitted(ws.forecasts, unfitted, chosen, rule)
        if ens_name.endswith("3"):
            if folds is None:
                notes.append(
                    f"{ens_name} left out of the choice for {who} series: too few "
                    "backtest windows to choose its members on other windows than it is "
                    "scored on"
                )
                continue
            for f in (0, 1):
                other = ws.subset(common & (folds != f))
                pick = ensemble_members(score_table(other), ens_members, metric)[ens_name]
                part, part_none = _combine_fitted(ws.forecasts, unfitted, pick, rule)
                bt[folds == f], none[folds == f] = part[folds == f], part_none[folds == f]
        ws.forecasts[ens_name] = bt
        unfitted[ens_name] = none
        finals[ens_name], final_lost[ens_name] = _combine_fitted(finals, final_lost, chosen, rule)
        member_lists[ens_name] = chosen
    scored = ws.subset(common)
    scores = score_table(scored)
    labels = {k: _label(k, ens_members, scores, metric) for k in ws.forecasts}

    names, n = list(ws.forecasts), len(members)
    row_picks: list[str] | None = None
    fold_picks: dict[int, list[str]] | None = None
    if len(names) == 1:
        picks, why = [names[0]] * n, [f"{who} series: {PROFILE_REASON[profile]}"] * n
    elif scored.n_rows == 0 or scores[metric].isna().all():
        # No window, or no finite score (MASE of a series that is all zeros in sample).
        default = profiles.no_window_default(names)
        cause = "no backtest window fits" if scored.n_rows == 0 else "no finite backtest score"
        picks, why = [default] * n, [f"{who} series: {cause}; default {labels[default]}"] * n
    else:
        picks, why, row_picks, fold_picks = _choose(
            who, ws, unfitted, np.asarray(window, dtype=int), common, names, n, config, metric
        )
    why = [
        w + _final_note(picks[k], k, final_lost, member_lists, labels) for k, w in enumerate(why)
    ]
    scores = scores.assign(
        profile=who,
        label=scores["model"].map(labels),
        selected=scores["model"].isin(set(picks)),
    )
    return _Group(
        profile,
        members,
        ws,
        unfitted,
        finals,
        final_lost,
        labels,
        scores,
        picks,
        why,
        member_lists,
        row_picks,
        fold_picks,
    )


def _choose(
    who: str,
    ws: WindowSet,
    unfitted: dict[str, np.ndarray],
    window: np.ndarray,
    common: np.ndarray,
    names: list[str],
    n: int,
    config: EngineConfig,
    metric: str,
) -> tuple[list[str], list[str], list[str] | None, dict[int, list[str]] | None]:
    """Each series' candidate and reason, and (``auto`` adopting per-series choice) each
    backtest row's candidate chosen without its window and, per window, every series'
    candidate chosen without it."""
    own = WindowSet(
        ws.series,
        ws.actual,
        ws.scale,
        ws.scale2,
        {k: np.where(unfitted[k][:, None], np.nan, f) for k, f in ws.forecasts.items()},
    )
    if config.selection == "per_series":
        picks, why = choose_per_series(own, names, metric, n, config.shrinkage)
        return picks, why, None, None
    prefer = "ens_mean" if "ens_mean" in ws.forecasts else None
    scored = ws.subset(common)
    best, why1 = choose_pooled(score_table(scored), metric, scored, prefer)
    check = (
        validate_per_series(own, window, common, names, metric, n, prefer)
        if config.selection == "auto"
        else None
    )
    if check is None or check.shrinkage is None or check.row_picks is None:
        reason = f"{who} series: {why1}"
        if check is not None:
            reason += (
                f"; per-series choice not adopted: held-out {metric.upper()} "
                f"{check.pooled + check.gap:.3f} against {check.pooled:.3f} pooled "
                f"(standard error {check.se:.3f}, {check.n_series} series)"
            )
        return [best] * n, [reason] * n, None, None
    picks, own_why = choose_per_series(own, names, metric, n, check.shrinkage)
    why = [
        f"{who} series: {w}; per-series choice adopted: held-out {metric.upper()} "
        f"{check.pooled + check.gap:.3f} against {check.pooled:.3f} pooled (standard error "
        f"{check.se:.3f}, {check.n_series} series)"
        for w in own_why
    ]
    # A row no rule chose for (its window held out with no other row to learn from) keeps
    # its series' final choice.
    row_picks = [
        names[c] if c >= 0 else picks[k]
        for c, k in zip(check.row_picks.tolist(), ws.series.tolist(), strict=True)
    ]
    folds = {j: [names[c] for c in index.tolist()] for j, index in (check.fold_picks or {}).items()}
    return picks, why, row_picks, folds


def _final_note(
    pick: str,
    k: int,
    final_lost: dict[str, np.ndarray],
    member_lists: dict[str, list[str]],
    labels: dict[str, str],
) -> str:
    """What the reason should add when the chosen forecast of series ``k`` is not all the
    chosen candidate's own: its fit on the whole series (or a member's) failed."""
    if pick in member_lists:
        gone = [labels.get(m, SPECS[m].label) for m in member_lists[pick] if final_lost[m][k]]
        if gone and not final_lost[pick][k]:
            return (
                f"; {', '.join(gone)} failed on the full series and left this series' combination"
            )
    if final_lost[pick][k]:
        return "; its fit on the full series failed: naive forecast used"
    return ""


def _label(name: str, members: list[str], scores: pd.DataFrame, metric: str) -> str:
    """Display label: ``AutoETS`` for models, ``Median(AutoETS, ...)`` for ensembles."""
    if name in SPECS:
        return SPECS[name].label
    chosen = ensemble_members(scores, members, metric).get(name, [])
    rule = "Median" if "median" in name else "Mean"
    return f"{rule}({', '.join(SPECS[k].label for k in chosen)})"
