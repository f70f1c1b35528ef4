"""Who may call which endpoint: reads are scoped to the caller, writes need a write key."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

__all__ = ["HasWriteKey", "integration_key_of"]


def integration_key_of(request):
    """The IntegrationKey the request authenticated with, or None (session, bare token)."""
    return getattr(request.auth, "integration_key", None)


class HasWriteKey(BasePermission):
    """Only an integration account calling with a key of write scope may write.

    RMs, branch heads and head office write through the pages (with maker-checker where it
    applies), never through the bulk API; a read-only key gets 403 like them.
    """

    message = _("This endpoint needs an integration key with write scope.")

    def has_permission(self, request, view) -> bool:
        user = request.user
        key = integration_key_of(request)
        return bool(
            user
            and user.is_authenticated
            and getattr(user, "is_integration", False)
            and key is not None
            and key.can_write
        )
