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
        ("core/_language_switch.html", {}, {"next": "/clickar/1/plan/?a=1&b=<2>"}),
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
        changed = {name: 5 if name == "absolute" else f"{value}x" for name, value in values.items()}
        second = fragments.render_once(template_name, other, constants, **changed)
        expected_second = get_template(template_name).render({**other, **constants, **changed})
    assert first == expected
    assert second == expected_second
    assert "tok&lt;en&gt;&amp;1" in first
    assert "n0nce+/=" in first or template_name == "core/_language_switch.html"  # no script
    if "next" in values:
        assert 'value="/clickar/1/plan/?a=1&amp;b=&lt;2&gt;"' in first


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_step_bar_rendered_once_per_step_is_what_the_template_renders(language):
    """``{% include_for %}``: the step bar depends only on the language, the step and the steps
    completed; each combination is what ``{% include %}`` renders, whatever else the page has."""
    from django.template import Context, Template

    from keizoku.renewals import steps

    fragments.forget()
    page = Template(
        '{% load keizoku %}{% include_for "renewals/_progress.html" step=step steps=steps '
        "last_step_number=last_step_number completed=application.completed_steps %}"
    )
    with translation.override(language):
        for done in (0, 3, len(steps.STEPS) - 1):
            for step in (steps.STEPS[0], steps.STEPS[done]):
                completed = [s.slug for s in steps.STEPS[:done]]
                context = {
                    "step": step,
                    "steps": steps.STEPS,
                    "last_step_number": steps.LAST_NUMBER,
                    "completed": completed,
                }
                expected = get_template("renewals/_progress.html").render(context)
                application = type("Application", (), {"completed_steps": completed[::-1]})
                for _twice in range(2):
                    html = page.render(Context({**context, "application": application}))
                    assert html == expected
                assert ("is-done" in html) == bool(done)
