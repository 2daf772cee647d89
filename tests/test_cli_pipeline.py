"""``forecast run`` / ``report`` / ``demo`` through the CLI."""

from __future__ import annotations

import os

import pandas as pd
import pytest
from pipeline_fixtures import FAST_MODELS, small_workspace
from typer.testing import CliRunner

from forecast.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    settings = small_workspace(tmp, n_provinces=3, n_categories=2, n_destinations=2)
    env = {
        "FORECAST_WAREHOUSE": str(settings.warehouse),
        "FORECAST_MODELS_DIR": str(settings.models_dir),
        "FORECAST_REPORTS_DIR": str(settings.reports_dir),
    }
    result = runner.invoke(
        app, ["run", "--models", ",".join(FAST_MODELS), "--format", "csv"], env=env
    )
    return tmp, env, result


def test_run_publishes_run_and_reports(published):
    tmp, _env, result = published
    assert result.exit_code == 0, result.output
    assert "Run " in result.output and "Reports:" in result.output
    # Each fact on one line, not wrapped at 80 columns (cron logs are grepped).
    lines = result.output.splitlines()
    run_line = next(line for line in lines if line.startswith("Run "))
    assert " periods ahead from " in run_line and run_line.endswith(" s.")
    stages = next(line for line in lines if line.startswith("Stages: "))
    assert stages.rstrip().endswith(" s") and "save" in stages
    latest = (tmp / "models" / "LATEST").read_text().strip()
    assert (tmp / "models" / latest / "manifest.json").exists()
    link = tmp / "reports" / "latest"
    assert link.is_symlink() and os.readlink(link) == latest
    files = {p.name for p in (tmp / "reports" / latest).iterdir()}
    assert {"national.csv", "outlook-full.csv", "advantage-full.csv"} <= files
    assert not any(p.name.startswith(".tmp") for p in (tmp / "models").iterdir())


def test_report_rewrites_csv_byte_for_byte(published, tmp_path):
    tmp, env, _ = published
    latest = (tmp / "models" / "LATEST").read_text().strip()
    out = tmp_path / "again"
    result = runner.invoke(
        app, ["report", "--run", latest, "--format", "csv", "--out", str(out)], env=env
    )
    assert result.exit_code == 0, result.output
    original = tmp / "reports" / latest
    for name in ("national.csv", "outlook-full.csv", "advantage-full.csv"):
        assert (out / name).read_bytes() == (original / name).read_bytes(), name


def test_report_national_pdf_in_english(published, tmp_path):
    _tmp, env, _ = published
    out = tmp_path / "en"
    result = runner.invoke(
        app,
        ["report", "--scope", "national", "--lang", "en", "--format", "pdf", "--out", str(out)],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert (out / "national.pdf").read_bytes().startswith(b"%PDF")


def test_run_without_warehouse_exits_2_with_advice(tmp_path):
    env = {"FORECAST_WAREHOUSE": str(tmp_path / "missing.duckdb")}
    result = runner.invoke(app, ["run"], env=env)
    assert result.exit_code == 2  # the setting points at nothing: a usage error
    assert "No warehouse at" in result.output and "forecast ingest" in result.output


def test_report_unknown_run_is_a_clear_error(published):
    _tmp, env, _ = published
    result = runner.invoke(app, ["report", "--run", "../../etc"], env=env)
    assert result.exit_code == 2
    assert "is not a run id" in result.output


@pytest.mark.slow
def test_demo_end_to_end(tmp_path):
    """The full demo: 41 PDFs and the CSV outlooks (minutes; run by make bench)."""
    result = runner.invoke(app, ["demo", "--workspace", str(tmp_path / "demo"), "--jobs", "2"])
    assert result.exit_code == 0, result.output
    latest = (tmp_path / "demo" / "models" / "LATEST").read_text().strip()
    folder = tmp_path / "demo" / "reports" / latest
    assert len(list(folder.glob("province-*.pdf"))) == 34
    assert len(list(folder.glob("region-*.pdf"))) == 6
    assert (folder / "national.pdf").exists() and (folder / "outlook-full.csv").exists()


def test_cli_start_up_does_not_import_the_forecasting_stack():
    # `forecast ingest` and `--help` must not wait seconds for statsforecast, scikit-learn,
    # prophet and matplotlib; the commands that need them import them on use.
    import subprocess
    import sys

    heavy = ("statsforecast", "sklearn", "prophet", "matplotlib", "hierarchicalforecast")
    code = f"import sys, forecast.cli; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_backtest_without_input_scores_the_warehouse_per_level(published, tmp_path):
    _tmp, env, _ = published
    out = tmp_path / "levels.csv"
    args = ["backtest", "--models", ",".join(FAST_MODELS), "--windows", "1", "-o", str(out)]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "Backtest MASE per level of the hierarchy" in text
    assert "1 window(s) of 12 periods" in text and "synthetic demonstration data" in text
    assert "national/total/total" in text and "province/category/domestic" in text
    board = pd.read_csv(out)
    assert {"level", "model", "stage", "mase", "coverage_95", "chosen"} <= set(board.columns)
    rec = board[board["stage"] == "reconciled"]
    assert rec.groupby("level")["chosen"].sum().eq(1).all()  # one method a run would use
    assert {"selected", "Theta", "Naive"} <= set(board.loc[board["stage"] == "base", "model"])
    assert "Leaderboard by level written to" in text
    notes = (tmp_path / "levels.notes.txt").read_text(encoding="utf-8")
    # theta is the only ensemble member among FAST_MODELS: the engine notes it, one a line
    assert "ens_mean left out for regular series: 1 ensemble member(s)" in notes
    assert notes.endswith("\n")
    assert f"engine notes: {tmp_path / 'levels.notes.txt'}" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--season-length", "12"], "only with --input"),
        (["--freq", "MS"], "only with --input"),
        (["--input", "x.csv", "--warehouse", "w.duckdb"], "only without --input"),
        (["--input", "x.csv", "--as-of", "3"], "only without --input"),
    ],
)
def test_backtest_options_of_the_other_mode_are_usage_errors(args, message):
    result = runner.invoke(app, ["backtest", *args])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_backtest_without_input_or_warehouse_exits_2_with_advice(tmp_path):
    env = {"FORECAST_WAREHOUSE": str(tmp_path / "missing.duckdb")}
    result = runner.invoke(app, ["backtest"], env=env)
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "No warehouse at" in text and "forecast ingest" in text and "--input FILE" in text
    result = runner.invoke(app, ["backtest", "--warehouse", str(tmp_path)])
    assert result.exit_code == 2
    assert "is a folder, not a file" in " ".join(result.output.split())


def test_backtest_refuses_to_write_over_the_warehouse(published):
    _tmp, env, _ = published
    result = runner.invoke(app, ["backtest", "-o", env["FORECAST_WAREHOUSE"]], env=env)
    assert result.exit_code == 2
    assert "is the warehouse; write the results elsewhere" in " ".join(result.output.split())


def test_the_level_table_names_a_best_model_scored_on_part_of_a_level_as_such():
    from forecast.cli._app import out_console
    from forecast.cli.engine import _print_level_leaderboard

    board = pd.DataFrame(
        {
            "level": ["a"] * 4 + ["b"] * 3,
            "model": ["Mean", "Theta", "Naive", "selected", "Mean", "Theta", "selected"],
            "stage": "base",
            "n_series": [1, 10, 10, 10, 2, 3, 4],
            "mase": [0.5, 0.8, 0.9, 0.85, 0.6, 0.7, 0.75],
            "coverage_95": [None, None, None, 0.95, None, None, 0.9],
            "chosen": [False, False, False, True, False, False, True],
        }
    )
    names = {"Mean": "mean", "Theta": "theta", "Naive": "naive"}
    with out_console.capture() as cap:
        _print_level_leaderboard(board, (95,), names)
    lines = {ln.split()[0]: ln for ln in cap.get().splitlines() if ln.strip()[:2] in ("a ", "b ")}
    # Level a: Mean (1 of 10 series) is lower, but Theta is the best on every series.
    assert "theta 0.800" in lines["a"] and "mean" not in lines["a"]
    # Level b: no candidate covers all 4; the best is shown with its count.
    assert "mean 0.600 (2 of 4)" in lines["b"]


def test_demo_refuses_an_unknown_model_before_replacing_the_warehouse(tmp_path):
    workspace = tmp_path / "demo"
    workspace.mkdir()
    (workspace / "warehouse.duckdb").write_bytes(b"an earlier demo warehouse")
    result = runner.invoke(
        app, ["demo", "--workspace", str(workspace)], env={"FORECAST_MODELS": "theta,fooo"}
    )
    assert result.exit_code == 2, result.output
    assert "Unknown model 'fooo'" in result.output
    assert (workspace / "warehouse.duckdb").read_bytes() == b"an earlier demo warehouse"
