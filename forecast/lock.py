"""One writer at a time: an exclusive lock on a file in the registry folder.

``forecast retrain`` and ``forecast run`` take :class:`RunLock` on
``<models_dir>/.forecast.lock`` before touching the warehouse, the registry or the
published reports. The lock is an ``fcntl.flock`` on the open file, so the kernel releases
it when the holder exits *in any way*, including ``kill -9`` or a power cut: a lock can never
be left held by a dead process. The file itself stays (it is never deleted, which would
let two processes lock two different files of the same name) and holds the holder's pid,
host, start time and command, for the message a second process prints.

A *stale* lock is a lock file whose recorded holder is gone: the lock is free (the kernel
released it) but the file still names the dead process. The next process takes the lock
normally, notes the takeover in the log, and the caller cleans up what the dead process
left (see :func:`forecast.registry.clean_leftovers`).
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import socket
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from forecast.errors import BusyError

log = logging.getLogger(__name__)

LOCK_FILE = ".forecast.lock"


@dataclass(frozen=True)
class Holder:
    """Who holds (or last held) the lock, as recorded in the lock file."""

    pid: int | None
    host: str
    started_at: str
    command: str

    @classmethod
    def read(cls, path: Path) -> Holder | None:
        """The recorded holder, or None for an empty or unreadable file."""
        try:
            doc = json.loads(path.read_text(encoding="utf-8") or "null")
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return None
        if not isinstance(doc, dict):
            return None
        pid = doc.get("pid")
        return cls(
            pid if isinstance(pid, int) else None,
            str(doc.get("host", "")),
            str(doc.get("started_at", "")),
            str(doc.get("command", "")),
        )

    def alive(self) -> bool:
        """True when the recorded process still runs (on this host)."""
        if self.pid is None or self.host != socket.gethostname():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # exists, owned by someone else
            return True
        return True

    def describe(self) -> str:
        """``pid 1234 on host, started 2026-01-05T03:00:00Z (forecast retrain)``."""
        text = f"pid {self.pid if self.pid is not None else '?'}"
        if self.host:
            text += f" on {self.host}"
        if self.started_at:
            text += f", started {self.started_at}"
        if self.command:
            text += f" ({self.command})"
        return text


class RunLock:
    """Exclusive, non-blocking lock of a registry folder.

    Parameters
    ----------
    folder
        The folder to lock (the ``models_dir``); created if missing.
    command
        What the holder does, recorded in the lock file (``forecast retrain``).

    Raises
    ------
    BusyError
        (on enter) Another process holds the lock; the message names it.

    Examples
    --------
    >>> with RunLock(settings.models_dir, command="forecast retrain"):  # doctest: +SKIP
    ...     ...
    """

    def __init__(self, folder: Path, *, command: str = "forecast"):
        self.path = Path(folder) / LOCK_FILE
        self.command = command
        self.previous: Holder | None = None
        self._fd: int | None = None

    @property
    def stale(self) -> bool:
        """True when the lock was taken over from a process that died holding it."""
        return self.previous is not None and self.previous.pid is not None

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock or raise :class:`BusyError` at once (never waits)."""
        if self._fd is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            holder = Holder.read(self.path)
            who = holder.describe() if holder else "another process"
            hint = "Try again when it has finished."
            if holder is not None and holder.pid is not None and not holder.alive():
                hint = (
                    f"Process {holder.pid} has ended, but a worker it started still holds the "
                    "lock; it is released as soon as that worker exits."
                )
            raise BusyError(
                f"Another forecast run holds the lock {self.path}: {who}. {hint}"
            ) from None
        self.previous = Holder.read(self.path)
        if self.previous is not None and self.previous.pid is not None:
            log.warning(
                "Taking over a stale lock %s left by %s, which ended without releasing it; "
                "its temporary files are cleaned up.",
                self.path,
                self.previous.describe(),
                extra={"event": "stale_lock", "stale_pid": self.previous.pid},
            )
        self._fd = fd
        self._record(
            {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "started_at": datetime.now(UTC)
                .isoformat(timespec="seconds")
                .replace("+00:00", "Z"),
                "command": self.command or " ".join(sys.argv[:2]),
            }
        )

    def _record(self, doc: dict[str, Any] | None) -> None:
        assert self._fd is not None
        payload = b"" if doc is None else (json.dumps(doc) + "\n").encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, payload, 0)
        os.fsync(self._fd)

    def release(self) -> None:
        """Empty the lock file (a clean exit) and release the lock. Idempotent."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
