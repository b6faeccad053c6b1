"""Parts rendered once per language (keizoku.core.fragments) are exactly what the template renders
each time: nothing of the page's context but the CSRF token, the nonce and the given values."""

import pytest
from django.template.loader import get_template
from django.utils import translation

from keizoku.core import fragments

CONTEXT = {"csrf_token": "tok<en>&1", "csp_nonce": "n0nce+/="}


@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize(
    ("template_name", "constants", "values"),
    [
        ("chat/_widget.html", {}, {}),
        (
            "accounts/_session_timeout.html",
            {"active": True},
            {"idle": 1800, "absolute": 43199, "warn": 120},
        ),
    ],
)
def test_a_fragment_rendered_once_is_what_the_template_renders(
    language, template_name, constants, values
):
    fragments.forget()
    with translation.override(language):
        expected = get_template(template_name).render({**CONTEXT, **constants, **values})
        first = fragments.render_once(template_name, CONTEXT, constants, **values)
        other = {"csrf_token": "second", "csp_nonce": "other"}
        second = fragments.render_once(
            template_name, other, constants, **{**values, "absolute": 5} if values else {}
        )
        expected_second = get_template(template_name).render(
            {**other, **constants, **({**values, "absolute": 5} if values else {})}
        )
    assert first == expected
    assert second == expected_second
    assert "tok&lt;en&gt;&amp;1" in first and "n0nce+/=" in first
