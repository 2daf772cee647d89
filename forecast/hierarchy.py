"""Every node of the grouped hierarchy, its history and its summing structure.

The sales of a bottom series (province x category x market) roll up along three crossed
dimensions, so the structure is *grouped*, not a single tree:

* geography: ``national`` -> 6 ``region`` -> 34 ``province`` (2025 units);
* product: ``total`` -> CNNT ``group`` -> ``category``;
* market: ``total`` -> ``domestic`` / ``export``.

Every combination of one level per dimension is a level of the hierarchy (27 when every
dimension is complete), e.g. ``region/group/export``. Export destinations are national
only, so they form a second, smaller structure that *shares* its top nodes with the main
one: ``national/{total,group,category}/export`` are split by destination into
``national/{total,group,category}/export/destination`` nodes whose bottoms are
``national/category/export/destination``.

Why two structures: no province x destination series exist, so destinations cannot be
bottoms of the main structure. Reconciliation (:mod:`forecast.reconcile`) makes the main
structure coherent first, then splits each reconciled ``national/category/export`` forecast
over destinations in proportion to their base forecasts (top-down with the top fixed) and
sums those up to the group and total destination nodes, so both structures agree exactly
on the shared nodes.

Rules the builder applies (each one recorded in :attr:`Hierarchy.notes` when it changes
anything):

* **Subsets.** Only what the data hold is built: a single region, a single market, no
  destinations, any frequency (``M``/``Q``/``Y``; one per hierarchy). The market ``total``
  level is built only when both markets are present (it would copy the one market).
  When the data have no province rows at all, national rows are the bottoms.
* **National rows without a destination** are ignored when province rows exist: national
  totals are computed from provinces, never mixed with them.
* **Spans and gaps.** A bottom series *exists* from its first to its last observation.
  Outside that span it counts as 0 in its parents (a product line not started yet or
  discontinued); a period missing *inside* it is a *gap*: NaN in the series' own history,
  0 in its parents, and counted in :attr:`Hierarchy.spans` (``n_missing``) for the series
  and every ancestor so that outlooks can flag it. An aggregate exists over the union of
  its children's spans.
* **Units.** Only series of the same unit are summed (units compared after folding case
  and diacritics). A node whose children have different units is not built; when units
  differ across markets this removes exactly the market-total nodes.
* **Destination coverage.** When the destinations of a category add up to less than its
  provincial export total (a customs table listing only the main markets), the remainder
  becomes a destination node ``ZZ`` ("other destinations") so the split is exact; when
  they add up to more, a note says by how much (reconciliation scales them down).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import sparse

from forecast.data.categories import categories
from forecast.data.geography import REGION_NAMES, provinces
from forecast.errors import DataError, InvalidParameterError
from forecast.results import HISTORY_COLUMNS, KEY_COLUMNS, NODE_COLUMNS
from forecast.textutil import key

_log = logging.getLogger(__name__)

GeoLevel = Literal["national", "region", "province"]
ProductLevel = Literal["total", "group", "category"]

GEO_LEVELS: tuple[str, ...] = ("national", "region", "province")
PRODUCT_LEVELS: tuple[str, ...] = ("total", "group", "category")
MARKETS: tuple[str, ...] = ("total", "domestic", "export")
#: Periods per year by frequency (the seasonal period).
SEASON: dict[str, int] = {"M": 12, "Q": 4, "Y": 1}
#: Destination code of the remainder when listed destinations do not cover a category.
OTHER_DESTINATION = "ZZ"
NATIONAL_CODE = "00"

_FREQ_ORDER = ("M", "Q", "Y")
_OBS_COLUMNS = (
    "period",
    "freq",
    "province",
    "province_code",
    "region",
    "category",
    "group",
    "market",
    "destination",
    "value",
    "unit",
)
_COVERAGE_TOL = 0.005  # relative; below this, destination sums count as exact
_ROUND_OFF = 1e-9  # relative; a gap this small is floating-point noise, not a destination


@dataclass(frozen=True)
class Structure:
    """A summing structure in the layout hierarchicalforecast expects.

    Parameters
    ----------
    node_ids
        Row order of ``S``, shape (n_nodes,): aggregates first, then the bottoms in
        column order (the bottom block of ``S`` is the identity).
    bottom_ids
        Column order of ``S``, shape (n_bottom,).
    S
        0/1 summing matrix, shape (n_nodes, n_bottom): ``S[i, j] = 1`` when bottom ``j``
        adds into node ``i``.
    tags
        Level name -> node ids of that level, from the top level to the bottom ones
        (the ``tags`` argument of hierarchicalforecast).
    """

    node_ids: np.ndarray
    bottom_ids: np.ndarray
    S: sparse.csr_matrix
    tags: dict[str, np.ndarray]

    @property
    def n_aggregates(self) -> int:
        """Number of rows above the bottom identity block."""
        return len(self.node_ids) - len(self.bottom_ids)

    def positions(self, ids: pd.Series | np.ndarray | list[str]) -> np.ndarray:
        """Row positions of ``ids`` in ``S`` (-1 for ids not in this structure)."""
        index = pd.Index(self.node_ids)
        return index.get_indexer(pd.Index(ids))

    def S_frame(self) -> pd.DataFrame:  # noqa: N802 - S is the standard name
        """``S`` as hierarchicalforecast's ``S_df``: a ``unique_id`` column, one column per
        bottom node (dense; for its DataFrame API)."""
        frame = pd.DataFrame(self.S.toarray(), columns=self.bottom_ids)
        frame.insert(0, "unique_id", self.node_ids)
        return frame


@dataclass(frozen=True)
class Hierarchy:
    """All nodes of a run, their history and their summing structures.

    Parameters
    ----------
    freq
        ``M``, ``Q`` or ``Y``.
    periods
        Every period from the first to the last observation, shape (T,).
    nodes
        One row per node, columns :data:`forecast.results.NODE_COLUMNS`, main structure
        first (in ``structure.node_ids`` order), then destination-only nodes.
    history
        Columns ``node_id, period, value`` (period a ``pandas.Period``): one row per node
        and period of the node's span; NaN only for gaps of bottom series.
    structure
        The main grouped structure (geography x product x market).
    destinations
        The destination structure, or None when the data have no destination rows. Its
        top rows (``national/*/export`` without destination) are nodes of the main
        structure, fixed during its reconciliation.
    spans
        Per node: ``node_id, first_period, last_period, n_periods, n_missing`` (gap
        periods of the node or of any of its bottoms inside their own spans).
    notes
        What the builder dropped, added or found, in plain words.
    """

    freq: str
    periods: pd.PeriodIndex
    nodes: pd.DataFrame
    history: pd.DataFrame
    structure: Structure
    destinations: Structure | None
    spans: pd.DataFrame
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def S(self) -> sparse.csr_matrix:  # noqa: N802 - S is the standard name
        """Summing matrix of the main structure."""
        return self.structure.S

    @property
    def tags(self) -> dict[str, np.ndarray]:
        """Levels of the main structure, for hierarchicalforecast."""
        return self.structure.tags

    @property
    def bottom_ids(self) -> np.ndarray:
        """Bottom node ids of the main structure (columns of ``S``)."""
        return self.structure.bottom_ids

    @property
    def last_period(self) -> pd.Period:
        """The last period with data (the forecast origin)."""
        return self.periods[-1]

    def matrix(self, node_ids: np.ndarray | None = None, *, outside: float = np.nan) -> np.ndarray:
        """History as an array of shape (len(node_ids), T).

        Parameters
        ----------
        node_ids
            Rows to return; default every node, in :attr:`nodes` order.
        outside
            Value outside each node's span (NaN by default; 0 reads "did not sell yet").
            Gaps inside a span are NaN either way.
        """
        ids = self.nodes["node_id"].to_numpy() if node_ids is None else np.asarray(node_ids)
        rows = pd.Index(ids).get_indexer(self.history["node_id"])
        cols = self.periods.get_indexer(self.history["period"])
        keep = rows >= 0
        out = np.full((len(ids), len(self.periods)), np.nan)
        out[rows[keep], cols[keep]] = self.history["value"].to_numpy()[keep]
        if not np.isnan(outside):
            spans = self.spans.set_index("node_id").reindex(ids)
            first = self.periods.get_indexer(pd.PeriodIndex(spans["first_period"]))
            last = self.periods.get_indexer(pd.PeriodIndex(spans["last_period"]))
            t = np.arange(len(self.periods))
            out_of_span = (t[None, :] < first[:, None]) | (t[None, :] > last[:, None])
            out[out_of_span] = outside
        return out


# --------------------------------------------------------------------------------------
# Building


def build_hierarchy(observations: pd.DataFrame, *, freq: str | None = None) -> Hierarchy:
    """Build every node, its history and the summing structures from observations.

    Parameters
    ----------
    observations
        ``Warehouse.observations()``: columns ``period, freq, province, province_code,
        region, category, group, market, destination, value, unit`` (others ignored).
    freq
        Frequency to use (``M``, ``Q``, ``Y``). Default: the only one present, or the finest
        one present (the others are left out, with a note).

    Returns
    -------
    Hierarchy

    Raises
    ------
    DataError
        No usable observation, a missing column, or a series with two units.
    InvalidParameterError
        ``freq`` is not one of ``M``, ``Q``, ``Y`` or has no observations.
    """
    notes: list[str] = []
    obs = _select_frequency(observations, freq, notes)
    freq = str(obs["freq"].iat[0])
    # Parse each distinct period string once (120k rows, ~130 distinct values).
    codes, uniques = pd.factorize(obs["period"].astype(str))
    obs = obs.assign(period=pd.PeriodIndex(uniques, freq=freq)[codes])
    periods = pd.period_range(obs["period"].min(), obs["period"].max(), freq=freq)

    national = obs["province_code"] == NATIONAL_CODE
    has_dest = obs["destination"] != ""
    main_rows = obs[~national & ~has_dest]
    if main_rows.empty:
        main_rows, geo_bottom = obs[national & ~has_dest].assign(province=""), "national"
    else:
        geo_bottom = "province"
        _note_dropped(
            obs[national & ~has_dest],
            notes,
            "national row(s) without a destination were left out: national "
            "totals are computed from the provinces",
        )
        _note_dropped(
            obs[~national & has_dest],
            notes,
            "province row(s) with a destination were left out: destinations "
            "are kept at national level only",
        )
    if main_rows.empty:
        raise DataError("No province or national sales rows to build the hierarchy from.")

    markets = [m for m in ("domestic", "export") if (main_rows["market"] == m).any()]
    market_levels = ("total", *markets) if len(markets) == 2 else tuple(markets)
    geo_levels = GEO_LEVELS if geo_bottom == "province" else ("national",)
    levels = [(g, p, m) for g in geo_levels for p in PRODUCT_LEVELS for m in market_levels]

    main = _Series.from_rows(main_rows, periods)
    main_pairs = _pairs(main.keys, levels, destination=False)
    main_pairs = _drop_mixed_units(main_pairs, main.keys, notes)
    structure, main_nodes = _structure(main_pairs, main.keys)
    values, in_span, gaps = main.aggregate(structure)
    main_state = (structure, main_nodes, values, in_span)

    dest_structure: Structure | None = None
    dest_nodes = pd.DataFrame(columns=list(NODE_COLUMNS))
    dest_rows = obs[national & has_dest]
    if not dest_rows.empty:
        dest_rows = dest_rows[dest_rows["market"] == "export"]
        built = _destinations(dest_rows, periods, main_state, notes)
        if built is not None:
            dest_structure, dest_nodes, d_values, d_in_span, d_gaps = built
            keep = ~np.isin(dest_structure.node_ids, structure.node_ids)
            values = np.vstack([values, d_values[keep]])
            in_span = np.vstack([in_span, d_in_span[keep]])
            gaps = np.vstack([gaps, d_gaps[keep]])

    nodes = pd.concat([main_nodes, dest_nodes], ignore_index=True)[list(NODE_COLUMNS)]
    history = _history(nodes["node_id"].to_numpy(), periods, values, in_span)
    spans = _spans(nodes["node_id"].to_numpy(), periods, in_span, gaps)
    return Hierarchy(freq, periods, nodes, history, structure, dest_structure, spans, tuple(notes))


def _select_frequency(obs: pd.DataFrame, freq: str | None, notes: list[str]) -> pd.DataFrame:
    missing = [c for c in _OBS_COLUMNS if c not in obs.columns]
    if missing:
        raise DataError(
            f"Observations lack column(s) {', '.join(missing)}; pass Warehouse.observations()."
        )
    if obs.empty:
        raise DataError("There are no observations; ingest a sales file first.")
    present = [f for f in _FREQ_ORDER if (obs["freq"] == f).any()]
    if freq is None:
        # The frequency with the most history: one monthly file sent into a quarterly
        # warehouse must not replace five years of quarters with one month.
        rows = obs["freq"].value_counts()
        freq = max(present, key=lambda f: (int(rows[f]), -_FREQ_ORDER.index(f)))
        if len(present) > 1:
            counts = ", ".join(f"{f} {int(rows[f])}" for f in present)
            note = (
                f"Frequencies {', '.join(present)} are present (rows: {counts}); the "
                f"hierarchy uses {freq}, the one with the most rows; the others are left "
                "out (sum them to that frequency and ingest them again to use them)."
            )
            notes.append(note)
            _log.warning(note)
    elif freq not in _FREQ_ORDER:
        raise InvalidParameterError(
            f"The 'freq' parameter of build_hierarchy must be one of 'M', 'Q', 'Y'. "
            f"Got {freq!r} instead."
        )
    elif freq not in present:
        raise InvalidParameterError(
            f"There are no observations of frequency {freq!r}; present: {', '.join(present)}."
        )
    cols = list(_OBS_COLUMNS)
    out = obs.loc[obs["freq"] == freq, cols].copy()
    for col in ("region", "province", "group", "category", "market", "destination", "unit"):
        out[col] = out[col].fillna("").astype(str)
    return out.reset_index(drop=True)


def _note_dropped(rows: pd.DataFrame, notes: list[str], what: str) -> None:
    if not rows.empty:
        notes.append(f"{len(rows)} {what}.")


# --------------------------------------------------------------------------------------
# Bottom series as a wide matrix


@dataclass(frozen=True)
class _Series:
    """Bottom series of one structure: keys (one row per series) and a (n, T) matrix."""

    keys: pd.DataFrame  # KEY_COLUMNS + unit + bottom_id, in row order of `wide`
    wide: np.ndarray  # (n, T), NaN where not observed

    @classmethod
    def from_rows(cls, rows: pd.DataFrame, periods: pd.PeriodIndex) -> _Series:
        keycols = ["region", "province", "group", "category", "market", "destination"]
        units = rows.groupby(keycols, sort=False)["unit"].nunique()
        if (units > 1).any():
            bad = units[units > 1].index[0]
            raise DataError(
                f"The series {'/'.join(v for v in bad if v)} has more than one "
                "unit; give every series in one unit."
            )
        codes, uniques = pd.factorize(pd.MultiIndex.from_frame(rows[keycols]))
        keys = uniques.to_frame(index=False)
        keys.columns = keycols
        keys["market"] = keys["market"].astype(str)
        first_unit = rows.groupby(codes, sort=True)["unit"].first()
        keys["unit"] = first_unit.to_numpy()
        keys["bottom_id"] = _ids(keys, keys["market"])
        wide = np.full((len(keys), len(periods)), np.nan)
        cols = periods.get_indexer(rows["period"])
        wide[codes, cols] = rows["value"].to_numpy(dtype=float)
        return cls(keys, wide)

    def aggregate(self, structure: Structure) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Values, in-span mask and gap mask of every node of ``structure``.

        Returns arrays of shape (n_nodes, T) in ``structure.node_ids`` order.
        """
        order = pd.Index(self.keys["bottom_id"]).get_indexer(structure.bottom_ids)
        wide = self.wide[order]
        observed = ~np.isnan(wide)
        t = np.arange(wide.shape[1])
        first = np.where(observed.any(axis=1), observed.argmax(axis=1), wide.shape[1])
        last = wide.shape[1] - 1 - observed[:, ::-1].argmax(axis=1)
        b_span = (t >= first[:, None]) & (t <= last[:, None])
        b_gap = b_span & ~observed
        S = structure.S
        values = np.asarray(S @ np.nan_to_num(wide, nan=0.0))
        in_span = np.asarray(S @ b_span.astype(float)) > 0
        gaps = np.asarray(S @ b_gap.astype(float)) > 0
        n_agg = structure.n_aggregates
        values[n_agg:] = wide  # bottoms keep their NaN gaps
        return values, in_span, gaps


def _ids(frame: pd.DataFrame, market: pd.Series) -> pd.Series:
    """node_id per row, vectorised (same format as :func:`forecast.results.node_id`)."""
    parts = [
        frame["region"],
        frame["province"],
        frame["group"],
        frame["category"],
        market,
        frame["destination"],
    ]
    out = parts[0].where(parts[0] != "", "*")
    for part in parts[1:]:
        out = out + "|" + part.where(part != "", "*")
    return out


# --------------------------------------------------------------------------------------
# Levels, nodes and summing matrices


def level_name(geo: str, product: str, market: str, destination: bool = False) -> str:
    """The name of a hierarchy level.

    Parameters
    ----------
    geo
        ``national``, ``region`` or ``province``.
    product
        ``total``, ``group`` or ``category``.
    market
        ``total``, ``domestic`` or ``export``.
    destination
        The level splits exports by destination.

    Returns
    -------
    str
        ``"{geo}/{product}/{market}"``, plus ``"/destination"`` on destination levels.
    """
    return f"{geo}/{product}/{market}" + ("/destination" if destination else "")


def _pairs(
    keys: pd.DataFrame, levels: list[tuple[str, str, str]], *, destination: bool
) -> pd.DataFrame:
    """(node, bottom) membership for every level: node keys, level columns, bottom index."""
    frames = []
    for rank, (geo, product, market) in enumerate(levels):
        sel = keys if market == "total" else keys[keys["market"] == market]
        node = pd.DataFrame(
            {
                "region": sel["region"] if geo != "national" else "",
                "province": sel["province"] if geo == "province" else "",
                "group": sel["group"] if product != "total" else "",
                "category": sel["category"] if product == "category" else "",
                "market": market,
                "destination": sel["destination"] if destination else "",
                "geo_level": geo,
                "product_level": product,
                "level": level_name(geo, product, market, destination),
                "level_rank": rank,
                "unit": sel["unit"],
                "bottom": sel.index.to_numpy(),
            },
            index=sel.index,
        )
        frames.append(node)
    pairs = pd.concat(frames, ignore_index=True)
    pairs["node_id"] = _ids(pairs, pairs["market"])
    return pairs


def _drop_mixed_units(pairs: pd.DataFrame, keys: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    unit_key = pairs["unit"].map({u: key(u) for u in pairs["unit"].unique()})
    n_units = unit_key.groupby(pairs["node_id"]).transform("nunique")
    mixed = n_units > 1
    if mixed.any():
        dropped = pairs.loc[mixed].drop_duplicates("node_id")
        by_level = dropped.groupby("level", sort=False).size()
        listing = ", ".join(f"{lv} ({n})" for lv, n in by_level.items())
        notes.append(
            f"{len(dropped)} aggregate node(s) were not built because their series are in "
            f"different units ({', '.join(sorted(set(keys['unit'])))}): {listing}."
        )
    return pairs.loc[~mixed]


def _sorted(nodes: pd.DataFrame) -> pd.DataFrame:
    """Nodes in a stable reading order: bottoms last, then level, north to south, codes."""
    region_order = {code: i for i, code in enumerate(["", *REGION_NAMES])}
    province_order = {p.name: i for i, p in enumerate(provinces())} | {"": -1}
    category_order = {c.code: i for i, c in enumerate(categories())} | {"": -1}
    market_order = {m: i for i, m in enumerate(MARKETS)}
    sort = pd.DataFrame(
        {
            "b": nodes["_bottom"].to_numpy(),
            "lv": nodes["level_rank"].to_numpy(),
            "r": nodes["region"].map(region_order).fillna(len(region_order)).to_numpy(),
            "p": nodes["province"].map(province_order).fillna(len(province_order)).to_numpy(),
            "pn": nodes["province"].to_numpy(),
            "g": nodes["group"].to_numpy(),
            "c": nodes["category"].map(category_order).fillna(len(category_order)).to_numpy(),
            "cn": nodes["category"].to_numpy(),
            "m": nodes["market"].map(market_order).to_numpy(),
            "d": nodes["destination"].to_numpy(),
        }
    )
    order = sort.sort_values(list(sort.columns), kind="mergesort").index.to_numpy()
    return nodes.iloc[order].reset_index(drop=True)


def _structure(pairs: pd.DataFrame, keys: pd.DataFrame) -> tuple[Structure, pd.DataFrame]:
    """Summing structure and node table from membership pairs.

    A level whose nodes each hold one bottom *and* are that bottom (the finest level of
    each market) is a bottom level; those rows go last, in bottom order.
    """
    nodes = pairs.drop_duplicates("node_id").copy()
    is_bottom = nodes["node_id"].isin(keys["bottom_id"])
    # A node that is a bottom id IS that bottom (same key columns), so it stays bottom.
    nodes["_bottom"] = is_bottom
    nodes = _sorted(nodes)
    node_ids = nodes["node_id"].to_numpy()
    bottom_ids = nodes.loc[nodes["_bottom"], "node_id"].to_numpy()
    col_of_bottom = pd.Index(bottom_ids).get_indexer(keys["bottom_id"])
    rows = pd.Index(node_ids).get_indexer(pairs["node_id"])
    cols_ = col_of_bottom[pairs["bottom"].to_numpy()]
    S = sparse.csr_matrix(
        (np.ones(len(rows)), (rows, cols_)), shape=(len(node_ids), len(bottom_ids))
    )
    S.sum_duplicates()
    tags = {lv: grp["node_id"].to_numpy() for lv, grp in nodes.groupby("level", sort=False)}
    return Structure(node_ids, bottom_ids, S, tags), nodes[list(NODE_COLUMNS)]


# --------------------------------------------------------------------------------------
# Destinations


def _destinations(
    rows: pd.DataFrame,
    periods: pd.PeriodIndex,
    main_state: tuple[Structure, pd.DataFrame, np.ndarray, np.ndarray],
    notes: list[str],
):
    """Destination structure sharing ``national/*/export`` with the main one (or None)."""
    main, main_nodes, main_values, main_in_span = main_state
    rows = rows.assign(region="", province="")
    series = _Series.from_rows(rows, periods)
    keys = series.keys
    top_ids = _ids(keys.assign(destination=""), keys["market"])
    main_pos = main.positions(top_ids)
    main_units = main_nodes.set_index("node_id")["unit"]
    orphan = main_pos < 0
    if orphan.any():
        cats = sorted(set(keys.loc[orphan, "category"]))
        notes.append(
            f"Destination series of {', '.join(cats)} were left out: there is no "
            "export total of that category to split."
        )
    unit_ok = ~orphan
    unit_ok[~orphan] = (
        keys.loc[~orphan, "unit"].map(key).to_numpy()
        == main_units.reindex(top_ids[~orphan]).map(key).to_numpy()
    )
    if (~orphan & ~unit_ok).any():
        cats = sorted(set(keys.loc[~orphan & ~unit_ok, "category"]))
        notes.append(
            f"Destination series of {', '.join(cats)} were left out: their unit "
            "differs from the export total's."
        )
    keep = unit_ok
    if not keep.any():
        return None
    keys, wide = keys[keep].reset_index(drop=True), series.wide[keep]
    keys, wide = _add_remainder(keys, wide, main, main_values, main_in_span, notes)
    series = _Series(keys, wide)

    # Group/total destination nodes only where every category with exports has destinations.
    exporting = main_nodes[(main_nodes["level"] == "national/category/export")]
    covered = set(keys["category"])
    group_tops = set(main_nodes.loc[main_nodes["level"] == "national/group/export", "group"])
    complete_groups = {
        g
        for g, cats in exporting.groupby("group")["category"]
        if set(cats) <= covered and g in group_tops
    }
    incomplete = sorted(set(exporting["group"]) - complete_groups)
    if incomplete:
        notes.append(
            f"No destination split for group(s) {', '.join(incomplete)} (and so "
            "for all products): some of their categories have no destination "
            "rows."
        )
    all_complete = not incomplete and (main_nodes["level"] == "national/total/export").any()
    levels = [("national", p, "export") for p in PRODUCT_LEVELS]
    top = _pairs(keys, levels, destination=False)
    split = _pairs(keys, levels, destination=True)
    split["level_rank"] += len(levels)
    pairs = pd.concat([top, split], ignore_index=True)
    ok = (
        (pairs["product_level"] == "category")
        | ((pairs["product_level"] == "group") & pairs["group"].isin(complete_groups))
        | ((pairs["product_level"] == "total") & all_complete)
    )
    pairs = pairs[ok]
    structure, nodes = _structure(pairs, keys)
    values, in_span, gaps = series.aggregate(structure)
    extra = nodes[~nodes["node_id"].isin(main.node_ids)]
    return structure, extra, values, in_span, gaps


def _add_remainder(
    keys: pd.DataFrame,
    wide: np.ndarray,
    main: Structure,
    main_values: np.ndarray,
    main_in_span: np.ndarray,
    notes: list[str],
):
    """Add a ``ZZ`` remainder where listed destinations fall short of the export total."""
    top_ids = _ids(keys.assign(destination=""), keys["market"])
    codes, tops = pd.factorize(top_ids)
    listed = np.zeros((len(tops), wide.shape[1]))
    np.add.at(listed, codes, np.nan_to_num(wide))
    pos = main.positions(tops)
    total, total_span = main_values[pos], main_in_span[pos]
    gap = total - listed
    rel = np.where(total > 0, gap / np.where(total > 0, total, 1), 0.0)
    short = (rel > _COVERAGE_TOL).any(axis=1)
    over = (rel < -_COVERAGE_TOL).any(axis=1)
    for i in np.flatnonzero(over):
        notes.append(
            f"Destinations of {tops[i]} add up to up to {-rel[i].min():.1%} more "
            "than the provincial export total; their forecasts are scaled to it."
        )
    if not short.any():
        return keys, wide
    first_rows = keys.groupby(codes).head(1).reset_index(drop=True)
    new_keys = first_rows.iloc[np.flatnonzero(short)].assign(destination=OTHER_DESTINATION)
    new_keys["bottom_id"] = _ids(new_keys, new_keys["market"])
    # The remainder exists wherever the export total does. Where the destinations add up
    # to the total but for floating-point round-off, it is exactly 0: a series of 1e-15
    # values has a seasonal-naive scale of 1e-15, and its errors would be scaled to 1e13.
    gap = np.where(np.abs(gap) <= _ROUND_OFF * np.abs(total), 0.0, gap)
    remainder = np.where(total_span[short], np.clip(gap[short], 0.0, None), np.nan)
    notes.append(
        f"Listed destinations cover less than the export total of "
        f"{', '.join(sorted(new_keys['category']))}; the remainder is destination "
        f"{OTHER_DESTINATION} (other destinations)."
    )
    return (pd.concat([keys, new_keys], ignore_index=True), np.vstack([wide, remainder]))


# --------------------------------------------------------------------------------------
# Long outputs


def _history(
    node_ids: np.ndarray, periods: pd.PeriodIndex, values: np.ndarray, in_span: np.ndarray
) -> pd.DataFrame:
    rows, cols = np.nonzero(in_span)
    return pd.DataFrame(
        {
            "node_id": node_ids[rows],
            "period": periods[cols],
            "value": values[rows, cols],
        }
    )[list(HISTORY_COLUMNS)]


def _spans(
    node_ids: np.ndarray, periods: pd.PeriodIndex, in_span: np.ndarray, gaps: np.ndarray
) -> pd.DataFrame:
    any_span = in_span.any(axis=1)
    first = np.where(any_span, in_span.argmax(axis=1), 0)
    last = in_span.shape[1] - 1 - in_span[:, ::-1].argmax(axis=1)
    return pd.DataFrame(
        {
            "node_id": node_ids,
            "first_period": periods[first],
            "last_period": periods[last],
            "n_periods": in_span.sum(axis=1),
            "n_missing": (gaps & in_span).sum(axis=1),
        }
    )


__all__ = [
    "GEO_LEVELS",
    "KEY_COLUMNS",
    "MARKETS",
    "OTHER_DESTINATION",
    "PRODUCT_LEVELS",
    "SEASON",
    "Hierarchy",
    "Structure",
    "build_hierarchy",
    "level_name",
]
