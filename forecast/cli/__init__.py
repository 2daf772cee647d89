"""The ``forecast`` command line. Thin: parse flags, call the library, map errors to exits.

Each command group lives in its own module and registers itself on :data:`app`.
"""

from __future__ import annotations

# Command modules register themselves on `app` when imported (one line per module).
from forecast.cli import data as _data  # noqa: F401
from forecast.cli import engine as _engine  # noqa: F401
from forecast.cli import ops as _ops  # noqa: F401
from forecast.cli import pipeline as _pipeline  # noqa: F401
from forecast.cli import report as _report  # noqa: F401
from forecast.cli._app import app, main

__all__ = ["app", "main"]
