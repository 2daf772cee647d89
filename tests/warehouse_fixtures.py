"""Shared by the warehouse tests: the ingest header and a writer for small source files."""

from __future__ import annotations

HEADER = "period,province,category,market,destination,value,unit,quantity\n"


def write(path, body, header=HEADER):
    """Write ``header + body`` to ``path`` as UTF-8 and return the path."""
    path.write_text(header + body, encoding="utf-8")
    return path
