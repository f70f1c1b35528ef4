"""The shared way a service's ValidationError reaches a form."""

from django import forms
from django.core.exceptions import ValidationError

from crm_site.forms import apply_validation_errors


class _Form(forms.Form):
    reason = forms.CharField()


def test_field_errors_land_on_their_field_and_unknown_fields_above_the_form():
    form = _Form({"reason": "x"})
    form.is_valid()
    apply_validation_errors(form, ValidationError({"reason": "Too short.", "other": "Bad."}))
    assert form.errors["reason"] == ["Too short."]
    assert form.non_field_errors() == ["Bad."]


def test_a_plain_error_is_shown_above_the_form():
    form = _Form({"reason": "x"})
    form.is_valid()
    apply_validation_errors(form, ValidationError("Another run is in progress."))
    assert form.non_field_errors() == ["Another run is in progress."]
