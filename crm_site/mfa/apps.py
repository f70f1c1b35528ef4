from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MfaConfig(AppConfig):
    name = "crm_site.mfa"
    label = "mfa"
    verbose_name = _("Two-step verification")

    def ready(self):
        from . import signals  # noqa: F401
