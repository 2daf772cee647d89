"""``forecast retrain``: inbox handling, idempotence, the lock, and crash safety.

The kill tests fork a child that runs the real ``forecast retrain`` command with one stage
made to hang (after writing a marker file), SIGKILL it there, and check that the published
run is untouched and that the next retrain cleans up and succeeds. Forking (rather than a
new interpreter) keeps them fast: the child starts with everything imported.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import time
from pathlib import Path

import pytest
from retrain_fixtures import Workspace, clone, published_workspace, runner

from forecast.cli import app
from forecast.config import load_settings
from forecast.registry import list_runs, load_run


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return published_workspace(tmp_path_factory.mktemp("retrain"))


@pytest.fixture
def ws(base, tmp_path):
    return clone(base[0], tmp_path / "ws"), base[1]


def _settings(ws: Workspace):
    return load_settings(env=ws.env)


def test_first_retrain_ingested_moved_and_published(base):
    ws, _ = base
    assert (ws.inbox / "done" / "part1.csv").exists()
    assert not list(ws.inbox.glob("*.csv"))
    rid = ws.latest()
    assert ws.link() == rid and (ws.reports / rid / "national.csv").exists()
    assert ws.leftovers() == []


def test_nothing_new_exits_0_and_says_so(ws):
    ws, _ = ws
    before = ws.latest()
    result = ws.retrain()
    assert result.exit_code == 0, result.output
    assert "no retrain (no new data since run" in result.output
    assert ws.latest() == before and ws.run_dirs() == [before]
    # JSON lines in the log file, the last one the summary with counts and timings
    lines = (ws.root / "logs" / "forecast.jsonl").read_text().splitlines()
    docs = [json.loads(line) for line in lines]
    summary = [d for d in docs if d.get("event") == "summary"][-1]
    assert summary["retrained"] is False and summary["files"] == 0
    assert {"ts", "level", "logger", "msg", "pid", "durations_s"} <= set(summary)


def test_already_ingested_file_is_unchanged_and_no_retrain(ws):
    ws, _ = ws
    shutil.copy(ws.inbox / "done" / "part1.csv", ws.inbox / "part1.csv")
    result = ws.retrain()
    assert result.exit_code == 0, result.output
    assert "1 unchanged" in result.output and "no retrain" in result.output
    moved = sorted(p.name for p in (ws.inbox / "done").iterdir())
    assert len(moved) == 2 and moved[0].startswith("part1.") and moved[1] == "part1.csv"


def test_rejected_file_moves_with_error_report_and_exits_65(ws):
    ws, part2 = ws
    before = ws.latest()
    (ws.inbox / "bad.csv").write_text(
        "period,province,category,market,value,unit\n2025-01,Ha Giangg,XK_WOOD,domestic,-3,USD\n",
        encoding="utf-8",
    )
    shutil.copy(part2, ws.inbox / "part2.csv")
    (ws.inbox / "upload.csv.part").write_text("half a file")  # still being copied: left alone
    result = ws.retrain("--force")
    assert result.exit_code == 65, result.output
    assert (ws.inbox / "rejected" / "bad.csv").exists()
    report = (ws.inbox / "rejected" / "bad.csv.errors.txt").read_text(encoding="utf-8")
    assert "row 2, column 'province': unknown province" in report
    assert "column 'value': value is negative" in report
    assert (ws.inbox / "done" / "part2.csv").exists()
    assert (ws.inbox / "upload.csv.part").exists()
    assert "1 stored, 0 unchanged, 1 rejected" in result.output
    new = ws.latest()  # the good file was still published, as the newest run
    assert new != before and ws.run_dirs()[-1] == new


def test_new_data_retrains_and_monitors_the_previous_run(ws):
    ws, part2 = ws
    first = ws.latest()
    shutil.copy(part2, ws.inbox / "part2.csv")
    result = ws.retrain()
    assert result.exit_code == 0, result.output
    second = ws.latest()
    assert second != first and ws.link() == second
    run = load_run("latest", _settings(ws))
    mon = run.extra["monitoring"]
    assert set(mon["run_id"]) == {first}
    assert set(mon["by"]) == {"level", "category", "all"}
    assert (mon["n_points"] > 0).all()
    published = json.loads((ws.models / "published.json").read_text())
    assert [p["run_id"] for p in published] == [first, second]


# --------------------------------------------------------------------------- kill tests
def _hang(marker: Path) -> None:
    marker.write_text(str(os.getpid()))
    time.sleep(600)


def _child(ws: Workspace, stage: str, marker: Path) -> None:
    """Run ``forecast retrain`` with ``stage`` made to hang (in a forked child)."""
    os.environ.update(ws.env)
    import forecast.pipeline as pipeline
    import forecast.publish as publish
    import forecast.registry as registry
    from forecast.cli import app

    if stage == "fit":
        pipeline.run_engine = lambda *a, **k: _hang(marker)
    elif stage == "reports":

        def partial_reports(result, out_dir, **kwargs):
            (Path(out_dir) / "national.csv").write_text("half a report")
            _hang(marker)

        publish.write_reports = partial_reports
    elif stage == "save":
        registry._fsync_tree = lambda folder: _hang(marker)
    elif stage == "switch":
        publish.point_latest = lambda *a, **k: _hang(marker)
    app(["retrain", "--format", "csv"], prog_name="forecast")


def _kill_during(ws: Workspace, stage: str, while_running=None) -> None:
    marker = ws.root / f"marker-{stage}"
    proc = multiprocessing.get_context("fork").Process(target=_child, args=(ws, stage, marker))
    proc.start()
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.is_alive(), f"retrain ended before reaching {stage}"
            assert time.monotonic() < deadline, f"retrain never reached {stage}"
            time.sleep(0.05)
        if while_running is not None:
            while_running(proc.pid)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.join()
    assert proc.exitcode == -signal.SIGKILL


def _assert_previous_intact(ws: Workspace, previous: str) -> None:
    assert ws.latest() == previous and ws.link() == previous
    run = load_run("latest", _settings(ws))
    assert run.run_id == previous and len(run.forecasts)


def test_killed_while_fitting_keeps_previous_and_second_retrain_is_busy(ws):
    ws, part2 = ws
    previous = ws.latest()
    shutil.copy(part2, ws.inbox / "part2.csv")

    def second_retrain(pid: int) -> None:
        busy = ws.retrain()
        assert busy.exit_code == 75, busy.output
        assert "holds the lock" in busy.output and f"pid {pid}" in busy.output
        # a routine overlap, logged as a warning (alerting pages on ERROR lines)
        lines = (ws.root / "logs" / "forecast.jsonl").read_text().splitlines()
        last = [json.loads(line) for line in lines if '"event": "busy"' in line][-1]
        assert last["level"] == "WARNING" and last["exit_code"] == 75
        assert last["msg"].startswith("retrain skipped: ")

    _kill_during(ws, "fit", while_running=second_retrain)
    _assert_previous_intact(ws, previous)
    assert ws.run_dirs() == [previous]
    result = ws.retrain()  # data changed (part2 was ingested before the kill)
    assert result.exit_code == 0, result.output
    assert ws.latest() != previous and ws.link() == ws.latest()
    assert ws.leftovers() == []


@pytest.mark.parametrize("stage", ["reports", "save"])
def test_killed_while_publishing_keeps_previous_and_next_retrain_cleans_up(ws, stage):
    ws, part2 = ws
    previous = ws.latest()
    shutil.copy(part2, ws.inbox / "part2.csv")
    _kill_during(ws, stage)
    _assert_previous_intact(ws, previous)
    assert ws.leftovers(), "the killed run should have left a temporary folder"
    assert [r["run_id"] for r in list_runs(ws.models)] == [previous]
    result = ws.retrain()
    assert result.exit_code == 0, result.output
    new = ws.latest()
    assert new != previous and ws.link() == new
    assert ws.leftovers() == []
    assert (ws.reports / new / "national.csv").read_text(encoding="utf-8-sig") != "half a report"
    assert load_run("latest", _settings(ws)).run_id == new


def test_killed_between_commit_and_link_is_repaired_by_next_retrain(ws):
    ws, part2 = ws
    previous = ws.latest()
    shutil.copy(part2, ws.inbox / "part2.csv")
    _kill_during(ws, "switch")
    new = ws.latest()  # LATEST is the commit point: the new run is complete and published
    assert new != previous and load_run(new, _settings(ws)).run_id == new
    assert ws.link() == previous  # the link lags behind
    result = ws.retrain()
    assert result.exit_code == 0, result.output
    assert "no retrain" in result.output
    assert ws.link() == new and ws.leftovers() == []


def test_an_unknown_model_name_exits_2_before_the_inbox_is_touched(ws):
    ws, part2 = ws
    before = ws.latest()
    shutil.copy(part2, ws.inbox / "part2.csv")
    result = runner.invoke(
        app, ["retrain", "--format", "csv"], env={**ws.env, "FORECAST_MODELS": "theta,fooo"}
    )
    assert result.exit_code == 2, result.output
    assert "Unknown model 'fooo'" in result.output
    assert "environment variable FORECAST_MODELS" in " ".join(result.output.split())
    assert (ws.inbox / "part2.csv").exists() and not (ws.inbox / "done" / "part2.csv").exists()
    assert ws.latest() == before and ws.run_dirs() == [before]
    log = (ws.root / "logs" / "forecast.jsonl").read_text(encoding="utf-8").splitlines()
    last = json.loads(log[-1])
    assert last["event"] == "failed" and last["exit_code"] == 2


@pytest.mark.parametrize(
    ("command", "work"),
    [
        ("run", "forecast.publish.locked_run_and_publish"),
        ("backtest", "forecast.pipeline.backtest_hierarchy"),
    ],
)
def test_run_and_warehouse_backtest_refuse_an_unknown_model_before_any_work(
    ws, monkeypatch, command, work
):
    ws, _ = ws
    module, name = work.rsplit(".", 1)

    def started(*args, **kwargs):
        raise AssertionError(f"{name} was called")

    monkeypatch.setattr(f"{module}.{name}", started)
    result = runner.invoke(app, [command, "--models", "theta,fooo"], env=ws.env)
    assert result.exit_code == 2, result.output
    assert "Unknown model 'fooo'" in result.output
