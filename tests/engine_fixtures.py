"""Small panels and test doubles for the engine tests (no network, all seeded)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from forecast.methods.base import BaseForecaster, FloatArray, Prediction, Tags
from forecast.methods.global_gbm import GlobalGBM
from forecast.methods.global_mlp import GlobalMLP
from forecast.methods.registry import SPECS, ModelSpec
from forecast.panel import Panel


def long_frame(
    series: dict[str, np.ndarray | list[float]], start: str = "2016-01-01", freq: str = "MS"
) -> pd.DataFrame:
    """Long ``unique_id, ds, y`` frame; every series starts at ``start``."""
    rows = []
    for uid, y in series.items():
        ds = pd.date_range(start, periods=len(y), freq=freq)
        rows.append(pd.DataFrame({"unique_id": uid, "ds": ds, "y": np.asarray(y, float)}))
    return pd.concat(rows, ignore_index=True)


def make_panel(series: dict[str, np.ndarray | list[float]], freq: str = "M") -> Panel:
    """A panel of series all starting in January 2016."""
    start = pd.Period("2016-01", freq=freq)
    return Panel(
        ids=tuple(series),
        values=tuple(np.asarray(v, dtype=float) for v in series.values()),
        starts=tuple(start for _ in series),
        freq=freq,
        season_length={"M": 12, "Q": 4}[freq],
    )


def seasonal(n: int, seed: int, level: float = 100.0, noise: float = 0.02) -> np.ndarray:
    """A repeating yearly pattern with little noise: seasonal naive is nearly exact."""
    rng = np.random.default_rng(seed)
    pattern = level * (1 + 0.3 * np.sin(2 * np.pi * np.arange(12) / 12 + seed))
    return np.resize(pattern, n) + rng.normal(0, noise * level, n)


def random_walk(n: int, seed: int, level: float = 100.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return level + np.cumsum(rng.normal(0, 0.05 * level, n))


class Spy(BaseForecaster):
    """Forecasts the last value it saw and records every training series it gets."""

    tags: ClassVar[Tags] = Tags(min_length=1)
    seen: ClassVar[list[np.ndarray]] = []

    def __init__(self, *, season_length: int = 12) -> None:
        self.season_length = season_length

    def _fit(self, y: FloatArray, periods: pd.PeriodIndex | None) -> None:
        Spy.seen.append(y.copy())
        self.last_ = float(y[-1])

    def _predict(self, h: int, levels: tuple[int, ...]) -> Prediction:
        return Prediction(np.full(h, self.last_))


class Broken(BaseForecaster):
    """Fails on every fit, as a third-party model may."""

    tags: ClassVar[Tags] = Tags(min_length=1)

    def __init__(self) -> None:
        pass

    def _fit(self, y: FloatArray, periods: pd.PeriodIndex | None) -> None:
        raise RuntimeError("optimizer diverged")


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> type[Spy]:
    """Register ``spy`` and ``broken`` models (in-process runs only: n_jobs=1)."""
    Spy.seen = []
    monkeypatch.setitem(
        SPECS, "spy", ModelSpec("spy", "Spy", lambda c: Spy(season_length=c.season_length))
    )
    monkeypatch.setitem(SPECS, "broken", ModelSpec("broken", "Broken", lambda c: Broken()))
    return Spy


@pytest.fixture
def fast_gbm(monkeypatch: pytest.MonkeyPatch) -> None:
    """The global model with 20 boosting iterations (it runs in the main process)."""

    def build(c: object) -> GlobalGBM:
        return GlobalGBM(
            season_length=c.season_length,  # type: ignore[attr-defined]
            max_horizon=c.horizon,  # type: ignore[attr-defined]
            random_state=c.seed,  # type: ignore[attr-defined]
            max_iter=20,
            min_samples_leaf=5,
        )

    monkeypatch.setitem(SPECS, "gbm", dataclasses.replace(SPECS["gbm"], build=build))


@pytest.fixture
def fast_mlp(monkeypatch: pytest.MonkeyPatch) -> None:
    """The global network with one small hidden layer and 10 epochs (seeded as usual)."""

    def build(c: object) -> GlobalMLP:
        return GlobalMLP(
            season_length=c.season_length,  # type: ignore[attr-defined]
            max_horizon=c.horizon,  # type: ignore[attr-defined]
            random_state=c.seed,  # type: ignore[attr-defined]
            hidden_layer_sizes=(16,),
            max_iter=10,
        )

    monkeypatch.setitem(SPECS, "mlp", dataclasses.replace(SPECS["mlp"], build=build))
