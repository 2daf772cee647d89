"""Series profiles: what kind of series each one is, and which candidates suit it.

Every series is cleaned (gaps inside its span interpolated) and given one profile:
``zero``, ``constant``, ``tiny`` (fewer than 4 values), ``intermittent`` (30% or more
zeros, non-negative), ``short`` (under two seasons) or ``regular``. Each profile has its
own candidate set, and the engine chooses and calibrates within a profile, so a handful
of all-zero series never dilutes the choice made for the regular ones.

Zeros before a non-negative series' first non-zero value (a product not launched yet,
written as 0 by a pivot export) are left out first, and zeros that come back in the same
seasons every cycle (a product sold only from October to March) are a season, not
intermittent demand: such a series keeps the seasonal candidates.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

import numpy as np

from forecast.errors import ConfigError
from forecast.evaluation import metrics
from forecast.methods.registry import (
    ENSEMBLES,
    INTERMITTENT_MODELS,
    SHORT_MODELS,
    SPECS,
    ModelContext,
    resolve_models,
)
from forecast.panel import Panel

Profile = Literal["zero", "constant", "tiny", "intermittent", "short", "regular"]
PROFILES: tuple[Profile, ...] = ("regular", "short", "intermittent", "tiny", "constant", "zero")

#: Share of zero values from which a series is treated as intermittent.
INTERMITTENT_ZEROS = 0.3
#: A season position is *off-season* when the series is 0 there in at least this share
#: of its cycles; zeros are seasonal when at least ``SEASONAL_ZERO_SHARE`` of them fall
#: on off-season positions and the other positions are non-zero at least that often.
OFF_SEASON = 2 / 3
SEASONAL_ZERO_SHARE = 0.85

#: Why a single-candidate profile gets its forecast (recorded with the series).
PROFILE_REASON = {
    "zero": "every value is 0, forecast 0",
    "constant": "every value is the same, forecast that value",
    "tiny": "fewer than 4 observations, last value carried forward",
    "intermittent": "intermittent-demand candidates only",
    "short": "too short for seasonal models",
    "regular": "single candidate",
}


@dataclass(frozen=True)
class SeriesInfo:
    """One cleaned series and what the engine needs to know about it."""

    index: int
    y: np.ndarray
    profile: Profile
    positive: bool
    nonnegative: bool

    def season(self, m: int) -> int:
        """Season length the series' models use: ``m`` for regular series, else 1."""
        return m if self.profile == "regular" else 1


def clean(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Linear interpolation of NaN inside the span (the panel already trimmed the ends)."""
    bad = ~np.isfinite(values)
    if not bad.any():
        return values.astype(float), 0
    x = np.arange(len(values))
    out = values.astype(float).copy()
    out[bad] = np.interp(x[bad], x[~bad], values[~bad])
    return out, int(bad.sum())


def seasonal_zeros(y: np.ndarray, m: int) -> bool:
    """Whether the zeros of ``y`` are a season: they recur at the same season positions.

    Needs two full cycles (``m > 1``). Position ``p`` is off-season when at least
    :data:`OFF_SEASON` of its values are 0; the zeros are seasonal when at least
    :data:`SEASONAL_ZERO_SHARE` of them are at off-season positions, and the values at
    the other positions are non-zero at least as often. Random zeros (slow movers) spread
    over all positions and fail the first test; a product sold in some months every year
    passes both.
    """
    n = len(y)
    if m < 2 or n < 2 * m:
        return False
    zero = np.asarray(y) == 0
    pos = np.arange(n) % m
    share = np.bincount(pos, weights=zero, minlength=m) / np.bincount(pos, minlength=m)
    off = share >= OFF_SEASON
    if not off.any() or off.all():
        return False
    on_values = ~off[pos]
    in_off = zero[~on_values].sum() / zero.sum()
    selling = 1.0 - zero[on_values].mean()
    return bool(in_off >= SEASONAL_ZERO_SHARE and selling >= SEASONAL_ZERO_SHARE)


def closed_positions(y: np.ndarray, m: int, h: int) -> np.ndarray:
    """Which of the next ``h`` periods fall in a season position where ``y`` was 0 in
    every cycle, when its zeros are a season (:func:`seasonal_zeros`) and it has no
    negative value: a product that has never sold in those months is forecast 0 there.
    A position that sold in some cycle keeps the model's forecast.
    """
    y = np.asarray(y, dtype=float)
    if (y < 0).any() or not seasonal_zeros(y, m):
        return np.zeros(h, dtype=bool)
    pos = np.arange(len(y)) % m
    sold = np.bincount(pos, weights=(y != 0), minlength=m) > 0
    return ~sold[(len(y) + np.arange(h)) % m]


def leading_zeros(y: np.ndarray) -> int:
    """Number of zeros before the first non-zero value of a non-negative series (0 for
    a series with a negative value, or with no non-zero value)."""
    y = np.asarray(y, dtype=float)
    nonzero = np.flatnonzero(np.isfinite(y) & (y != 0))
    if not len(nonzero) or (y[np.isfinite(y)] < 0).any():
        return 0
    return int(nonzero[0])


def trim_leading_zeros(panel: Panel) -> tuple[Panel, list[str]]:
    """``panel`` without the zeros before each non-negative series' first sale.

    A series exists from its first observation, but a file that writes 0 for the months
    before a product was launched (pivot-table exports do) would otherwise give it a
    long run of zeros that reads as intermittent demand and that every model fits as
    history. The run's notes say which series were trimmed and by how much; the
    forecasts still start after each series' last value.
    """
    cut = [leading_zeros(v) for v in panel.values]
    if not any(cut):
        return panel, []
    notes = [
        f"{panel.ids[i]}: {k} zero value(s) before the first non-zero one left out "
        "(read as before the series began)"
        for i, k in enumerate(cut)
        if k
    ]
    starts = tuple(
        s + k if panel.freq is not None else int(s) + panel.step * k  # type: ignore[operator]
        for s, k in zip(panel.starts, cut, strict=True)
    )
    values = tuple(v[k:] for v, k in zip(panel.values, cut, strict=True))
    return dataclasses.replace(panel, values=values, starts=starts), notes


def profile_of(y: np.ndarray, m: int) -> Profile:
    """The profile of a cleaned series for season length ``m``."""
    if np.all(y == 0):
        return "zero"
    if len(y) > 1 and np.all(y == y[0]):  # one value shows no constancy; it is "tiny"
        return "constant"
    if len(y) < 4:
        return "tiny"
    # Croston-type methods model positive demand sizes: negative values are not demand.
    if np.mean(y == 0) >= INTERMITTENT_ZEROS and (y >= 0).all() and not seasonal_zeros(y, m):
        return "intermittent"
    if len(y) < max(2 * m, 8):
        return "short"
    return "regular"


def prepare(panel: Panel) -> tuple[list[SeriesInfo], list[str]]:
    """Clean and profile every series of ``panel``; notes say which had gaps filled."""
    out: list[SeriesInfo] = []
    notes: list[str] = []
    for i, raw in enumerate(panel.values):
        y, filled = clean(np.asarray(raw, dtype=float))
        if filled:
            notes.append(f"{panel.ids[i]}: {filled} missing period(s) interpolated")
        out.append(
            SeriesInfo(
                i,
                y,
                profile_of(y, panel.season_length),
                bool((y > 0).all()),
                bool((y >= 0).all()),
            )
        )
    return out, notes


def scales(y: np.ndarray, m: int) -> tuple[float, float]:
    """Absolute and squared seasonal-naive scale, with fallbacks (lag-1 naive, then a
    tenth of the mean level) so they are never 0 unless the series is exactly 0.

    A scale that is only round-off relative to the level (below ``1e-9`` of it, e.g. a
    float sine repeating exactly each season) counts as 0 and falls back too.
    """
    finite = np.asarray(y, dtype=float)
    finite = finite[np.isfinite(finite)]
    level = float(np.mean(np.abs(finite))) if len(finite) else 0.0
    s1, s2 = metrics.fallback_scales(
        (metrics.seasonal_scale(y, m), metrics.seasonal_scale(y, m, power=2)),
        (metrics.seasonal_scale(y, 1), metrics.seasonal_scale(y, 1, power=2)),
        level,
    )
    return float(s1), float(s2)


#: The fixed candidate sets of the profiles that do not take the regular candidates.
FIXED_SETS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "short": (SHORT_MODELS, ("ens_median", "ens_mean")),
    "intermittent": (INTERMITTENT_MODELS, ()),
}
#: Naming one of these narrows a profile's fixed set to the named ones. Any short-series
#: model does; for intermittent series only the intermittent-demand methods do, so that
#: ``--models naive,theta`` (a choice for regular series) keeps Croston, SBA and TSB.
NARROWED_BY: dict[str, tuple[str, ...]] = {
    "short": SHORT_MODELS,
    "intermittent": ("croston", "sba", "tsb"),
}


def _names_default(models: tuple[str, ...]) -> bool:
    """Whether ``default`` is among the names, comma-joined ones included (as
    :func:`resolve_models` reads them)."""
    return "default" in (t.strip().lower() for raw in models for t in str(raw).split(","))


def named_models(models: tuple[str, ...]) -> tuple[str, ...] | None:
    """The models named when ``default`` is not among them, else None (see
    :func:`candidates`)."""
    return None if _names_default(models) else resolve_models(models)


def candidates(
    profile: Profile, regular_models: tuple[str, ...], named: tuple[str, ...] | None = None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(model names, ensemble names) for a profile.

    Short and intermittent series choose among their fixed set, narrowed to the
    ``named`` models (:func:`named_models`) when one of :data:`NARROWED_BY` is named:
    ``--models naive,theta`` gives short series Naive and Theta, and never trains the
    global model for them.
    """
    if profile == "regular":
        models = tuple(n for n in regular_models if n in SPECS)
        ens = tuple(n for n in regular_models if n in ENSEMBLES)
        return models, ens
    if profile in FIXED_SETS:
        models, ens = FIXED_SETS[profile]
        if named is not None and any(n in named for n in NARROWED_BY[profile]):
            return tuple(n for n in models if n in named), tuple(e for e in ens if e in named)
        return models, ens
    return ("naive",), ()


def fixed_set_note(profile: str, named: tuple[str, ...] | None) -> str | None:
    """Why short series keep their whole set although models were named, or None."""
    if profile != "short" or named is None or any(n in named for n in NARROWED_BY[profile]):
        return None
    labels = ", ".join(SPECS[n].label for n in FIXED_SETS[profile][0])
    return (
        f"{profile} series: none of the models asked for suits them; they choose among "
        f"their own set ({labels})"
    )


def no_window_default(names: list[str]) -> str:
    """The candidate used when a profile has no backtest window to choose by."""
    for pref in ("ens_median", "theta", "naive"):
        if pref in names:
            return pref
    return names[0]


def resolve_regular(models: tuple[str, ...]) -> tuple[str, ...]:
    """Model names for regular series; ``default`` also brings the ensembles."""
    names = resolve_models(models)
    if _names_default(models):
        names = tuple(dict.fromkeys((*names, *ENSEMBLES)))
    return names


def without_calendar_models(names: tuple[str, ...], notes: list[str]) -> tuple[str, ...]:
    """Leave out models that read the calendar (Tết regressors) when ``ds`` is an integer
    index: every fit would fail and the naive forecast would stand in under their name."""
    ctx = ModelContext(season_length=1, horizon=1)
    needs = [n for n in names if n in SPECS and SPECS[n].build(ctx).tags.needs_periods]
    for n in needs:
        notes.append(
            f"{SPECS[n].label} left out: it needs dates in ds (this input has an integer "
            "time index)."
        )
    kept = tuple(n for n in names if n not in needs)
    if needs and not any(n in SPECS for n in kept):
        raise ConfigError(
            f"{', '.join(SPECS[n].label for n in needs)} needs dates in ds (this input has "
            "an integer time index) and there is no other candidate model; add one, e.g. "
            "--models theta,ets."
        )
    return kept
