"""Configuration, path and usage errors through the CLI: exit codes and messages (review 11
R10, R14, R15). Every error here is the user's to fix, so none may end in a traceback or
in exit code 1 ("a bug"); path settings are checked before any forecasting."""

from __future__ import annotations

import errno
import json
import re
import shutil

import pytest
from pipeline_fixtures import FAST_MODELS, small_workspace
from typer.testing import CliRunner

import forecast.publish
from forecast.cli import app
from forecast.config import check_paths, load_settings
from forecast.data.warehouse import Warehouse
from forecast.errors import ConfigError, InvalidParameterError

runner = CliRunner()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A small warehouse (2 provinces x 1 category), nothing published."""
    return small_workspace(
        tmp_path_factory.mktemp("errors"), n_provinces=2, n_categories=1, n_destinations=0
    )


@pytest.fixture
def no_forecast(monkeypatch):
    """Fail the test if the pipeline starts: the check must come before any work."""

    def forbidden(*args, **kwargs):
        raise AssertionError("the pipeline ran before the path settings were checked")

    monkeypatch.setattr(forecast.publish, "run_pipeline", forbidden)


def env_for(settings, **extra):
    env = {
        "FORECAST_WAREHOUSE": str(settings.warehouse),
        "FORECAST_MODELS_DIR": str(settings.models_dir),
        "FORECAST_REPORTS_DIR": str(settings.reports_dir),
        "FORECAST_MODELS": ",".join(FAST_MODELS),
    }
    return {**env, **extra}


def one_line(text):
    """The CLI's output with rich's line wrapping undone."""
    return re.sub(r"\s*\n\s*", " ", text)


# --------------------------------------------------------------------------- R10 paths
def test_run_with_reports_dir_a_file_exits_2_before_forecasting(workspace, tmp_path, no_forecast):
    a_file = tmp_path / "small.csv"
    a_file.write_text("x\n", encoding="utf-8")
    models = tmp_path / "models"
    env = env_for(workspace, FORECAST_REPORTS_DIR=str(a_file), FORECAST_MODELS_DIR=str(models))
    result = runner.invoke(app, ["run", "--format", "csv"], env=env)
    assert result.exit_code == 2, result.output
    out = one_line(result.output)
    assert (
        f"Error: The setting 'reports_dir' = '{a_file}' (from environment variable "
        "FORECAST_REPORTS_DIR) is a file, not a folder. Set FORECAST_REPORTS_DIR or "
        "'reports_dir' in forecast.toml to a folder." in out
    )
    assert isinstance(result.exception, SystemExit)  # handled, not a traceback
    assert not any(p.is_dir() and p.name[0] != "." for p in models.iterdir())  # no run saved
    assert a_file.read_text(encoding="utf-8") == "x\n"


def test_run_with_log_file_a_folder_exits_2_before_forecasting(workspace, tmp_path, no_forecast):
    env = env_for(workspace, FORECAST_LOG_FILE=str(tmp_path))
    result = runner.invoke(app, ["run", "--format", "csv"], env=env)
    assert result.exit_code == 2, result.output
    assert (
        f"The setting 'log_file' = '{tmp_path}' (from environment variable FORECAST_LOG_FILE) "
        "is a folder, not a file. Set FORECAST_LOG_FILE or 'log_file' in forecast.toml to a "
        "file path." in one_line(result.output)
    )


def test_run_with_models_dir_under_a_file_names_the_config_file(workspace, tmp_path, no_forecast):
    blocker = tmp_path / "blocker"
    blocker.write_text("", encoding="utf-8")
    toml = tmp_path / "site.toml"
    toml.write_text(f'[paths]\nmodels_dir = "{blocker}/models"\n', encoding="utf-8")
    env = env_for(workspace)
    del env["FORECAST_MODELS_DIR"]
    result = runner.invoke(app, ["--config", str(toml), "run", "--format", "csv"], env=env)
    assert result.exit_code == 2, result.output
    assert (
        f"The setting 'models_dir' = '{blocker}/models' (from 'models_dir' in {toml}) cannot "
        f"be used as a folder: it lies under '{blocker}', which is a file, not a folder. Set "
        "FORECAST_MODELS_DIR or 'models_dir' in forecast.toml to a writable folder."
        in one_line(result.output)
    )


def test_run_names_the_warehouse_option_when_it_is_a_folder(workspace, tmp_path, no_forecast):
    result = runner.invoke(
        app, ["run", "--warehouse", str(tmp_path), "--format", "csv"], env=env_for(workspace)
    )
    assert result.exit_code == 2, result.output
    assert (
        f"The setting 'warehouse' = '{tmp_path}' (from the --warehouse option) is a folder, "
        "not a file. Change the --warehouse option to a file path." in one_line(result.output)
    )


def test_retrain_with_reports_dir_a_file_exits_2_before_touching_the_inbox(workspace, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(workspace.warehouse.parent / "small.csv", inbox / "new.csv")
    a_file = tmp_path / "reports.txt"
    a_file.write_text("", encoding="utf-8")
    env = {
        "FORECAST_WAREHOUSE": str(tmp_path / "wh.duckdb"),
        "FORECAST_MODELS_DIR": str(tmp_path / "models"),
        "FORECAST_REPORTS_DIR": str(a_file),
        "FORECAST_LOG_FILE": str(tmp_path / "logs" / "f.jsonl"),
    }
    result = runner.invoke(app, ["retrain", "--inbox", str(inbox)], env=env)
    assert result.exit_code == 2, result.output
    assert "The setting 'reports_dir'" in result.output and "is a file" in result.output
    assert [p.name for p in inbox.iterdir()] == ["new.csv"]  # not ingested, not moved
    assert not (tmp_path / "wh.duckdb").exists()


def test_retrain_with_an_inbox_that_is_a_file_exits_2(tmp_path):
    a_file = tmp_path / "inbox.csv"
    a_file.write_text("", encoding="utf-8")
    result = runner.invoke(app, ["retrain", "--inbox", str(a_file)])
    assert result.exit_code == 2, result.output
    assert (
        f"The setting 'inbox' = '{a_file}' (from the --inbox option) is a file, not a folder. "
        "Change the --inbox option to a folder." in one_line(result.output)
    )


def test_report_out_an_existing_file_exits_2_before_loading_the_run(tmp_path):
    a_file = tmp_path / "small.csv"
    a_file.write_text("", encoding="utf-8")
    # No run is published: the path is refused first, not the missing run.
    result = runner.invoke(app, ["report", "--out", str(a_file), "--format", "csv"])
    assert result.exit_code == 2, result.output
    assert (
        f"Error: The --out folder '{a_file}' is a file, not a folder. Change --out to a folder."
        in one_line(result.output)
    )


def test_demo_workspace_a_file_exits_2(tmp_path):
    a_file = tmp_path / "ws"
    a_file.write_text("", encoding="utf-8")
    result = runner.invoke(app, ["demo", "--workspace", str(a_file), "--format", "csv"])
    assert result.exit_code == 2, result.output
    assert (
        f"The --workspace folder '{a_file}' is a file, not a folder. Change --workspace to a "
        "folder." in one_line(result.output)
    )


def test_ingest_into_a_folder_exits_2(tmp_path):
    data = tmp_path / "a.csv"
    data.write_text("period,province,category,market,value\n", encoding="utf-8")
    result = runner.invoke(app, ["ingest", str(data), "--warehouse", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "The setting 'warehouse'" in result.output and "is a folder" in result.output


def test_check_paths_names_the_origin_of_each_setting(tmp_path):
    toml = tmp_path / "forecast.toml"
    toml.write_text('reports_dir = "r.txt"\n', encoding="utf-8")
    (tmp_path / "r.txt").write_text("", encoding="utf-8")
    (tmp_path / "m").write_text("", encoding="utf-8")
    settings = load_settings(env={"FORECAST_MODELS_DIR": "m"})
    with pytest.raises(ConfigError, match=r"'reports_dir' = 'r\.txt' \(from 'reports_dir' in"):
        check_paths(settings, ["reports_dir"])
    with pytest.raises(ConfigError, match=r"from environment variable FORECAST_MODELS_DIR\)"):
        check_paths(settings, ["models_dir"])
    (tmp_path / "logs").write_text("", encoding="utf-8")
    with pytest.raises(
        ConfigError, match=r"'log_file' = 'logs/forecast\.jsonl' \(from the default, relative"
    ):
        check_paths(settings, ["log_file"])
    # Where the values came from is no setting: equal settings, whatever their origin.
    assert load_settings(env={}, horizon=6) == load_settings(env={"FORECAST_HORIZON": "6"})


def test_check_paths_creates_missing_folders_and_refuses_unwritable_ones(tmp_path, monkeypatch):
    settings = load_settings(env={}, models_dir=tmp_path / "a" / "models")
    check_paths(settings, ["models_dir"])
    assert settings.models_dir.is_dir() and list(settings.models_dir.iterdir()) == []

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr("forecast.config.tempfile.mkstemp", denied)
    with pytest.raises(ConfigError) as info:
        check_paths(settings, ["models_dir"])
    assert str(info.value) == (
        f"The setting 'models_dir' = '{settings.models_dir}' (from the --models-dir option) "
        "cannot be used as a folder: it cannot be written (Permission denied). Change the "
        "--models-dir option to a writable folder."
    )
    assert ConfigError.exit_code == 2


def test_run_that_cannot_write_its_reports_exits_74_and_keeps_the_published_run(
    workspace, tmp_path, monkeypatch
):
    full = tmp_path / "reports"

    def disk_full(result, folder, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(folder / "national.csv"))

    monkeypatch.setattr(forecast.publish, "write_reports", disk_full)
    env = env_for(workspace, FORECAST_REPORTS_DIR=str(full))
    env["FORECAST_MODELS_DIR"] = str(tmp_path / "models")
    result = runner.invoke(app, ["run", "--format", "csv"], env=env)
    assert result.exit_code == 74, result.output
    out = one_line(result.output)
    assert re.search(
        r"Error: Could not write the reports of run \S+ \(the published run is unchanged\): "
        rf"No space left on device \({re.escape(str(full))}/\.tmp-\S+/national\.csv\)\. The "
        r"disk is full: free space on it, or point the reports_dir setting "
        r"\(FORECAST_REPORTS_DIR\) at another folder, then run again\.",
        out,
    ), out
    assert isinstance(result.exception, SystemExit)  # handled, not a traceback
    assert not (tmp_path / "models" / "LATEST").exists()
    assert [p.name for p in full.iterdir()] == []  # the temporary folder is gone


# --------------------------------------------------------------------------- R14 usage
def test_missing_warehouse_is_a_usage_error_in_every_command(tmp_path):
    env = {"FORECAST_WAREHOUSE": str(tmp_path / "none.duckdb")}
    for args in (["run"], ["data", "show"]):
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 2, (args, result.output)
        assert f"No warehouse at {tmp_path / 'none.duckdb'}" in result.output.replace("'", "")


def test_report_of_an_unknown_or_malformed_run_exits_2(tmp_path):
    (tmp_path / "models").mkdir()
    bogus = runner.invoke(app, ["report", "--run", "bogus"])
    assert bogus.exit_code == 2
    assert (
        "Error: 'bogus' is not a run id (expected e.g. 20260105T030000Z-1a2b3c, or latest). "
        "List the runs in models with: forecast runs list" in one_line(bogus.output)
    )
    gone = runner.invoke(app, ["report", "--run", "20261202T183003Z-3d93ac"])
    assert gone.exit_code == 2
    assert (
        "Run 20261202T183003Z-3d93ac not found in models (pruned, or from another registry)"
        in one_line(gone.output)
    )
    nothing = runner.invoke(app, ["report"])
    assert nothing.exit_code == 2 and "No published run in models" in nothing.output


def test_a_damaged_latest_file_is_not_a_usage_error(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "LATEST").write_text("garbage\n", encoding="utf-8")
    result = runner.invoke(app, ["report"])
    assert result.exit_code == 1
    assert (
        "models/LATEST should name the published run but holds 'garbage'. Write the id of "
        "the run to publish into it" in one_line(result.output)
    )


# --------------------------------------------------------------------------- R15 as-of
def test_as_of_before_the_first_batch_is_one_clear_usage_error(workspace):
    env = env_for(workspace)
    with Warehouse(workspace.warehouse, read_only=True) as wh:
        first = wh.batches()["ingested_at"].iloc[0]
    expected = (
        "Error: No batch had been ingested by 2020-01-01 (the first, batch 1, was ingested "
        f"{first:%Y-%m-%d %H:%M} UTC); choose a later --as-of, or a batch id ('forecast data "
        "show' lists the batches)."
    )
    show = runner.invoke(app, ["data", "show", "--as-of", "2020-01-01"], env=env)
    run = runner.invoke(app, ["run", "--as-of", "2020-01-01", "--format", "csv"], env=env)
    for result in (show, run):
        assert result.exit_code == 2, result.output
        assert expected in one_line(result.output)
    assert "state as of batch" not in show.output


def test_resolve_as_of_before_the_first_batch(workspace):
    with Warehouse(workspace.warehouse, read_only=True) as wh:
        assert wh.resolve_as_of("2020-01-01") == 0  # the library's empty state
        assert wh.resolve_as_of(0) == 0
        assert wh.observations("2020-01-01").empty
        with pytest.raises(InvalidParameterError, match="No batch had been ingested by 2020"):
            wh.resolve_as_of("2020-01-01", before_first=False)
        with pytest.raises(InvalidParameterError, match=r"no batch 0 .*ids start at 1"):
            wh.resolve_as_of(0, before_first=False)
        assert wh.resolve_as_of("2999-01-01", before_first=False) == 1


def test_data_show_of_an_empty_warehouse(tmp_path):
    Warehouse(tmp_path / "w.duckdb").close()
    result = runner.invoke(app, ["data", "show", "--warehouse", "w.duckdb"])
    assert result.exit_code == 0, result.output
    assert "0 batch(es); state as of batch 0." in result.stdout
    assert "No observations yet" in result.stdout


def test_settings_record_leaves_out_where_values_came_from(workspace):
    from forecast.pipeline import settings_record

    record = settings_record(load_settings(env={"FORECAST_HORIZON": "6"}))
    assert "origins" not in record and record["horizon"] == 6
    json.dumps(record)


def test_ctrl_c_during_ingest_exits_130_with_a_message_and_stores_nothing(tmp_path, monkeypatch):
    """DuckDB turns Ctrl-C mid-insert into its own error ("RuntimeError: Query
    interrupted" from the pandas scan): it was a traceback and exit 1, "a bug"."""
    data = tmp_path / "a.csv"
    data.write_text(
        "period,province,category,market,value,unit\n2024-01,Hà Nội,XK_WOOD,export,5,USD\n",
        encoding="utf-8",
    )
    wh = tmp_path / "wh.duckdb"

    def interrupted(self, *args, **kwargs):
        raise RuntimeError("Query interrupted")

    monkeypatch.setattr(Warehouse, "_insert", interrupted)
    result = runner.invoke(app, ["ingest", str(data), "--warehouse", str(wh)])
    assert result.exit_code == 130, result.output
    assert "Interrupted: the step under way was abandoned" in one_line(result.output)
    # No traceback of ours (a stale log handler of an earlier CliRunner call may print
    # logging's own "--- Logging error ---" here; a real process has one invocation).
    assert "Query interrupted" not in result.output and isinstance(result.exception, SystemExit)
    monkeypatch.undo()
    with Warehouse(wh) as w:
        assert w.batches().empty

    # Any other RuntimeError is a bug and keeps its traceback (exit 1).
    def broken(self, *args, **kwargs):
        raise RuntimeError("x")

    monkeypatch.setattr(Warehouse, "_insert", broken)
    result = runner.invoke(app, ["ingest", str(data), "--warehouse", str(wh)])
    assert result.exit_code == 1 and isinstance(result.exception, RuntimeError)
