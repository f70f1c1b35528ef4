"""Contract tests: every operation of the OpenAPI schema, fuzzed by schemathesis once per role
token (write key, read-only key, RM), never answers 5xx and always answers what the schema
documents.

All of schemathesis's checks run, with two adjustments. Positive data acceptance is left
out: the schema cannot carry every business rule (an ID number's check digit, a customer
number that must exist, the caller's scope), so valid-looking records are rightly refused
with 400, and read-only roles are refused with 403 by design. Negative data rejection is
kept and sharpened for the bulk endpoints' documented `per_record` mode, which answers 200
and rejects each bad record in the result: such an answer passes only if it does reject a
record (`negative_data_rejected_per_record`). The scope rules are proved per operation by
tests/api/test_operation_inventory.py.

Bounded for `make test`: hypothesis generates CONTRACT_EXAMPLES (default 50) cases per
operation and role, on top of schemathesis's coverage cases (boundaries, missing and
mistyped parameters), derandomised, so every run sends the same cases. The cases sent are
counted per operation and role and printed at the end of the run ("schemathesis contract
cases"); fewer than 50 for any operation and role fails the module.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, Phase, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from tests.api.conftest import CONTRACT_CASES as CASES
from tests.api.conftest import load_contract_schema

CONTRACT_EXAMPLES = int(os.environ.get("CONTRACT_EXAMPLES", "50"))
EXCLUDED_CHECKS = [positive_data_acceptance, negative_data_rejection]
MIN_CASES_PER_OPERATION = min(50, CONTRACT_EXAMPLES)


def bounded(examples: int):
    return settings(
        max_examples=max(1, examples),
        deadline=None,
        database=None,
        derandomize=True,  # the same cases every run: a failure is reproducible
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )


def negative_data_rejected_per_record(ctx, response, case):
    """Schema-violating data is refused: with a 4xx, or, in a bulk `per_record` batch, by
    rejecting the offending record in a 200 answer (nothing of it is written)."""
    if response.status_code == 200 and case.path.startswith("/api/v1/bulk/"):
        body = response.json()
        if body.get("mode") == "per_record" and body["counts"]["rejected"] >= 1:
            return None
    return negative_data_rejection(ctx, response, case)


schema = load_contract_schema()


def _call(case, role: str, token: str) -> None:
    CASES[(role, case.operation.label)] += 1
    case.call_and_validate(
        headers={"Authorization": f"Token {token}"},
        excluded_checks=EXCLUDED_CHECKS,
        additional_checks=[negative_data_rejected_per_record],
    )


@schema.parametrize()
@bounded(CONTRACT_EXAMPLES)
def test_integration_write_key(case, role_tokens):
    _call(case, "integration_write", role_tokens["integration_write"])


@schema.parametrize()
@bounded(CONTRACT_EXAMPLES)
def test_integration_read_only_key(case, role_tokens):
    _call(case, "integration_read", role_tokens["integration_read"])


@schema.parametrize()
@bounded(CONTRACT_EXAMPLES)
def test_relationship_manager_token(case, role_tokens):
    _call(case, "rm", role_tokens["rm"])


@pytest.fixture(scope="module", autouse=True)
def _enough_cases():
    """Every operation got its cases from every role (the counts are printed at the end)."""
    yield
    few = {key: count for key, count in CASES.items() if count < MIN_CASES_PER_OPERATION}
    assert not few, f"fewer than {MIN_CASES_PER_OPERATION} cases: {few}"
