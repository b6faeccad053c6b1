"""Path values are matched by their own format before anything is looked up: a NUL byte or a
value of the wrong kind is a 404 without a query (PostgreSQL refuses a NUL in a text parameter,
which was a 503; found by tests/test_form_fuzz.py on PostgreSQL)."""

import pytest

from keizoku.core.converters import is_hex_token


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/agency/%00/", "/agency/DEMO%00/", "/agency/DE-MO/", "/agency/ABCDEFGHIJKLMNOPQ/"],
)
def test_an_agency_code_out_of_its_format_is_a_404_without_a_query(
    client, django_assert_num_queries, path
):
    with django_assert_num_queries(0):
        assert client.get(path).status_code == 404


def test_only_our_hex_tokens_are_looked_up():
    assert is_hex_token("0f" * 24)
    for value in ("", "0f\x00", "0F", "g1", "0" * 65, "０"):
        assert not is_hex_token(value)
