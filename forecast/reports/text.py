"""Access to the wording of one language, and display names for codes in the data.

Codes in a run (category ``XK_WOOD``, group ``CNNT1``, region ``DBSH``, destination ``US``)
are shown by their reference names, never by raw data text. Any text that does come from the
data (source file names, model names) is cleaned by :func:`clean` before it reaches a page.
"""

from __future__ import annotations

import unicodedata
from types import ModuleType

from forecast.data.categories import category
from forecast.data.countries import country
from forecast.data.geography import REGION_NAMES
from forecast.errors import InvalidParameterError
from forecast.hierarchy import OTHER_DESTINATION
from forecast.reports import text_en, text_vi
from forecast.reports.blocs import BLOCS
from forecast.reports.formatting import LANGS, Formatter, Lang

_MODULES: dict[str, ModuleType] = {"vi": text_vi, "en": text_en}
_MODEL_NAMES = {
    "snaive": "Seasonal naive",
    "seasonal_naive": "Seasonal naive",
    "naive": "Naive",
    "ets": "ETS",
    "autoets": "ETS",
    "theta": "Theta",
    "autotheta": "Theta",
    "arima": "ARIMA",
    "autoarima": "ARIMA",
    "ensemble": "Ensemble",
    "combination": "Ensemble",
    "croston": "Croston",
    "prophet": "Prophet",
    "etsd": "ETS (damped)",
    "etsl": "ETS (log)",
    "dotm": "DOTM",
    "otm": "OTM",
    "ces": "CES",
    "gbm": "GBM",
    "knn": "KNN",
    "mlp": "MLP",
    "sba": "SBA",
    "tsb": "TSB",
}


def clean(text: object, limit: int = 200) -> str:
    """NFC text without control characters, cut to ``limit`` characters (for data text);
    a missing value (None, NaN) is empty, never the word ``None``."""
    if text is None or (isinstance(text, float) and text != text):
        return ""
    raw = unicodedata.normalize("NFC", str(text))
    kept = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in raw)
    return kept if len(kept) <= limit else kept[: limit - 1] + "…"


class Wording:
    """Wording and names in one language.

    Parameters
    ----------
    lang
        ``"vi"`` or ``"en"``.
    """

    def __init__(self, lang: Lang) -> None:
        if lang not in LANGS:
            raise InvalidParameterError(
                f"The 'lang' parameter of the reports must be one of 'vi', 'en'. Got {lang!r} "
                "instead."
            )
        self.lang: Lang = lang
        self._m = _MODULES[lang]
        self.fmt = Formatter(lang)
        self.synthetic_label: str = self._m.SYNTHETIC_LABEL
        self.glossary: tuple[tuple[str, str], ...] = self._m.GLOSSARY

    def __call__(self, key: str, **fields: object) -> str:
        """The text for ``key`` with ``fields`` filled in (NFC)."""
        text = self._m.TEXT[key].format(**fields) if fields else self._m.TEXT[key]
        return unicodedata.normalize("NFC", text)

    def change(self, value: float, decimals: int = 1) -> str:
        """``tăng 12,3%`` / ``up 12.3%`` from a signed percentage."""
        return self._m.change(self.fmt.percent(abs(value), decimals), value)

    def change_vs(self, value: float, vs: str, decimals: int = 1) -> str:
        """The change and what it is measured against, as one phrase: ``tăng 12,3% so
        với cùng kỳ``; without a value, ``chưa có số liệu cùng kỳ để so sánh`` (not
        "chưa có số liệu so sánh so với cùng kỳ")."""
        return str(self._m.change_vs(self.fmt.percent(abs(value), decimals), value, vs))

    @staticmethod
    def sentence(text: str) -> str:
        """``text`` with its first letter in capitals (a sentence that opens with a name
        written for the inside of one, ``the United States``)."""
        return text[:1].upper() + text[1:]

    def every_window(self, n: int) -> str:
        """``in`` all ``n`` backtest windows as a phrase: ``both backtest windows``,
        ``trong cả 3 cửa sổ kiểm định``."""
        return str(self._m.every_window(n))

    def span(self, n: int, kind: str) -> str:
        """``n`` periods of ``kind`` (``M``, ``Q``, ``Y``): ``3 tháng``, ``2 quý``, ``năm``."""
        return str(self._m.span(n, kind))

    def spans(self, spans: list[tuple[int, int]], kind: str) -> str:
        """Outlook windows in one phrase: ``3, 6 và 12 tháng``, ``1, 2 và 4 quý``, ``năm``."""
        counts = [n for _, n in spans]
        if len(counts) == 1:
            return self.span(counts[0], kind)
        head = ", ".join(str(n) for n in counts[:-1])
        last = self.span(counts[-1], kind)
        return f"{head} {self('and')} {last}"

    def model_name(self, code: str) -> str:
        """A model's name in the report language (``snaive`` -> ``Naive mùa vụ``)."""
        return self._m.MODEL_NAMES.get(str(code).lower(), self.model(code))

    def reconcile_name(self, code: str) -> str:
        """A reconciliation method's name in the report language, with its code."""
        return self._m.RECONCILE_NAMES.get(code, clean(code, 40))

    def trend(self, code: str) -> str:
        """Trend label (``tăng mạnh`` / ``strong rise``) for a trend code."""
        return self._m.TRENDS.get(code, "-")

    def flags(self, codes: str) -> str:
        """Flag labels for ``;``-separated flag codes (unknown codes are shown cleaned)."""
        names = [self._m.FLAGS.get(c, clean(c, 40)) for c in str(codes).split(";") if c]
        return ", ".join(names)

    def market(self, code: str) -> str:
        """``Trong nước`` / ``Xuất khẩu`` / ``Tổng``."""
        return self(f"market_{code}") if code in ("total", "domestic", "export") else clean(code)

    def category(self, code: str, *, inline: bool = False) -> str:
        """Category or CNNT group name from the reference table.

        ``inline=True`` gives the form used inside a sentence (first letter in lower case:
        category names are common nouns in both languages).
        """
        if not code:
            return self("row_total")
        try:
            cat = category(code)
        except KeyError:
            return clean(code, 60)
        name = cat.name_vi if self.lang == "vi" else cat.name_en
        return name[:1].lower() + name[1:] if inline else name

    def region(self, code: str) -> str:
        """Region name for a region code."""
        names = REGION_NAMES.get(code)
        if names is None:
            return clean(code, 60)
        return names[0] if self.lang == "vi" else names[1]

    def country(self, iso2: str, *, inline: bool = False) -> str:
        """Destination name (customs spelling in Vietnamese) or bloc name.

        ``inline=True`` adds the English article where the name takes one (``the United
        States``).
        """
        if iso2 in BLOCS:
            return self(f"bloc_{iso2}")
        if iso2 == OTHER_DESTINATION:
            return self("row_other_markets")
        try:
            c = country(iso2)
        except KeyError:
            return clean(iso2, 40)
        if self.lang == "vi":
            return c.name_vi
        return ("the " if inline and iso2 in text_en.THE_COUNTRIES else "") + c.name_en

    def level(self, level: str) -> str:
        """``province/category/export`` -> ``Tỉnh · ngành hàng · xuất khẩu``."""
        parts = [p for p in str(level).split("/") if p]
        names = [self._m.LEVELS.get(p, clean(p, 30)) for p in parts]
        if len(parts) > 2 and parts[2] == "total":
            names[2] = self._m.LEVELS["total"]
        return " · ".join(names)

    @staticmethod
    def model(name: str) -> str:
        """Display name of a model (``ets`` -> ``ETS``); an ensemble's label names all
        its members, as the CSV's ``model`` column does (a reader compares the two)."""
        return _MODEL_NAMES.get(str(name).lower(), clean(name, 300))


def keys(lang: str) -> set[str]:
    """Every wording key of ``lang`` (tests compare languages)."""
    return set(_MODULES[lang].TEXT)
