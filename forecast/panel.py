"""A panel of time series: many regular series of one frequency, ready for the engine.

Input is the long layout ``unique_id, ds, y`` (Nixtla's convention). ``ds`` may be dates
(any pandas-parsable format; the frequency is inferred or given) or an integer time index.
Each series is made regular: periods missing inside its span become NaN (the engine
interpolates them and records that it did).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from forecast.errors import ConfigError, DataError, Problem

#: How to write a ``ds`` cell that is not a date.
DATE_FIX = "write dates as YYYY-MM-DD, or the whole column as an integer time index (1, 2, 3...)"
MONTH_FIX = "write the month as yyyymm, month 01 to 12"
#: Problem rows listed in one error; the rest are counted.
SHOWN = 20
#: Years whose dates and periods pandas can hold with room for arithmetic (its timestamps
#: run from 1677-09-22 to 2262-04-11).
FIRST_YEAR, LAST_YEAR = 1678, 2261
#: A four-digit year in a date cell, to tell an out-of-range year from an unreadable date.
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")

#: Season length by pandas period frequency.
SEASON_LENGTHS = {"M": 12, "Q": 4, "Y": 1, "W": 52, "D": 7, "h": 24}

_FREQ_ALIASES = {
    "MS": "M",
    "ME": "M",
    "M": "M",
    "QS": "Q",
    "QE": "Q",
    "Q": "Q",
    "YS": "Y",
    "YE": "Y",
    "Y": "Y",
    "AS": "Y",
    "A": "Y",
    "W": "W",
    "D": "D",
    # pandas spells the hourly period "h" (the upper-case alias is deprecated).
    "H": "h",
    "h": "h",
    "BQS": "Q",
}


def period_freq(freq: str) -> str:
    """Normalise a pandas offset alias (``MS``, ``QS-OCT``, ``W-SUN``...) to a period
    frequency (``M``, ``Q``, ``Y``, ``W``, ``D``, ``h``)."""
    base = str(freq).split("-")[0].upper()
    if base.startswith("BQ"):
        base = "Q"
    out = _FREQ_ALIASES.get(base) or _FREQ_ALIASES.get(base.rstrip("E").rstrip("S"))
    if out is None:
        raise DataError(
            f"Unsupported frequency {freq!r}. Use one of: M (monthly), Q (quarterly), "
            "Y (annual), W (weekly), D (daily), H (hourly)."
        )
    return out


@dataclass(frozen=True)
class Panel:
    """Regular series of one frequency.

    Parameters
    ----------
    ids
        Series identifiers, unique, sorted (the output order).
    values
        One float array per series (NaN marks a missing period inside the span).
    starts
        First period of each series (``pd.Period``), or the first integer index when
        ``freq`` is None.
    freq
        Period frequency (``"M"``, ``"Q"``...) or None for an integer time index.
    season_length
        Periods per seasonal cycle (1 = no seasonality).
    step
        Distance between consecutive labels of an integer index (``0, 10, 20...`` has
        step 10); 1 for dates.
    notes
        What reading the input changed or left out (``ds`` read as ``yyyymm``, empty
        periods at a series' ends), for the run's notes.
    yyyymm
        Whether ``ds`` was read from ``yyyymm`` integers (the output writes them so too).
    """

    ids: tuple[str, ...]
    values: tuple[np.ndarray, ...]
    starts: tuple[pd.Period | int, ...]
    freq: str | None
    season_length: int
    step: int = 1
    notes: tuple[str, ...] = ()
    yyyymm: bool = False

    def __len__(self) -> int:
        return len(self.ids)

    def periods(self, i: int) -> pd.PeriodIndex | None:
        """Calendar of series ``i`` (None for an integer index)."""
        if self.freq is None:
            return None
        return pd.period_range(self.starts[i], periods=len(self.values[i]), freq=self.freq)

    def future(self, i: int, h: int) -> pd.PeriodIndex | np.ndarray:
        """The ``h`` time labels after the end of series ``i``."""
        start, n = self.starts[i], len(self.values[i])
        if self.freq is None:
            return int(start) + self.step * np.arange(n, n + h)  # type: ignore[call-overload]
        return pd.period_range(start + n, periods=h, freq=self.freq)  # type: ignore[operator]

    def check_horizon(self, h: int) -> None:
        """Refuse a horizon whose dates pandas cannot hold (beyond 2262-04).

        Raises
        ------
        ConfigError
            The last forecast period is past the last one a timestamp can stand for;
            the message gives the longest horizon that fits.
        """
        if self.freq is None or not self.values:
            return
        last = max(
            pd.Period(s) + len(v) - 1  # with a frequency, every start is a Period
            for s, v in zip(self.starts, self.values, strict=True)
        )
        # The period holding the last timestamp may end after it: stop one before.
        limit = pd.Period(pd.Timestamp.max, freq=self.freq) - 1
        room = limit.ordinal - last.ordinal
        if h > room:
            raise ConfigError(
                f"--horizon {h} would forecast to {last + h}, past {limit}, the last "
                f"{_FREQ_WORDS.get(self.freq, (self.freq, 'period'))[1]} pandas can date; "
                f"use --horizon {max(room, 0)} or less, or an integer ds (1, 2, 3...)"
            )

    def labels(self, i: int) -> pd.PeriodIndex | np.ndarray:
        """Time labels of the observations of series ``i``."""
        start, n = self.starts[i], len(self.values[i])
        if self.freq is None:
            return int(start) + self.step * np.arange(n)  # type: ignore[call-overload]
        return pd.period_range(start, periods=n, freq=self.freq)

    @classmethod
    def from_long(
        cls,
        df: pd.DataFrame,
        *,
        freq: str | None = None,
        season_length: int | None = None,
        source: str = "input",
        id_col: str = "unique_id",
        time_col: str = "ds",
        value_col: str = "y",
    ) -> Panel:
        """Build a panel from a long frame.

        Parameters
        ----------
        df
            Columns ``id_col``, ``time_col``, ``value_col``; not modified.
        freq
            Pandas frequency of date ``ds`` (``MS``, ``M``, ``Q``...); inferred when None.
            Ignored for an integer ``ds``.
        season_length
            Overrides the default for the frequency (12 monthly, 4 quarterly, 1 annual...).
        source
            Name of the input (file name) used in error messages.

        Raises
        ------
        DataError
            Missing columns, unparsable dates or values, duplicate periods, a series with
            no finite value, or a frequency that cannot be inferred.
        """
        missing = [c for c in (id_col, time_col, value_col) if c not in df.columns]
        if missing:
            raise DataError(
                Problem(
                    source,
                    None,
                    None,
                    None,
                    f"missing column(s) {', '.join(missing)}; "
                    f"found {', '.join(map(str, df.columns))}",
                    f"provide a long table with columns {id_col},{time_col},{value_col}",
                )
            )
        if df.empty:
            raise DataError(
                Problem.whole_file(
                    source, "the table has no rows", "provide at least one observation per series"
                )
            )
        raw_ids = df[id_col].astype(str)
        # "s0 " beside "s0" (a spreadsheet's padding) is the same series, not a second one.
        ids = raw_ids.str.strip()
        padded = (ids != raw_ids).to_numpy()
        # File line of each row: its index when that is unique and integer (a frame read
        # by forecast.data.long_table: file line - 2), else its position; + 2 for the header and
        # 1-based lines.
        by_index = pd.api.types.is_integer_dtype(df.index) and df.index.is_unique
        lines = (df.index.to_numpy(dtype=np.int64) if by_index else np.arange(len(df))) + 2
        y = pd.to_numeric(df[value_col], errors="coerce")
        bad_y = y.isna() & df[value_col].notna() & (df[value_col].astype(str).str.strip() != "")
        infinite = np.isinf(y.to_numpy(dtype=float))
        problems = [
            Problem(
                source,
                int(lines[r]),
                value_col,
                str(df[value_col].iloc[r]),
                "not a finite number" if infinite[r] else "not a number",
                "write plain numbers with a dot decimal (1234.5) or leave the cell empty",
            )
            for r in np.flatnonzero(bad_y.to_numpy() | infinite)[:SHOWN]
        ]
        bad_rows = np.flatnonzero(bad_y.to_numpy() | infinite)
        shown_y, hidden_y = bad_rows[:SHOWN], bad_rows[SHOWN:]
        t_raw = df[time_col]
        notes: list[str] = []
        blank = np.flatnonzero((ids == "").to_numpy())
        if len(blank):
            raise _capped(
                [
                    Problem(
                        source,
                        int(lines[r]),
                        id_col,
                        str(raw_ids.iloc[r]),
                        f"{id_col} is only spaces",
                        "fill in the series id or delete the row",
                    )
                    for r in blank[:SHOWN]
                ],
                ids,
                blank[:SHOWN],
                blank[SHOWN:],
            )
        if padded.any():
            notes.append(
                f"{source}: {int(padded.sum())} {id_col} cell(s) had spaces at the start or "
                f"end, removed ({_first_few(raw_ids[padded])}); the forecasts use the trimmed ids"
            )
        integer_index = (
            pd.api.types.is_integer_dtype(t_raw)
            or _integral_floats(t_raw)
            or _integer_text(t_raw.astype(str))
        )
        months = _month_codes(t_raw, ids, freq) if integer_index else None
        as_months = months is not None
        if months is not None:
            # 202401 is how many exports write a month (forecast ingest reads it so too).
            integer_index = False
            notes.append(f"{source}: ds read as yyyymm months (e.g. {t_raw.iloc[0]})")
        elif integer_index and _yyyymm_shaped(t_raw).all() and not freq:
            notes.append(
                f"{source}: ds could be yyyymm months but never crosses a year, so it is read "
                "as an integer index; pass --freq MS to read it as months"
            )
        if integer_index:
            t = pd.to_numeric(t_raw, errors="coerce").astype("Int64")
            pfreq = None
            if freq:
                notes.append(f"{source}: ds is an integer index; the frequency {freq!r} is unused")
        else:
            ts = months if months is not None else parse_dates(t_raw, ids, freq)
            # Dates pandas reads but whose periods' arithmetic overflows (1677-12, 2262-01)
            # count as unreadable too, with the out-of-range message below.
            edge = (ts < pd.Timestamp(f"{FIRST_YEAR}-01-01")) | (
                ts >= pd.Timestamp(f"{LAST_YEAR + 1}-01-01")
            )
            ts = ts.mask(edge)
            unread = np.flatnonzero(ts.isna().to_numpy())
            room = SHOWN - len(problems)  # one list of SHOWN rows for both columns
            hidden_t = unread[room:]
            for r in unread[:room]:
                cell = str(t_raw.iloc[r])
                year = _YEAR.search(cell)
                if as_months:
                    what, fix = "not a yyyymm month like the other cells", MONTH_FIX
                elif year and not FIRST_YEAR <= int(year.group(1)) <= LAST_YEAR:
                    what = "a date outside 1678-2261, the years pandas can date"
                    fix = "check the year (a slip such as 2922 for 2022)"
                else:
                    what, fix = "not a date", DATE_FIX
                problems.append(Problem(source, int(lines[r]), time_col, cell, what, fix))
            if problems:
                raise _capped(
                    problems,
                    ids,
                    np.concatenate([shown_y, unread[:room]]),
                    np.concatenate([hidden_y, hidden_t]),
                )
            pfreq = period_freq(freq) if freq else _infer_freq(ts, ids, source)
            if pfreq == "D":
                _refuse_business_days(ts, ids, source)
            if pfreq == "W" and freq:
                _check_week_anchor(ts, lines, freq, source, time_col)
            t = ts.dt.to_period(pfreq)
        if problems:
            raise _capped(problems, ids, shown_y, hidden_y)
        ordinal = (
            t.to_numpy(dtype="int64", na_value=-1) if pfreq is None else pd.PeriodIndex(t).asi8
        )
        frame = pd.DataFrame({"id": ids.to_numpy(), "t": ordinal, "y": y.to_numpy()})
        dup = frame.duplicated(["id", "t"], keep=False)
        if dup.any():
            found = _duplicate_problems(
                frame, dup, t_raw, lines, pfreq, source, time_col, bool(freq)
            )
            # rows whose (id, period) group is spelt more than one way ("s0", "s0 ")
            spellings = (
                pd.DataFrame({"id": frame["id"], "t": frame["t"], "raw": raw_ids.to_numpy()})
                .groupby(["id", "t"])["raw"]
                .transform("nunique")
            )
            dup_rows = np.flatnonzero(dup.to_numpy())
            merged = dup.to_numpy() & (spellings > 1).to_numpy()
            if merged.any():
                named = _first_few(raw_ids[merged & padded])
                found.insert(
                    0,
                    Problem(
                        source,
                        None,
                        id_col,
                        None,
                        f"ids that differ only by spaces at their ends ({named}) are read as "
                        "one series, and then repeat periods",
                        "remove the spaces if they are one series, else give them distinct ids",
                    ),
                )
            raise _capped(
                found,
                ids,
                dup_rows[:SHOWN],
                dup_rows[SHOWN:],
            )
        frame = frame.sort_values(["id", "t"], kind="stable")
        grouped = {k: g for k, g in frame.groupby("id", sort=False)}
        step = 1
        if pfreq is None:
            diffs = np.concatenate(
                [np.diff(g["t"].to_numpy(dtype=np.int64)) for g in grouped.values()]
            )
            step = int(np.gcd.reduce(diffs)) if len(diffs) else 1
            if step > 1:
                notes.append(f"{source}: ds moves in steps of {step}; forecasts continue so")
        m = season_length if season_length is not None else SEASON_LENGTHS.get(pfreq or "", 1)
        if m < 1:
            raise DataError(f"season_length must be >= 1; got {m}.")
        out_ids, out_vals, out_starts = [], [], []
        spacing: list[Problem] = []
        extremes: list[str] = []
        # Sorted ids: the same rows in any order give the same panel, so the same forecasts
        # (the global models learn from the series in panel order).
        for uid in sorted(grouped):
            g = grouped[uid]
            pos = g["t"].to_numpy(dtype=np.int64)
            offs = (pos - pos[0]) // step
            start: pd.Period | int = (
                int(pos[0]) if pfreq is None else pd.Period(ordinal=int(pos[0]), freq=pfreq)
            )
            vals = np.full(int(offs[-1]) + 1, np.nan)
            vals[offs] = g["y"].to_numpy(dtype=float)
            if not np.isfinite(vals).any():
                raise DataError(
                    Problem(
                        source,
                        None,
                        value_col,
                        None,
                        f"series {uid!r} has no numeric value",
                        "remove the series or fill in its values",
                    )
                )
            filled = np.flatnonzero(np.isfinite(vals))
            spacing.extend(_spacing_problems(uid, filled, pfreq, freq, source))
            for r, ratio in _extreme_rows(g["y"].to_numpy(dtype=float), offs % m):
                extremes.append(
                    f"{source}: line {int(lines[g.index[r]])}, series {uid!r} "
                    f"({t_raw.iloc[g.index[r]]}): {value_col} = {g['y'].iat[r]:.10g} is "
                    f"{ratio:,.0f}x the series' median (and the same season of other "
                    "cycles); if it is a slip (a unit or a decimal separator), correct it: one "
                    "such value widens the pooled intervals of every series and can decide "
                    "the model choice"
                )
            first, last = filled[[0, -1]]
            if first or last < len(vals) - 1:
                notes.append(_trim_note(uid, first, len(vals) - 1 - last))
            vals = vals[first : last + 1]  # trim leading/trailing empty periods
            out_ids.append(uid)
            out_vals.append(vals)
            out_starts.append(
                start + int(first) if pfreq else int(start) + step * int(first)  # type: ignore[operator]
            )
        if spacing:
            raise DataError(spacing[:20], truncated=len(spacing) > 20)
        notes.extend(extremes[:MAX_EXTREME_NOTES])
        if len(extremes) > MAX_EXTREME_NOTES:
            notes.append(
                f"{source}: {len(extremes) - MAX_EXTREME_NOTES} more extreme value(s) not listed"
            )
        notes.extend(_early_end_notes(out_ids, out_vals, out_starts, pfreq, step))
        return cls(
            tuple(out_ids),
            tuple(out_vals),
            tuple(out_starts),
            pfreq,
            int(m),
            step,
            tuple(notes),
            as_months,
        )


#: Names and units of the period frequencies, for messages.
_FREQ_WORDS = {
    "M": ("monthly", "month"),
    "Q": ("quarterly", "quarter"),
    "Y": ("annual", "year"),
    "W": ("weekly", "week"),
    "D": ("daily", "day"),
    "h": ("hourly", "hour"),
}


def _yyyymm_shaped(t: pd.Series) -> pd.Series:
    """Which cells of an integer ``ds`` column could be a ``yyyymm`` month."""
    values = pd.to_numeric(t, errors="coerce").to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        year, month = values // 100, values % 100
        ok = (values == np.round(values)) & (year >= 1900) & (year <= 2100)
        ok &= (month >= 1) & (month <= 12)
    return pd.Series(ok, index=t.index)


def _month_codes(t: pd.Series, ids: pd.Series, freq: str | None) -> pd.Series | None:
    """Timestamps of an integer ``ds`` column that holds ``yyyymm`` months (NaT where a
    cell is no month: a typo such as 202113 among them), or None when it is an index.

    Months when at least 90% of the cells could be months and either ``--freq`` says
    monthly or quarterly, or the months reading is the more regular one (it crosses a
    year: 202412 then 202501 is one month, not 89 steps). Within one year both readings
    are consecutive; the integer one is kept, as year-week codes (202401..202410) need.
    """
    shaped = _yyyymm_shaped(t)
    if not len(t) or shaped.mean() < 0.9:
        return None
    values = pd.to_numeric(t, errors="coerce")
    text = values.where(shaped).astype("Int64").astype(str)
    ts = pd.Series(pd.to_datetime(text, format="%Y%m", errors="coerce"), index=t.index)
    if freq:
        try:
            told = period_freq(freq)
        except DataError:
            return None  # reported by the caller's own reading of --freq
        return ts if told in ("M", "Q") else None
    ok = shaped.to_numpy()
    frame = pd.DataFrame({"id": ids.to_numpy()[ok], "t": values.to_numpy()[ok]})
    span = frame.groupby("id")["t"].agg(lambda v: v.max() - v.min() + 1).sum()
    as_index = frame.drop_duplicates().shape[0] / span if span else 0.0
    return ts if _regularity(ts[ok], ids[ok], None) > as_index + 1e-9 else None


def _refuse_business_days(ts: pd.Series, ids: pd.Series, source: str) -> None:
    """Daily series dated Monday to Friday only would get their weekends invented."""
    frame = pd.DataFrame({"id": ids.to_numpy(), "ts": ts.to_numpy()}).sort_values(["id", "ts"])
    day = frame["ts"].dt.dayofweek
    weekend = (day >= 5).groupby(frame["id"], sort=False).any()
    fri_to_mon = (
        ((frame.groupby("id")["ts"].diff().dt.days == 3) & (day == 0))
        .groupby(frame["id"], sort=False)
        .any()
    )
    business = sorted(fri_to_mon.index[fri_to_mon & ~weekend.reindex(fri_to_mon.index)])
    if business:
        raise DataError(
            [
                Problem(
                    source,
                    None,
                    "ds",
                    None,
                    f"series {uid!r} is dated on business days (Monday to Friday only); the "
                    "engine forecasts calendar days, so its weekends would be invented by "
                    "interpolation and forecast",
                    "sum the days into weeks or months first (then --freq W or MS), or, if "
                    "nothing is sold at weekends, add the weekend days with y = 0",
                )
                for uid in business[:20]
            ],
            truncated=len(business) > 20,
        )


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _check_week_anchor(
    ts: pd.Series, lines: np.ndarray, freq: str, source: str, time_col: str
) -> None:
    """``--freq W-SUN`` says each week is labelled by its Sunday: dates on another weekday
    contradict it. Weeks are Monday to Sunday; other anchors are refused for dates on
    several weekdays, whose grouping into weeks would then be wrong."""
    if "-" not in freq:
        return  # plain W: whatever weekday the data are on
    anchor = int(to_offset(freq).weekday)
    days = ts.dt.dayofweek.to_numpy()
    if (days == anchor).all():
        return
    if len(set(days.tolist())) == 1:
        r = 0
        why = (
            f"the dates fall on a {_WEEKDAYS[int(days[0])]}, but --freq {freq} labels each "
            f"week by its {_WEEKDAYS[anchor]}"
        )
        fix = f"pass --freq W-{_WEEKDAYS[int(days[0])][:3].upper()} (or W), or leave --freq out"
    elif anchor != 6:
        r = int(np.flatnonzero(days != anchor)[0])
        why = (
            "the dates fall on several weekdays; grouping them into weeks ending on "
            f"{_WEEKDAYS[anchor]} (--freq {freq}) is not supported"
        )
        fix = "pass --freq W (weeks Monday to Sunday), or sum the days into weeks first"
    else:
        return  # several weekdays, weeks ending on Sunday: what the engine does
    raise DataError(Problem(source, int(lines[r]), time_col, str(ts.iloc[r].date()), why, fix))


def _duplicate_problems(
    frame: pd.DataFrame,
    dup: pd.Series,
    t_raw: pd.Series,
    lines: np.ndarray,
    pfreq: str | None,
    source: str,
    time_col: str,
    freq_given: bool,
) -> list[Problem]:
    """Rows whose series has their period more than once: repeated rows, or dates finer
    than the frequency (several days of one month with ``--freq MS``, or weekly series in
    a file whose other series, being monthly, set the inferred frequency)."""
    rows = np.flatnonzero(dup.to_numpy())
    raw = pd.DataFrame({"id": frame["id"], "raw": t_raw.astype(str).to_numpy()})
    finer = pfreq is not None and not raw.iloc[rows].duplicated(keep=False).any()
    if finer:
        name = _FREQ_WORDS.get(pfreq or "", (pfreq, pfreq))[0]
        message = f"series {{}} has more than one date in this {name} period"
        if freq_given:
            fix = (
                "the dates are finer than the frequency: omit --freq (or give the dates' "
                "own), or sum the values per period first"
            )
        else:
            fix = (
                f"the dates are finer than the file's frequency ({name}, the most common "
                "step between dates): one file holds one frequency, so put series of another "
                "frequency in a file of their own, pass --freq with the dates' own, or sum "
                "the values per period first"
            )
    else:
        message = "series {} has this period more than once"
        fix = "keep one row per series and period (aggregate duplicates first)"
    return [
        Problem(
            source,
            int(lines[r]),
            time_col,
            str(t_raw.iloc[r]),
            message.format(repr(frame["id"].iloc[r])),
            fix,
        )
        for r in rows[:SHOWN]
    ]


def _first_few(values: pd.Series, k: int = 3) -> str:
    """The first ``k`` distinct values, quoted, with ``...`` when there are more."""
    uniq = list(dict.fromkeys(values.tolist()))
    return ", ".join(map(repr, uniq[:k])) + (" ..." if len(uniq) > k else "")


def _capped(
    problems: list[Problem], ids: pd.Series, shown: np.ndarray, hidden: np.ndarray
) -> DataError:
    """The error listing ``problems`` (of the rows ``shown``), counting the rows ``hidden``
    beyond them and naming the series of those rows that the list does not show."""
    seen = set(ids.iloc[shown].tolist())
    series = tuple(uid for uid in dict.fromkeys(ids.iloc[hidden].tolist()) if uid not in seen)
    return DataError(problems, hidden=len(hidden), hidden_series=series)


#: Largest share of a series' span that may be missing and filled by interpolation; beyond
#: it the series is refused, as most likely not of the file's frequency (or with its zero
#: periods left out), since the models would mostly fit the straight lines drawn in.
MAX_INVENTED = 0.4


def _spacing_problems(
    uid: str, filled: np.ndarray, pfreq: str | None, freq: str | None, source: str
) -> list[Problem]:
    """A series whose values do not fit the panel's frequency: a value only every k-th
    period (quarterly data in a monthly file, or a slow mover whose zero months were not
    exported), or more than :data:`MAX_INVENTED` of its span without a value (``--freq D``
    on monthly dates; a product sold only half the year). ``filled``: the positions of
    its values on the panel's grid."""
    if len(filled) < 2:
        return []
    name, unit = _FREQ_WORDS.get(pfreq or "", ("integer-indexed", "step"))
    told = f"--freq {freq}" if freq else f"the file's frequency ({name})"
    fix = (
        "one file holds one frequency: put series of another frequency in a file of their "
        "own, or pass --freq with the dates' frequency; if nothing was sold in the periods "
        "without a value, add them with y = 0"
    )
    every = int(np.gcd.reduce(np.diff(filled)))
    span = int(filled[-1] - filled[0]) + 1
    if every > 1 and len(filled) >= 3:
        message = f"series {uid!r} has a value only every {every} {unit}s at {told}"
    elif span - len(filled) > MAX_INVENTED * span:
        message = (
            f"series {uid!r} has values for only {len(filled)} of the {span} {unit}s of its "
            f"span at {told}; interpolation would invent the rest"
        )
    else:
        return []
    return [Problem(source, None, "ds", None, message, fix)]


def _early_end_notes(
    ids: list[str], values: list[np.ndarray], starts: list, pfreq: str | None, step: int
) -> list[str]:
    """Notes for series that end before the panel's last period: their forecasts start
    earlier than the others' (counted, then the first few named)."""
    ends = [
        (s + len(v) - 1) if pfreq else int(s) + step * (len(v) - 1)
        for s, v in zip(starts, values, strict=True)
    ]
    if not ends:
        return []
    last = max(ends)
    early = [(uid, e) for uid, e in zip(ids, ends, strict=True) if e != last]
    if not early:
        return []
    shown = ", ".join(f"{uid} ({e})" for uid, e in early[:5])
    more = f" and {len(early) - 5} more" if len(early) > 5 else ""
    return [
        f"{len(early)} series end before the last period ({last}), so their forecasts "
        f"start earlier: {shown}{more}"
    ]


#: A value this many times a series' median absolute value, and as many
#: times the value of its season position in some other cycle (when there is one), is
#: noted as a probable slip (a unit or a decimal separator: 1,000x). The second test spares
#: seasonal peaks (a Tết month 25x the others recurs every year); the ratio spares one-off
#: peaks of a few 10x.
EXTREME_RATIO = 100.0
#: Fewest values a series needs for the check (its percentile must mean something).
EXTREME_MIN_VALUES = 10
#: Extreme values listed in the notes; the rest are counted.
MAX_EXTREME_NOTES = 10


def _extreme_rows(y: np.ndarray, position: np.ndarray) -> list[tuple[int, float]]:
    """Positions of probable slips in ``y`` (see :data:`EXTREME_RATIO`), with their
    ratio to the series' median absolute value. ``position`` is each value's season
    position. None for a series of mostly zeros, whose median is 0: one large order is what
    intermittent demand looks like.
    """
    a = np.abs(y)
    finite = np.isfinite(a)
    if finite.sum() < EXTREME_MIN_VALUES:
        return []
    # The median: slips, even several, do not move it (a 90th percentile moved with them).
    typical = float(np.median(a[finite]))
    if typical <= 0:
        return []
    out = []
    for r in np.flatnonzero(finite & (a >= EXTREME_RATIO * typical)):
        same = finite & (position == position[r])
        same[r] = False
        # against the smallest: a slip made twice in one month does not hide the other
        if not same.any() or a[r] >= EXTREME_RATIO * a[same].min():
            out.append((int(r), float(a[r] / typical)))
    return out


def _trim_note(uid: str, head: int, tail: int) -> str:
    """Note for empty periods at a series' ends, which are left out of its span."""
    parts = []
    if head:
        parts.append(f"its first {head} period(s)")
    if tail:
        parts.append(f"its last {tail} period(s)")
    where = " and ".join(parts)
    after = "; its forecasts start after its last value" if tail else ""
    return f"{uid}: {where} have no value and were left out{after}"


#: Two numbers and a year separated by ``/``, ``.`` or ``-`` (``01/02/2024``, ``1.2.24``),
#: optionally followed by a time of day.
_NUMERIC_DATE = re.compile(
    r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?\s*$"
)


def parse_dates(
    t_raw: pd.Series, ids: pd.Series | None = None, freq: str | None = None
) -> pd.Series:
    """Timestamps of the ``ds`` cells (NaT where a cell is not a date), time-zone naive.

    ``NN/NN/YYYY`` dates are day first (``01/02/2024`` is 1 February: the Vietnamese
    convention, and the one ``forecast ingest`` uses) when some first field is above 12,
    month first when some second field is. When no field says (every day is 12 or less:
    monthly data stamped on the 1st, say), both readings are tried and the one whose
    series are more regular wins: more of their span covered at the frequency inferred
    for that reading (or ``freq``), so US monthly files stay monthly; a tie is day first.
    Times of day and 2-digit years are kept. Time zones are dropped, keeping the local
    time written in the file.
    """
    if pd.api.types.is_datetime64_any_dtype(t_raw):
        return _naive(pd.Series(t_raw))
    text = t_raw.astype(str)
    filled = t_raw.notna() & (text.str.strip() != "")
    parts = text.str.extract(_NUMERIC_DATE)
    if not len(text) or not filled.any() or parts[0].notna()[filled].sum() < filled.sum():
        return _to_datetime(t_raw, dayfirst=False)
    first = pd.to_numeric(parts[0], errors="coerce")
    second = pd.to_numeric(parts[1], errors="coerce")
    if (first > 12).any() or ids is None:
        return _to_datetime(text, dayfirst=True)
    if (second > 12).any():
        return _to_datetime(text, dayfirst=False)
    dmy, mdy = _to_datetime(text, dayfirst=True), _to_datetime(text, dayfirst=False)
    return mdy if _regularity(mdy, ids, freq) > _regularity(dmy, ids, freq) else dmy


def _to_datetime(values: pd.Series, *, dayfirst: bool) -> pd.Series:
    with warnings.catch_warnings():
        # Mixed formats are parsed one by one; bad cells are reported by the caller.
        warnings.filterwarnings("ignore", "Could not infer format", UserWarning)
        warnings.filterwarnings("ignore", "Parsing dates in", UserWarning)
        # Mixed UTC offsets: each cell keeps its own local time (see _naive).
        warnings.filterwarnings("ignore", ".*mixed time zones", FutureWarning)
        out = _naive(pd.to_datetime(values, errors="coerce", dayfirst=dayfirst))
        # pandas infers one format from the first cell: with "2019" first, every ISO date
        # after it would fail (and be reported as the bad cells). ISO 8601 cells of any
        # precision (2019, 2019-06, 2019-06-01) are read as such.
        text = values.astype(str).str.strip()
        retry = out.isna() & values.notna() & (text != "")
        if retry.any():
            iso = _naive(pd.to_datetime(text[retry], errors="coerce", format="ISO8601"))
            out = out.astype("datetime64[ns]")
            out[retry] = iso.astype("datetime64[ns]")
        return out


def _naive(ts: pd.Series) -> pd.Series:
    """Drop a time zone, keeping the local time (periods are calendar periods)."""
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        return ts.dt.tz_localize(None)
    if ts.dtype == object:  # mixed offsets: parse each to its own local time
        return pd.Series(
            [pd.NaT if pd.isna(v) else pd.Timestamp(v).tz_localize(None) for v in ts],
            index=ts.index,
            dtype="datetime64[ns]",
        )
    return ts


def _regularity(ts: pd.Series, ids: pd.Series, freq: str | None) -> float:
    """Share of the series' spans covered by their dates at ``freq`` (else the frequency
    inferred from them); 0 when no frequency fits."""
    ok = ts.notna().to_numpy()
    if not ok.any():
        return 0.0
    try:
        pfreq = period_freq(freq) if freq else _infer_freq(ts[ok], ids[ok], "input")
    except DataError:
        return 0.0
    per = pd.PeriodIndex(ts[ok].dt.to_period(pfreq)).asi8
    frame = pd.DataFrame({"id": ids[ok].to_numpy(), "t": per})
    span = frame.groupby("id")["t"].agg(lambda t: t.max() - t.min() + 1).sum()
    return float(frame.drop_duplicates().shape[0] / span) if span else 0.0


def _integer_text(text: pd.Series) -> bool:
    """Whether every cell is an integer (``12``, ``1000000``, ``-3``, ``7.0``), except a
    column of ``yyyymmdd`` dates (``20240131``), which the date reader takes."""
    if not text.str.fullmatch(r"-?\d+(?:\.0+)?").all():
        return False
    eight = text.str.fullmatch(r"\d{8}")
    if not eight.all():
        return True
    return bool(pd.to_datetime(text, format="%Y%m%d", errors="coerce").isna().any())


def _integral_floats(t: pd.Series) -> bool:
    """Whole numbers stored as floats (an integer index after a NaN passed through)."""
    if not pd.api.types.is_float_dtype(t):
        return False
    arr = t.to_numpy(dtype=float)
    return bool(len(arr)) and bool(np.isfinite(arr).all() and (arr == np.round(arr)).all())


def _infer_freq(ts: pd.Series, ids: pd.Series, source: str) -> str:
    """Infer the frequency from the most common step between consecutive dates of all
    series (one series with a sparse start must not decide for the whole file)."""
    frame = pd.DataFrame({"id": ids.to_numpy(), "ts": ts.to_numpy()})
    # Duplicated dates (reported later, with their rows) must not read as a 0-day step.
    frame = frame.drop_duplicates().sort_values(["id", "ts"])
    hours = (frame.groupby("id")["ts"].diff().dt.total_seconds() / 3600).dropna()
    # Steps over a gap (2 months...) match no band.
    bands = (
        (0.9, 1.1, "h"),
        (12, 36, "D"),
        (6 * 24, 8 * 24, "W"),
        (27 * 24, 32 * 24, "M"),
        (88 * 24, 93 * 24, "Q"),
        (364 * 24, 367 * 24, "Y"),
    )
    counts = {f: int(hours.between(lo, hi).sum()) for lo, hi, f in bands}
    best = max(counts, key=lambda f: counts[f])
    if counts[best]:
        return best
    raise DataError(
        Problem(
            source,
            None,
            "ds",
            None,
            "cannot infer the frequency of the dates",
            "pass --freq: MS (monthly), QS (quarterly), YS (annual), W (weekly), D (daily) "
            "or H (hourly); finer data (every 30 minutes...) is not supported: sum it into "
            "hours first",
        )
    )
