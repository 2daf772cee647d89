"""Prophet with Vietnamese Tết as per-period regressors, behind
:class:`~forecast.methods.base.BaseForecaster`.

Prophet's own ``holidays`` work on daily timestamps: a holiday counts when a ``ds`` falls on
it. Monthly and quarterly sales are stamped on the first day of the period, so Tết (late
January to mid February) would almost never "happen". Here Tết enters as regressors that
count the days of each window inside the period (:func:`forecast.data.calendar.tet_features`),
so the February of a year whose Tết falls in February gets the holiday and the January
before it the pre-Tết shopping weeks.

Wrapping fixes three habits of the library: a fresh ``Prophet`` object is built on every
``fit`` (Prophet objects can be fit only once), its loggers are silenced only while it
runs and restored afterwards (Prophet sets its logger level at import, cmdstanpy logs every
optimisation), and with the default ``uncertainty_samples=0`` numpy's global random state
is never touched (Prophet samples intervals from ``np.random``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import pandas as pd

from forecast.data.calendar import POST_TET_DAYS, PRE_TET_DAYS, tet_features
from forecast.errors import InvalidParameterError
from forecast.methods.adapters import library_errors
from forecast.methods.base import (
    BaseForecaster,
    FloatArray,
    Prediction,
    Tags,
    residual_intervals,
)

if TYPE_CHECKING:  # pragma: no cover - import is heavy and only needed when fitting
    from prophet import Prophet

#: Loggers silenced while Prophet runs (cmdstanpy logs "Chain [1] start processing" on
#: every fit; Prophet logs its automatic choices and, at import, missing plotting libs).
_LOGGERS = ("prophet", "prophet.plot", "prophet.models", "cmdstanpy")

#: Scale of the Tết regressors: the length of each window, so a regressor is the share of
#: the window inside the period (0..1) and its coefficient is the effect of a whole window.
#: The official holiday lasts 4-7 days (7 from 2017 on in ``holidays``' calendar).
_TET_SCALE = {
    "tet_days": 7.0,
    "pre_tet_days": float(PRE_TET_DAYS),
    "post_tet_days": float(POST_TET_DAYS),
}

#: Periods per year by period frequency, for yearly seasonality.
_PER_YEAR = {"M": 12, "Q": 4, "W": 52, "D": 365}
#: Default Fourier order of the yearly seasonality: small, since a monthly series has only
#: 12 points a year (order > 6 aliases) and a quarterly one 4 (order 2 spans all 3 contrasts).
_DEFAULT_ORDER = {"M": 4, "Q": 2, "W": 6, "D": 10}


@contextmanager
def quiet_loggers(names: tuple[str, ...] = _LOGGERS) -> Iterator[None]:
    """Silence ``names`` for the duration of the block and restore their levels after.

    Levels are process-wide, so this is not meant for threads fitting concurrently; the
    engine runs models in worker processes.
    """
    loggers = [logging.getLogger(n) for n in names]
    saved = [(lg.level, lg.disabled) for lg in loggers]
    for lg in loggers:
        # Both: cmdstanpy sets its own level on first use, which would undo a level alone.
        lg.setLevel(logging.CRITICAL + 1)
        lg.disabled = True
    try:
        yield
    finally:
        for lg, (level, disabled) in zip(loggers, saved, strict=True):
            lg.setLevel(level)
            lg.disabled = disabled


@contextmanager
def _seeded_global_rng(seed: int) -> Iterator[None]:
    """Seed numpy's global RNG for the block and put the caller's state back afterwards.

    The one place the service touches the global RNG (everything else takes a seed or a
    ``Generator``): Prophet (1.x) draws its simulated trend changes and noise from
    ``np.random``'s module functions in ``predict`` and ``predictive_samples`` and takes
    neither a seed nor a ``Generator``, so seeding the global state is the only way to make
    sampled intervals reproducible short of re-implementing Prophet's simulation. The
    state is restored in ``finally``, so the caller's stream is unchanged, and the block
    runs only when ``uncertainty_samples > 0``. It is not safe with threads drawing from
    ``np.random`` at the same time; the engine fits models in worker processes.
    """
    state = np.random.get_state()
    np.random.seed(seed % 2**32)
    try:
        yield
    finally:
        np.random.set_state(state)


def _prophet_class() -> type[Prophet]:
    with quiet_loggers():
        from prophet import Prophet
    return Prophet


def tet_regressors(periods: pd.PeriodIndex) -> pd.DataFrame:
    """Tết regressors of ``periods``: share (0..1) of the Tết holiday, the pre-Tết weeks and
    the post-Tết weeks that falls inside each period."""
    feats = tet_features(periods)
    out = pd.DataFrame(index=range(len(periods)))
    for col, scale in _TET_SCALE.items():
        out[col] = np.minimum(feats[col].to_numpy(dtype=float) / scale, 1.0)
    return out


class ProphetTet(BaseForecaster):
    """Prophet (Taylor & Letham 2018) with Tết regressors for monthly and quarterly sales.

    Parameters
    ----------
    season_length : int, default=12
        Periods per seasonal cycle; 1 turns the yearly seasonality off (short series).
    seed : int, default=0
        Seed of Stan's optimiser and, when ``uncertainty_samples > 0``, of interval sampling.
    changepoint_prior_scale : float, default=0.05
        Flexibility of the piecewise-linear trend (Prophet's default).
    seasonality_prior_scale : float, default=10.0
        Prior scale of the yearly Fourier terms.
    seasonality_mode : {"additive", "multiplicative"}, default="additive"
        How seasonality and Tết effects combine with the trend.
    yearly_order : int or None, default=None
        Fourier order of the yearly seasonality; None means 4 for monthly and 2 for
        quarterly data. The seasonality is dropped with less than two years of history
        (as Prophet's ``auto`` does) and for annual data.
    n_changepoints : int, default=25
        Potential trend changepoints (Prophet caps it at the history length).
    tet : bool, default=True
        Add the Tết regressors (``tet_days``, ``pre_tet_days``, ``post_tet_days`` as shares
        of their windows inside each period, see :func:`tet_regressors`).
    tet_prior_scale : float, default=10.0
        Prior scale of the Tết coefficients (values are scaled by the series' max).
    optimizer : {"LBFGS", "Newton", "BFGS"}, default="LBFGS"
        Stan's optimiser for the MAP fit. Prophet picks Newton below 100 observations,
        which takes about 10x longer than L-BFGS (0.3-0.5 s against 0.05 s on 8 years of
        months) for practically the same optimum; Prophet falls back to Newton if L-BFGS
        fails.
    uncertainty_samples : int, default=0
        0: intervals come from empirical quantiles of the in-sample residuals widened with
        sqrt(h) (:func:`~forecast.methods.base.residual_intervals`), and numpy's global RNG
        is never used. > 0: Prophet's simulated intervals from this many draws, taken
        with the global RNG seeded from ``seed`` and restored afterwards.

    Notes
    -----
    Forecasts and interval bounds are clipped at 0 when the training data are
    non-negative: the linear trend can otherwise run below zero, which sales cannot.
    """

    tags: ClassVar[Tags] = Tags(min_length=3, seasonal=True, needs_periods=True)

    def __init__(
        self,
        *,
        season_length: int = 12,
        seed: int = 0,
        changepoint_prior_scale: float = 0.05,
        seasonality_prior_scale: float = 10.0,
        seasonality_mode: Literal["additive", "multiplicative"] = "additive",
        yearly_order: int | None = None,
        n_changepoints: int = 25,
        tet: bool = True,
        tet_prior_scale: float = 10.0,
        optimizer: Literal["LBFGS", "Newton", "BFGS"] = "LBFGS",
        uncertainty_samples: int = 0,
    ) -> None:
        self.season_length = season_length
        self.seed = seed
        self.changepoint_prior_scale = changepoint_prior_scale
        self.seasonality_prior_scale = seasonality_prior_scale
        self.seasonality_mode = seasonality_mode
        self.yearly_order = yearly_order
        self.n_changepoints = n_changepoints
        self.tet = tet
        self.tet_prior_scale = tet_prior_scale
        self.optimizer = optimizer
        self.uncertainty_samples = uncertainty_samples

    # ------------------------------------------------------------------ validation
    def _check_params(self) -> None:
        name = type(self).__name__

        def bad(param: str, allowed: str) -> InvalidParameterError:
            return InvalidParameterError(
                f"The {param!r} parameter of {name} must be {allowed}. "
                f"Got {getattr(self, param)!r} instead."
            )

        if self.seasonality_mode not in ("additive", "multiplicative"):
            raise bad("seasonality_mode", "'additive' or 'multiplicative'")
        if self.optimizer not in ("LBFGS", "Newton", "BFGS"):
            raise bad("optimizer", "'LBFGS', 'Newton' or 'BFGS'")
        for param in ("changepoint_prior_scale", "seasonality_prior_scale", "tet_prior_scale"):
            value = getattr(self, param)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise bad(param, "a float > 0")
        for param, low in (("season_length", 1), ("n_changepoints", 0), ("seed", 0)):
            value = getattr(self, param)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
                raise bad(param, f"an int >= {low}")
        us = self.uncertainty_samples
        if isinstance(us, bool) or not isinstance(us, int | np.integer) or us < 0:
            raise bad("uncertainty_samples", "an int >= 0")
        yo = self.yearly_order
        if yo is not None and (isinstance(yo, bool) or not isinstance(yo, int) or yo < 0):
            raise bad("yearly_order", "None or an int >= 0")

    def _yearly(self, freq: str, n: int) -> int:
        """Fourier order of the yearly seasonality for this frequency and history."""
        per_year = _PER_YEAR.get(freq)
        if self.season_length <= 1 or per_year is None or n < 2 * per_year:
            return 0
        return _DEFAULT_ORDER[freq] if self.yearly_order is None else int(self.yearly_order)

    @staticmethod
    def _frame(periods: pd.PeriodIndex, tet: bool) -> pd.DataFrame:
        """Prophet's input: ``ds`` (period start) and, with ``tet``, the Tết regressors."""
        df = pd.DataFrame({"ds": periods.to_timestamp(how="start")})
        if tet:
            df = pd.concat([df, tet_regressors(periods)], axis=1)
        return df

    # ------------------------------------------------------------------ protocol
    def _fit(self, y: FloatArray, periods: pd.PeriodIndex | None) -> None:
        self._check_params()
        if periods is None:  # fit checks needs_periods; this keeps direct _fit calls typed
            raise InvalidParameterError(
                f"{type(self).__name__}.fit needs 'periods' (a PeriodIndex as long as y) to "
                "build the Tết regressors."
            )
        freq = periods.freqstr.split("-")[0]  # "M", "Q-DEC" -> "Q", "W-SUN" -> "W"
        order = self._yearly(freq, len(y))
        # Tết only makes sense below a year; annual periods all contain it.
        tet = bool(self.tet) and freq in _PER_YEAR
        prophet_cls = _prophet_class()
        model = prophet_cls(
            growth="linear",
            n_changepoints=int(self.n_changepoints),
            changepoint_prior_scale=float(self.changepoint_prior_scale),
            seasonality_prior_scale=float(self.seasonality_prior_scale),
            seasonality_mode=self.seasonality_mode,
            yearly_seasonality=False,
            weekly_seasonality=False,
            daily_seasonality=False,
            uncertainty_samples=int(self.uncertainty_samples),
        )
        if order > 0:
            model.add_seasonality(
                name="yearly",
                period=365.25,
                fourier_order=order,
                prior_scale=float(self.seasonality_prior_scale),
            )
        history = self._frame(periods, tet)
        if tet:
            for col in _TET_SCALE:
                # Already on a 0..1 scale; standardising would tie the coefficient's
                # meaning to how many Tết periods the history happens to contain.
                model.add_regressor(col, prior_scale=float(self.tet_prior_scale), standardize=False)
        history["y"] = y
        with library_errors(type(self).__name__, "fit"), quiet_loggers():
            model.fit(history, seed=int(self.seed) % 2**32, algorithm=self.optimizer)
        # Fitted state is set only once the fit succeeded.
        self.yearly_order_ = order
        self.tet_ = tet
        self.model_ = model
        self.history_ = history
        self.next_period_ = periods[-1] + 1
        self.nonnegative_ = bool((y >= 0).all())

    def _predict(self, h: int, levels: tuple[int, ...]) -> Prediction:
        future = self._frame(pd.period_range(self.next_period_, periods=h), self.tet_)
        sampled = self.uncertainty_samples > 0
        # With samples, Prophet's predict itself draws from np.random: seed all of it.
        rng = _seeded_global_rng(int(self.seed)) if sampled else nullcontext()
        with library_errors(type(self).__name__, "predict"), quiet_loggers(), rng:
            mean = self.model_.predict(future)["yhat"].to_numpy(dtype=float)
            if levels and sampled:
                draws = self.model_.predictive_samples(future)["yhat"]
                pred = _sample_intervals(mean, np.asarray(draws, dtype=float), levels)
            elif levels:
                fitted = self.model_.predict(self.history_.drop(columns="y"))["yhat"]
                resid = self.history_["y"].to_numpy(float) - fitted.to_numpy(float)
                pred = residual_intervals(mean, resid, levels)
            else:
                pred = Prediction(mean)
        if self.nonnegative_:
            pred = Prediction(
                np.maximum(pred.mean, 0.0),
                {lv: np.maximum(v, 0.0) for lv, v in pred.lo.items()},
                {lv: np.maximum(v, 0.0) for lv, v in pred.hi.items()},
            )
        return pred

    def fitted_structure(self) -> dict[str, Any]:
        """No automatic structure search: Prophet re-estimates everything on each fit."""
        self._check_fitted()
        return {}


def _sample_intervals(mean: FloatArray, draws: FloatArray, levels: tuple[int, ...]) -> Prediction:
    """Central intervals from simulated paths ``draws`` (h, n_draws), made to contain the
    point forecast (Prophet's draws are centred on the trend, not on ``yhat``)."""
    lo: dict[int, FloatArray] = {}
    hi: dict[int, FloatArray] = {}
    for lv in levels:
        a = (1 - lv / 100) / 2
        q_lo, q_hi = np.quantile(draws, [a, 1 - a], axis=1)
        lo[lv] = np.minimum(q_lo, mean)
        hi[lv] = np.maximum(q_hi, mean)
    return Prediction(mean, lo, hi)
