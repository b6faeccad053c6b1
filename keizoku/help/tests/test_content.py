"""The help content files load, validate, and hold what the issue promises (FAQ, eval set, screens)."""

import re
import tomllib
from collections import Counter

import pytest

from keizoku.help import content
from keizoku.help.content import (
    CATEGORIES,
    SCREENS,
    SCREENS_EN,
    ContentError,
    eval_questions,
    faq_entries,
    help_pages,
)


def test_the_faq_has_at_least_60_entries_with_unique_ids():
    entries = faq_entries()
    assert len(entries) >= 60
    ids = [entry.id for entry in entries]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", i) for i in ids)


def test_every_category_is_known_and_has_entries():
    counts = Counter(entry.category for entry in faq_entries())
    assert set(counts) == set(CATEGORIES)
    assert min(counts.values()) >= 3


def test_every_entry_belongs_to_an_existing_help_page_and_is_japanese():
    slugs = {page.slug for page in help_pages()}
    for entry in faq_entries():
        assert entry.page in slugs, entry.id
        assert entry.url == f"/help/{entry.page}/#faq-{entry.id}"
        assert re.search(r"[ぁ-んァ-ン一-龥]", entry.question), entry.id
        assert len(entry.answer) >= 40, entry.id
        assert all(keyword.strip() for keyword in entry.keywords), entry.id


def test_every_entry_has_its_english_question_answer_and_keywords():
    kana = re.compile(r"[ぁ-んァ-ン]")
    for entry in faq_entries():
        assert entry.question_en.strip() and not kana.search(entry.question_en), entry.id
        assert len(entry.answer_en) >= 40 and not kana.search(entry.answer_en), entry.id
        assert entry.keywords_en, entry.id
        assert all(k.strip() and not kana.search(k) for k in entry.keywords_en), entry.id


def test_every_help_page_has_faq_entries():
    used = {entry.page for entry in faq_entries()}
    assert used == {page.slug for page in help_pages()}


def test_the_eval_set_has_at_least_400_questions_naming_existing_entries():
    questions = eval_questions()
    assert len(questions) >= 400
    known = {entry.id for entry in faq_entries()}
    assert all(question.expected in known for question in questions)
    texts = [question.text for question in questions]
    assert len(set(texts)) == len(texts), "a question appears twice"


def test_the_eval_set_is_written_as_customers_type_not_copied_from_the_faq():
    questions = eval_questions()
    faq_questions = {entry.question for entry in faq_entries()}
    assert not [q.text for q in questions if q.text in faq_questions]
    texts = [q.text for q in questions]
    assert sum(bool(re.search(r"[ｦ-ﾟ]", text)) for text in texts) >= 5  # half-width kana
    assert sum(bool(re.fullmatch(r"[ -~]+", text)) for text in texts) >= 15  # English
    # The set covers most of the FAQ, not a handful of easy entries.
    assert len({q.expected for q in questions}) >= 0.9 * len(faq_entries())


def test_at_least_100_questions_are_written_in_the_styles_the_first_set_lacked():
    styles = Counter(q.style for q in eval_questions() if q.style)
    assert sum(styles.values()) >= 100
    assert set(styles) == set(content.EVAL_STYLES) - {""}
    assert min(styles.values()) >= 10, styles
    # Each style is what it says: English in ASCII, kana questions mostly without kanji.
    for question in eval_questions():
        if question.style == "english":
            assert re.fullmatch(r"[ -~]+", question.text), question.text
        if question.style == "kana":
            kanji = len(re.findall(r"[一-龥]", question.text))
            assert kanji <= len(question.text) / 4, question.text


def test_the_split_is_stratified_by_faq_entry():
    questions = eval_questions()
    held_out = [q for q in questions if q.part == "held-out"]
    assert len(held_out) >= 100
    # Every FAQ entry has held-out questions, and tuning ones.
    ids = {entry.id for entry in faq_entries()}
    assert {q.expected for q in held_out} == ids
    assert {q.expected for q in questions if q.part == "tuning"} == ids


def test_a_question_without_a_part_or_in_an_unknown_style_is_refused(broken):
    _append(broken / "eval.toml", '\n[[question]]\ntext = "なにこれ"\nexpected = "logout"\n')
    with pytest.raises(ContentError, match="part must be one of"):
        eval_questions()
    _append(broken / "eval.toml", 'part = "tuning"\nstyle = "poetry"\n')
    eval_questions.cache_clear()
    with pytest.raises(ContentError, match="unknown style"):
        eval_questions()


def test_a_question_twice_is_refused(broken):
    first = tomllib.loads((broken / "eval.toml").read_text("utf-8"))["question"][0]
    _append(
        broken / "eval.toml",
        f'\n[[question]]\ntext = "{first["text"]}"\nexpected = "logout"\npart = "held-out"\n',
    )
    with pytest.raises(ContentError, match="appears twice"):
        eval_questions()


def test_the_procedure_pages_follow_the_guide_in_order():
    slugs = [page.slug for page in help_pages()]
    assert slugs[:4] == ["start", "register", "login", "mypage"]
    numbered = [
        int(step.label.removeprefix("手順 "))
        for page in help_pages()
        for step in page.steps
        if step.label.startswith("手順 ")
    ]
    # Every step of the guide (1 to 21) appears, in the guide's order.
    assert sorted(set(numbered)) == list(range(1, 22))
    assert numbered == sorted(numbered)


def test_every_screenshot_the_pages_name_exists_has_alt_text_and_is_small():
    named = [step for page in help_pages() for step in page.steps if step.image]
    assert len(named) >= 20
    for step in named:
        path = SCREENS / step.image
        assert path.is_file(), f"{step.image}: run `manage.py help_screenshots`"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        width = int.from_bytes(path.read_bytes()[16:20], "big")
        assert width <= 800, step.image
        assert path.stat().st_size < 200_000, step.image
        assert step.alt and "画面" in step.alt, step.image
    # No stale picture left behind that no page shows.
    assert {p.name for p in SCREENS.glob("*.png")} == {step.image for step in named}


def test_every_screenshot_has_its_english_screen_and_english_alt_text():
    named = [step for page in help_pages() for step in page.steps if step.image]
    for step in named:
        path = SCREENS_EN / step.image
        assert path.is_file(), f"{step.image}: run `manage.py help_screenshots --language en`"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert int.from_bytes(path.read_bytes()[16:20], "big") <= 800, step.image
        assert path.stat().st_size < 200_000, step.image
        assert step.alt_en and "screen" in step.alt_en, step.image
    assert {p.name for p in SCREENS_EN.glob("*.png")} == {step.image for step in named}


def test_every_help_page_and_step_has_its_english():
    for page in help_pages():
        assert page.title_en and page.summary_en, page.slug
        for step in page.steps:
            assert step.label_en and step.heading_en and step.text_en, (page.slug, step.label)


@pytest.fixture
def broken(tmp_path, monkeypatch):
    """Point the loaders at a copy of the content that a test may break."""
    for name in ("faq.toml", "pages.toml", "eval.toml"):
        (tmp_path / name).write_text((content.CONTENT / name).read_text("utf-8"), "utf-8")
    monkeypatch.setattr(content, "CONTENT", tmp_path)
    for loader in (content.faq_entries, content.help_pages, content.eval_questions):
        loader.cache_clear()
    yield tmp_path
    for loader in (content.faq_entries, content.help_pages, content.eval_questions):
        loader.cache_clear()


def _append(path, text):
    path.write_text(path.read_text("utf-8") + text, "utf-8")


def test_a_duplicate_faq_id_is_refused(broken):
    first = tomllib.loads((broken / "faq.toml").read_text("utf-8"))["entry"][0]
    _append(
        broken / "faq.toml",
        f'\n[[entry]]\nid = "{first["id"]}"\ncategory = "login"\nquestion = "重複"\n'
        'answer = "重複"\npage = "login"\n',
    )
    with pytest.raises(ContentError, match="duplicate id"):
        faq_entries()


def test_an_unknown_category_or_page_is_refused(broken):
    _append(
        broken / "faq.toml",
        '\n[[entry]]\nid = "x-new"\ncategory = "misc"\nquestion = "質問"\n'
        'answer = "回答"\npage = "login"\n',
    )
    with pytest.raises(ContentError, match="unknown category"):
        faq_entries()
    (broken / "faq.toml").write_text(
        (content.Path(__file__).parents[1] / "content" / "faq.toml").read_text("utf-8")
        + '\n[[entry]]\nid = "x-new"\ncategory = "login"\nquestion = "質問"\n'
        'answer = "回答"\npage = "nowhere"\n',
        "utf-8",
    )
    faq_entries.cache_clear()
    with pytest.raises(ContentError, match="unknown help page"):
        faq_entries()


@pytest.mark.parametrize("field", ["question_en", "answer_en", "keywords_en"])
def test_an_entry_without_its_english_is_refused(broken, field):
    text = (broken / "faq.toml").read_text("utf-8")
    first = tomllib.loads(text)["entry"][0]
    line = next(line for line in text.splitlines() if line.startswith(f"{field} = "))
    (broken / "faq.toml").write_text(text.replace(line + "\n", "", 1), "utf-8")
    with pytest.raises(ContentError, match=f"{first['id']}: no English"):
        faq_entries()


def test_an_eval_question_naming_an_unknown_entry_is_refused(broken):
    _append(
        broken / "eval.toml",
        '\n[[question]]\ntext = "なにこれ"\nexpected = "no-such-id"\npart = "tuning"\n',
    )
    with pytest.raises(ContentError, match="unknown FAQ id"):
        eval_questions()


def test_a_screenshot_without_alt_text_is_refused(broken):
    _append(
        broken / "pages.toml",
        '\n[[page]]\nslug = "extra"\ntitle = "追加"\nsummary = "追加"\n'
        '[[page.step]]\nlabel = "x"\nheading = "x"\ntext = "x"\nimage = "x.png"\n',
    )
    with pytest.raises(ContentError, match="no alt text"):
        help_pages()


def test_a_page_cannot_take_the_faq_pages_url(broken):
    _append(broken / "pages.toml", '\n[[page]]\nslug = "faq"\ntitle = "x"\nsummary = "x"\n')
    with pytest.raises(ContentError, match="faq"):
        help_pages()
