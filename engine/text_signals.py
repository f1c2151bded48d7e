"""Text signals of the matching engine: a brand's word marks found through evasive spellings,
counterfeit vocabulary in nine languages, a price far below the brand's reference, and one score.

Everything is keyed with the project's one normaliser (`engine.normalize`: `read_letters`, then
`char_key` one character at a time, exactly as search keys a text), so every key character
remembers the original characters it came from:
a hit is reported with its exact span in the original text ("G u c с i" in "New G u c с i bag")
and with the key both sides reduce to. Marks are indexed (see `WordMarkMatcher`), so a text
costs about the same however many marks are loaded; timings are in bench/README.md.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation

from engine.normalize import char_key, fold, plain_fold, plain_letters, read_letters

# --- thresholds (every function that uses one accepts an override) ------------------------------

#: Marks with at most this many letters ("LV", "CC", "H&M") match only as a whole token whose
#: characters equal the mark after case, width, letter-form and look-alike folding, or as the
#: whole of a dotted initialism ("L.V.", "Y. S. L."): no leetspeak, no spacing, no plural, no
#: fuzziness ("IV" and "I.V." are not "LV", "L V" is not "LV", "CCTV" holds no "CC", "U.S.A."
#: holds no "US").
SHORT_MARK_MAX_LETTERS = 3
#: Marks with at least this many letters are also matched with edit (Damerau) distance.
FUZZY_MIN_LENGTH = 5
MAX_EDIT_DISTANCE = 1

#: Word mark hit scores: identical text; same letters after case/width/accents/spacing;
#: equal only through look-alikes, leetspeak or repeated letters (the key is lossy: "lucid" and
#: "iucid" share one); a misspelling (per edit).
SCORE_EXACT = 1.0
SCORE_FOLDED_PLAIN = 1.0
SCORE_FOLDED = 0.9
SCORE_FUZZY = 0.7
SCORE_FUZZY_PER_EXTRA_EDIT = 0.15

#: Price: no signal at or above FAR_BELOW x reference minimum; rises linearly to 1.0 at
#: FULL_BELOW x reference minimum and stays there.
PRICE_FAR_BELOW = 0.35
PRICE_FULL_BELOW = 0.20

#: Combined score (see `text_signals`).
MARK_ONLY_SCORE = 0.5
TERMS_WEIGHT = 0.8
PRICE_WEIGHT = 0.6
NO_MARK_CAP = 0.3

#: Common words one edit away from well-known marks; never reported as fuzzy hits of any mark
#: ("TV channel" is not "Chanel", "carrier" is not "Cartier"). Exact and folded hits still count.
FUZZY_STOPWORDS = frozenset({"channel", "channels", "carrier", "carriers", "prado", "fends"})

# Plural and possessive endings still count as the mark ("Nikes"); "'s" needs no rule, the
# apostrophe is a word boundary already.
MARK_SUFFIXES = frozenset({"s", "es"})

# --- results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WordMarkHit:
    mark: str  # the brand's spelling that matched, e.g. "Gucci"
    found: str  # the exact substring of the listing text, original characters
    field: str  # "title" or "description"
    start: int  # offsets of `found` in that field's original text
    end: int
    normalised: str  # the key both sides reduce to (for fuzzy hits: the key of `found`)
    method: str  # "exact" | "folded" | "fuzzy"
    distance: int  # edit distance for fuzzy hits, 0 otherwise
    score: float


@dataclass(frozen=True)
class TermHit:
    term: str
    found: str
    field: str
    start: int
    end: int
    language: str  # ISO 639-1, several joined by "," when one spelling is shared; "*" for symbols
    score: float


@dataclass(frozen=True)
class PriceSignal:
    price: Decimal
    currency: str
    reference_min: Decimal
    reference_max: Decimal | None
    ratio: float  # price / reference_min
    score: float


@dataclass(frozen=True)
class TextSignals:
    word_marks: list[WordMarkHit]
    counterfeit_terms: list[TermHit]
    price: PriceSignal | None
    score: float
    mark_score: float = 0.0
    terms_score: float = 0.0
    price_score: float = 0.0

    def as_dict(self) -> dict:
        """JSON-safe evidence (Decimals as strings)."""
        price = None
        if self.price is not None:
            price = {k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(self.price).items()}
        return {
            "score": self.score,
            "components": {"mark": self.mark_score, "terms": self.terms_score, "price": self.price_score},
            "word_marks": [asdict(hit) for hit in self.word_marks],
            "counterfeit_terms": [asdict(hit) for hit in self.counterfeit_terms],
            "price": price,
        }


# --- one character at a time ----------------------------------------------------------------

_SEPARATOR, _IGNORABLE, _LETTER, _OTHER, _NO_SPACE = range(5)

# Scripts written without spaces between words: a mark next to them needs no word boundary
# ("高仿GUCCI包").
_NO_SPACE_RANGES = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x2E80, 0x2FDF),  # CJK radicals
    (0x3000, 0x9FFF),  # CJK symbols, kana, bopomofo, CJK ideographs
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9F),  # half-width katakana
    (0x20000, 0x3FFFF),  # CJK extensions
)


def _no_space_script(ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _NO_SPACE_RANGES)


@functools.cache
def _char(ch: str) -> tuple[str, int]:
    """(key of the character, kind). Kinds decide word boundaries: only a `_LETTER` next to a
    match means the match sits inside a longer word; digits, leetspeak symbols, punctuation and
    spaceless scripts do not."""
    category = unicodedata.category(ch)
    if category[0] == "M" or category == "Cf":  # combining marks, zero-width and format characters
        return "", _IGNORABLE
    k = char_key(ch)
    if not k:
        return "", _SEPARATOR
    if _no_space_script(ch):
        return k, _NO_SPACE
    if category[0] == "L" or (category == "So" and k.isalpha()):  # "Ⓖ" reads as a letter
        return k, _LETTER
    return k, _OTHER


def _strict(text: str) -> str:
    """Per-character keys without collapsing repeats, runs of three or more cut to two:
    "Guccci" -> "gucci", "Channel" -> "channei" (while key() gives "chanei" for both)."""
    return _TRIPLES.sub(r"\1\1", "".join(_char(ch)[0] for ch in read_letters(text)))


_TRIPLES = re.compile(r"(.)\1{2,}")
_REPEATS = re.compile(r"(.)\1+")


def _stream_key(text: str) -> str:
    """The key as the matcher computes it over a text (per character, repeats collapsed)."""
    return _REPEATS.sub(r"\1", "".join(_char(ch)[0] for ch in read_letters(text)))


def _plain(text: str) -> str:
    """Case, width, letter forms ("🅶", "Ⓖ"), accents and spacing removed, letters themselves untouched."""
    return "".join(ch for ch in plain_fold(text) if ch.isalnum())


def _short_form(text: str) -> str:
    """For short marks: width and case folded, non-ASCII look-alikes to their prototype, ASCII
    letters kept as they are (TR39 would make "IV" and "LV" one)."""
    out = []
    for ch in unicodedata.normalize("NFKC", plain_letters(text)):
        if unicodedata.category(ch) in ("Cf", "Mn", "Me"):
            continue
        out.append(ch.lower() if ch.isascii() else fold(ch))
    return "".join(out)


# A dotted initialism, whole: single letters joined by a dot and at most one space, the last one
# dotted or not ("L.V.", "Y. S. L", "U.S.A."; not "L.Vuitton", not "L V").
_INITIALISM = re.compile(r"(?<![\w.．])[^\W\d_](?:[.．]\s?[^\W\d_])+(?![^\W_])[.．]?")
_INITIAL_GAPS = re.compile(r"[.．\s]")


def _mark_short_form(spelling: str) -> str:
    """A short mark's letters in `_short_form`; a mark registered with dots ("L.V.") as its letters."""
    stripped = spelling.strip()
    if _INITIALISM.fullmatch(stripped):
        stripped = _INITIAL_GAPS.sub("", stripped)
    return _short_form(stripped)


def _damerau(a: str, b: str) -> int:
    """Optimal string alignment distance (Damerau: adjacent transpositions cost one)."""
    if a == b:
        return 0
    lb = len(b)
    before: list[int] = []
    prev = list(range(lb + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * lb
        ai = a[i - 1]
        for j in range(1, lb + 1):
            bj = b[j - 1]
            value = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ai != bj))
            if i > 1 and j > 1 and ai == b[j - 2] and a[i - 2] == bj:
                value = min(value, before[j - 2] + 1)
            cur[j] = value
        before, prev = prev, cur
    return prev[lb]


def _deletes(word: str, depth: int) -> set[str]:
    out = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        out |= frontier
    return out


class _Prepared:
    """A field's text keyed character by character.

    `keys[j]` is one key character; `first[j]`/`last[j]` the first and last original character
    that contributed to it (repeats collapse, across separators too, exactly as key() does);
    `starts` the key positions where a word may begin.
    """

    __slots__ = ("first", "keys", "last", "letters", "starts", "text")

    def __init__(self, text: str) -> None:
        keys: list[str] = []
        first: list[int] = []
        last: list[int] = []
        starts: list[int] = []
        prev_letter = False
        previous = ""  # the last key character
        start_at = -1  # the last key position in `starts`
        n = 0  # len(keys)
        letters = read_letters(text)  # one character for one: offsets are the text's
        for i, (k, kind) in enumerate(map(_char, letters)):
            if not k:
                if kind == _SEPARATOR:
                    prev_letter = False
                continue  # invisible characters neither join nor split words
            if k[0] == previous:
                last[-1] = i
            else:
                previous = k[0]
                keys.append(previous)
                first.append(i)
                last.append(i)
                n += 1
            if (not prev_letter or kind == _NO_SPACE) and start_at != n - 1:
                start_at = n - 1
                starts.append(start_at)
            if len(k) > 1:
                for c in k[1:]:
                    if c == previous:
                        last[-1] = i
                    else:
                        previous = c
                        keys.append(c)
                        first.append(i)
                        last.append(i)
                        n += 1
            prev_letter = kind == _LETTER
        self.text = text
        self.letters = letters
        self.keys = "".join(keys)
        self.first = first
        self.last = last
        self.starts = starts

    def _letter_before(self, i: int) -> bool:
        text = self.letters
        i -= 1
        while i >= 0:
            kind = _char(text[i])[1]
            if kind != _IGNORABLE:
                return kind == _LETTER
            i -= 1
        return False

    def _letters_after(self, i: int) -> str:
        """The letters of the word that continues right after position i ("" at a boundary)."""
        text = self.letters
        out = []
        i += 1
        while i < len(text):
            k, kind = _char(text[i])
            if kind == _LETTER:
                out.append(k)
            elif kind != _IGNORABLE:
                break
            i += 1
        return "".join(out)

    def span(self, j: int, e: int, *, suffixes: frozenset[str]) -> tuple[int, int] | None:
        """Original offsets of key positions j..e (inclusive) on word boundaries, or None.

        A collapsed run may hold characters of two words ("big gucci": one "g"), so the start is
        the latest contributor with a boundary before it and the end the earliest with one after.
        A key of one position may run over both ends ("CC coat": one "c"): then earlier starts
        are tried too, until one has an end.
        """
        text, keys = self.letters, self.keys
        for start in range(self.last[j], self.first[j] - 1, -1):
            k, kind = _char(text[start])
            if not (k and k[0] == keys[j] and (kind == _NO_SPACE or not self._letter_before(start))):
                continue
            for i in range(max(self.first[e], start), self.last[e] + 1):
                k, kind = _char(text[i])
                if not (k and k[-1] == keys[e]):
                    continue
                if kind == _NO_SPACE or (after := self._letters_after(i)) == "" or after in suffixes:
                    end = i + 1
                    while end < len(text) and unicodedata.combining(text[end]):
                        end += 1  # an accent written as a combining mark belongs to the letter
                    return start, end
            if j != e:
                return None  # the end does not depend on the start
        return None


# The fuzzy pass reads a copy of the text with one character per original character: its key,
# "m" for the key "rn" (one letter to an edit distance), leetspeak symbols in upper case (a
# word may not begin or end with one: "(Gucic)"), " " for separators, "\x01" for invisible ones.
_FUZZY_TOKEN = re.compile(r"[^ A-Z\x01](?:[^ ]*[^ A-Z\x01])?")


@functools.cache
def _fuzzy_char(ch: str) -> str:
    k, kind = _char(ch)
    if kind == _IGNORABLE:
        return "\x01"
    if not k:
        return " "
    if k == "rn":
        return "m"
    if kind == _OTHER and not unicodedata.normalize("NFKC", ch).isalnum():
        return k.upper()
    return k


class _FuzzyTable(dict):
    """A str.translate table computed on first use of each character."""

    def __missing__(self, code: int) -> str:
        value = self[code] = _fuzzy_char(chr(code))
        return value


_FUZZY_TABLE = _FuzzyTable()


def _fuzzy_words(text: str) -> list[str]:
    """A mark in the fuzzy pass's form, word by word."""
    words = "".join(_fuzzy_char(ch) for ch in read_letters(text)).lower().replace("\x01", "").split()
    return [_TRIPLES.sub(r"\1\1", word) for word in words]


@dataclass(frozen=True, slots=True)
class _Mark:
    owner: int  # index into WordMarkMatcher._owners
    spelling: str
    key: str
    strict: str
    loose: str  # the fuzzy pass's form: per-character keys, "rn" kept as "m", no separators
    plain: str
    short: bool
    fuzzy: bool
    short_form: str  # short marks: the letters a token or initialism must spell (`_mark_short_form`)
    u_writings: tuple[tuple[str, ...], ...]  # how each run of its strict form writes "u" (`_u_writings`)


class WordMarkMatcher:
    """Built once from all brands' word marks; `find` costs what the text costs, not what the
    number of marks costs: marks are indexed by the first three characters of their key (exact
    and folded hits, tried only where a word may start) and, for misspellings, by their first and
    last two characters and length (or their deletion neighbourhood above distance 1)."""

    def __init__(
        self,
        marks: Iterable[tuple[object, str]],
        *,
        fuzzy_min_length: int = FUZZY_MIN_LENGTH,
        max_edit_distance: int = MAX_EDIT_DISTANCE,
        short_max_letters: int = SHORT_MARK_MAX_LETTERS,
        suffixes: Iterable[str] = MARK_SUFFIXES,
        fuzzy_stopwords: Iterable[str] = FUZZY_STOPWORDS,
    ) -> None:
        self._owners: list[object] = []
        self._max_edit_distance = max_edit_distance
        self._suffixes = frozenset(suffixes)
        self._stopwords = frozenset("".join(_fuzzy_words(word)) for word in fuzzy_stopwords)
        self._by_prefix: dict[str, list[tuple[str, list[_Mark]]]] = {}
        self._by_key: dict[str, list[_Mark]] = {}
        # Fuzzy index. Distance 1 on a word of 4+ characters leaves its first two or its last two
        # characters intact, so marks are found by either; larger distances use the deletion
        # neighbourhood (SymSpell), bigger but still independent of the number of marks.
        self._by_head: dict[tuple[str, int], list[_Mark]] = {}  # (first two characters, candidate length)
        self._by_tail: dict[tuple[str, int], list[_Mark]] = {}
        self._by_deletion: dict[str, list[_Mark]] = {}
        # Marks of several words are also tried word by word: one edit leaves the first or the
        # last word intact.
        self._by_first_word: dict[str, list[tuple[_Mark, int]]] = {}
        self._by_last_word: dict[str, list[tuple[_Mark, int]]] = {}
        # Short marks by their letters, for dotted initialisms ("L.V." for "LV").
        self._by_initials: dict[str, list[_Mark]] = {}
        self._has_fuzzy = False
        self._fuzzy_min = 1 << 30
        self._fuzzy_max = 0
        owner_index: dict[object, int] = {}
        seen: set[tuple[int, str]] = set()
        for owner, spelling in marks:
            try:
                index = owner_index.setdefault(owner, len(self._owners))
            except TypeError:  # an unhashable key: one owner per mark
                index = len(self._owners)
            if index == len(self._owners):
                self._owners.append(owner)
            mark_key = _stream_key(spelling)
            if not mark_key or (index, spelling) in seen:
                continue
            seen.add((index, spelling))
            plain = _plain(spelling)
            short = len(plain) <= short_max_letters
            fuzzy = max_edit_distance > 0 and not short and len(plain) >= fuzzy_min_length
            loose = "".join(_fuzzy_words(spelling))
            short_form = _mark_short_form(spelling) if short else ""
            mark = _Mark(
                index, spelling, mark_key, _strict(spelling), loose, plain, short, fuzzy, short_form,
                _u_writings(read_letters(spelling)),
            )  # fmt: skip
            group = self._by_key.get(mark_key)
            if group is None:
                group = self._by_key[mark_key] = []
                self._by_prefix.setdefault(mark_key[:3], []).append((mark_key, group))
            group.append(mark)
            if short and len(short_form) > 1:
                self._by_initials.setdefault(short_form, []).append(mark)
            if fuzzy:
                self._index_fuzzy(mark)
        self._prefix_lengths = sorted({len(p) for p in self._by_prefix})

    def _index_fuzzy(self, mark: _Mark) -> None:
        self._has_fuzzy = True
        depth = self._max_edit_distance
        loose = mark.loose
        if depth == 1:
            for length in range(len(loose) - 1, len(loose) + 2):
                self._by_head.setdefault((loose[:2], length), []).append(mark)
                self._by_tail.setdefault((loose[-2:], length), []).append(mark)
        else:
            for variant in _deletes(loose, depth):
                self._by_deletion.setdefault(variant, []).append(mark)
        self._fuzzy_min = min(self._fuzzy_min, len(loose) - depth)
        self._fuzzy_max = max(self._fuzzy_max, len(loose) + depth)
        words = _fuzzy_words(mark.spelling)
        if len(words) > 1:
            self._by_first_word.setdefault(words[0], []).append((mark, len(words)))
            self._by_last_word.setdefault(words[-1], []).append((mark, len(words)))

    def __len__(self) -> int:
        return sum(len(group) for group in self._by_key.values())

    def find(self, *, title: str, description: str = "") -> list[tuple[object, WordMarkHit]]:
        """Every mark in the title and the description, each occurrence once (best method wins
        where two overlap), in reading order: title first."""
        found: list[tuple[int, WordMarkHit]] = []
        for field, text in (("title", title), ("description", description)):
            if not text:
                continue
            prepared = _Prepared(text)
            hits = self._find_keyed(prepared, field)
            if self._by_initials:
                hits += self._find_initials(text, field)
            if self._has_fuzzy:
                hits += self._find_fuzzy(prepared, field)
            found += _best_per_span(hits)
        return [(self._owners[owner], hit) for owner, hit in found]

    # exact and folded (and misspellings of doubled letters, which share the key)
    def _find_keyed(self, prepared: _Prepared, field: str) -> list[tuple[int, WordMarkHit]]:
        keys = prepared.keys
        by_prefix = self._by_prefix
        lengths = self._prefix_lengths
        hits: list[tuple[int, WordMarkHit]] = []
        for j in prepared.starts:
            for length in lengths:
                prefix = keys[j : j + length]
                if len(prefix) != length:
                    break
                bucket = by_prefix.get(prefix)
                if bucket is None:
                    continue
                for mark_key, group in bucket:
                    if keys.startswith(mark_key, j):
                        hits += self._confirm(prepared, field, j, j + len(mark_key) - 1, group)
        return hits

    def _confirm(
        self, prepared: _Prepared, field: str, j: int, e: int, group: list[_Mark]
    ) -> list[tuple[int, WordMarkHit]]:
        out = []
        spans: dict[bool, tuple[int, int] | None] = {}
        for mark in group:
            if mark.short not in spans:
                spans[mark.short] = prepared.span(j, e, suffixes=frozenset() if mark.short else self._suffixes)
            span = spans[mark.short]
            if span is None:
                continue
            start, end = span
            found = prepared.text[start:end]
            if mark.short:
                if _short_form(found) != mark.short_form:
                    continue
                distance = 0
            else:
                per_character = "".join(_char(ch)[0] for ch in prepared.letters[start:end])
                if _runs_compatible(per_character, mark.strict):
                    distance = _u_for_v_edits(_u_writings(prepared.letters[start:end]), mark.u_writings)
                else:
                    distance = _distance_within(
                        _TRIPLES.sub(r"\1\1", per_character), mark.strict, self._max_edit_distance
                    )
                if distance is None or distance > self._max_edit_distance:
                    continue
                if distance and not (mark.fuzzy and "".join(_fuzzy_words(found)) not in self._stopwords):
                    continue  # "Channel" is not "Chanel" by repeats alone; only as a misspelling
            out.append((mark.owner, _hit(mark, found, field, start, end, distance)))
        return out

    # a short mark written as a dotted initialism: the whole initialism spells the mark
    def _find_initials(self, text: str, field: str) -> list[tuple[int, WordMarkHit]]:
        hits: list[tuple[int, WordMarkHit]] = []
        for match in _INITIALISM.finditer(text):
            for mark in self._by_initials.get(_short_form(_INITIAL_GAPS.sub("", match.group())), ()):
                hits.append((mark.owner, _hit(mark, match.group(), field, match.start(), match.end(), 0)))
        return hits

    # misspellings: whole words (or a few consecutive words) within edit distance of a mark
    def _find_fuzzy(self, prepared: _Prepared, field: str) -> list[tuple[int, WordMarkHit]]:
        text = prepared.text
        depth = self._max_edit_distance
        low, high = self._fuzzy_min, self._fuzzy_max
        tokens = _fuzzy_tokens(text)
        hits: list[tuple[int, WordMarkHit]] = []

        def check(mark: _Mark, first: int, last: int, candidate: str) -> None:
            distance = _distance_within(candidate, mark.loose, depth)
            if (
                distance and candidate not in self._stopwords
            ):  # 0 is an exact or folded hit, which the keyed pass reports
                start, end = tokens[first][0], tokens[last][1]
                hits.append((mark.owner, _hit(mark, text[start:end], field, start, end, distance)))

        for t, (_, _, strict) in enumerate(tokens):
            if low <= len(strict) <= high:
                if depth == 1:
                    head = strict[:2]
                    for mark in self._by_head.get((head, len(strict)), ()):
                        check(mark, t, t, strict)
                    for mark in self._by_tail.get((strict[-2:], len(strict)), ()):
                        if mark.loose[:2] != head:  # already tried through its head
                            check(mark, t, t, strict)
                else:
                    seen: set[int] = set()
                    for variant in _deletes(strict, depth):
                        for mark in self._by_deletion.get(variant, ()):
                            if id(mark) not in seen:
                                seen.add(id(mark))
                                check(mark, t, t, strict)
            for mark, words in self._by_first_word.get(strict, ()):
                if t + words <= len(tokens) and _adjacent(tokens, t, t + words - 1):
                    check(mark, t, t + words - 1, "".join(tok[2] for tok in tokens[t : t + words]))
            for mark, words in self._by_last_word.get(strict, ()):
                if t - words + 1 >= 0 and _adjacent(tokens, t - words + 1, t):
                    check(mark, t - words + 1, t, "".join(tok[2] for tok in tokens[t - words + 1 : t + 1]))
        return hits


def _fuzzy_tokens(text: str) -> list[tuple[int, int, str]]:
    """(start, end, form) of each word of the text, in the fuzzy pass's form."""
    letters = read_letters(text)
    loose = letters.translate(_FUZZY_TABLE)
    offsets = None
    if len(loose) != len(letters):  # a character with a key of two letters ("æ"): map back
        offsets = [i for i, ch in enumerate(letters) for _ in _fuzzy_char(ch)]
    triples = _TRIPLES.search(loose) is not None
    tokens = []
    for match in _FUZZY_TOKEN.finditer(loose):
        start, end = match.span()
        form = match.group().lower().replace("\x01", "")
        if triples:
            form = _TRIPLES.sub(r"\1\1", form)
        if offsets is not None:
            start, end = offsets[start], offsets[end - 1] + 1
        tokens.append((start, end, form))
    return tokens


def _adjacent(tokens: list[tuple[int, int, str]], first: int, last: int) -> bool:
    """Consecutive tokens separated by a few characters only (a space, " & ", " - ")."""
    return all(tokens[u + 1][0] - tokens[u][1] <= 3 for u in range(first, last))


def _distance_within(a: str, b: str, limit: int) -> int | None:
    """The edit distance of a and b if at most `limit`, else None (a linear test for 1)."""
    if abs(len(a) - len(b)) > limit:
        return None
    if limit != 1:
        distance = _damerau(a, b)
        return distance if distance <= limit else None
    if a == b:
        return 0
    i = 0
    for i in range(min(len(a), len(b))):  # the first mismatch is wanted after the loop
        if a[i] != b[i]:
            break
    else:
        return 1  # one is the other plus a last character
    if len(a) == len(b):
        if a[i + 1 :] == b[i + 1 :]:
            return 1
        transposed = i + 1 < len(a) and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]
        return 1 if transposed else None
    if len(a) > len(b):
        return 1 if a[i + 1 :] == b[i:] else None
    return 1 if a[i:] == b[i + 1 :] else None


def _runs_compatible(found: str, mark: str) -> bool:
    """Same letters (same key); each run of a repeated letter as long as the mark's, or tripled
    and more (never an honest spelling), or doubled where the mark doubles it."""
    found_runs = _runs(found)
    mark_runs = _runs(mark)
    if len(found_runs) != len(mark_runs):
        return False
    for (fc, fn), (mc, mn) in zip(found_runs, mark_runs, strict=True):
        if fc != mc:
            return False
        if fn != mn and fn < 3 and not (fn >= 2 and mn >= 2):
            return False
    return True


@functools.cache
def _written(ch: str) -> str:
    """How a character keyed "u" is written: "u" (u, ú, υ…), "V" (a capital V: "V", "Ｖ", "🆅") or
    "v" (a small one: "v", Greek "ν")."""
    letter = plain_letters(ch)
    if "v" not in fold(letter):
        return "u"
    return "V" if letter.isupper() else "v"


def _u_writings(letters: str) -> tuple[tuple[str, ...], ...]:
    """For each run of the per-character key (as `_runs` cuts it), how its "u"s are written, in
    order (`_written`); empty for the runs of other letters. Pass text through `read_letters` first."""
    runs: list[tuple[str, list[str]]] = []
    for ch in letters:
        for c in _char(ch)[0]:
            writing = [_written(ch)] if c == "u" else []
            if runs and runs[-1][0] == c:
                runs[-1][1].extend(writing)
            else:
                runs.append((c, writing))
    return tuple(tuple(writings) for _, writings in runs)


def _same_u(written: str, registered: str) -> bool:
    """A "u" written as `written` where the mark writes `registered` is the same letter: u for u,
    a V either size for a V, and a capital V for a u (the classical U: GVCCI, BVLGARI)."""
    return written == registered or (written != "u" and registered != "u") or (written == "V" and registered == "u")


def _u_for_v_edits(found: tuple[tuple[str, ...], ...], mark: tuple[tuple[str, ...], ...]) -> int:
    """The key reads "v" as "u"; the word-mark signal accepts only `_same_u`. A small "v" for the
    mark's "u", or a "u" for its "v", counts as one edit, as before the fold: German and French
    words would otherwise become marks ("neue" → "Neve", "doué" → "Dove"). Runs align one to one
    (`_runs_compatible` held); within a run, letter by letter when both are as long."""
    edits = 0
    for written, registered in zip(found, mark, strict=False):
        if not written:
            continue
        if len(written) == len(registered):
            same = all(_same_u(w, r) for w, r in zip(written, registered, strict=True))
        else:
            same = all(any(_same_u(w, r) for r in registered) for w in written)
        edits += not same
    return edits


def _runs(text: str) -> list[tuple[str, int]]:
    return [(m.group(1), len(m.group(0))) for m in _ANY_RUN.finditer(text)]


_ANY_RUN = re.compile(r"(.)\1*", re.DOTALL)


def _hit(mark: _Mark, found: str, field: str, start: int, end: int, distance: int) -> WordMarkHit:
    if distance:
        method = "fuzzy"
        score = max(0.0, SCORE_FUZZY - SCORE_FUZZY_PER_EXTRA_EDIT * (distance - 1))
        normalised = _stream_key(found)
    elif found == mark.spelling:
        method, score, normalised = "exact", SCORE_EXACT, mark.key
    else:
        method, normalised = "folded", mark.key
        score = SCORE_FOLDED_PLAIN if _plain(found) == mark.plain else SCORE_FOLDED
    return WordMarkHit(
        mark=mark.spelling,
        found=found,
        field=field,
        start=start,
        end=end,
        normalised=normalised,
        method=method,
        distance=distance,
        score=score,
    )


def _best_per_span(hits: list[tuple[int, WordMarkHit]]) -> list[tuple[int, WordMarkHit]]:
    """One hit per owner and place: of overlapping hits of one owner the best (then longest) is kept."""
    ranked = sorted(hits, key=lambda oh: (-oh[1].score, -(oh[1].end - oh[1].start), oh[1].start, oh[1].mark))
    kept: list[tuple[int, WordMarkHit]] = []
    for owner, hit in ranked:
        if any(o == owner and h.start < hit.end and hit.start < h.end for o, h in kept):
            continue
        kept.append((owner, hit))
    kept.sort(key=lambda oh: (oh[1].start, oh[0]))
    return kept


# --- counterfeit vocabulary -----------------------------------------------------------------

# Next words that make a term innocent (weight 0) or weak: "fake fur", "copy paper",
# "imitation leather", "replica jersey" (an official product line of sports kit makers).
# fmt: off
_FAKE_NOUNS = dict.fromkeys(("fur", "plant", "plants", "flower", "flowers", "leather", "tan", "lashes", "eyelashes",
                             "nails", "grass", "tree", "snow", "blood", "news"), 0.0)
_COPY_NOUNS = dict.fromkeys(("paper", "papers", "machine", "holder", "stand", "editor", "writer", "writing", "shop"),
                            0.0)
_IMITATION_NOUNS = dict.fromkeys(("leather", "pearl", "pearls", "jewelry", "jewellery", "fur", "crab", "cuero", "piel",
                                  "cuir", "leder", "pelle", "couro"), 0.0)
_REPLICA_NOUNS = dict.fromkeys(("jersey", "jerseys", "kit", "shirt", "trikot", "maillot", "camiseta", "maglia"), 0.4)
# fmt: on

# (spelling, languages, weight, next-word weights). Spellings with one key are merged ("replica",
# "réplica"). Deliberately left out: French "faux" (faux fur, faux leather), "UA", bare "OEM"
# (genuine spare parts say it), bare "unbranded" (generic goods).
_WORD_TERMS: list[tuple[str, str, float, dict[str, float]]] = [
    # English
    ("replica", "en,it", 1.0, _REPLICA_NOUNS),
    ("counterfeit", "en", 1.0, {}),
    ("knockoff", "en", 1.0, {}),
    ("dupe", "en", 0.8, {}),
    ("fake", "en", 0.7, _FAKE_NOUNS),
    ("super fake", "en", 1.0, {}),
    ("copy", "en", 0.4, _COPY_NOUNS),
    ("copies", "en", 0.4, _COPY_NOUNS),
    ("high copy", "en", 1.0, {}),
    ("super copy", "en", 1.0, {}),
    ("first copy", "en", 0.9, {}),
    ("master copy", "en", 0.9, {}),
    ("mirror quality", "en", 1.0, {}),
    ("mirror grade", "en", 1.0, {}),
    ("mirror copy", "en", 1.0, {}),
    ("OEM quality", "en", 0.8, {}),
    ("inspired", "en", 0.5, {}),
    ("inspired by", "en", 0.6, {}),
    ("bootleg", "en", 0.8, {}),
    ("not original", "en", 0.8, {}),
    ("non original", "en", 0.8, {}),
    ("imitation", "en,fr", 0.6, _IMITATION_NOUNS),
    # Spanish
    ("réplica", "es,pt", 1.0, _REPLICA_NOUNS),
    ("imitación", "es", 0.8, _IMITATION_NOUNS),
    ("falso", "es,it,pt", 0.8, {}),
    ("falsa", "es,it,pt", 0.8, {}),
    ("falsos", "es,pt", 0.8, {}),
    ("falsas", "es,pt", 0.8, {}),
    ("falsificado", "es,pt", 1.0, {}),
    ("falsificada", "es,pt", 1.0, {}),
    ("copia", "es,it", 0.5, {}),
    ("calidad espejo", "es", 1.0, {}),
    # French
    ("réplique", "fr", 0.9, _REPLICA_NOUNS),
    ("contrefaçon", "fr", 1.0, {}),
    ("copie", "fr", 0.5, {}),
    ("qualité miroir", "fr", 1.0, {}),
    # German
    ("Replik", "de", 1.0, {}),
    ("Fälschung", "de", 1.0, {}),
    ("gefälscht", "de", 1.0, {}),
    ("Nachbildung", "de", 0.8, {}),
    ("Nachahmung", "de", 0.8, {}),
    ("Imitat", "de", 0.7, {}),
    ("Plagiat", "de", 0.9, {}),
    ("Kopie", "de", 0.5, {}),
    # Italian
    ("falsi", "it", 0.8, {}),
    ("imitazione", "it", 0.8, _IMITATION_NOUNS),
    ("contraffatto", "it", 1.0, {}),
    ("contraffatta", "it", 1.0, {}),
    ("contraffazione", "it", 1.0, {}),
    ("qualità specchio", "it", 1.0, {}),
    # Portuguese
    ("imitação", "pt", 0.8, _IMITATION_NOUNS),
    ("cópia", "pt", 0.5, {}),
    ("primeira linha", "pt", 0.9, {}),
    # Chinese
    ("高仿", "zh", 1.0, {}),
    ("精仿", "zh", 1.0, {}),
    ("仿品", "zh", 1.0, {}),
    ("复刻", "zh", 0.8, {}),
    ("原单", "zh", 0.8, {}),
    ("A货", "zh", 1.0, {}),
    ("超A", "zh", 0.9, {}),
    ("莆田", "zh", 0.7, {}),
    # Russian
    ("реплика", "ru", 1.0, {}),
    ("реплики", "ru", 1.0, {}),
    ("реплику", "ru", 1.0, {}),
    ("подделка", "ru", 1.0, {}),
    ("подделки", "ru", 1.0, {}),
    ("подделку", "ru", 1.0, {}),
    ("копия", "ru", 0.6, {}),
    ("копии", "ru", 0.6, {}),
    ("копию", "ru", 0.6, {}),
    ("люкс копия", "ru", 1.0, {}),
    ("фейк", "ru", 0.8, {}),
    ("не оригинал", "ru", 0.8, {}),
    # Turkish
    ("çakma", "tr", 0.9, {}),
    ("replika", "tr", 1.0, _REPLICA_NOUNS),
    ("taklit", "tr", 0.8, {}),
    ("sahte", "tr", 0.8, {}),
    ("kopya", "tr", 0.5, {}),
    ("birebir", "tr", 0.7, {}),
    ("A kalite", "tr", 0.8, {}),
    ("muadil", "tr", 0.5, {}),
]

# fmt: off
_BATTERY_WORDS = ("battery", "batteries", "batterie", "batterien", "batteria", "pile", "piles", "pila", "pilas", "cell",
                  "cells", "akku", "alkaline", "rechargeable", "size", "rated", "rating", "membership")
# fmt: on
_SCALE_WORDS = ("scale", "ratio", "aspect", "maßstab", "massstab", "echelle", "escala", "scala", "масштаб")

# Symbol terms, matched on the text with width and case folded (offsets kept one to one):
# (name, languages, weight, pattern, next words that cancel it).
_PATTERN_TERMS: list[tuple[str, str, float, re.Pattern[str], tuple[str, ...]]] = [
    ("1:1", "*", 0.9, re.compile(r"(?<![0-9a-z.,:/])1 ?[:比] ?1(?![0-9a-z.,:/%])"), _SCALE_WORDS),
    ("AAA+", "*", 0.9, re.compile(r"(?<![0-9a-z])a{3,6}\++(?![0-9a-z])"), ()),
    ("AAA", "*", 0.7, re.compile(r"(?<![0-9a-z])a{3,6}(?![0-9a-z+])"), _BATTERY_WORDS),
    (
        "unbranded ... style",
        "en",
        0.6,
        re.compile(r"\b(?:unbranded|non-branded|no logo|without logo)\b[^.\n]{0,60}?\b(?:style|look|type)\b"),
        (),
    ),
]
_NEXT_WORD = re.compile(r"[\W_]{0,5}?(\w+)")
_BEFORE_AAA = re.compile(r"(?:\bsize|\btype|\d\s?[x×])\s*$")


@dataclass(frozen=True)
class _Term:
    spelling: str
    language: str
    weight: float
    context: dict[str, float]  # keyed next word -> weight


@functools.cache
def _term_matcher() -> tuple[WordMarkMatcher, list[_Term]]:
    merged: dict[str, _Term] = {}
    for spelling, languages, weight, context in _WORD_TERMS:
        term_key = _stream_key(spelling)
        keyed_context = {_stream_key(word): value for word, value in context.items()}
        previous = merged.get(term_key)
        if previous is not None:
            langs = list(dict.fromkeys(previous.language.split(",") + languages.split(",")))
            keyed_context = {**previous.context, **keyed_context}
            merged[term_key] = _Term(previous.spelling, ",".join(langs), max(previous.weight, weight), keyed_context)
        else:
            merged[term_key] = _Term(spelling, languages, weight, keyed_context)
    terms = list(merged.values())
    return WordMarkMatcher(((i, t.spelling) for i, t in enumerate(terms)), max_edit_distance=0), terms


@functools.cache
def _lite_char(ch: str) -> str:
    normal = unicodedata.normalize("NFKC", ch)
    if len(normal) == 1 and normal.isdigit():
        return normal
    if ch.isascii():
        return ch.lower()
    folded = fold(ch)  # look-alikes too: Cyrillic "А" is an "a"
    if len(folded) == 1:
        return folded
    lowered = normal.casefold()
    return lowered if len(lowered) == 1 else ch


def _next_word_key(text: str, end: int) -> str:
    match = _NEXT_WORD.match(text, end)
    return _stream_key(match.group(1)) if match else ""


def counterfeit_terms(*, title: str, description: str = "") -> list[TermHit]:
    """Counterfeit vocabulary in the title and description, through the same folding as the
    word marks ("R3PLICA", "rеplica" with a Cyrillic е). A term inside a longer term ("copy" in
    "super copy") is reported once, as the longer one; innocent phrases ("fake fur",
    "copy paper", "AAA batteries", "1:1 scale") are dropped."""
    matcher, terms = _term_matcher()
    hits: list[TermHit] = []
    for owner, hit in matcher.find(title=title):
        hits.append(_term_hit(terms[owner], hit, title))
    for owner, hit in matcher.find(title=description):
        hits.append(_term_hit(terms[owner], hit, description, field="description"))
    for field, text in (("title", title), ("description", description)):
        if not text:
            continue
        lite = "".join(_lite_char(ch) for ch in read_letters(text))
        for name, language, weight, pattern, cancelled_by in _PATTERN_TERMS:
            for match in pattern.finditer(lite):
                start, end = match.span()
                if cancelled_by:
                    after = _NEXT_WORD.match(lite, end)
                    if after and after.group(1) in cancelled_by:
                        continue
                    if name == "AAA" and _BEFORE_AAA.search(lite, 0, start):
                        continue
                hits.append(TermHit(name, text[start:end], field, start, end, language, weight))
    hits = [hit for hit in hits if hit.score > 0]
    return _outermost(hits)


def _term_hit(term: _Term, hit: WordMarkHit, text: str, field: str = "title") -> TermHit:
    weight = term.weight
    if term.context:
        weight = term.context.get(_next_word_key(text, hit.end), weight)
    return TermHit(term.spelling, hit.found, field, hit.start, hit.end, term.language, weight)


def _outermost(hits: list[TermHit]) -> list[TermHit]:
    ranked = sorted(hits, key=lambda h: (h.field != "title", -(h.end - h.start), -h.score, h.start))
    kept: list[TermHit] = []
    for hit in ranked:
        if any(k.field == hit.field and k.start <= hit.start and hit.end <= k.end for k in kept):
            continue
        kept.append(hit)
    kept.sort(key=lambda h: (h.field != "title", h.start))
    return kept


# --- price --------------------------------------------------------------------------------------


def _decimal(value: object) -> Decimal | None:
    if value is None:
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def price_signal(
    *,
    price: Decimal | None,
    currency: str,
    reference_min: Decimal | None,
    reference_max: Decimal | None,
    reference_currency: str,
    far_below: float = PRICE_FAR_BELOW,
    full_below: float = PRICE_FULL_BELOW,
) -> PriceSignal | None:
    """How far the price lies below the brand's reference range, in the same currency only.

    None when a price or the reference minimum is missing or not positive ("0" is "ask for a
    price", not a bargain) or the currencies differ (no conversion: rates are not the engine's
    to guess). Score 0 at or above `far_below` x minimum (sales and used goods stay silent),
    rising linearly to 1.0 at `full_below` x minimum and below.
    """
    amount = _decimal(price)
    low = _decimal(reference_min)
    high = _decimal(reference_max)
    if amount is None or low is None or amount <= 0 or low <= 0:
        return None
    if not currency or not reference_currency or currency.strip().upper() != reference_currency.strip().upper():
        return None
    ratio = float(amount / low)
    if ratio >= far_below:
        score = 0.0
    elif full_below >= far_below:
        score = 1.0
    else:
        score = min(1.0, (far_below - ratio) / (far_below - full_below))
    return PriceSignal(amount, currency.strip().upper(), low, high, round(ratio, 4), round(score, 4))


# --- combined -----------------------------------------------------------------------------------


def text_signals(
    *,
    title: str,
    description: str,
    word_marks: list[WordMarkHit],
    price: PriceSignal | None,
    terms: list[TermHit] | None = None,
    mark_only: float = MARK_ONLY_SCORE,
    terms_weight: float = TERMS_WEIGHT,
    price_weight: float = PRICE_WEIGHT,
    no_mark_cap: float = NO_MARK_CAP,
) -> TextSignals:
    """Combine one brand's word mark hits with the counterfeit terms and the price signal.

        mark   = best word mark hit score (0 without one)
        terms  = 1 - prod(1 - best score of each distinct term)        (noisy-or)
        corr   = 1 - (1 - terms_weight * terms) * (1 - price_weight * price)
        score  = mark * (mark_only + (1 - mark_only) * corr)     with a mark
               = no_mark_cap * corr                              without one

    A mark alone gives `mark_only` (0.5): naming a brand is what resellers of genuine goods do
    too. Counterfeit talk and a price far below the reference raise it towards the mark's score;
    without a mark they are capped (`no_mark_cap`), as nothing ties the listing to this brand.
    `terms` defaults to `counterfeit_terms(title=..., description=...)`.
    """
    if terms is None:
        terms = counterfeit_terms(title=title, description=description)
    mark = max((hit.score for hit in word_marks), default=0.0)
    best_per_term: dict[str, float] = {}
    for hit in terms:
        best_per_term[hit.term] = max(best_per_term.get(hit.term, 0.0), hit.score)
    missing = 1.0
    for value in best_per_term.values():
        missing *= 1.0 - min(1.0, value)
    terms_score = 1.0 - missing
    price_score = price.score if price is not None else 0.0
    corroboration = 1.0 - (1.0 - terms_weight * terms_score) * (1.0 - price_weight * price_score)
    score = mark * (mark_only + (1.0 - mark_only) * corroboration) if mark > 0 else no_mark_cap * corroboration
    return TextSignals(
        word_marks=list(word_marks),
        counterfeit_terms=list(terms),
        price=price,
        score=round(min(1.0, max(0.0, score)), 4),
        mark_score=round(mark, 4),
        terms_score=round(terms_score, 4),
        price_score=round(price_score, 4),
    )
