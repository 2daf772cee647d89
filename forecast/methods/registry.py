"""Names of the models the engine can use, how to build them, and the candidate sets.

A model name (``"ets"``) maps to a :class:`ModelSpec` that builds an estimator for a
:class:`ModelContext` (season length, horizon, seed, whether multiplicative forms are
allowed). The engine never instantiates model classes directly, so adding a model means
adding one entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from forecast.errors import ConfigError
from forecast.methods.adapters import statsforecast as sfa
from forecast.methods.base import BaseForecaster, GlobalForecaster
from forecast.methods.ets_damped import DampedETS, LogDampedETS
from forecast.methods.global_gbm import GlobalGBM
from forecast.methods.global_knn import GlobalKNN
from forecast.methods.global_mlp import GlobalMLP


@dataclass(frozen=True)
class ModelContext:
    """What a model needs to know about the panel it is built for.

    Parameters
    ----------
    season_length : int
        Periods per seasonal cycle (12 monthly, 4 quarterly, 1 for no seasonality).
    horizon : int
        Steps the engine forecasts; global models are built for exactly this many.
    seed : int, default=0
        Seed for models with randomness (the engine derives one per model name).
    positive : bool, default=True
        Every training value is > 0, so multiplicative forms are allowed.
    """

    season_length: int
    horizon: int
    seed: int = 0
    positive: bool = True


@dataclass(frozen=True)
class ModelSpec:
    """How to build one named model.

    Parameters
    ----------
    name : str
        Short name used on the command line and in configuration (``"ets"``).
    label : str
        Display name in reports and leaderboards (``"AutoETS"``).
    build : callable
        Builds an unfitted estimator for a :class:`ModelContext`.
    is_global : bool, default=False
        The estimator is a :class:`~forecast.methods.base.GlobalForecaster`, fitted once
        across series.
    seasonal : bool, default=False
        The model uses the season length (descriptive; the engine reads the estimator's
        :class:`~forecast.methods.base.Tags`).
    description : str, default=""
        One-line summary of the method.
    """

    name: str
    label: str
    build: Callable[[ModelContext], BaseForecaster | GlobalForecaster]
    is_global: bool = False
    seasonal: bool = False
    description: str = ""


def _decomp(ctx: ModelContext) -> str:
    return "multiplicative" if ctx.positive else "additive"


def _log_ets(ctx: ModelContext) -> BaseForecaster:
    # The log needs positive values: other series get damped ETS on the original scale.
    if ctx.positive:
        return LogDampedETS(season_length=ctx.season_length)
    return DampedETS(season_length=ctx.season_length)


def _prophet(ctx: ModelContext) -> BaseForecaster:
    from forecast.methods.adapters.prophet import ProphetTet  # heavy import: only if used

    return ProphetTet(season_length=ctx.season_length, seed=ctx.seed)


SPECS: dict[str, ModelSpec] = {
    s.name: s
    for s in [
        ModelSpec("naive", "Naive", lambda c: sfa.Naive(), description="last value"),
        ModelSpec(
            "snaive",
            "SeasonalNaive",
            lambda c: sfa.SeasonalNaive(season_length=c.season_length),
            seasonal=True,
            description="same season last cycle",
        ),
        ModelSpec("drift", "Drift", lambda c: sfa.Drift(), description="random walk with drift"),
        ModelSpec("mean", "Mean", lambda c: sfa.Mean(), description="historical mean"),
        ModelSpec(
            "ets",
            "AutoETS",
            lambda c: sfa.AutoETS(season_length=c.season_length),
            seasonal=True,
            description="exponential smoothing, form chosen by AICc",
        ),
        ModelSpec(
            "etsd",
            "DampedETS",
            lambda c: DampedETS(season_length=c.season_length),
            seasonal=True,
            description="exponential smoothing, damped trend, form chosen by AICc at every fit",
        ),
        ModelSpec(
            "etsl",
            "LogDampedETS",
            _log_ets,
            seasonal=True,
            description="damped ETS on log values (on the values if some are <= 0)",
        ),
        ModelSpec(
            "theta",
            "Theta",
            lambda c: sfa.Theta(season_length=c.season_length, decomposition_type=_decomp(c)),
            seasonal=True,
            description="standard Theta",
        ),
        ModelSpec(
            "otm",
            "OptimizedTheta",
            lambda c: sfa.OptimizedTheta(
                season_length=c.season_length, decomposition_type=_decomp(c)
            ),
            seasonal=True,
            description="optimised Theta",
        ),
        ModelSpec(
            "dotm",
            "DynamicOptimizedTheta",
            lambda c: sfa.DynamicOptimizedTheta(
                season_length=c.season_length, decomposition_type=_decomp(c)
            ),
            seasonal=True,
            description="dynamic optimised Theta",
        ),
        ModelSpec(
            "ces",
            "AutoCES",
            lambda c: sfa.AutoCES(season_length=c.season_length),
            seasonal=True,
            description="complex exponential smoothing",
        ),
        ModelSpec(
            "arima",
            "AutoARIMA",
            lambda c: sfa.AutoARIMA(season_length=c.season_length),
            seasonal=True,
            description="automatic seasonal ARIMA",
        ),
        ModelSpec("croston", "Croston", lambda c: sfa.Croston(), description="intermittent demand"),
        ModelSpec(
            "sba",
            "CrostonSBA",
            lambda c: sfa.CrostonSBA(),
            description="Croston, Syntetos-Boylan bias correction",
        ),
        ModelSpec("tsb", "TSB", lambda c: sfa.TSB(), description="Teunter-Syntetos-Babai"),
        ModelSpec(
            "prophet",
            "ProphetTet",
            _prophet,
            seasonal=True,
            description="Prophet with Tết regressors",
        ),
        ModelSpec(
            "gbm",
            "GlobalGBM",
            lambda c: GlobalGBM(
                season_length=c.season_length, max_horizon=c.horizon, random_state=c.seed
            ),
            is_global=True,
            seasonal=True,
            description="global gradient boosting across all series",
        ),
        ModelSpec(
            "knn",
            "GlobalKNN",
            lambda c: GlobalKNN(season_length=c.season_length, max_horizon=c.horizon),
            is_global=True,
            seasonal=True,
            description="analogue forecasts: futures of the 20 most similar windows of all series",
        ),
        ModelSpec(
            "mlp",
            "GlobalMLP",
            lambda c: GlobalMLP(
                season_length=c.season_length, max_horizon=c.horizon, random_state=c.seed
            ),
            is_global=True,
            seasonal=True,
            description="global neural network (2 seeded perceptrons) on scaled windows",
        ),
    ]
}

#: Ensemble candidate names: combination rule over the members present.
ENSEMBLES = ("ens_median", "ens_mean", "ens_median3", "ens_mean3")

#: Default candidates for regular series (enough history for seasonal models).
DEFAULT_MODELS = ("naive", "snaive", "theta", "dotm", "etsd", "ces", "gbm", "knn", "mlp")
#: Members of the ensemble candidates when they are among the candidates.
ENSEMBLE_MEMBERS = (
    "theta",
    "etsl",
    "dotm",
    "ets",
    "etsd",
    "ces",
    "arima",
    "prophet",
    "gbm",
    "knn",
    "mlp",
)
#: Candidates for series too short for seasonal models (non-seasonal variants are built
#: with season_length=1).
SHORT_MODELS = ("naive", "drift", "mean", "theta", "ets", "gbm")
#: Candidates for intermittent series (many zeros).
INTERMITTENT_MODELS = ("croston", "sba", "tsb", "mean", "naive")


def resolve_models(names: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Expand ``default`` and validate model names; keeps order, drops duplicates."""
    out: list[str] = []
    for raw in names:
        for name in str(raw).split(","):
            n = name.strip().lower()
            if not n:
                continue
            if n == "default":
                out.extend(DEFAULT_MODELS)
            elif n in ("ensemble", "ensembles"):
                out.extend(ENSEMBLES)
            elif n in SPECS or n in ENSEMBLES:
                out.append(n)
            else:
                known = ", ".join([*SPECS, *ENSEMBLES])
                raise ConfigError(
                    f"Unknown model {n!r}. Known models: {known}; and the sets default "
                    "(the default candidates) and ensembles (the four ensembles)."
                )
    return tuple(dict.fromkeys(out))
