"""The idle timeout: a session ends SESSION_COOKIE_AGE after its last use, without a write on
every page (crm_site.security.SessionIdleRefreshMiddleware).

An active session is saved again at most once per SESSION_REFRESH_SECONDS; anonymous visitors
and stale cookies never create session rows; signing out removes the row.
"""

import datetime as dt
import time
from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

import crm_site.security
from crm_site.security import SessionIdleRefreshMiddleware

pytestmark = pytest.mark.django_db

REFRESH = 60
AGE = 15 * 60


@pytest.fixture(autouse=True)
def _default_timeouts(settings):
    """The defaults of crm_site/settings/base.py, whatever the environment says."""
    settings.SESSION_REFRESH_SECONDS = REFRESH
    settings.SESSION_COOKIE_AGE = AGE
    assert not getattr(settings, "SESSION_SAVE_EVERY_REQUEST", False)


class Clock:
    """The middleware's clock, moved forward by `advance(seconds)`; Django's own is untouched."""

    def __init__(self):
        self.offset = 0

    def time(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(crm_site.security, "time", clock)
    return clock


def page() -> str:
    return reverse("customers:list")


def session_key(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def expire_date(client: Client) -> dt.datetime:
    return Session.objects.get(session_key=session_key(client)).expire_date


def session_store(key: str):
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key=key)


def set_expire_date(client: Client, when: dt.datetime) -> None:
    """Sets the row's expiry, as a request at `when - SESSION_COOKIE_AGE` would have."""
    key = session_key(client)
    Session.objects.filter(session_key=key).update(expire_date=when)
    store = session_store(key)
    if hasattr(store, "cache_key"):  # cached_db (with Redis): the cached copy goes too
        store._cache.delete(store.cache_key)


def session_writes(queries) -> list[str]:
    return [
        query["sql"]
        for query in queries
        if "django_session" in query["sql"]
        and query["sql"].lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))
    ]


def test_the_middleware_sits_just_inside_session_middleware():
    middleware = settings.MIDDLEWARE
    position = middleware.index("django.contrib.sessions.middleware.SessionMiddleware")
    assert middleware[position + 1] == "crm_site.security.SessionIdleRefreshMiddleware"


def test_a_page_after_the_refresh_window_pushes_the_expiry_forward(client_for, rm_a, clock):
    """An RM still at work is not signed out 15 minutes after signing in."""
    # given: signed in, a page seen, and the session due to end in 5 minutes
    client = client_for(rm_a)
    assert client.get(page()).status_code == 200
    ending_soon = timezone.now() + dt.timedelta(minutes=5)
    set_expire_date(client, ending_soon)
    # when: the next page comes a refresh window later
    clock.advance(REFRESH)
    response = client.get(page())
    # then: the session now ends a full idle timeout from now, in the row and in the cookie
    assert response.status_code == 200
    expected = timezone.now() + dt.timedelta(seconds=AGE)
    assert expire_date(client) > ending_soon
    assert abs(expire_date(client) - expected) < dt.timedelta(seconds=30)
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == AGE


def test_pages_within_the_refresh_window_do_not_save_the_session(client_for, rm_a, clock):
    # given: signed in and a page seen (which stamps the session)
    client = client_for(rm_a)
    client.get(page())
    ending_soon = timezone.now() + dt.timedelta(minutes=5)
    set_expire_date(client, ending_soon)
    # when: three more pages within the window
    with CaptureQueriesContext(connection) as queries:
        for seconds in (0, REFRESH // 3, REFRESH // 3):
            clock.advance(seconds)
            response = client.get(page())
            assert response.status_code == 200
            assert settings.SESSION_COOKIE_NAME not in response.cookies  # no new cookie either
    # then: no write to the session table; the expiry is unchanged
    assert session_writes(queries.captured_queries) == []
    assert expire_date(client) == ending_soon


def test_the_session_is_saved_once_per_refresh_window(client_for, rm_a, clock):
    client = client_for(rm_a)
    client.get(page())
    writes = []
    for _ in range(3):
        clock.advance(REFRESH)
        with CaptureQueriesContext(connection) as queries:
            client.get(page())  # saves
            clock.advance(1)
            client.get(page())  # does not
        writes.append(len(session_writes(queries.captured_queries)))
    assert writes == [1, 1, 1]


def test_signing_in_stamps_the_session_so_the_first_page_does_not_save_it(client_for, rm_a):
    client = client_for(rm_a)
    stamp = client.session[SessionIdleRefreshMiddleware.STAMP]
    assert isinstance(stamp, int) and abs(stamp - time.time()) < 30
    expires = Session.objects.get(session_key=client.session.session_key).expire_date
    client.get(page())
    assert Session.objects.get(session_key=client.session.session_key).expire_date == expires


def test_an_anonymous_visitor_without_a_cookie_creates_no_session():
    client = Client()
    for url in (reverse("login"), reverse("health"), page(), reverse("home")):
        response = client.get(url)
        assert response.status_code in (200, 302), url
        assert settings.SESSION_COOKIE_NAME not in response.cookies, url
    assert not Session.objects.exists()


def test_a_cookie_naming_a_session_that_never_existed_creates_no_session():
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = "0123456789abcdefghijklmnopqrstuv"
    for url in (reverse("login"), reverse("health"), page()):
        client.get(url)
    assert not Session.objects.exists()


def test_a_cookie_naming_a_deleted_session_signs_out_and_creates_no_session(client_for, rm_a):
    """A session removed on the server (signed out elsewhere, or cleared) stays gone."""
    # given
    client = client_for(rm_a)
    client.get(page())
    session_store(session_key(client)).delete()
    # when
    response = client.get(page())
    client.get(reverse("health"))
    # then
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert not Session.objects.exists()


def test_signing_out_removes_the_session_row(client_for, rm_a):
    # given
    client = client_for(rm_a)
    client.get(page())
    key = session_key(client)
    assert Session.objects.filter(session_key=key).exists()
    # when
    response = client.post(reverse("logout"))
    # then
    assert response.status_code == 302
    assert not Session.objects.filter(session_key=key).exists()
    # and the pages after it start no new session
    assert client.get(page()).status_code == 302
    client.get(reverse("login"))
    assert not Session.objects.exists()


def test_a_session_idle_longer_than_the_timeout_is_signed_out(client_for, rm_a):
    """Back from a long lunch: the list sends the RM to sign in again."""
    # given: signed in, then idle past the timeout
    client = client_for(rm_a)
    assert client.get(page()).status_code == 200
    set_expire_date(client, timezone.now() - dt.timedelta(seconds=1))
    # when
    response = client.get(page())
    # then
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert Session.objects.filter(expire_date__gt=timezone.now()).count() == 0


def test_a_session_just_inside_the_timeout_is_still_signed_in(client_for, rm_a, clock):
    # given: idle for almost the whole timeout
    client = client_for(rm_a)
    client.get(page())
    clock.advance(AGE - 5)
    set_expire_date(client, timezone.now() + dt.timedelta(seconds=5))
    # when
    response = client.get(page())
    # then: still signed in, and now good for another full timeout
    assert response.status_code == 200
    assert expire_date(client) > timezone.now() + dt.timedelta(seconds=AGE - 30)


def test_the_refresh_never_reaches_the_timeout(settings):
    """With a one-minute timeout and the default one-minute refresh, an active session would
    expire: the refresh is held to a tenth of the timeout."""
    settings.SESSION_COOKIE_AGE = 60
    settings.SESSION_REFRESH_SECONDS = 60
    assert SessionIdleRefreshMiddleware(lambda request: None).refresh_seconds == 6
