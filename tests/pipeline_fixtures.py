"""A small warehouse from the demo generator, shared by the pipeline and registry tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
from script_loader import load_script

from forecast.config import Settings, load_settings
from forecast.data.ingest import ingest_file
from forecast.data.warehouse import Warehouse
from forecast.pipeline import SYNTHETIC_LABEL

ROOT = Path(__file__).resolve().parents[1]
FAST_MODELS = ("naive", "snaive", "theta", "ens_mean")


def _generator():
    if "generate_demo" in sys.modules:
        return sys.modules["generate_demo"]
    return load_script(ROOT / "datasets" / "generate_demo.py", "generate_demo")


def small_demo_frame(
    n_provinces: int = 4, n_categories: int = 3, n_destinations: int = 3
) -> pd.DataFrame:
    """Demo-style data: a few provinces and categories, 2019-2025, with destinations."""
    gen = _generator()
    return gen.generate(
        start="2019-01",
        end="2025-12",
        n_provinces=n_provinces,
        n_categories=n_categories,
        n_destinations=n_destinations,
    )


def frame_workspace(
    tmp: Path,
    frame: pd.DataFrame,
    *,
    name: str = "sales.csv",
    source: str = SYNTHETIC_LABEL,
    **settings: object,
) -> Settings:
    """Settings (fast models, one job, ``settings`` on top) pointing at a fresh warehouse
    in ``tmp`` loaded with ``frame``, written to ``tmp / name``, under ``source``."""
    csv = tmp / name
    frame.to_csv(csv, index=False)
    out = load_settings(
        env={},
        warehouse=tmp / "wh.duckdb",
        models_dir=tmp / "models",
        reports_dir=tmp / "reports",
        models=FAST_MODELS,
        jobs=1,
        **settings,
    )
    with Warehouse(out.warehouse) as wh:
        ingest_file(wh, csv, source=source)
    return out


def small_workspace(tmp: Path, **kwargs: int) -> Settings:
    """Settings pointing at a fresh warehouse in ``tmp`` loaded with small demo data."""
    return frame_workspace(tmp, small_demo_frame(**kwargs), name="small.csv")
