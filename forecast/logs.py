"""Machine-readable logs: one JSON object per line, appended to the ``log_file`` setting.

The terminal gets human lines (:func:`forecast.cli._app.setup_logging`); unattended runs
(``forecast retrain`` from cron or systemd) also append every record of the ``forecast``
loggers to a JSON-lines file, so a log collector or ``jq`` can read them::

    {"ts": "2026-01-05T03:00:01.123Z", "level": "INFO", "logger": "forecast.retrain",
     "msg": "inbox: 2 file(s) ...", "pid": 4242, "event": "inbox", "files": 2}

Fields beyond ``ts, level, logger, msg, pid`` come from ``extra={...}`` of the logging
call (``event`` names the kind of line: ``inbox``, ``ingest``, ``retrain``, ``summary``...).
The file is opened with :class:`logging.handlers.WatchedFileHandler`, so ``logrotate`` may
move it away at any time.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

#: Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
_ROOT = "forecast"


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object (UTF-8 text, no newlines inside)."""

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        doc: dict[str, object] = {
            "ts": ts.replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "pid": record.process,
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and not name.startswith("_") and name not in doc:
                doc[name] = value
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False, default=str)


def attach_json_log(path: Path, level: int = logging.INFO) -> logging.Handler:
    """Append records of the ``forecast`` loggers to ``path`` as JSON lines.

    Replaces an earlier JSON handler on the same loggers, so calling it twice is harmless.
    Returns the handler (pass it to :func:`detach_json_log` when done).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger(_ROOT)
    for old in [h for h in root.handlers if getattr(h, "_forecast_json", False)]:
        detach_json_log(old)
    handler = logging.handlers.WatchedFileHandler(path, encoding="utf-8")
    handler.setFormatter(JsonFormatter())
    handler.setLevel(level)
    handler._forecast_json = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    return handler


def detach_json_log(handler: logging.Handler) -> None:
    """Remove and close a handler added by :func:`attach_json_log`."""
    logging.getLogger(_ROOT).removeHandler(handler)
    handler.close()


@contextmanager
def json_log(path: Path, level: int = logging.INFO) -> Iterator[logging.Handler]:
    """JSON-lines logging to ``path`` for the duration of a ``with`` block."""
    handler = attach_json_log(path, level)
    try:
        yield handler
    finally:
        detach_json_log(handler)
