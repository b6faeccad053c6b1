"""The FAQ index: Okapi BM25 over SudachiPy terms, built once per process, and its confidence.

BM25 is written out here (``Index``, a few dozen lines) rather than taken from a package such
as bm25s: the corpus is about a hundred short entries, a dict of postings answers a question in
well under a millisecond in plain Python, and we need per-field and per-term weights that a
packaged scorer hides; no numpy/scipy dependency to keep up to date.

Weights were set once on the evaluation set and left round (title 3 : body 1, readings ½,
bigrams ⅕, interrogatives ⅓ of a word); ``manage.py chat_eval`` shows their effect.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from functools import cache

from keizoku.help.content import CATEGORIES, FaqEntry, faq_entries

from . import text

# Two fields, scored apart and added with weights: what the entry answers (its question, its
# keywords, its category) and the answer itself. Summing per-field scores (rather than one
# bag of words) keeps a match on the question from being flattened by BM25's saturation.
FIELD_WEIGHTS = {"title": 3.0, "body": 1.0}
K1 = 1.2
B = 0.75
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
LIGHT_WEIGHT = 0.3
READING_WEIGHT = 0.5  # a match by reading only (ｶｲｲﾝﾄｳﾛｸ) is a fallback
BIGRAM_WEIGHT = 0.2  # two characters in common: a hint, not a word
# The idf mass of known words from which a question is specific enough (about one word found
# in a single entry, or two found in a handful).
SPECIFIC_IDF = 5.0


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


def entry_fields(entry: FaqEntry) -> dict[str, Counter[str]]:
    title = " ".join([entry.question, *entry.keywords, CATEGORIES.get(entry.category, "")])
    return {"title": Counter(text.terms(title)), "body": Counter(text.terms(entry.answer))}


def query_weight(term: str) -> float:
    if term in LIGHT_TERMS:
        return LIGHT_WEIGHT
    if term.startswith(text.READING):
        return READING_WEIGHT
    if term.startswith(text.BIGRAM):
        return BIGRAM_WEIGHT
    return 1.0


class Index:
    """Okapi BM25 per field: Σ_field w_f Σ_t idf(t) · tf·(k1+1) / (tf + k1·(1 − b + b·|d|/avgdl)).

    idf comes from whole entries (a term in the answer of every entry is common whatever the
    field), the length normalisation from each field.
    """

    def __init__(self, entries: tuple[FaqEntry, ...]):
        self.entries = entries
        fields = [entry_fields(entry) for entry in entries]
        n = len(entries)
        df: Counter[str] = Counter()
        for doc in fields:
            df.update(set(doc["title"]) | set(doc["body"]))
        # The "+1" form of idf stays positive even for a term in every entry.
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self.unknown_idf = math.log(1 + (n + 0.5) / 0.5)  # a term no entry uses
        self.term_sets = {
            entry.id: frozenset(doc["title"]) | frozenset(doc["body"])
            for entry, doc in zip(entries, fields, strict=True)
        }
        self.postings: dict[str, dict[int, float]] = {}
        for field, field_weight in FIELD_WEIGHTS.items():
            lengths = [sum(doc[field].values()) for doc in fields]
            average = (sum(lengths) / n if n else 0) or 1.0
            for i, doc in enumerate(fields):
                norm = K1 * (1 - B + B * lengths[i] / average)
                for term, tf in doc[field].items():
                    weight = field_weight * self.idf[term] * tf * (K1 + 1) / (tf + norm)
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

    def _split_reading(self, kana: str) -> list[str]:
        """Longest known readings first, left to right; an unmatched character is skipped."""
        found, i = [], 0
        while i < len(kana):
            for j in range(len(kana), i + 1, -1):
                candidate = text.READING + kana[i:j]
                if candidate in self.readings:
                    found.append(candidate)
                    i = j
                    break
            else:
                i += 1
        return found

    def rank(self, question: str) -> Ranking:
        units = {unit.form: self._unit_terms(unit) for unit in text.units(question)}
        query = {term for terms in units.values() for term in terms}
        query.update(text.bigrams(question))
        scores: dict[int, float] = {}
        for term in query:
            weight = query_weight(term)
            for i, score in self.postings.get(term, {}).items():
                scores[i] = scores.get(i, 0.0) + weight * score
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
        entries instead is calibrated on the evaluation set (``manage.py chat_eval
        --calibrate``; see ``answers.CONFIDENCE_THRESHOLD``).
        """
        if not hits or not units:
            return 0.0
        best = hits[0]
        best_terms = self.term_sets[best.entry.id]
        total = covered = 0.0
        for form, terms in units.items():
            weight = self.idf.get(form, self.unknown_idf) * query_weight(form)
            total += weight
            if form in best_terms:
                covered += weight
            elif len(terms) > 1:
                others = terms[1:]
                covered += weight * sum(t in best_terms for t in others) / len(others)
        coverage = covered / total if total else 0.0
        # A question of one common word (「保険」, 「手続き」) says too little to be sure of.
        known = sum(self.idf[form] * query_weight(form) for form in units if form in self.idf)
        specificity = min(1.0, known / SPECIFIC_IDF)
        second = hits[1].score if len(hits) > 1 else 0.0
        margin = 1 - second / best.score if best.score > 0 else 0.0
        return round(specificity * coverage * (0.5 + 0.5 * margin), 4)


@cache
def index() -> Index:
    """The index of every FAQ entry, built on first use and kept for the process."""
    return Index(faq_entries())
