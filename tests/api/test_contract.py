"""Contract tests: every operation of the OpenAPI schema, fuzzed by schemathesis with each
role's token, never answers 5xx and always answers what the schema documents.

Bounded for `make test` (about a minute and a half on the 2-core build machine):
CONTRACT_EXAMPLES cases per operation with the write key, which reaches every code path,
and a third of that with the read-only key and the RM token, whose writes all stop at the
permission check. A nightly run can raise it: CONTRACT_EXAMPLES=50 make test.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.api.conftest import load_contract_schema

CONTRACT_EXAMPLES = int(os.environ.get("CONTRACT_EXAMPLES", "25"))
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


def bounded(examples: int):
    return settings(
        max_examples=max(1, examples),
        deadline=None,
        database=None,
        derandomize=True,  # the same cases every run: a failure is reproducible
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )


schema = load_contract_schema()


def _call(case, token: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)


@schema.parametrize()
@bounded(CONTRACT_EXAMPLES)
def test_integration_write_key(case, role_tokens):
    _call(case, role_tokens["integration_write"])


@schema.parametrize()
@bounded(CONTRACT_EXAMPLES // 3)
def test_integration_read_only_key(case, role_tokens):
    _call(case, role_tokens["integration_read"])


@schema.parametrize()
@bounded(CONTRACT_EXAMPLES // 3)
def test_relationship_manager_token(case, role_tokens):
    _call(case, role_tokens["rm"])
