"""A global gradient-boosting model trained across all series (direct multi-horizon).

Every series contributes windows: the last ``n_lags`` values before an origin, divided by
the window's scale (mean absolute value of its last season), predict the scaled values
``1..max_horizon`` steps ahead. One scikit-learn ``HistGradientBoostingRegressor`` learns all
horizons at once, with the horizon, the target's season position, simple shape statistics,
Tết day counts and *step-aligned* seasonal features as inputs: for the row that predicts
step k, the values of the same season one and two cycles back and the seasonal naive
forecast with last year's drift. Trees cannot pick "the lag that matches step k" out of the
raw window on their own (it moves with k), so these features carry most of the
seasonality; on M3 monthly backtests they cut the model's error by 4% (MASE 0.959 ->
0.918) while training on a third of the rows (see ``stride``). Sample weights make the
loss proportional to each series' MASE, so large and small series count alike. Learning
across series lets short and noisy series borrow strength from the rest of the panel,
which local models cannot do.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.ensemble import HistGradientBoostingRegressor

from forecast.data.calendar import tet_features
from forecast.errors import InvalidParameterError
from forecast.methods.base import (
    FloatArray,
    GlobalForecaster,
    Prediction,
    Tags,
    check_positive_ints,
)
from forecast.methods.scaled_windows import WindowScale, quiet_nan

_TET_COLUMNS = ("tet_days", "pre_tet_days", "post_tet_days")


class GlobalGBM(WindowScale, GlobalForecaster):
    """Gradient-boosted trees on scaled lag windows, shared by all series.

    Parameters
    ----------
    season_length : int, default=12
    max_horizon : int, default=18
        Longest horizon it can forecast (trained directly for each step).
    n_lags : int or None, default=None
        Input window length; None means ``2.5 * season_length`` (at least 8).
    max_origins : int, default=40
        Most recent training origins used per series (bounds cost on long series).
    stride : int, default=3
        Train on one (origin, step) pair in ``stride``, rotating the step with the origin
        so every step keeps every stride-th origin. Neighbouring origins share almost all
        of their values, so this cuts fit time about ``stride``-fold for little accuracy.
    max_windows : int, default=40000
        Budget of training windows for the whole panel, counted at ``stride=1`` (a stride
        of s trains on 1/s of each window's steps, so s times as many windows fit the
        same budget): with many series each one gets fewer origins
        (``max_windows * stride // n_series``, at least 6), so fit time stays bounded on
        large hierarchies.
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf, l2_regularization
        Passed to ``HistGradientBoostingRegressor``.
    loss : {"absolute_error", "squared_error"}, default="absolute_error"
        Absolute error, the loss MASE scores, is robust to a few huge scaled targets: a
        window whose last season is near 0 (a series' trough) scales what follows to
        tens of times the usual size, and squared-error trees fit those rows at the cost
        of every other series of the panel (review 12, real series). Its leaf updates
        cost more per iteration, so it runs 200 iterations at a learning rate of 0.075
        (the squared-error fit had 300 at 0.05): the same accuracy in the M3 ablation, for
        about 1.2 times the squared-error fit's time instead of 1.6.
    use_calendar : bool, default=True
        Add Tết day counts of the target period (monthly or quarterly data with periods).
    random_state : int, default=0
        Seed of the tree learner; fixed so forecasts are reproducible.
    """

    tags: ClassVar[Tags] = Tags(is_global=True)

    def __init__(
        self,
        *,
        season_length: int = 12,
        max_horizon: int = 18,
        n_lags: int | None = None,
        max_origins: int = 40,
        stride: int = 3,
        max_windows: int = 40000,
        max_iter: int = 200,
        learning_rate: float = 0.075,
        max_leaf_nodes: int = 63,
        min_samples_leaf: int = 50,
        l2_regularization: float = 0.0,
        loss: str = "absolute_error",
        use_calendar: bool = True,
        random_state: int = 0,
    ) -> None:
        self.season_length = season_length
        self.max_horizon = max_horizon
        self.n_lags = n_lags
        self.max_origins = max_origins
        self.stride = stride
        self.max_windows = max_windows
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.loss = loss
        self.use_calendar = use_calendar
        self.random_state = random_state

    # ------------------------------------------------------------------ features
    def _lags(self) -> int:
        return self.n_lags if self.n_lags is not None else max(8, round(2.5 * self._m))

    def _windows(self, y: FloatArray, origins: np.ndarray) -> np.ndarray:
        """Left-NaN-padded windows of the ``n_lags`` values before each origin."""
        lags = self._lags()
        padded = np.concatenate([np.full(lags, np.nan), y])
        return sliding_window_view(padded, lags)[origins]  # origin t -> y[t - lags : t]

    def _window_features(self, win: np.ndarray, scale: np.ndarray) -> np.ndarray:
        m = self._m
        x = win / scale[:, None]
        with quiet_nan():
            prev = (
                np.nanmean(np.abs(win[:, -2 * m : -m]), axis=1) / scale
                if win.shape[1] > m
                else np.full(len(win), np.nan)
            )
            spread = np.nanstd(x[:, -m:], axis=1)
            recent = x[:, -1] / np.nanmean(x[:, -3:], axis=1)
            n_obs = np.log1p(np.sum(np.isfinite(win), axis=1))
        return np.column_stack([x, prev, spread, recent, n_obs])

    def _aligned(self, win: np.ndarray, scale: np.ndarray) -> np.ndarray:
        """Step-aligned features, shape (windows, max_horizon, 3): for step k the scaled
        value of the same season one and two cycles back, and the first plus the mean
        change between the last two cycles per elapsed cycle (seasonal naive with drift)."""
        m, big_h, lags = self._m, self.max_horizon, win.shape[1]
        x = win / scale[:, None]
        ks = np.arange(big_h)
        nan = np.full((len(x), big_h), np.nan)
        with quiet_nan():
            sn1 = x[:, lags - m + (ks % m)] if lags >= m else nan
            sn2 = x[:, lags - 2 * m + (ks % m)] if lags >= 2 * m else nan
            if lags >= 2 * m:
                slope = np.nanmean(x[:, -m:], axis=1) - np.nanmean(x[:, -2 * m : -m], axis=1)
                slope = np.where(np.isfinite(slope), slope, 0.0)
            else:
                slope = np.zeros(len(x))
            drift = sn1 + slope[:, None] * (1 + ks // m)[None, :]
        return np.stack([sn1, sn2, drift], axis=2)

    def _expand(
        self, feats: np.ndarray, aligned: np.ndarray, pos: np.ndarray, cal: np.ndarray | None
    ) -> np.ndarray:
        """Rows (window, step k) -> [window features, aligned features of k, k, season
        position of the target, Tết counts]."""
        n, big_h = len(feats), self.max_horizon
        rows = np.repeat(np.arange(n), big_h)
        ks = np.tile(np.arange(big_h), n)
        parts = [
            feats[rows],
            aligned.reshape(n * big_h, -1),
            ks[:, None],
            ((pos[rows] + ks) % self._m)[:, None],
        ]
        if cal is not None:
            parts.append(cal.reshape(n * big_h, -1))
        return np.hstack(parts).astype(np.float32)

    def _calendar_table(self, periods: list[pd.PeriodIndex]) -> tuple[pd.Period, np.ndarray]:
        """Tết counts from the earliest start to the latest end + horizon, computed once
        for the panel (per-series calls would dominate the fit time)."""
        first = min(p[0] for p in periods)
        last = max(p[-1] for p in periods) + self.max_horizon
        full = pd.period_range(first, last, freq=periods[0].freq)
        return first, tet_features(full)[list(_TET_COLUMNS)].to_numpy(dtype=np.float32)

    def _calendar(
        self,
        table: tuple[pd.Period, np.ndarray] | None,
        start: pd.Period | None,
        origins: np.ndarray,
    ) -> np.ndarray | None:
        if table is None or start is None:
            return None
        first, feats = table
        idx = (start - first).n + origins[:, None] + np.arange(self.max_horizon)[None, :]
        return feats[idx]

    def _season_pos(self, start: pd.Period | None, origins: np.ndarray) -> np.ndarray:
        """Season position of the first target period after each origin."""
        m = self._m
        if start is None or m not in (4, 12):
            return origins % m
        base = (start.month - 1) if m == 12 else (start.quarter - 1)
        return (base + origins) % m

    def _weights(self, win: np.ndarray, scale: np.ndarray) -> np.ndarray:
        m = self._m
        with quiet_nan():
            d1: np.ndarray = np.nanmean(np.abs(np.diff(win, axis=1)), axis=1)
            d: np.ndarray = (
                np.nanmean(np.abs(win[:, m:] - win[:, :-m]), axis=1) if win.shape[1] > m else d1
            )
        d = np.where(np.isfinite(d) & (d > 0), d, d1)
        return np.where(np.isfinite(d) & (d > 0), scale / np.where(d > 0, d, 1.0), 1.0)

    def _use_calendar(self) -> bool:
        """Whether a fit with periods adds Tết counts (they exist for months and quarters)."""
        return bool(self.use_calendar and self._m in (4, 12))

    # ------------------------------------------------------------------ protocol
    def _fit(self, ys: list[FloatArray], periods: list[pd.PeriodIndex] | None) -> None:
        names = ["max_horizon", "stride", "max_origins", "max_windows"]
        check_positive_ints(self, names + ([] if self.n_lags is None else ["n_lags"]))
        big_h = self.max_horizon
        table = (
            self._calendar_table(periods) if periods is not None and self._use_calendar() else None
        )
        budget = self.max_windows * self.stride // max(1, len(ys))
        per_series = max(6, min(self.max_origins, budget))
        xs, ts, ws, steps = [], [], [], []
        for i, y in enumerate(ys):
            n = len(y)
            lo = max(min(self._m + 1, n - big_h), 2)
            origins = np.arange(max(lo, n - big_h - per_series + 1), n - big_h + 1)
            if len(origins) == 0:
                continue
            start = periods[i][0] if periods is not None else None
            win = self._windows(y, origins)
            scale = self._scale(win)
            feats = self._window_features(win, scale)
            aligned = self._aligned(win, scale)
            cal = self._calendar(table, start, origins)
            x_i = self._expand(feats, aligned, self._season_pos(start, origins), cal)
            t_i = (sliding_window_view(y, big_h)[origins] / scale[:, None]).reshape(-1)
            w_i = np.repeat(self._weights(win, scale), big_h)
            k_i = np.tile(np.arange(big_h), len(origins))
            keep = (np.repeat(origins, big_h) + k_i) % self.stride == 0
            xs.append(x_i[keep])
            ts.append(t_i[keep])
            ws.append(w_i[keep])
            steps.append(k_i[keep])
        if not xs or not sum(len(t) for t in ts):
            raise InvalidParameterError(
                "GlobalGBM needs at least one series longer than max_horizon + 2 = "
                f"{big_h + 2} values (and one season of inputs, season_length = {self._m}, "
                "where the series is long enough) with an (origin, step) pair left after "
                f"keeping one in stride = {self.stride}; found no training window"
            )
        x, t, w = np.vstack(xs), np.concatenate(ts), np.concatenate(ws)
        k_all = np.concatenate(steps)
        del xs, ts, ws, steps  # keep one copy of the training rows (peak memory)
        w = np.clip(w, 0.0, np.percentile(w, 99))
        season_col = x.shape[1] - 1 - (len(_TET_COLUMNS) if table is not None else 0)
        # Columns with fewer than two distinct values carry no information and make the
        # binning fail (small panels: e.g. no Tết in any target period).
        self.keep_ = np.array([len(np.unique(col[np.isfinite(col)])) >= 2 for col in x.T])
        if not self.keep_.any():
            raise InvalidParameterError(
                f"GlobalGBM found {len(t)} training row(s) and no feature that varies "
                "between them; it needs longer series or more of them"
            )
        if not self.keep_.all():
            x = x[:, self.keep_]
        categorical = [int(self.keep_[:season_col].sum())] if self.keep_[season_col] else None
        model = HistGradientBoostingRegressor(
            loss=self.loss,
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            categorical_features=categorical,
            # No early stopping: its held-out tenth and earlier stop cost accuracy (M3
            # monthly backtest MASE 0.923 against 0.918 with all iterations, measured
            # with the squared-error fit of that time).
            early_stopping=False,
            random_state=self.random_state,
        )
        self.model_ = model.fit(x, t, sample_weight=w)
        self.calendar_ = table
        # In-sample scaled residuals per step on a seeded subsample of rows, for the
        # standalone intervals only (the engine calibrates its own from backtests).
        rng = np.random.default_rng(self.random_state)
        pick = np.sort(rng.choice(len(t), size=min(len(t), 2000 * big_h), replace=False))
        res = t[pick] - self.model_.predict(x[pick])
        per_step = [res[k_all[pick] == k] for k in range(big_h)]
        self.residuals_ = np.full((max(len(r) for r in per_step), big_h), np.nan)
        for k, r in enumerate(per_step):
            self.residuals_[: len(r), k] = r
        self.train_periods_ = periods

    def _forward(
        self, ys: list[FloatArray], periods: list[pd.PeriodIndex] | None, hh: int
    ) -> list[Prediction]:
        table = self.calendar_
        if table is not None and periods is not None:
            need_last = max(p[-1] for p in periods) + self.max_horizon
            if need_last > table[0] + (len(table[1]) - 1) or min(p[0] for p in periods) < table[0]:
                table = self._calendar_table(periods)
        feats, aligned, pos, cals, scales = [], [], [], [], []
        for i, y in enumerate(ys):
            end = np.array([len(y)])
            start = periods[i][0] if periods is not None else None
            win = self._windows(np.asarray(y, dtype=float), end)
            scale = self._scale(win)
            feats.append(self._window_features(win, scale))
            aligned.append(self._aligned(win, scale))
            pos.append(self._season_pos(start, end))
            cals.append(self._calendar(table, start, end))
            scales.append(scale)
        cal = None if cals[0] is None else np.vstack([c for c in cals if c is not None])
        x = self._expand(np.vstack(feats), np.vstack(aligned), np.concatenate(pos), cal)
        x = x[:, self.keep_]
        scale_arr = np.concatenate(scales)
        pred = self.model_.predict(x).reshape(len(ys), self.max_horizon)[:, :hh]
        pred = pred * scale_arr[:, None]
        if self.nonnegative_:
            pred = np.maximum(pred, 0.0)
        return [Prediction(row.astype(float)) for row in pred]

    def _check_forward_periods(
        self, ys: list[FloatArray], periods: list[pd.PeriodIndex] | None
    ) -> None:
        name = type(self).__name__
        if self.train_periods_ is not None and periods is None:
            raise InvalidParameterError(
                f"{name} was fitted with calendar periods, so forward needs them too: pass "
                "'periods' (one PeriodIndex per series of ys)."
            )
        if self.train_periods_ is None and periods is not None:
            raise InvalidParameterError(
                f"{name} was fitted without calendar periods (integer time index), so "
                "forward cannot use them: call it without 'periods', or refit with periods."
            )
        if periods is None:
            return
        if len(periods) != len(ys):
            raise InvalidParameterError(
                f"{name}.forward needs one PeriodIndex per series of ys; got {len(periods)} "
                f"for {len(ys)} series."
            )
        for i, (p, y) in enumerate(zip(periods, ys, strict=True)):
            if len(p) != len(y):
                raise InvalidParameterError(
                    f"{name}.forward: periods[{i}] has {len(p)} periods but ys[{i}] has "
                    f"{len(y)} values; each calendar must be as long as its series."
                )

    def _predict(self, h: int, levels: tuple[int, ...]) -> list[Prediction]:
        preds = self.forward(self.train_ys_, periods=self.train_periods_, h=h)
        if not levels:
            return preds
        scales = [self._scale(self._windows(y, np.array([len(y)])))[0] for y in self.train_ys_]
        out = []
        for p, s in zip(preds, scales, strict=True):
            lo, hi = {}, {}
            for lv in levels:
                a = (1 - lv / 100) / 2
                q_lo, q_hi = np.nanquantile(self.residuals_[:, :h], [a, 1 - a], axis=0)
                lo[lv] = p.mean + np.minimum(q_lo, 0) * s
                hi[lv] = p.mean + np.maximum(q_hi, 0) * s
                if self.nonnegative_:
                    lo[lv] = np.maximum(lo[lv], 0.0)
            out.append(Prediction(p.mean, lo, hi))
        return out
