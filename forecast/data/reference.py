"""Access to the reference tables shipped as package data (``forecast/data/ref/*.csv``)."""

from __future__ import annotations

from functools import cache
from importlib import resources

import pandas as pd


@cache
def load_reference(name: str) -> pd.DataFrame:
    """Read a shipped reference table (``provinces``, ``categories``, ``tet_dates``,
    ``published_figures``) as strings; cached, so callers must not mutate the result."""
    with (
        resources.files("forecast.data")
        .joinpath("ref", f"{name}.csv")
        .open("r", encoding="utf-8") as fh
    ):
        return pd.read_csv(fh, dtype=str, keep_default_na=False)
