"""The API refuses what its schema does not allow instead of quietly ignoring it (ASVS 5.1.3,
13.2.2), and answers an unknown path under /api/ in its JSON envelope, as documented."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "query",
    [
        "updated_since=",  # a typed filter sent empty
        "is_active=maybe",  # a yes/no filter
        "page_size=abc",
        "page_size=0",
        "page_size=20&page_size=30",
    ],
)
def test_malformed_query_parameters_are_400_with_the_field_named(api_client_for, rm_a, query):
    response = api_client_for(rm_a).get(f"/api/v1/holdings/?{query}")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and query.split("=")[0] in error["fields"]


def test_completeness_below_takes_whole_numbers_only(api_client_for, rm_a):
    client = api_client_for(rm_a)
    assert client.get("/api/v1/customers/?completeness_below=0.5").status_code == 400
    assert client.get("/api/v1/customers/?completeness_below=50").status_code == 200


def test_well_formed_filters_and_empty_text_filters_still_work(api_client_for, rm_a):
    client = api_client_for(rm_a)
    for query in (
        "is_active=true",
        "customer=",
        "page_size=500",
        "updated_since=2026-11-01T00:00:00Z",
    ):
        assert client.get(f"/api/v1/holdings/?{query}").status_code == 200, query


def test_unknown_api_path_is_a_json_404_and_a_page_elsewhere(api_client_for, client_for, rm_a):
    api = api_client_for(rm_a).get("/api/v1/customers/1.5e-3/")
    page = client_for(rm_a).get("/no-such-page/")
    assert api.status_code == 404 and api["Content-Type"] == "application/json"
    assert api.json() == {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")
