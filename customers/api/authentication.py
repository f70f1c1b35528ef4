"""Token authentication of integration accounts: knox tokens plus the key's metadata."""

from __future__ import annotations

import binascii
import datetime as dt
from hmac import compare_digest

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.models import get_token_model
from knox.settings import CONSTANTS
from rest_framework import exceptions

from ..models import IntegrationKey

__all__ = ["IntegrationTokenAuthentication"]

# Recording every use would be one UPDATE per request; once a minute is enough to answer
# "is this key still in use?" before revoking it.
LAST_USED_PRECISION = dt.timedelta(minutes=1)


class IntegrationTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <token>`. As knox's, and in the same one query it loads the
    user's branch (every scoped query needs it) and the key's scope; a revoked key fails."""

    def authenticate_credentials(self, token: bytes):
        message = _("Invalid token.")
        try:
            text = token.decode("utf-8")
            digest = hash_token(text)
        except (UnicodeDecodeError, TypeError, binascii.Error, ValueError):
            raise exceptions.AuthenticationFailed(message) from None
        candidates = (
            get_token_model()
            .objects.filter(token_key=text[: CONSTANTS.TOKEN_KEY_LENGTH])
            .select_related("user", "user__branch", "integration_key")
        )
        for auth_token in candidates:
            if self._cleanup_token(auth_token):
                continue
            if compare_digest(digest, auth_token.digest):
                user, auth_token = self.validate_user(auth_token)
                key = getattr(auth_token, "integration_key", None)
                if key is not None:
                    if key.revoked_at is not None:
                        raise exceptions.AuthenticationFailed(message)
                    _touch(key)
                return user, auth_token
        raise exceptions.AuthenticationFailed(message)


def _touch(key: IntegrationKey) -> None:
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_PRECISION:
        IntegrationKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now


class IntegrationTokenScheme(OpenApiAuthenticationExtension):
    target_class = IntegrationTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="Authorization",
            token_prefix="Token",  # noqa: S106 - the scheme's keyword, not a secret
        )
