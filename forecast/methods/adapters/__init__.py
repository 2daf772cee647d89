"""Adapters: third-party forecasting libraries behind the model protocol."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from forecast.errors import ModelError


@contextmanager
def library_errors(owner: str, stage: str) -> Iterator[None]:
    """Turn any failure of third-party model code into :class:`ModelError`.

    Libraries signal awkward data with many exception types, some of them a bare
    ``Exception`` (statsforecast's AutoCES: "no model able to be fitted"; Prophet: "can
    only be fit once"), which no caller can catch selectively. One typed error carrying the
    library's message lets the engine record the failure and stand in the naive forecast
    instead of aborting the run.

    Errors that mean the code, not the data, is wrong (a library API that changed, a
    missing module, memory exhausted) pass through unchanged: turned into model failures
    they would make every fit fall back to the naive forecast in a run that still exits 0.
    """
    try:
        yield
    except PROGRAMMING_ERRORS:
        raise
    except Exception as exc:
        raise ModelError(f"{owner} failed to {stage}: {type(exc).__name__}: {exc}") from exc


#: Raised by wrong code rather than awkward data; never turned into a model failure.
PROGRAMMING_ERRORS = (
    TypeError,
    AttributeError,
    NameError,
    ImportError,
    MemoryError,
    NotImplementedError,
    RecursionError,
)
