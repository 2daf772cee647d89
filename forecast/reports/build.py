"""Write the reports of a run: PDF bulletins and CSV outlooks, per scope, atomically."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

from forecast.data.geography import REGION_NAMES, provinces
from forecast.errors import InvalidParameterError
from forecast.parallel import run_batched
from forecast.progress import NULL, Reporter
from forecast.reports.csv import OutlookTable, advantage_csv
from forecast.reports.formatting import LANGS, Lang
from forecast.reports.inputs import ReportData
from forecast.reports.pdf import render_pdf
from forecast.reports.scope import (
    SCOPE_KINDS,
    Scope,
    national,
    province_scope,
    region_scope,
    resolve_province,
    resolve_region,
)
from forecast.reports.text import Wording
from forecast.reports.views import ViewBuilder
from forecast.results import RunResult
from forecast.safeio import atomic_write

log = logging.getLogger(__name__)

FORMATS = ("pdf", "csv")
OUTLOOK_FULL = "outlook-full.csv"
ADVANTAGE_FULL = "advantage-full.csv"


def write_reports(
    result: RunResult,
    out_dir: Path,
    *,
    scopes: Sequence[str] = SCOPE_KINDS,
    names: Sequence[str] | None = None,
    lang: str = "vi",
    formats: Sequence[str] = FORMATS,
    jobs: int = 1,
    reporter: Reporter = NULL,
) -> list[Path]:
    """Write PDF and CSV reports of ``result`` into ``out_dir``.

    Parameters
    ----------
    result
        The run.
    out_dir
        Folder to write into (created if needed). Files: ``national.pdf``,
        ``region-<slug>.pdf``, ``province-<slug>.pdf`` and the same names with ``.csv``,
        plus ``outlook-full.csv`` and ``advantage-full.csv`` when CSV is requested. Slugs
        are ASCII-folded reference names (``province-ho-chi-minh``), never data text.
    scopes
        Any of ``national``, ``region``, ``province``.
    names
        Only these regions/provinces (names or codes, any spelling); None = all in the run.
    lang
        ``vi`` or ``en``.
    formats
        Any of ``pdf``, ``csv``.
    jobs
        Worker processes for the PDFs (-1 = all cores).
    reporter
        Progress display.

    Returns
    -------
    list of Path
        Files written, CSV first, then PDFs in scope order.

    Raises
    ------
    InvalidParameterError
        Unknown scope, format, language or name, or a name the run has no data for.
    RegistryError
        The run's tables lack columns the reports need.
    """
    _check(scopes, SCOPE_KINDS, "scopes")
    _check(formats, FORMATS, "formats")
    if lang not in LANGS:
        raise InvalidParameterError(
            "The 'lang' parameter of write_reports must be one of 'vi', 'en'. "
            f"Got {lang!r} instead."
        )
    data = ReportData(result)
    targets = resolve_scopes(data, scopes, names)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if "csv" in formats:
        written += _write_csv(data, targets, out_dir, Wording(lang))  # type: ignore[arg-type]
    if "pdf" in formats:
        work = functools.partial(_pdf_batch, data, lang, out_dir)
        written += run_batched(work, targets, n_jobs=jobs, reporter=reporter, stage="reports")
    return written


def _check(values: Iterable[str], allowed: tuple[str, ...], name: str) -> None:
    bad = [v for v in values if v not in allowed]
    if bad or not list(values):
        raise InvalidParameterError(
            f"The {name!r} parameter of write_reports must hold values among "
            f"{', '.join(map(repr, allowed))}. Got {list(values)!r} instead."
        )


def resolve_scopes(
    data: ReportData, kinds: Sequence[str], names: Sequence[str] | None = None
) -> list[Scope]:
    """The report scopes to write, in publication order (nation, regions, provinces).

    Names are matched to regions (code or name) and provinces (any spelling, old or new
    names); each must match a scope of a requested kind that the run has data for.
    """
    nodes = data.nodes
    have_prov = set(nodes.loc[nodes["geo_level"] == "province", "province"])
    have_reg = set(nodes.loc[nodes["geo_level"] == "region", "region"])
    wanted_prov: set[str] | None = None
    wanted_reg: set[str] | None = None
    if names:
        wanted_prov, wanted_reg = set(), set()
        for name in names:
            _resolve_name(name, kinds, wanted_prov, wanted_reg)
        missing = sorted((wanted_prov - have_prov) | (wanted_reg - have_reg))
        if missing:
            raise InvalidParameterError(
                f"Run {data.meta.run_id} has no data for {', '.join(map(repr, missing))}."
            )
    out: list[Scope] = []
    if "national" in kinds:
        out.append(national())
    if "region" in kinds:
        out += [
            region_scope(c)
            for c in REGION_NAMES
            if c in have_reg and (wanted_reg is None or c in wanted_reg)
        ]
    if "province" in kinds:
        out += [
            province_scope(u.name)
            for u in provinces()
            if u.name in have_prov and (wanted_prov is None or u.name in wanted_prov)
        ]
    return out


def _resolve_name(name: str, kinds: Sequence[str], prov: set[str], reg: set[str]) -> None:
    errors = []
    if "region" in kinds:
        try:
            reg.add(resolve_region(name))
            return
        except InvalidParameterError as exc:
            errors.append(str(exc))
    if "province" in kinds:
        try:
            prov.add(resolve_province(name))
            return
        except InvalidParameterError as exc:
            errors.append(str(exc))
    if not errors:
        raise InvalidParameterError(
            f"--name {name!r} needs --scope region or province (the national report has no name)."
        )
    raise InvalidParameterError(errors[-1])


def _write_csv(data: ReportData, targets: Sequence[Scope], out_dir: Path, w: Wording) -> list[Path]:
    table = OutlookTable(data, w)
    written = [
        atomic_write(out_dir / OUTLOOK_FULL, table.full()),
        atomic_write(out_dir / ADVANTAGE_FULL, advantage_csv(data, w)),
    ]
    for scope in targets:
        written.append(atomic_write(out_dir / f"{scope.slug}.csv", table.scope(scope)))
    return written


def _pdf_batch(data: ReportData, lang: Lang, out_dir: Path, scopes: Sequence[Scope]) -> list[Path]:
    """Worker: render and write the PDFs of a batch of scopes (one view cache per batch)."""
    builder = ViewBuilder(data)
    w = Wording(lang)
    out = []
    for scope in scopes:
        pdf = render_pdf(builder.build(scope), data, w)
        out.append(atomic_write(out_dir / f"{scope.slug}.pdf", pdf))
        log.debug("wrote %s", scope.slug)
    return out
