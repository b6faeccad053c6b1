"""Eligibility for online renewal (RATING.md §4): each reason, with the clock passed in."""

from datetime import date

from keizoku.rating.eligibility import age_on, eligibility_reasons

OK = {
    "linked": True,
    "window_open": True,
    "open_claim": False,
    "midterm_change_pending": False,
    "member_type": "employee",
    "birth_date": date(1948, 1, 1),
    "new_start": date(2027, 3, 31),
}


def codes(**changes) -> list[str]:
    return [reason.code for reason in eligibility_reasons(**{**OK, **changes})]


def test_a_linked_employee_inside_the_window_may_renew_online_whatever_the_age():
    assert codes() == []


def test_each_reason_is_given_with_a_japanese_sentence():
    assert codes(linked=False) == ["not_linked"]
    assert codes(window_open=False) == ["outside_window"]
    assert codes(open_claim=True) == ["open_claim"]
    assert codes(midterm_change_pending=True) == ["midterm_change"]
    assert codes(member_type="retiree") == ["retiree_age"]
    reason = eligibility_reasons(**{**OK, "member_type": "retiree"})[0]
    assert reason.as_dict() == {"code": "retiree_age", "text": reason.text}
    assert "75歳以上" in reason.text and reason.text.endswith("。")


def test_a_retiree_is_judged_by_the_age_at_the_new_start():
    assert codes(member_type="retiree", birth_date=date(1952, 3, 31)) == ["retiree_age"]
    assert codes(member_type="retiree", birth_date=date(1952, 4, 1)) == []
    assert codes(member_type="retiree", birth_date=date(1952, 4, 1), retiree_age_limit=74) == [
        "retiree_age"
    ]


def test_age_goes_up_on_the_birthday():
    assert age_on(date(1952, 3, 31), date(2027, 3, 30)) == 74
    assert age_on(date(1952, 3, 31), date(2027, 3, 31)) == 75
