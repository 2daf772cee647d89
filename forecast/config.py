"""Settings: defaults < ``forecast.toml`` < environment ``FORECAST_*`` < CLI flags.

All paths the service writes to are resolved here, relative to the working directory unless
absolute. Every setting has a unique name so one flat namespace serves TOML keys (in any
section), environment variables (``FORECAST_<NAME>``) and CLI overrides.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import tempfile
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

from forecast.errors import ConfigError

Backend = Literal["local", "dask"]
Language = Literal["vi", "en"]
ReconcileMethod = Literal["auto", "base", "bottom_up", "top_down", "mint_shrink", "wls_var"]
Selection = Literal["pooled", "auto", "per_series"]

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
    selection
        How ``forecast run`` chooses among the candidates (``EngineConfig.selection``):
        ``auto`` (the default, as for ``predict-csv`` and ``backtest``: per series where
        held-out windows say so), ``pooled`` (one choice per profile) or ``per_series``.
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
    origins
        Where each setting that is not at its default came from (``"environment variable
        FORECAST_REPORTS_DIR"``, ``"the --warehouse option"``...), for error messages. Not a
        setting: left out of comparisons and of a run's recorded configuration.
    """

    warehouse: Path = Path("data/warehouse.duckdb")
    models_dir: Path = Path("models")
    reports_dir: Path = Path("reports")
    horizon: int = 12
    levels: tuple[int, ...] = (80, 95)
    backtest_windows: int = 2
    backtest_step: int = 0
    models: tuple[str, ...] = ("default",)
    selection: Selection = "auto"
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
    origins: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def replace(self, *, origin: str = "argument", **changes: Any) -> Settings:
        """Return a copy with ``changes`` applied and validated (None values are ignored).

        ``origin`` says where the new values came from (e.g. ``"the --workspace option"``);
        error messages about them name it.
        """
        clean = {k: v for k, v in changes.items() if v is not None}
        coerced = {k: _coerce(k, v, origin) for k, v in clean.items()}
        origins = {**self.origins, **dict.fromkeys(coerced, origin)}
        return _validated(dataclasses.replace(self, **coerced, origins=origins))


#: Fields of :class:`Settings` that are not settings (no TOML key, no environment variable).
_NOT_SETTINGS = ("extra", "origins")


def _field_types() -> dict[str, Any]:
    hints = get_type_hints(Settings)
    return {f.name: hints[f.name] for f in fields(Settings) if f.name not in _NOT_SETTINGS}


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
    origins: dict[str, str] = {}
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
            origins[key] = f"{key!r} in {path}"
    environ = os.environ if env is None else env
    for key, value in environ.items():
        if key.startswith(ENV_PREFIX) and key != "FORECAST_BENCH_DATA":
            name = key[len(ENV_PREFIX) :].lower()
            if name in _field_types():
                values[name] = _coerce(name, value, f"environment variable {key}")
                origins[name] = f"environment variable {key}"
    for key, value in overrides.items():
        if value is not None:
            values[key] = _coerce(key, value, "command line")
            origins[key] = f"the --{key.replace('_', '-')} option"
    return _validated(Settings(**values, origins=origins))


def _flatten(doc: Mapping[str, Any]) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in doc.items():
        if isinstance(value, Mapping):
            out.extend(_flatten(value))
        else:
            out.append((key, value))
    return out


#: Path settings that name a folder (the others name a file).
_FOLDERS = ("models_dir", "reports_dir", "inbox")


def describe_setting(settings: Settings, name: str) -> str:
    """``name`` with its value and where it came from, for error messages, e.g.
    ``setting 'reports_dir' = 'out.csv' (from environment variable FORECAST_REPORTS_DIR)``.
    """
    origin = settings.origins.get(name, "the default, relative to the working folder")
    return f"setting {name!r} = {str(getattr(settings, name))!r} (from {origin})"


def _how_to_set(settings: Settings, name: str) -> str:
    origin = settings.origins.get(name)
    if origin is None or origin.startswith(("environment variable", f"{name!r} in")):
        return f"Set {ENV_PREFIX}{name.upper()} or {name!r} in {CONFIG_FILE}"
    return f"Change {origin}"  # an option: it overrides the file and the environment


def check_folder(path: Path, what: str, fix: str, *, create: bool = True) -> None:
    """Check, before any work, that ``path`` is a folder this process can write in.

    A missing folder is created (with its parents) when ``create``; otherwise only its
    nearest existing parent must be a folder. The check writes and removes a probe file
    named ``.tmp-probe-*`` (the registry's cleanup removes any a crash leaves).

    Parameters
    ----------
    path
        The folder.
    what
        The setting or option it came from, for the message (``"--out '/x'"``).
    fix
        What the user can do, for the message.

    Raises
    ------
    ConfigError
        ``path`` is a file, cannot be created or cannot be written.
    """
    if path.exists() and not path.is_dir():
        raise ConfigError(f"The {what} is a file, not a folder. {fix} to a folder.")
    if not create and not path.exists():
        _check_parent(path, what, fix)
        return
    existed = path.exists()
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".tmp-probe-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(_unusable(path, exc, what, fix, "folder", existed)) from None


def check_file(path: Path, what: str, fix: str, *, create: bool = True) -> None:
    """Check, before any work, that ``path`` can be a file this process writes.

    With ``create`` the parent folders are created and the file opened for appending
    (creating it empty when missing, as the writers of such files do anyway); without,
    only that ``path`` is not a folder and its nearest existing parent is one.

    Raises
    ------
    ConfigError
        ``path`` is a folder, its parent is a file, or it cannot be created or written.
    """
    if path.is_dir():
        raise ConfigError(f"The {what} is a folder, not a file. {fix} to a file path.")
    if not create:
        _check_parent(path, what, fix)
        return
    existed = path.exists()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("ab"):
            pass
    except OSError as exc:
        raise ConfigError(_unusable(path, exc, what, fix, "file", existed)) from None


def _check_parent(path: Path, what: str, fix: str) -> None:
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ConfigError(
                    f"The {what} lies under {str(parent)!r}, which is a file, not a folder. "
                    f"{fix} to a path in a folder."
                )
            return


def _unusable(path: Path, exc: OSError, what: str, fix: str, kind: str, existed: bool) -> str:
    blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    reason = exc.strerror or str(exc)
    if blocker is not None:
        cause = f"it lies under {str(blocker)!r}, which is a file, not a folder"
    elif existed:
        cause = f"it cannot be written ({reason})"
    else:
        cause = f"it cannot be created ({reason})"
    return f"The {what} cannot be used as a {kind}: {cause}. {fix} to a writable {kind}."


def check_paths(settings: Settings, names: Iterable[str], *, create: bool = True) -> None:
    """Check the path settings ``names`` before any work, so that a run does not fail on
    an unusable folder after hours of forecasting.

    Folder settings (``models_dir``, ``reports_dir``, ``inbox``) must be folders, created
    when missing, that this process can write in; file settings (``log_file``,
    ``warehouse``) must not be folders, and their parent folders are created. With
    ``create=False`` nothing is created or written: only a file or folder in the wrong
    place is found.

    Raises
    ------
    ConfigError
        The message names the setting, its value, where the value came from and how to
        change it.
    """
    for name in names:
        path = getattr(settings, name)
        what = describe_setting(settings, name)
        fix = f"{_how_to_set(settings, name)}"
        if name in _FOLDERS:
            check_folder(path, what, fix, create=create)
        elif name == "warehouse":
            # The Warehouse creates (and fully checks) its own file; only a folder or a
            # file in the parent's place is found here.
            check_file(path, what, fix, create=False)
        else:
            check_file(path, what, fix, create=create)
