"""The synthetic benchmark: seeded panels of the declared shapes, and a run end to end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from script_loader import ROOT, load_script

syn = load_script(ROOT / "bench" / "synthetic.py", "bench_synthetic", sibling_imports=True)


@pytest.mark.parametrize("name", list(syn.KINDS))
def test_panels_are_seeded_and_split_at_the_horizon(name: str) -> None:
    kind = syn.KINDS[name]
    train, test = syn.make_panel(name, 12)
    again, _ = syn.make_panel(name, 12)
    pd.testing.assert_frame_equal(train, again)
    assert not syn.make_panel(name, 12, seed=1)[0]["y"].equals(train["y"])
    assert train["unique_id"].nunique() == test["unique_id"].nunique() == 12
    assert (test.groupby("unique_id").size() == kind.horizon).all()
    assert np.isfinite(train["y"]).all() and (train["y"] >= 0).all()
    # every series' test periods follow its training periods at the panel's frequency
    last = pd.to_datetime(train.groupby("unique_id")["ds"].max())
    first = pd.to_datetime(test.groupby("unique_id")["ds"].min())
    step = pd.tseries.frequencies.to_offset(kind.freq)
    assert ((last + step) == first).all()


def test_intermittent_panel_mixes_many_zeros_with_regular_counts() -> None:
    train, _ = syn.make_panel("intermittent", 30)
    zeros = train.groupby("unique_id")["y"].apply(lambda y: (y == 0).mean())
    assert (zeros > 0.3).sum() == 10 and (zeros < 0.05).sum() >= 15


@pytest.mark.bench
def test_runs_end_to_end_on_small_panels(tmp_path: Path) -> None:
    assert syn.main(["--kinds", "annual", "--series", "8", "--out", str(tmp_path)]) == 0
    table = pd.read_csv(tmp_path / "synthetic_latest.csv")
    assert set(table["method"]) == {"AutoETS", "predict-csv", "Theta"}
    assert np.isfinite(table[["mase", "smape", "coverage_95"]]).all().all()
