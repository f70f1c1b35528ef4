"""Forms of the customer book."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from crm_site.forms import BootstrapFormMixin


class StaffAuthenticationForm(BootstrapFormMixin, AuthenticationForm):
    """The browser login: integration accounts are refused (they use API tokens)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "integration": _("Integration accounts cannot sign in to the browser; use an API token."),
    }

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if getattr(user, "is_integration", False):
            raise forms.ValidationError(self.error_messages["integration"], code="integration")
