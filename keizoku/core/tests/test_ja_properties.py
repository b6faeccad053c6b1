"""keizoku.core.ja: properties of the Japanese input normalisers (hypothesis) and edge cases."""

import unicodedata

import jaconv
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from keizoku.core import ja
from keizoku.core.ja import JaInputError

# --- strategies --------------------------------------------------------------------------------

PRINTABLE_ASCII = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E))
DASHES = ["-", "‐", "－", "―", "ー", "−", "–", "—", "‑", "‒"]
SPACES = [" ", "\u3000", "  ", " \u3000"]
# What people type into an address: kana, kanji (numerals too), digits of both widths, the
# 丁目/番地/番/号/の designators, every dash and space, a building name.
ADDRESS_ALPHABET = (
    "東京都千代田区丸の内大阪市北梅田ビル号室番地丁目のノ一二三四五六七八九十百千〇"
    "0123456789０１２３４５６７８９ABCａｂｃ()（）㈱" + "".join(DASHES) + " \u3000"
)
JAPANESE_TEXT = st.text(
    alphabet=st.sampled_from(
        list("あいうえおかがきぎアイウエオカガキギｱｲｳｶﾞｷﾞ山田太郎髙𠮷😀ーABCａｂｃ123１２３ 　")
    ),
    max_size=30,
)


def full_width(text: str) -> str:
    """ASCII as a Japanese keyboard in full-width mode types it (space becomes U+3000)."""
    return "".join(
        "\u3000" if ch == " " else chr(ord(ch) + 0xFEE0) if 0x21 <= ord(ch) <= 0x7E else ch
        for ch in text
    )


def kanji_numeral(number: int, *, positional: bool) -> str:
    """12 → 十二 (or 一二), 105 → 百五 (or 一〇五)."""
    digits = "〇一二三四五六七八九"
    if positional:
        return "".join(digits[int(d)] for d in str(number))
    text = ""
    for value, unit in ((1000, "千"), (100, "百"), (10, "十")):
        count, number = divmod(number, value)
        if count:
            text += ("" if count == 1 else digits[count]) + unit
    return text + (digits[number] if number else "")


# --- idempotence -------------------------------------------------------------------------------


@given(st.text())
def test_nfkc_is_idempotent(value):
    assert ja.nfkc(ja.nfkc(value)) == ja.nfkc(value)


@given(st.text())
def test_clean_text_is_idempotent_or_refuses(value):
    try:
        cleaned = ja.clean_text(value)
    except JaInputError:
        return
    assert ja.clean_text(cleaned) == cleaned
    assert cleaned == cleaned.strip()
    assert "  " not in cleaned


@given(st.text())
def test_clean_text_never_lets_a_control_character_through(value):
    try:
        cleaned = ja.clean_text(value)
    except JaInputError:
        return
    assert not any(unicodedata.category(ch) == "Cc" for ch in cleaned)


@given(JAPANESE_TEXT)
def test_to_katakana_is_idempotent_or_refuses(value):
    try:
        kana = ja.to_katakana(value)
    except JaInputError:
        return
    assert ja.to_katakana(kana) == kana


@given(st.text(alphabet=ADDRESS_ALPHABET, max_size=40))
@example("1番番2")
@example("1号ー2")
def test_normalize_address_is_idempotent(value):
    reduced = ja.normalize_address(value)
    assert ja.normalize_address(reduced) == reduced


@given(st.text())
def test_normalize_address_is_idempotent_on_any_text(value):
    reduced = ja.normalize_address(value)
    assert ja.normalize_address(reduced) == reduced


@given(st.text(alphabet="ABCabcxyz0123456789-－‐ー 　Ｐｐ", max_size=25))
def test_policy_numbers_normalise_idempotently_and_clean_to_their_own_key(value):
    key = ja.normalize_policy_number(value)
    assert ja.normalize_policy_number(key) == key
    try:
        cleaned = ja.clean_policy_number(value)
    except JaInputError:
        return
    assert ja.clean_policy_number(cleaned) == cleaned
    assert ja.normalize_policy_number(cleaned) == key


@given(st.from_regex(r"[0-9]{3}-?[0-9]{4}", fullmatch=True))
def test_postal_codes_normalise_idempotently(value):
    code = ja.normalize_postal_code(value)
    assert ja.normalize_postal_code(code) == code
    assert ja.normalize_postal_code(full_width(value)) == code
    assert ja.normalize_postal_code("〒" + value) == code


# --- width insensitivity -----------------------------------------------------------------------


@given(PRINTABLE_ASCII)
def test_clean_text_is_width_insensitive(value):
    try:
        expected = ja.clean_text(value)
    except JaInputError:
        with pytest.raises(JaInputError):
            ja.clean_text(full_width(value))
        return
    assert ja.clean_text(full_width(value)) == expected


@given(PRINTABLE_ASCII)
def test_normalize_address_is_width_insensitive(value):
    assert ja.normalize_address(full_width(value)) == ja.normalize_address(value)


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789- "))
def test_normalize_policy_number_is_width_and_case_insensitive(value):
    expected = ja.normalize_policy_number(value)
    assert ja.normalize_policy_number(full_width(value)) == expected
    assert ja.normalize_policy_number(value.lower()) == expected


@given(
    st.text(
        alphabet="あいうえおかきくけこさしすせそがぎぐげござじずぜぞぱぴぷぺぽゃゅょっー ",
        min_size=1,
    )
)
def test_hiragana_half_width_katakana_and_decomposed_forms_give_the_same_katakana(value):
    if not value.strip():
        return
    katakana = ja.to_katakana(value)
    assert ja.to_katakana(_to_half_width_katakana(value)) == katakana
    assert ja.to_katakana(unicodedata.normalize("NFD", value)) == katakana
    assert all(ch == " " or ch == "ー" or "ァ" <= ch <= "ヶ" for ch in katakana)


def _to_half_width_katakana(hiragana: str) -> str:
    return jaconv.z2h(jaconv.hira2kata(hiragana), kana=True, ascii=False, digit=False)


# --- addresses: every way of writing the same block number -------------------------------------

PLACES = [
    "東京都千代田区丸の内",
    "大阪府大阪市北区梅田",
    "北海道札幌市中央区北一条西",
    "沖縄県那覇市おもろまち",
]


@st.composite
def block_address(draw) -> tuple[str, str]:
    """(the canonical 1-2-3 writing, another writing of the same address)."""
    place = draw(st.sampled_from(PLACES))
    chome = draw(st.integers(1, 9))
    ban = draw(st.integers(1, 99))
    go = draw(st.integers(1, 99))
    building = draw(st.sampled_from(["", "デモビル", "ABCマンション"]))
    canonical = f"{place}{chome}-{ban}-{go}{' ' + building if building else ''}"

    def number(value: int) -> str:
        style = draw(st.sampled_from(["digits", "full", "kanji", "positional"]))
        if style == "digits":
            return str(value)
        if style == "full":
            return full_width(str(value))
        return kanji_numeral(value, positional=style == "positional")

    if draw(st.booleans()):  # 一丁目二番三号
        ban_word = draw(st.sampled_from(["番", "番地"]))
        go_word = draw(st.sampled_from(["号", "", "の"])) if ban_word == "番地" else "号"
        if go_word == "の":
            body = f"{number(chome)}丁目{number(ban)}番地の{number(go)}"
        else:
            body = f"{number(chome)}丁目{number(ban)}{ban_word}{number(go)}{go_word}"
    else:  # 1-2-3 with any dash
        dash = draw(st.sampled_from(DASHES))
        body = f"{number(chome)}{dash}{number(ban)}{dash}{number(go)}"
        # A katakana long-vowel mark counts as a hyphen between digits only.
        if dash == "ー" and not body.replace("ー", "").isdigit():
            body = f"{chome}-{ban}-{go}"
    space = draw(st.sampled_from(["", *SPACES]))
    other = f"{place}{space}{body}{draw(st.sampled_from(SPACES)) + building if building else ''}"
    return canonical, other


@given(block_address())
@example(("東京都千代田区丸の内1-2-3", "東京都千代田区丸の内一丁目２番３号"))
@example(("東京都千代田区丸の内1-2-3 デモビル", "東京都千代田区丸の内一丁目2番3号\u3000デモビル"))
@example(("大阪府大阪市北区梅田3-10-12", "大阪府大阪市北区梅田三丁目十番地の十二"))
def test_every_writing_of_a_block_address_normalises_alike(pair):
    canonical, other = pair
    assert ja.normalize_address(other) == ja.normalize_address(canonical)


@pytest.mark.parametrize(
    "other",
    [
        "東京都千代田区丸の内一丁目2番3号 101号室",
        "東京都千代田区丸の内1-2-3-101",
        "東京都千代田区丸の内1－2－3　101号室",
        "東京都千代田区丸の内1丁目2番地3 101",
    ],
)
def test_a_room_number_after_the_block_number_matches_the_hyphen_writing(other):
    assert ja.normalize_address(other).removesuffix("室") == ja.normalize_address(
        "東京都千代田区丸の内1-2-3 101"
    )


def test_different_block_numbers_stay_different():
    assert ja.normalize_address("丸の内1-2-3") != ja.normalize_address("丸の内1-2-4")
    assert ja.normalize_address("丸の内1-23") != ja.normalize_address("丸の内12-3")


@pytest.mark.parametrize(
    ("numeral", "number"),
    [
        ("一", 1),
        ("十", 10),
        ("十二", 12),
        ("二十三", 23),
        ("百五", 105),
        ("一二三", 123),
        ("二〇", 20),
        ("千二百", 1200),
    ],
)
def test_kanji_numerals_read_as_numbers(numeral, number):
    assert ja.kanji_to_int(numeral) == number


# --- phone numbers -----------------------------------------------------------------------------

PHONES = {
    "+81312345678": [
        "03-1234-5678",
        "0312345678",
        "03(1234)5678",
        "(03)1234-5678",
        "03 1234 5678",
        "０３－１２３４－５６７８",
        "03ー1234ー5678",
        "03−1234−5678",
        "+81 3-1234-5678",
        "+81312345678",
        "＋８１　３　１２３４　５６７８",
    ],
    "+819012345678": ["090-1234-5678", "09012345678", "090‐1234‐5678", "+81 90 1234 5678"],
    "+81120123456": ["0120-123-456", "0120123456", "０１２０－１２３－４５６"],
    "+81662345678": ["06-6234-5678", "06(6234)5678"],
}


@pytest.mark.parametrize(
    ("typed", "e164"), [(typed, e164) for e164, writings in PHONES.items() for typed in writings]
)
def test_phone_numbers_in_every_writing_give_the_same_e164(typed, e164):
    assert ja.normalize_phone(typed) == e164


@given(
    st.sampled_from(sorted(PHONES)).flatmap(
        lambda e164: st.tuples(
            st.just(e164), st.sampled_from(PHONES[e164]), st.sampled_from(DASHES)
        )
    )
)
def test_phone_normalisation_ignores_the_dash_variant_and_is_idempotent(case):
    e164, typed, dash = case
    rewritten = typed.replace("-", dash) if dash != "ー" else typed
    assert ja.normalize_phone(rewritten) == e164
    assert ja.normalize_phone(e164) == e164


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "12345",
        "03-1234-567",
        "+1 202-555-0100",
        "010-1-202-555-0100",
        "電話",
        "03-1234-5678 内線12",
    ],
)
def test_invalid_or_foreign_phone_numbers_are_refused(typed):
    with pytest.raises(JaInputError, match="電話番号の形式が正しくありません。"):
        ja.normalize_phone(typed)


def test_format_phone_shows_the_national_writing():
    assert ja.format_phone("+81312345678") == "03-1234-5678"
    assert ja.format_phone("+819012345678") == "090-1234-5678"


# --- postal codes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "address"),
    [
        ("1000005", "東京都千代田区丸の内"),
        ("100-0001", "東京都千代田区千代田"),
        ("〒530-0001", "大阪府大阪市北区梅田"),
        ("０６０－０００１", "北海道札幌市中央区北一条西"),
        ("900 0006", "沖縄県那覇市おもろまち"),
    ],
)
def test_a_postal_code_gives_its_address_offline(code, address):
    assert ja.address_for_postal_code(code) == address


@pytest.mark.parametrize("code", ["0000000", "12", "abcdefg", ""])
def test_an_unknown_or_malformed_postal_code_gives_no_address(code):
    assert ja.address_for_postal_code(code) is None


@pytest.mark.parametrize("code", ["100-005", "10000055", "1OO-OOO5", ""])
def test_a_postal_code_that_is_not_seven_digits_is_refused(code):
    with pytest.raises(JaInputError, match="郵便番号は7桁の数字で入力してください。"):
        ja.normalize_postal_code(code)


# --- edge cases: a defined result for each --------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("山田 太郎😀", "山田 太郎😀"),  # emoji are kept as typed
        ("𠮷野 家", "𠮷野 家"),  # non-BMP kanji are kept (one character each)
        ("髙橋 一郎", "髙橋 一郎"),  # 髙 is not folded to 高
        ("山田　　太郎 ", "山田 太郎"),  # U+3000 and repeated spaces become one space
        ("ＡＢＣ１２３", "ABC123"),
        ("ｶﾞｯｺｳ", "ガッコウ"),  # half-width katakana become full-width
        (unicodedata.normalize("NFD", "ガッコウ"), "ガッコウ"),  # NFD composes to NFC
    ],
)
def test_clean_text_edge_cases(typed, kept):
    assert ja.clean_text(typed) == kept


def test_a_non_bmp_kanji_counts_as_one_character_for_length_limits():
    assert ja.clean_text("𠮷" * 5, max_length=5) == "𠮷" * 5
    with pytest.raises(JaInputError, match="5文字以内"):
        ja.clean_text("𠮷" * 6, max_length=5)


@pytest.mark.parametrize(
    "bad",
    [
        "山田\x00太郎",
        "山田\x07",
        "山田\t太郎",
        "山田\n太郎",
        "山田\u200b太郎",
        "\ufeff山田",
        "山田\x85",
    ],
)
def test_nul_and_control_characters_are_refused_by_clean_text(bad):
    with pytest.raises(JaInputError, match="制御文字"):
        ja.clean_text(bad)


def test_nul_and_control_characters_are_stripped_from_address_keys():
    assert ja.normalize_address("丸の内\x001-2\u200b-3") == ja.normalize_address("丸の内1-2-3")


@pytest.mark.parametrize("bad", ["山田", "ヤマダ😀", "ヤマダ\x00", "", "   "])
def test_kana_other_than_katakana_is_refused(bad):
    with pytest.raises(JaInputError):
        ja.to_katakana(bad)


def test_has_full_width_tells_the_password_rule_what_it_needs():
    assert not ja.has_full_width("Abc123!~")
    assert ja.has_full_width("Ａbc123")
    assert ja.has_full_width("abc 123")  # a space is not allowed in passwords either
