"""The FAQ index: Okapi BM25 over SudachiPy terms, built once per process, and its confidence.

BM25 is written out here (``Index``, a few dozen lines) rather than taken from a package such
as bm25s: the corpus is about a hundred short entries, a dict of postings answers a question in
well under a millisecond in plain Python, and we need per-field and per-term weights that a
packaged scorer hides; no numpy/scipy dependency to keep up to date.

Every number that was tuned is in ``Params``; ``PARAMS`` holds the values in use. They were
chosen on the tuning part of the evaluation set only and checked by k-fold cross-validation
(``manage.py chat_eval --cross-validate``; ``evaluation.py``, docs/decisions.md).
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from dataclasses import dataclass
from functools import cache

from keizoku.help.content import CATEGORIES, FaqEntry, faq_entries

from . import text

# Query terms that say what kind of answer is wanted but not about what: counted lightly.
LIGHT_TERMS = frozenset(
    {
        *("どう", "何", "何処", "どこ", "何故", "なぜ", "いつ", "如何", "どれ", "どの", "誰"),
        *(
            text.READING + r
            for r in ("ドウ", "ナニ", "ナン", "ドコ", "ナゼ", "イツ", "ドレ", "ドノ", "ダレ")
        ),
    }
)
# The idf mass of known words from which a question is specific enough (about one word found
# in a single entry, or two found in a handful).
SPECIFIC_IDF = 5.0


@dataclass(frozen=True)
class Params:
    """The tuned numbers of retrieval (a term's weight is relative to a whole word's 1.0)."""

    # Two fields, scored apart and added with weights: what the entry answers (its question,
    # its keywords, its category) and the answer itself. Summing per-field scores (rather than
    # one bag of words) keeps a match on the question from being flattened by saturation.
    title: float = 3.0
    body: float = 1.0
    k1: float = 1.2
    b: float = 0.75
    light: float = 0.3  # interrogatives (LIGHT_TERMS)
    reading: float = 0.5  # a match by reading only (ｶｲｲﾝﾄｳﾛｸ) is a fallback
    bigram: float = 0.2  # two characters in common: a hint, not a word
    synonym: float = 0.0  # a shared Sudachi synonym group (転居 / 引っ越し)
    sound: float = 0.0  # three kana of the reading in common (typos, kana for kanji)
    kana: bool = False  # a run of kana cut into the readings of the entries' words
    keywords: bool = True  # the entries' curated keywords in the title field
    synonyms: bool = True  # chat/synonyms.toml's expansion (questions and entries alike)

    def weight(self, term: str) -> float:
        if term in LIGHT_TERMS:
            return self.light
        prefix = term[:2]
        if prefix == text.READING:
            return self.reading
        if prefix == text.BIGRAM:
            return self.bigram
        if prefix == text.SYNONYM:
            return self.synonym
        if prefix == text.SOUND:
            return self.sound
        return 1.0

    def replace(self, **changes) -> Params:
        return dataclasses.replace(self, **changes)


PARAMS = Params(k1=0.6, light=0.15, reading=0.0, bigram=0.1, synonym=0.2, sound=0.2)
PARAMS_EN = Params(title=2.0, light=1.0, reading=0.0, bigram=0.0)
PARAMS_BY_LANGUAGE = {"ja": PARAMS, "en": PARAMS_EN}


@dataclass(frozen=True, slots=True)
class Hit:
    entry: FaqEntry
    score: float


@dataclass(frozen=True, slots=True)
class Ranking:
    hits: tuple[Hit, ...]  # best first, only entries sharing a term with the question
    confidence: float  # 0–1, see ``Index.confidence``

    @property
    def best(self) -> FaqEntry | None:
        return self.hits[0].entry if self.hits else None

    def top(self, n: int = 3) -> tuple[FaqEntry, ...]:
        return tuple(hit.entry for hit in self.hits[:n])


JA, EN = "ja", "en"
ANALYSERS = {JA: text.analyse, EN: text.analyse_english}


def analyse(question: str, params: Params = PARAMS, language: str = JA) -> text.Analysis:
    return ANALYSERS[language](question, expand=params.synonyms)


@cache
def _entry_analyses(
    entry: FaqEntry, keywords: bool, synonyms: bool, language: str
) -> dict[str, text.Analysis]:
    if language == EN:
        title = [entry.question_en, *(entry.keywords_en if keywords else ())]
        body = entry.answer_en
    else:
        title = [
            entry.question,
            *(entry.keywords if keywords else ()),
            CATEGORIES.get(entry.category, ""),
        ]
        body = entry.answer
    analyser = ANALYSERS[language]
    return {
        "title": analyser(" ".join(title), expand=synonyms),
        "body": analyser(body, expand=synonyms),
    }


def entry_fields(
    entry: FaqEntry, params: Params = PARAMS, language: str = JA
) -> dict[str, Counter[str]]:
    analyses = _entry_analyses(entry, params.keywords, params.synonyms, language)
    return {field: Counter(analysis.terms()) for field, analysis in analyses.items()}


class Index:
    """Okapi BM25 per field: Σ_field w_f Σ_t idf(t) · tf·(k1+1) / (tf + k1·(1 − b + b·|d|/avgdl)).

    idf comes from whole entries (a term in the answer of every entry is common whatever the
    field), the length normalisation from each field.
    """

    def __init__(
        self,
        entries: tuple[FaqEntry, ...],
        params: Params = PARAMS,
        language: str = JA,
    ):
        self.entries = entries
        self.params = params
        self.language = language
        fields = [entry_fields(entry, params, language) for entry in entries]
        n = len(entries)
        df: Counter[str] = Counter()
        for doc in fields:
            df.update(set().union(*doc.values()))
        # The "+1" form of idf stays positive even for a term in every entry.
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self.unknown_idf = math.log(1 + (n + 0.5) / 0.5)  # a term no entry uses
        self.term_sets = {
            entry.id: frozenset().union(*doc.values())
            for entry, doc in zip(entries, fields, strict=True)
        }
        self.postings: dict[str, dict[int, float]] = {}
        k1, b = params.k1, params.b
        for field, field_weight in (("title", params.title), ("body", params.body)):
            lengths = [sum(doc[field].values()) for doc in fields]
            average = (sum(lengths) / n if n else 0) or 1.0
            for i, doc in enumerate(fields):
                norm = k1 * (1 - b + b * lengths[i] / average)
                for term, tf in doc[field].items():
                    weight = field_weight * self.idf[term] * tf * (k1 + 1) / (tf + norm)
                    postings = self.postings.setdefault(term, {})
                    postings[i] = postings.get(i, 0.0) + weight
        self.readings = {t for t in self.postings if t.startswith(text.READING)}

    def _unit_terms(self, unit: text.Unit) -> tuple[str, ...]:
        """The unit's terms; an unknown katakana word (ｶｲｲﾝﾄｳﾛｸ) is cut into known readings."""
        extra = [
            part
            for term in unit.terms
            if term.startswith(text.READING) and term not in self.postings
            for part in self._split_reading(term[len(text.READING) :])
        ]
        return (*unit.terms, *extra)

    def _split_reading(self, kana: str, shortest: int = 1) -> list[str]:
        """Longest known readings first, left to right; an unmatched character is skipped."""
        found, i = [], 0
        while i < len(kana):
            for j in range(len(kana), i + shortest - 1, -1):
                candidate = text.READING + kana[i:j]
                if candidate in self.readings:
                    found.append(candidate)
                    i = j
                    break
            else:
                i += 1
        return found

    def rank(self, question: str) -> Ranking:
        return self.rank_analysis(analyse(question, self.params, self.language))

    def rank_analysis(self, analysis: text.Analysis) -> Ranking:
        """The ranking of a question already cut by ``analyse`` (tuning re-ranks the same cut)."""
        units = {unit.form: self._unit_terms(unit) for unit in analysis.units}
        query = {term for terms in units.values() for term in terms}
        query.update(analysis.bigrams)
        query.update(analysis.sounds)
        if self.params.kana:
            for run in analysis.kana:
                query.update(self._split_reading(run, shortest=2))
        weight = self.params.weight
        scores: dict[int, float] = {}
        for term in query:
            w = weight(term)
            if not w:
                continue
            for i, score in self.postings.get(term, {}).items():
                scores[i] = scores.get(i, 0.0) + w * score
        order = sorted(scores, key=lambda i: (-scores[i], i))
        hits = tuple(Hit(self.entries[i], scores[i]) for i in order)
        return Ranking(hits=hits, confidence=self.confidence(units, hits))

    def confidence(self, units: dict[str, tuple[str, ...]], hits: tuple[Hit, ...]) -> float:
        """How sure the best entry is the answer, from 0 to 1: coverage × (½ + ½ margin).

        *coverage*: the share of the question's words, weighted by idf (a word no entry knows
        weighs the most), that the best entry contains — low for a question off the subject.
        A word counts whole if the entry has it, else by the share of its parts and readings
        the entry has (証券番号 against 証券). *margin*: how far the best score stands above
        the second — low when two entries tie. The threshold below which the chat offers three
        entries instead is calibrated on the tuning part of the evaluation set (``manage.py
        chat_eval --calibrate``; see ``answers.CONFIDENCE_THRESHOLD``).
        """
        if not hits or not units:
            return 0.0
        weight = self.params.weight
        best = hits[0]
        best_terms = self.term_sets[best.entry.id]
        total = covered = 0.0
        for form, terms in units.items():
            w = self.idf.get(form, self.unknown_idf) * weight(form)
            total += w
            if form in best_terms:
                covered += w
            elif len(terms) > 1:
                others = terms[1:]
                covered += w * sum(t in best_terms for t in others) / len(others)
        coverage = covered / total if total else 0.0
        # A question of one common word (「保険」, 「手続き」) says too little to be sure of.
        known = sum(self.idf[form] * weight(form) for form in units if form in self.idf)
        specificity = min(1.0, known / SPECIFIC_IDF)
        second = hits[1].score if len(hits) > 1 else 0.0
        margin = 1 - second / best.score if best.score > 0 else 0.0
        return round(specificity * coverage * (0.5 + 0.5 * margin), 4)


@cache
def index(language: str = JA) -> Index:
    """The index of every FAQ entry in ``language``, built on first use and kept for the
    process."""
    return Index(faq_entries(), PARAMS_BY_LANGUAGE[language], language=language)


def language_of(question: str, page_language: str = JA) -> str:
    """The language the question is answered in: English questions get the English FAQ."""
    return EN if text.is_english(question, page_language=page_language) else JA


def rank(question: str, page_language: str = JA) -> tuple[str, Ranking]:
    """(the language of the answer, the ranking of the FAQ entries in that language)."""
    language = language_of(question, page_language)
    return language, index(language).rank(question)
