"""Text folding shared by search and the text signals (full evasion handling arrives with search)."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Case-fold, apply compatibility forms and drop accents: "ＧＵＣＣＩ Café" -> "gucci cafe"."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).split())


def compact(text: str) -> str:
    """Folded with everything but letters and digits removed: "G.U.C.C.I" -> "gucci"."""
    return "".join(ch for ch in fold(text) if ch.isalnum())
