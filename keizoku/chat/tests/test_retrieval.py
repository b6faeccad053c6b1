"""The search engine on its own small FAQ: tokens, BM25 ranking, expansion and confidence."""

import pytest

from keizoku.chat import retrieval, text
from keizoku.help.content import FaqEntry

ENTRIES = (
    FaqEntry(
        id="pw",
        category="login",
        question="パスワードを忘れました。",
        answer="ログイン画面の「パスワードをお忘れの方」から再設定してください。",
        page="login",
        keywords=("再設定",),
    ),
    FaqEntry(
        id="register",
        category="registration",
        question="マイページの会員登録はどうすればよいですか。",
        answer="【新規登録】を押し、旧証券番号と契約時の住所・電話番号を入力してください。",
        page="register",
    ),
    FaqEntry(
        id="policy-number",
        category="linking",
        question="証券番号はどこに書いてありますか。",
        answer="保険証券の右上に記載しています。",
        page="register",
    ),
    FaqEntry(
        id="payroll",
        category="payment",
        question="給与天引きの毎月の金額はいくらですか。",
        answer="年間保険料を12回に分けた金額が毎月の給与から差し引かれます。",
        page="apply",
    ),
    FaqEntry(
        id="recommended",
        category="plans",
        question="「おすすめプラン」はどんな内容ですか。",
        answer="今のご契約に、弁護士費用特約などを加えたプランです。",
        page="plans",
    ),
)


@pytest.fixture
def index():
    return retrieval.Index(ENTRIES)


def test_terms_drop_particles_and_use_normalized_forms():
    terms = text.terms("パスワードをわすれた")
    assert "パスワード" in terms and "忘れる" in terms
    assert "を" not in terms and "た" not in terms


def test_terms_keep_compounds_and_their_parts():
    terms = text.terms("証券番号")
    assert {"証券番号", "証券", "番号"} <= set(terms)


def test_half_width_katakana_is_normalised():
    assert text.normalize("ｷｬﾝｾﾙ　ＡＢＣ") == "キャンセル abc"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("パスワードわすれちゃった", "pw"),
        ("ﾊﾟｽﾜｰﾄﾞを忘れた", "pw"),
        ("I forgot my password", "pw"),
        ("How do I register?", "register"),
        ("証券の番号ってどこ", "policy-number"),
        ("ｷｭｳﾖﾃﾝﾋﾞｷの金額", "payroll"),  # an unknown katakana word, cut into known readings
        ("ｵｽｽﾒﾌﾟﾗﾝの中身", "recommended"),
    ],
)
def test_it_ranks_the_entry_that_answers_first(index, question, expected):
    assert index.rank(question).best.id == expected


def test_a_question_sharing_no_term_has_no_hit_and_no_confidence(index):
    ranking = index.rank("What is the capital of France?")
    assert ranking.hits == () and ranking.confidence == 0.0 and ranking.best is None


def test_confidence_is_higher_for_a_clear_question_than_for_an_unrelated_one(index):
    clear = index.rank("パスワードを忘れたので再設定したい").confidence
    unrelated = index.rank("今日の天気とパスワード以外の話").confidence
    assert 0 <= unrelated < clear <= 1


def test_top_gives_at_most_three_entries_best_first(index):
    ranking = index.rank("登録 証券番号 パスワード 金額 プラン")
    top = ranking.top(3)
    assert len(top) == 3 and top[0] == ranking.best
    assert [hit.score for hit in ranking.hits] == sorted(
        (hit.score for hit in ranking.hits), reverse=True
    )


def test_the_index_of_the_help_content_is_built_once_per_process():
    assert retrieval.index() is retrieval.index()
    assert len(retrieval.index().entries) >= 60


def test_sudachi_synonym_groups_join_words_the_dictionary_knows_as_synonyms():
    moving = {t for t in text.terms("引っ越し") if t.startswith(text.SYNONYM)}
    assert moving and moving <= set(text.terms("転居"))


def test_kana_trigrams_of_the_reading_meet_kanji_typos_and_kana():
    kanji = set(text.analyse("事故有係数適用期間").sounds)
    assert len(kanji & set(text.analyse("じこありけいすう てきようきかん").sounds)) >= 6
    assert len(kanji & set(text.analyse("事故有係数適用機関").sounds)) >= 8  # 機関 for 期間


def test_english_text_is_stemmed_without_stop_words_and_names_the_synonyms_terms():
    forms = [unit.form for unit in text.analyse_english("How do I renew my policies?").units]
    assert forms[:2] == ["renew", "polici"] and "how" not in forms
    assert "パスワード" in {u.form for u in text.analyse_english("I lost my passcode").units}


def test_english_questions_rank_the_english_faq():
    language, ranking = retrieval.rank("I forgot my password")
    assert language == "en" and ranking.best.id == "password-forgotten"
    language, ranking = retrieval.rank("パスワードを忘れた", page_language="en")
    assert language == "ja" and ranking.best.id == "password-forgotten"
