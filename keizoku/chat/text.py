"""Japanese text to search terms: normalisation, SudachiPy tokens and the bilingual synonyms.

One function, ``terms()``, serves the FAQ index and the questions alike, so that both sides are
cut the same way. Mode C keeps compounds whole (証券番号) and their mode-A parts are added
(証券, 番号), so a question that writes either form still meets the entry. Each token counts by
its ``normalized_form`` (わすれた → 忘れる, ｷｬﾝｾﾙ → キャンセル); particles, auxiliaries, symbols
and a few empty verbs are dropped. ASCII words are kept as lower-case terms (ID, PDF, Web, and
English questions, which meet the Japanese entries through ``synonyms.toml``).
"""

from __future__ import annotations

import itertools
import re
import threading
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jaconv
import snowballstemmer
from sudachipy import Dictionary, SplitMode

from keizoku.core import ja

SYNONYMS_FILE = Path(__file__).parent / "synonyms.toml"

# Parts of speech that carry meaning for retrieval (the first level of Sudachi's POS).
CONTENT_POS = frozenset({"名詞", "動詞", "形容詞", "形状詞", "副詞", "代名詞", "接頭辞", "接尾辞"})
# Words too common in questions to tell entries apart (by normalized_form): empty verbs and
# nouns, the request around a question (「…について教えてください」「…を知りたい」) and the
# "how" verbs (「どうやる」「どう行えば」, said by 方法 through the synonyms), and the grammar
# of 「…てしまった」「…みたいな」.
STOP_FORMS = frozenset(
    """為る 有る 居る 成る 出来る 思う 言う 良い 事 物 方 の ん
    就く つく 教える 下さる 頂く 知る 御願い 願う
    遣る 行う 仕舞う みたい""".split()
)
STOP_WORDS_EN = frozenset(
    """a an the i my me we our you your it its is are am was were be been do does did can could
    how what when where why which who will would should to of in on at for from with about
    and or not if there this that please any some have has had get""".split()
)
BIGRAM = "字:"  # prefix of a two-character term (orthographic variants, typos)
READING = "読:"  # prefix of a term that is a reading (katakana), kept apart from the forms
SYNONYM = "同:"  # prefix of a Sudachi synonym group id (スマホ and スマートフォン share one)
SOUND = "音:"  # prefix of three kana of a text's reading (typos, kana written for kanji)
_ASCII_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")

_local = threading.local()


@cache
def _dictionary() -> Dictionary:
    return Dictionary(dict="core")


def _tokenizer():
    # A Sudachi tokenizer keeps state while it works: one per thread, on the shared dictionary.
    tokenizer = getattr(_local, "tokenizer", None)
    if tokenizer is None:
        tokenizer = _local.tokenizer = _dictionary().tokenizer(mode=SplitMode.C)
    return tokenizer


def tokenize(text: str):
    """SudachiPy's morphemes of ``text`` (mode C), on this thread's tokenizer."""
    return _tokenizer().tokenize(text)


def normalize(text: str) -> str:
    """Widths (NFKC; half-width kana to full-width), case, apostrophes and spaces, for
    matching only."""
    text = jaconv.h2z(ja.nfkc(text), kana=True, ascii=False, digit=False)
    return " ".join(text.lower().replace("\u2019", "'").split())


@dataclass(frozen=True)
class Synonyms:
    terms: tuple[tuple[str, re.Pattern], ...]  # (term, one pattern matching any of its variants)
    english: re.Pattern  # every English variant, longest first


def _variant_pattern(variants: list[str]) -> str:
    parts = []
    for variant in sorted(variants, key=len, reverse=True):
        if variant.isascii():  # whole words only: "id" must not match inside "paid"
            parts.append(rf"(?<![a-z0-9]){re.escape(variant)}(?![a-z0-9])")
        else:
            parts.append(re.escape(variant))
    return "|".join(parts)


@cache
def synonyms() -> Synonyms:
    """synonyms.toml compiled: a variant found in a text adds its term to it."""
    data = tomllib.loads(SYNONYMS_FILE.read_text(encoding="utf-8"))
    terms: list[tuple[str, re.Pattern[str]]] = []
    english: list[str] = []
    for term, variants in data["terms"].items():
        normalized = [normalize(v) for v in variants]
        terms.append((normalize(term), re.compile(_variant_pattern(normalized))))
        english.extend(v for v in normalized if v.isascii())
    return Synonyms(terms=tuple(terms), english=re.compile(_variant_pattern(english)))


def expand(text: str) -> str:
    """The normalised text followed by the terms whose variants it contains.

    An English variant is replaced by its term ("forgot my password" → 忘れる, パスワード): the
    English words themselves match no entry and would only make the question look unknown.
    A Japanese variant stays, as the entries may use it too.
    """
    compiled = synonyms()
    added = [term for term, pattern in compiled.terms if pattern.search(text)]
    if not added:
        return text
    text = compiled.english.sub(" ", text)
    return " ".join([text, *added])


@dataclass(frozen=True, slots=True)
class Unit:
    """One word of a text (a mode-C token or an ASCII word) and the search terms it gives."""

    form: str
    terms: tuple[str, ...]  # the form first, then its reading, its mode-A parts and theirs


def _word_terms(morpheme) -> list[str]:
    if morpheme.part_of_speech()[0] not in CONTENT_POS:
        return []
    form = morpheme.normalized_form()
    if form in STOP_FORMS:
        return []
    # The reading too: ｶｲｲﾝﾄｳﾛｸ or おすすめ meet 会員登録 or お勧め through it; and the
    # synonym groups of SudachiDict (the data of chikkar): 転居 meets 引っ越し.
    reading = morpheme.reading_form()
    found = [form, READING + reading] if reading else [form]
    found.extend(SYNONYM + str(group) for group in morpheme.synonym_group_ids())
    return found


def _japanese_units(run: str) -> list[Unit]:
    units = []
    for morpheme in _tokenizer().tokenize(run):
        found = _word_terms(morpheme)
        if not found:
            continue
        parts = morpheme.split(SplitMode.A)
        if len(parts) > 1:
            for part in parts:
                found.extend(_word_terms(part))
        units.append(Unit(found[0], tuple(found)))
    return units


def _prepare(text: str, expand_synonyms: bool) -> str:
    text = normalize(text)
    return expand(text) if expand_synonyms else text


def units(text: str, *, expand: bool = True) -> list[Unit]:
    """The words of a question or an entry, after normalisation and synonym expansion."""
    return _units(_prepare(text, expand))


def _units(prepared: str) -> list[Unit]:
    found = [Unit(w, (w,)) for w in _ASCII_WORD.findall(prepared) if w not in STOP_WORDS_EN]
    for run in _NON_ASCII_RUN.findall(prepared):
        found.extend(_japanese_units(run))
    return found


def _bigrams(prepared: str) -> list[str]:
    """Two-character terms of the non-ASCII runs: they catch what the dictionary cuts apart."""
    found: list[str] = []
    for run in _NON_ASCII_RUN.findall(prepared):
        chars = [c for c in run if c.isalnum()]
        found.extend(BIGRAM + a + b for a, b in itertools.pairwise(chars))
    return found


_KANA = re.compile(r"[ァ-ヴー]")
_KANA_RUN = re.compile(r"[ぁ-ゔァ-ヴー]{3,}")


def _sounds(prepared: str) -> list[str]:
    """Three-kana terms of the text's reading, run by run: きゅうしょうけん, 旧証券 and a
    mistyped 旧証券番後 share most of them whatever the dictionary made of the words."""
    found: list[str] = []
    for run in _NON_ASCII_RUN.findall(prepared):
        reading = "".join(
            m.reading_form()
            for m in _tokenizer().tokenize(run)
            if m.part_of_speech()[0] != "補助記号"
        )
        kana = [c for c in jaconv.hira2kata(reading) if _KANA.match(c)]
        found.extend(SOUND + "".join(kana[i : i + 3]) for i in range(len(kana) - 2))
    return found


@dataclass(frozen=True, slots=True)
class Analysis:
    """A text cut for retrieval: its words, and the character and sound n-grams."""

    units: tuple[Unit, ...]
    bigrams: tuple[str, ...]
    sounds: tuple[str, ...]
    kana: tuple[str, ...] = ()  # the runs written in kana only, in katakana (ねんれい → ネンレイ)

    def terms(self) -> list[str]:
        """Every search term (with repeats: BM25 counts them)."""
        return [t for unit in self.units for t in unit.terms] + [*self.bigrams, *self.sounds]


def analyse(text: str, *, expand: bool = True) -> Analysis:
    """Normalise, expand with the synonyms (unless ``expand`` is false) and cut ``text``."""
    prepared = _prepare(text, expand)
    kana = tuple(jaconv.hira2kata(run) for run in _KANA_RUN.findall(prepared))
    return Analysis(
        tuple(_units(prepared)), tuple(_bigrams(prepared)), tuple(_sounds(prepared)), kana
    )


def terms(text: str) -> list[str]:
    """The search terms of a question or an entry (with repeats: BM25 counts them)."""
    return analyse(text).terms()


# ---------------------------------------------------------------- English

_JAPANESE = re.compile(r"[ぁ-ゖァ-ヺー一-龥々〆ｦ-ﾟ]")
_LETTERS = re.compile(r"[A-Za-z]")


def is_english(text: str, *, page_language: str = "ja") -> bool:
    """Whether a question is English: no Japanese character and some Latin letters, and either
    the page is English or the question has at least two words (a lone 「PDF」 or 「ID」 on a
    Japanese page is a Japanese customer's abbreviation)."""
    if _JAPANESE.search(text) or not _LETTERS.search(text):
        return False
    return page_language.startswith("en") or len(_ASCII_WORD.findall(text.lower())) >= 2


def _stemmer():
    stemmer = getattr(_local, "stemmer", None)  # a stemmer keeps state: one per thread
    if stemmer is None:
        stemmer = _local.stemmer = snowballstemmer.stemmer("english")
    return stemmer


def analyse_english(text: str, *, expand: bool = True) -> Analysis:
    """An English text as Snowball stems (renewing, renewal → renew) without the stop words,
    plus the terms of synonyms.toml its words name, so that "passcode" meets "password"."""
    prepared = normalize(text)
    words = [w for w in _ASCII_WORD.findall(prepared) if w not in STOP_WORDS_EN]
    found = [Unit(stem, (stem,)) for stem in _stemmer().stemWords(words)]
    if expand:
        found.extend(
            Unit(term, (term,)) for term, pattern in synonyms().terms if pattern.search(prepared)
        )
    return Analysis(tuple(found), (), ())
