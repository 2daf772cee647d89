"""Safe file output: atomic writes and CSV cells that spreadsheets cannot execute."""

from __future__ import annotations

import errno
import functools
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from forecast.errors import OutputError

#: First characters that make a spreadsheet treat a cell as a formula (or DDE payload).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise(text: str) -> str:
    """Text that a spreadsheet shows as text, never runs as a formula.

    Carriage returns become line feeds: a CSV writer with ``\\n`` line ends leaves a bare
    ``\\r`` unquoted, and spreadsheets start a new row there, so ``x\\r=HYPERLINK(...)``
    would put a formula at the start of a row. Then text starting with ``=``, ``+``, ``-``,
    ``@``, a tab, or any of these after leading white space (`` =1+1``), gets a ``'``
    prefix, unless it is a plain signed number (``-12``, ``+1.5e3``), which a spreadsheet
    reads as that number; other text is unchanged.
    """
    risky = (
        text.startswith(FORMULA_PREFIXES) or text.lstrip().startswith(FORMULA_PREFIXES)
    ) and not _PLAIN_NUMBER.fullmatch(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "'" + text if risky else text


@functools.cache
def _umask() -> int:
    # os.umask can only be read by setting it; doing that once (on first use, before any
    # worker thread writes files) keeps the brief change from racing other threads.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def public_mode(*, directory: bool = False) -> int:
    """The permissions ``open()``/``mkdir()`` would give: 0o666/0o777 less the umask.

    ``tempfile`` creates private files (0o600) and folders (0o700); a published run renamed
    from them would be unreadable to the other users of a shared reports folder.
    """
    return (0o777 if directory else 0o666) & ~_umask()


def atomic_write(path: Path, payload: bytes) -> Path:
    """Write ``payload`` to a temporary file beside ``path`` and rename it into place, so
    readers never see a half-written file and a crash leaves the old file intact."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, public_mode())
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def ten_digits(x: float) -> str:
    """``x`` to 10 significant digits (``%.10g``), but from 1e10 to 1e21 to the unit and
    without an exponent: sales in VND reach 1e12, and ``1.018070123e+12`` hides digits
    and reads as text in some spreadsheets."""
    if 1e10 - 0.5 <= abs(x) < 1e21:  # what %.10g would write with an exponent
        return f"{x:.0f}"
    return f"{x:.10g}"


def csv_bytes(
    df: pd.DataFrame, *, float_format: str | Callable[[float], str] = "%.6f", bom: bool = False
) -> bytes:
    """CSV bytes of ``df`` with text cells neutralised, fixed float format, ``\\n`` line ends.

    Numeric columns are written as numbers (a negative value stays ``-1.5``); only text
    (object/string) columns are neutralised.
    """
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(lambda v: neutralise(v) if isinstance(v, str) else v)
    text = out.to_csv(index=False, float_format=float_format, lineterminator="\n", na_rep="")
    data = text.encode("utf-8")
    return (b"\xef\xbb\xbf" + data) if bom else data


def write_failure(
    exc: OSError, what: str, elsewhere: str | None = None, *, action: str = "write"
) -> str:
    """A message for ``exc``, raised while writing ``what``: the path, the cause in plain
    words and what to do.

    Parameters
    ----------
    exc
        The error the operating system gave.
    what
        What was being written, e.g. ``"the reports of run X"``.
    elsewhere
        How to write somewhere else instead, e.g. ``"the reports_dir setting
        (FORECAST_REPORTS_DIR)"``; None when there is no such choice.
    action
        The verb for what failed: ``"write"`` or ``"delete"``.
    """
    path = exc.filename if exc.filename is not None else "?"
    cause = exc.strerror or str(exc)
    other = f", or point {elsewhere} at another folder" if elsewhere else ""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        fix = f"The disk is full: free space on it{other}, then run again."
    elif exc.errno in (errno.EACCES, errno.EPERM):
        fix = f"Give this user write access there{other}, then run again."
    elif exc.errno == errno.EROFS:
        fix = f"The file system is read-only: make it writable{other}, then run again."
    else:
        fix = f"Check the disk and the folder{other}, then run again."
    return f"Could not {action} {what}: {cause} ({path}). {fix}"


@contextmanager
def output_errors(
    what: str, elsewhere: str | None = None, *, action: str = "write"
) -> Iterator[None]:
    """Turn an :class:`OSError` raised in the block into :class:`OutputError` (exit 74)
    with the message of :func:`write_failure` (same parameters).

    Wrap only code that writes outputs: a failure to *read* something inside the block
    would be reported as a failure to write ``what``.
    """
    try:
        yield
    except OutputError:
        raise
    except OSError as exc:
        raise OutputError(write_failure(exc, what, elsewhere, action=action)) from exc
