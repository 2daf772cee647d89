"""`forecast report` through the command line, with a stand-in run registry."""

import sys
import types

import pytest
from report_fixtures import RUN_ID, make_result
from typer.testing import CliRunner

runner = CliRunner()


@pytest.fixture
def app(monkeypatch):
    """The CLI with `forecast.registry.load_run` replaced by one serving the fixture run."""
    calls = []
    result = make_result(province_names=("Đắk Lắk", "Hồ Chí Minh", "Hà Nội"))

    def load_run(run, settings):
        calls.append((run, settings))
        return result

    registry = types.ModuleType("forecast.registry")
    registry.load_run = load_run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "forecast.registry", registry)
    import forecast.cli.report  # noqa: F401  (registers the command)
    from forecast.cli import app

    app.calls = calls  # type: ignore[attr-defined]
    return app


def test_report_writes_csv_for_one_province(app, tmp_path):
    out = tmp_path / "out"
    res = runner.invoke(
        app,
        [
            "report",
            "--scope",
            "province",
            "--name",
            "dak lak",
            "--format",
            "csv",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert f"Run {RUN_ID}: wrote 0 PDF and 3 CSV file(s)" in res.stdout
    assert sorted(p.name for p in out.iterdir()) == [
        "advantage-full.csv",
        "outlook-full.csv",
        "province-dak-lak.csv",
    ]
    run, settings = app.calls[-1]
    assert run == "latest" and settings.lang == "vi"


def test_report_english_pdf_to_the_default_folder(app, tmp_path, monkeypatch):
    monkeypatch.setenv("FORECAST_REPORTS_DIR", str(tmp_path / "reports"))
    res = runner.invoke(
        app, ["report", "--run", RUN_ID, "--scope", "national", "--lang", "en", "--format", "pdf"]
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "reports" / RUN_ID / "national.pdf").exists()
    assert app.calls[-1][0] == RUN_ID and app.calls[-1][1].lang == "en"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "xlsx"], "use pdf, csv or pdf,csv; got 'xlsx'"),
        (["--scope", "province", "--name", "../../etc"], "Unknown province '../../etc'"),
        (["--scope", "district"], "'district' is not one of"),
        (["--lang", "fr"], "'fr' is not one of"),
    ],
)
def test_report_usage_errors_exit_2(app, tmp_path, args, message):
    res = runner.invoke(app, ["report", "--out", str(tmp_path), *args])
    assert res.exit_code == 2
    assert message in " ".join(res.output.split())
    assert not any(tmp_path.iterdir())


def test_report_help(app):
    res = runner.invoke(app, ["report", "--help"])
    assert res.exit_code == 0
    for option in ("--run", "--scope", "--name", "--lang", "--format", "--out", "--jobs"):
        assert option in res.stdout


def test_format_option_accepts_exactly_the_formats_reports_write():
    import typer

    from forecast.cli._app import REPORT_FORMATS, report_formats
    from forecast.reports.build import FORMATS

    assert REPORT_FORMATS == FORMATS
    assert report_formats(" PDF, csv ") == ("pdf", "csv")
    with pytest.raises(typer.BadParameter, match="use pdf, csv or pdf,csv; got 'xlsx'"):
        report_formats("xlsx")
