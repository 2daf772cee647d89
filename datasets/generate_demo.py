"""Deterministic generator of the synthetic CNNT demonstration data set.

The output is a long-layout sales table (``period, province, category, market, destination,
value, unit``) for the 34 provincial units of 2025, CNNT product categories, domestic and
export markets, plus export destinations at national level. National export totals of
rattan/bamboo/sedge/carpet (``XK_RBSC``), ceramics (``XK_CERAMIC``) and wood (``XK_WOOD``)
follow the published annual figures in ``forecast/data/ref/published_figures.csv``; every
provincial and destination split is SYNTHETIC. See ``datasets/README.md`` (the data card).

Usage::

    python datasets/generate_demo.py                       # default: datasets/demo_sales.csv
    python datasets/generate_demo.py --seed 7 --out /tmp/x.csv --years 5
    python datasets/generate_demo.py --bottom-series 20000 --out /tmp/scale.csv

or, from Python, ``generate(seed=...) -> pandas.DataFrame``.

Randomness: every draw comes from ``numpy.random.default_rng`` seeded from the explicit
``seed`` and a stream key per category, so category *k* is identical whatever the number of
categories generated, and no global RNG state is read or written.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from forecast.data.calendar import tet_date, tet_features
from forecast.data.geography import Province, provinces
from forecast.data.reference import load_reference

# ---------------------------------------------------------------------------------------
# Constants of the data set
# ---------------------------------------------------------------------------------------

#: Seed of the committed ``demo_sales.csv`` (the service's default root seed).
DEFAULT_SEED = 20250701
DEFAULT_START = "2015-01"
DEFAULT_END = "2025-12"
DEFAULT_OUT = Path(__file__).resolve().with_name("demo_sales.csv")
#: Source label under which ``forecast demo`` ingests this file (``--source``).
SOURCE_LABEL = "synthetic-demo"
#: Province value of the national-level destination rows.
NATIONAL = "Toàn quốc"
UNIT = "thousand USD"
#: Fixed conversion of domestic (VND) sales to USD, all years: no exchange-rate artefacts.
VND_PER_USD = 24_000
COLUMNS = ["period", "province", "category", "market", "destination", "value", "unit"]
MARKETS = ("domestic", "export")

#: Destinations with published or assumed shares, in order of priority.
DESTINATIONS = ("US", "JP", "CN", "KR", "DE", "GB", "NL", "FR", "AU", "CA", "TW", "ES", "IN", "IT")
#: Further destinations (real ISO2 codes, all in ref/countries.csv) that split what the
#: first 14 leave, so that every destination row is a real country and the parts still add
#: up to the total. The first 10 are in the default data set; the rest serve scale tests.
EXTRA_DESTINATIONS = (
    "TH", "MY", "PH", "ID", "SG", "BE", "PL", "RU", "AE", "PK",
    "SE", "DK", "SA", "MX", "BR", "CH", "NZ", "HK", "TR", "IL",
    "CL", "ZA", "EG", "NO", "FI", "AT", "CZ", "PT", "IE", "GR",
)  # fmt: skip
#: Destinations in the default data set.
DEFAULT_DESTINATIONS = 24

#: Published monthly index of Vietnam's total exports (month / annual monthly mean), by the
#: month Tết falls in; ``published_figures.csv`` rows seasonal_index_total_exports_tet_in_*.
INDEX_TET_IN_JAN = np.array(
    [0.850, 0.765, 0.982, 0.992, 0.984, 0.997, 1.023, 1.095, 1.046, 1.120, 1.079, 1.067]
)
INDEX_TET_IN_FEB = np.array(
    [0.993, 0.708, 1.049, 0.961, 0.976, 0.999, 1.022, 1.110, 1.017, 1.056, 1.049, 1.060]
)

# Multiplicative event profiles, (year, month) -> factor. Each year is renormalised to its
# annual anchor afterwards, so these shape the year rather than change its total (the
# published annual figures already contain the events).
EVENTS: dict[str, dict[tuple[int, int], float]] = {
    # COVID-19: China supply disruption in Feb-Mar 2020, deep Q2 2020 dip, then the H2
    # 2020 - 2021 boom in US home-goods demand.
    "covid_export": {
        (2020, 2): 0.93, (2020, 3): 0.95, (2020, 4): 0.66, (2020, 5): 0.68, (2020, 6): 0.85,
        (2020, 8): 1.05, (2020, 9): 1.08, (2020, 10): 1.10, (2020, 11): 1.10, (2020, 12): 1.12,
        (2021, 3): 1.05, (2021, 4): 1.06, (2021, 5): 1.06, (2021, 6): 1.04,
    },
    # Southern lockdown (Jul-Oct 2021) hit the Bình Dương / Đồng Nai / HCMC factories.
    "lockdown_2021": {(2021, 7): 0.92, (2021, 8): 0.78, (2021, 9): 0.78, (2021, 10): 0.90},
    # Home-goods demand slump: H2 2022 and H1 2023 (wood, RBSC and ceramics fell in 2023).
    "home_goods_slump": {
        (2022, 9): 0.92, (2022, 10): 0.88, (2022, 11): 0.85, (2022, 12): 0.85,
        (2023, 1): 0.86, (2023, 2): 0.86, (2023, 3): 0.88, (2023, 4): 0.90, (2023, 5): 0.92,
    },
    # China closed border crossings for fresh produce in Feb 2020.
    "china_border_2020": {(2020, 2): 0.70, (2020, 3): 0.85},
    # Domestic: nationwide social distancing 1-22 April 2020, the 2021 Delta wave.
    "covid_domestic": {
        (2020, 2): 0.95, (2020, 3): 0.90, (2020, 4): 0.62, (2020, 5): 0.85, (2020, 6): 0.95,
        (2021, 7): 0.88, (2021, 8): 0.70, (2021, 9): 0.72, (2021, 10): 0.88,
    },
}  # fmt: skip

#: Mean monthly value (thousand USD) under which a minor producer's series may be
#: intermittent (half of them are): many zero months, lumpy orders.
SMALL_SERIES = 300.0

#: Domestic demand relative to trend per year (COVID years), all categories.
DOMESTIC_YEAR_EFFECT = {2020: 0.92, 2021: 0.88, 2022: 0.99, 2023: 0.97}

Shares = Mapping[str, float | Mapping[int, float]]


@dataclass(frozen=True)
class CategorySpec:
    """Everything the generator assumes about one product category.

    Parameters
    ----------
    code
        Category code in ``categories.csv`` (synthetic scale categories: ``<code>.<n>``).
    export_anchor
        National export value per year, million USD; years in between are interpolated
        log-linearly and years outside extrapolated (growth clipped to -5%..+10% a year).
    domestic_2020
        National domestic sales in 2020, billion VND (before the COVID year effect).
    domestic_growth
        Nominal domestic trend growth per year.
    hubs
        Province (2025 name) -> base share of the national total (sharpened for exports,
        flattened for domestic sales). Other producing provinces share the remainder.
        Assumptions from well-known craft clusters, not statistics.
    ubiquity
        Probability that a non-hub province produces (domestic) and exports the category.
    tet_pre
        Domestic sales lift in the 21 days before Tết (gifts, Tết goods).
    crop
        Export crop cycle: amplitude and peak month of a yearly harmonic.
    q4
        Extra export lift in October-December (furniture demand peaks in Q4).
    events
        Names of export ``EVENTS`` profiles applied.
    shares
        Destination -> percent of the category's exports; a number, or annual
        ``{year: percent}`` knots (see :func:`_destination_shares`). Unlisted
        destinations of the first 14 get 1%; the extra destinations split the rest.
    """

    code: str
    export_anchor: Mapping[int, float]
    domestic_2020: float
    domestic_growth: float
    hubs: Mapping[str, float]
    ubiquity: tuple[float, float]
    tet_pre: float
    crop: tuple[float, int] = (0.0, 1)
    q4: float = 0.0
    events: tuple[str, ...] = ("covid_export", "lockdown_2021")
    shares: Shares | None = None
    synthetic: bool = False


_HOME = ("covid_export", "lockdown_2021", "home_goods_slump")


def _published_annual(series: str) -> dict[int, float]:
    """Full-year values of a ``published_figures.csv`` series, in million USD."""
    ref = load_reference("published_figures")
    rows = ref[(ref["series"] == series) & ref["period"].str.fullmatch(r"\d{4}")]
    scale = {"million USD": 1.0, "billion USD": 1000.0}
    return {int(r.period): float(r.value) * scale[r.unit] for r in rows.itertuples()}


# Estimates for years without a published full-year figure, million USD. "annualised"
# divides a published year-to-date value by the share of the year those months carry in
# the published seasonal index (Tết-in-January or Tết-in-February variant).
ESTIMATES: dict[str, dict[int, tuple[float, str]]] = {
    "XK_RBSC": {
        2017: (266.7, "annualised Jan-Nov 2017 (242.96)"),
        2018: (340.5, "annualised Jan-Oct 2018 (278.39) and Jan-Nov 2018 (313) estimates"),
        2022: (824.0, "annualised Jan-Nov 2022 (751.2)"),
        2025: (847.4, "2024 x 1.054 (Jan-Aug 2025 growth +5.4%)"),
    },
    "XK_CERAMIC": {
        2015: (463.7, "assumption: 2016 / 1.03 (no 2015 figure)"),
        2016: (477.6, "annualised Jan-Apr 2016 (147.7)"),
        2017: (463.2, "annualised Jan-Sep 2017 (337.1)"),
        2018: (512.4, "annualised Jan-Jul 2018 (286.45)"),
        2019: (545.4, "interpolated (log-linear 2018-2020)"),
        2023: (603.2, "annualised Jan-Sep 2023 (439)"),
        2024: (669.0, "annualised Jan-Jun 2024 (317)"),
        2025: (702.5, "assumption: 2024 x 1.05"),
    },
    "XK_WOOD": {
        2016: (7346.0, "interpolated (log-linear 2015-2017)"),
        2018: (9143.0, "interpolated (log-linear 2017-2019)"),
        2022: (15900.0, "judgement between annualised Q1 2022 (17.2 bn) and Nov 2022 run rate"),
        2023: (13040.0, "annualised Jan-Apr 2023 (3.9 bn)"),
    },
}

_PUBLISHED_SERIES = {
    "XK_RBSC": "export_rbsc_total",
    "XK_CERAMIC": "export_ceramics_total",
    "XK_WOOD": "export_wood_products_total",
}


def _calibrated_anchor(code: str) -> dict[int, float]:
    anchor = {year: value for year, (value, _basis) in ESTIMATES[code].items()}
    anchor.update(_published_annual(_PUBLISHED_SERIES[code]))  # published figures win
    return dict(sorted(anchor.items()))


@cache
def _base_categories() -> tuple[CategorySpec, ...]:
    """The 15 real CNNT categories of the default data set, all four groups covered early.

    Magnitudes other than the three calibrated export series are assumptions (see the
    data card); for industrial-dominated customs groups (steel, machinery, plastics,
    glass, bags) they are a small assumed rural-workshop share, not the customs total.
    """
    c = CategorySpec
    return (
        c("XK_RBSC", _calibrated_anchor("XK_RBSC"), 1500, 0.04,
          {"Ninh Bình": 0.17, "Hà Nội": 0.13, "Thanh Hóa": 0.12, "Hưng Yên": 0.08,
           "Hồ Chí Minh": 0.08, "Đồng Tháp": 0.06, "Vĩnh Long": 0.06, "Hải Phòng": 0.04,
           "An Giang": 0.04, "Cần Thơ": 0.03, "Phú Thọ": 0.03, "Nghệ An": 0.03},
          (0.75, 0.45), 0.2, q4=0.05, events=_HOME,
          shares={"US": {2015: 22, 2016: 23.5, 2017: 21, 2018: 24, 2019: 28.3, 2020: 37,
                         2021: 40, 2022: 38.5, 2023: 37.4, 2024: 38.5, 2025: 46.5},
                  "JP": {2015: 16, 2016: 16.3, 2017: 18.5, 2018: 16.5, 2019: 14.9,
                         2020: 10.3, 2023: 10, 2025: 8.5},
                  # EU members: EU 35.5% (2017), 31.4% (2019), 28.6% (2020); the five
                  # named ones carry most of it (BE and PL are among the extras).
                  "DE": {2015: 12.5, 2016: 12.2, 2017: 10.6, 2018: 10.5, 2019: 10.5,
                         2020: 5.85, 2025: 4.5},
                  "NL": {2015: 5, 2016: 4.8, 2017: 6.3, 2018: 7, 2019: 7, 2020: 4.5, 2025: 3.5},
                  "FR": {2015: 5, 2019: 5, 2020: 3.52, 2025: 3},
                  "ES": {2015: 4.5, 2019: 4.5, 2020: 3.5, 2025: 3},
                  "IT": {2015: 4, 2019: 3.5, 2020: 2.5, 2025: 2},
                  "GB": {2016: 4.5, 2020: 4.64, 2025: 4},
                  "AU": {2016: 3.5, 2020: 4.2, 2025: 3.5}, "KR": {2016: 3.3, 2020: 3.68, 2025: 3},
                  "IN": {2016: 1, 2020: 2.5, 2023: 5.25, 2025: 4.5},
                  "CN": {2016: 2, 2020: 2.5, 2025: 3.5}, "CA": 2.5, "TW": 1.5}),
        c("XK_COFFEE", {2015: 2670, 2016: 3340, 2017: 3240, 2018: 3540, 2019: 2860, 2020: 2740,
                        2021: 3070, 2022: 4060, 2023: 4240, 2024: 5580, 2025: 7000},
          10000, 0.08,
          {"Đắk Lắk": 0.34, "Lâm Đồng": 0.28, "Gia Lai": 0.17, "Quảng Ngãi": 0.06,
           "Hồ Chí Minh": 0.06, "Sơn La": 0.03, "Đồng Nai": 0.02},
          (0.35, 0.15), 0.3, crop=(0.18, 3),
          shares={"DE": 13, "IT": 9, "US": 8, "JP": 6, "ES": 6, "CN": 3, "KR": 3, "NL": 2,
                  "FR": 2, "GB": 2, "AU": 1.5, "CA": 1, "TW": 1, "IN": 2}),
        c("XK_MACHINERY", {2015: 50, 2020: 75, 2025: 120}, 7000, 0.06,
          {"Hồ Chí Minh": 0.18, "An Giang": 0.14, "Cần Thơ": 0.10, "Ninh Bình": 0.10,
           "Đồng Tháp": 0.08, "Hà Nội": 0.08, "Hải Phòng": 0.05, "Tây Ninh": 0.05},
          (0.6, 0.3), 0.1,
          shares={"US": 22, "JP": 12, "CN": 10, "KR": 8, "DE": 4, "IN": 3, "AU": 2, "TW": 3,
                  "NL": 2, "GB": 2, "FR": 2, "CA": 2, "ES": 1, "IT": 1}),
        c("XK_PLASTIC_PROD", {2015: 80, 2020: 115, 2025: 170}, 5000, 0.05,
          {"Hồ Chí Minh": 0.25, "Hưng Yên": 0.18, "Hà Nội": 0.12, "Bắc Ninh": 0.08,
           "Đồng Nai": 0.08, "Hải Phòng": 0.05},
          (0.6, 0.35), 0.15,
          shares={"JP": 25, "US": 20, "KR": 5, "DE": 4, "NL": 4, "GB": 3, "FR": 3, "AU": 3,
                  "CA": 2, "CN": 3, "TW": 2, "IN": 1, "ES": 1, "IT": 1}),
        c("XK_CERAMIC", _calibrated_anchor("XK_CERAMIC"), 5000, 0.05,
          {"Hồ Chí Minh": 0.22, "Hà Nội": 0.18, "Đồng Nai": 0.14, "Vĩnh Long": 0.12,
           "Hải Phòng": 0.08, "Bắc Ninh": 0.06, "Quảng Ninh": 0.04, "Ninh Bình": 0.03,
           "Đà Nẵng": 0.02, "Khánh Hòa": 0.02},
          (0.5, 0.35), 0.3, q4=0.04, events=_HOME,
          shares={"US": {2015: 19, 2017: 20, 2020: 20.9, 2022: 23, 2024: 25.5, 2025: 26},
                  "JP": {2015: 16, 2017: 16, 2020: 15.55, 2025: 14},
                  "TW": {2015: 11, 2020: 10, 2025: 9}, "KR": 5, "CN": 4, "DE": 4, "NL": 3,
                  "FR": 2.5, "GB": 2.5, "ES": 1.5, "IT": 1.5, "AU": 3, "CA": 2, "IN": 0.8}),
        c("XK_WOOD", _calibrated_anchor("XK_WOOD"), 30000, 0.07,
          {"Hồ Chí Minh": 0.38, "Đồng Nai": 0.18, "Gia Lai": 0.10, "Bắc Ninh": 0.06,
           "Hà Nội": 0.04, "Tây Ninh": 0.03, "Nghệ An": 0.03, "Đắk Lắk": 0.02,
           "Quảng Ngãi": 0.02, "Thanh Hóa": 0.02},
          (0.9, 0.6), 0.35, q4=0.10, events=_HOME,
          shares={"US": {2015: 40, 2017: 42, 2019: 51, 2020: 57, 2021: 59, 2022: 55,
                         2023: 53, 2024: 54, 2025: 54.7},
                  "JP": {2015: 14, 2019: 12, 2021: 9, 2025: 9.5},
                  "CN": {2015: 14, 2019: 11, 2021: 10, 2025: 10},
                  "KR": {2015: 8, 2021: 6, 2025: 6}, "DE": 1, "GB": {2015: 3, 2025: 1.7},
                  "NL": 0.8, "FR": 1.2, "AU": 1.3, "CA": {2015: 1.6, 2025: 2.4}, "TW": 0.8,
                  "ES": 0.4, "IN": {2015: 0.5, 2025: 1}, "IT": 0.3}),
        c("XK_CASHEW", {2015: 2400, 2016: 2840, 2017: 3520, 2018: 3370, 2019: 3290, 2020: 3210,
                        2021: 3640, 2022: 3080, 2023: 3630, 2024: 3970, 2025: 4300},
          3500, 0.06,
          {"Đồng Nai": 0.45, "Hồ Chí Minh": 0.12, "Tây Ninh": 0.08, "Lâm Đồng": 0.06,
           "Gia Lai": 0.05, "Đắk Lắk": 0.04, "Khánh Hòa": 0.02},
          (0.4, 0.25), 0.6, crop=(0.10, 7),
          shares={"US": {2015: 38, 2025: 28}, "CN": {2015: 13, 2025: 11}, "NL": 11, "DE": 4,
                  "GB": 3.5, "AU": 3.5, "CA": 3.5, "FR": 1.5, "ES": 1, "IT": 1.5, "JP": 1.5,
                  "KR": 1, "TW": 1, "IN": 1.5}),
        c("XK_TEA", {2015: 215, 2018: 220, 2020: 217, 2022: 237, 2025: 250}, 7000, 0.05,
          {"Thái Nguyên": 0.25, "Lâm Đồng": 0.18, "Phú Thọ": 0.14, "Tuyên Quang": 0.10,
           "Lào Cai": 0.07, "Sơn La": 0.06, "Lai Châu": 0.05, "Nghệ An": 0.03},
          (0.4, 0.25), 0.5, crop=(0.15, 9),
          shares={"TW": 13, "CN": 10, "US": 5, "IN": 3, "DE": 2, "JP": 1.5, "KR": 1, "GB": 1,
                  "NL": 1, "FR": 0.5, "AU": 0.7, "CA": 0.5, "ES": 0.3, "IT": 0.3}),
        c("XK_BAGS_HATS", {2015: 120, 2020: 165, 2025: 240}, 2500, 0.05,
          {"Huế": 0.12, "Hà Nội": 0.14, "Hồ Chí Minh": 0.14, "Đồng Nai": 0.08,
           "Bắc Ninh": 0.06, "Thanh Hóa": 0.06, "Ninh Bình": 0.05},
          (0.6, 0.35), 0.3, q4=0.03, events=_HOME,
          shares={"US": 40, "JP": 12, "DE": 6, "NL": 5, "GB": 4, "CN": 4, "KR": 4, "CA": 4,
                  "FR": 4, "AU": 3, "ES": 2, "IT": 2, "TW": 1, "IN": 0.5}),
        c("XK_STEEL_PROD", {2015: 60, 2020: 85, 2025: 130}, 6000, 0.05,
          {"Bắc Ninh": 0.25, "Ninh Bình": 0.20, "Hà Nội": 0.12, "Hồ Chí Minh": 0.10,
           "Hải Phòng": 0.06, "Đồng Nai": 0.05},
          (0.6, 0.3), 0.2,
          shares={"US": 30, "JP": 10, "KR": 6, "DE": 4, "GB": 3, "AU": 3, "CA": 3, "NL": 2,
                  "FR": 2, "TW": 2, "IN": 3, "CN": 3, "ES": 1.5, "IT": 1.5}),
        c("NNNT5", {2015: 30, 2020: 50, 2025: 90}, 9000, 0.08,
          {"Đồng Tháp": 0.15, "Hà Nội": 0.12, "Vĩnh Long": 0.10, "Lâm Đồng": 0.10,
           "Hưng Yên": 0.06, "Ninh Bình": 0.05, "Gia Lai": 0.03},
          (0.9, 0.3), 1.5, crop=(0.10, 12),
          shares={"CN": 18, "JP": 15, "KR": 10, "NL": 8, "TW": 8, "US": 6, "DE": 3, "AU": 3,
                  "FR": 2, "GB": 1.5, "CA": 1, "IN": 1, "ES": 1, "IT": 1}),
        c("XK_FRUITVEG", {2015: 1840, 2016: 2460, 2017: 3500, 2018: 3810, 2019: 3750,
                          2020: 3270, 2021: 3520, 2022: 3300, 2023: 5690, 2024: 7160,
                          2025: 8000},
          8000, 0.08,
          {"Đồng Tháp": 0.15, "Đắk Lắk": 0.08, "Lâm Đồng": 0.08, "Vĩnh Long": 0.08,
           "Tây Ninh": 0.07, "Đồng Nai": 0.06, "Cần Thơ": 0.05, "Bắc Ninh": 0.05,
           "Hưng Yên": 0.04, "Sơn La": 0.04, "An Giang": 0.04},
          (0.95, 0.6), 0.4, crop=(0.20, 7),
          events=("covid_export", "lockdown_2021", "china_border_2020"),
          shares={"CN": {2015: 65, 2016: 70, 2018: 68, 2020: 55, 2021: 53, 2022: 50,
                         2023: 65, 2024: 66, 2025: 64},
                  "US": 6, "KR": 4.5, "JP": 4, "NL": 2.5, "TW": 2, "AU": 2, "CA": 1, "DE": 1,
                  "FR": 1, "GB": 0.5, "ES": 0.3, "IT": 0.3, "IN": 0.3}),
        c("XK_PEPPER", {2015: 1260, 2016: 1430, 2017: 1120, 2018: 760, 2019: 710, 2020: 660,
                        2021: 940, 2022: 980, 2023: 910, 2024: 1320, 2025: 1500},
          600, 0.03,
          {"Đồng Nai": 0.25, "Lâm Đồng": 0.20, "Đắk Lắk": 0.18, "Gia Lai": 0.14,
           "Hồ Chí Minh": 0.08, "An Giang": 0.04, "Quảng Trị": 0.03},
          (0.35, 0.25), 0.3, crop=(0.20, 5),
          shares={"US": 20, "CN": {2015: 8, 2018: 15, 2020: 8, 2023: 12, 2025: 8}, "IN": 6,
                  "DE": 5, "NL": 4, "KR": 3, "JP": 2.5, "GB": 2, "FR": 2, "ES": 1.5, "IT": 1,
                  "AU": 1.5, "CA": 1.5, "TW": 1}),
        c("XK_CONFECT", {2015: 470, 2020: 650, 2025: 900}, 18000, 0.07,
          {"Hồ Chí Minh": 0.18, "Hà Nội": 0.15, "Vĩnh Long": 0.06, "Bắc Ninh": 0.05,
           "Cần Thơ": 0.04, "Hải Phòng": 0.04, "Hưng Yên": 0.03, "Hà Tĩnh": 0.02,
           "Huế": 0.02},
          (0.95, 0.5), 1.0, crop=(0.08, 12),
          shares={"CN": 12, "US": 12, "KR": 7, "JP": 6, "TW": 5, "AU": 5, "CA": 3, "DE": 2,
                  "GB": 2, "FR": 2, "NL": 1.5, "IN": 1, "ES": 1, "IT": 1}),
        c("XK_GLASS", {2015: 40, 2020: 55, 2025: 80}, 800, 0.05,
          {"Hồ Chí Minh": 0.30, "Hà Nội": 0.20, "Bắc Ninh": 0.12, "Hải Phòng": 0.08},
          (0.3, 0.2), 0.2, q4=0.04, events=_HOME,
          shares={"US": 15, "JP": 15, "KR": 8, "TW": 6, "CN": 5, "DE": 4, "AU": 4, "GB": 3,
                  "FR": 3, "NL": 2, "CA": 2, "ES": 1.5, "IT": 1.5, "IN": 1}),
    )  # fmt: skip


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------


def _rng(seed: int, *keys: int) -> np.random.Generator:
    """An independent generator per (seed, stream keys); never the global state."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=keys))


def _annual_path(anchor: Mapping[int, float], years: np.ndarray) -> np.ndarray:
    """Log-linear interpolation of ``anchor`` at ``years``, extrapolated with clipped growth."""
    ky = np.array(sorted(anchor), dtype=float)
    kv = np.log([anchor[int(y)] for y in ky])
    out = np.interp(years, ky, kv)
    if len(ky) >= 2:
        g_lo = np.clip((kv[1] - kv[0]) / (ky[1] - ky[0]), math.log(0.95), math.log(1.10))
        g_hi = np.clip((kv[-1] - kv[-2]) / (ky[-1] - ky[-2]), math.log(0.95), math.log(1.10))
        out = np.where(years < ky[0], kv[0] + g_lo * (years - ky[0]), out)
        out = np.where(years > ky[-1], kv[-1] + g_hi * (years - ky[-1]), out)
    return np.exp(out)


def _event_factor(names: Sequence[str], year: np.ndarray, month: np.ndarray) -> np.ndarray:
    factor = np.ones(len(year))
    for name in names:
        for (y, m), f in EVENTS[name].items():
            factor[(year == y) & (month == m)] *= f
    return factor


def _per_year_mean(values: np.ndarray) -> np.ndarray:
    """Mean over each block of 12 months along the last axis, repeated back to months."""
    shape = values.shape
    blocks = values.reshape(*shape[:-1], -1, 12)
    return np.repeat(blocks.mean(axis=-1), 12, axis=-1).reshape(shape)


def _largest_remainder(total: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Split integer ``total`` (T,) by ``shares`` (K, T) into integers that sum exactly.

    Each part gets the floor of its quota; the units left over go to the parts with the
    largest fractional remainders (Hamilton's method), one each.
    """
    quota = shares * total[None, :]
    base = np.floor(quota).astype(np.int64)
    left = total - base.sum(axis=0)
    order = np.argsort(-(quota - base), axis=0, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(shares.shape[0])[:, None], axis=0)
    return base + (rank < left[None, :])


@dataclass(frozen=True)
class _Grid:
    """Calendar of whole years covering the requested range; output is a slice of it."""

    periods: pd.PeriodIndex  # requested months
    year: np.ndarray  # per whole-year month
    month: np.ndarray
    years: np.ndarray  # distinct years
    offset: int  # index of the first requested month in the whole-year grid

    @property
    def size(self) -> int:
        return len(self.year)

    def index_of(self, year: int, month: int) -> int:
        return (year - int(self.years[0])) * 12 + month - 1


def _grid(start: str, end: str) -> _Grid:
    periods = pd.period_range(pd.Period(start, "M"), pd.Period(end, "M"), freq="M")
    if len(periods) == 0:
        raise ValueError(f"Empty period range {start} .. {end}.")
    years = np.arange(periods[0].year, periods[-1].year + 1)
    return _Grid(
        periods=periods,
        year=np.repeat(years, 12),
        month=np.tile(np.arange(1, 13), len(years)),
        years=years,
        offset=periods[0].month - 1,
    )


# ---------------------------------------------------------------------------------------
# Plan: which series exist (cheap; no months materialised)
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _CategoryPlan:
    spec: CategorySpec
    weight: np.ndarray  # base weight per province (P,)
    present: np.ndarray  # (2, P) bool: domestic, export
    start: np.ndarray  # (2, P) first whole-grid month index of each series
    rng: np.random.Generator  # continues the category's stream for the simulation


def categories(n: int | None = None, seed: int = DEFAULT_SEED) -> list[CategorySpec]:
    """Category specifications: the 15 real ones, then synthetic ``<code>.<k>`` siblings.

    Parameters
    ----------
    n
        Number of categories; None = the 15 real ones. Beyond 15, category ``i`` is a
        synthetic sibling ``<base code>.<i // 15>`` of real category ``i % 15``: same CNNT
        group, hubs and seasonality, smaller assumed magnitude (factor ~ lognormal around
        0.15), perturbed destination shares. Synthetic codes are NOT in categories.csv.
    seed
        Seed of the synthetic magnitudes.
    """
    n = len(_base_categories()) if n is None else n
    if n < 1:
        raise ValueError("At least one category is needed.")
    return [_category(i, seed) for i in range(n)]


def _category(i: int, seed: int) -> CategorySpec:
    """Category ``i``: real for i < 15, else a synthetic sibling of real category i % 15."""
    base = _base_categories()
    if i < len(base):
        return base[i]
    b = base[i % len(base)]
    r = _rng(seed, 2, i)
    f = float(np.exp(r.normal(math.log(0.15), 0.7)))
    hubs = {k: v * float(np.exp(r.normal(0, 0.4))) for k, v in b.hubs.items()}
    total = sum(hubs.values())
    if total > 0.9:  # keep room for non-hub producers
        hubs = {k: v * 0.9 / total for k, v in hubs.items()}
    return replace(
        b,
        code=f"{b.code}.{i // len(base)}",
        export_anchor={y: v * f for y, v in b.export_anchor.items()},
        domestic_2020=b.domestic_2020 * f,
        hubs=hubs,
        synthetic=True,
    )


def _province_order(units: Sequence[Province], specs: Sequence[CategorySpec]) -> list[int]:
    """Province indices by importance (sum of hub weights), for ``--provinces N < 34``."""
    score = [sum(s.hubs.get(u.name, 0.0) for s in specs[:15]) for u in units]
    return sorted(range(len(units)), key=lambda i: (-score[i], i))


def _short_history(seed: int, units: Sequence[Province], grid: _Grid) -> np.ndarray:
    """Start month (whole-grid index) per province; three minor provinces start 2019-2021.

    They stand for provinces whose Department of Industry and Trade began reporting later.
    """
    start = np.zeros(len(units), dtype=np.int64)
    hub_names = {h for s in _base_categories() for h, w in s.hubs.items() if w >= 0.03}
    small = [i for i, u in enumerate(units) if u.name not in hub_names]
    r = _rng(seed, 1)
    if len(small) >= 3:
        chosen = r.choice(small, size=3, replace=False)
        # months 2019-01 .. 2021-12, relative to the grid (may fall outside it: then no-op)
        offsets = r.integers(0, 36, size=3)
        first = grid.index_of(2019, 1)
        start[chosen] = np.clip(first + offsets, 0, None)
    return start


def _plan_category(
    seed: int, k: int, spec: CategorySpec, units: Sequence[Province], grid: _Grid,
    province_start: np.ndarray,
) -> _CategoryPlan:  # fmt: skip
    r = _rng(seed, 3, k)
    n_p = len(units)
    hub = np.array([spec.hubs.get(u.name, 0.0) for u in units])
    is_hub = hub > 0
    n_other = max(int((~is_hub).sum()), 1)
    rest = max(0.05, 1.0 - hub.sum())
    # Non-hub producers share the remainder unevenly (lognormal), a long tail of small ones.
    weight = np.where(is_hub, hub, rest / n_other * np.exp(r.normal(0, 0.8, n_p)))
    u_dom, u_exp = spec.ubiquity
    dom = is_hub | (r.random(n_p) < u_dom)
    # Export only where there is production; hubs always export.
    exp = dom & (is_hub | (r.random(n_p) < u_exp / max(u_dom, 1e-9)))
    if not exp.any():
        exp[int(np.argmax(weight))] = dom[int(np.argmax(weight))] = True
    start = np.tile(province_start, (2, 1))
    # A few non-hub series start late (a new product line or first exports), 2019-2021.
    late = (r.random((2, n_p)) < 0.04) & ~is_hub[None, :]
    late_at = grid.index_of(2019, 1) + r.integers(0, 36, size=(2, n_p))
    start = np.where(late, np.maximum(start, late_at), start)
    return _CategoryPlan(spec, weight, np.stack([dom, exp]), start, r)


def _series_count(plans: Sequence[_CategoryPlan], grid: _Grid) -> int:
    last = grid.offset + len(grid.periods) - 1
    return int(sum((p.present & (p.start <= last)).sum() for p in plans))


def count_bottom_series(
    seed: int = DEFAULT_SEED,
    *,
    start: str = DEFAULT_START,
    end: str = DEFAULT_END,
    n_provinces: int = 34,
    n_categories: int | None = None,
    bottom_series: int | None = None,
) -> tuple[int, int]:
    """Number of bottom series (province x category x market) without generating months.

    Returns
    -------
    (series, categories)
        The bottom-series count and the number of categories used (resolved from
        ``bottom_series`` when given).
    """
    grid = _grid(start, end)
    _units, plans = _plan(seed, grid, n_provinces, n_categories, bottom_series)
    return _series_count(plans, grid), len(plans)


def _plan(
    seed: int, grid: _Grid, n_provinces: int, n_categories: int | None,
    bottom_series: int | None,
) -> tuple[list[Province], list[_CategoryPlan]]:  # fmt: skip
    all_units = provinces()
    if not 1 <= n_provinces <= len(all_units):
        raise ValueError(f"--provinces must be between 1 and {len(all_units)}.")
    order = _province_order(all_units, _base_categories())
    keep = sorted(order[:n_provinces])  # geography order in the output
    units = [all_units[i] for i in keep]
    pstart = _short_history(seed, all_units, grid)[keep]
    if bottom_series is None:
        specs = categories(n_categories, seed)
        plans = [_plan_category(seed, k, s, units, grid, pstart) for k, s in enumerate(specs)]
        return units, plans
    # Add categories until the target count is reached; category k's plan does not depend
    # on how many categories there are, so this is the same as asking for that many.
    plans, k, last = [], 0, grid.offset + len(grid.periods) - 1
    total = 0
    while total < bottom_series:
        p = _plan_category(seed, k, _category(k, seed), units, grid, pstart)
        total += int((p.present & (p.start <= last)).sum())
        plans.append(p)
        k += 1
    return units, plans


# ---------------------------------------------------------------------------------------
# Simulation
# ---------------------------------------------------------------------------------------


def _export_profile(spec: CategorySpec, grid: _Grid, r: np.random.Generator) -> np.ndarray:
    """Monthly national export profile with mean 1 in each year."""
    tet_in_jan = np.array([tet_date(int(y)).month == 1 for y in grid.years])
    idx = np.where(
        np.repeat(tet_in_jan, 12),
        INDEX_TET_IN_JAN[grid.month - 1],
        INDEX_TET_IN_FEB[grid.month - 1],
    )
    amp, peak = spec.crop
    prof = idx * (1 + amp * np.cos(2 * np.pi * (grid.month - peak) / 12))
    # Q4 lift paid for by Q2-Q3 (same year total): furniture orders peak before Christmas.
    prof *= 1 + spec.q4 * (grid.month >= 10) - spec.q4 / 2 * ((grid.month >= 4) & (grid.month <= 9))
    prof *= _event_factor(spec.events, grid.year, grid.month)
    prof *= np.exp(r.normal(0, 0.03, grid.size))  # common national shock
    return prof / _per_year_mean(prof)


def _domestic_profile(
    spec: CategorySpec, grid: _Grid, tet: pd.DataFrame, r: np.random.Generator
) -> np.ndarray:
    """Monthly national domestic profile with mean 1 in each year.

    Tết works through day counts: sales lift in the 21 days before Tết (``tet_pre``), the
    holiday days close workshops and shops, and the two weeks after restart slowly.
    """
    prof = (
        1
        + spec.tet_pre * tet["pre_tet_days"].to_numpy() / 21
        - 0.45 * tet["tet_days"].to_numpy() / 7
        - 0.20 * tet["post_tet_days"].to_numpy() / 14
    )
    prof = np.clip(prof, 0.15, None) * (1 + 0.05 * np.cos(2 * np.pi * (grid.month - 11) / 12))
    prof *= _event_factor(("covid_domestic",), grid.year, grid.month)
    prof *= np.exp(r.normal(0, 0.02, grid.size))
    return prof / _per_year_mean(prof)


def _domestic_annual(spec: CategorySpec, years: np.ndarray) -> np.ndarray:
    """Annual domestic sales, thousand USD (billion VND converted at ``VND_PER_USD``)."""
    trend = spec.domestic_2020 * (1 + spec.domestic_growth) ** (years - 2020)
    effect = np.array([DOMESTIC_YEAR_EFFECT.get(int(y), 1.0) for y in years])
    return trend * effect * 1e9 / VND_PER_USD / 1e3


def _provincial(
    national: np.ndarray, weight: np.ndarray, start: np.ndarray, grid: _Grid,
    r: np.random.Generator, *, power: float, drift_sd: float,
) -> np.ndarray:  # fmt: skip
    """Split a national monthly path over provinces; returns values in tenths (int64).

    Shares drift slowly (yearly log random walk, interpolated monthly); each series gets
    AR(1) multiplicative noise that is larger for small series, occasional level shifts,
    and small non-hub series may be intermittent (many zero months). Every year is then
    rescaled so the provincial sum equals the national path's annual total exactly.
    """
    n_s, n_t, n_y = len(weight), grid.size, len(grid.years)
    active = np.arange(n_t)[None, :] >= start[:, None]
    # Slowly drifting shares
    walk = np.cumsum(r.normal(0, drift_sd, (n_s, n_y + 1)), axis=1)
    pos = np.arange(n_t) / 12.0
    i0 = pos.astype(int)
    frac = pos - i0
    drift = walk[:, i0] * (1 - frac) + walk[:, i0 + 1] * frac
    w = np.exp(power * np.log(weight)[:, None] + drift) * active
    total_w = w.sum(axis=0)
    share = np.divide(w, total_w, out=np.zeros_like(w), where=total_w > 0)
    # Noise: AR(1) in logs with marginal sd sigma; small series are noisier.
    mean_share = weight**power / (weight**power).sum()
    sigma = 0.05 + 0.035 * np.clip(-np.log10(mean_share), 0, 4)
    phi = 0.45
    eps = r.normal(0, 1, (n_s, n_t)) * (sigma * math.sqrt(1 - phi**2))[:, None]
    noise = np.exp(lfilter([1.0], [1.0, -phi], eps, axis=1))
    # Occasional structural break: a level shift in 2017-2024 (new buyer, lost contract).
    shift_at = grid.index_of(2017, 1) + r.integers(0, 96, n_s)
    shift = np.where(r.random(n_s) < 0.05, np.clip(np.exp(r.normal(0, 0.35, n_s)), 0.5, 1.8), 1)
    level = np.where(np.arange(n_t)[None, :] >= shift_at[:, None], shift[:, None], 1.0)
    # Intermittent small series: months with sales only with probability p (lumpy orders).
    level_mean = national.mean() * mean_share  # thousand USD a month
    small = (mean_share < 0.01) & (level_mean < SMALL_SERIES) & (r.random(n_s) < 0.5)
    p_on = r.uniform(0.15, 0.6, n_s)
    on = r.random((n_s, n_t)) < p_on[:, None]
    lumpy = np.where(small[:, None], on * np.exp(r.normal(0, 0.5, (n_s, n_t))) / p_on[:, None], 1)
    x = national[None, :] * share * noise * level * lumpy
    # Rescale each year to the national annual total (calibration), then round to tenths.
    got = x.reshape(n_s, n_y, 12).sum(axis=(0, 2))
    want = national.reshape(n_y, 12).sum(axis=1)
    factor = np.divide(want, got, out=np.ones_like(want), where=got > 0)
    x *= np.repeat(factor, 12)[None, :]
    return np.rint(x * 10).astype(np.int64)


def _destination_shares(
    spec: CategorySpec, dests: Sequence[str], grid: _Grid, r: np.random.Generator
) -> np.ndarray:
    """Monthly destination shares (len(dests), T); every column sums to 1.

    The first 14 destinations take their table shares (scaled down if they exceed 98%);
    the extra destinations split what is left (Dirichlet weights per category). Without
    extras the shares are renormalised, so the listed destinations carry everything.
    Share knots are annual values (published shares are annual or year-to-date): years
    between knots are interpolated, each year is a step, and a centred 7-month moving
    average smooths the steps, so annual means stay close to the knots.
    """
    table = spec.shares or {}
    named = np.empty((len(dests), grid.size))
    for j, d in enumerate(dests):
        knots = table.get(d, 1.0 if d in DESTINATIONS else 0.0)
        if not isinstance(knots, Mapping):
            knots = {int(grid.years[0]): float(knots)}
        ky = sorted(knots)
        annual = np.interp(grid.years, ky, [knots[y] for y in ky])
        steps = np.pad(np.repeat(annual, 12), 3, mode="edge")
        named[j] = np.convolve(steps, np.ones(7) / 7, mode="valid")
    named /= 100.0
    if spec.synthetic:
        named *= np.exp(r.normal(0, 0.3, len(dests)))[:, None]
    named *= np.minimum(1.0, 0.98 / np.maximum(named.sum(axis=0), 1e-12))[None, :]
    extra = [j for j, d in enumerate(dests) if d not in DESTINATIONS]
    if extra:
        left = 1 - named.sum(axis=0)
        named[extra] = r.dirichlet(np.full(len(extra), 2.0))[:, None] * left[None, :]
    shares = named
    # Month-to-month noise in each destination's share, then renormalise.
    shares *= np.exp(r.normal(0, 0.10, shares.shape))
    return shares / shares.sum(axis=0)


def generate(
    seed: int = DEFAULT_SEED,
    *,
    start: str = DEFAULT_START,
    end: str = DEFAULT_END,
    n_provinces: int = 34,
    n_categories: int | None = None,
    n_destinations: int = DEFAULT_DESTINATIONS,
    bottom_series: int | None = None,
) -> pd.DataFrame:
    """Generate the synthetic demonstration sales table.

    Parameters
    ----------
    seed
        Seed of every random draw (``numpy.random.default_rng`` streams).
    start, end
        First and last month, ``YYYY-MM``.
    n_provinces
        Number of 2025 provincial units (1..34); the most important craft hubs first.
    n_categories
        Number of categories; None = the 15 real categories. More -> synthetic siblings
        ``<code>.<k>`` (see :func:`categories`).
    n_destinations
        Export destinations (0..44; 0 = no destination rows): the 14 with published or
        assumed shares first, then extra real countries that split the remainder.
    bottom_series
        If given, use as many categories as needed for at least this many bottom series
        (province x category x market); overrides ``n_categories``.

    Returns
    -------
    pandas.DataFrame
        Columns ``period, province, category, market, destination, value, unit``; text
        columns are categoricals (``period`` ordered; ``destination`` is "" except on
        national rows) to keep large frames small, values
        are float, rounded to 0.1, in thousand USD. Bottom rows come first, ordered by
        province (geography order), category, market and period; then the national
        destination rows.
    """
    grid = _grid(start, end)
    all_dests = DESTINATIONS + EXTRA_DESTINATIONS
    if not 0 <= n_destinations <= len(all_dests):
        raise ValueError(f"--destinations must be between 0 and {len(all_dests)}.")
    dests = list(all_dests[:n_destinations])
    units, plans = _plan(seed, grid, n_provinces, n_categories, bottom_series)
    tet = tet_features(pd.period_range(f"{grid.years[0]}-01", f"{grid.years[-1]}-12", freq="M"))

    blocks: list[np.ndarray] = []  # tenths, one (S, T) block per category x market
    meta: list[tuple[np.ndarray, int, int, np.ndarray]] = []  # province idx, cat, market, start
    dest_blocks: list[tuple[int, np.ndarray]] = []
    for k, plan in enumerate(plans):
        spec, r = plan.spec, plan.rng
        annual_exp = _annual_path(spec.export_anchor, grid.years.astype(float)) * 1e3
        paths = (
            np.repeat(_domestic_annual(spec, grid.years) / 12, 12)
            * _domestic_profile(spec, grid, tet, r),
            np.repeat(annual_exp / 12, 12) * _export_profile(spec, grid, r),
        )
        for m, national in enumerate(paths):
            sel = np.flatnonzero(plan.present[m])
            tenths = _provincial(
                national, plan.weight[sel], plan.start[m, sel], grid, r,
                power=(0.7, 1.2)[m], drift_sd=(0.04, 0.07)[m],
            )  # fmt: skip
            blocks.append(tenths)
            meta.append((sel, k, m, plan.start[m, sel]))
            if m == 1 and dests:
                shares = _destination_shares(spec, dests, grid, r)
                dest_blocks.append((k, _largest_remainder(tenths.sum(axis=0), shares)))
    return _assemble(grid, units, plans, dests, blocks, meta, dest_blocks)


def _assemble(
    grid: _Grid, units: Sequence[Province], plans: Sequence[_CategoryPlan],
    dests: Sequence[str], blocks: Sequence[np.ndarray],
    meta: Sequence[tuple[np.ndarray, int, int, np.ndarray]],
    dest_blocks: Sequence[tuple[int, np.ndarray]],
) -> pd.DataFrame:  # fmt: skip
    """Long table from the simulated blocks, months sliced to the requested range."""
    lo, n_t = grid.offset, len(grid.periods)
    values = np.vstack(blocks)[:, lo : lo + n_t]
    prov = np.concatenate([s for s, _, _, _ in meta])
    cat = np.concatenate([np.full(len(s), k) for s, k, _, _ in meta])
    mkt = np.concatenate([np.full(len(s), m) for s, _, m, _ in meta])
    first = np.clip(np.concatenate([st for _, _, _, st in meta]) - lo, 0, None)
    codes = [p.spec.code for p in plans]
    cat_rank = np.argsort(np.argsort(codes))  # output sorted by code
    order = np.lexsort((mkt, cat_rank[cat], prov))
    values, prov, cat, mkt, first = values[order], prov[order], cat[order], mkt[order], first[order]
    keep = np.arange(n_t)[None, :] >= first[:, None]  # no rows before a series starts
    s_idx, t_idx = np.nonzero(keep)

    d_order = sorted(dest_blocks, key=lambda kb: codes[kb[0]])
    n_d = len(dests)
    d_cat = np.repeat(np.array([k for k, _ in d_order], dtype=np.int64), n_d * n_t)
    d_dest = np.tile(np.repeat(np.arange(n_d), n_t), len(d_order))
    d_t = np.tile(np.arange(n_t), n_d * len(d_order))
    d_val = (
        np.concatenate([b[:, lo : lo + n_t].ravel() for _, b in d_order])
        if d_order
        else np.zeros(0, dtype=np.int64)
    )

    n_b, n_n = len(s_idx), len(d_cat)
    period_labels = grid.periods.strftime("%Y-%m")
    province_labels = [u.name for u in units] + [NATIONAL]
    dest_labels = ["", *dests]

    def cat_col(codes_: np.ndarray, labels: Sequence[str], ordered: bool = False) -> pd.Categorical:
        index = pd.Index(labels, dtype=object)
        return pd.Categorical.from_codes(codes_, categories=index, ordered=ordered)

    frame = pd.DataFrame(
        {
            "period": cat_col(np.concatenate([t_idx, d_t]), period_labels, ordered=True),
            "province": cat_col(
                np.concatenate([prov[s_idx], np.full(n_n, len(units))]), province_labels
            ),
            "category": cat_col(np.concatenate([cat[s_idx], d_cat]), codes),
            "market": cat_col(np.concatenate([mkt[s_idx], np.ones(n_n, dtype=int)]), MARKETS),
            "destination": cat_col(np.concatenate([np.zeros(n_b, dtype=int), d_dest + 1]),
                                   dest_labels),
            "value": np.concatenate([values[s_idx, t_idx], d_val]) / 10.0,
            "unit": cat_col(np.zeros(n_b + n_n, dtype=int), [UNIT]),
        }
    )  # fmt: skip
    return frame


# ---------------------------------------------------------------------------------------
# Output, summaries and command line
# ---------------------------------------------------------------------------------------


def write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """Write ``frame`` as UTF-8 CSV with 1-decimal values and ``\\n`` line ends.

    The exact byte format matters: a test regenerates the default data set and compares it
    with the committed file.
    """
    frame.to_csv(path, index=False, float_format="%.1f", lineterminator="\n", encoding="utf-8")


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """The bytes :func:`write_csv` would write."""
    text = frame.to_csv(index=False, float_format="%.1f", lineterminator="\n")
    return text.encode("utf-8")


def calibration_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Target vs generated national annual export totals (million USD) of the calibrated
    categories, for every year in ``frame`` (partial years are partial sums).

    ``basis`` says whether a year's target is published, estimated or interpolated.
    """
    bottom = frame[(frame["province"] != NATIONAL) & (frame["market"] == "export")]
    year = bottom["period"].astype(str).str[:4].astype(int)
    rows = []
    for code, series in _PUBLISHED_SERIES.items():
        published = _published_annual(series)
        est = ESTIMATES[code]
        got = bottom[bottom["category"] == code].groupby(year)["value"].sum() / 1e3
        for y, v in got.items():
            if y in published:
                target, basis = published[y], "published"
            elif y in est:
                target, basis = est[y]
            else:
                target, basis = float("nan"), "extrapolated"
            rows.append((code, y, basis, target, v))
    out = pd.DataFrame(rows, columns=["category", "year", "basis", "target", "generated"])
    out["diff_pct"] = 100 * (out["generated"] / out["target"] - 1)
    return out


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description="Generate the synthetic CNNT demonstration sales data (long layout CSV).",
    )
    ap.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="random seed (default %(default)s)"
    )
    ap.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="output CSV (default datasets/demo_sales.csv)"
    )
    ap.add_argument(
        "--provinces", type=int, default=34, help="provincial units, 1..34 (default 34)"
    )
    ap.add_argument(
        "--categories",
        type=int,
        default=None,
        help="categories; >15 adds synthetic <code>.<k> siblings (default 15)",
    )
    ap.add_argument(
        "--destinations",
        type=int,
        default=DEFAULT_DESTINATIONS,
        help="export destinations, 0..44 (default %(default)s)",
    )
    ap.add_argument(
        "--bottom-series",
        type=int,
        default=None,
        help="add categories until at least this many province x category x market series",
    )
    span = ap.add_mutually_exclusive_group()
    span.add_argument("--years", type=int, default=None, help="the last N years to 2025-12")
    span.add_argument("--start", default=None, help="first month YYYY-MM (default 2015-01)")
    ap.add_argument("--end", default=None, help="last month YYYY-MM (default 2025-12)")
    ap.add_argument("--calibration", action="store_true", help="print the calibration table")
    args = ap.parse_args(argv)
    if args.years is not None and args.end is not None:
        ap.error("--years counts back from 2025-12; use --start/--end for another range")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    args = _parse(argv)
    end = args.end or DEFAULT_END
    start = args.start or DEFAULT_START
    if args.years is not None:
        start = f"{int(DEFAULT_END[:4]) - args.years + 1}-01"
    t0 = time.perf_counter()
    frame = generate(
        args.seed, start=start, end=end, n_provinces=args.provinces,
        n_categories=args.categories, n_destinations=args.destinations,
        bottom_series=args.bottom_series,
    )  # fmt: skip
    t1 = time.perf_counter()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_csv(frame, args.out)
    t2 = time.perf_counter()
    bottom = frame[frame["province"] != NATIONAL]
    n_series = bottom.groupby(["province", "category", "market"], observed=True).ngroups
    print(
        f"{args.out}: {len(frame):,} rows, {n_series:,} bottom series, "
        f"{frame['category'].nunique()} categories, {args.out.stat().st_size / 1e6:.1f} MB; "
        f"generated in {t1 - t0:.1f} s, written in {t2 - t1:.1f} s (seed {args.seed})"
    )
    if args.calibration:
        with pd.option_context("display.width", 120, "display.max_rows", 200):
            print(calibration_table(frame).round(1).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
