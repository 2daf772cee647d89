"""`forecast predict-csv` and `forecast backtest --input` through the command line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from text_encodings import cp1258
from typer.testing import CliRunner

from forecast.cli import app
from forecast.config import Settings

runner = CliRunner()
COLUMNS = ["unique_id", "ds", "yhat", "lo_80", "hi_80", "lo_95", "hi_95", "model"]


def _series(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 100 + 20 * np.sin(np.arange(n) * 2 * np.pi / 12 + seed) + rng.normal(0, 3, n)


@pytest.fixture
def monthly_csv(tmp_path: Path) -> Path:
    """4 monthly series of 36 months (2021-01 .. 2023-12), one of 30 starting later."""
    frames = []
    for i in range(4):
        n = 36 if i < 3 else 30
        ds = pd.date_range("2021-01-01", periods=36, freq="MS")[-n:].strftime("%Y-%m-%d")
        frames.append(pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": _series(n, i).round(2)}))
    path = tmp_path / "sales.csv"
    pd.concat(frames).to_csv(path, index=False)
    return path


@pytest.fixture
def integer_csv(tmp_path: Path) -> Path:
    frames = [
        pd.DataFrame({"unique_id": f"p{i}", "ds": np.arange(1, 41), "y": _series(40, i).round(2)})
        for i in range(3)
    ]
    path = tmp_path / "indexed.csv"
    pd.concat(frames).to_csv(path, index=False)
    return path


def predict(*args: object) -> tuple[int, str, str]:
    result = runner.invoke(app, ["predict-csv", *map(str, args)])
    return result.exit_code, result.stdout, result.stderr


def test_predict_csv_writes_the_documented_columns(monthly_csv: Path) -> None:
    code, out, err = predict(
        monthly_csv, "--horizon", 6, "--models", "naive,snaive,theta", "-o", "f.csv"
    )
    assert code == 0, err
    assert "Forecast 4 series x 6 periods in " in out and "-> f.csv" in out
    assert "Backtest leaderboard" in out
    header = Path("f.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == ",".join(COLUMNS)
    f = pd.read_csv("f.csv")
    assert len(f) == 4 * 6
    assert list(f["unique_id"].drop_duplicates()) == ["s0", "s1", "s2", "s3"]
    expected = [f"2024-{m:02d}-01" for m in range(1, 7)]
    assert list(f.loc[f["unique_id"] == "s3", "ds"]) == expected  # late start, same end
    assert set(f["model"]) <= {"Naive", "SeasonalNaive", "Theta"}
    assert (f["lo_95"] <= f["lo_80"]).all() and (f["lo_80"] <= f["yhat"]).all()
    assert (f["yhat"] <= f["hi_80"]).all() and (f["hi_80"] <= f["hi_95"]).all()
    assert f[["yhat", "lo_80", "hi_80", "lo_95", "hi_95"]].notna().all().all()


def test_predict_csv_default_models(monthly_csv: Path) -> None:
    code, _out, err = predict(monthly_csv, "--horizon", 4, "--output", "f.csv")
    assert code == 0, err
    f = pd.read_csv("f.csv")
    assert list(f.columns) == COLUMNS and len(f) == 16
    assert np.isfinite(f["yhat"]).all()


def test_predict_csv_integer_index(integer_csv: Path) -> None:
    code, _out, err = predict(integer_csv, "-h", 3, "--models", "naive,theta", "-o", "f.csv")
    assert code == 0, err
    f = pd.read_csv("f.csv")
    assert list(f.columns) == COLUMNS
    assert f["ds"].tolist() == [41, 42, 43] * 3
    assert f["ds"].dtype == np.int64


def test_predict_csv_other_level_and_model_list(monthly_csv: Path) -> None:
    code, _out, err = predict(
        monthly_csv, "--horizon", 3, "--level", 90, "--models", "ets,theta", "-o", "f.csv"
    )
    assert code == 0, err
    f = pd.read_csv("f.csv")
    assert list(f.columns) == ["unique_id", "ds", "yhat", "lo_90", "hi_90", "model"]
    assert set(f["model"]) <= {"AutoETS", "Theta"}
    assert (f["lo_90"] <= f["yhat"]).all() and (f["yhat"] <= f["hi_90"]).all()


def test_predict_csv_writes_details(monthly_csv: Path) -> None:
    code, _out, err = predict(
        monthly_csv, "-h", 3, "--models", "naive,theta", "-o", "f.csv", "--details", "d"
    )
    assert code == 0, err
    selection = pd.read_csv("d/selection.csv")
    assert list(selection.columns[:4]) == ["unique_id", "profile", "model", "reason"]
    assert len(selection) == 4
    backtest = pd.read_csv("d/backtest.csv")
    assert {"unique_id", "cutoff", "ds", "y", "yhat"} <= set(backtest.columns)
    # Dates as the forecasts and the input write them, so the tables join on ds.
    assert backtest["cutoff"].str.fullmatch(r"\d{4}-\d{2}-01").all()
    assert set(backtest["ds"]) <= set(pd.read_csv(monthly_csv)["ds"])
    assert set(pd.read_csv("d/leaderboard.csv")["label"]) == {"Naive", "Theta"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "Error: sales.csv: file not found. Fix: check the path"),
        (
            "unique_id,ds,value\na,2020-01-01,1\n",
            "sales.csv: missing column(s) y; found unique_id, ds, value",
        ),
        (
            "unique_id,ds,y\na,2020-01-01,1\na,2020-02-30,2\na,2020-03-01,3\n",
            "sales.csv, row 3, column 'ds': not a date (value: '2020-02-30')",
        ),
        (
            "unique_id,ds,y\na,2020-01-01,1\na,2020-02-01,1.5kg\na,2020-03-01,3\n",
            "sales.csv, row 3, column 'y': not a number (value: '1.5kg')",
        ),
        ("", "sales.csv: the file is empty"),
        (
            'unique_id,ds,y\na,2020-01-01,1\na,2020-02-01,2\nb,2020-01-01,"3\n',
            "sales.csv, row 4: this row cannot be read as CSV (unexpected end of data): a "
            "quoted cell starts here",
        ),
    ],
)
def test_predict_csv_bad_file_exits_65(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "sales.csv"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    code, _out, err = predict(path, "--horizon", 3, "-o", "f.csv")
    assert code == 65
    assert message in " ".join(err.split())
    assert not Path("f.csv").exists()


@pytest.mark.parametrize("command", ["predict-csv", "backtest"])
def test_a_folder_as_input_exits_65_naming_the_file(tmp_path: Path, command: str) -> None:
    folder = tmp_path / "sales.csv"
    folder.mkdir()
    args = [str(folder), "-o", "f.csv"] if command == "predict-csv" else ["--input", str(folder)]
    result = runner.invoke(app, [command, *args, "--horizon", "3"])
    assert result.exit_code == 65, result.output
    err = " ".join(result.stderr.split())
    assert "Error: sales.csv: is a folder, not a file" in err
    assert "Fix: pass the path of a file with columns unique_id,ds,y" in err
    assert "Traceback" not in result.output
    assert not Path("f.csv").exists()


def _assert_cannot_open(path: Path, message: str, fix: str) -> None:
    code, _out, err = predict(path, "--horizon", 3, "-o", "f.csv")
    assert code == 65
    text = " ".join(err.split())
    assert f"Error: {path.name}: {message}" in text
    assert fix in text


def test_an_unreadable_input_exits_65_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "sales.csv"
    path.write_text("unique_id,ds,y\na,2020-01-01,1\n", encoding="utf-8")
    real_read = Path.read_bytes

    def denied(self: Path) -> bytes:
        if self == path:
            raise PermissionError(13, "Permission denied", str(path))
        return real_read(self)

    # Simulated: chmod does not stop root (CI containers), so fail the read itself.
    monkeypatch.setattr(Path, "read_bytes", denied)
    _assert_cannot_open(
        path,
        "cannot read the file (Permission denied)",
        "Fix: check the path and that the file is readable",
    )


def test_a_folder_that_cannot_be_entered_exits_65_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "locked" / "sales.csv"
    real_exists = Path.exists

    def exists(self: Path, *args: object, **kwargs: object) -> bool:
        if self == path:  # what stat() raises under a folder without search permission
            raise PermissionError(13, "Permission denied", str(self))
        return real_exists(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "exists", exists)
    _assert_cannot_open(
        path,
        "cannot read the file (Permission denied; path",
        "Fix: check that the file and its folders are readable by this user",
    )


@pytest.fixture
def engine_configs(monkeypatch: pytest.MonkeyPatch) -> list:
    """The EngineConfig of every engine run the test's commands make."""
    import forecast.engine

    real = forecast.engine.run_engine
    configs: list = []

    def spy(panel, cfg, **kwargs):  # type: ignore[no-untyped-def]
        configs.append(cfg)
        return real(panel, cfg, **kwargs)

    monkeypatch.setattr(forecast.engine, "run_engine", spy)
    return configs


def test_backtest_passes_seed_to_the_engine(monthly_csv: Path, engine_configs: list) -> None:
    configs = engine_configs
    base = ["--input", str(monthly_csv), "-h", "3", "--models", "naive,theta", "-o"]
    for extra in (["--seed", "7"], []):
        result = runner.invoke(app, ["backtest", *base, f"lb{len(configs)}.csv", *extra])
        assert result.exit_code == 0, result.stderr
    args = ["predict-csv", str(monthly_csv), "-h", "3", "--models", "naive", "-o", "f.csv"]
    again = runner.invoke(app, [*args, "--seed", "7"])
    assert again.exit_code == 0, again.stderr
    # --seed reaches EngineConfig exactly as predict-csv's does; without it, the setting.
    assert [c.seed for c in configs] == [7, Settings().seed, 7]


def test_predict_csv_unknown_model_exits_2(monthly_csv: Path) -> None:
    code, _out, err = predict(monthly_csv, "-h", 3, "--models", "ets,magic", "-o", "f.csv")
    assert code == 2
    text = " ".join(err.split())
    assert "Unknown model 'magic'. Known models: naive, snaive" in text
    assert "the sets default (the default candidates) and ensembles" in text


def test_predict_csv_requires_a_positive_horizon(monthly_csv: Path) -> None:
    code, _out, err = predict(monthly_csv, "--horizon", 0, "-o", "f.csv")
    assert code == 2
    assert "Invalid value for '--horizon'" in err


def test_leaderboard_fits_80_columns_and_names_ensemble_members(monthly_csv: Path) -> None:
    """Under cron the console is 80 columns wide: model names as --models takes them, no
    truncation, every coverage column, and each ensemble's members spelt out below."""
    code, out, err = predict(
        monthly_csv, "--horizon", 6, "--models", "snaive,theta,dotm,etsd,ens_mean", "-o", "f.csv"
    )
    assert code == 0, err
    table = out[out.index("Backtest leaderboard") : out.index("* chosen")]
    assert "…" not in table
    assert max(len(line) for line in table.splitlines()) <= 80
    for word in ("profile", "model", "mase", "cov80", "cov95", "snaive *", "ens_mean", "dotm"):
        assert word in table
    members = out[out.index(" ens_mean = Mean(") :].splitlines()[0]
    named = members.split("(", 1)[1].rstrip(")").split(", ")
    # The members present of the ensemble set (seasonal naive is not one).
    assert sorted(named) == ["DampedETS", "DynamicOptimizedTheta", "Theta"]


def test_backtest_prints_and_writes_the_leaderboard(monthly_csv: Path) -> None:
    args = ["backtest", "--input", str(monthly_csv), "-h", "6", "--models", "naive,snaive,theta"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert "Backtest leaderboard (pooled, scaled errors; lower is better)" in result.stdout
    assert "* chosen" in result.stdout
    assert not Path("lb.csv").exists()
    result = runner.invoke(app, [*args, "--output", "lb.csv"])
    assert result.exit_code == 0, result.stderr
    assert "Leaderboard written to lb.csv" in result.stdout
    lb = pd.read_csv("lb.csv")
    assert list(lb.columns[:9]) == [
        "profile",
        "label",
        "model",
        "n_rows",
        "mase",
        "rmsse",
        "smape",
        "bias",
        "selected",
    ]
    assert set(lb["label"]) == {"Naive", "SeasonalNaive", "Theta"}
    assert lb["selected"].sum() == 1
    # 3 series with 2 windows of 6 months (36 values) and one with 1 (30 values).
    assert set(lb["n_rows"]) == {7}
    assert lb["mase"].is_monotonic_increasing


def test_backtest_bad_input_exits_65(tmp_path: Path) -> None:
    result = runner.invoke(app, ["backtest", "--input", str(tmp_path / "none.csv")])
    assert result.exit_code == 65
    assert "none.csv: file not found" in result.stderr


@pytest.mark.parametrize("command", ["predict-csv", "backtest"])
def test_commands_are_documented(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "Example: forecast" in text
    for option in ("--horizon", "--models", "--level", "--jobs", "--windows", "--seed"):
        assert option in text
    if command == "predict-csv":  # the interval columns follow --level, not a fixed list
        assert "lo_L and hi_L for each --level L" in text


def test_models_lists_every_name_models_takes_with_its_sets() -> None:
    from forecast.methods.registry import ENSEMBLES, SPECS

    res = runner.invoke(app, ["models"], env={"COLUMNS": "80"})
    assert res.exit_code == 0, res.output
    rows = {line.split()[0]: line.split() for line in res.output.splitlines() if line.strip()}
    for name in [*SPECS, *ENSEMBLES]:
        assert name in rows, name
    # name, shown as, kind, sets: the sets come from the registry's candidate lists.
    assert rows["naive"][1:4] == ["Naive", "local", "DSI"]
    assert rows["etsd"][1:4] == ["DampedETS", "local", "D"]
    assert rows["arima"][1:4] == ["AutoARIMA", "local", "-"]
    assert rows["gbm"][1:4] == ["GlobalGBM", "global", "DS"]
    assert rows["ens_mean3"][1:4] == ["Mean(...)", "ensemble", "D"]
    assert rows["ens_median"][1:4] == ["Median(...)", "ensemble", "DS"]
    assert max(len(line) for line in res.output.splitlines()) <= 80
    assert "--models ensembles names the four ensembles" in " ".join(res.output.split())


def test_day_first_dates_are_read_as_months_not_days(tmp_path: Path) -> None:
    """``01/MM/YYYY`` (the Vietnamese form) is 1 February, not 2 January: the data stay
    monthly, nothing is interpolated, and the forecasts follow the last month."""
    ds = pd.date_range("2021-01-01", periods=36, freq="MS")
    frames = [
        pd.DataFrame({"unique_id": f"s{i}", "ds": ds.strftime("%d/%m/%Y"), "y": _series(36, i)})
        for i in range(2)
    ]
    path = tmp_path / "dmy.csv"
    pd.concat(frames).to_csv(path, index=False)
    code, _out, err = predict(path, "-h", 3, "--models", "naive,snaive", "-o", "f.csv")
    assert code == 0, err
    f = pd.read_csv("f.csv")
    assert list(f.loc[f["unique_id"] == "s0", "ds"]) == ["2024-01-01", "2024-02-01", "2024-03-01"]
    assert "interpolated" not in err
    # Month first only when a second field says so (13 and above are not months).
    us = pd.concat(frames).assign(ds=lambda d: pd.to_datetime(d["ds"], dayfirst=True))
    us["ds"] = (us["ds"] + pd.Timedelta(days=14)).dt.strftime("%m/%d/%Y")
    us.to_csv(path, index=False)
    code, _out, err = predict(path, "-h", 2, "--models", "naive", "-o", "g.csv")
    assert code == 0, err
    # (The input's day of the month, the 15th, is kept in the output.)
    assert list(pd.read_csv("g.csv")["ds"].head(2)) == ["2024-01-15", "2024-02-15"]


def test_engine_notes_reach_the_console_and_the_details(tmp_path: Path) -> None:
    ds = pd.date_range("2021-01-01", periods=36, freq="MS").strftime("%Y-%m-%d")
    frames = [
        pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": _series(36, i)}).drop(index=[10, 11])
        for i in range(7)
    ]
    path = tmp_path / "gaps.csv"
    pd.concat(frames).to_csv(path, index=False)
    args = ["-h", 3, "--models", "naive,snaive", "-o", "f.csv"]
    code, _out, err = predict(path, *args, "--details", "det")
    assert code == 0, err
    assert "7 note(s) from the engine (all in notes.txt of --details):" in err
    assert "  - s0: 2 missing period(s) interpolated" in err
    assert "... and 2 more" in err
    notes = Path("det/notes.txt").read_text(encoding="utf-8").splitlines()
    assert notes == [f"s{i}: 2 missing period(s) interpolated" for i in range(7)]
    code, _out, err = predict(path, *args)
    assert "(--details DIR keeps all)" in err


def test_error_rows_are_file_lines_after_blank_lines_and_inf_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_text("unique_id,ds,y\na,2024-01-01,1\na,2024-02-01,2\n\na,2024-03-01,abc\n")
    code, _out, err = predict(path, "-h", 2, "-o", "f.csv")
    assert code == 65
    assert "blank.csv, row 5, column 'y': not a number (value: 'abc')" in err
    path.write_text("unique_id,ds,y\na,2024-01-01,1\na,2024-02-01,inf\na,2024-03-01,2\n")
    code, _out, err = predict(path, "-h", 2, "-o", "f.csv")
    assert code == 65
    assert "blank.csv, row 3, column 'y': not a finite number (value: 'inf')" in err
    assert not Path("f.csv").exists()


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        # Weeks stamped on Sundays stay on Sundays.
        (pd.date_range("2022-01-02", periods=40, freq="W-SUN"), ["2022-10-09", "2022-10-16"]),
        # Month ends stay month ends (2024 is a leap year).
        (pd.date_range("2021-02-28", periods=36, freq="ME"), ["2024-02-29", "2024-03-31"]),
        # The 15th of each month stays the 15th.
        (pd.date_range("2021-01-01", periods=36, freq="MS") + pd.Timedelta(days=14), None),
    ],
)
def test_output_dates_keep_the_inputs_day_of_the_period(
    tmp_path: Path, dates: pd.DatetimeIndex, expected: list[str] | None
) -> None:
    path = tmp_path / "dated.csv"
    frame = pd.DataFrame({"unique_id": "a", "ds": dates.strftime("%Y-%m-%d"), "y": 100.0})
    frame["y"] = _series(len(dates), 0)
    frame.to_csv(path, index=False)
    code, _out, err = predict(path, "-h", 2, "--models", "naive", "-o", "f.csv")
    assert code == 0, err
    got = list(pd.read_csv("f.csv")["ds"])
    assert got == (expected or ["2024-01-15", "2024-02-15"])


def test_output_dates_are_period_starts_when_the_inputs_day_varies(tmp_path: Path) -> None:
    ds = pd.date_range("2021-01-01", periods=36, freq="MS")
    ds = ds + pd.to_timedelta(np.arange(36) % 3, unit="D")  # the 1st, 2nd or 3rd
    path = tmp_path / "mixed.csv"
    pd.DataFrame({"unique_id": "a", "ds": ds.strftime("%Y-%m-%d"), "y": _series(36, 1)}).to_csv(
        path, index=False
    )
    code, _out, err = predict(path, "-h", 2, "--models", "naive", "-o", "f.csv")
    assert code == 0, err
    assert list(pd.read_csv("f.csv")["ds"]) == ["2024-01-01", "2024-02-01"]


def test_weeks_on_several_weekdays_are_labelled_by_their_sunday(tmp_path: Path) -> None:
    mondays = pd.date_range("2023-01-02", periods=40, freq="W-MON")
    ds = mondays + pd.to_timedelta(np.arange(40) % 3, unit="D")  # Monday to Wednesday
    path = tmp_path / "weeks.csv"
    pd.DataFrame({"unique_id": "a", "ds": ds.strftime("%Y-%m-%d"), "y": _series(40, 2)}).to_csv(
        path, index=False
    )
    code, _out, err = predict(path, "-h", 2, "--models", "naive", "-o", "f.csv")
    assert code == 0, err
    # The last input week is Monday 2023-10-02 to Sunday 2023-10-08.
    assert list(pd.read_csv("f.csv")["ds"]) == ["2023-10-15", "2023-10-22"]


def _write(path: Path, ds: list[str] | pd.Index, n_series: int = 1) -> Path:
    frames = [
        pd.DataFrame({"unique_id": f"s{i}", "ds": list(ds), "y": _series(len(ds), i)})
        for i in range(n_series)
    ]
    pd.concat(frames).to_csv(path, index=False)
    return path


def test_us_month_first_files_stay_monthly_when_no_field_says_which(tmp_path: Path) -> None:
    """mm/01/yyyy never has a second field above 12; read day first it would be 12 days a
    year. The reading whose series are regular wins."""
    ds = pd.date_range("2021-01-01", periods=36, freq="MS").strftime("%m/%d/%Y")
    path = _write(tmp_path / "us.csv", ds, n_series=2)
    code, _out, err = predict(path, "-h", 2, "--models", "naive", "-o", "f.csv")
    assert code == 0, err
    assert list(pd.read_csv("f.csv")["ds"].head(2)) == ["2024-01-01", "2024-02-01"]
    assert "interpolated" not in err


def test_dates_with_time_zones_times_of_day_and_short_months(tmp_path: Path) -> None:
    # Time-zone-aware dates: the local calendar day is kept.
    ds = pd.date_range("2024-01-01", periods=40, freq="D", tz="Asia/Ho_Chi_Minh")
    path = _write(tmp_path / "tz.csv", [d.isoformat() for d in ds])
    code, _out, err = predict(path, "-h", 2, "--models", "naive", "-o", "f.csv")
    assert code == 0, err
    assert list(pd.read_csv("f.csv")["ds"]) == ["2024-02-10", "2024-02-11"]
    # Hourly data keep their hours.
    ds = pd.date_range("2024-01-01", periods=72, freq="h").strftime("%Y-%m-%d %H:%M:%S")
    code, _out, err = predict(
        _write(tmp_path / "h.csv", ds), "-h", 2, "--models", "naive", "-o", "g.csv"
    )
    assert code == 0, err
    assert list(pd.read_csv("g.csv")["ds"]) == ["2024-01-04 00:00:00", "2024-01-04 01:00:00"]
    # Monthly on the 30th: February is cut to its last day, not pushed into March.
    ds = [f"2023-{m:02d}-30" for m in (3, 4, 5, 6, 7, 8, 9, 10, 11, 12)] + ["2024-01-30"]
    code, _out, err = predict(
        _write(tmp_path / "d30.csv", ds), "-h", 2, "--models", "naive", "-o", "m.csv"
    )
    assert code == 0, err
    assert list(pd.read_csv("m.csv")["ds"]) == ["2024-02-29", "2024-03-30"]
    # ... and input on the 30th whose own Februaries are the 28th/29th keeps the 30th
    # (review 12, R4: written on the 1st, so nothing joined the input).
    starts = pd.date_range("2021-01-01", periods=36, freq="MS")
    ds = [d.replace(day=min(30, d.days_in_month)).strftime("%Y-%m-%d") for d in starts]
    assert ds[1] == "2021-02-28"
    code, _out, err = predict(
        _write(tmp_path / "cut30.csv", ds), "-h", 3, "--models", "naive", "-o", "c.csv"
    )
    assert code == 0, err
    assert list(pd.read_csv("c.csv")["ds"]) == ["2024-01-30", "2024-02-29", "2024-03-30"]
    # Hourly stamps at hh:30 stay at hh:30.
    ds = pd.date_range("2024-01-01 00:30", periods=72, freq="h").strftime("%Y-%m-%d %H:%M")
    code, _out, err = predict(
        _write(tmp_path / "h30.csv", ds), "-h", 2, "--models", "naive", "-o", "h.csv"
    )
    assert code == 0, err
    assert list(pd.read_csv("h.csv")["ds"]) == ["2024-01-04 00:30:00", "2024-01-04 01:30:00"]


def test_ids_with_formula_prefixes_are_quoted_with_a_note_numbers_are_not(tmp_path: Path) -> None:
    """Review 12, R5: '+84-XK' is written with a leading ' (a spreadsheet would run it) and
    a note says so; '-12' is a number and is written as read."""
    ds = pd.date_range("2021-01-01", periods=30, freq="MS").strftime("%Y-%m-%d")
    frames = [
        pd.DataFrame({"unique_id": uid, "ds": ds, "y": _series(30, i)})
        for i, uid in enumerate(("+84-XK", "-12", "plain"))
    ]
    path = tmp_path / "ids.csv"
    pd.concat(frames).to_csv(path, index=False)
    code, _out, err = predict(path, "-h", 2, "--models", "naive", "-o", "f.csv", "--details", "d")
    assert code == 0, err
    got = pd.read_csv("f.csv", dtype={"unique_id": str})["unique_id"].unique().tolist()
    assert sorted(got) == sorted(["'+84-XK", "-12", "plain"])
    text = " ".join(err.split())
    assert "1 unique_id(s) ('+84-XK') start with =, +, - or @" in text
    assert "start with =, +, - or @" in Path("d/notes.txt").read_text()


def test_blank_lines_before_the_header_or_of_spaces_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "lead.csv"
    rows = "".join(f"a,2024-{m:02d}-01,{m}\n" for m in range(1, 13))
    path.write_text("\nunique_id,ds,y\n" + rows[:30] + "   \n" + rows[30:])
    code, _out, err = predict(path, "-h", 2, "--models", "naive", "-o", "f.csv")
    assert code == 0, err
    assert list(pd.read_csv("f.csv")["ds"]) == ["2025-01-01", "2025-02-01"]


def test_a_vietnamese_excel_export_forecasts_as_the_plain_csv(
    monthly_csv: Path, tmp_path: Path
) -> None:
    """Semicolons, decimal commas, dd/mm/yyyy dates and cp1258, as Excel writes a CSV under
    Vietnamese regional settings; and the same table as an .xlsx workbook."""
    frame = pd.read_csv(monthly_csv, dtype={"unique_id": str})
    local = frame.assign(
        unique_id="Gốm " + frame["unique_id"],
        ds=pd.to_datetime(frame["ds"]).dt.strftime("%d/%m/%Y"),
        y=frame["y"].map(lambda v: f"{v:.2f}".replace(".", ",")),
    )
    text = local.to_csv(index=False, sep=";", lineterminator="\r\n")
    excel = tmp_path / "excel.csv"
    excel.write_bytes(cp1258(text))
    book = tmp_path / "book.xlsx"
    frame.assign(unique_id="Gốm " + frame["unique_id"], ds=pd.to_datetime(frame["ds"])).to_excel(
        book, index=False
    )
    outputs = {}
    for path in (monthly_csv, excel, book):
        code, _out, err = predict(path, "-h", 3, "--models", "naive,theta", "-o", f"{path.stem}.f")
        assert code == 0, err
        outputs[path.stem] = pd.read_csv(f"{path.stem}.f")
    plain = outputs["sales"].assign(unique_id="Gốm " + outputs["sales"]["unique_id"])
    pd.testing.assert_frame_equal(outputs["excel"], plain)
    pd.testing.assert_frame_equal(outputs["book"], plain)


def test_sheet_chooses_the_workbook_sheet(monthly_csv: Path, tmp_path: Path) -> None:
    book = tmp_path / "book.xlsx"
    with pd.ExcelWriter(book) as writer:
        pd.DataFrame({"Nguồn": ["Sở Công Thương (dữ liệu tổng hợp)"]}).to_excel(
            writer, sheet_name="Bìa", index=False
        )
        pd.read_csv(monthly_csv).to_excel(writer, sheet_name="Số liệu", index=False)
    code, _out, err = predict(book, "-h", 2, "--models", "naive", "-o", "f.csv")
    assert code == 65
    assert "or pass --sheet NAME to read the sheet that holds them" in " ".join(err.split())
    code, _out, err = predict(
        book, "-h", 2, "--models", "naive", "-o", "f.csv", "--sheet", "Số liệu"
    )
    assert code == 0, err
    assert len(pd.read_csv("f.csv")) == 8


@pytest.mark.parametrize(
    ("option", "make"),
    [
        ("--output", lambda tmp: (tmp / "folder").mkdir() or tmp / "folder"),
        ("--output", lambda tmp: (tmp / "afile").touch() or tmp / "afile" / "f.csv"),
        ("--details", lambda tmp: (tmp / "afile").touch() or tmp / "afile"),
    ],
)
def test_an_unwritable_output_path_is_a_usage_error_before_any_work(
    monthly_csv: Path, tmp_path: Path, option: str, make
) -> None:
    target = make(tmp_path)
    args = ["--output", tmp_path / "f.csv", "--details", tmp_path / "d"]
    args[args.index(option) + 1] = target
    code, out, err = predict(monthly_csv, "--horizon", 3, "--models", "naive", *args)
    assert code == 2
    assert option in err and "Backtest" not in out and "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--seed", "-1"], "--seed"),
        (["--freq", "bogus"], "Unsupported frequency 'bogus'"),
        (["--freq", "B"], "business-day data"),
        (["--models", ""], "give at least one model name"),
        (["--models", " , "], "give at least one model name"),
    ],
)
def test_bad_seed_and_frequency_are_usage_errors(
    monthly_csv: Path, args: list[str], message: str
) -> None:
    code, _, err = predict(monthly_csv, "--horizon", 3, *args, "-o", "f.csv")
    assert code == 2 and message in " ".join(err.split())


def test_every_problem_of_the_file_is_listed_at_once(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "unique_id,ds,y\nA,2020-01-01,1\nA,2020-02-01,abc\nA,2020-03-01,3\n"
        "A,notadate,6\n,2020-07-01,7\n"
    )
    code, _, err = predict(path, "--horizon", 3, "-o", tmp_path / "f.csv")
    text = " ".join(err.split())
    assert code == 65
    assert "row 3, column 'y': not a number" in text
    assert "row 5, column 'ds': not a date (value: 'notadate')" in text
    assert "row 6, column 'unique_id': unique_id is empty" in text


def test_backtest_without_any_window_is_a_data_error(monthly_csv: Path) -> None:
    result = runner.invoke(app, ["backtest", "--input", str(monthly_csv), "--horizon", "48"])
    text = " ".join(result.stderr.split())
    assert result.exit_code == 65
    assert "nothing to backtest at horizon 48: no series is long enough for one window" in text
    assert "Fix: use --horizon 12 or less, or add history" in text  # 36 - two seasons


def test_two_seasons_of_history_ask_for_more_or_a_shorter_season(tmp_path: Path) -> None:
    # 24 monthly values are regular (seasonal models), whose windows train on two seasons:
    # no horizon leaves one to score (review: the advice was a shorter horizon).
    path = tmp_path / "m24.csv"
    ds = pd.date_range("2020-01-01", periods=24, freq="MS").strftime("%Y-%m-%d")
    path.write_text(
        "unique_id,ds,y\n" + "".join(f"A,{d},{10 + i % 12}\n" for i, d in enumerate(ds))
    )
    result = runner.invoke(app, ["backtest", "--input", str(path), "--horizon", "3"])
    text = " ".join(result.stderr.split())
    assert result.exit_code == 65
    assert (
        "Fix: add history: a window of the longest series (24 values) needs 24 values to "
        "train on and 3 to score, 27 in all, or --season-length under 12"
    ) in text


def test_backtest_at_horizon_one_asks_for_history_not_a_shorter_horizon(tmp_path: Path) -> None:
    """1 is the shortest horizon: the advice is what a window needs (review 12, R7)."""
    path = tmp_path / "two.csv"
    path.write_text("unique_id,ds,y\nA,2020-01-01,1\nA,2020-02-01,2\nB,2020-01-01,3\n")
    result = runner.invoke(app, ["backtest", "--input", str(path), "--horizon", "1"])
    text = " ".join(result.stderr.split())
    assert result.exit_code == 65
    assert "nothing to backtest at horizon 1" in text and "add history" in text
    assert "shorter --horizon" not in text


def test_fewer_windows_than_asked_are_noted(monthly_csv: Path) -> None:
    result = runner.invoke(
        app,
        [
            "backtest",
            "--input",
            str(monthly_csv),
            "-h",
            "6",
            "--windows",
            "10",
            "--models",
            "naive",
        ],
    )
    assert result.exit_code == 0, result.stderr
    text = " ".join(result.stderr.split())
    assert "backtest windows: 10 asked for, the longest series allow 2" in text


def test_the_console_leaderboard_says_what_it_leaves_out_and_cuts_no_column(
    monthly_csv: Path, tmp_path: Path
) -> None:
    code, out, err = predict(monthly_csv, "-h", 3, "-o", tmp_path / "f.csv")
    assert code == 0, err
    board = pd.read_csv(tmp_path / "f.csv")  # forecasts written
    assert len(board) == 12
    header = next(line for line in out.splitlines() if line.strip().startswith("profile"))
    assert header.split()[-2:] == ["cov80", "cov95"]
    assert "The best 8 per profile are shown; 5 more in --details DIR." in out


def test_a_float_written_integer_index_is_an_index(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    rows = "".join(f"a,{t}.0,{100 + (t % 4) * 5}\n" for t in range(1, 25))
    path.write_text("unique_id,ds,y\n" + rows)
    code, _, err = predict(path, "-h", 2, "--models", "naive", "-o", tmp_path / "o.csv")
    assert code == 0, err
    assert list(pd.read_csv(tmp_path / "o.csv")["ds"]) == [25, 26]


def test_yyyymm_input_gets_yyyymm_forecasts_stamped_as_the_input(tmp_path: Path) -> None:
    """Quarterly data written as the quarter's last month (202003): the forecasts keep
    that form, so they join with the input on ds."""
    months = [y * 100 + m for y in range(2015, 2021) for m in (3, 6, 9, 12)]
    rows = "".join(f"a,{d},{100 + (i % 4) * 5 + i}\n" for i, d in enumerate(months))
    path = tmp_path / "q.csv"
    path.write_text("unique_id,ds,y\n" + rows)
    code, _, err = predict(path, "-h", 3, "--models", "naive,snaive", "-o", tmp_path / "o.csv")
    assert code == 0, err
    assert list(pd.read_csv(tmp_path / "o.csv")["ds"]) == [202103, 202106, 202109]
    assert "ds read as yyyymm months" in " ".join(err.split())


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        (lambda y, q: f"{y}Q{q}", ["2021Q1", "2021Q2", "2021Q3"]),
        (lambda y, q: f"{y}-Q{q}", ["2021-Q1", "2021-Q2", "2021-Q3"]),
        (lambda y, q: f"{y}-{3 * q - 2:02d}", ["2021-01", "2021-04", "2021-07"]),
    ],
)
def test_period_labels_are_written_back_in_the_input_form(tmp_path: Path, label, expected) -> None:
    # "2021Q1" in, "2021Q1" out, so the forecasts join with the input on ds.
    cells = [label(y, q) for y in range(2015, 2021) for q in (1, 2, 3, 4)]
    rows = "".join(f"a,{d},{100 + (i % 4) * 5 + i}\n" for i, d in enumerate(cells))
    path = tmp_path / "q.csv"
    path.write_text("unique_id,ds,y\n" + rows)
    args = ["-h", 3, "--models", "naive", "-o", tmp_path / "o.csv"]
    if "-" in cells[0] and "Q" not in cells[0]:
        args += ["--freq", "QS"]  # 2015-01, 2015-04: quarters written as months
    code, _, err = predict(path, *args)
    assert code == 0, err
    assert list(pd.read_csv(tmp_path / "o.csv", dtype={"ds": str})["ds"]) == expected


def test_the_output_cannot_be_the_input(monthly_csv: Path) -> None:
    before = monthly_csv.read_bytes()
    code, _, err = predict(monthly_csv, "-h", 3, "--models", "naive", "-o", monthly_csv)
    assert code == 2 and "is the input file" in " ".join(err.split())
    assert monthly_csv.read_bytes() == before


def test_backtest_horizon_defaults_to_the_horizon_setting(
    monthly_csv: Path, engine_configs: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORECAST_HORIZON", "4")
    base = ["backtest", "--input", str(monthly_csv), "--models", "naive,theta"]
    for extra in ([], ["-h", "3"]):
        result = runner.invoke(app, [*base, *extra])
        assert result.exit_code == 0, result.stderr
    # the environment's horizon without -h; the flag wins over it
    assert [c.horizon for c in engine_configs] == [4, 3]


def test_an_ensemble_without_enough_members_is_noted(monthly_csv: Path) -> None:
    code, out, err = predict(
        monthly_csv, "-h", 3, "--models", "naive,theta,dotm,ens_mean3", "-o", "f.csv"
    )
    assert code == 0, err
    text = " ".join((out + err).split())
    assert (
        "ens_mean3 left out for regular series: 2 ensemble member(s) among the fitted "
        "candidates, it needs at least 4"
    ) in text


def test_an_unknown_model_in_the_models_setting_names_where_it_was_set(
    monthly_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORECAST_MODELS", "theta,foo")
    code, _out, err = predict(monthly_csv, "-h", 3, "-o", "f.csv")
    assert code == 2
    text = " ".join(err.split())
    assert "Unknown model 'foo'." in text
    assert "The names come from environment variable FORECAST_MODELS." in text
    # --models replaces the setting, so the bad name in it no longer matters
    code, _out, err = predict(monthly_csv, "-h", 3, "--models", "naive", "-o", "f.csv")
    assert code == 0, err


def test_large_amounts_are_written_without_an_exponent(tmp_path: Path) -> None:
    # Sales in VND reach 1e12: written to the unit, never as 1.018070123e+12.
    path = tmp_path / "vnd.csv"
    ds = pd.date_range("2020-01-01", periods=24, freq="MS").strftime("%Y-%m-%d")
    path.write_text(
        "unique_id,ds,y\n" + "".join(f"a,{d},{1018070123456.789 + i}\n" for i, d in enumerate(ds))
    )
    code, _, err = predict(path, "-h", 2, "--models", "naive", "-o", tmp_path / "o.csv")
    assert code == 0, err
    text = (tmp_path / "o.csv").read_text()
    assert "e+" not in text
    assert text.splitlines()[1].startswith("a,2022-01-01,1018070123480,")  # the last value


def test_ten_digits_switches_to_units_where_an_exponent_would_start() -> None:
    from forecast.safeio import ten_digits

    assert [ten_digits(x) for x in (123.456789012345, 9999999999.4, 9999999999.5)] == [
        "123.456789",
        "9999999999",
        "10000000000",
    ]
    assert ten_digits(-5e12) == "-5000000000000" and ten_digits(2e22) == "2e+22"


@pytest.mark.parametrize(
    ("series", "horizon", "advice"),
    [
        # 24 values (regular: trains on 24) beside 20 (short: trains on 3): the short one
        # has room for 17
        ({"A": 24, "B": 20}, 18, "use --horizon 17 or less"),
        # leading zeros are trimmed before the engine counts: 30 values, room for 6
        ({"Z": 40}, 10, "use --horizon 6 or less"),
    ],
)
def test_the_no_window_advice_follows_the_series_as_the_engine_sees_them(
    tmp_path: Path, series: dict[str, int], horizon: int, advice: str
) -> None:
    lines = []
    for uid, n in series.items():
        ds = pd.date_range("2020-01-01", periods=n, freq="MS").strftime("%Y-%m-%d")
        for i, d in enumerate(ds):
            y = 0 if uid == "Z" and i < 10 else 10 + i % 12
            lines.append(f"{uid},{d},{y}\n")
    path = tmp_path / "s.csv"
    path.write_text("unique_id,ds,y\n" + "".join(lines))
    args = ["backtest", "--input", str(path), "--models", "naive", "--horizon", str(horizon)]
    result = runner.invoke(app, args)
    assert result.exit_code == 65
    assert f"Fix: {advice}, or add history" in " ".join(result.stderr.split())
    longest_that_fits = advice.split()[2]
    fixed = runner.invoke(app, [*args[:-1], longest_that_fits])  # and it does fit
    assert fixed.exit_code == 0, fixed.stderr


def test_the_no_window_advice_ignores_a_horizon_only_a_constant_series_would_fit(
    tmp_path: Path,
) -> None:
    ds = pd.date_range("2020-01-01", periods=24, freq="MS").strftime("%Y-%m-%d")
    rows = [f"A,{d},{10 + i % 12}\n" for i, d in enumerate(ds)]
    rows += [f"C,{d},5\n" for d in ds[:10]]  # constant: trains on 3, so 7 would "fit" it
    path = tmp_path / "s.csv"
    path.write_text("unique_id,ds,y\n" + "".join(rows))
    args = ["backtest", "--input", str(path), "--models", "naive", "--horizon", "18"]
    result = runner.invoke(app, args)
    text = " ".join(result.stderr.split())
    assert result.exit_code == 65 and "use --horizon" not in text
    assert "Fix: add history: a window of the longest series (24 values)" in text
