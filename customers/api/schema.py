"""The OpenAPI schema generator of the API (DEFAULT_SCHEMA_CLASS)."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema

from crm_site.api import ErrorEnvelopeSerializer

__all__ = ["AutoSchema"]


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema, plus the error envelope on every operation's error codes,
    so clients (and the contract tests) know the shape of every answer."""

    error_codes = ("400", "401", "403", "404", "429")

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self.error_codes:
            responses.setdefault(
                code,
                self._get_response_for_code(ErrorEnvelopeSerializer, code, direction=direction),
            )
        return responses
