"""Scale-free windows of a panel, shared by the global models that compare shapes.

A window is ``n_lags`` input values followed by ``max_horizon`` future values. It is
divided by its scale (mean absolute value of the last season of the input part) and, when
every training value is positive, put on a log scale, so that windows of series at any
level compare by *shape*: trend, seasonal pattern, recent turn. :mod:`global_knn` matches
such windows; :mod:`global_mlp` learns from them. :mod:`global_gbm` divides its
(NaN-padded) windows by the same scale, from :class:`WindowScale`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from forecast.errors import InvalidParameterError
from forecast.methods.base import FloatArray

#: Scaled values are floored here before the log (a zero would be -inf).
LOG_FLOOR = 1e-3


@contextmanager
def quiet_nan() -> Iterator[None]:
    """Silence numpy's warnings on all-NaN rows and 0/0 for the block.

    Windows of short series are NaN-padded on the left; statistics of their all-NaN parts
    are NaN by design and replaced by the caller, so the warnings say nothing.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with np.errstate(invalid="ignore", divide="ignore"):
            yield


class WindowScale:
    """Mixin for models with a ``season_length``: the season length and window scales."""

    season_length: int

    @property
    def _m(self) -> int:
        return max(1, int(self.season_length))

    def _scale(self, win: np.ndarray) -> np.ndarray:
        """Mean absolute value of the last season of each input window (or of the whole
        window, or 1 when that is zero too); NaN (left padding) is ignored.

        On windows without NaN ``nanmean`` sums and divides exactly as ``mean`` does, so
        the padded (GlobalGBM) and unpadded (GlobalKNN, GlobalMLP) windows share it.
        """
        with quiet_nan():
            s: np.ndarray = np.nanmean(np.abs(win[:, -self._m :]), axis=1)
            s_all: np.ndarray = np.nanmean(np.abs(win), axis=1)
        s = np.where(np.isfinite(s) & (s > 0), s, s_all)
        return np.where(np.isfinite(s) & (s > 0), s, 1.0)


class ScaledWindows(WindowScale):
    """Mixin for models with ``season_length``, ``max_horizon``, ``log`` and a ``_lags()``
    method; ``fit`` calls :meth:`_set_log` (work on the log scale?) before making windows."""

    max_horizon: int
    log_: bool

    def _lags(self) -> int:
        raise NotImplementedError

    def _min_input(self) -> int:
        """Fewest real values before an origin for a (padded) library window."""
        return min(self._lags(), max(self._m, 4))

    def _set_log(self, ys: list[FloatArray]) -> None:
        """``log_`` from the ``log`` parameter; None means "when every value is positive"."""
        log = getattr(self, "log", None)
        self.log_ = bool(log) if log is not None else all(bool((y > 0).all()) for y in ys)

    def _to_space(self, z: np.ndarray) -> np.ndarray:
        return np.log(np.maximum(z, LOG_FLOOR)) if self.log_ else z

    def _from_space(self, z: np.ndarray) -> np.ndarray:
        return np.exp(z) if self.log_ else z

    def _last_windows(self, ys: list[FloatArray]) -> tuple[np.ndarray, np.ndarray]:
        """Last ``n_lags`` values of each series on the model scale (left-padded with the
        first value when shorter), shape (series, n_lags), and their scales."""
        lags = self._lags()
        rows = []
        for y in ys:
            arr = np.asarray(y, dtype=float)
            w = arr[-lags:] if len(arr) >= lags else np.r_[np.full(lags - len(arr), arr[0]), arr]
            rows.append(w)
        win = np.vstack(rows)
        scale = self._scale(win)
        return self._to_space(win / scale[:, None]), scale

    def _panel_windows(self, ys: list[FloatArray], per_series: int) -> np.ndarray:
        """The ``per_series`` most recent windows of every series long enough for one, on
        the model scale, stacked: shape (windows, n_lags + max_horizon).

        Series shorter than ``n_lags + max_horizon`` give windows whose input is
        left-padded with their first value, down to :meth:`_min_input` real values.
        """
        lags, big_h = self._lags(), self.max_horizon
        shortest = self._min_input() + big_h
        parts = []
        for y in ys:
            n = len(y)
            if n < shortest:
                continue
            # Origins t (first forecast index): full input windows when the series has
            # them, else inputs left-padded with the first value (short series).
            first = lags if n >= lags + big_h else self._min_input()
            origins = np.arange(max(first, n - big_h - per_series + 1), n - big_h + 1)
            padded = np.concatenate([np.full(lags, y[0]), y])
            w = sliding_window_view(padded, lags + big_h)[origins]
            parts.append(self._to_space(w / self._scale(w[:, :lags])[:, None]))
        if not parts:
            raise InvalidParameterError(
                f"{type(self).__name__} needs at least one series longer than "
                f"{shortest - 1} values (a season of input plus max_horizon={big_h}); "
                "forecast a shorter horizon or leave this model out (--models)."
            )
        return np.vstack(parts)
