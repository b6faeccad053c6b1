"""The Python widget renderer writes exactly what Django's widget templates write."""

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates

from keizoku.accounts import forms as account_forms
from keizoku.backoffice import forms as backoffice_forms
from keizoku.core.renderers import FastRenderer
from keizoku.renewals import forms as renewal_forms


class Everything(forms.Form):
    """Every widget the renderer writes itself, with values that need escaping."""

    text = forms.CharField(help_text="<b>hint</b>", initial='a "quoted" <value> & more')
    email = forms.EmailField(required=False)
    password = forms.CharField(widget=forms.PasswordInput(render_value=True))
    hidden = forms.CharField(widget=forms.HiddenInput, initial=12)
    number = forms.IntegerField(min_value=1, max_value=9)
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    check = forms.BooleanField(initial=True)
    choice = forms.ChoiceField(
        choices=[("", "---"), ("a", "A & <b>"), ("Group", [("g1", "G1"), ("g2", "G2")])],
        initial="g2",
    )
    radios = forms.ChoiceField(
        choices=[("x", "X"), ("y", "Y <y>")], widget=forms.RadioSelect(attrs={"class": "r"})
    )
    boxes = forms.MultipleChoiceField(
        choices=[("1", "one"), ("Grouped", [("2", "two")])],
        widget=forms.CheckboxSelectMultiple,
        initial=["2"],
    )
    multiple = forms.MultipleChoiceField(choices=[("p", "P"), ("q", "Q")], initial=["q"])


def forms_to_render():
    yield Everything()
    yield Everything({"text": "<script>", "number": "x", "radios": "y", "boxes": ["1"]})
    for form_class in (
        renewal_forms.ConsentForm,
        renewal_forms.DisclosureForm,
        renewal_forms.ConditionsForm,
        renewal_forms.PlanChoiceForm,
        renewal_forms.DeclarationsForm,
        renewal_forms.PaymentForm,
        renewal_forms.DeliveryForm,
        account_forms.RegistrationPasswordForm,
        account_forms.PolicyLinkForm,
        backoffice_forms.SearchForm,
    ):
        yield form_class()
        yield form_class({"age_condition": "26", "plan": "custom", "delivery": "web"})
    yield renewal_forms.CustomPlanForm(prefix="custom", initial={"riders": ["legal"]})
    yield renewal_forms.ConfirmForm(initial={"idempotency_key": "k&<>"})
    yield account_forms.RegistrationForm(policy_count=2)
    yield account_forms.RegistrationForm({"email": "x"}, policy_count=3)


@pytest.mark.django_db
def test_every_widget_of_the_customer_forms_renders_as_django_renders_it():
    django_renderer, fast = DjangoTemplates(), FastRenderer()
    compared = 0
    for form in forms_to_render():
        for field in form:
            form.renderer = django_renderer
            expected = [str(field)] + [str(sub.tag()) for sub in field.subwidgets]
            form.renderer = fast
            actual = [str(field)] + [str(sub.tag()) for sub in field.subwidgets]
            assert actual == expected, field.name
            compared += len(expected)
    assert compared > 200
