"""What the warehouse reads from a validated table: its parts summed into 2025 units.

A pandas statement of the rule the warehouse's SQL applies (``_LATEST`` in
``forecast/data/warehouse.py``), so that validation tests can check sums without a database;
``test_warehouse_parts.py`` checks the SQL itself.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.data.schema import KEY_COLUMNS, OBSERVATION_COLUMNS, ValidatedTable


def totals(table: ValidatedTable) -> pd.DataFrame:
    """Observations of 2025 units: values summed over ``source_unit``, quantity only when
    every part has one."""
    grouped = table.frame.groupby(list(KEY_COLUMNS), sort=True, dropna=False)
    out = grouped.agg(
        value=("value", "sum"),
        unit=("unit", "min"),
        quantity=("quantity", "sum"),
        q_count=("quantity", "count"),
        n=("value", "size"),
    ).reset_index()
    out.loc[out["q_count"] < out["n"], "quantity"] = np.nan
    return out[list(OBSERVATION_COLUMNS)].reset_index(drop=True)
