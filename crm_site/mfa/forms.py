"""The one form of two-step verification: a six-digit code from the authenticator app."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from crm_site.forms import BootstrapForm

__all__ = ["TotpCodeForm"]


class TotpCodeForm(BootstrapForm):
    code = forms.CharField(
        label=_("Code"),
        max_length=12,
        help_text=_("The six-digit code your authenticator app shows now."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_code(self) -> str:
        code = re.sub(r"[\s-]", "", self.cleaned_data["code"])
        if not re.fullmatch(r"\d{6}", code):
            raise forms.ValidationError(_("Enter the six digits shown by your authenticator app."))
        return code
