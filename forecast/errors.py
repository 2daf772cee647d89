"""One exception hierarchy for the service.

Library code raises these; only :mod:`forecast.cli` turns them into messages and exit codes.
Each class also inherits a built-in so that callers' existing ``except ValueError`` still works.
Exit codes follow ``sysexits.h`` where one fits (65 data error, 74 output cannot be
written, 75 temporary failure); 2 is a usage or configuration error, 1 anything else.
"""

from __future__ import annotations

from dataclasses import dataclass

from forecast.textutil import printable


class ForecastError(Exception):
    """Base class of every error the service raises on purpose."""

    exit_code: int = 1


class ConfigError(ForecastError, ValueError):
    """A setting, flag or configuration file is invalid."""

    exit_code = 2


class InvalidParameterError(ForecastError, ValueError, TypeError):
    """An estimator or function parameter has an invalid value."""

    exit_code = 2


class NotFittedError(ForecastError, ValueError, AttributeError):
    """An estimator was used before ``fit``."""


class ModelError(ForecastError, RuntimeError):
    """A model failed to fit or predict on a series."""


class BusyError(ForecastError, RuntimeError):
    """Another process holds the lock (e.g. a retrain is already running)."""

    exit_code = 75


class WarehouseError(ForecastError, RuntimeError):
    """The warehouse file is damaged or of an unknown version."""


class WarehouseNotFoundError(WarehouseError, FileNotFoundError):
    """No warehouse file where the ``warehouse`` setting points: a usage error (wrong
    path, or nothing ingested yet), not a failure."""

    exit_code = 2


class RegistryError(ForecastError, RuntimeError):
    """A run or artifact in the registry is damaged or fails its checksum."""


class RunNotFoundError(RegistryError, LookupError):
    """The run asked for is not a run id, not in the registry, or nothing is published:
    a usage error, unlike a damaged run (:class:`RegistryError`)."""

    exit_code = 2


class OutputError(ForecastError, OSError):
    """An output (report, run, log, CSV) could not be written: disk full, no permission,
    read-only or failing file system. Not a bug: the message names the path and what to do.
    """

    exit_code = 74


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file.

    Parameters
    ----------
    file
        Name of the input file.
    row
        1-based row number as a spreadsheet program shows it (header is row 1), or None
        when the problem concerns the whole file.
    column
        Column name, or None when the problem concerns the whole row or file.
    value
        The offending value as read (truncated for display), or None.
    message
        What is wrong.
    fix
        What the user should do about it.
    """

    file: str
    row: int | None
    column: str | None
    value: str | None
    message: str
    fix: str

    @classmethod
    def whole_file(cls, file: str, message: str, fix: str) -> Problem:
        """A problem with the file as a whole (no row, column or value to point at)."""
        return cls(file, None, None, None, message, fix)

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column '{self.column}'"
        shown = "" if self.value is None else f" (value: {_shorten(self.value)!r})"
        return printable(f"{where}: {self.message}{shown}. Fix: {self.fix}")


def _shorten(value: str, limit: int = 60) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


class DataError(ForecastError, ValueError):
    """Input data violates the data contract.

    Parameters
    ----------
    problems
        Every problem found (capped by the reader); the message lists them all.
    truncated
        True when more problems existed than were collected.
    hidden
        How many problems were left out of the list, when known (implies ``truncated``).
    hidden_series
        Series those left-out problems are in, to name the ones the list does not show.
    """

    exit_code = 65

    def __init__(
        self,
        problems: list[Problem] | Problem | str,
        *,
        truncated: bool = False,
        hidden: int = 0,
        hidden_series: tuple[str, ...] = (),
    ):
        if isinstance(problems, str):
            self.problems: list[Problem] = []
            message = problems
        else:
            self.problems = [problems] if isinstance(problems, Problem) else list(problems)
            lines = [str(p) for p in self.problems]
            if hidden:
                where = ""
                if hidden_series:
                    named = ", ".join(repr(s) for s in hidden_series[:5])
                    more = f" and {len(hidden_series) - 5} more" if len(hidden_series) > 5 else ""
                    where = f", in series {named}{more}"
                lines.append(
                    f"… {hidden} more like these not shown{where}; fix them all and run again."
                )
            elif truncated:
                lines.append("… more problems not shown; fix these and run again.")
            message = "\n".join(lines)
        self.truncated = truncated or hidden > 0
        super().__init__(message)
