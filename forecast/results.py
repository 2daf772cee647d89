"""The typed result of a pipeline run: the contract between the pipeline and the reports.

A :class:`RunResult` holds every table a report needs, in long layout with fixed columns
(see the ``*_COLUMNS`` constants). Every series of the hierarchy is a *node* identified by
its key columns; ``''`` in a key column means "all" (aggregated over that dimension):

========== ===============================================================================
column     values
========== ===============================================================================
region     region code (``DBSH``...) or ``''`` for the nation
province   2025 unit name (``Hà Nội``) or ``''``
group      CNNT group code (``CNNT1``..``CNNT4``) or ``''`` for all products
category   category code (``XK_WOOD``) or ``''``
market     ``total``, ``domestic`` or ``export``
destination ISO2 country code (national export nodes only) or ``''``
========== ===============================================================================

``geo_level`` is ``national``/``region``/``province``; ``product_level`` is
``total``/``group``/``category``; ``level`` is ``"{geo_level}/{product_level}/{market}"``
plus ``"/destination"`` on destination nodes. ``node_id`` joins the key columns with ``|``
(``*`` for ``''``) and is unique and stable across runs.

Periods are ``pandas.Period`` values of the run's frequency.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

KEY_COLUMNS = ("region", "province", "group", "category", "market", "destination")

NODE_COLUMNS = ("node_id", *KEY_COLUMNS, "geo_level", "product_level", "level", "unit")
HISTORY_COLUMNS = ("node_id", "period", "value")
#: Point forecast and interval bounds; one ``lo_L``/``hi_L`` pair per level in ``levels``.
FORECAST_BASE_COLUMNS = ("node_id", "period", "yhat")
SELECTION_COLUMNS = ("node_id", "model", "reason")
#: Backtest accuracy by level of the hierarchy and model (``model`` = "selected" for the
#: chosen per-series forecasts; ``stage`` = "base" or "reconciled"), before the interval
#: columns of :func:`accuracy_columns`.
ACCURACY_BASE_COLUMNS = ("level", "model", "stage", "n_series", "mase", "rmsse", "smape", "bias")


def accuracy_columns(levels: tuple[int, ...]) -> tuple[str, ...]:
    """Columns of the accuracy table for interval ``levels``: :data:`ACCURACY_BASE_COLUMNS`,
    then ``coverage_L`` and ``msis_L`` per level, in the order given."""
    return (
        *ACCURACY_BASE_COLUMNS,
        *(f"coverage_{lv}" for lv in levels),
        *(f"msis_{lv}" for lv in levels),
    )


#: The accuracy table's columns at the default levels (80 and 95).
ACCURACY_COLUMNS = accuracy_columns((80, 95))
#: The warehouse batches a run used (its data sources and vintages).
SOURCE_COLUMNS = (
    "batch_id",
    "source_file",
    "source_label",
    "row_count",
    "first_period",
    "last_period",
    "ingested_at",
)


def node_id(
    region: str, province: str, group: str, category: str, market: str, destination: str
) -> str:
    """Stable identifier of a node from its key columns."""
    return "|".join(v or "*" for v in (region, province, group, category, market, destination))


def interval_columns(levels: tuple[int, ...]) -> tuple[str, ...]:
    """``lo_80, hi_80, lo_95, hi_95`` for ``levels=(80, 95)``."""
    return tuple(c for lv in levels for c in (f"lo_{lv}", f"hi_{lv}"))


@dataclass(frozen=True)
class RunResult:
    """Everything a run produced that reports and monitoring read.

    Parameters
    ----------
    run_id
        Unique id, sortable by time (``YYYYMMDDTHHMMSSZ-xxxxxx``).
    created_at
        ISO 8601 UTC time the run started.
    freq
        Pandas period frequency of all series (``"M"``, ``"Q"`` or ``"Y"``).
    horizon, levels
        Forecast horizon (periods) and interval levels (%).
    last_period
        Last period with actuals (the forecast origin).
    synthetic
        True when any input batch is synthetic demonstration data (source label
        ``synthetic-demo``): every report page must then carry the synthetic-data label.
    data_vintage
        Hash of the warehouse state used (``Warehouse.state_hash``).
    sources
        Input batches used: ``batch_id, source_file, source_label, row_count,
        first_period, last_period, ingested_at``.
    nodes
        One row per node, columns :data:`NODE_COLUMNS`.
    history
        Actuals per node, columns :data:`HISTORY_COLUMNS`.
    forecasts
        Coherent (reconciled) forecasts per node: ``node_id, period, yhat``, interval
        columns for each level, ``model``.
    base_forecasts
        Forecasts before reconciliation, same columns.
    selection
        Model chosen per node and why, columns :data:`SELECTION_COLUMNS`.
    accuracy
        Backtest accuracy table, columns :func:`accuracy_columns` of the run's levels.
    outlook
        Outlook indicators per node (growth with interval, trend label, probability of
        decline, peak/trough months, volatility, flags); see :mod:`forecast.outlook`.
    advantage
        Comparative advantage per province x category x market (location quotients).
    linkage
        Linkage groups per category (provinces with LQ > 1, combined outlook, partners).
    destinations
        Export-destination outlook and concentration (HHI) per category.
    reconcile_method
        Reconciliation method used and why (``"mint_shrink (chosen by backtest)"``).
    config
        Settings used (JSON-safe).
    extra
        Further tables keyed by name (e.g. ``monitoring``), for later stages.
    artifacts
        Fitted objects worth keeping with the run (engine configuration, fitted global
        models), saved by the registry with joblib and checksummed; not loaded back by
        :func:`forecast.registry.load_run` (see :func:`forecast.registry.load_artifact`).
    """

    run_id: str
    created_at: str
    freq: str
    horizon: int
    levels: tuple[int, ...]
    last_period: pd.Period
    synthetic: bool
    data_vintage: str
    sources: pd.DataFrame
    nodes: pd.DataFrame
    history: pd.DataFrame
    forecasts: pd.DataFrame
    base_forecasts: pd.DataFrame
    selection: pd.DataFrame
    accuracy: pd.DataFrame
    outlook: pd.DataFrame
    advantage: pd.DataFrame
    linkage: pd.DataFrame
    destinations: pd.DataFrame
    reconcile_method: str
    config: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)
    artifacts: dict[str, Any] = field(default_factory=dict)
