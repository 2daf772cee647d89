"""The ``forecast`` command line. Thin: parse flags, call the library, map errors to exits.

Each command group lives in its own module and registers itself on :data:`app`.
"""

from __future__ import annotations

from forecast.cli._app import app, main

# Command modules register themselves on `app` when imported (one line per module).

__all__ = ["app", "main"]
