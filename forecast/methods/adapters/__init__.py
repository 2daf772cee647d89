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
    """
    try:
        yield
    except Exception as exc:
        raise ModelError(f"{owner} failed to {stage}: {type(exc).__name__}: {exc}") from exc
