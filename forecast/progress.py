"""Progress reporting for long work, decoupled from the terminal.

Library code receives a :class:`Reporter` and calls ``with reporter.stage(name, total) as
advance: ... advance(n)``. The CLI chooses a rich progress bar on a terminal and plain log
lines otherwise (cron, CI); tests use :data:`NULL`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

log = logging.getLogger("forecast.progress")

Advance = Callable[[int], None]


class Reporter(Protocol):
    """Something that shows progress of named stages."""

    def stage(self, name: str, total: int | None = None) -> AbstractContextManager[Advance]:
        """Context manager for one stage; yields ``advance(n)`` to call as items finish."""
        ...


def _no_advance(n: int = 1) -> None:
    """Advance that does nothing."""


class NullReporter:
    """Reports nothing."""

    @contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[Advance]:
        yield _no_advance


class LogReporter:
    """Plain log lines: start, at most one line per ``every`` seconds, and the end with time."""

    def __init__(self, *, every: float = 10.0, logger: logging.Logger | None = None):
        self.every = every
        self.logger = logger or log

    @contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[Advance]:
        start = last = time.monotonic()
        done = 0
        self.logger.info("%s: started%s", name, f" ({total} items)" if total else "")

        def advance(n: int = 1) -> None:
            nonlocal done, last
            done += n
            now = time.monotonic()
            if now - last >= self.every:
                last = now
                pct = f" ({100 * done / total:.0f}%)" if total else ""
                self.logger.info("%s: %d/%s done%s", name, done, total or "?", pct)

        yield advance
        self.logger.info("%s: finished in %.1f s", name, time.monotonic() - start)


class RichReporter:
    """A rich progress bar per stage, for interactive terminals."""

    def __init__(self, console: object | None = None):
        self.console = console

    @contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[Advance]:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        columns = [
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        ]
        kwargs: dict[str, Any] = {"console": self.console} if self.console is not None else {}
        with Progress(*columns, transient=False, **kwargs) as bar:
            task = bar.add_task(name, total=total)

            def advance(n: int = 1) -> None:
                bar.advance(task, n)

            yield advance


NULL = NullReporter()
