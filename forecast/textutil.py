"""Text helpers shared by name matching and file naming: ASCII folding and safe slugs."""

from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
# C0/C1 control characters and the bidirectional overrides/isolates that can reorder text.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


#: ``đ`` and the letters that look like it and that files converted from VNI, TCVN3 or
#: cp1252 put in its place (``Ð`` U+00D0, ``ð``, ``Ɖ`` U+0189, ``ɖ``): ``Ðà Nẵng`` is
#: ``Đà Nẵng`` to a reader, who cannot see the difference a message would point out.
_D_LIKE = str.maketrans({"đ": "d", "Đ": "D", "Ð": "D", "ð": "d", "Ɖ": "D", "ɖ": "d"})


def fold(text: str) -> str:
    """Lower-case ``text`` and strip Vietnamese diacritics (``đ`` -> ``d``).

    Both composed and decomposed Unicode forms, and both old (``hoà``) and new (``hòa``)
    tone placements, fold to the same string.
    """
    text = unicodedata.normalize("NFD", str(text)).translate(_D_LIKE)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", text).lower()


def key(text: str) -> str:
    """Matching key: folded, with every run of non-alphanumerics removed."""
    return _NON_ALNUM.sub("", fold(text))


def slugify(text: str, *, max_length: int = 60) -> str:
    """A file-name-safe ASCII slug (``Hồ Chí Minh`` -> ``ho-chi-minh``); never empty.

    The result has only ``[a-z0-9-]``, so it cannot contain path separators, ``..`` or
    shell metacharacters, whatever the input.
    """
    slug = _NON_ALNUM.sub("-", fold(text)).strip("-")[:max_length].strip("-")
    return slug or "unnamed"


def printable(text: str) -> str:
    """``text`` with control characters shown as escapes (``\\x1b``), for terminals and logs.

    Text from input files (file names, headers, cells) may hold terminal escape sequences
    or bidirectional overrides; printed raw they could rewrite what an operator sees.
    """
    return _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], str(text))
