"""Text signals: word marks through evasions (with spans in the original text), counterfeit terms
in nine languages, the price signal and the combined score. Plain Python, no database."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.text_signals import (
    FUZZY_STOPWORDS,
    PriceSignal,
    TermHit,
    TextSignals,
    WordMarkHit,
    WordMarkMatcher,
    counterfeit_terms,
    price_signal,
    text_signals,
)

MARKS = [
    ("gucci", "Gucci"),
    ("lv", "Louis Vuitton"),
    ("lv", "LV"),
    ("nike", "Nike"),
    ("chanel", "Chanel"),
    ("chanel", "CC"),
    ("hermes", "Hermès"),
]


@pytest.fixture(scope="module")
def matcher() -> WordMarkMatcher:
    return WordMarkMatcher(MARKS)


def only_hit(matcher: WordMarkMatcher, title: str, description: str = "") -> tuple[object, WordMarkHit]:
    hits = matcher.find(title=title, description=description)
    assert len(hits) == 1, hits
    return hits[0]


# (listing title, the exact span expected as `found`)
EVASIONS = {
    "upper case": ("GUCCI bag", "GUCCI"),
    "cyrillic es": ("Gucсi bag", "Gucсi"),
    "spaced letters": ("New G u c c i bag", "G u c c i"),
    "dotted letters": ("G.U.C.C.I. belt", "G.U.C.C.I"),
    "brackets for c": ("Gu((i wallet", "Gu((i"),
    "digit one for i": ("GUCC1 shoes", "GUCC1"),
    "tripled letter": ("Guccci purse", "Guccci"),
    "hyphenated suffix": ("gucci-inspired tote", "gucci"),
    "fullwidth": ("ＧＵＣＣＩ 包", "ＧＵＣＣＩ"),
    "accent": ("Guccí scarf", "Guccí"),
    "combining accent": ("Gucci\u0301 scarf", "Gucci\u0301"),
    "zero-width space": ("Gu\u200bcci belt", "Gu\u200bcci"),
    "zero-width joiner and soft hyphen": ("G\u200du\u00adcci belt", "G\u200du\u00adcci"),
    "circled letters": ("Ⓖⓤⓒⓒⓘ bag", "Ⓖⓤⓒⓒⓘ"),
    "in parentheses": ("Bag (Gucci) new", "Gucci"),
    "glued to chinese": ("高仿GUCCI包", "GUCCI"),
    "after a word ending in its first letter": ("big gucci bag", "gucci"),
}


@pytest.mark.parametrize(("title", "found"), EVASIONS.values(), ids=EVASIONS.keys())
def test_word_mark_is_found_through_every_evasion_with_its_original_span(
    matcher: WordMarkMatcher, title: str, found: str
) -> None:
    owner, hit = only_hit(matcher, title)

    assert owner == "gucci"
    assert hit.mark == "Gucci"
    assert hit.found == found
    assert title[hit.start : hit.end] == found
    assert hit.field == "title"
    assert hit.normalised == "guci"
    assert hit.method in {"exact", "folded"}
    assert hit.distance == 0
    assert hit.score >= 0.9


@pytest.mark.parametrize(
    ("title", "found"),
    [("Guci bag", "Guci"), ("Gucic bag", "Gucic"), ("Gucii bag", "Gucii"), ("Giucci belt", "Giucci")],
    ids=["letter missing", "transposition", "substitution", "letter added"],
)
def test_misspellings_of_long_marks_are_fuzzy_hits_at_distance_one(
    matcher: WordMarkMatcher, title: str, found: str
) -> None:
    owner, hit = only_hit(matcher, title)

    assert owner == "gucci"
    assert (hit.found, hit.method, hit.distance) == (found, "fuzzy", 1)
    assert title[hit.start : hit.end] == found
    assert 0 < hit.score < 0.9


def test_short_marks_are_never_fuzzy() -> None:
    assert WordMarkMatcher([("nike", "Nike")]).find(title="Nika Nkie Nikke Mike shoes") == []


@pytest.mark.parametrize(
    ("title", "found", "method"),
    [
        ("Louis Vuitton bag", "Louis Vuitton", "exact"),
        ("LouisVuitton bag", "LouisVuitton", "folded"),
        ("LOUIS-VUITT0N bag", "LOUIS-VUITT0N", "folded"),
        ("Lоuis Vuittоn bag", "Lоuis Vuittоn", "folded"),  # Cyrillic о
        ("Louis Vuiton bag", "Louis Vuiton", "fuzzy"),
        ("Luois Vuitton bag", "Luois Vuitton", "fuzzy"),
    ],
)
def test_multi_word_marks(matcher: WordMarkMatcher, title: str, found: str, method: str) -> None:
    owner, hit = only_hit(matcher, title)

    assert owner == "lv"
    assert (hit.mark, hit.found, hit.method) == ("Louis Vuitton", found, method)
    assert title[hit.start : hit.end] == found


def test_an_exact_spelling_is_reported_as_exact_with_full_score(matcher: WordMarkMatcher) -> None:
    _, hit = only_hit(matcher, "Nike Air Max")

    assert (hit.found, hit.method, hit.score, hit.start, hit.end) == ("Nike", "exact", 1.0, 0, 4)


def test_folding_that_only_changes_case_or_width_keeps_full_score_look_alikes_score_less(
    matcher: WordMarkMatcher,
) -> None:
    (_, plain), (_, look_alike) = only_hit(matcher, "GUCCI"), only_hit(matcher, "Gucсi")

    assert (plain.method, plain.score) == ("folded", 1.0)
    assert look_alike.method == "folded"
    assert 0.5 < look_alike.score < plain.score


def test_hits_are_found_in_the_description_with_offsets_in_the_description(matcher: WordMarkMatcher) -> None:
    description = "Brand new, never used. Original G.U.C.C.I dust bag included."
    owner, hit = only_hit(matcher, "Leather handbag", description)

    assert (owner, hit.field, hit.found) == ("gucci", "description", "G.U.C.C.I")
    assert description[hit.start : hit.end] == "G.U.C.C.I"


def test_every_occurrence_and_every_mark_is_reported_in_reading_order(matcher: WordMarkMatcher) -> None:
    hits = matcher.find(title="Gucci and Nike", description="like Gucci")

    assert [(owner, hit.field, hit.found) for owner, hit in hits] == [
        ("gucci", "title", "Gucci"),
        ("nike", "title", "Nike"),
        ("gucci", "description", "Gucci"),
    ]


@pytest.mark.parametrize("title", ["Nikes for sale", "Nike's classic", "NIKES"])
def test_plural_and_possessive_still_hit_with_the_mark_as_span(matcher: WordMarkMatcher, title: str) -> None:
    owner, hit = only_hit(matcher, title)

    assert owner == "nike"
    assert hit.found.casefold() == "nike"


@pytest.mark.parametrize(
    "title",
    [
        "Cucina pasta maker",
        "Guiccardini book",
        "Copyright 2024 notebook",
        "Nikon camera",
        "Dunike shoes",
        "Mannikin display",
        "Lucid dreams",
        "TV channel box",
        "Gui and holly wreath",
        "Inspired by nature",
    ],
)
def test_innocent_titles_give_no_hit(matcher: WordMarkMatcher, title: str) -> None:
    assert matcher.find(title=title) == []


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("LV bag", [("lv", "LV")]),
        ("Lv monogram", [("lv", "Lv")]),
        ("ＬＶ bag", [("lv", "ＬＶ")]),
        ("СС earrings", [("chanel", "СС")]),  # Cyrillic С
        ("IV drip stand", []),  # TR39 makes "I" an "l", but for a short mark that is too loose
        ("1V cable", []),
        ("L V bag", []),
        ("L.V. bag", []),
        ("CCTV camera", []),
        ("LVs", []),
        ("C bag", []),
    ],
)
def test_short_marks_match_only_as_whole_tokens_exactly_after_folding(
    matcher: WordMarkMatcher, title: str, expected: list[tuple[str, str]]
) -> None:
    assert [(owner, hit.found) for owner, hit in matcher.find(title=title)] == expected


def test_a_word_mark_hit_records_all_its_evidence(matcher: WordMarkMatcher) -> None:
    _, hit = only_hit(matcher, "Sale: G u c с i bag")

    assert hit == WordMarkHit(
        mark="Gucci",
        found="G u c с i",
        field="title",
        start=6,
        end=15,
        normalised="guci",
        method="folded",
        distance=0,
        score=hit.score,
    )


def test_the_caller_key_comes_back_for_every_spelling() -> None:
    matcher = WordMarkMatcher([(101, "Louis Vuitton"), (101, "LV"), (202, "Louis Vuitton")])

    owners = sorted(owner for owner, _ in matcher.find(title="Louis Vuitton LV"))

    assert owners == [101, 101, 202]


def test_fuzzy_stopwords_are_configurable() -> None:
    assert "channel" in FUZZY_STOPWORDS
    strict = WordMarkMatcher([("chanel", "Chanel")], fuzzy_stopwords=())

    assert [hit.method for _, hit in strict.find(title="TV channel box")] == ["fuzzy"]
    assert WordMarkMatcher([("chanel", "Chanel")]).find(title="TV channel box") == []


def test_fuzzy_matching_can_be_switched_off_or_widened() -> None:
    assert WordMarkMatcher([(1, "Gucci")], max_edit_distance=0).find(title="Gucic") == []
    wide = WordMarkMatcher([(1, "Balenciaga")], max_edit_distance=2)

    assert [(hit.found, hit.distance) for _, hit in wide.find(title="Balencigaa Balnciagaa")] == [
        ("Balencigaa", 1),
        ("Balnciagaa", 2),
    ]


def test_the_matcher_index_does_not_scan_every_mark() -> None:
    many = WordMarkMatcher([(i, f"Brand{i:04d}x") for i in range(5000)] + [("g", "Gucci")])

    assert [owner for owner, _ in many.find(title="fake gucci", description="word " * 100)] == ["g"]
    assert len(many) == 5001


_SEPARATORS = [" ", ".", "-", "_", "\u200b", "\u200c", "\u00ad", "\u2060", "*"]


@settings(max_examples=200, deadline=None)
@given(
    words=st.lists(st.text(alphabet="abdefhjkmnopqrtvwxyz", min_size=1, max_size=8), min_size=0, max_size=12),
    position=st.integers(min_value=0, max_value=12),
    upper=st.lists(st.booleans(), min_size=5, max_size=5),
    separators=st.lists(st.sampled_from(["", *_SEPARATORS]), min_size=4, max_size=4),
)
def test_property_separators_invisible_characters_and_case_inside_a_mark_are_still_found(
    words: list[str], position: int, upper: list[bool], separators: list[str]
) -> None:
    letters = [ch.upper() if up else ch for ch, up in zip("gucci", upper, strict=True)]
    mark = letters[0] + "".join(sep + letter for sep, letter in zip(separators, letters[1:], strict=True))
    before, after = words[:position], words[position:]
    title = " ".join([*before, mark, *after])
    start = len(" ".join(before)) + (1 if before else 0)

    hits = WordMarkMatcher([("gucci", "Gucci")]).find(title=title)

    assert [(hit.start, hit.end, hit.found) for _, hit in hits] == [(start, start + len(mark), mark)]


# --- counterfeit terms --------------------------------------------------------------------------

TERMS = {
    "en replica": ("Gucci bag replica", "replica", "en"),
    "en leet replica": ("R3PLICA Gucci bag", "replica", "en"),
    "en cyrillic replica": ("rеplica Gucci bag", "replica", "en"),
    "en 1:1": ("1:1 Gucci belt", "1:1", "*"),
    "en AAA": ("AAA quality Gucci", "AAA", "*"),
    "en AAA+": ("AAA+ Gucci", "AAA+", "*"),
    "en mirror quality": ("Mirror quality Gucci", "mirror quality", "en"),
    "en dupe": ("Gucci dupe bag", "dupe", "en"),
    "en inspired by": ("Inspired by Gucci", "inspired by", "en"),
    "en fake": ("fake Gucci", "fake", "en"),
    "en copy": ("Gucci copy", "copy", "en"),
    "en knockoff": ("Gucci knock-off", "knockoff", "en"),
    "en high copy": ("High Copy Gucci", "high copy", "en"),
    "en super copy": ("super copy gucci", "super copy", "en"),
    "en OEM quality": ("OEM quality Gucci", "OEM quality", "en"),
    "en unbranded style": ("Unbranded bag, Gucci style", "unbranded ... style", "en"),
    "es réplica": ("Bolso réplica Gucci", "replica", "es"),
    "es imitación": ("Imitación Gucci", "imitación", "es"),
    "fr copie": ("Sac copie Gucci", "copie", "fr"),
    "fr contrefaçon": ("Contrefaçon Gucci", "contrefaçon", "fr"),
    "de Nachbildung": ("Gucci Nachbildung", "Nachbildung", "de"),
    "de Fälschung": ("Gucci Fälschung", "Fälschung", "de"),
    "it falso": ("Borsa Gucci falsa", "falsa", "it"),
    "it imitazione": ("Gucci imitazione", "imitazione", "it"),
    "pt falso": ("Bolsa Gucci falso", "falso", "pt"),
    "pt imitação": ("Gucci imitação", "imitação", "pt"),
    "zh 高仿": ("高仿Gucci包", "高仿", "zh"),
    "zh 复刻": ("复刻古驰", "复刻", "zh"),
    "zh 精仿": ("精仿包包", "精仿", "zh"),
    "zh 1比1": ("古驰1比1", "1:1", "*"),
    "ru реплика": ("Сумка Gucci реплика", "реплика", "ru"),
    "ru копия": ("Gucci копия", "копия", "ru"),
    "tr çakma": ("Çakma Gucci çanta", "çakma", "tr"),
    "tr replika": ("Gucci replika", "replika", "tr"),
}


@pytest.mark.parametrize(("title", "term", "language"), TERMS.values(), ids=TERMS.keys())
def test_counterfeit_terms_in_every_language(title: str, term: str, language: str) -> None:
    hits = counterfeit_terms(title=title)

    assert len(hits) == 1, hits
    (hit,) = hits
    assert hit.term == term
    assert language in hit.language.split(",")
    assert title[hit.start : hit.end] == hit.found
    assert hit.field == "title"
    assert 0 < hit.score <= 1


@pytest.mark.parametrize(
    "text",
    [
        "Copyright 2024 notebook",
        "Dupont pen",
        "AAA batteries, pack of 24",
        "4x AAA alkaline",
        "Size AAA",
        "Fake fur coat",
        "Copy paper A4 500 sheets",
        "1:1 scale model",
        "Photo frame 1:10",
        "Time 11:15",
        "Imitation leather sofa",
        "Replicate the results",
        "Copying is prohibited",
        "Unbranded phone case",
        "Fakenham market",
        "Pastel copier",
    ],
)
def test_innocent_uses_of_counterfeit_words_are_not_terms(text: str) -> None:
    assert counterfeit_terms(title=text) == []


def test_a_term_inside_a_longer_term_is_reported_once_as_the_longer() -> None:
    assert [hit.term for hit in counterfeit_terms(title="super copy bag, inspired by Gucci")] == [
        "super copy",
        "inspired by",
    ]


def test_replica_jersey_is_only_a_weak_term() -> None:
    (hit,) = counterfeit_terms(title="Replica jersey 2024")

    assert hit.term == "replica"
    assert hit.score < 0.5


def test_terms_are_found_in_the_description_with_its_offsets() -> None:
    description = "Top quality, 1:1 with the original."
    (hit,) = counterfeit_terms(title="Leather bag", description=description)

    assert (hit.field, hit.found, description[hit.start : hit.end]) == ("description", "1:1", "1:1")


# --- price --------------------------------------------------------------------------------------


def signal(price: str | None, reference_min: str | None = "1000", **kwargs: object) -> PriceSignal | None:
    arguments = {
        "price": None if price is None else Decimal(price),
        "currency": "EUR",
        "reference_min": None if reference_min is None else Decimal(reference_min),
        "reference_max": Decimal("3000"),
        "reference_currency": "EUR",
        **kwargs,
    }
    return price_signal(**arguments)


def test_price_inside_or_above_the_range_scores_zero() -> None:
    for price in ("1000", "2000", "3000", "9000"):
        result = signal(price)
        assert result is not None
        assert result.score == 0.0


def test_price_a_little_below_the_range_scores_zero() -> None:
    assert signal("800").score == 0.0  # a sale
    assert signal("350").score == 0.0  # exactly at far_below x minimum


def test_price_score_rises_far_below_the_range_and_is_capped() -> None:
    scores = [signal(price).score for price in ("349", "300", "250", "200", "100", "1")]

    assert scores == sorted(scores)
    assert 0 < scores[0] < 0.05
    assert scores[3:] == [1.0, 1.0, 1.0]


def test_price_signal_records_its_inputs_and_ratio() -> None:
    result = signal("250")

    assert result == PriceSignal(
        price=Decimal("250"),
        currency="EUR",
        reference_min=Decimal("1000"),
        reference_max=Decimal("3000"),
        ratio=0.25,
        score=result.score,
    )
    assert result.score == pytest.approx(2 / 3, abs=1e-3)


def test_price_signal_thresholds_can_be_overridden() -> None:
    assert signal("500", far_below=0.6).score > 0
    assert signal("500", far_below=0.6, full_below=0.6).score == 1.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"price": None},
        {"reference_min": None},
        {"price": Decimal("0")},
        {"price": Decimal("-5")},
        {"reference_min": Decimal("0")},
        {"currency": "USD"},
        {"currency": ""},
        {"reference_currency": "GBP"},
    ],
    ids=["no price", "no reference", "zero price", "negative price", "zero reference", "other currency",
         "no currency", "other reference currency"],
)  # fmt: skip
def test_price_signal_is_none_without_comparable_data(kwargs: dict) -> None:
    arguments = {
        "price": Decimal("100"),
        "currency": "EUR",
        "reference_min": Decimal("1000"),
        "reference_max": None,
        "reference_currency": "EUR",
        **kwargs,
    }
    assert price_signal(**arguments) is None


def test_currency_codes_compare_case_insensitively() -> None:
    result = price_signal(
        price=Decimal("100"),
        currency="eur",
        reference_min=Decimal("1000"),
        reference_max=None,
        reference_currency="EUR",
    )

    assert result is not None
    assert result.currency == "EUR"
    assert result.reference_max is None


# --- combined -----------------------------------------------------------------------------------


def combined(matcher: WordMarkMatcher, title: str, price: str | None = None) -> TextSignals:
    marks = [hit for _, hit in matcher.find(title=title)]
    return text_signals(title=title, description="", word_marks=marks, price=signal(price) if price else None)


def test_combined_score_orders_the_evidence(matcher: WordMarkMatcher) -> None:
    everything = combined(matcher, "Gucci replica bag", price="100")
    mark_and_term = combined(matcher, "Gucci replica bag")
    mark_and_price = combined(matcher, "Gucci bag", price="100")
    mark_alone = combined(matcher, "Gucci bag")
    term_and_price = combined(matcher, "replica bag", price="100")
    nothing = combined(matcher, "Leather bag")

    assert everything.score > mark_and_term.score > mark_alone.score > 0
    assert everything.score > mark_and_price.score > mark_alone.score
    assert mark_alone.score > term_and_price.score > nothing.score == 0
    assert everything.score <= 1.0


def test_a_weaker_mark_hit_gives_a_weaker_score(matcher: WordMarkMatcher) -> None:
    assert combined(matcher, "Gucci bag").score > combined(matcher, "Guci bag").score > 0


def test_repeating_a_term_does_not_raise_the_score(matcher: WordMarkMatcher) -> None:
    assert combined(matcher, "Gucci replica").score == combined(matcher, "Gucci replica replica REPLICA").score


def test_combined_weights_can_be_overridden(matcher: WordMarkMatcher) -> None:
    (_, hit) = only_hit(matcher, "Gucci bag")

    result = text_signals(title="Gucci bag", description="", word_marks=[hit], price=None, mark_only=0.8)

    assert result.score == 0.8


def test_terms_can_be_passed_in_instead_of_recomputed() -> None:
    term = TermHit(term="replica", found="replica", field="title", start=0, end=7, language="en", score=1.0)

    result = text_signals(title="", description="", word_marks=[], price=None, terms=[term])

    assert result.counterfeit_terms == [term]
    assert result.score > 0


def test_as_dict_is_json_serialisable_evidence(matcher: WordMarkMatcher) -> None:
    result = combined(matcher, "G u c с i replica 1:1", price="150")

    data = json.loads(json.dumps(result.as_dict()))

    assert data["score"] == result.score
    assert data["price"]["price"] == "150"
    assert data["price"]["reference_min"] == "1000"
    assert data["word_marks"][0]["found"] == "G u c с i"
    assert data["word_marks"][0]["normalised"] == "guci"
    assert {term["term"] for term in data["counterfeit_terms"]} == {"replica", "1:1"}
    assert set(data["components"]) == {"mark", "terms", "price"}


def test_as_dict_without_price() -> None:
    result = text_signals(title="bag", description="", word_marks=[], price=None)

    assert json.loads(json.dumps(result.as_dict()))["price"] is None


def test_a_doubled_m_between_separators_matches_the_mark() -> None:
    # key() collapses "mm" before TR39 turns "m" into "rn", so "T.O.M.M.Y" and "Tommy" key
    # differently there; keyed character by character they coincide.
    hits = WordMarkMatcher([("tommy", "Tommy")]).find(title="T.O.M.M.Y jeans", description="Tom my")

    assert [(hit.field, hit.found) for _, hit in hits] == [("title", "T.O.M.M.Y"), ("description", "Tom my")]
