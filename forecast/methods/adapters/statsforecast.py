"""statsforecast's compiled models (ETS, Theta family, CES, ARIMA, baselines, intermittent
demand) behind :class:`~forecast.methods.base.BaseForecaster`.

Each adapter builds a fresh statsforecast model in ``fit`` from its own parameters, so our
parameters are never shared with, or mutated by, the library.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from statsforecast import models as sf

from forecast.methods.adapters import library_errors
from forecast.methods.base import (
    BaseForecaster,
    FloatArray,
    Prediction,
    Tags,
    residual_intervals,
)


@contextmanager
def _library_numerics() -> Iterator[None]:
    """statsforecast's compiled code warns on degenerate candidate fits (division by zero
    in a variance it then discards); those warnings say nothing actionable to our users."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        # Theta's native intervals on very short series; the engine calibrates its own.
        warnings.filterwarnings("ignore", "Too few residuals", UserWarning)
        with np.errstate(all="ignore"):
            yield


@contextmanager
def _library_call(owner: str, stage: str) -> Iterator[None]:
    """statsforecast code, quiet, with its failures turned into ModelError."""
    with library_errors(owner, stage), _library_numerics():
        yield


class _Statsforecast(BaseForecaster):
    """Shared fit/predict for statsforecast models."""

    #: Whether the library returns prediction intervals for this model.
    _native_intervals: ClassVar[bool] = True

    def _make(self) -> Any:
        raise NotImplementedError

    def _fit(self, y: FloatArray, periods: pd.PeriodIndex | None) -> None:
        with _library_call(type(self).__name__, "fit"):
            self.model_ = self._make().fit(y)
        self.y_ = y

    def _predict(self, h: int, levels: tuple[int, ...]) -> Prediction:
        native = [lv for lv in levels if self._native_ok()]
        with _library_call(type(self).__name__, "predict"):
            out = self.model_.predict(h, level=native or None)
        mean = np.asarray(out["mean"], dtype=float)
        lo = {lv: np.asarray(out[f"lo-{lv}"], dtype=float) for lv in levels if f"lo-{lv}" in out}
        hi = {lv: np.asarray(out[f"hi-{lv}"], dtype=float) for lv in levels if f"hi-{lv}" in out}
        missing = tuple(lv for lv in levels if lv not in lo)
        if missing:  # no native intervals: fall back to in-sample residual quantiles
            fb = residual_intervals(mean, self._residuals(), missing)
            lo.update(fb.lo)
            hi.update(fb.hi)
        return Prediction(mean, lo, hi)

    def _native_ok(self) -> bool:
        """Whether to ask the library for intervals on this fit."""
        return self._native_intervals

    def _residuals(self) -> FloatArray:
        """One-step in-sample residuals (computed only when intervals are asked for)."""
        with _library_call(type(self).__name__, "compute residuals"):
            fitted = self._make().forecast(self.y_, 1, fitted=True)["fitted"]
        return np.asarray(self.y_ - fitted, dtype=float)


class Naive(_Statsforecast):
    """Last value carried forward."""

    tags: ClassVar[Tags] = Tags(min_length=1)

    def __init__(self) -> None:
        pass

    def _make(self) -> Any:
        return sf.Naive()


class SeasonalNaive(_Statsforecast):
    """Value of the same season one cycle earlier.

    Parameters
    ----------
    season_length : int, default=12
        Periods per seasonal cycle (12 monthly, 4 quarterly).
    """

    tags: ClassVar[Tags] = Tags(min_seasons=1.0, seasonal=True)

    def __init__(self, *, season_length: int = 12) -> None:
        self.season_length = season_length

    def _make(self) -> Any:
        return sf.SeasonalNaive(season_length=self.season_length)


class Drift(_Statsforecast):
    """Random walk with drift: the line from the first to the last observation, extended."""

    tags: ClassVar[Tags] = Tags(min_length=2)

    def __init__(self) -> None:
        pass

    def _make(self) -> Any:
        return sf.RandomWalkWithDrift()


class Mean(_Statsforecast):
    """Historical mean."""

    tags: ClassVar[Tags] = Tags(min_length=1)

    def __init__(self) -> None:
        pass

    def _make(self) -> Any:
        return sf.HistoricAverage()


class AutoETS(_Statsforecast):
    """Exponential smoothing state-space model with automatic form selection (AICc).

    Parameters
    ----------
    season_length : int, default=12
    model : str, default="ZZZ"
        Error, trend, season letters (``A``, ``M``, ``N``, ``Z`` = choose).
    damped : bool or None, default=None
        Damped trend; None lets the search decide.
    """

    # statsforecast refuses n <= n_params + 4 ("tiny datasets"); the smallest form
    # (level only, 2 parameters) needs 7 values.
    tags: ClassVar[Tags] = Tags(min_length=7, seasonal=True)

    def __init__(
        self, *, season_length: int = 12, model: str = "ZZZ", damped: bool | None = None
    ) -> None:
        self.season_length = season_length
        self.model = model
        self.damped = damped

    def _make(self) -> Any:
        return sf.AutoETS(season_length=self.season_length, model=self.model, damped=self.damped)

    def fitted_structure(self) -> dict[str, Any]:
        """The selected form, e.g. ``{"model": "MAM", "damped": True}``."""
        self._check_fitted()
        comp = self.model_.model_["components"]
        return {"model": comp[:3], "damped": comp[3] != "N"}


class Theta(_Statsforecast):
    """Standard Theta method (Assimakopoulos & Nikolopoulos 2000), seasonally adjusted.

    Parameters
    ----------
    season_length : int, default=12
    decomposition_type : {"multiplicative", "additive"}, default="multiplicative"
    """

    # The Theta family fits an SES state that statsforecast refuses below 4 values.
    tags: ClassVar[Tags] = Tags(min_length=4, seasonal=True)

    def __init__(
        self, *, season_length: int = 12, decomposition_type: str = "multiplicative"
    ) -> None:
        self.season_length = season_length
        self.decomposition_type = decomposition_type

    def _make(self) -> Any:
        return sf.Theta(
            season_length=self.season_length, decomposition_type=self.decomposition_type
        )


class OptimizedTheta(Theta):
    """Theta with the theta coefficient optimised (Fiorucci et al. 2016)."""

    def _make(self) -> Any:
        return sf.OptimizedTheta(
            season_length=self.season_length, decomposition_type=self.decomposition_type
        )


class DynamicOptimizedTheta(Theta):
    """Dynamic optimised Theta (Fiorucci et al. 2016), the strongest of the family on M3."""

    def _make(self) -> Any:
        return sf.DynamicOptimizedTheta(
            season_length=self.season_length, decomposition_type=self.decomposition_type
        )


class AutoCES(_Statsforecast):
    """Complex exponential smoothing (Svetunkov & Kourentzes) with automatic season type.

    Parameters
    ----------
    season_length : int, default=12
    model : {"Z", "N", "S", "P", "F"}, default="Z"
        Seasonality type; ``Z`` selects by information criterion.
    """

    # Below 5 values no CES form can be estimated ("no model able to be fitted").
    tags: ClassVar[Tags] = Tags(min_length=5, seasonal=True)

    def __init__(self, *, season_length: int = 12, model: str = "Z") -> None:
        self.season_length = season_length
        self.model = model

    def _make(self) -> Any:
        return sf.AutoCES(season_length=self.season_length, model=self.model)

    def _native_ok(self) -> bool:
        # statsforecast simulates CES intervals with 5,000 paths, and below 10 values
        # each path rebuilds a scipy distribution: 3.5 s per forecast instead of 0.05 s.
        return self.n_obs_ >= 10

    def fitted_structure(self) -> dict[str, Any]:
        """The selected seasonality type, e.g. ``{"model": "P"}``; none when the training
        part was constant (statsforecast then fits a constant, with no season type, and a
        later origin, where the series moves, searches the types afresh)."""
        self._check_fitted()
        season = self.model_.model_.get("seasontype")
        return {} if season is None else {"model": str(season)}


class AutoARIMA(_Statsforecast):
    """Seasonal ARIMA with automatic order selection (Hyndman & Khandakar 2008).

    Parameters
    ----------
    season_length : int, default=12
    """

    tags: ClassVar[Tags] = Tags(min_length=3, seasonal=True)

    def __init__(self, *, season_length: int = 12) -> None:
        self.season_length = season_length

    def _make(self) -> Any:
        return sf.AutoARIMA(season_length=self.season_length)


class Croston(_Statsforecast):
    """Croston's method for intermittent demand (separate size and interval smoothing)."""

    tags: ClassVar[Tags] = Tags(min_length=1, intermittent=True)
    _native_intervals: ClassVar[bool] = False

    def __init__(self) -> None:
        pass

    def _make(self) -> Any:
        return sf.CrostonClassic()


class CrostonSBA(Croston):
    """Syntetos-Boylan approximation: Croston with its bias corrected."""

    def _make(self) -> Any:
        return sf.CrostonSBA()


class TSB(_Statsforecast):
    """Teunter-Syntetos-Babai: smooths demand probability, so forecasts decay when
    demand stops (obsolescence).

    Parameters
    ----------
    alpha_d : float, default=0.1
        Smoothing of demand size.
    alpha_p : float, default=0.1
        Smoothing of demand probability.
    """

    tags: ClassVar[Tags] = Tags(min_length=1, intermittent=True)
    _native_intervals: ClassVar[bool] = False

    def __init__(self, *, alpha_d: float = 0.1, alpha_p: float = 0.1) -> None:
        self.alpha_d = alpha_d
        self.alpha_p = alpha_p

    def _make(self) -> Any:
        return sf.TSB(alpha_d=self.alpha_d, alpha_p=self.alpha_p)
