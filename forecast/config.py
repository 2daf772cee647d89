"""Settings: defaults < ``forecast.toml`` < environment ``FORECAST_*`` < CLI flags.

All paths the service writes to are resolved here, relative to the working directory unless
absolute. Every setting has a unique name so one flat namespace serves TOML keys (in any
section), environment variables (``FORECAST_<NAME>``) and CLI overrides.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

from forecast.errors import ConfigError

Backend = Literal["local", "dask"]
Language = Literal["vi", "en"]
ReconcileMethod = Literal["auto", "base", "bottom_up", "top_down", "mint_shrink", "wls_var"]

CONFIG_FILE = "forecast.toml"
ENV_PREFIX = "FORECAST_"


@dataclass(frozen=True)
class Settings:
    """Every tunable of a run. Frozen: derive changed copies with :meth:`replace`.

    Parameters
    ----------
    warehouse
        DuckDB warehouse file.
    models_dir, reports_dir
        Registry of runs (artifacts, manifests) and published reports.
    horizon
        Forecast horizon in periods of the data's frequency.
    levels
        Prediction-interval levels in percent.
    backtest_windows, backtest_step
        Rolling-origin backtest: number of origins and distance between them (periods).
        ``backtest_step`` 0 means "equal to the horizon".
    models
        Candidate model names, or ``("default",)`` for the default candidate set.
    jobs
        Worker processes (joblib); -1 means all cores.
    backend, scheduler
        ``local`` processes or a ``dask`` cluster at ``scheduler``.
    seed
        Root seed; every random draw derives from it.
    reconcile
        Reconciliation method; ``auto`` picks by backtest.
    lang
        Report language.
    trend_strong, trend_mild
        Growth thresholds in percent for trend labels (strong rise/rise/stable/fall/strong fall).
    wide_interval
        Flag a forecast when the 95% interval width exceeds this multiple of the point value.
    inbox
        Folder ``forecast retrain`` ingests new files from (``done/``, ``rejected/`` inside).
    log_file
        JSON-lines log of unattended runs (``forecast retrain``, ``forecast run``).
    alert_mase_ratio, alert_coverage_margin
        Monitoring alerts: realised MASE above ``alert_mase_ratio`` times the backtest MASE
        (and above 1), or realised interval coverage more than ``alert_coverage_margin``
        percentage points below nominal.
    """

    warehouse: Path = Path("data/warehouse.duckdb")
    models_dir: Path = Path("models")
    reports_dir: Path = Path("reports")
    horizon: int = 12
    levels: tuple[int, ...] = (80, 95)
    backtest_windows: int = 2
    backtest_step: int = 0
    models: tuple[str, ...] = ("default",)
    jobs: int = 1
    backend: Backend = "local"
    scheduler: str | None = None
    seed: int = 20250701
    reconcile: ReconcileMethod = "auto"
    lang: Language = "vi"
    trend_strong: float = 10.0
    trend_mild: float = 3.0
    wide_interval: float = 1.0
    inbox: Path = Path("inbox")
    log_file: Path = Path("logs/forecast.jsonl")
    alert_mase_ratio: float = 1.5
    alert_coverage_margin: float = 10.0
    extra: Mapping[str, Any] = field(default_factory=dict)

    def replace(self, **changes: Any) -> Settings:
        """Return a copy with ``changes`` applied and validated (None values are ignored)."""
        clean = {k: v for k, v in changes.items() if v is not None}
        coerced = {k: _coerce(k, v, "argument") for k, v in clean.items()}
        return _validated(dataclasses.replace(self, **coerced))


def _field_types() -> dict[str, Any]:
    hints = get_type_hints(Settings)
    return {f.name: hints[f.name] for f in fields(Settings) if f.name != "extra"}


def _coerce(name: str, value: Any, origin: str) -> Any:
    types = _field_types()
    if name not in types:
        near = difflib.get_close_matches(name, list(types), n=1)
        hint = f" Did you mean {near[0]!r}?" if near else ""
        raise ConfigError(
            f"Unknown setting {name!r} in {origin}.{hint} Known settings: "
            f"{', '.join(sorted(types))}."
        )
    hint = types[name]
    try:
        return _to_type(hint, value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"Setting {name!r} from {origin} is invalid: {exc}") from None


def _to_type(hint: Any, value: Any) -> Any:
    kind = get_origin(hint)
    if hint is Path:
        return Path(str(value)).expanduser()
    if hint is int:
        if isinstance(value, bool):
            raise TypeError(f"expected an integer, got {value!r}")
        if isinstance(value, float) and not value.is_integer():
            raise TypeError(f"expected a whole number, got {value!r}")
        return int(value)
    if hint is float:
        return float(value)
    if hint is str:
        return str(value)
    if kind is tuple:
        (item,) = {a for a in get_args(hint) if a is not Ellipsis}
        items = value.split(",") if isinstance(value, str) else list(value)
        return tuple(_to_type(item, v.strip() if isinstance(v, str) else v) for v in items)
    if kind is Literal:
        allowed = get_args(hint)
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(map(repr, allowed))}; got {value!r}")
        return value
    args = get_args(hint)
    if type(None) in args:  # Optional[...]
        if value in (None, ""):
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _to_type(inner, value)
    raise TypeError(f"unsupported setting type {hint!r}")


def _validated(s: Settings) -> Settings:
    if s.horizon < 1:
        raise ConfigError(f"Setting 'horizon' must be a positive integer; got {s.horizon}.")
    if not s.levels or any(not 0 < lv < 100 for lv in s.levels):
        raise ConfigError(
            f"Setting 'levels' must hold numbers strictly between 0 and 100; got {list(s.levels)}."
        )
    if s.backtest_windows < 1:
        raise ConfigError(
            f"Setting 'backtest_windows' must be at least 1; got {s.backtest_windows}."
        )
    if s.backend == "dask" and not s.scheduler:
        raise ConfigError(
            "Setting 'backend' is 'dask' but no 'scheduler' address is given. "
            "Pass --scheduler tcp://HOST:8786 or set FORECAST_SCHEDULER."
        )
    if s.seed < 0:
        raise ConfigError(f"Setting 'seed' must be 0 or more; got {s.seed}.")
    if not s.wide_interval > 0:
        raise ConfigError(f"Setting 'wide_interval' must be above 0; got {s.wide_interval}.")
    if not s.alert_mase_ratio > 0 or not s.alert_coverage_margin >= 0:
        raise ConfigError(
            "Settings 'alert_mase_ratio' must be above 0 and 'alert_coverage_margin' 0 or "
            f"more; got {s.alert_mase_ratio} and {s.alert_coverage_margin}."
        )
    if not 0 < s.trend_mild < s.trend_strong:
        raise ConfigError("Settings must satisfy 0 < trend_mild < trend_strong.")
    return dataclasses.replace(s, levels=tuple(sorted(set(s.levels))))


def load_settings(
    config_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build settings from defaults, a TOML file, the environment and explicit overrides.

    Parameters
    ----------
    config_file
        TOML file to read. Default: ``forecast.toml`` in the working directory, if present.
        Keys may sit at top level or in any table (``[paths]``, ``[forecast]``...).
    env
        Environment mapping (default ``os.environ``); ``FORECAST_<NAME>`` sets ``<name>``.
    **overrides
        Highest precedence (CLI flags); None values are ignored.

    Raises
    ------
    ConfigError
        Unknown key, wrong type or out-of-range value; the message names the source.
    """
    values: dict[str, Any] = {}
    path = config_file if config_file is not None else Path(CONFIG_FILE)
    if config_file is not None and not path.exists():
        raise ConfigError(f"Config file {str(path)!r} does not exist.")
    if path.exists():
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"Config file {str(path)!r} is not valid TOML: {exc}") from None
        for key, value in _flatten(doc):
            # A misspelt key must not leave a cron job running on the default silently.
            values[key] = _coerce(key, value, str(path))
    environ = os.environ if env is None else env
    for key, value in environ.items():
        if key.startswith(ENV_PREFIX) and key != "FORECAST_BENCH_DATA":
            name = key[len(ENV_PREFIX) :].lower()
            if name in _field_types():
                values[name] = _coerce(name, value, f"environment variable {key}")
    for key, value in overrides.items():
        if value is not None:
            values[key] = _coerce(key, value, "command line")
    return _validated(Settings(**values))


def _flatten(doc: Mapping[str, Any]) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in doc.items():
        if isinstance(value, Mapping):
            out.extend(_flatten(value))
        else:
            out.append((key, value))
    return out
