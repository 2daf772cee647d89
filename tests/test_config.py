from pathlib import Path

import pytest

from forecast.config import load_settings
from forecast.errors import ConfigError


def test_precedence_defaults_file_env_flags(tmp_path):
    cfg = tmp_path / "conf" / "forecast.toml"
    cfg.parent.mkdir()
    cfg.write_text('[forecast]\nhorizon = 6\njobs = 2\n[paths]\nwarehouse = "w.duckdb"\n')
    s = load_settings(cfg, env={"FORECAST_JOBS": "3"}, horizon=None)
    assert (s.horizon, s.jobs, s.warehouse) == (6, 3, Path("w.duckdb"))
    s = load_settings(cfg, env={"FORECAST_JOBS": "3"}, jobs=4)
    assert s.jobs == 4
    assert load_settings(env={}).horizon == 12


def test_levels_are_sorted_and_parsed_from_env():
    assert load_settings(env={"FORECAST_LEVELS": "95,80"}).levels == (80, 95)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"horizon": 0}, "'horizon' must be a positive integer"),
        ({"levels": (80, 100)}, "strictly between 0 and 100"),
        ({"lang": "fr"}, "must be one of 'vi', 'en'"),
        ({"backend": "dask"}, "no 'scheduler' address"),
        ({"nonsense": 1}, "Unknown setting 'nonsense'"),
        ({"jobs": "many"}, "Setting 'jobs' from command line is invalid"),
        ({"seed": -5}, "'seed' must be 0 or more; got -5"),
        ({"wide_interval": -1.0}, "'wide_interval' must be above 0"),
        ({"alert_mase_ratio": 0.0}, "'alert_mase_ratio' must be above 0"),
    ],
)
def test_bad_settings_raise_clear_errors(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        load_settings(env={}, **kwargs)


def test_bad_toml_and_missing_file_name_the_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("horizon = [")
    with pytest.raises(ConfigError, match=r"bad\.toml.*not valid TOML"):
        load_settings(bad, env={})
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "missing.toml", env={})


def test_env_values_are_validated():
    with pytest.raises(ConfigError, match="environment variable FORECAST_HORIZON"):
        load_settings(env={"FORECAST_HORIZON": "x"})


def test_fractional_levels_in_the_file_are_refused_not_truncated(tmp_path):
    cfg = tmp_path / "forecast.toml"
    cfg.write_text("[forecast]\nlevels = [80, 99.5]\n")
    with pytest.raises(ConfigError, match=r"'levels' .*expected a whole number, got 99\.5"):
        load_settings(cfg, env={})
    cfg.write_text("[forecast]\nlevels = [80.0, 95]\nhorizon = 6.0\n")
    s = load_settings(cfg, env={})
    assert (s.levels, s.horizon) == ((80, 95), 6)


def test_a_misspelt_key_in_the_file_is_refused_with_the_nearest_setting(tmp_path):
    """A cron job's forecast.toml with a typo ran on the defaults without a word."""
    cfg = tmp_path / "forecast.toml"
    cfg.write_text("[forecast]\nhorizn = 6\n")
    with pytest.raises(
        ConfigError,
        match=r"Unknown setting 'horizn' in .*forecast\.toml\. Did you mean 'horizon'\?",
    ):
        load_settings(cfg, env={})
    cfg.write_text("[forecast]\nzzz = 1\n")
    with pytest.raises(ConfigError, match=r"Unknown setting 'zzz' .*\. Known settings: "):
        load_settings(cfg, env={})


def test_the_selection_setting_reaches_the_pipeline_engine():
    from forecast.pipeline import _engine_config

    assert _engine_config(load_settings(env={})).selection == "auto"
    chosen = load_settings(env={"FORECAST_SELECTION": "pooled"})
    assert _engine_config(chosen).selection == "pooled"
    with pytest.raises(ConfigError, match="must be one of 'pooled', 'auto', 'per_series'"):
        load_settings(env={"FORECAST_SELECTION": "best"})


def _shown(value) -> str:
    """A default as the README table writes it."""
    if value is None:
        return "—"
    if isinstance(value, tuple):
        return ", ".join(_shown(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def test_the_readme_configuration_table_has_a_row_for_every_setting_with_its_default():
    """The table is where operators look a setting up; a new or changed one must show."""
    import dataclasses
    import re

    from forecast.config import Settings

    text = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Configuration") : text.index("## Development")]
    documented: dict[str, str] = {}
    for names_cell, default_cell in re.findall(r"^\| (`[^|]+`) \| ([^|]+) \|", section, re.M):
        names = re.findall(r"`([a-z_]+)`", names_cell)
        default = default_cell.strip().replace("`", "")
        parts = [default] if len(names) == 1 else default.split(", ")
        assert len(parts) == len(names), (names, default)
        documented.update(zip(names, parts, strict=True))
    settings = Settings()
    for field in dataclasses.fields(Settings):
        if field.name in ("extra", "origins"):  # not settings: unknown keys, provenance
            continue
        assert field.name in documented, field.name
        assert documented[field.name] == _shown(getattr(settings, field.name)), field.name
