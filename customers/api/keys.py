"""Services of integration keys: issue, rotate, revoke. Each is logged as a security event,
naming the key by id, never by any part of the token.

A key is a knox token (hashed at rest, shown once, expiring) plus an `IntegrationKey` row
(name, scope, rate limit, last use). Only integration accounts get keys, and they cannot
sign in to the browser (BrowserAccessMiddleware), so a key is their only way in.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from knox.models import AuthToken

from crm_site.security import security_event

from ..models import ApiKeyScope, IntegrationKey, User

__all__ = ["integration_key_issue", "integration_key_revoke", "integration_key_rotate"]

DEFAULT_VALIDITY_DAYS = 90


@transaction.atomic
def integration_key_issue(
    *,
    account: User,
    name: str = "",
    scope: str = ApiKeyScope.READ,
    days: int = DEFAULT_VALIDITY_DAYS,
    rate_per_minute: int | None = None,
) -> tuple[IntegrationKey, str]:
    """A new key for an integration account; returns the key and the secret (shown once)."""
    if not account.is_active or not account.is_integration:
        raise ValidationError("Keys are issued to active integration accounts only.")
    if scope not in ApiKeyScope.values:
        raise ValidationError(f"The scope is one of: {', '.join(ApiKeyScope.values)}.")
    if days < 1:
        raise ValidationError("A key is valid for at least one day.")
    if rate_per_minute is not None and rate_per_minute < 1:
        raise ValidationError("The rate limit is at least one request a minute.")
    token, secret = AuthToken.objects.create(user=account, expiry=dt.timedelta(days=days))
    key = IntegrationKey.objects.create(
        token=token,
        user=account,
        name=(name or f"{account.username} key")[:100],
        token_prefix=token.token_key,
        scope=scope,
        rate_per_minute=rate_per_minute,
        expires_at=token.expiry,
    )
    security_event("api_key_issued", user=account, key_id=key.pk, scope=scope)
    return key, secret


@transaction.atomic
def integration_key_revoke(*, key: IntegrationKey, reason: str = "") -> IntegrationKey:
    """Stop the key at once (its token is deleted); the record of the key stays."""
    key = IntegrationKey.objects.select_for_update().get(pk=key.pk)
    if key.token_id is not None:
        AuthToken.objects.filter(pk=key.token_id).delete()
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
    key.token = None
    key.save(update_fields=["token", "revoked_at"])
    security_event("api_key_revoked", user=key.user, key_id=key.pk, reason=reason[:200])
    return key


@transaction.atomic
def integration_key_rotate(
    *, key: IntegrationKey, grace: dt.timedelta = dt.timedelta(0), days: int | None = None
) -> tuple[IntegrationKey, str]:
    """Issue a successor with the same name, scope and rate; the old key stops after `grace`
    (zero: at once), so the calling system can switch without an outage."""
    key = (
        IntegrationKey.objects.select_for_update(of=("self",))
        .select_related("user", "token")
        .get(pk=key.pk)
    )
    if key.revoked_at is not None or key.token_id is None:
        raise ValidationError("A revoked key cannot be rotated; issue a new one.")
    validity = days or max(1, (key.expires_at - key.created_at).days if key.expires_at else 90)
    new_key, secret = integration_key_issue(
        account=key.user,
        name=key.name,
        scope=key.scope,
        days=validity,
        rate_per_minute=key.rate_per_minute,
    )
    key.replaced_by = new_key
    if grace <= dt.timedelta(0):
        key.save(update_fields=["replaced_by"])
        integration_key_revoke(key=key, reason="rotated")
    else:
        ends = timezone.now() + grace
        AuthToken.objects.filter(pk=key.token_id).update(expiry=ends)
        key.expires_at = ends
        key.save(update_fields=["replaced_by", "expires_at"])
    security_event("api_key_rotated", user=key.user, key_id=key.pk, new_key_id=new_key.pk)
    return new_key, secret
