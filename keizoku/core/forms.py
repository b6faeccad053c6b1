"""Form helpers every app uses: Japanese input (``keizoku.core.ja``) as a field's error."""

from collections.abc import Callable

from django import forms

from .ja import JaInputError


def ja_clean[T](normalise: Callable[[str], T], value: str) -> T:
    """``value`` through its ``keizoku.core.ja`` rule; the rule's own message (Japanese) as the
    field's error."""
    try:
        return normalise(value)
    except JaInputError as error:
        raise forms.ValidationError(str(error)) from None
