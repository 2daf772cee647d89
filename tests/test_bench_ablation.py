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


def test_refuses_unknown_candidates_and_skips_without_data(tmp_path: Path):
    env = {**os.environ, "FORECAST_BENCH_DATA": str(tmp_path / "absent")}
    bad = subprocess.run(
        [sys.executable, str(SCRIPT), "--candidates", "theta,nonsense"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert bad.returncode == 2
    assert "['theta', 'nonsense']" in bad.stdout
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
    row = table.set_index("model").loc["mean(default + snaive)"]
    assert row["helps_on_both"] in ("yes", "no")
    assert row["beyond_1se_on_both"] in ("yes", "no")
    assert np.isfinite(row[["v2_change_se", "v1_change_se"]].to_numpy(dtype=float)).all()


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
