"""bench/m3_ablation.py: windows that never see their targets, clean skips, a tiny run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from script_loader import load_script

BENCH = Path(__file__).resolve().parents[1] / "bench"
SCRIPT = BENCH / "m3_ablation.py"


def _module():
    return load_script(SCRIPT, "bench_m3_ablation", sibling_imports=True)


def _panel(lengths: dict[str, int], h: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    train, test = [], []
    for uid, n in lengths.items():
        ds = pd.date_range("2000-01-01", periods=n + h, freq="QS")
        y = np.arange(1.0, n + h + 1)  # value = position + 1, so positions are readable
        train.append(pd.DataFrame({"unique_id": uid, "ds": ds[:n], "y": y[:n]}))
        test.append(pd.DataFrame({"unique_id": uid, "ds": ds[n:], "y": y[n:]}))
    return pd.concat(train, ignore_index=True), pd.concat(test, ignore_index=True)


def test_windows_target_the_h_values_after_their_origin_and_share_series():
    abl = _module()
    kind = abl.KINDS["quarterly"]  # h = 8, m = 4
    # 28 values: 12 left at the v2 origin (3 seasons, kept); 27: 11 left (dropped).
    train, test = _panel({"long": 28, "short": 27}, kind.horizon)
    windows = abl.split(train, test, kind)
    assert list(windows) == ["v2", "v1", "test"]
    for fit, target in windows.values():
        assert set(fit["unique_id"]) == set(target["unique_id"]) == {"long"}
        assert len(target) == kind.horizon
        # The target starts right after the last fitted value: no overlap, no gap.
        assert target["y"].iloc[0] == fit["y"].iloc[-1] + 1
    assert windows["v2"][0]["y"].max() == 12 and windows["v2"][1]["y"].tolist() == list(
        range(13, 21)
    )
    assert windows["v1"][0]["y"].max() == 20 and windows["v1"][1]["y"].max() == 28
    assert windows["test"][1]["y"].tolist() == list(range(29, 37))


def test_default_members_are_the_engine_ensemble():
    abl = _module()
    assert abl.members() == ("theta", "dotm", "etsd", "ces", "gbm", "knn", "mlp")


def test_scores_compare_the_mean_with_hand_computed_values():
    abl = _module()
    kind = abl.KINDS["quarterly"]
    fit = pd.DataFrame({"unique_id": "a", "y": [1.0, 2.0, 3.0, 4.0, 3.0, 4.0, 5.0, 6.0]})
    target = pd.DataFrame({"unique_id": "a", "y": [4.0] * 8})
    fc = {n: np.full((1, 8), 4.0) for n in abl.members()}
    fc["gbm"] = np.full((1, 8), 9.0)  # mean of seven = (6 * 4 + 9) / 7 = 33 / 7
    fc["snaive"] = np.full((1, 8), 0.0)  # mean of eight = 33 / 8
    out = abl.scores(fc, fit, target, kind, ["snaive"])
    # seasonal-naive scale: |3-1|, |4-2|, |5-3|, |6-4| -> 2
    assert out["gbm"][1] == pytest.approx(5 / 2)
    assert out["mean(default)"][1] == pytest.approx((33 / 7 - 4) / 2)
    assert out["mean(default + snaive)"][1] == pytest.approx((33 / 8 - 4) / 2)
    assert out["mean(default)"][0] == pytest.approx(200 * (5 / 7) / (4 + 33 / 7))
    # In place of a member: snaive for gbm -> six 4s and a 0, mean 24 / 7.
    swapped = abl.scores(fc, fit, target, kind, ["snaive:gbm"])
    assert swapped["mean(default, snaive for gbm)"][1] == pytest.approx((4 - 24 / 7) / 2)
    assert abl.swap("snaive:gbm") == ("snaive", "gbm") and abl.swap("ets") == ("ets", None)


def test_refuses_unknown_candidates_and_skips_without_data(tmp_path: Path):
    env = {**os.environ, "FORECAST_BENCH_DATA": str(tmp_path / "absent")}
    bad = subprocess.run(
        [sys.executable, str(SCRIPT), "--candidates", "theta,nonsense,ets:snaive,ets:gbm"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert bad.returncode == 2
    # theta is a member already, snaive is not one to replace; ets:gbm is fine.
    assert "['theta', 'nonsense', 'ets:snaive']" in bad.stdout
    skip = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert skip.returncode == 0, skip.stderr
    assert "M3 data not found" in skip.stdout
    assert not list(tmp_path.glob("ablation_*"))


@pytest.mark.bench
def test_runs_on_a_tiny_subset(tmp_path: Path):
    abl = _module()
    data = abl.find_data(None, [abl.KINDS["quarterly"]], "the tiny run")  # the script's lookup
    if data is None:
        pytest.skip("M3 data not found")
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--data",
            str(data),
            "--kinds",
            "quarterly",
            "--limit",
            "40",
            "--candidates",
            "snaive",
            "--jobs",
            "1",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(tmp_path / "ablation_quarterly_latest.csv")
    assert {"theta", "gbm", "snaive", "mean(default)", "mean(default + snaive)"} <= set(
        table["model"]
    )
    mase = table[[c for c in table.columns if c.endswith("_mase")]].to_numpy(dtype=float)
    assert mase.shape[1] == 3 and np.isfinite(mase).all()
    by_model = table.set_index("model")
    row, base = by_model.loc["mean(default + snaive)"], by_model.loc["mean(default)"]
    # The verdicts follow from the numbers in the same table, as the docstring defines them.
    helps = row["v1_mase"] < base["v1_mase"] and row["v2_mase"] < base["v2_mase"]
    assert row["helps_on_both"] == ("yes" if helps else "no")
    for w in ("v1", "v2"):
        change = 100 * (row[f"{w}_mase"] / base[f"{w}_mase"] - 1)
        assert row[f"{w}_mase_change_%"] == pytest.approx(change)
    assert np.isfinite(row[["v2_change_se", "v1_change_se"]].to_numpy(dtype=float)).all()
    beyond = row["v2_change_se"] < -1 and row["v1_change_se"] < -1
    assert row["beyond_1se_on_both"] == ("yes" if beyond else "no")


def test_paired_changes_are_in_standard_errors_of_the_per_series_difference():
    abl = _module()
    kind = abl.KINDS["quarterly"]
    ids = ["a", "b", "c"]
    fit = pd.DataFrame(
        {"unique_id": np.repeat(ids, 8), "y": np.tile([1.0, 2, 3, 4, 3, 4, 5, 6], 3)}
    )  # every scale 2
    target = pd.DataFrame({"unique_id": np.repeat(ids, 8), "y": 4.0})
    fc = {n: np.full((3, 8), 4.0) for n in abl.members()}  # default mean: exact, MASE 0
    # Candidate errors 7, 14, 21 per series: mean of eight = 4 + err / 8, MASE err / 16.
    fc["snaive"] = 4.0 + np.array([[7.0], [14.0], [21.0]]) * np.ones((1, 8))
    d = np.array([7.0, 14.0, 21.0]) / 16
    expected = d.mean() / (d.std(ddof=1) / np.sqrt(3))
    got = abl.paired_changes(fc, fit, target, kind, ["snaive"])
    assert got == {"mean(default + snaive)": pytest.approx(expected)}
    assert expected == pytest.approx(2 * np.sqrt(3))  # mean 14/16, sd 7/16
    # No difference at all: no standard error to measure the change in.
    fc["snaive"] = np.full((3, 8), 4.0)
    assert np.isnan(abl.paired_changes(fc, fit, target, kind, ["snaive"])["mean(default + snaive)"])


def test_verdicts_follow_the_changes_on_both_validation_windows(tmp_path, monkeypatch):
    """The table's rows from known forecasts (no model is fitted): ``good`` helps on every
    window, ``mixed`` only on v2, ``bad`` on none; the verdicts must say exactly that."""
    abl = _module()
    kind = abl.KINDS["quarterly"]  # h = 8, m = 4
    h = kind.horizon
    train, test = _panel({"a": 28, "b": 28, "c": 28}, h)
    train.to_csv(tmp_path / "quarterly_train.csv", index=False)
    test.to_csv(tmp_path / "quarterly_test.csv", index=False)

    def fake(fit, kind, names, jobs):
        groups = fit.groupby("unique_id", sort=False)["y"]
        truth = groups.last().to_numpy()[:, None] + np.arange(1, h + 1)  # values continue
        k = np.array([[1.0], [2.0], [3.0]])  # per-series offsets: a standard error > 0
        v2 = bool((groups.size() == 12).all())
        fc = {n: truth + 1.0 for n in abl.members()}  # every member 1 too high
        fc["good"] = truth - k
        fc["mixed"] = truth - k if v2 else truth + 9 + k
        fc["bad"] = truth + 9 + k
        return {n: fc[n] for n in names}

    monkeypatch.setattr(abl, "forecasts", fake)
    table = abl.ablation(tmp_path, kind, ["good", "mixed", "bad"], jobs=1, limit=None)
    rows = table.set_index("model")
    # Seasonal-naive scale of a straight line with m = 4 is 4: the default mean's MASE 1/4.
    assert rows.loc["mean(default)", ["v2_mase", "v1_mase", "test_mase"]].tolist() == (
        pytest.approx([0.25] * 3)
    )
    good = rows.loc["mean(default + good)"]
    # Errors (7 - k) / 8 = 6/8, 5/8, 4/8: MASE 5/32, 37.5% below the default mean.
    assert good["v1_mase"] == pytest.approx(5 / 32)
    assert good["v1_mase_change_%"] == pytest.approx(-37.5)
    assert good["v2_mase_change_%"] == pytest.approx(-37.5)
    # Paired differences -(1 + k) / 32: mean -3/32, sd 1/32, so -3 sqrt(3) standard errors.
    assert good["v1_change_se"] == pytest.approx(-3 * np.sqrt(3))
    assert (good["helps_on_both"], good["beyond_1se_on_both"]) == ("yes", "yes")
    mixed = rows.loc["mean(default + mixed)"]
    assert mixed["v2_mase_change_%"] == pytest.approx(-37.5)
    # Errors (16 + k) / 8: MASE mean 18/32, 125% above the default mean.
    assert mixed["v1_mase_change_%"] == pytest.approx(125.0)
    assert mixed["v2_change_se"] < -1 < mixed["v1_change_se"]
    assert (mixed["helps_on_both"], mixed["beyond_1se_on_both"]) == ("no", "no")
    bad = rows.loc["mean(default + bad)"]
    assert bad["v2_mase_change_%"] == bad["v1_mase_change_%"] == pytest.approx(125.0)
    assert (bad["helps_on_both"], bad["beyond_1se_on_both"]) == ("no", "no")
    # Member rows carry no verdict.
    assert rows.loc[list(abl.members()), "helps_on_both"].isna().all()
