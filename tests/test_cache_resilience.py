"""When Redis is down, the cache degrades to "no cache": pages and the API keep answering
(dashboards are computed, rate limits are not counted) instead of answering 500."""

import pytest
from django.core.cache import cache
from django.urls import reverse

DEAD_REDIS = {
    "default": {
        "BACKEND": "crm_site.cache.ResilientRedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}


@pytest.fixture
def redis_down(settings):
    settings.CACHES = DEAD_REDIS


def test_reads_miss_and_writes_are_dropped(redis_down, caplog):
    assert cache.get("dashboard", "fallback") == "fallback"
    assert cache.add("k", 1) is False
    cache.set("k", 1)
    assert cache.get_many(["a", "b"]) == {}
    with pytest.raises(ValueError):
        cache.incr("counter")


@pytest.mark.django_db
def test_the_api_and_the_dashboard_answer_while_redis_is_down(
    redis_down, api_client_for, client_for, integration_user, head_x, customer_a
):
    assert api_client_for(integration_user).get(reverse("customer-list")).status_code == 200
    response = client_for(head_x).get(reverse("segmentation:dashboard_data"))
    assert response.status_code == 200
