"""Report scopes (the nation, a region, a province) and their safe file names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from forecast.data.geography import REGION_NAMES, lookup_province, province, suggest_province
from forecast.errors import InvalidParameterError
from forecast.textutil import key, slugify

ScopeKind = Literal["national", "region", "province"]
SCOPE_KINDS: tuple[ScopeKind, ...] = ("national", "region", "province")


@dataclass(frozen=True)
class Scope:
    """What one report covers.

    Parameters
    ----------
    kind
        ``national``, ``region`` or ``province``.
    region
        Region code (``DBSH``...) for region and province scopes, else ``''``.
    province
        2025 unit name for a province scope, else ``''``.
    """

    kind: ScopeKind
    region: str = ""
    province: str = ""

    @property
    def slug(self) -> str:
        """File stem: ``national``, ``region-dong-bang-song-hong``, ``province-ho-chi-minh``.

        Built from reference names (never raw data) and passed through
        :func:`~forecast.textutil.slugify`, so it is ASCII ``[a-z0-9-]`` only.
        """
        if self.kind == "national":
            return "national"
        if self.kind == "region":
            return "region-" + slugify(REGION_NAMES[self.region][0])
        return "province-" + slugify(self.province)

    def name(self, lang: str) -> str:
        """Display name: ``Toàn quốc``, ``Vùng Đồng bằng sông Hồng``, ``Tỉnh Đắk Lắk``."""
        if self.kind == "national":
            return "Toàn quốc" if lang == "vi" else "Viet Nam"
        if self.kind == "region":
            vi, en = REGION_NAMES[self.region]
            return f"Vùng {vi}" if lang == "vi" else en
        unit = province(self.province)
        if lang == "vi":
            return unit.full_name
        # Proper names keep their diacritics in English too (as Vietnamese English-language
        # media increasingly do); the file name uses the ASCII slug.
        return f"{unit.name} City" if unit.is_city else f"{unit.name} Province"

    def inline_name(self, lang: str) -> str:
        """Name inside a sentence: ``tỉnh Đắk Lắk``, ``vùng Đồng bằng sông Hồng``,
        ``the Red River Delta region``."""
        if self.kind == "national":
            return "cả nước" if lang == "vi" else "Viet Nam"
        if self.kind == "region" and lang == "en":
            return f"the {REGION_NAMES[self.region][1]} region"
        name = self.name(lang)
        return name[:1].lower() + name[1:] if lang == "vi" else name


def national() -> Scope:
    """The national scope."""
    return Scope("national")


def region_scope(code: str) -> Scope:
    """The scope of a region code."""
    return Scope("region", region=code)


def province_scope(name: str) -> Scope:
    """The scope of a 2025 provincial unit (exact name)."""
    return Scope("province", region=province(name).region.code, province=name)


def resolve_region(text: str) -> str:
    """A region code from a code or a Vietnamese/English name (any case or diacritics)."""
    wanted = key(text)
    for code, (vi, en) in REGION_NAMES.items():
        if wanted in (key(code), key(vi), key(en), key("vung " + vi)):
            return code
    options = "; ".join(f"{c} ({vi})" for c, (vi, _) in REGION_NAMES.items())
    raise InvalidParameterError(f"Unknown region {text!r}. Use a code or name: {options}.")


def resolve_province(text: str) -> str:
    """The 2025 unit name for a province name or GSO code, old or new, any spelling."""
    match = lookup_province(text)
    if match is None:
        hint = suggest_province(text)
        extra = f" Did you mean {hint!r}?" if hint else ""
        raise InvalidParameterError(
            f"Unknown province {text!r}.{extra} Use one of the 34 units of 2025 (e.g. 'Đắk Lắk')."
        )
    return match.unit.name
