"""Per-key rate limits: 429 with Retry-After once a key spends its requests of the minute.

DRF throttling counts in the cache (Redis in production), so it is a fairness limit, not a
security control on its own; the proxy limits by address as well.
"""

from __future__ import annotations

from rest_framework.throttling import SimpleRateThrottle

from .permissions import integration_key_of

__all__ = ["ApiKeyRateThrottle"]


class ApiKeyRateThrottle(SimpleRateThrottle):
    """One bucket per integration key (its own `rate_per_minute`, else the `api_key` rate);
    a person calling with a session or a bare token has one bucket per user."""

    scope = "api_key"

    def allow_request(self, request, view) -> bool:
        key = integration_key_of(request)
        if key is not None and key.rate_per_minute:
            self.rate = f"{key.rate_per_minute}/min"
            self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view) -> str:
        key = integration_key_of(request)
        if key is not None:
            ident = f"key{key.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user{request.user.pk}"
        else:
            ident = f"anon{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
