"""The run registry commands, artifacts, reproduction of old reports, and ``forecast status``."""

from __future__ import annotations

import json
import shutil

import pytest
from pypdf import PdfReader
from retrain_fixtures import clone, published_workspace, runner

from forecast.cli import app
from forecast.engine import EngineConfig
from forecast.errors import RegistryError
from forecast.registry import list_runs, load_artifact, publish


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """Run 1 on data to 2025-03, run 2 after part2 (to 2025-12) arrived."""
    ws, part2 = published_workspace(tmp_path_factory.mktemp("runs"))
    first = ws.latest()
    shutil.copy(part2, ws.inbox / part2.name)
    result = ws.retrain()
    assert result.exit_code == 0, result.output
    return ws, first, ws.latest()


def test_runs_list_marks_the_published_run(two_runs):
    ws, first, second = two_runs
    result = runner.invoke(app, ["runs", "list"], env=ws.env, terminal_width=200)
    assert result.exit_code == 0, result.output
    assert first in result.output and second in result.output
    assert "earlier" in result.output
    [line] = [ln for ln in result.output.splitlines() if second in ln]
    assert "*" in line


def test_runs_show_records_what_is_needed_to_reproduce_and_judge(two_runs):
    ws, _first, second = two_runs
    result = runner.invoke(app, ["runs", "show", "latest"], env=ws.env, terminal_width=200)
    assert result.exit_code == 0, result.output
    expected = [
        f"Run {second} (published)",
        "vintage",
        "versions: ",
        "statsforecast 2",
        "models chosen",
        "durations (s)",
        "artifacts: engine_config",
        "Backtest accuracy",
    ]
    for text in expected:
        assert text in result.output
    raw = runner.invoke(app, ["runs", "show", second, "--json"], env=ws.env)
    man = json.loads(raw.output)
    assert {"run_id", "created_at", "data_vintage", "config", "versions", "models_chosen",
            "backtest", "durations_s", "artifacts", "files", "batches"} <= set(man)  # fmt: skip
    assert man["versions"]["statsforecast"] and man["config"]["models"]
    assert {"forecast", "reconcile", "reports", "monitoring"} <= set(man["durations_s"])
    assert man["batches"] == [1, 2]


def test_runs_show_unknown_or_malformed_id_is_a_clear_error(two_runs):
    ws, *_ = two_runs
    bad = runner.invoke(app, ["runs", "show", "../../etc/passwd"], env=ws.env)
    assert bad.exit_code == 1 and "is not a run id" in bad.output
    missing = runner.invoke(app, ["runs", "show", "20200101T000000Z-abcdef"], env=ws.env)
    assert missing.exit_code == 1 and "not found" in missing.output


def test_artifacts_load_only_from_the_registry_after_a_checksum_check(two_runs, tmp_path):
    ws, _first, second = two_runs
    cfg = load_artifact(ws.models, second, "engine_config")
    assert isinstance(cfg, EngineConfig) and cfg.horizon == 12
    copy = clone(ws, tmp_path / "copy")
    path = copy.models / second / "artifacts" / "engine_config.joblib"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(RegistryError, match="fails its checksum"):
        load_artifact(copy.models, second, "engine_config")
    with pytest.raises(RegistryError, match="not an artifact name"):
        load_artifact(ws.models, second, "../../x")
    with pytest.raises(RegistryError, match="no artifact 'model'"):
        load_artifact(ws.models, second, "model")


def test_report_reproduces_an_older_run_csv_byte_for_byte(two_runs, tmp_path):
    ws, first, second = two_runs
    out = tmp_path / "again"
    result = runner.invoke(
        app, ["report", "--run", first, "--format", "csv", "--out", str(out)], env=ws.env
    )
    assert result.exit_code == 0, result.output
    original = sorted(p.name for p in (ws.reports / first).glob("*.csv"))
    assert original and sorted(p.name for p in out.glob("*.csv")) == original
    for name in original:
        assert (out / name).read_bytes() == (ws.reports / first / name).read_bytes(), name
    newer = (ws.reports / second / "national.csv").read_bytes()
    assert newer != (out / "national.csv").read_bytes()


def test_prune_never_removes_the_published_run(two_runs, tmp_path):
    ws, first, second = two_runs
    copy = clone(ws, tmp_path / "copy")
    publish(copy.models, first)  # roll back: the older run is the published one
    result = runner.invoke(app, ["runs", "prune", "--keep", "0"], env=copy.env)
    assert result.exit_code == 0, result.output
    assert [r["run_id"] for r in list_runs(copy.models)] == [first]
    assert not (copy.reports / second).exists() and (copy.reports / first).exists()
    assert copy.leftovers() == []


def test_status_prints_and_writes_realised_accuracy(two_runs, tmp_path):
    ws, first, second = two_runs
    out = tmp_path / "monitoring.csv"
    result = runner.invoke(app, ["status", "--out", str(out)], env=ws.env, terminal_width=220)
    assert result.exit_code == 0, result.output
    assert f"Published run {second}" in result.output and "Run lock: free" in result.output
    assert first in result.output and "alert(s) in" in result.output
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    header = data[3:].split(b"\n")[0].decode()
    assert header.startswith("run_id,origin,by,key,n_series,n_points")
    assert "coverage_80" in header and header.endswith("alert,alert_reason")


def test_national_pdf_appendix_shows_the_monitoring_table(two_runs, tmp_path):
    ws, _first, second = two_runs
    out = tmp_path / "pdf"
    args = ["report", "--run", second, "--scope", "national", "--lang", "en", "--format", "pdf"]
    result = runner.invoke(app, [*args, "--out", str(out)], env=ws.env)
    assert result.exit_code == 0, result.output
    text = "\n".join(p.extract_text() for p in PdfReader(out / "national.pdf").pages)
    assert "D.2 Realised accuracy of earlier forecasts (monitoring)" in text
    assert "Mar 2025" in text and "Apr 2025–Dec 2025" in text
