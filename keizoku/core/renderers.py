"""Form widgets rendered in Python: the same HTML as Django's widget templates, without rendering
a template (and its includes) per input and per option.

Django renders every ``<input>``, ``<option>`` and radio button through three or four nested
templates; on a wizard step with radio questions and selects that was a fifth of the page's CPU.
``FORM_RENDERER`` points here. The templates written out below are Django's own
(``django/forms/widgets/``), character for character, trailing newlines included; any other
widget template falls through to Django. ``keizoku/core/tests/test_renderers.py`` renders every
form of the customer pages both ways and requires the same output.
"""

from collections.abc import Callable

from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape

WIDGETS = "django/forms/widgets/"


def _text(value) -> str:
    """``{{ value|stringformat:'s' }}`` with autoescaping."""
    return conditional_escape(value if isinstance(value, str) else "%s" % (value,))  # noqa: UP031


def _attrs(attrs: dict) -> str:
    """attrs.html (no trailing newline)."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            parts.append(f" {conditional_escape(name)}")
        else:
            parts.append(f' {conditional_escape(name)}="{_text(value)}"')
    return "".join(parts)


def _input(widget: dict) -> str:
    """input.html."""
    value = "" if widget["value"] is None else f' value="{_text(widget["value"])}"'
    return (
        f'<input type="{conditional_escape(widget["type"])}" '
        f'name="{conditional_escape(widget["name"])}"{value}{_attrs(widget["attrs"])}>\n'
    )


def _input_option(widget: dict) -> str:
    """input_option.html."""
    if not widget.get("wrap_label"):
        return _input(widget) + "\n"
    widget_id = widget["attrs"].get("id")
    label_for = f' for="{conditional_escape(widget_id)}"' if widget_id else ""
    return f"<label{label_for}>{_input(widget)} {conditional_escape(widget['label'])}</label>\n"


def _select_option(widget: dict) -> str:
    """select_option.html."""
    return (
        f'<option value="{_text(widget["value"])}"{_attrs(widget["attrs"])}>'
        f"{conditional_escape(widget['label'])}</option>\n"
    )


def _render_option(renderer: "FastRenderer", option: dict) -> str:
    """``{% include option.template_name with widget=option %}``: not stripped, as an include."""
    writer = WRITERS.get(option["template_name"])
    if writer is None:
        return renderer.get_template(option["template_name"]).render({"widget": option})
    return writer(renderer, option)


class FastRenderer(DjangoTemplates):
    def render(self, template_name: str, context: dict, request=None) -> str:
        writer = WRITERS.get(template_name)
        widget = context.get("widget") if len(context) == 1 else None
        if writer is None or not isinstance(widget, dict):
            return super().render(template_name, context, request)
        return writer(self, widget).strip()  # as Django's renderer strips the template's output


def _select(renderer: FastRenderer, widget: dict) -> str:
    """select.html."""
    parts = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        for option in group_choices:
            parts.append("\n  " + _render_option(renderer, option))
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>\n")
    return "".join(parts)


def _multiple_input(renderer: FastRenderer, widget: dict) -> str:
    """multiple_input.html."""
    widget_id = widget["attrs"].get("id")
    css_class = widget["attrs"].get("class")
    parts = ["<div"]
    if widget_id:
        parts.append(f' id="{conditional_escape(widget_id)}"')
    if css_class:
        parts.append(f' class="{conditional_escape(css_class)}"')
    parts.append(">")
    for group, options, _index in widget["optgroups"]:
        if group:
            parts.append(f"\n  <div><label>{conditional_escape(group)}</label>")
        for option in options:
            parts.append("<div>\n    " + _render_option(renderer, option) + "</div>")
        if group:
            parts.append("\n  </div>")
    parts.append("\n</div>\n")
    return "".join(parts)


WRITERS: dict[str, Callable[[FastRenderer, dict], str]] = {
    **{
        f"{WIDGETS}{name}.html": lambda _renderer, widget: _input(widget) + "\n"
        for name in (
            "text",
            "email",
            "password",
            "hidden",
            "checkbox",
            "number",
            "date",
            "url",
            "tel",
            "search",
            "color",
        )
    },
    f"{WIDGETS}input.html": lambda _renderer, widget: _input(widget),
    f"{WIDGETS}input_option.html": lambda _renderer, widget: _input_option(widget),
    f"{WIDGETS}radio_option.html": lambda _renderer, widget: _input_option(widget) + "\n",
    f"{WIDGETS}checkbox_option.html": lambda _renderer, widget: _input_option(widget) + "\n",
    f"{WIDGETS}select_option.html": lambda _renderer, widget: _select_option(widget),
    f"{WIDGETS}select.html": _select,
    f"{WIDGETS}multiple_input.html": _multiple_input,
    f"{WIDGETS}radio.html": lambda renderer, widget: _multiple_input(renderer, widget) + "\n",
    f"{WIDGETS}checkbox_select.html": lambda renderer, widget: (
        _multiple_input(renderer, widget) + "\n"
    ),
}
