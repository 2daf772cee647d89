"""Encodings test files are written in, as the programs that write them do."""

from __future__ import annotations

import unicodedata

TONES = "\u0300\u0301\u0303\u0309\u0323"  # the marks cp1258 keeps as combining characters


def cp1258(text: str) -> bytes:
    """Encode like Windows-1258: precomposed base letters plus combining tone marks."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        decomposed = unicodedata.normalize("NFD", ch)
        tones = "".join(m for m in decomposed if m in TONES)
        base = unicodedata.normalize("NFC", "".join(m for m in decomposed if m not in TONES))
        out += ch.encode("cp1258") if ch.isascii() else (base + tones).encode("cp1258")
    return bytes(out)
