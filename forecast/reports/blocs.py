"""Trade blocs shown as aggregate rows in export-market tables, as customs tables do."""

from __future__ import annotations

# Bloc code -> member ISO2 codes. EU: the 27 members since 2020 (UK left on 31 Jan 2020).
# ASEAN without Viet Nam (the exporter); Timor-Leste joined as the 11th member in Oct 2025.
_EU = "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE"
_ASEAN = "BN KH ID LA MY MM PH SG TH TL"

BLOCS: dict[str, frozenset[str]] = {
    "EU": frozenset(_EU.split(" ")),
    "ASEAN": frozenset(_ASEAN.split(" ")),
}
