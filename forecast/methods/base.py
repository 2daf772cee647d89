"""The model protocol: scikit-learn style estimators that forecast one series or a panel.

Local models follow a template method: public :meth:`BaseForecaster.fit` and
:meth:`BaseForecaster.predict` validate and keep state; subclasses implement ``_fit`` and
``_predict`` on guaranteed inputs (a 1-D float array without NaN or inf). Parameters are
stored unchanged by a keyword-only ``__init__``; everything learned ends in ``_`` and is
deleted when a new fit starts or a fit fails. Global models (:class:`GlobalForecaster`)
learn one model across many series.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator

from forecast.errors import InvalidParameterError, NotFittedError

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Tags:
    """Capabilities a model declares, read by the engine instead of isinstance checks.

    Parameters
    ----------
    min_seasons
        Minimum training length in whole seasons (``ceil(min_seasons * m)``), at least
        ``min_length``.
    min_length
        Absolute minimum training length.
    seasonal
        Uses the season length (needs enough seasons to be worth it).
    intermittent
        Designed for series with many zeros.
    needs_periods
        Reads the calendar (``periods``), e.g. Tết regressors.
    is_global
        Learns across series (:class:`GlobalForecaster`).
    """

    min_seasons: float = 0.0
    min_length: int = 1
    seasonal: bool = False
    intermittent: bool = False
    needs_periods: bool = False
    is_global: bool = False

    def required_length(self, season_length: int) -> int:
        """Shortest series this model accepts for ``season_length``."""
        return max(self.min_length, int(np.ceil(self.min_seasons * season_length)))


@dataclass(frozen=True)
class Prediction:
    """Forecasts for one series: the point forecast and optional interval bounds.

    ``lo[level]`` and ``hi[level]`` hold bounds of the central ``level`` % interval.
    """

    mean: FloatArray
    lo: dict[int, FloatArray] = field(default_factory=dict)
    hi: dict[int, FloatArray] = field(default_factory=dict)


def check_series(y: ArrayLike, *, owner: str, min_length: int = 1) -> FloatArray:
    """Validate a training series and return a float copy of it.

    Parameters
    ----------
    y : array-like of shape (n_obs,)
        The series, in time order.
    owner : str
        Name of the estimator, used in error messages.
    min_length : int, default=1
        Fewest values accepted.

    Returns
    -------
    ndarray of shape (n_obs,)
        ``y`` as a new float64 array (the caller's data is never written to).

    Raises
    ------
    InvalidParameterError
        When ``y`` is not numeric, not 1-D, holds NaN or inf, or is shorter than
        ``min_length``.
    """
    try:
        arr = np.array(y, dtype=float, copy=True)
    except (TypeError, ValueError):
        raise InvalidParameterError(
            f"{owner}.fit expects a 1-D numeric array; got values that are not numbers."
        ) from None
    if arr.ndim != 1:
        raise InvalidParameterError(f"{owner}.fit expects a 1-D array; got shape {arr.shape}.")
    if not np.isfinite(arr).all():
        bad = int((~np.isfinite(arr)).sum())
        raise InvalidParameterError(
            f"{owner}.fit got {bad} missing or infinite values; fill or drop them first "
            "(the engine interpolates gaps before fitting)."
        )
    if len(arr) < min_length:
        raise InvalidParameterError(
            f"Train series only contains {len(arr)} values but {owner} requires at least "
            f"{min_length}."
        )
    return arr


def check_horizon(h: Any, owner: str) -> int:
    """Validate a forecast horizon.

    Parameters
    ----------
    h : int
        Steps ahead to forecast; ``bool`` is not accepted as an integer.
    owner : str
        Name of the estimator, used in error messages.

    Returns
    -------
    int
        ``h`` as a Python int.

    Raises
    ------
    InvalidParameterError
        When ``h`` is not an integer >= 1.
    """
    if isinstance(h, bool) or not isinstance(h, int | np.integer) or h < 1:
        raise InvalidParameterError(
            f"The 'h' parameter of {owner}.predict must be a positive integer. Got {h!r} instead."
        )
    return int(h)


def _shown(values: NDArray[np.float64]) -> str:
    return "[" + ", ".join(f"{v:g}" for v in values) + "]"


def check_levels(levels: ArrayLike, owner: str) -> tuple[int, ...]:
    """Validate interval levels.

    Parameters
    ----------
    levels : array-like of numbers
        Central interval coverages in percent, each a whole number strictly between 0
        and 100 (``80`` and ``80.0`` are the same level).
    owner : str
        Name of the estimator, used in error messages.

    Returns
    -------
    tuple of int
        The distinct levels, sorted.

    Raises
    ------
    InvalidParameterError
        When a level is not a number, is outside (0, 100) or is not a whole number:
        intervals are keyed by integer level, so 99.5 would otherwise be reported as the
        99 % interval.
    """
    try:
        raw = np.atleast_1d(np.asarray(levels, dtype=float))
    except (TypeError, ValueError):
        raise InvalidParameterError(
            f"'levels' of {owner} must be numbers (percent), e.g. (80, 95). Got {levels!r}."
        ) from None
    raw = raw.reshape(-1)
    if not ((raw > 0) & (raw < 100)).all():  # NaN fails both comparisons
        raise InvalidParameterError(
            f"Every value in 'levels' of {owner} must be between 0 and 100 (exclusive). "
            f"Got: {_shown(raw)}."
        )
    fractional = raw[raw != np.floor(raw)]
    if len(fractional):
        raise InvalidParameterError(
            f"Every value in 'levels' of {owner} must be a whole percent such as 80 or 95; "
            f"got {_shown(fractional)}."
        )
    return tuple(sorted({int(lv) for lv in raw}))


def check_is_fitted(est: object, attribute: str) -> None:
    """Raise :class:`NotFittedError` unless ``est`` has ``attribute``.

    Parameters
    ----------
    est : object
        The estimator.
    attribute : str
        A learned attribute that only a successful ``fit`` sets (e.g. ``n_obs_``).
    """
    if not hasattr(est, attribute):
        raise NotFittedError(
            f"This {type(est).__name__} instance is not fitted yet. Call 'fit' with "
            "appropriate arguments before using this estimator."
        )


def _checked_request(est: object, h: Any, levels: ArrayLike) -> tuple[int, tuple[int, ...]]:
    """``h`` and ``levels`` of a ``predict`` call, validated (errors name the estimator)."""
    name = type(est).__name__
    return check_horizon(h, name), check_levels(levels, name) if len(np.atleast_1d(levels)) else ()


def _forget_fit(est: object) -> None:
    """Delete every learned (trailing-underscore) attribute of ``est``.

    Called before a refit and when a fit fails, so an estimator whose last fit failed
    does not keep forecasting from the data of the fit before.
    """
    for attr in [a for a in vars(est) if a.endswith("_") and not a.startswith("__")]:
        delattr(est, attr)


class BaseForecaster(BaseEstimator):  # type: ignore[misc]
    """Base class of local (one series at a time) forecasters."""

    tags: ClassVar[Tags] = Tags()

    def fit(self, y: ArrayLike, *, periods: pd.PeriodIndex | None = None) -> Self:
        """Fit on one series.

        Parameters
        ----------
        y : array-like of shape (n_obs,)
            Observations in time order, no gaps.
        periods : PeriodIndex of length n_obs, optional
            Calendar of ``y``; required by models whose tags say ``needs_periods``.

        Returns
        -------
        self
        """
        _forget_fit(self)
        name = type(self).__name__
        min_len = self.tags.required_length(self._season_length())
        arr = check_series(y, owner=name, min_length=min_len)
        if self.tags.needs_periods and (periods is None or len(periods) != len(arr)):
            raise InvalidParameterError(
                f"{name}.fit needs 'periods' (a PeriodIndex as long as y) to build "
                "calendar features."
            )
        try:
            self._fit(arr, periods)
        except BaseException:
            _forget_fit(self)  # no half-set state from the failed fit
            raise
        self.n_obs_ = len(arr)
        self.last_period_ = None if periods is None else periods[-1]
        return self

    def predict(self, h: int, *, levels: ArrayLike = ()) -> Prediction:
        """Forecast the steps after the end of the training series.

        Parameters
        ----------
        h : int
            Steps ahead, >= 1.
        levels : array-like of int, default=()
            Central interval coverages in percent (e.g. ``(80, 95)``), each a whole
            number strictly between 0 and 100; empty for point forecasts only.

        Returns
        -------
        Prediction
            ``mean`` of shape (h,) and, for each level, ``lo[level]`` and ``hi[level]``.

        Raises
        ------
        NotFittedError
            Before a successful ``fit``.
        InvalidParameterError
            For an invalid ``h`` or ``levels``.
        """
        self._check_fitted()
        hh, lv = _checked_request(self, h, levels)
        return self._predict(hh, lv)

    def fitted_structure(self) -> dict[str, Any]:
        """Parameters that freeze the structure this fit chose (e.g. the ETS form).

        The engine refits the final model with these, so an automatic search done at the
        last backtest origin is not repeated on the full data. Empty for models without a
        search.
        """
        self._check_fitted()
        return {}

    # --- for subclasses -------------------------------------------------------------
    def _season_length(self) -> int:
        return int(getattr(self, "season_length", 1) or 1)

    def _fit(self, y: FloatArray, periods: pd.PeriodIndex | None) -> None:
        raise NotImplementedError

    def _predict(self, h: int, levels: tuple[int, ...]) -> Prediction:
        raise NotImplementedError

    def _check_fitted(self) -> None:
        check_is_fitted(self, "n_obs_")


class GlobalForecaster(BaseEstimator):  # type: ignore[misc]
    """Base class of models trained across many series at once."""

    tags: ClassVar[Tags] = Tags(is_global=True)

    def fit(self, ys: list[FloatArray], *, periods: list[pd.PeriodIndex] | None = None) -> Self:
        """Fit one model on a panel of series.

        Parameters
        ----------
        ys : list of array-like
            The series, each 1-D, finite and in time order; they may differ in length.
        periods : list of PeriodIndex, optional
            ``periods[i]`` is the calendar of ``ys[i]`` (as long as it); None for an
            integer time index. Required by models whose tags say ``needs_periods``.

        Returns
        -------
        self

        Raises
        ------
        InvalidParameterError
            When ``ys`` is empty, a series is invalid (see :func:`check_series`), required
            periods are missing, or a parameter is invalid.
        """
        _forget_fit(self)
        name = type(self).__name__
        if len(ys) == 0:
            raise InvalidParameterError(f"{name}.fit needs at least one series.")
        clean = [check_series(y, owner=name) for y in ys]
        if self.tags.needs_periods and (periods is None or len(periods) != len(clean)):
            raise InvalidParameterError(f"{name}.fit needs 'periods' for every series.")
        try:
            self._fit(clean, periods)
        except BaseException:
            _forget_fit(self)  # no half-set state from the failed fit
            raise
        # Every global model forecasts from the end of its training series and clips at
        # zero only when all of them were non-negative.
        self.train_ys_ = clean
        self.nonnegative_ = all(bool((y >= 0).all()) for y in clean)
        self.n_series_ = len(clean)
        return self

    def predict(self, h: int, *, levels: ArrayLike = ()) -> list[Prediction]:
        """Forecast the steps after the end of every training series.

        Parameters
        ----------
        h : int
            Steps ahead, >= 1 (models with a ``max_horizon`` parameter accept at most
            that many).
        levels : array-like of int, default=()
            Central interval coverages in percent (e.g. ``(80, 95)``), each a whole
            number strictly between 0 and 100; empty for point forecasts only.

        Returns
        -------
        list of Prediction
            One per training series, in training order; each ``mean`` has shape (h,).

        Raises
        ------
        NotFittedError
            Before a successful ``fit``.
        InvalidParameterError
            For an invalid ``h`` or ``levels``.
        """
        self._check_fitted()
        hh, lv = _checked_request(self, h, levels)
        return self._predict(hh, lv)

    def forward(
        self,
        ys: list[FloatArray],
        *,
        periods: list[pd.PeriodIndex] | None = None,
        h: int | None = None,
    ) -> list[Prediction]:
        """Forecast from the end of other series (or other origins) with the fitted model.

        Lets a backtest fit once at its earliest origin and forecast every later origin
        without refitting; only the values up to each origin are used.

        Parameters
        ----------
        ys : list of ndarray
            Series to forecast from the end of (e.g. training series truncated at an
            origin); finite floats, in time order.
        periods : list of PeriodIndex, optional
            ``periods[i]`` is the calendar of ``ys[i]`` (as long as it). Models that read
            the calendar (``GlobalGBM``'s season position and Tết features) require it
            exactly when they were fitted with periods and refuse it otherwise; the others
            ignore it.
        h : int, optional
            Steps ahead; defaults to ``max_horizon``, and cannot exceed it.

        Returns
        -------
        list of Prediction
            Point forecasts only (no intervals), one per series of ``ys``, in order.

        Raises
        ------
        NotFittedError
            Before a successful ``fit``.
        InvalidParameterError
            When ``h`` exceeds ``max_horizon``, or ``periods`` does not match the fit or
            ``ys`` (calendar models).
        """
        hh = self._fitted_horizon(h)
        self._check_forward_periods(ys, periods)
        if len(ys) == 0:
            return []
        return self._forward(ys, periods, hh)

    def _check_forward_periods(
        self, ys: list[FloatArray], periods: list[pd.PeriodIndex] | None
    ) -> None:
        """Refuse calendars that do not match the fit; a no-op for models that ignore them."""

    def _forward(
        self, ys: list[FloatArray], periods: list[pd.PeriodIndex] | None, h: int
    ) -> list[Prediction]:
        raise NotImplementedError

    def _fit(self, ys: list[FloatArray], periods: list[pd.PeriodIndex] | None) -> None:
        raise NotImplementedError

    def _predict(self, h: int, levels: tuple[int, ...]) -> list[Prediction]:
        raise NotImplementedError

    def _check_fitted(self) -> None:
        check_is_fitted(self, "n_series_")

    def _fitted_horizon(self, h: int | None) -> int:
        """``h`` (default: ``max_horizon``) after checking the model is fitted and was fitted
        for that many steps; for models with a ``max_horizon`` parameter."""
        self._check_fitted()
        name = type(self).__name__
        big_h = int(self.max_horizon)
        hh = big_h if h is None else check_horizon(h, f"{name}.forward")
        if hh > big_h:
            raise InvalidParameterError(
                f"{name} was fitted for max_horizon={big_h}; cannot forecast h={hh}. "
                f"Refit with max_horizon >= {hh}."
            )
        return hh


def check_positive_ints(est: object, names: list[str]) -> None:
    """Raise :class:`InvalidParameterError` unless each named parameter of ``est`` is an
    integer >= 1 (``bool`` is not accepted as one)."""
    for name in names:
        value = getattr(est, name)
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise InvalidParameterError(
                f"The '{name}' parameter of {type(est).__name__} must be an integer >= 1. "
                f"Got {value!r} instead."
            )


def residual_intervals(
    mean: FloatArray, residuals: FloatArray, levels: tuple[int, ...]
) -> Prediction:
    """Intervals from empirical quantiles of one-step residuals, widened with sqrt(h).

    A simple, distribution-free default for models without their own intervals; the
    engine replaces all intervals with backtest-calibrated (conformal) ones.

    Parameters
    ----------
    mean : ndarray of shape (h,)
        Point forecasts.
    residuals : ndarray
        In-sample one-step residuals (actual minus fitted); NaN and inf are ignored.
    levels : tuple of int
        Central interval coverages in percent, as returned by :func:`check_levels`.

    Returns
    -------
    Prediction
        ``mean`` and, per level, bounds that always contain it (with fewer than two
        finite residuals the bounds equal the mean).
    """
    res = residuals[np.isfinite(residuals)]
    widen = np.sqrt(np.arange(1, len(mean) + 1))
    lo: dict[int, FloatArray] = {}
    hi: dict[int, FloatArray] = {}
    for lv in levels:
        if len(res) < 2:
            q_lo = q_hi = 0.0
        else:
            q_lo, q_hi = np.quantile(res, [(1 - lv / 100) / 2, (1 + lv / 100) / 2])
        lo[lv] = mean + min(q_lo, 0.0) * widen
        hi[lv] = mean + max(q_hi, 0.0) * widen
    return Prediction(mean, lo, hi)
